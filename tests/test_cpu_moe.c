/* test_cpu_moe: the cpu MoE permute and unpermute where tests/test_impls
 * does not reach: H past the vector blocks and not a multiple of any vector
 * width, hundreds of experts (most empty), k = 8, align > 1, T not a
 * multiple of the task size, rows not 64-byte aligned (the streaming
 * head), in every config with the same bits in each; strided, negatively
 * strided and repeated-expert inputs against the reference; the strided
 * unpermute giving the bits of the vector one; k past the vector path;
 * the unpermute backward's scatter, gather and element paths. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "regress/case.h"
#include "regress/case_internal.h"
#include "tests/tk_config_sweep.h"
#include "tests/tk_test.h"

static const int ISAS[] = {256, 512}, TASKS[] = {1, 4, 16, 64}, STREAMS[] = {0, 1};
#define N_CONFIGS 16
#define POISON 0xA5

/* The index-th config of the cpu space as text. */
static void config_text(int index, char *buf, size_t len) {
  snprintf(buf, len, "isa=%d,tasks=%d,stream=%d", ISAS[index / 8], TASKS[index / 2 % 4],
           STREAMS[index % 2]);
}

/* Runs the case under every config the CPU allows: each within tolerance
 * of the reference (bit-exact for permute), all with the same bits. */
static void sweep_case(tk_context *ctx, const char *spec, uint64_t seed) {
  int ran = tk_test_sweep_configs(ctx, spec, seed, N_CONFIGS, config_text, 1);
  CHECK(ran < 0 || ran >= N_CONFIGS / 2, "%s: only %d configs ran", spec, ran);
}

/* A 2-D tensor over its own buffer with any strides (a negative row stride
 * puts row 0 at the end). The buffer starts filled with POISON. */
typedef struct {
  DLTensor dl;
  int64_t shape[2], stride[2];
  tk_dtype dt;
  unsigned char *buf;
  size_t bytes;
} view;

static void view_init(view *v, tk_dtype dt, int64_t rows, int64_t cols, int64_t row_stride,
                      int64_t col_stride) {
  memset(v, 0, sizeof *v);
  int64_t es = tk_dtype_size(dt), ars = row_stride < 0 ? -row_stride : row_stride;
  v->dt = dt;
  v->shape[0] = rows, v->shape[1] = cols;
  v->stride[0] = row_stride, v->stride[1] = col_stride;
  v->bytes = (size_t)(((rows - 1) * ars + (cols - 1) * col_stride + 1) * es);
  v->buf = malloc(v->bytes);
  memset(v->buf, POISON, v->bytes);
  v->dl.data = v->buf;
  v->dl.byte_offset = row_stride < 0 ? (uint64_t)((rows - 1) * ars * es) : 0;
  v->dl.device = (DLDevice){kDLCPU, 0};
  v->dl.ndim = 2;
  v->dl.dtype = tk_dtype_dl(dt);
  v->dl.shape = v->shape;
  v->dl.strides = v->stride;
}

/* Element (i, j). */
static void *view_at(const view *v, int64_t i, int64_t j) {
  return (char *)v->dl.data + v->dl.byte_offset +
         (i * v->stride[0] + j * v->stride[1]) * tk_dtype_size(v->dt);
}

/* Random data values in [1/16, 1] with random signs. */
static void view_random(view *v, uint64_t *rng) {
  for (int64_t i = 0; i < v->shape[0]; i++)
    for (int64_t j = 0; j < v->shape[1]; j++) {
      double x = 0.0625 + 0.9375 * tk_case_rand01(rng);
      tk_store_f32(view_at(v, i, j), v->dt, (float)(tk_case_rand(rng) & 1 ? x : -x));
    }
}

static void view_fill_i32(view *v, uint64_t *rng, int64_t bound) {
  for (int64_t i = 0; i < v->shape[0]; i++)
    for (int64_t j = 0; j < v->shape[1]; j++)
      *(int32_t *)view_at(v, i, j) = (int32_t)tk_case_randint(rng, bound);
}

static void view_reset(view *v) { memset(v->buf, POISON, v->bytes); }

/* Permute with strided and negatively strided tokens, unaligned or strided
 * permuted rows, strided dest and group_sizes, experts repeated within a
 * token: every config's buffers (gaps included) equal the reference's. */
static void permute_strided(tk_context *ctx, tk_dtype dt, int64_t perm_col_stride) {
  const int64_t T = 70, H = 300, k = 4, E = 8, align = 4, R = T * k + E * (align - 1);
  uint64_t rng = 42;
  view tok, ids, per[2], gs[2], dest[2];
  view_init(&tok, dt, T, H, -(2 * H + 7), 2);
  view_init(&ids, TK_I32, T, k, k + 3, 1);
  view_random(&tok, &rng);
  view_fill_i32(&ids, &rng, E);
  for (int i = 0; i < 2; i++) {
    view_init(&per[i], dt, R, H, H * perm_col_stride + 3, perm_col_stride);
    view_init(&gs[i], TK_I32, 1, E, E, 2); /* then seen as the 1-D [E] with stride 2 */
    gs[i].dl.ndim = 1, gs[i].shape[0] = E, gs[i].stride[0] = 2;
    view_init(&dest[i], TK_I32, T, k, k + 1, 1);
  }
  tk_moe_permute_args a[2];
  for (int i = 0; i < 2; i++)
    a[i] = (tk_moe_permute_args){&tok.dl, &ids.dl, (int)E, (int)align, &per[i].dl, &gs[i].dl,
                                 &dest[i].dl};
  tk_call_options ref = {"reference", NULL};
  CHECK_OK(tk_moe_permute(ctx, &a[0], &ref));
  for (int c = 0; c < N_CONFIGS; c++) {
    char cfg[64];
    config_text(c, cfg, sizeof cfg);
    tk_call_options o = {"cpu", cfg};
    view_reset(&per[1]), view_reset(&gs[1]), view_reset(&dest[1]);
    tk_status st = tk_moe_permute(ctx, &a[1], &o);
    if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) continue;
    CHECK(st == TK_OK, "strided permute %s: %s", cfg, tk_last_error());
    CHECK(memcmp(per[0].buf, per[1].buf, per[0].bytes) == 0,
          "strided permute %s (col stride %lld): permuted differs", cfg,
          (long long)perm_col_stride);
    CHECK(memcmp(gs[0].buf, gs[1].buf, gs[0].bytes) == 0, "strided permute %s: group_sizes differ",
          cfg);
    CHECK(memcmp(dest[0].buf, dest[1].buf, dest[0].bytes) == 0, "strided permute %s: dest differs",
          cfg);
  }
  free(tok.buf), free(ids.buf);
  for (int i = 0; i < 2; i++) free(per[i].buf), free(gs[i].buf), free(dest[i].buf);
}

/* 1 if out's gap bytes (not under an element) still hold POISON. */
static int gaps_intact(const view *v) {
  unsigned char *mine = calloc(v->bytes, 1);
  int64_t es = tk_dtype_size(v->dt);
  for (int64_t i = 0; i < v->shape[0]; i++)
    for (int64_t j = 0; j < v->shape[1]; j++)
      memset(mine + ((char *)view_at(v, i, j) - (char *)v->buf), 1, (size_t)es);
  int ok = 1;
  for (size_t b = 0; b < v->bytes && ok; b++) ok = mine[b] || v->buf[b] == POISON;
  free(mine);
  return ok;
}

/* Unpermute from rows laid out with unaligned row starts (the vector path
 * when k <= 64) and with column strides (element path), strided dest and
 * weights: within tolerance of the reference, gaps untouched, both layouts
 * the same bits. */
static void unpermute_strided(tk_context *ctx, tk_dtype dt, int64_t k) {
  const int64_t T = 45, H = 333, R = 400;
  uint64_t rng = 7;
  view rows[2], out[3], dest, w;
  view_init(&rows[0], dt, R, H, H + 5, 1);
  view_init(&rows[1], dt, R, H, -(3 * H + 1), 3);
  view_random(&rows[0], &rng);
  for (int64_t r = 0; r < R; r++)
    for (int64_t h = 0; h < H; h++)
      memcpy(view_at(&rows[1], r, h), view_at(&rows[0], r, h), (size_t)tk_dtype_size(dt));
  view_init(&dest, TK_I32, T, k, k + 2, 1);
  view_fill_i32(&dest, &rng, R);
  view_init(&w, TK_F32, T, k, 1, T);
  view_random(&w, &rng);
  view_init(&out[0], dt, T, H, H + 1, 1);
  view_init(&out[1], dt, T, H, H + 1, 1);
  view_init(&out[2], dt, T, H, 2 * H, 2);
  tk_call_options ref = {"reference", NULL};
  tk_moe_unpermute_args a = {&rows[0].dl, &dest.dl, &w.dl, &out[0].dl};
  CHECK_OK(tk_moe_unpermute(ctx, &a, &ref));
  double tol = dt == TK_F32 ? 1e-4 : dt == TK_F16 ? 5e-3 : 2e-2;
  for (int c = 0; c < N_CONFIGS; c++) {
    char cfg[64];
    config_text(c, cfg, sizeof cfg);
    tk_call_options o = {"cpu", cfg};
    view_reset(&out[1]), view_reset(&out[2]);
    tk_moe_unpermute_args av = {&rows[0].dl, &dest.dl, &w.dl, &out[1].dl};
    tk_moe_unpermute_args as = {&rows[1].dl, &dest.dl, &w.dl, &out[2].dl};
    tk_status st = tk_moe_unpermute(ctx, &av, &o);
    if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) continue;
    CHECK(st == TK_OK, "strided unpermute %s: %s", cfg, tk_last_error());
    CHECK_OK(tk_moe_unpermute(ctx, &as, &o));
    int close = 1, same = 1;
    for (int64_t t = 0; t < T; t++)
      for (int64_t h = 0; h < H; h++) {
        float e = tk_load_f32(view_at(&out[0], t, h), dt),
              g = tk_load_f32(view_at(&out[1], t, h), dt);
        close &= fabsf(g - e) <= tol * fmaxf(fabsf(e), 1.0f);
        same &=
            memcmp(view_at(&out[1], t, h), view_at(&out[2], t, h), (size_t)tk_dtype_size(dt)) == 0;
      }
    CHECK(close, "strided unpermute %s: outside tolerance of the reference", cfg);
    CHECK(same, "strided unpermute %s: the element path's bits differ from the vector path's", cfg);
    CHECK(gaps_intact(&out[1]) && gaps_intact(&out[2]), "strided unpermute %s: wrote into gaps",
          cfg);
  }
  free(rows[0].buf), free(rows[1].buf), free(dest.buf), free(w.buf);
  for (int i = 0; i < 3; i++) free(out[i].buf);
}

/* Unpermute backward on strided tensors (the element path) and on
 * unaligned unit-stride ones (the vector paths), with a dest whose slots
 * share rows (gather) or not (scatter): d_rows and d_weights within
 * tolerance of the reference, gaps untouched. */
static void unpermute_backward_strided(tk_context *ctx, tk_dtype dt, int shared) {
  const int64_t T = 41, H = 333, R = 300, K = 4;
  uint64_t rng = 11;
  view dout[2], rows[2], drows[3], dest, w, dw[3];
  view_init(&dout[0], dt, T, H, H + 3, 1);
  view_init(&dout[1], dt, T, H, 2 * H + 1, 2);
  view_random(&dout[0], &rng);
  view_init(&rows[0], dt, R, H, H + 5, 1);
  view_init(&rows[1], dt, R, H, -(3 * H + 1), 3);
  view_random(&rows[0], &rng);
  for (int64_t h = 0; h < H; h++) {
    for (int64_t t = 0; t < T; t++)
      memcpy(view_at(&dout[1], t, h), view_at(&dout[0], t, h), (size_t)tk_dtype_size(dt));
    for (int64_t r = 0; r < R; r++)
      memcpy(view_at(&rows[1], r, h), view_at(&rows[0], r, h), (size_t)tk_dtype_size(dt));
  }
  view_init(&dest, TK_I32, T, K, K, 1);
  for (int64_t i = 0; i < T * K; i++) ((int32_t *)dest.buf)[i] = (int32_t)((i * 7 + 3) % R); /* injective */
  if (shared) ((int32_t *)dest.buf)[5] = ((int32_t *)dest.buf)[2];
  view_init(&w, TK_F32, T, K, 1, T);
  view_random(&w, &rng);
  for (int i = 0; i < 3; i++) {
    view_init(&drows[i], dt, R, H, i == 2 ? 2 * H : H + 1, i == 2 ? 2 : 1);
    view_init(&dw[i], TK_F32, T, K, K + 1, 1);
  }
  tk_call_options ref = {"reference", NULL};
  tk_moe_unpermute_backward_args a = {&dout[0].dl, &rows[0].dl, &dest.dl, &w.dl, &drows[0].dl, &dw[0].dl};
  CHECK_OK(tk_moe_unpermute_backward(ctx, &a, &ref));
  const double tol = dt == TK_F32 ? 1e-4 : dt == TK_F16 ? 5e-3 : 2e-2;
  for (int c = 0; c < N_CONFIGS; c++) {
    char cfg[64];
    config_text(c, cfg, sizeof cfg);
    tk_call_options o = {"cpu", cfg};
    for (int v = 1; v < 3; v++) {
      view_reset(&drows[v]), view_reset(&dw[v]);
      tk_moe_unpermute_backward_args b = {&dout[v - 1].dl, &rows[v - 1].dl, &dest.dl,
                                          &w.dl,           &drows[v].dl,    &dw[v].dl};
      tk_status st = tk_moe_unpermute_backward(ctx, &b, &o);
      if (st == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "config: invalid")) break;
      CHECK(st == TK_OK, "unpermute backward %s: %s", cfg, tk_last_error());
      int close = 1;
      for (int64_t r = 0; r < R; r++)
        for (int64_t h = 0; h < H; h++) {
          float e = tk_load_f32(view_at(&drows[0], r, h), dt), g = tk_load_f32(view_at(&drows[v], r, h), dt);
          close &= fabsf(g - e) <= tol * fmaxf(fabsf(e), 1.0f);
        }
      for (int64_t t = 0; t < T; t++)
        for (int64_t s = 0; s < K; s++) {
          float e = *(float *)view_at(&dw[0], t, s), g = *(float *)view_at(&dw[v], t, s);
          close &= fabsf(g - e) <= tol * fmaxf(fabsf(e), (float)sqrt((double)H));
        }
      CHECK(close, "unpermute backward %s (%s, shared %d): outside tolerance", cfg,
            v == 1 ? "vector" : "strided", shared);
      CHECK(gaps_intact(&drows[v]) && gaps_intact(&dw[v]), "unpermute backward %s: wrote into gaps", cfg);
    }
  }
  free(dest.buf), free(w.buf);
  for (int i = 0; i < 2; i++) free(dout[i].buf), free(rows[i].buf);
  for (int i = 0; i < 3; i++) free(drows[i].buf), free(dw[i].buf);
}

int main(void) {
  tk_context_options opts = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&opts, &ctx));
  if (!ctx) TK_TEST_END();
  char why[256];
  tk_case *probe = NULL;
  char err[256];
  CHECK_OK(tk_case_create("moe_permute", 1, &probe, err, sizeof err));
  tk_status st =
      tk_impl_supports(ctx, TK_OP_MOE_PERMUTE, "cpu", tk_case_args(probe), why, sizeof why);
  tk_case_destroy(probe);
  if (st == TK_ERR_UNSUPPORTED) {
    printf("skipped: %s\n", why);
    tk_context_destroy(ctx);
    return 77;
  }
  const char *specs[] = {
      "moe_permute dtype=bf16 T=120 H=1100 k=8 E=512 align=4 empty=400 skew=1",
      "moe_permute dtype=f32 T=70 H=1037 k=2 E=16 align=64 empty=3",
      "moe_permute dtype=f16 T=130 H=2051 k=1 E=4",
      "moe_unpermute dtype=bf16 T=100 H=1100 k=8 E=64 align=4 weights=1",
      "moe_unpermute dtype=f16 T=37 H=2051 k=3 E=8 weights=0",
      "moe_unpermute dtype=f32 T=65 H=1037 k=8 E=32 align=16 weights=1",
  };
  for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) sweep_case(ctx, specs[i], 100 + i);
  permute_strided(ctx, TK_BF16, 1);
  permute_strided(ctx, TK_F32, 2);
  unpermute_strided(ctx, TK_BF16, 8);
  unpermute_strided(ctx, TK_F32, 8);
  unpermute_strided(ctx, TK_F16, 70);
  const char *backward[] = {
      "moe_unpermute_backward dtype=bf16 T=100 H=1100 k=8 E=64 align=4",
      "moe_unpermute_backward dtype=f16 T=37 H=2051 k=3 E=8 weights=0 shared=1",
      "moe_unpermute_backward dtype=f32 T=65 H=1037 k=8 E=32 align=16 dweights=0",
  };
  for (size_t i = 0; i < sizeof backward / sizeof *backward; i++)
    CHECK(tk_test_sweep_configs(ctx, backward[i], 200 + i, N_CONFIGS, config_text, 0) >= N_CONFIGS / 2,
          "%s: too few configs ran", backward[i]);
  unpermute_backward_strided(ctx, TK_BF16, 0);
  unpermute_backward_strided(ctx, TK_F32, 1);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
