/* paged_attention_cpu.c: the cpu paged attention. Decode-like calls and
 * 8-bit caches go to the decode kernel (paged_decode.c); others to the
 * attention engine: one group per (sequence, kv head, block of block_q
 * query rows) holding every query head of the GQA group, so each K/V page
 * is read once for all of them; its keys are read in place through the
 * block table. Groups run longest first. */
#include <stdint.h>
#include <stdlib.h>

#include "impls/cpu/attention_cpu.h"
#include "impls/cpu/attention_engine.h"
#include "impls/cpu/paged_cpu.h"
#include "runtime/status.h"

/* A row block of one sequence, with the work it carries. */
typedef struct {
  int64_t seq, rb, cost;
} row_block;

typedef struct {
  const tk_paged_attention_problem *p;
  int64_t G, block_q;
  const row_block *blocks;
} paged_ctx;

/* Longest first; equal costs in sequence order. */
static int by_cost(const void *a, const void *b) {
  const row_block *x = a, *y = b;
  if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  return x->rb < y->rb ? -1 : x->rb > y->rb;
}

/* Queries of sequence s: first row and count. */
static void seq_queries(const tk_paged_attention_problem *p, int64_t s, int64_t *first,
                        int64_t *len) {
  *first = s;
  *len = 1;
  if (p->cu_q_lens.present) {
    *first = tk_load_i32(&p->cu_q_lens, s, 0);
    *len = tk_load_i32(&p->cu_q_lens, s + 1, 0) - *first;
  }
}

/* Group i: kv head i % Hkv of row block i / Hkv. */
static int paged_group(const void *arg, int64_t i, tk_attn_group *g) {
  const paged_ctx *c = arg;
  const tk_paged_attention_problem *p = c->p;
  const row_block *blk = &c->blocks[i / p->Hkv];
  int64_t hkv = i % p->Hkv, s = blk->seq, first, q_len;
  seq_queries(p, s, &first, &q_len);
  int64_t kv_len = tk_load_i32(&p->kv_lens, s, 0), es = tk_dtype_size(p->q.dtype);
  *g = (tk_attn_group){0};
  g->r0 = blk->rb * c->block_q;
  g->n = q_len * c->G - g->r0 < c->block_q ? q_len * c->G - g->r0 : c->block_q;
  g->G = c->G;
  g->q = tk_at(&p->q, first, hkv * c->G, 0, 0);
  g->q_pos = p->q.stride[0] * es;
  g->q_head = p->q.stride[1] * es;
  g->q_d = p->q.stride[2] * es;
  g->out = tk_at(&p->out, first, hkv * c->G, 0, 0);
  g->o_pos = p->out.stride[0] * es;
  g->o_head = p->out.stride[1] * es;
  g->o_d = p->out.stride[2] * es;
  g->n_keys = kv_len;
  g->diag0 = kv_len - q_len;
  g->wl = p->window_left;
  g->wr = -1;
  g->causal = 1;
  g->k = tk_at(&p->k_cache, 0, 0, hkv, 0);
  g->v = tk_at(&p->v_cache, 0, 0, hkv, 0);
  g->k_page = p->k_cache.stride[0] * es;
  g->k_key = p->k_cache.stride[1] * es;
  g->k_d = p->k_cache.stride[3] * es;
  g->v_page = p->v_cache.stride[0] * es;
  g->v_key = p->v_cache.stride[1] * es;
  g->v_d = p->v_cache.stride[3] * es;
  g->table = tk_at(&p->block_table, s, 0, 0, 0);
  g->table_step = p->block_table.stride[1];
  g->page_size = p->page_size;
  return 1;
}

int tk_cpu_paged_takes_decode(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c) {
  return p->k_scale.present ||
         (c->decode && (!p->cu_q_lens.present || p->Tq_total <= TK_PAGED_DECODE_MAX_Q * p->S));
}

int tk_cpu_paged_decode_converts(const tk_paged_attention_problem *p) {
  return tk_dtype_size(p->k_cache.dtype) >= 2 && p->Hkv > 0 && p->Hq / p->Hkv >= 4;
}

tk_status tk_cpu_paged_attention(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c,
                                 tk_pool *pool) {
  if (tk_cpu_paged_takes_decode(p, c)) return tk_cpu_paged_decode(p, c, pool);
  int64_t G = p->Hq / p->Hkv, count = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len;
    seq_queries(p, s, &first, &len);
    count += (len * G + c->block_q - 1) / c->block_q;
  }
  row_block *blocks = malloc(sizeof(row_block) * (size_t)(count + 1));
  if (!blocks) return tk_fail(TK_ERR_OUT_OF_MEMORY, "paged_attention (cpu): no memory for tasks");
  int64_t n = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len, kv_len = tk_load_i32(&p->kv_lens, s, 0);
    seq_queries(p, s, &first, &len);
    for (int64_t r0 = 0; r0 < len * G; r0 += c->block_q) {
      int64_t rows = len * G - r0 < c->block_q ? len * G - r0 : c->block_q;
      blocks[n++] = (row_block){s, r0 / c->block_q, rows * kv_len};
    }
  }
  qsort(blocks, (size_t)n, sizeof *blocks, by_cost);
  tk_attn_params prm;
  tk_attn_params_init(&prm, p->D, p->Dv, p->q.dtype, c->isa, c->block_q, c->block_kv, c->mr,
                      c->kv_split, p->scale, p->softcap);
  paged_ctx ctx = {p, G, c->block_q, blocks};
  tk_status st = tk_attn_run(&prm, n * p->Hkv, paged_group, &ctx, pool, "paged_attention");
  free(blocks);
  return st;
}
