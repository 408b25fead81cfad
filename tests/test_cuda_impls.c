/* test_cuda_impls: every CUDA implementation of every op, in every config
 * of its space, on each case of regress/suites/impls.suite, cuda.suite and
 * cuda_gemm.suite with the tensors in device memory: tolerance, coverage,
 * poison, guards, unchanged inputs, and the same bits on a second run; also the automatic choice on device tensors; and the
 * attention calls the suites cannot express (Tk = 0, every kv_len 0),
 * whose rows must come out 0 with lse -inf.
 *
 * First, on any machine, the integer rules the CUDA attention kernels
 * share (impls/cuda/attention_index.h) are checked against brute force.
 * Then the test exits 77 (skipped) when the library was built without
 * CUDA or no CUDA device is present.
 *
 * Output is line-buffered, and each run is announced before it starts
 * ("begin <case> | <impl> | <config>"), so a hung kernel names itself.
 * Within a case cuda_pipelined and the automatic choice run last.
 * Options (scripts/gpu/run.sh runs the tiled and pipelined halves as
 * separate, time-boxed stages):
 *   --impl LIST       only these implementations ("auto": the automatic choice)
 *   --skip-impl LIST  not these
 *   --suite LIST      suites to run (default impls,cuda,cuda_gemm)
 *   --match TEXT      only cases whose spec contains TEXT
 *   --max-configs N   at most the first N configs of each space */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "impls/cuda/attention_index.h"
#include "impls/registry.h"
#include "runtime/cuda/cuda_memory.h"
#include "runtime/device.h"
#include "runtime/half.h"
#include "runtime/name_list.h"
#include "regress/case.h"
#include "regress/case_internal.h"
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

/* ---------------------------------------------------------------- selection */

/* What to run (the options of the file comment). */
typedef struct {
  const char *impls, *skip, *suites, *match;
  long max_configs;
} selection;

/* 1 if name is in the comma list (NULL: no list). */
static int listed(const char *list, const char *name) {
  char item[64];
  if (!list) return 0;
  for (tk_name_iter it = tk_name_iter_init(list); tk_name_next(&it, item, sizeof item);)
    if (strcmp(item, name) == 0) return 1;
  return 0;
}

/* 1 if the selection runs implementation `name` ("auto" for the automatic choice). */
static int selected(const selection *sel, const char *name) {
  return (!sel->impls || listed(sel->impls, name)) && !listed(sel->skip, name);
}

static const char USAGE[] =
    "usage: test_cuda_impls [--impl LIST] [--skip-impl LIST] [--suite LIST] [--match TEXT]\n"
    "                       [--max-configs N>0]   (see the file comment; default suites\n"
    "                       impls,cuda,cuda_gemm, every CUDA implementation and auto)\n";

/* Parses the options; 0 with a message on a bad one (exits 0 on --help). */
static int parse(int argc, char **argv, selection *sel) {
  *sel = (selection){NULL, NULL, "impls,cuda,cuda_gemm", NULL, -1};
  for (int i = 1; i < argc; i += 2) {
    const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    char *end = NULL;
    if (strcmp(o, "--help") == 0) {
      printf("%s", USAGE);
      exit(0);
    }
    if (!v) goto bad;
    if (strcmp(o, "--impl") == 0)
      sel->impls = v;
    else if (strcmp(o, "--skip-impl") == 0)
      sel->skip = v;
    else if (strcmp(o, "--suite") == 0)
      sel->suites = v;
    else if (strcmp(o, "--match") == 0)
      sel->match = v;
    else if (strcmp(o, "--max-configs") == 0 && (sel->max_configs = strtol(v, &end, 10)) > 0 && !*end)
      continue;
    else
      goto bad;
  }
  return 1;
bad:
  fprintf(stderr, "%s", USAGE);
  return 0;
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
  printf("begin %s | %s | %s\n", spec, in, cf);
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

/* Runs every config of impl's space on the device case (the first
 * max_configs when that is positive). */
static void run_configs(tk_case *c, tk_case_device *d, tk_context *ctx, const tk_impl *impl,
                        long max_configs, tally *t) {
  const tk_config_space *s = impl->space;
  if (s->n_params == 0) {
    run_one(c, d, ctx, impl->name, NULL, t);
    return;
  }
  int64_t n = tk_config_space_size(s);
  if (max_configs > 0 && n > max_configs) n = max_configs;
  for (int64_t i = 0; i < n; i++) {
    tk_config cfg;
    char text[256];
    tk_config_nth(s, i, &cfg);
    tk_config_format(s, &cfg, text, sizeof text);
    run_one(c, d, ctx, impl->name, text, t);
  }
}

/* The selected CUDA implementations of the case's op, cuda_pipelined
 * last, then the automatic choice. Attention and paged attention must run
 * somewhere on an sm_80+ device when cuda_tiled is selected. */
static void run_case(const char *spec, uint64_t seed, tk_context *ctx, int cc_major,
                     const selection *sel) {
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
    for (int pass = 0; pass < 2; pass++) /* pass 1: cuda_pipelined */
      for (int i = 0; i < n; i++) {
        if (list[i]->backend != TK_BACKEND_CUDA || !selected(sel, list[i]->name) ||
            (strcmp(list[i]->name, "cuda_pipelined") == 0) != pass)
          continue;
        char why[256] = "";
        st = tk_impl_supports(ctx, tk_case_op(c), list[i]->name, tk_case_device_args(d), why, sizeof why);
        if (st == TK_ERR_UNSUPPORTED) {
          t.skipped_impls++;
          printf("  %s: %s\n", list[i]->name, why);
          continue;
        }
        CHECK(st == TK_OK, "%s | %s: supports: %s: %s", spec, list[i]->name, tk_status_string(st), why);
        if (st == TK_OK) run_configs(c, d, ctx, list[i], sel->max_configs, &t);
      }
    if (cc_major >= 8 && selected(sel, "cuda_tiled") &&
        (tk_case_op(c) == TK_OP_ATTENTION || tk_case_op(c) == TK_OP_PAGED_ATTENTION))
      CHECK(t.runs > 0, "%s: no CUDA implementation ran it", spec);
    if (selected(sel, "auto")) run_one(c, d, ctx, NULL, NULL, &t);
    printf("%-100s runs %3ld  invalid configs %3ld  skipped impls %ld  max err %.3g\n", spec, t.runs,
           t.invalid_configs, t.skipped_impls, t.max_err);
  }
  tk_case_device_destroy(d);
  tk_case_destroy(c);
}

/* ---------------------------------------------------------------- rows that see no key */

#if TK_HAVE_CUDA /* the device copies of runtime/cuda exist only in CUDA builds */

/* A tensor in device 0's memory, built by hand. */
typedef struct {
  DLTensor dl;
  int64_t shape[4];
  void *dev;
  size_t bytes;
} dev_tensor;

/* Allocates t (dtype dt, ndim dims of shape; at least 256 bytes so an
 * empty tensor still has an address) and copies bytes of init into it. */
static tk_status dev_tensor_make(dev_tensor *t, tk_dtype dt, int ndim, const int64_t *shape,
                                 const void *init) {
  memset(t, 0, sizeof *t);
  int64_t n = 1;
  for (int i = 0; i < ndim; i++) n *= t->shape[i] = shape[i];
  t->bytes = (size_t)(n * tk_dtype_size(dt));
  tk_status st = tk_cuda_malloc(0, t->bytes > 256 ? t->bytes : 256, &t->dev);
  if (st == TK_OK && t->bytes) st = tk_cuda_copy_to_device(t->dev, init, t->bytes);
  t->dl = (DLTensor){t->dev, {kDLCUDA, 0}, ndim, tk_dtype_dl(dt), t->shape, NULL, 0};
  return st;
}

static void dev_tensor_free(dev_tensor *t) { tk_cuda_free(0, t->dev); }

/* Attention where no query row sees a key, because Tk = 0 (tk0) or every
 * kv_len is 0: each selected CUDA implementation (and the automatic
 * choice) must write out = 0 and lse = -inf for every row, over outputs
 * poisoned with NaN. */
static void run_no_keys(tk_context *ctx, const selection *sel, tk_dtype dt, int d, int tk0) {
  enum { B = 2, TQ = 70, HQ = 4, HKV = 2, TK = 40 };
  const int tk = tk0 ? 0 : TK;
  char spec[160];
  snprintf(spec, sizeof spec, "attention dtype=%s B=%d Tq=%d Tk=%d Hq=%d Hkv=%d D=%d%s",
           dt == TK_BF16 ? "bf16" : "f16", B, TQ, tk, HQ, HKV, d, tk0 ? "" : " kv_lens=0");
  if (sel->match && !strstr(spec, sel->match)) return;
  const size_t nq = (size_t)B * TQ * HQ * d, nkv = (size_t)B * TK * HKV * d, nl = (size_t)B * HQ * TQ;
  uint16_t *host = malloc(sizeof *host * (nq + nkv));
  float *lse = malloc(sizeof *lse * nl);
  uint64_t rng = 7;
  for (size_t i = 0; i < nq + nkv; i++) {
    float x = (float)(1.0 / 16 + tk_case_rand01(&rng) * 15.0 / 16) * (tk_case_rand(&rng) & 1 ? 1 : -1);
    tk_store_f32(&host[i], dt, x);
  }
  const int32_t zeros[B] = {0, 0};
  dev_tensor q, k, v, out, l, kl;
  tk_status st = dev_tensor_make(&q, dt, 4, (int64_t[]){B, TQ, HQ, d}, host);
  if (st == TK_OK) st = dev_tensor_make(&k, dt, 4, (int64_t[]){B, tk, HKV, d}, host + nq);
  if (st == TK_OK) st = dev_tensor_make(&v, dt, 4, (int64_t[]){B, tk, HKV, d}, host + nq);
  if (st == TK_OK) st = dev_tensor_make(&out, dt, 4, (int64_t[]){B, TQ, HQ, d}, host);
  if (st == TK_OK) st = dev_tensor_make(&l, TK_F32, 3, (int64_t[]){B, HQ, TQ}, host);
  if (st == TK_OK) st = dev_tensor_make(&kl, TK_I32, 1, (int64_t[]){B}, zeros);
  CHECK(st == TK_OK, "%s: device tensors: %s", spec, tk_last_error());
  static const char *const impls[] = {"cuda_tiled", "cuda_pipelined", NULL};
  for (int i = 0; st == TK_OK && i < 3; i++) {
    const char *name = impls[i] ? impls[i] : "auto";
    if (!selected(sel, name)) continue;
    tk_attention_args args = {.q = &q.dl, .k = &k.dl, .v = &v.dl, .out = &out.dl, .lse = &l.dl,
                              .kv_lens = tk0 ? NULL : &kl.dl, .causal = i == 1, .window_left = -1,
                              .window_right = -1};
    char why[256] = "";
    tk_status sup = impls[i] ? tk_impl_supports(ctx, TK_OP_ATTENTION, name, &args, why, sizeof why) : TK_OK;
    if (sup == TK_ERR_UNSUPPORTED) {
      printf("  %s: %s\n", name, why);
      continue;
    }
    CHECK(sup == TK_OK, "%s | %s: supports: %s: %s", spec, name, tk_status_string(sup), why);
    if (sup != TK_OK) continue;
    /* poison: NaN in every element of out and lse */
    memset(host, 0xff, sizeof *host * nq);
    memset(lse, 0xff, sizeof *lse * nl);
    CHECK_OK(tk_cuda_copy_to_device(out.dev, host, out.bytes));
    CHECK_OK(tk_cuda_copy_to_device(l.dev, lse, l.bytes));
    printf("begin %s | %s | -\n", spec, name);
    tk_call_options opts = {impls[i], NULL};
    tk_status r = tk_attention(ctx, &args, &opts);
    if (r == TK_OK) r = tk_cuda_synchronize(0);
    CHECK(r == TK_OK, "%s | %s: %s: %s", spec, name, tk_status_string(r), tk_last_error());
    if (r != TK_OK) continue;
    CHECK_OK(tk_cuda_copy_to_host(host, out.dev, out.bytes));
    CHECK_OK(tk_cuda_copy_to_host(lse, l.dev, l.bytes));
    size_t bad_out = 0, bad_lse = 0;
    for (size_t e = 0; e < nq; e++) bad_out += tk_load_f32(&host[e], dt) != 0.0f;
    for (size_t e = 0; e < nl; e++) bad_lse += !(isinf(lse[e]) && lse[e] < 0);
    CHECK(bad_out == 0 && bad_lse == 0, "%s | %s: %zu of %zu outputs not 0, %zu of %zu lse not -inf",
          spec, name, bad_out, nq, bad_lse, nl);
    printf("%-100s %s: every row 0, lse -inf\n", spec, name);
  }
  dev_tensor_free(&q);
  dev_tensor_free(&k);
  dev_tensor_free(&v);
  dev_tensor_free(&out);
  dev_tensor_free(&l);
  dev_tensor_free(&kl);
  free(host);
  free(lse);
}
#endif

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  selection sel;
  if (!parse(argc, argv, &sel)) return 2;

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
  char name[64];
  for (tk_name_iter it = tk_name_iter_init(sel.suites); tk_name_next(&it, name, sizeof name);) {
    tk_suite suite;
    char err[512];
    tk_status st = tk_suite_load(name, &suite, err, sizeof err);
    CHECK(st == TK_OK, "loading suite %s: %s", name, err);
    if (st != TK_OK) continue;
    for (int i = 0; i < suite.count; i++)
      if (!sel.match || strstr(suite.specs[i], sel.match))
        run_case(suite.specs[i], 1000 + (uint64_t)i, ctx, dev.cuda[0].cc_major, &sel);
    tk_suite_free(&suite);
  }
#if TK_HAVE_CUDA
  for (int tk0 = 0; tk0 < 2; tk0++)
    for (int d = 64; d <= 128; d += 64) {
      run_no_keys(ctx, &sel, TK_BF16, d, tk0);
      run_no_keys(ctx, &sel, TK_F16, d, tk0);
    }
#endif
  tk_context_destroy(ctx);
  TK_TEST_END();
}
