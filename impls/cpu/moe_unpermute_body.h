/* moe_unpermute_body.h: the cpu unpermute's weighted gather-reduce of whole
 * tokens, written once for any float vector width. Per output block,
 * float32 accumulators start at 0 and take one fused multiply-add per slot,
 * in slot order, so every width gives the same bits.
 *
 * Include from an ISA file after defining:
 *   LANES                  floats per vector
 *   vec                    the vector type
 *   VZERO() VSET1(x) VFMA(a, b, c)
 *   VLOAD(p, d) VLOAD_N(p, d, n)           LANES / the first n elements at p
 *   VSTORE(p, d, v) VSTORE_N(p, d, v, n)
 *   VSTREAM(p, d, v)       non-temporal store of LANES elements (p aligned
 *                          to LANES elements)
 *   REDUCE_TOKENS          the name of the function to define
 */
#include "impls/cpu/inline.h"
#include "impls/cpu/moe_cpu.h"

/* Vectors per block of the main loop. */
enum { BLOCK_VECS = 8 };

/* A token's k row starts and router weights. */
typedef struct {
  const char *row[TK_MOE_MAX_SLOTS];
  float w[TK_MOE_MAX_SLOTS];
} token_slots;

/* Fills *ts for token t (k <= TK_MOE_MAX_SLOTS); weight 1 without weights. */
TK_INLINE void load_slots(const tk_moe_unpermute_problem *p, int64_t t, token_slots *ts) {
  for (int64_t s = 0; s < p->k; s++) {
    ts->row[s] = (const char *)tk_at(&p->rows, tk_load_i32(&p->dest, t, s), 0, 0, 0);
    ts->w[s] = p->weights.present ? *(const float *)tk_at(&p->weights, t, s, 0, 0) : 1.0f;
  }
}

/* Out elements [h, h + LANES * nv) of the token (nv constant after
 * inlining). */
TK_INLINE void reduce_block(const token_slots *ts, int64_t k, tk_dtype d, int64_t h, int nv,
                            char *out, int stream) {
  const int64_t es = tk_dtype_size(d);
  vec acc[BLOCK_VECS];
  for (int i = 0; i < nv; i++) acc[i] = VZERO();
  for (int64_t s = 0; s < k; s++) {
    const char *src = ts->row[s] + h * es;
    vec w = VSET1(ts->w[s]);
    for (int i = 0; i < nv; i++) acc[i] = VFMA(w, VLOAD(src + i * LANES * es, d), acc[i]);
  }
  for (int i = 0; i < nv; i++) {
    if (stream)
      VSTREAM(out + (h + i * LANES) * es, d, acc[i]);
    else
      VSTORE(out + (h + i * LANES) * es, d, acc[i]);
  }
}

/* Out elements [h, h + n) of the token, n <= LANES. */
TK_INLINE void reduce_partial(const token_slots *ts, int64_t k, tk_dtype d, int64_t h, int64_t n,
                              char *out) {
  const int64_t es = tk_dtype_size(d);
  vec acc = VZERO();
  for (int64_t s = 0; s < k; s++)
    acc = VFMA(VSET1(ts->w[s]), VLOAD_N(ts->row[s] + h * es, d, n), acc);
  VSTORE_N(out + h * es, d, acc, n);
}

/* Prefetches into L1, for the block of n elements at column h, the same
 * block `ahead` bytes further along the token's rows, continuing into the
 * next token's rows (next may be NULL). */
TK_INLINE void prefetch_ahead(const token_slots *cur, const token_slots *next, int64_t k, int64_t H,
                              int64_t es, int64_t ahead, int64_t h, int64_t n) {
  int64_t at = h + ahead / es;
  const token_slots *ts = cur;
  if (at >= H) {
    at -= H;
    ts = next;
    if (!ts || at >= H) return;
  }
  for (int64_t s = 0; s < k; s++)
    for (int64_t b = 0; b < n * es; b += 64) _mm_prefetch(ts->row[s] + at * es + b, _MM_HINT_T0);
}

/* Token t: a head up to out's 64-byte boundary when streaming, blocks (each
 * prefetching further along the rows), single vectors, a tail. */
TK_INLINE void reduce_token(const tk_moe_unpermute_problem *p, tk_dtype d, int64_t t,
                            const token_slots *cur, const token_slots *next, int stream) {
  const int64_t es = tk_dtype_size(d), H = p->H, k = p->k;
  /* 16 KiB / k per row, 1 to 8 KiB: enough lines in flight for k streams;
   * for k = 8 that is 2 KiB, not the 4 KiB that would put the prefetched
   * lines in the L1 sets of the lines being read (rows of 4 KiB multiples
   * share sets at equal columns) */
  int64_t ahead = k > 2 ? 16384 / k : 8192;
  if (ahead < 1024) ahead = 1024;
  char *out = tk_at(&p->out, t, 0, 0, 0);
  int64_t h = 0;
  if (stream) {
    int64_t head = (int64_t)((64 - ((uintptr_t)out & 63)) & 63) / es;
    if (head > H) head = H;
    for (; h < head; h += LANES)
      reduce_partial(cur, k, d, h, head - h < LANES ? head - h : LANES, out);
    h = head;
  }
  for (; h + LANES * BLOCK_VECS <= H; h += LANES * BLOCK_VECS) {
    prefetch_ahead(cur, next, k, H, es, ahead, h, LANES * BLOCK_VECS);
    reduce_block(cur, k, d, h, BLOCK_VECS, out, stream);
  }
  for (; h + LANES <= H; h += LANES) reduce_block(cur, k, d, h, 1, out, stream);
  if (h < H) reduce_partial(cur, k, d, h, H - h, out);
}

/* Tokens [t0, t1) in dtype d (constant after inlining). */
TK_INLINE void reduce_tokens(const tk_moe_unpermute_problem *p, tk_dtype d, int64_t t0, int64_t t1,
                             int stream) {
  token_slots slots[2];
  if (t0 < t1) load_slots(p, t0, &slots[0]);
  for (int64_t t = t0; t < t1; t++) {
    token_slots *cur = &slots[(t - t0) & 1], *next = &slots[(t - t0 + 1) & 1];
    if (t + 1 < p->T)
      load_slots(p, t + 1, next);
    else
      next = NULL;
    if (stream)
      reduce_token(p, d, t, cur, next, 1);
    else
      reduce_token(p, d, t, cur, next, 0);
  }
  if (stream) _mm_sfence();
}

void REDUCE_TOKENS(const tk_moe_unpermute_problem *p, int64_t t0, int64_t t1, int stream) {
  switch (p->rows.dtype) {
    case TK_BF16: reduce_tokens(p, TK_BF16, t0, t1, stream); break;
    case TK_F16: reduce_tokens(p, TK_F16, t0, t1, stream); break;
    default: reduce_tokens(p, TK_F32, t0, t1, stream); break;
  }
}
