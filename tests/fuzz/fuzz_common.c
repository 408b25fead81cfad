/* fuzz_common.c: what every fuzz target shares: the scratch folder, the
 * failure report, reading integers from the input. */
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tests/fuzz/fuzz.h"

static char fz_dir[256];
static pthread_once_t fz_dir_once = PTHREAD_ONCE_INIT;
static const char *fz_input;

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
  (void)sb, (void)flag, (void)ftw;
  return remove(path);
}

static void remove_dir(void) {
  if (fz_dir[0]) nftw(fz_dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Under $TMPDIR, else /dev/shm (memory: the cache target's databases
 * are synced to disk on every schema change), else /tmp. */
static void make_dir(void) {
  const char *tmp = getenv("TMPDIR");
  if (!tmp || !*tmp) tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  snprintf(fz_dir, sizeof fz_dir, "%s/tk_fuzz_XXXXXX", tmp);
  if (!mkdtemp(fz_dir)) {
    perror("tk_fuzz: mkdtemp");
    abort();
  }
  atexit(remove_dir);
}

const char *tk_fuzz_dir(void) {
  pthread_once(&fz_dir_once, make_dir);
  return fz_dir;
}

void tk_fuzz_note_input(const char *what) { fz_input = what; }

void tk_fuzz_fail(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fuzz oracle: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n");
  if (fz_input) fprintf(stderr, "fuzz oracle: input: %s\n", fz_input);
  fflush(stderr);
  abort();
}

int64_t fz_range(fz_in *in, int64_t lo, int64_t hi) {
  uint64_t span = (uint64_t)(hi - lo) + 1, x = 0;
  for (uint64_t need = span - 1; need; need >>= 8) x = x << 8 | fz_byte(in);
  return lo + (int64_t)(span ? x % span : x);
}
