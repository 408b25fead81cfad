/* attention_engine.h: what the cpu attention and paged attention share. A
 * *group* is a run of query rows (positions x query heads of one GQA group,
 * row r = position * G + head-in-group) attending to the keys of one (batch
 * or sequence, kv head). The engine packs the group's queries once, walks
 * its visible keys in blocks with an online softmax (running max and sum per
 * row, base-2 logits) and hands each block to a per-instruction-set block
 * kernel (attention_block_avx512.c, attention_block_avx2.c), so every K/V
 * block is loaded once for all the rows of the group. Work is spread over
 * the pool as (group, KV split) tasks; splits are merged in a fixed order. */
#ifndef TK_CPU_ATTENTION_ENGINE_H
#define TK_CPU_ATTENTION_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/tensor.h"
#include "runtime/thread_pool.h"
#include "tokamax.h"

/* Everything fixed for one call. */
typedef struct {
  int64_t D, Dv;
  tk_dtype dtype;   /* of q, k, v and out */
  int isa;          /* 256 (AVX2) or 512 (AVX-512) */
  int lanes;        /* float lanes of a vector: 8 or 16 */
  int bf16_dot;     /* bf16 inputs multiplied with vdpbf16ps (AVX512-BF16) */
  int mr;           /* row vectors per microkernel tile, 1..4 */
  int64_t block_q;  /* rows per group */
  int64_t block_kv; /* keys per block */
  int64_t dq;       /* D, rounded up to even with bf16_dot */
  int nsplit;       /* KV splits per group */
  /* logits in base 2: c_cap == 0: c_logit * dot; else c_cap * tanh(c_logit * dot) */
  float c_logit, c_cap;
} tk_attn_params;

/* One group: its rows, their masks and the keys they read. Key j lives at
 * k + page(j) * k_page + (j % page_size) * k_key (bytes), page(j) being
 * table[(j / page_size) * table_step], or 0 without a table; V alike. */
typedef struct {
  int64_t r0, n, G;                  /* rows r0 .. r0+n-1; G heads per group */
  const char *q;                     /* row (pos, g) at q + pos*q_pos + g*q_head */
  int64_t q_pos, q_head, q_d;        /* bytes */
  char *out;
  int64_t o_pos, o_head, o_d;        /* bytes */
  float *lse;                        /* NULL: not asked for */
  int64_t l_pos, l_head;             /* elements */
  /* key j is seen by position pos when j < n_keys and, with diag = diag0 +
   * pos: causal -> j <= diag; wl >= 0 -> j >= diag - wl; wr >= 0 -> j <= diag + wr */
  int64_t n_keys, diag0, wl, wr;
  int causal;
  const char *k, *v;
  int64_t k_page, k_key, k_d, v_page, v_key, v_d; /* bytes */
  const int32_t *table;              /* NULL: one page */
  int64_t table_step, page_size;
} tk_attn_group;

/* Keys ahead of use whose rows the kernels ask the memory for. */
#define TK_ATTN_PREFETCH_KEYS 8

/* Consecutive keys whose rows are k_key / v_key bytes apart. */
typedef struct {
  const char *k, *v;
  int64_t n;
} tk_attn_seg;

/* A block of nk keys starting at key j0, as segments (split at page ends). */
typedef struct {
  int64_t j0, nk;
  int nseg;
  const tk_attn_seg *seg;
  int64_t k_key, k_d, v_key, v_d;    /* bytes */
} tk_attn_block;

/* Walks the keys of a block in order. */
typedef struct {
  const tk_attn_block *b;
  int seg;
  int64_t j;
} tk_attn_cursor;

/* Sets *k and *v to the rows of the cursor's next key and moves past it;
 * returns 0 (nothing set) after the last key. */
static inline int tk_attn_next_key(tk_attn_cursor *c, const char **k, const char **v) {
  while (c->seg < c->b->nseg && c->j == c->b->seg[c->seg].n) {
    c->seg++;
    c->j = 0;
  }
  if (c->seg >= c->b->nseg) return 0;
  *k = c->b->seg[c->seg].k + c->j * c->b->k_key;
  *v = c->b->seg[c->seg].v + c->j * c->b->v_key;
  c->j++;
  return 1;
}

/* The rows of one operand (K or V) over a key range: spans of consecutive
 * rows `key` bytes apart. */
typedef struct {
  const char *p;
  int64_t n;
} tk_attn_span;
typedef struct {
  int n;
  const tk_attn_span *s;
  int64_t key;
} tk_attn_view;

/* Cache lines the kernels ask for while they compute (the next block's K
 * and V rows when a group has too few rows to be compute-bound): one
 * prefetch per inner iteration of the one-vector tiles. */
typedef struct {
  const char **line;
  int64_t n, i;
} tk_attn_pf;

/* Issues the next prefetch of pf, if any is left. */
static inline void tk_attn_pf_step(tk_attn_pf *pf) {
  if (pf->i < pf->n) __builtin_prefetch(pf->line[pf->i++], 0, 3);
}

/* A worker's running state for one group, and its block scratch. The
 * accumulator, m and l form one *slot*: [Dv][pad] floats, then m[pad],
 * l[pad]; split tasks leave their slot for the merge. */
typedef struct {
  int64_t n, pad;         /* rows; rows rounded up to lanes (row stride) */
  void *qt;               /* queries by column: f32 [dq][pad], or bf16 pairs [dq/2][pad] */
  float *acc, *m, *l;     /* output accumulator [Dv][pad]; max (base 2) and sum per row */
  int32_t *lo, *hi;       /* [pad] first and last key each row sees (none: INT32_MAX, INT32_MIN) */
  int32_t (*tile)[4];     /* per tile of mr*lanes rows: min lo, max lo, min hi, max hi */
  float *st;              /* [block_kv][mr*lanes] logits, then probabilities */
  uint32_t *pp;           /* [block_kv/2 + 1][mr*lanes] bf16 probability pairs */
  void *kp, *vp;          /* packed K [block_kv][dq] and V [block_kv + 1][Dv] */
  tk_attn_span *kspan, *vspan; /* [block_kv + 1] each */
  tk_attn_pf pf;          /* room for the lines of one block */
} tk_attn_state;

/* Block kernels: fold block b into the state of every row tile that sees
 * any of its keys. */
void tk_attn_block_avx512(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b);
void tk_attn_block_avx2(const tk_attn_params *p, tk_attn_state *s, const tk_attn_block *b);

/* The K (which = 0) or V (which = 1) rows of keys [kb, ke) of block b
 * (offsets into the block), written to spans (room for b->nseg). */
tk_attn_view tk_attn_view_of(const tk_attn_block *b, int which, int64_t kb, int64_t ke,
                             tk_attn_span *spans);

/* Fills params for a call: tile and block sizes from the config, the logit
 * constants from scale and softcap. */
void tk_attn_params_init(tk_attn_params *p, int64_t D, int64_t Dv, tk_dtype dtype, int isa,
                         int64_t block_q, int64_t block_kv, int mr, int nsplit, float scale,
                         float softcap);

/* Fills *g for group i; returns 0 when group i has no rows. */
typedef int (*tk_attn_group_fn)(const void *ctx, int64_t i, tk_attn_group *g);

/* Computes n_groups groups over the pool: out (and lse) of every row of
 * every group. op names the operation in an out-of-memory error. */
tk_status tk_attn_run(const tk_attn_params *p, int64_t n_groups, tk_attn_group_fn fn,
                      const void *ctx, tk_pool *pool, const char *op);

#endif
