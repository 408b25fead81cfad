/* baseline_onednn.c: the bf16 grouped GEMM baseline: one oneDNN matmul
 * primitive execution per group. Primitives (one per distinct group size)
 * and memory objects are made in setup, outside the timed call. Built only
 * against oneDNN when CMake found it (TK_HAVE_ONEDNN); otherwise the row
 * declines with that reason. */
#include <stdio.h>
#include <stdlib.h>

#include "autotune/measure.h"
#include "bench/gemm_view.h"
#include "bench/tokamax_bench.h"

#if TK_HAVE_ONEDNN
#include <dnnl.h>

typedef struct {
  tk_gemm_view v;
  dnnl_engine_t engine;
  dnnl_stream_t stream;
  dnnl_primitive_t *prim;  /* per group (NULL for an empty one); shared by equal sizes */
  dnnl_memory_t *mem;      /* per group: src, weights, dst */
} onednn_state;

#define CHECK(call, what)                                                          \
  do {                                                                             \
    dnnl_status_t st_ = (call);                                                    \
    if (st_ != dnnl_success) {                                                     \
      snprintf(why, why_len, "oneDNN: %s failed (dnnl_status %d)", what, (int)st_); \
      return 0;                                                                    \
    }                                                                              \
  } while (0)

/* Destroys every primitive (once, shared ones included), memory object,
 * stream and engine of s, then s. */
static void state_free(onednn_state *s) {
  if (!s) return;
  for (int64_t g = 0; s->prim && g < s->v.G; g++) {
    int shared = 0;
    for (int64_t h = 0; h < g && !shared; h++) shared = s->prim[h] == s->prim[g];
    if (s->prim[g] && !shared) dnnl_primitive_destroy(s->prim[g]);
  }
  for (int64_t i = 0; s->mem && i < 3 * s->v.G; i++)
    if (s->mem[i]) dnnl_memory_destroy(s->mem[i]);
  if (s->stream) dnnl_stream_destroy(s->stream);
  if (s->engine) dnnl_engine_destroy(s->engine);
  free(s->prim);
  free(s->mem);
  free(s);
}

/* Memory descriptors of group g with m rows: src, weights, dst (matmul
 * src [rows, k] x weights [k, N] -> dst [rows, N]) over the view's strides. */
static int group_descs(const tk_gemm_view *v, int64_t m, dnnl_memory_desc_t md[3], char *why,
                       size_t why_len) {
  dnnl_data_type_t in = dnnl_bf16, out = tk_dtype_is(v->out_dt, kDLFloat, 32) ? dnnl_f32 : dnnl_bf16;
  int64_t K = v->K, N = v->N;
  switch (v->layout) {
    case TK_GG_NN:
    case TK_GG_NT: {
      dnnl_dims_t sd = {m, K}, ss = {v->lda, 1}, wd = {K, N}, dd = {m, N}, ds = {v->ldc, 1};
      dnnl_dims_t wnn = {v->ldb, 1}, wnt = {1, v->ldb};
      CHECK(dnnl_memory_desc_init_by_strides(&md[0], 2, sd, in, ss), "src descriptor");
      CHECK(dnnl_memory_desc_init_by_strides(&md[1], 2, wd, in, v->layout == TK_GG_NN ? wnn : wnt),
            "weights descriptor");
      CHECK(dnnl_memory_desc_init_by_strides(&md[2], 2, dd, out, ds), "dst descriptor");
      return 1;
    }
    case TK_GG_TN: {
      dnnl_dims_t sd = {K, m}, ss = {1, v->lda}, wd = {m, N}, ws = {v->ldb, 1}, dd = {K, N},
                  ds = {v->ldc, 1};
      CHECK(dnnl_memory_desc_init_by_strides(&md[0], 2, sd, in, ss), "src descriptor");
      CHECK(dnnl_memory_desc_init_by_strides(&md[1], 2, wd, in, ws), "weights descriptor");
      CHECK(dnnl_memory_desc_init_by_strides(&md[2], 2, dd, out, ds), "dst descriptor");
      return 1;
    }
  }
  snprintf(why, why_len, "unknown layout");
  return 0;
}

/* Creates the matmul primitive for descriptors md; records its
 * implementation's name in impl_name. */
static int make_primitive(onednn_state *s, const dnnl_memory_desc_t md[3], dnnl_primitive_t *out,
                          char *impl_name, size_t impl_len, char *why, size_t why_len) {
  dnnl_matmul_desc_t desc;
  dnnl_primitive_desc_t pd;
  CHECK(dnnl_matmul_desc_init(&desc, &md[0], &md[1], NULL, &md[2]), "matmul descriptor");
  dnnl_status_t made = dnnl_primitive_desc_create(&pd, &desc, NULL, s->engine, NULL);
  if (made == dnnl_unimplemented) {
    /* e.g. bf16 on a CPU without AVX-512: oneDNN 2.x has no kernel for it */
    snprintf(why, why_len, "oneDNN implements no matmul of this dtype on this CPU");
    return 0;
  }
  CHECK(made, "matmul primitive descriptor");
  const char *name = NULL;
  if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) == dnnl_success && name)
    snprintf(impl_name, impl_len, "%s", name);
  dnnl_status_t st = dnnl_primitive_create(out, pd);
  dnnl_primitive_desc_destroy(pd);
  CHECK(st, "matmul primitive");
  return 1;
}

/* Builds primitives and memory objects of every group. */
static int build(onednn_state *s, tk_row *r, char *why, size_t why_len) {
  const tk_gemm_view *v = &s->v;
  size_t es = 2, os = tk_dtype_is(v->out_dt, kDLFloat, 32) ? 4 : 2;
  CHECK(dnnl_engine_create(&s->engine, dnnl_cpu, 0), "engine");
  CHECK(dnnl_stream_create(&s->stream, s->engine, dnnl_stream_default_flags), "stream");
  int64_t row = 0;
  for (int64_t g = 0; g < v->G; g++) {
    int64_t m = v->sizes[g];
    if (m > 0) {
      dnnl_memory_desc_t md[3];
      if (!group_descs(v, m, md, why, why_len)) return 0;
      for (int64_t h = 0; h < g && !s->prim[g]; h++)
        if (v->sizes[h] == m) s->prim[g] = s->prim[h];
      if (!s->prim[g] && !make_primitive(s, md, &s->prim[g], r->ran, sizeof r->ran, why, why_len))
        return 0;
      int tn = v->layout == TK_GG_TN;
      void *ptr[3] = {(void *)(v->lhs + (size_t)(row * v->lda) * es),
                      (void *)(v->rhs + (size_t)(tn ? row * v->ldb : g * v->rhs_group) * es),
                      v->out + (size_t)(tn ? g * v->out_group : row * v->ldc) * os};
      for (int i = 0; i < 3; i++)
        CHECK(dnnl_memory_create(&s->mem[3 * g + i], &md[i], s->engine, ptr[i]), "memory object");
    }
    row += m;
  }
  return 1;
}

int tk_onednn_row_setup(tk_row *r, char *why, size_t why_len) {
  const tk_grouped_gemm_args *a = r->args;
  onednn_state *s = calloc(1, sizeof *s);
  if (!s) {
    snprintf(why, why_len, "out of memory");
    return 1;
  }
  if (!tk_gemm_view_of(a, &s->v, why, why_len)) {
    free(s);
    return 1;
  }
  if (!tk_dtype_is(s->v.in, kDLBfloat, 16)) {
    snprintf(why, why_len, "the oneDNN baseline is for bf16 inputs");
    free(s);
    return 1;
  }
  s->prim = calloc((size_t)s->v.G, sizeof *s->prim);
  s->mem = calloc((size_t)(3 * s->v.G), sizeof *s->mem);
  if (!s->prim || !s->mem) {
    snprintf(why, why_len, "out of memory");
    state_free(s);
    return 1;
  }
  if (!build(s, r, why, why_len)) {
    state_free(s);
    return 1;
  }
  r->state = s;
  return 0;
}

double tk_onednn_row_run(tk_row *r, char *why, size_t why_len) {
  onednn_state *s = r->state;
  double t = 1e-9 * tk_now_ns();
  for (int64_t g = 0; g < s->v.G; g++) {
    if (!s->prim[g]) {
      if (s->v.layout == TK_GG_TN) tk_gemm_zero_group(&s->v, g);
      continue;
    }
    dnnl_exec_arg_t args[3] = {{DNNL_ARG_SRC, s->mem[3 * g]},
                               {DNNL_ARG_WEIGHTS, s->mem[3 * g + 1]},
                               {DNNL_ARG_DST, s->mem[3 * g + 2]}};
    dnnl_status_t st = dnnl_primitive_execute(s->prim[g], s->stream, 3, args);
    if (st != dnnl_success) {
      snprintf(why, why_len, "oneDNN: matmul of group %lld failed (dnnl_status %d)", (long long)g, (int)st);
      return -1;
    }
  }
  dnnl_stream_wait(s->stream);
  return 1e-9 * tk_now_ns() - t;
}

void tk_onednn_row_teardown(tk_row *r) {
  state_free(r->state);
  r->state = NULL;
}

void tk_onednn_describe(char *buf, size_t len) {
  const dnnl_version_t *v = dnnl_version();
  snprintf(buf, len, "oneDNN: %d.%d.%d (%s), CPU runtime %s", v->major, v->minor, v->patch,
           v->hash ? v->hash : "", v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other");
}

#else

int tk_onednn_row_setup(tk_row *r, char *why, size_t why_len) {
  (void)r;
  snprintf(why, why_len, "oneDNN was not found when tokamax-bench was built");
  return 1;
}

double tk_onednn_row_run(tk_row *r, char *why, size_t why_len) {
  (void)r;
  snprintf(why, why_len, "oneDNN was not found when tokamax-bench was built");
  return -1;
}

void tk_onednn_row_teardown(tk_row *r) { (void)r; }

void tk_onednn_describe(char *buf, size_t len) {
  snprintf(buf, len, "oneDNN: not found at build time (install libdnnl-dev)");
}

#endif
