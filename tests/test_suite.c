/* test_suite: suite files (comments, blank lines, malformed lines with
 * "path:line:", missing files, $TOKAMAX_SUITE_DIR), spec errors of
 * tk_case_create, that every shipped suite builds, and that tk_case_check
 * catches a wrong element, a masked row written, a guard overwrite and a
 * changed input. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/half.h"
#include "regress/case.h"
#include "tests/tk_test.h"

static char dir[64];

/* Writes text to dir/name and returns the path (static buffer). */
static const char *write_file(const char *name, const char *text) {
  static char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return path;
}

/* A file whose line 4 is bad must fail with "path:4:" and mention word. */
static void expect_bad_line(const char *bad, const char *word) {
  char text[512], err[512] = "", want[160];
  snprintf(text, sizeof text, "# header\nattention B=1\n\n%s\nmoe_permute T=4\n", bad);
  const char *path = write_file("bad.suite", text);
  tk_suite s;
  tk_status st = tk_suite_load(path, &s, err, sizeof err);
  snprintf(want, sizeof want, "%s:4:", path);
  CHECK(st == TK_ERR_INVALID_ARGUMENT, "'%s' -> %s", bad, tk_status_string(st));
  CHECK(strstr(err, want) != NULL, "'%s': err '%s' lacks '%s'", bad, err, want);
  CHECK(strstr(err, word) != NULL, "'%s': err '%s' lacks '%s'", bad, err, word);
  if (st == TK_OK) tk_suite_free(&s);
}

static void test_files(void) {
  char err[512];
  tk_suite s;
  const char *path = write_file("good.suite",
                                "# a comment\n\n   \nattention B=1 Tq=4   # trailing comment\n"
                                "\t grouped_gemm M=8 G=2\n#attention B=nope\n");
  CHECK_OK(tk_suite_load(path, &s, err, sizeof err));
  CHECK(s.count == 2, "count %d", s.count);
  if (s.count == 2) {
    CHECK(strcmp(s.specs[0], "attention B=1 Tq=4") == 0, "spec 0 '%s'", s.specs[0]);
    CHECK(strcmp(s.specs[1], "grouped_gemm M=8 G=2") == 0, "spec 1 '%s'", s.specs[1]);
    CHECK(s.line_numbers[0] == 4 && s.line_numbers[1] == 5, "lines %d %d", s.line_numbers[0],
          s.line_numbers[1]);
  }
  tk_suite_free(&s);

  expect_bad_line("flash_attention B=1", "flash_attention");
  expect_bad_line("attention Bee=1", "Bee");
  expect_bad_line("attention B=two", "B=two");
  expect_bad_line("attention causal", "causal");
  expect_bad_line("grouped_gemm layout=xx", "layout");
  expect_bad_line("attention Hq=6 Hkv=4", "Hkv");

  tk_status st = tk_suite_load("/nonexistent/none.suite", &s, err, sizeof err);
  CHECK(st == TK_ERR_INVALID_ARGUMENT && strstr(err, "not found"), "missing file: %s: %s",
        tk_status_string(st), err);
  st = tk_suite_load("no_such_suite_name", &s, err, sizeof err);
  CHECK(st == TK_ERR_INVALID_ARGUMENT && strstr(err, "no_such_suite_name"), "missing name: %s", err);

  setenv("TOKAMAX_SUITE_DIR", dir, 1);
  CHECK_OK(tk_suite_load("good", &s, err, sizeof err));
  CHECK(s.count == 2, "by name from $TOKAMAX_SUITE_DIR: count %d", s.count);
  tk_suite_free(&s);
  unsetenv("TOKAMAX_SUITE_DIR");
}

/* Writes len bytes of text (NULs allowed) to dir/name. */
static void write_bytes(const char *name, const char *text, size_t len) {
  char path[128];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  if (f) fwrite(text, 1, len, f), fclose(f);
}

/* The suite parser's limits (issue 17): a NUL byte fails its line (it
 * once cut the line short silently); a file included twice, or in a
 * cycle, is taken in once (8 files each including the next 6 times once
 * expanded to 279,936 cases); a suite is capped at TK_SUITE_MAX_CASES. */
static void test_include_limits(void) {
  char err[512] = "";
  tk_suite s;
  write_bytes("nul.suite", "attention B=1\0 Tq=nope\nmoe_permute T=4\n", 39);
  char path[128];
  snprintf(path, sizeof path, "%s/nul.suite", dir);
  tk_status st = tk_suite_load(path, &s, err, sizeof err);
  CHECK(st == TK_ERR_INVALID_ARGUMENT && strstr(err, "nul.suite:1:") && strstr(err, "NUL"),
        "NUL byte: %s: %s", tk_status_string(st), err);
  if (st == TK_OK) tk_suite_free(&s);

  setenv("TOKAMAX_SUITE_DIR", dir, 1);
  for (int i = 0; i < 8; i++) {
    char name[32], text[256] = "";
    snprintf(name, sizeof name, "fan%d.suite", i);
    for (int j = 0; i < 7 && j < 6; j++)
      snprintf(text + strlen(text), sizeof text - strlen(text), "include fan%d\n", i + 1);
    snprintf(text + strlen(text), sizeof text - strlen(text), "attention B=1 Tq=%d\n", i + 1);
    write_file(name, text);
  }
  st = tk_suite_load("fan0", &s, err, sizeof err);
  CHECK(st == TK_OK && s.count == 8, "fan-out of includes: %s, %d cases (want 8): %s",
        tk_status_string(st), st == TK_OK ? s.count : -1, err);
  if (st == TK_OK) tk_suite_free(&s);

  write_file("cycle_a.suite", "include cycle_b\nattention B=1\n");
  write_file("cycle_b.suite", "include cycle_a\ngrouped_gemm M=8\n");
  st = tk_suite_load("cycle_a", &s, err, sizeof err);
  CHECK(st == TK_OK && s.count == 2, "include cycle: %s, %d cases (want 2): %s",
        tk_status_string(st), st == TK_OK ? s.count : -1, err);
  if (st == TK_OK) tk_suite_free(&s);

  /* Over the cap: one line more than it allows, spread over two files. */
  size_t n = TK_SUITE_MAX_CASES / 2 + 1, len = 0;
  char *big = malloc(n * 16 + 32);
  for (size_t i = 0; big && i < n; i++) len += (size_t)sprintf(big + len, "attention B=1\n");
  if (big) write_bytes("big_half.suite", big, len);
  write_file("big.suite", "include big_half\ninclude big_half2\n");
  if (big) write_bytes("big_half2.suite", big, len);
  st = tk_suite_load("big", &s, err, sizeof err);
  CHECK(st == TK_ERR_INVALID_ARGUMENT && strstr(err, "more than"), "cap: %s: %s",
        tk_status_string(st), err);
  if (st == TK_OK) tk_suite_free(&s);
  free(big);
  unsetenv("TOKAMAX_SUITE_DIR");
}

static void test_spec_errors(void) {
  static const struct { const char *spec, *word; } bad[] = {
      {"", "op"}, {"B=2", "B=2"}, {"attention B=0", "B"}, {"attention B=2 B=3", "twice"},
      {"attention softcap=-1", "softcap"}, {"attention dtype=f64", "dtype"},
      {"grouped_gemm M=8 unused=9", "unused"}, {"grouped_gemm G=2 empty=2", "empty"},
      {"moe_permute k=3 E=4 empty=2", "k=3"}, {"paged_attention decode=0 prefill=0", "decode"},
      {"paged_attention prefill=1 qlen=50 kvmax=20", "qlen"}, {"moe_unpermute skew=1", "skew"},
      {"attention B=64 Tq=65536 Tk=65536 Hq=256 Hkv=256 D=512", "large"}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tk_case *c = NULL;
    char err[256] = "";
    tk_status st = tk_case_create(bad[i].spec, 1, &c, err, sizeof err);
    CHECK(st == TK_ERR_INVALID_ARGUMENT && c == NULL, "'%s' -> %s", bad[i].spec, tk_status_string(st));
    CHECK(strstr(err, bad[i].word) != NULL, "'%s': err '%s' lacks '%s'", bad[i].spec, err, bad[i].word);
    tk_case_destroy(c);
  }
}

static void test_shipped_suites(void) {
  static const char *names[] = {"small", "impls"};
  for (int n = 0; n < 2; n++) {
    tk_suite s;
    char err[512];
    tk_status st = tk_suite_load(names[n], &s, err, sizeof err);
    CHECK(st == TK_OK, "%s: %s", names[n], err);
    if (st != TK_OK) continue;
    CHECK(s.count >= 18, "%s has only %d cases", names[n], s.count);
    for (int i = 0; i < s.count; i++) {
      tk_case *c = NULL;
      st = tk_case_create(s.specs[i], (uint64_t)i, &c, err, sizeof err);
      CHECK(st == TK_OK, "%s:%d: %s", s.path, s.line_numbers[i], err);
      if (st != TK_OK) continue;
      CHECK(tk_case_flops(c) >= 0 && tk_case_bytes(c) > 0, "%s: flops %g bytes %g", s.specs[i],
            tk_case_flops(c), tk_case_bytes(c));
      tk_case_destroy(c);
    }
    tk_suite_free(&s);
  }
}

/* Same seed, same inputs; inputs never zero; flops of a full and a causal square problem. */
static void test_inputs_and_work(void) {
  const char *spec = "attention dtype=bf16 B=2 Tq=16 Tk=16 Hq=4 Hkv=2 D=32";
  tk_case *a = NULL, *b = NULL, *causal = NULL;
  char err[256];
  CHECK_OK(tk_case_create(spec, 7, &a, err, sizeof err));
  CHECK_OK(tk_case_create(spec, 7, &b, err, sizeof err));
  CHECK_OK(tk_case_create("attention dtype=f32 B=1 Tq=16 Tk=16 Hq=4 Hkv=2 D=32 causal=1", 7,
                          &causal, err, sizeof err));
  if (!a || !b || !causal) return;
  const tk_attention_args *x = tk_case_args(a), *y = tk_case_args(b);
  size_t n = 2 * 16 * 4 * 32;
  CHECK(memcmp(x->q->data, y->q->data, n * 2) == 0, "same seed gave different q");
  int zeros = 0;
  for (size_t i = 0; i < n; i++) zeros += tk_bf16_to_f32(((const uint16_t *)x->q->data)[i]) == 0.0f;
  CHECK(zeros == 0, "%d zero inputs", zeros);
  CHECK(tk_case_flops(a) == 2.0 * 2 * 16 * 16 * 4 * 64, "flops %g", tk_case_flops(a));
  CHECK(tk_case_flops(causal) == 2.0 * (16 * 17 / 2) * 4 * 64, "causal flops %g", tk_case_flops(causal));
  tk_case_destroy(a);
  tk_case_destroy(b);
  tk_case_destroy(causal);
}

/* Runs the reference on spec, then checks each corruption is caught. */
static void test_check_catches(tk_context *ctx) {
  tk_case *c = NULL;
  char err[256];
  tk_case_report r;
  const char *spec = "attention dtype=f32 B=3 Tq=8 Tk=8 Hq=2 Hkv=1 D=16 causal=1 varlen=1";
  CHECK_OK(tk_case_create(spec, 3, &c, err, sizeof err));
  if (!c) return;
  CHECK(!tk_case_check(c, &r), "check passed before any expected outputs");
  CHECK_OK(tk_case_prepare_expected(c, ctx));
  CHECK_OK(tk_case_run(c, ctx, &(tk_call_options){"reference", NULL}));
  CHECK(tk_case_check(c, &r), "reference vs itself: %s", r.why);
  tk_case_snapshot(c);
  const tk_attention_args *a = tk_case_args(c);
  const int32_t *ql = a->q_lens->data;
  float *out = a->out->data;
  int b = 0;
  while (b < 3 && (ql[b] == 0 || ql[b] == 8)) b++;
  int full = ql[0] > 0 ? 0 : 1; /* a batch with row 0 written */
  size_t row = 2 * 16;          /* floats in one [Hq, Dv] row */

  out[full * 8 * row + 5] += 0.25f;
  CHECK(!tk_case_check(c, &r), "a wrong element passed");
  CHECK(!tk_case_same_as_snapshot(c), "snapshot missed a changed element");
  out[full * 8 * row + 5] -= 0.25f;
  CHECK(tk_case_check(c, &r) && tk_case_same_as_snapshot(c), "restored: %s", r.why);

  /* one element between the tight and the loose bound passes; many do not */
  float e = out[full * 8 * row + 6], bump = 5e-5f * (fabsf(e) > 1 ? fabsf(e) : 1);
  out[full * 8 * row + 6] = e + bump;
  CHECK(tk_case_check(c, &r), "one element within the loose bound failed: %s", r.why);
  for (size_t i = 0; i < (size_t)ql[full] * row; i++) out[full * 8 * row + i] += bump;
  CHECK(!tk_case_check(c, &r) && strstr(r.why, "1%"), "many elements over tight passed: %s", r.why);
  CHECK_OK(tk_case_run(c, ctx, &(tk_call_options){"reference", NULL}));

  float saved = out[full * 8 * row + 3];
  memset(&out[full * 8 * row + 3], 0xff, 4); /* a NaN */
  CHECK(!tk_case_check(c, &r), "a NaN passed");
  out[full * 8 * row + 3] = saved;

  if (b < 3) { /* a row past q_len written */
    out[(b * 8 + 7) * row] = 0.5f;
    CHECK(!tk_case_check(c, &r) && strstr(r.why, "must not"), "masked row written: %s", r.why);
  }
  CHECK_OK(tk_case_run(c, ctx, &(tk_call_options){"reference", NULL}));
  ((unsigned char *)a->out->data)[3 * 8 * row * 4 + 10] ^= 1;
  CHECK(!tk_case_check(c, &r) && strstr(r.why, "guard"), "guard overwrite: %s", r.why);

  CHECK_OK(tk_case_run(c, ctx, &(tk_call_options){"reference", NULL}));
  float *q = a->q->data;
  q[17] = -q[17];
  CHECK(!tk_case_check(c, &r) && strstr(r.why, "input q"), "changed input: %s", r.why);
  q[17] = -q[17];
  CHECK(tk_case_check(c, &r), "restored input: %s", r.why);
  tk_case_destroy(c);

  /* integer outputs of permute must match exactly */
  CHECK_OK(tk_case_create("moe_permute dtype=bf16 T=16 H=8 k=2 E=4 align=4", 5, &c, err, sizeof err));
  if (!c) return;
  CHECK_OK(tk_case_prepare_expected(c, ctx));
  CHECK(tk_case_check(c, &r), "permute reference vs itself: %s", r.why);
  const tk_moe_permute_args *m = tk_case_args(c);
  ((int32_t *)m->dest->data)[3] ^= 1;
  CHECK(!tk_case_check(c, &r) && strstr(r.why, "dest"), "wrong dest: %s", r.why);
  tk_case_destroy(c);
}

int main(void) {
  snprintf(dir, sizeof dir, "/tmp/tk_test_suite_XXXXXX");
  if (!mkdtemp(dir)) return 1;
  test_files();
  test_include_limits();
  test_spec_errors();
  test_shipped_suites();
  test_inputs_and_work();
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (ctx) test_check_catches(ctx);
  tk_context_destroy(ctx);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  CHECK(system(cmd) == 0, "removing %s", dir);
  TK_TEST_END();
}
