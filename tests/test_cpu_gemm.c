/* test_cpu_gemm: the cpu grouped GEMM where tests/test_impls does not
 * reach: shapes that cross every blocking boundary (several depth blocks
 * with a partial one, row and column task tiles, partial microkernel
 * panels, odd depth for the bf16 pairs) in every config of the space (each
 * sums in its own order, so only the tolerance binds them); column-major,
 * padded and negatively strided operands (every packing path) and a
 * column-major output against the reference with the output's gaps
 * untouched; all-empty groups and K = 0 writing zeros; the same bits with 1
 * and 3 threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/tolerance.h"
#include "runtime/half.h"
#include "regress/case.h"
#include "regress/case_internal.h"
#include "tests/tk_config_sweep.h"
#include "tests/tk_test.h"

/* The cpu config space as tk_impl_config_space prints it; the sweep below
 * walks exactly these values. */
static const char SPACE[] =
    "isa: 256 512 1024\nshape: 0 1\nkc: 128 256 512\ntm: 64 512\ntn: 256 2048\n";
static const int ISA[] = {256, 512, 1024}, SHAPE[] = {0, 1}, KC[] = {128, 256, 512},
                 TM[] = {64, 512}, TN[] = {256, 2048};
#define N_CONFIGS (3 * 2 * 3 * 2 * 2)
#define POISON 0xA5

/* The index-th config of the space as text. */
static void config_text(int i, char *buf, size_t len) {
  snprintf(buf, len, "isa=%d,shape=%d,kc=%d,tm=%d,tn=%d", ISA[i / 24], SHAPE[i / 12 % 2],
           KC[i / 4 % 3], TM[i / 2 % 2], TN[i % 2]);
}

/* Runs the case under every valid config: each within tolerance of the
 * reference, with untouched guards and gaps (tk_case_check). */
static void sweep_case(tk_context *ctx, const char *spec, int min_configs) {
  int ran = tk_test_sweep_configs(ctx, spec, 7, N_CONFIGS, config_text, 0);
  CHECK(ran < 0 || ran >= min_configs, "%s: only %d configs ran, expected %d or more", spec, ran,
        min_configs);
}

/* A tensor of up to 3 dims over its own poisoned buffer with any strides
 * (negative ones put index 0 at the end of that dim). */
typedef struct {
  DLTensor dl;
  int64_t shape[3], stride[3];
  tk_dtype dt;
  unsigned char *buf;
  size_t bytes;
} view;

static void view_init(view *v, tk_dtype dt, int nd, const int64_t *shape, const int64_t *stride) {
  memset(v, 0, sizeof *v);
  int64_t es = tk_dtype_size(dt), span = 1, offset = 0, empty = 0;
  for (int d = 0; d < nd; d++) {
    v->shape[d] = shape[d];
    v->stride[d] = stride[d];
    if (shape[d] == 0) empty = 1;
    int64_t reach = (shape[d] - 1) * (stride[d] < 0 ? -stride[d] : stride[d]);
    if (shape[d] > 0) span += reach;
    if (stride[d] < 0 && shape[d] > 0) offset += reach;
  }
  v->dt = dt;
  v->bytes = (size_t)((empty ? 1 : span) * es);
  v->buf = malloc(v->bytes);
  memset(v->buf, POISON, v->bytes);
  v->dl.data = v->buf;
  v->dl.byte_offset = (uint64_t)(offset * es);
  v->dl.device = (DLDevice){kDLCPU, 0};
  v->dl.ndim = nd;
  v->dl.dtype = tk_dtype_dl(dt);
  v->dl.shape = v->shape;
  v->dl.strides = v->stride;
}

/* Element (i, j, k) (k, j ignored past ndim). */
static void *view_at(const view *v, int64_t i, int64_t j, int64_t k) {
  int64_t off = i * v->stride[0];
  if (v->dl.ndim > 1) off += j * v->stride[1];
  if (v->dl.ndim > 2) off += k * v->stride[2];
  return (char *)v->dl.data + v->dl.byte_offset + off * tk_dtype_size(v->dt);
}

static int64_t dim(const view *v, int d) { return d < v->dl.ndim ? v->shape[d] : 1; }

/* Random data in [1/16, 1] with random signs in every element. */
static void view_random(view *v, uint64_t *rng) {
  for (int64_t i = 0; i < dim(v, 0); i++)
    for (int64_t j = 0; j < dim(v, 1); j++)
      for (int64_t k = 0; k < dim(v, 2); k++) {
        double x = 0.0625 + 0.9375 * tk_case_rand01(rng);
        tk_store_f32(view_at(v, i, j, k), v->dt, (float)(tk_case_rand(rng) & 1 ? x : -x));
      }
}

/* Number of bytes of v that are not elements and still hold POISON, and
 * the number that are not elements at all. */
static void view_gaps(const view *v, int64_t *poisoned, int64_t *gaps) {
  unsigned char *mark = calloc(v->bytes, 1);
  int64_t es = tk_dtype_size(v->dt);
  for (int64_t i = 0; i < dim(v, 0); i++)
    for (int64_t j = 0; j < dim(v, 1); j++)
      for (int64_t k = 0; k < dim(v, 2); k++)
        memset(mark + ((unsigned char *)view_at(v, i, j, k) - v->buf), 1, (size_t)es);
  *poisoned = *gaps = 0;
  for (size_t b = 0; b < v->bytes; b++)
    if (!mark[b]) {
      (*gaps)++;
      *poisoned += v->buf[b] == POISON;
    }
  free(mark);
}

typedef struct {
  const char *what;
  tk_dtype dt, out_dt;
  tk_gg_layout layout;
  int64_t M, K, N, G;
  const int32_t *sizes;
  int64_t lhs_stride[2], rhs_stride[3], out_stride[3]; /* 0 in [0]: row-major */
} strided_case;

/* Row-major strides of shape (nd dims). */
static void row_major(int nd, const int64_t *shape, int64_t *stride) {
  int64_t s = 1;
  for (int d = nd - 1; d >= 0; d--) {
    stride[d] = s;
    s *= shape[d] > 0 ? shape[d] : 1;
  }
}

/* Runs the cpu impl (heuristic config, then AVX2 and AVX-512 forced) and
 * the reference on the same strided operands; checks every output element
 * within tolerance and the output's gaps untouched. */
static void strided_check(tk_context *ctx, const strided_case *sc) {
  const int tn = sc->layout == TK_GG_TN;
  int64_t lshape[2] = {sc->M, sc->K}, gshape[1] = {sc->G}, one[1] = {1};
  int64_t rshape[3] = {sc->G, sc->layout == TK_GG_NT ? sc->N : sc->K,
                       sc->layout == TK_GG_NT ? sc->K : sc->N};
  int64_t oshape[3] = {sc->M, sc->N, 0};
  if (tn) {
    rshape[0] = sc->M, rshape[1] = sc->N;
    oshape[0] = sc->G, oshape[1] = sc->K, oshape[2] = sc->N;
  }
  int rnd = tn ? 2 : 3, ond = tn ? 3 : 2;
  int64_t ls[2], rs[3], os[3];
  row_major(2, lshape, ls);
  row_major(rnd, rshape, rs);
  row_major(ond, oshape, os);
  if (sc->lhs_stride[0]) memcpy(ls, sc->lhs_stride, sizeof ls);
  if (sc->rhs_stride[0]) memcpy(rs, sc->rhs_stride, sizeof rs);
  if (sc->out_stride[0]) memcpy(os, sc->out_stride, sizeof os);
  view lhs, rhs, gs, out, ref;
  view_init(&lhs, sc->dt, 2, lshape, ls);
  view_init(&rhs, sc->dt, rnd, rshape, rs);
  view_init(&gs, TK_I32, 1, gshape, one);
  view_init(&out, sc->out_dt, ond, oshape, os);
  view_init(&ref, sc->out_dt, ond, oshape, os);
  uint64_t rng = 99;
  view_random(&lhs, &rng);
  view_random(&rhs, &rng);
  int64_t depth_max = 0;
  for (int64_t g = 0; g < sc->G; g++) {
    *(int32_t *)view_at(&gs, g, 0, 0) = sc->sizes[g];
    if (sc->sizes[g] > depth_max) depth_max = sc->sizes[g];
  }
  tk_grouped_gemm_args a = {&lhs.dl, &rhs.dl, &gs.dl, &ref.dl, sc->layout};
  tk_call_options ro = {"reference", NULL};
  CHECK_OK(tk_grouped_gemm(ctx, &a, &ro));
  double loose, tight, scale = sqrt((double)(tn ? depth_max : sc->K));
  tk_tolerance(sc->out_dt, &loose, &tight);
  if (scale < 1) scale = 1;
  static const char *const configs[] = {NULL, "isa=256", "isa=512"};
  for (int c = 0; c < 3; c++) {
    memset(out.buf, POISON, out.bytes);
    a.out = &out.dl;
    tk_call_options o = {"cpu", configs[c]};
    tk_status st = tk_grouped_gemm(ctx, &a, &o);
    if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) continue;
    const char *how = configs[c] ? configs[c] : "heuristic";
    CHECK(st == TK_OK, "%s | %s: %s", sc->what, how, tk_last_error());
    if (st != TK_OK) continue;
    double worst = 0;
    for (int64_t i = 0; i < dim(&out, 0); i++)
      for (int64_t j = 0; j < dim(&out, 1); j++)
        for (int64_t k = 0; k < dim(&out, 2); k++) {
          double e = tk_load_f32(view_at(&ref, i, j, k), sc->out_dt);
          double v = tk_load_f32(view_at(&out, i, j, k), sc->out_dt);
          double err = fabs(v - e) / (fabs(e) > scale ? fabs(e) : scale);
          if (!(err <= worst)) worst = err; /* NaN sticks */
        }
    CHECK(worst <= loose, "%s | %s: error %.3g over %.3g", sc->what, how, worst, loose);
    int64_t poisoned, gaps;
    view_gaps(&out, &poisoned, &gaps);
    CHECK(poisoned == gaps, "%s | %s: %lld of %lld gap bytes of out were written", sc->what, how,
          (long long)(gaps - poisoned), (long long)gaps);
  }
  free(lhs.buf), free(rhs.buf), free(gs.buf), free(out.buf), free(ref.buf);
}

/* Operands in every packing path: column-major (the other fast path),
 * padded, negatively strided, and strided in both dims (the scalar path);
 * a column-major or padded output (the float32 store path). */
static void strided_cases(tk_context *ctx) {
  static const int32_t s3[] = {40, 0, 61}, s4[] = {17, 33, 0, 29}, s2[] = {70, 45};
  const int64_t M = 101, K = 45, N = 70;
  const strided_case cases[] = {
      {"nn f32, lhs and rhs column-major, out column-major",
       TK_F32, TK_F32, TK_GG_NN, M, K, N, 3, s3, {1, M}, {K * N, 1, K}, {1, M}},
      {"nn bf16, lhs negative rows, rhs strided both ways",
       TK_BF16, TK_F32, TK_GG_NN, M, K, N, 3, s3, {-(2 * K + 3), 2},
       {K * (2 * N + 1) + 5, 2 * N + 1, 2}, {0}},
      {"nt f16, lhs strided both ways, rhs column-major, out padded",
       TK_F16, TK_F16, TK_GG_NT, M, K, N, 4, s4, {3 * K + 1, 3}, {N * K, 1, N}, {N + 9, 1}},
      {"nt bf16, rhs negative rows",
       TK_BF16, TK_BF16, TK_GG_NT, M, K, N, 4, s4, {0}, {N * K, -K, 1}, {0}},
      {"tn f32, lhs column-major, rhs column-major, out transposed",
       TK_F32, TK_F32, TK_GG_TN, 115, K, N, 2, s2, {1, 115}, {1, 115, 0}, {K * N, 1, K}},
      {"tn bf16, lhs strided both ways, rhs negative rows",
       TK_BF16, TK_F32, TK_GG_TN, 115, K, N, 2, s2, {2 * K + 1, 2}, {-N, 1, 0}, {0}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) strided_check(ctx, &cases[i]);
}

/* Every group empty (and K = 0): the cpu impl writes zeros everywhere it
 * must, in every layout. */
static void empty_cases(tk_context *ctx) {
  static const int32_t zeros[] = {0, 0, 0, 0, 0};
  static const int32_t some[] = {3, 0, 9, 1, 20};
  const strided_case cases[] = {
      {"nn all groups empty", TK_F32, TK_F32, TK_GG_NN, 37, 20, 50, 5, zeros, {0}, {0}, {0}},
      {"nt all groups empty, bf16 out",
       TK_BF16, TK_BF16, TK_GG_NT, 37, 20, 50, 5, zeros, {0}, {0}, {0}},
      {"tn all groups empty", TK_F16, TK_F32, TK_GG_TN, 37, 20, 50, 5, zeros, {0}, {0}, {0}},
      {"nn K = 0", TK_F32, TK_F32, TK_GG_NN, 37, 0, 50, 5, some, {0}, {0}, {0}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) strided_check(ctx, &cases[i]);
}

/* The same bits with 1 and with 3 threads: each output element is reduced
 * by one task in a fixed order. */
static void thread_count_case(void) {
  const char *spec = "grouped_gemm dtype=bf16 out=f32 layout=nn M=300 K=600 N=300 G=5 sizes=zipf";
  char err[256];
  tk_case *c = NULL;
  tk_status st = tk_case_create(spec, 11, &c, err, sizeof err);
  CHECK(st == TK_OK, "%s: %s", spec, err);
  if (st != TK_OK) return;
  tk_context *ctx[2] = {NULL, NULL};
  for (int i = 0; i < 2; i++) {
    tk_context_options o = {":memory:", i ? 3 : 1, TK_TUNE_OFF, NULL};
    CHECK_OK(tk_context_create(&o, &ctx[i]));
  }
  tk_call_options o = {"cpu", "kc=128,tm=64,tn=256"};
  if (ctx[0] && ctx[1]) {
    CHECK_OK(tk_case_run(c, ctx[0], &o));
    tk_case_snapshot(c);
    CHECK_OK(tk_case_run(c, ctx[1], &o));
    CHECK(tk_case_same_as_snapshot(c), "%s: bits differ between 1 and 3 threads", spec);
  }
  tk_context_destroy(ctx[0]);
  tk_context_destroy(ctx[1]);
  tk_case_destroy(c);
}

int main(void) {
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) TK_TEST_END();
  char why[256], err[256];
  tk_case *probe = NULL;
  CHECK_OK(tk_case_create("grouped_gemm", 1, &probe, err, sizeof err));
  tk_status st = tk_impl_supports(ctx, TK_OP_GROUPED_GEMM, "cpu", tk_case_args(probe), why,
                                  sizeof why);
  tk_case_destroy(probe);
  if (st == TK_ERR_UNSUPPORTED) { /* no AVX2 (or TOKAMAX_CPU_ISA=none) */
    printf("skipped: %s\n", why);
    tk_context_destroy(ctx);
    return 77;
  }
  char space[512];
  CHECK_OK(tk_impl_config_space(TK_OP_GROUPED_GEMM, "cpu", space, sizeof space));
  CHECK(strcmp(space, SPACE) == 0, "cpu space is\n%s\nthe sweep walks\n%s", space, SPACE);
  /* Depth 300/261/600 cross kc = 128 and 256 with a partial block; rows
   * and columns cross tm = 64 and tn = 256 and end in partial panels. */
  sweep_case(ctx, "grouped_gemm dtype=f32 out=f32 layout=nn M=230 K=300 N=290 G=3 "
                  "sizes=random empty=1", 8);
  sweep_case(ctx, "grouped_gemm dtype=bf16 out=same layout=nt M=200 K=261 N=270 G=4 "
                  "sizes=zipf unused=13 strided=1", 8);
  sweep_case(ctx, "grouped_gemm dtype=f16 out=same layout=tn M=600 K=150 N=275 G=2 "
                  "sizes=random", 8);
  sweep_case(ctx, "grouped_gemm dtype=bf16 out=f32 layout=tn M=140 K=77 N=40 G=3 "
                  "sizes=balanced strided=1", 4);
  strided_cases(ctx);
  empty_cases(ctx);
  thread_count_case();
  tk_context_destroy(ctx);
  TK_TEST_END();
}
