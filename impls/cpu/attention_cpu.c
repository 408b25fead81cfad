/* attention_cpu.c: the cpu attention: one group per (batch, kv head, block
 * of block_q query rows), the latest rows first (under a causal mask they
 * see the most keys, so the pool balances better). */
#include "impls/cpu/attention_cpu.h"

#include <stdint.h>
#include <stdio.h>

#include "impls/cpu/attention_engine.h"
#include "runtime/device.h"

int tk_cpu_attn_isa_ok(int isa, char *why, size_t why_len) {
  if (tk_isa_has(tk_cpu_isa(), isa == 512 ? TK_ISA_LEVEL_AVX512 : TK_ISA_LEVEL_AVX2)) return 1;
  snprintf(why, why_len, "isa=%d needs %s, which this CPU lacks or TOKAMAX_CPU_ISA caps", isa,
           isa == 512 ? "AVX-512 F/BW/VL" : "AVX2, FMA and F16C");
  return 0;
}

typedef struct {
  const tk_attention_problem *p;
  int64_t G, block_q, row_blocks; /* row blocks per (batch, kv head) */
} attention_ctx;

/* Group i: row block (row_blocks - 1 - i / (B * Hkv)) of (batch, kv head)
 * i % (B * Hkv). */
static int attention_group(const void *arg, int64_t i, tk_attn_group *g) {
  const attention_ctx *c = arg;
  const tk_attention_problem *p = c->p;
  int64_t bh = i % (p->B * p->Hkv), rb = c->row_blocks - 1 - i / (p->B * p->Hkv);
  int64_t b = bh / p->Hkv, hkv = bh % p->Hkv;
  int64_t tq = p->q_lens.present ? tk_load_i32(&p->q_lens, b, 0) : p->Tq;
  int64_t tk = p->kv_lens.present ? tk_load_i32(&p->kv_lens, b, 0) : p->Tk;
  int64_t r0 = rb * c->block_q;
  if (r0 >= tq * c->G) return 0;
  int64_t es = tk_dtype_size(p->q.dtype);
  *g = (tk_attn_group){0};
  g->r0 = r0;
  g->n = tq * c->G - r0 < c->block_q ? tq * c->G - r0 : c->block_q;
  g->G = c->G;
  g->q = tk_at(&p->q, b, 0, hkv * c->G, 0);
  g->q_pos = p->q.stride[1] * es;
  g->q_head = p->q.stride[2] * es;
  g->q_d = p->q.stride[3] * es;
  g->out = tk_at(&p->out, b, 0, hkv * c->G, 0);
  g->o_pos = p->out.stride[1] * es;
  g->o_head = p->out.stride[2] * es;
  g->o_d = p->out.stride[3] * es;
  if (p->lse.present) {
    g->lse = tk_at(&p->lse, b, hkv * c->G, 0, 0);
    g->l_pos = p->lse.stride[2];
    g->l_head = p->lse.stride[1];
  }
  g->n_keys = tk;
  g->diag0 = tk - tq;
  g->wl = p->window_left;
  g->wr = p->window_right;
  g->causal = p->causal;
  g->k = tk_at(&p->k, b, 0, hkv, 0);
  g->v = tk_at(&p->v, b, 0, hkv, 0);
  g->k_key = p->k.stride[1] * es;
  g->k_d = p->k.stride[3] * es;
  g->v_key = p->v.stride[1] * es;
  g->v_d = p->v.stride[3] * es;
  g->page_size = INT64_MAX;
  return 1;
}

tk_status tk_cpu_attention(const tk_attention_problem *p, const tk_cpu_attn_config *c,
                           tk_pool *pool) {
  tk_attn_params prm;
  tk_attn_params_init(&prm, p->D, p->Dv, p->q.dtype, c->isa, c->block_q, c->block_kv, c->mr,
                      c->kv_split, p->scale, p->softcap);
  attention_ctx ctx = {p, p->Hq / p->Hkv, c->block_q, 0};
  ctx.row_blocks = (p->Tq * ctx.G + c->block_q - 1) / c->block_q;
  return tk_attn_run(&prm, p->B * p->Hkv * ctx.row_blocks, attention_group, &ctx, pool,
                     "attention");
}
