/* test_dispatch_log.c: with TOKAMAX_LOG=debug, dispatch logs once per
 * problem key and call options: each implementation considered (skipped
 * ones with their reason), then the chosen impl, config and source. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "regress/case.h"
#include "tests/tk_test.h"

/* Occurrences of needle in hay. */
static int count(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) n++;
  return n;
}

/* Runs spec with opts `times` times. */
static void run(tk_context *ctx, const char *spec, const tk_call_options *opts, int times) {
  char err[256];
  tk_case *c = NULL;
  CHECK(tk_case_create(spec, 5, &c, err, sizeof err) == TK_OK, "%s: %s", spec, err);
  for (int i = 0; c && i < times; i++) CHECK_OK(tk_case_run(c, ctx, opts));
  tk_case_destroy(c);
}

int main(void) {
  setenv("TOKAMAX_LOG", "debug", 1); /* before the library reads it */
  char path[] = "/tmp/tokamax-dispatch-log-XXXXXX";
  int fd = mkstemp(path), saved = dup(2);
  if (fd < 0 || saved < 0 || dup2(fd, 2) < 0) {
    fprintf(stdout, "cannot redirect stderr\n");
    return 1;
  }
  tk_context *ctx = NULL;
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&o, &ctx));
  const char *a = "attention dtype=f32 B=1 Tq=8 Tk=8 Hq=2 Hkv=1 D=16";
  const char *b = "attention dtype=f32 B=1 Tq=9 Tk=8 Hq=2 Hkv=1 D=16";
  tk_call_options forced = {"reference", NULL}, config = {"cpu", "block_q=64"};
  if (ctx) {
    run(ctx, a, NULL, 3);
    run(ctx, b, NULL, 2);
    run(ctx, a, &forced, 2);
    run(ctx, a, &config, 2);
  }
  tk_context_destroy(ctx);
  fflush(stderr);
  dup2(saved, 2);
  FILE *f = fopen(path, "r");
  static char log[1 << 16];
  size_t n = f ? fread(log, 1, sizeof log - 1, f) : 0;
  log[n] = '\0';
  if (f) fclose(f);
  unlink(path);

  CHECK(count(log, "tokamax: dispatch attention:") == 4,
        "one block per (key, options): 4 expected, log:\n%s", log);
  CHECK(count(log, "Tq=8,") >= 3 && count(log, "Tq=9,") >= 1, "both keys appear");
  CHECK(count(log, "(impl=auto)") == 2 && count(log, "(impl=reference)") == 1 &&
            count(log, "(impl=cpu config=block_q=64)") == 1,
        "the options of each block");
  CHECK(count(log, "tokamax:   reference       runs") == 4, "the reference considered each time");
  CHECK(count(log, "chose cpu isa=") == 3, "the cpu impl chosen with its config (auto twice, forced config)");
  CHECK(count(log, "(heuristic: nothing tuned for this shape") == 2, "why: the heuristic");
  CHECK(count(log, "chose reference parallel=") == 1 &&
            count(log, "(forced: the call's options name the impl)") == 1,
        "why: the forced impl");
  CHECK(count(log, "block_q=64,") >= 1 && count(log, "(forced: the call's options force the config)") == 1,
        "why: the forced config");
#if TK_HAVE_CUDA
  CHECK(count(log, "skipped: runs on CUDA tensors only") >= 4, "CUDA impls skipped with the reason");
#endif
  if (tk_test_failures) fprintf(stderr, "log was:\n%s\n", log);
  TK_TEST_END();
}
