/* moe_unpermute_backward_body.h: the cpu unpermute backward's row kernels,
 * written once for any float vector width, in the vocabulary of
 * moe_unpermute_body.h (whose ISA files include this after it), plus
 *   VHSUM(v)               the sum of v's lanes
 *   SCATTER_TOKENS GATHER_ROWS DOT_TOKENS  the names of the functions to define
 * Rows have unit column stride; k <= TK_MOE_MAX_SLOTS. Every d_rows element
 * is weight * dout in float32 (one slot) or the float32 sum over its slots
 * in slot order; every d_weights element a float32 dot product with one
 * accumulator per lane, summed once at the end. */
#include "impls/cpu/moe_cpu.h"

/* 1 when every row of t (rows of H elements of dtype d) starts where its
 * first does modulo 64 bytes, so one head brings all to a line boundary. */
TK_INLINE int rows_share_lines(const tk_tensor *t, int64_t H, int64_t es) {
  return t->shape[0] <= 1 || (t->stride[0] * es) % 64 == 0 || H == 0;
}

/* Elements of the head that brings row p to a 64-byte boundary (<= H). */
TK_INLINE int64_t head_elems(const char *p, int64_t H, int64_t es) {
  int64_t h = (int64_t)((64 - ((uintptr_t)p & 63)) & 63) / es;
  return h < H ? h : H;
}

/* Token t's slots as the scatter reads them: the forward's rows at
 * dest[t, s] (NULL without d_weights) and the weights. */
TK_INLINE void load_bwd_slots(const tk_moe_unpermute_backward_problem *p, int64_t t,
                              token_slots *ts) {
  const int dw = p->d_weights.present;
  for (int64_t s = 0; s < p->k; s++) {
    ts->row[s] = dw ? (const char *)tk_at(&p->rows, tk_load_i32(&p->dest, t, s), 0, 0, 0) : NULL;
    ts->w[s] = p->weights.present ? *(const float *)tk_at(&p->weights, t, s, 0, 0) : 1.0f;
  }
}

/* Columns [h, h + n) of a token (n <= LANES): w * dout into each slot's
 * d_rows row, and with dw dout * rows into the slot's accumulator. */
TK_INLINE void scatter_partial(const char *g, char *const *dst, const token_slots *ts, int64_t k,
                               tk_dtype d, int64_t h, int64_t n, int dw, vec *acc) {
  const int64_t es = tk_dtype_size(d);
  const vec gv = VLOAD_N(g + h * es, d, n);
  for (int64_t s = 0; s < k; s++) {
    VSTORE_N(dst[s] + h * es, d, VFMA(VSET1(ts->w[s]), gv, VZERO()), n);
    if (dw) acc[s] = VFMA(gv, VLOAD_N(ts->row[s] + h * es, d, n), acc[s]);
  }
}

/* Columns [h, h + LANES * nv) of a token (nv constant after inlining), as
 * scatter_partial. */
TK_INLINE void scatter_block(const char *g, char *const *dst, const token_slots *ts, int64_t k,
                             tk_dtype d, int64_t h, int nv, int dw, int stream, vec *acc) {
  const int64_t es = tk_dtype_size(d);
  vec gv[BLOCK_VECS];
  for (int i = 0; i < nv; i++) gv[i] = VLOAD(g + (h + i * LANES) * es, d);
  for (int64_t s = 0; s < k; s++) {
    const vec w = VSET1(ts->w[s]);
    char *o = dst[s] + h * es;
    for (int i = 0; i < nv; i++) {
      const vec x = VFMA(w, gv[i], VZERO());
      if (stream)
        VSTREAM(o + i * LANES * es, d, x);
      else
        VSTORE(o + i * LANES * es, d, x);
    }
    if (dw) {
      const char *src = ts->row[s] + h * es;
      vec a = acc[s];
      for (int i = 0; i < nv; i++) a = VFMA(gv[i], VLOAD(src + i * LANES * es, d), a);
      acc[s] = a;
    }
  }
}

/* Token t: d_rows[dest[t, s]] = w[t, s] * dout[t] for every slot, and with
 * d_weights the dot products of dout[t] with rows[dest[t, s]]: a head up
 * to the first row's 64-byte boundary when streaming, blocks (prefetching
 * the forward's rows further along, as unpermute does), single vectors,
 * a tail. */
TK_INLINE void scatter_token(const tk_moe_unpermute_backward_problem *p, tk_dtype d, int64_t t,
                             const token_slots *cur, const token_slots *next, int stream) {
  const int64_t es = tk_dtype_size(d), H = p->H, k = p->k;
  const int dw = p->d_weights.present;
  int64_t ahead = k > 2 ? 16384 / k : 8192; /* unpermute's distance (moe_unpermute_body.h) */
  if (ahead < 1024) ahead = 1024;
  const char *g = tk_at(&p->dout, t, 0, 0, 0);
  char *dst[TK_MOE_MAX_SLOTS];
  vec acc[TK_MOE_MAX_SLOTS];
  for (int64_t s = 0; s < k; s++) {
    dst[s] = tk_at(&p->d_rows, tk_load_i32(&p->dest, t, s), 0, 0, 0);
    acc[s] = VZERO();
  }
  int64_t h = 0;
  if (stream && k) {
    const int64_t head = head_elems(dst[0], H, es);
    for (; h < head; h += LANES)
      scatter_partial(g, dst, cur, k, d, h, head - h < LANES ? head - h : LANES, dw, acc);
    h = head;
  }
  for (; h + LANES * BLOCK_VECS <= H; h += LANES * BLOCK_VECS) {
    if (dw) prefetch_ahead(cur, next, k, H, es, ahead, h, LANES * BLOCK_VECS);
    scatter_block(g, dst, cur, k, d, h, BLOCK_VECS, dw, stream, acc);
  }
  for (; h + LANES <= H; h += LANES) scatter_block(g, dst, cur, k, d, h, 1, dw, stream, acc);
  if (h < H) scatter_partial(g, dst, cur, k, d, h, H - h, dw, acc);
  for (int64_t s = 0; dw && s < k; s++) *(float *)tk_at(&p->d_weights, t, s, 0, 0) = VHSUM(acc[s]);
}

/* Tokens [t0, t1) in dtype d (constant after inlining). */
TK_INLINE void scatter_tokens(const tk_moe_unpermute_backward_problem *p, tk_dtype d, int64_t t0,
                              int64_t t1, int stream) {
  token_slots slots[2];
  if (t0 < t1) load_bwd_slots(p, t0, &slots[0]);
  for (int64_t t = t0; t < t1; t++) {
    token_slots *cur = &slots[(t - t0) & 1], *next = &slots[(t - t0 + 1) & 1];
    if (t + 1 < p->T)
      load_bwd_slots(p, t + 1, next);
    else
      next = NULL;
    if (stream)
      scatter_token(p, d, t, cur, next, 1);
    else
      scatter_token(p, d, t, cur, next, 0);
  }
  if (stream) _mm_sfence();
}

void SCATTER_TOKENS(const tk_moe_unpermute_backward_problem *p, int64_t t0, int64_t t1,
                    int stream) {
  const int64_t es = tk_dtype_size(p->d_rows.dtype);
  stream = stream && rows_share_lines(&p->d_rows, p->H, es);
  switch (p->d_rows.dtype) {
    case TK_BF16: scatter_tokens(p, TK_BF16, t0, t1, stream); break;
    case TK_F16: scatter_tokens(p, TK_F16, t0, t1, stream); break;
    default: scatter_tokens(p, TK_F32, t0, t1, stream); break;
  }
}

/* Row r = the float32 sum over its slots slots[0..n) (t * k + s, in slot
 * order) of w * dout[t], zero when n = 0. */
TK_INLINE void gather_row(const tk_moe_unpermute_backward_problem *p, tk_dtype d, int64_t r,
                          const int64_t *slots, int64_t n) {
  const int64_t es = tk_dtype_size(d), H = p->H;
  char *out = tk_at(&p->d_rows, r, 0, 0, 0);
  for (int64_t h = 0; h < H; h += LANES) {
    const int64_t m = H - h < LANES ? H - h : LANES;
    vec acc = VZERO();
    for (int64_t i = 0; i < n; i++) {
      const int64_t t = slots[i] / p->k, s = slots[i] % p->k;
      vec w = VSET1(p->weights.present ? *(const float *)tk_at(&p->weights, t, s, 0, 0) : 1.0f);
      acc = VFMA(w, VLOAD_N((const char *)tk_at(&p->dout, t, 0, 0, 0) + h * es, d, m), acc);
    }
    VSTORE_N(out + h * es, d, acc, m);
  }
}

void GATHER_ROWS(const tk_moe_unpermute_backward_problem *p, const int64_t *first,
                 const int64_t *slots, int64_t r0, int64_t r1) {
  for (int64_t r = r0; r < r1; r++)
    gather_row(p, p->d_rows.dtype, r, slots + first[r], first[r + 1] - first[r]);
}

void DOT_TOKENS(const tk_moe_unpermute_backward_problem *p, int64_t t0, int64_t t1) {
  const tk_dtype d = p->dout.dtype;
  const int64_t es = tk_dtype_size(d), H = p->H;
  for (int64_t t = t0; t < t1; t++) {
    const char *g = tk_at(&p->dout, t, 0, 0, 0);
    for (int64_t s = 0; s < p->k; s++) {
      const char *row = tk_at(&p->rows, tk_load_i32(&p->dest, t, s), 0, 0, 0);
      vec acc = VZERO();
      for (int64_t h = 0; h < H; h += LANES) {
        const int64_t m = H - h < LANES ? H - h : LANES;
        acc = VFMA(VLOAD_N(g + h * es, d, m), VLOAD_N(row + h * es, d, m), acc);
      }
      *(float *)tk_at(&p->d_weights, t, s, 0, 0) = VHSUM(acc);
    }
  }
}
