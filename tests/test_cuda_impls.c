/* test_cuda_impls: every CUDA implementation of every op, in every config
 * of its space, on each case of regress/suites/impls.suite and
 * regress/suites/cuda.suite with the tensors in device memory: tolerance,
 * coverage, poison, guards, unchanged inputs, and the same bits on a
 * second run; also the automatic choice on device tensors.
 *
 * First, on any machine, the integer rules the CUDA attention kernels
 * share (impls/cuda/attention_index.h) are checked against brute force.
 * Then the test exits 77 (skipped) when the library was built without
 * CUDA or no CUDA device is present. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "impls/cuda/attention_index.h"
#include "impls/registry.h"
#include "runtime/device.h"
#include "regress/case.h"
#include "tests/tk_test.h"

/* ---------------------------------------------------------------- host-side rules */

static uint64_t rng_state = 0x243F6A8885A308D3ull;

/* A uniform integer in [lo, hi] (xorshift64*). */
static int rnd(int lo, int hi) {
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return lo + (int)((rng_state * 0x2545F4914F6CDD1Dull >> 33) % (uint64_t)(hi - lo + 1));
}

/* Key spans and block classes agree with the masks, pair by pair: every
 * key a row sees lies in the span, a block classed "none" has no seen pair
 * and one classed "all" has every pair seen. */
static void check_masks(void) {
  long bad_span = 0, bad_none = 0, bad_all = 0, classed[3] = {0, 0, 0};
  for (int trial = 0; trial < 4000; trial++) {
    int causal = rnd(0, 1), wl = rnd(-1, 12), wr = rnd(-1, 12), tq = rnd(1, 40), tk = rnd(0, 40);
    int kend = rnd(0, 1) ? tk : rnd(0, tk), off = tk - tq;
    int i0 = rnd(0, tq - 1), i1 = rnd(i0, tq - 1), lo, hi;
    tk_attn_key_span(causal, wl, wr, off, kend, i0, i1, &lo, &hi);
    for (int i = i0; i <= i1; i++)
      for (int j = 0; j < tk + 8; j++)
        if (tk_attn_sees(causal, wl, wr, i + off, kend, j) && (j < lo || j >= hi)) bad_span++;
    int j0 = rnd(0, tk + 8), j1 = j0 + rnd(1, 16), seen = 0;
    for (int i = i0; i <= i1; i++)
      for (int j = j0; j < j1; j++) seen += tk_attn_sees(causal, wl, wr, i + off, kend, j);
    int cls = tk_attn_block_class(causal, wl, wr, off, kend, i0, i1, j0, j1);
    classed[cls]++;
    if (cls == 0 && seen) bad_none++;
    if (cls == 2 && seen != (i1 - i0 + 1) * (j1 - j0)) bad_all++;
  }
  CHECK(bad_span == 0, "%ld keys seen outside their rows' span", bad_span);
  CHECK(bad_none == 0, "%ld blocks classed unseen have seen pairs", bad_none);
  CHECK(bad_all == 0, "%ld blocks classed fully seen have unseen pairs", bad_all);
  CHECK(classed[0] && classed[1] && classed[2], "classes drawn: none %ld, some %ld, all %ld",
        classed[0], classed[1], classed[2]);
}

/* Split pieces cover the span once, in order, each starting a whole number
 * of blocks after lo. */
static void check_splits(void) {
  long bad = 0;
  for (int trial = 0; trial < 2000; trial++) {
    int lo = rnd(0, 500), hi = lo + rnd(0, 3000), n = 1 << rnd(0, 5), block = 16 << rnd(0, 3);
    int next = lo, end = hi;
    for (int sp = 0; sp < n; sp++) {
      int a, b;
      tk_attn_split_range(lo, hi, n, sp, block, &a, &b);
      if (a > b) b = a;
      if (a != next || (a < end && (a - lo) % block != 0) || b > end) bad++;
      next = b;
    }
    if (next != end) bad++;
  }
  CHECK(bad == 0, "%ld split layouts do not tile their span", bad);
}

/* The unit bound holds whatever the split of the queries among sequences. */
static void check_units(void) {
  long bad = 0;
  for (int trial = 0; trial < 2000; trial++) {
    int s = rnd(1, 30), group = rnd(1, 40), m = 16 * (1 << rnd(0, 2));
    long long total = 0, units = 0;
    for (int i = 0; i < s; i++) {
      int q = rnd(0, 1) ? rnd(0, 3) : rnd(0, 300);
      total += q;
      units += tk_paged_units(q, group, m);
    }
    if (units > tk_paged_max_units(total, s, group, m)) bad++;
  }
  CHECK(bad == 0, "%ld unit counts over the grid bound", bad);
}

/* Buckets hold their dims, and every bucket has compiled shapes. */
static void check_buckets(void) {
  for (int d = 8; d <= 256; d += 8)
    for (int dv = 8; dv <= 256; dv += 8) {
      int dp = 0, dvp = 0;
      CHECK(tk_attn_bucket(d, dv, &dp, &dvp) && dp >= d && dvp >= dv && dp % 64 == 0 && dvp % 64 == 0,
            "bucket of D=%d Dv=%d: %d/%d", d, dv, dp, dvp);
      CHECK(tk_tiled_shape_ok(dp, dvp, 32, 1) || tk_tiled_shape_ok(dp, dvp, 64, 1),
            "no tiled shape for bucket %d/%d", dp, dvp);
      CHECK(tk_paged_shape_ok(dp, dvp, 64, 1) && tk_pipelined_shape_ok(dp, dvp, 64, 1),
            "no paged or pipelined shape for bucket %d/%d", dp, dvp);
    }
  int dp, dvp;
  CHECK(!tk_attn_bucket(12, 64, &dp, &dvp) && !tk_attn_bucket(264, 64, &dp, &dvp),
        "a head dim off the multiples of 8 or past 256 got a bucket");
}

/* ---------------------------------------------------------------- device runs */

typedef struct {
  long runs, invalid_configs, skipped_impls;
  double max_err;
} tally;

/* Runs the device case with impl/config, checks it, reruns, compares bits. */
static void run_one(tk_case *c, tk_case_device *d, tk_context *ctx, const char *impl,
                    const char *config, tally *t) {
  tk_call_options opts = {impl, config};
  const char *spec = tk_case_spec(c), *in = impl ? impl : "auto", *cf = config ? config : "-";
  tk_status st = tk_case_run_device(d, ctx, &opts);
  if (st == TK_ERR_INVALID_ARGUMENT && config && strstr(tk_last_error(), "config: invalid")) {
    t->invalid_configs++;
    return;
  }
  CHECK(st == TK_OK, "%s | %s | %s: %s: %s", spec, in, cf, tk_status_string(st), tk_last_error());
  if (st != TK_OK) return;
  tk_case_report r;
  CHECK(tk_case_check(c, &r), "%s | %s | %s: %s", spec, in, cf, r.why);
  if (r.max_rel_err > t->max_err) t->max_err = r.max_rel_err;
  tk_case_snapshot(c);
  st = tk_case_run_device(d, ctx, &opts);
  CHECK(st == TK_OK, "%s | %s | %s: second run: %s: %s", spec, in, cf, tk_status_string(st),
        tk_last_error());
  CHECK(st != TK_OK || tk_case_same_as_snapshot(c), "%s | %s | %s: second run differs in bits",
        spec, in, cf);
  t->runs++;
}

/* Runs every config of impl's space on the device case. */
static void run_configs(tk_case *c, tk_case_device *d, tk_context *ctx, const tk_impl *impl,
                        tally *t) {
  const tk_config_space *s = impl->space;
  if (s->n_params == 0) {
    run_one(c, d, ctx, impl->name, NULL, t);
    return;
  }
  int64_t n = tk_config_space_size(s);
  for (int64_t i = 0; i < n; i++) {
    tk_config cfg;
    char text[256];
    tk_config_nth(s, i, &cfg);
    tk_config_format(s, &cfg, text, sizeof text);
    run_one(c, d, ctx, impl->name, text, t);
  }
}

/* Every CUDA implementation of the case's op, then the automatic choice.
 * Attention and paged attention must run somewhere on an sm_80+ device. */
static void run_case(const char *spec, uint64_t seed, tk_context *ctx, int cc_major) {
  char err[512];
  tk_case *c = NULL;
  tk_status st = tk_case_create(spec, seed, &c, err, sizeof err);
  CHECK(st == TK_OK, "%s: %s", spec, err);
  if (st != TK_OK) return;
  tk_case_device *d = NULL;
  st = tk_case_prepare_expected(c, ctx);
  CHECK(st == TK_OK, "%s | reference: %s: %s", spec, tk_status_string(st), tk_last_error());
  if (st == TK_OK) {
    st = tk_case_device_create(c, 0, &d, err, sizeof err);
    CHECK(st == TK_OK, "%s | device copy: %s", spec, err);
  }
  if (d) {
    tally t = {0, 0, 0, 0};
    int n;
    const tk_impl *const *list = tk_registry(tk_case_op(c), &n);
    for (int i = 0; i < n; i++) {
      if (list[i]->backend != TK_BACKEND_CUDA) continue;
      char why[256] = "";
      st = tk_impl_supports(ctx, tk_case_op(c), list[i]->name, tk_case_device_args(d), why, sizeof why);
      if (st == TK_ERR_UNSUPPORTED) {
        t.skipped_impls++;
        printf("  %s: %s\n", list[i]->name, why);
        continue;
      }
      CHECK(st == TK_OK, "%s | %s: supports: %s: %s", spec, list[i]->name, tk_status_string(st), why);
      if (st == TK_OK) run_configs(c, d, ctx, list[i], &t);
    }
    if (cc_major >= 8 && (tk_case_op(c) == TK_OP_ATTENTION || tk_case_op(c) == TK_OP_PAGED_ATTENTION))
      CHECK(t.runs > 0, "%s: no CUDA implementation ran it", spec);
    run_one(c, d, ctx, NULL, NULL, &t);
    printf("%-100s runs %3ld  invalid configs %3ld  skipped impls %ld  max err %.3g\n", spec, t.runs,
           t.invalid_configs, t.skipped_impls, t.max_err);
  }
  tk_case_device_destroy(d);
  tk_case_destroy(c);
}

int main(void) {
  check_masks();
  check_splits();
  check_units();
  check_buckets();
  if (tk_test_failures) TK_TEST_END();

  tk_device_info dev;
  tk_device_detect(&dev);
  if (!dev.cuda_built || dev.cuda_device_count == 0) {
    printf("host-side checks passed; skipped the device runs: %s\n", dev.cuda_status);
    return 77;
  }
  printf("device 0: %s (compute capability %d.%d, %d SMs)\n", dev.cuda[0].name, dev.cuda[0].cc_major,
         dev.cuda[0].cc_minor, dev.cuda[0].sm_count);
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) TK_TEST_END();
  static const char *const suites[] = {"impls", "cuda"};
  for (int k = 0; k < 2; k++) {
    tk_suite suite;
    char err[512];
    tk_status st = tk_suite_load(suites[k], &suite, err, sizeof err);
    CHECK(st == TK_OK, "loading suite %s: %s", suites[k], err);
    if (st != TK_OK) continue;
    for (int i = 0; i < suite.count; i++)
      run_case(suite.specs[i], 1000 + (uint64_t)i, ctx, dev.cuda[0].cc_major);
    tk_suite_free(&suite);
  }
  tk_context_destroy(ctx);
  TK_TEST_END();
}
