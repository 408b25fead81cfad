/* attention_backward_cpu.c: the cpu attention backward's driver: the call's
 * parameters, one task per (batch, kv head, split) run by the task kernel of
 * the config's instruction set (attention_backward_engine.h), then dQ as
 * the sum of the splits' partials in split order. */
#include "impls/cpu/attention_backward_cpu.h"

#include <stdlib.h>
#include <string.h>

#include "impls/cpu/attention_backward_engine.h"
#include "runtime/checked.h"
#include "runtime/device.h"
#include "runtime/half.h"
#include "runtime/status.h"

typedef struct {
  const tk_attention_backward_problem *p;
  tk_abw_params prm;
  int isa;
  int64_t nsplit, keys_per_split, rows; /* rows: Tq * G, the partials' row count */
  float *dq;                            /* [nsplit][B][Hkv][rows][Dp] */
  char *scratch;                        /* per worker */
  size_t scratch_bytes;
} bwd_call;

/* The splits of the keys: at least one, at most one per key block, each a
 * whole number of key blocks. */
static void plan_splits(const tk_attention_backward_problem *p, const tk_cpu_attn_bwd_config *c,
                        int64_t *nsplit, int64_t *keys_per_split) {
  const int64_t blocks = (p->fwd.Tk + c->block_kv - 1) / c->block_kv;
  int64_t n = c->kv_split < blocks ? c->kv_split : blocks;
  if (n < 1) n = 1;
  *keys_per_split = (blocks + n - 1) / n * c->block_kv;
  *nsplit = n;
}

/* The partial of split s for (b, hkv); NULL when there are none (D or Tq
 * is 0). */
static float *partial(const bwd_call *c, int64_t s, int64_t b, int64_t hkv) {
  const tk_attention_problem *f = &c->p->fwd;
  if (!c->dq) return NULL;
  return c->dq + ((s * f->B + b) * f->Hkv + hkv) * c->rows * c->prm.Dp;
}

/* Task (b, hkv, s). */
static void run_task(void *arg, int64_t i, int worker) {
  const bwd_call *c = arg;
  const tk_attention_backward_problem *p = c->p;
  const tk_attention_problem *f = &p->fwd;
  const int64_t s = i % c->nsplit, bh = i / c->nsplit, b = bh / f->Hkv, hkv = bh % f->Hkv;
  const int64_t G = f->Hq / f->Hkv, es = tk_dtype_size(f->q.dtype);
  const int64_t tq = f->q_lens.present ? tk_load_i32(&f->q_lens, b, 0) : f->Tq;
  const int64_t tk = f->kv_lens.present ? tk_load_i32(&f->kv_lens, b, 0) : f->Tk;
  const int64_t kb0 = s * c->keys_per_split;
  const int64_t kb1 = kb0 + c->keys_per_split < f->Tk ? kb0 + c->keys_per_split : f->Tk;
  if (kb0 >= kb1) return;
  const int64_t gk = tk_dtype_size(p->dk.dtype), gv = tk_dtype_size(p->dv.dtype);
  tk_abw_task t = {
      .q = tk_at(&f->q, b, 0, hkv * G, 0),
      .q_pos = f->q.stride[1] * es, .q_head = f->q.stride[2] * es, .q_d = f->q.stride[3] * es,
      .dout = tk_at(&p->dout, b, 0, hkv * G, 0),
      .o_pos = p->dout.stride[1] * es, .o_head = p->dout.stride[2] * es, .o_d = p->dout.stride[3] * es,
      .out = tk_at(&f->out, b, 0, hkv * G, 0),
      .f_pos = f->out.stride[1] * es, .f_head = f->out.stride[2] * es, .f_d = f->out.stride[3] * es,
      .k = tk_at(&f->k, b, 0, hkv, 0),
      .k_key = f->k.stride[1] * es, .k_d = f->k.stride[3] * es,
      .v = tk_at(&f->v, b, 0, hkv, 0),
      .v_key = f->v.stride[1] * es, .v_d = f->v.stride[3] * es,
      .lse = (const float *)tk_at(&f->lse, b, hkv * G, 0, 0),
      .l_pos = f->lse.stride[2], .l_head = f->lse.stride[1],
      .G = G, .rows = tq * G, .tq = tq, .tk = tk,
      .causal = f->causal, .wl = f->window_left, .wr = f->window_right,
      .kb0 = kb0, .kb1 = kb1,
      .dq = partial(c, s, b, hkv),
      .dk = tk_at(&p->dk, b, 0, hkv, 0),
      .dk_key = p->dk.stride[1] * gk, .dk_d = p->dk.stride[3] * gk, .dk_dtype = p->dk.dtype,
      .dv = tk_at(&p->dv, b, 0, hkv, 0),
      .dv_key = p->dv.stride[1] * gv, .dv_d = p->dv.stride[3] * gv, .dv_dtype = p->dv.dtype};
  void *scratch = c->scratch + (size_t)worker * c->scratch_bytes;
  if (c->isa == 512) tk_abw_task_avx512(&c->prm, &t, scratch);
  else tk_abw_task_avx2(&c->prm, &t, scratch);
}

/* dq rows of (b, hkv) as the sum of the partials, split by split. */
static void reduce_task(void *arg, int64_t bh, int worker) {
  (void)worker;
  const bwd_call *c = arg;
  const tk_attention_backward_problem *p = c->p;
  const tk_attention_problem *f = &p->fwd;
  const int64_t b = bh / f->Hkv, hkv = bh % f->Hkv, G = f->Hq / f->Hkv, Dp = c->prm.Dp;
  const int64_t tq = f->q_lens.present ? tk_load_i32(&f->q_lens, b, 0) : f->Tq;
  for (int64_t r = 0; r < tq * G; r++) {
    float *sum = partial(c, 0, b, hkv) + r * Dp;
    for (int64_t s = 1; s < c->nsplit; s++) {
      const float *x = partial(c, s, b, hkv) + r * Dp;
      for (int64_t d = 0; d < f->D; d++) sum[d] += x[d];
    }
    for (int64_t d = 0; d < f->D; d++)
      tk_store_f32(tk_at(&p->dq, b, r / G, hkv * G + r % G, d), p->dq.dtype, sum[d]);
  }
}

/* The call's fixed parameters. */
static tk_abw_params params_of(const tk_attention_backward_problem *p,
                               const tk_cpu_attn_bwd_config *c) {
  const tk_attention_problem *f = &p->fwd;
  const int bf16 = c->isa == 512 && f->q.dtype == TK_BF16 && (tk_cpu_isa() & TK_ISA_AVX512_BF16);
  const int64_t pitch = bf16 ? 32 : 16; /* bf16: whole 16-word vectors of pairs */
  tk_abw_params prm = {.D = f->D,
                       .Dv = f->Dv,
                       .Dp = (f->D + pitch - 1) / pitch * pitch,
                       .Dvp = (f->Dv + pitch - 1) / pitch * pitch,
                       .bq = c->block_q,
                       .bk = c->block_kv,
                       .dtype = f->q.dtype,
                       .bf16_dot = bf16,
                       .scale = f->scale,
                       .softcap = f->softcap};
  return prm;
}

size_t tk_cpu_attention_backward_workspace(const tk_attention_backward_problem *p,
                                           const tk_cpu_attn_bwd_config *c) {
  const tk_attention_problem *f = &p->fwd;
  int64_t nsplit, keys;
  plan_splits(p, c, &nsplit, &keys);
  const tk_abw_params prm = params_of(p, c);
  int64_t n;
  size_t bytes;
  const int fits = tk_mul_fits(nsplit, f->B, &n) && tk_mul_fits(n, f->Hq, &n) &&
                   tk_mul_fits(n, f->Tq, &n) && tk_mul_fits(n, prm.Dp, &n) &&
                   tk_array_bytes_fit(n, sizeof(float), &bytes);
  return fits ? bytes : SIZE_MAX;
}

tk_status tk_cpu_attention_backward(const tk_attention_backward_problem *p,
                                    const tk_cpu_attn_bwd_config *cfg, tk_pool *pool, void *ws) {
  const tk_attention_problem *f = &p->fwd;
  bwd_call c = {.p = p, .prm = params_of(p, cfg), .isa = cfg->isa, .rows = f->Tq * (f->Hq / f->Hkv),
                .dq = ws};
  plan_splits(p, cfg, &c.nsplit, &c.keys_per_split);
  const int64_t groups = f->B * f->Hkv;
  if (groups == 0) return TK_OK; /* nothing to write (the extents may be huge) */
  const int workers = pool ? tk_pool_size(pool) : 1;
  c.scratch_bytes = tk_abw_layout_of(&c.prm, c.rows).bytes;
  c.scratch = aligned_alloc(64, c.scratch_bytes * (size_t)workers);
  if (!c.scratch)
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "attention_backward (cpu): no memory for %zu bytes of scratch",
                   c.scratch_bytes * (size_t)workers);
  const size_t dq_bytes = tk_cpu_attention_backward_workspace(p, cfg);
  if (dq_bytes) memset(c.dq, 0, dq_bytes); /* no partials (and no workspace) when D or Tq is 0 */
  if (pool) {
    tk_pool_run(pool, groups * c.nsplit, run_task, &c);
    tk_pool_run(pool, groups, reduce_task, &c);
  } else {
    for (int64_t i = 0; i < groups * c.nsplit; i++) run_task(&c, i, 0);
    for (int64_t i = 0; i < groups; i++) reduce_task(&c, i, 0);
  }
  free(c.scratch);
  return TK_OK;
}
