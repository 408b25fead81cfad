/* fuzz_cache_open.c: the cache opener on arbitrary file bytes. The first
 * input byte picks the open flags, the rest is the file. An open that
 * fails leaves a message naming the file, and when it failed at the first
 * read (not a database, not a tokamax cache, a newer or negative schema)
 * the file byte for byte as it was; an open that works gives a cache on
 * which reading, recording (when writable) and exporting either work or
 * fail with a message: never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache/cache.h"
#include "tests/fuzz/fuzz.h"

static int count_best(void *user, const char *fp, const tk_cache_best *b) {
  (void)fp, (void)b;
  ++*(int *)user;
  return 0;
}

/* Runs a status-returning call on an opened cache: TK_OK, or a failure
 * with a message. */
#define FZ_USE(what, expr)                                                              \
  do {                                                                                  \
    tk_status s_ = (expr);                                                              \
    FZ_REQUIRE(s_ == TK_OK || (s_ == TK_ERR_CACHE && tk_last_error()[0]),               \
               "cache_open: %s gave %s: %s", what, tk_status_string(s_), tk_last_error()); \
  } while (0)

int tk_fuzz_cache_open(const uint8_t *data, size_t size) {
  static const int modes[] = {0, TK_CACHE_CREATE, TK_CACHE_READONLY, TK_CACHE_MAY_READ_ONLY};
  int flags = modes[size ? data[0] % 4 : 0];
  const uint8_t *file = size ? data + 1 : data;
  size_t len = size ? size - 1 : 0;
  char path[512], side[600], out[600];
  snprintf(path, sizeof path, "%s/open.db", tk_fuzz_dir());
  snprintf(out, sizeof out, "%s/open.tsv", tk_fuzz_dir());
  static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (int i = 0; i < 4; i++) {
    snprintf(side, sizeof side, "%s%s", path, suffixes[i]);
    unlink(side);
  }
  FILE *f = fopen(path, "wb");
  if (!f) tk_fuzz_fail("cache_open: cannot write %s", path);
  fwrite(file, 1, len, f);
  fclose(f);
  tk_cache *c = NULL;
  tk_status s = tk_cache_open(path, flags, 50, &c);
  if (s != TK_OK) {
    const char *msg = tk_last_error();
    FZ_REQUIRE(s == TK_ERR_CACHE && !c && strstr(msg, path),
               "cache_open: failed as %s without naming the file: %s", tk_status_string(s), msg);
    int first_read = strstr(msg, "not a database") || strstr(msg, "not a tokamax cache") ||
                     strstr(msg, "newer than") || strstr(msg, "reading the schema");
    if (first_read) {
      FILE *g = fopen(path, "rb");
      uint8_t *now = malloc(len + 1);
      size_t n = g && now ? fread(now, 1, len + 1, g) : 0;
      if (g) fclose(g);
      FZ_REQUIRE(n == len && (len == 0 || !memcmp(now, file, len)),
                 "cache_open: a file refused at its first read was modified: %s", msg);
      free(now);
    }
    return 0;
  }
  int rows = 0;
  FZ_USE("each_best", tk_cache_each_best(c, NULL, count_best, &rows));
  if (!(flags & (TK_CACHE_READONLY | TK_CACHE_MAY_READ_ONLY))) {
    int64_t dev = 0;
    tk_cache_measurement m = {"moe_permute", "moe_permute:k", "cpu", "", TK_CACHE_RESULT_OK,
                              "", 50.0, 40.0, 60.0, 3, 0.0, 0};
    tk_status d = tk_cache_device_id(c, "cpu:fuzz", NULL, &dev);
    FZ_USE("device_id", d);
    if (d == TK_OK) FZ_USE("record", tk_cache_record(c, dev, &m));
    if (d == TK_OK) FZ_USE("recompute_best", tk_cache_recompute_best(c, dev, m.op, m.problem_key, NULL));
  }
  FZ_USE("export", tk_cache_export(c, out, NULL));
  tk_cache_close(c);
  return 0;
}
