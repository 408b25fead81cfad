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
INLINE int rows_share_lines(const tk_tensor *t, int64_t H, int64_t es) {
  return t->shape[0] <= 1 || (t->stride[0] * es) % 64 == 0 || H == 0;
}

/* Elements of the head that brings row p to a 64-byte boundary (<= H). */
INLINE int64_t head_elems(const char *p, int64_t H, int64_t es) {
  int64_t h = (int64_t)((64 - ((uintptr_t)p & 63)) & 63) / es;
  return h < H ? h : H;
}

/* Token t: d_rows[dest[t, s]] = w[t, s] * dout[t] for every slot, and with
 * dw the dot products of dout[t] with rows[dest[t, s]]. */
INLINE void scatter_token(const tk_moe_unpermute_backward_problem *p, tk_dtype d, int64_t t,
                          int stream) {
  const int64_t es = tk_dtype_size(d), H = p->H, k = p->k;
  const int dw = p->d_weights.present;
  const char *g = tk_at(&p->dout, t, 0, 0, 0);
  char *dst[TK_MOE_MAX_SLOTS];
  const char *src[TK_MOE_MAX_SLOTS];
  vec w[TK_MOE_MAX_SLOTS], acc[TK_MOE_MAX_SLOTS];
  for (int64_t s = 0; s < k; s++) {
    const int32_t r = tk_load_i32(&p->dest, t, s);
    dst[s] = tk_at(&p->d_rows, r, 0, 0, 0);
    src[s] = dw ? (const char *)tk_at(&p->rows, r, 0, 0, 0) : NULL;
    w[s] = VSET1(p->weights.present ? *(const float *)tk_at(&p->weights, t, s, 0, 0) : 1.0f);
    acc[s] = VZERO();
  }
  int64_t h = 0;
  const int64_t head =
      stream && k ? head_elems(tk_at(&p->d_rows, tk_load_i32(&p->dest, t, 0), 0, 0, 0), H, es) : 0;
  for (; h < head; h += LANES) {
    const int64_t n = head - h < LANES ? head - h : LANES;
    vec gv = VLOAD_N(g + h * es, d, n);
    for (int64_t s = 0; s < k; s++) {
      VSTORE_N(dst[s] + h * es, d, VFMA(w[s], gv, VZERO()), n);
      if (dw) acc[s] = VFMA(gv, VLOAD_N(src[s] + h * es, d, n), acc[s]);
    }
  }
  h = head;
  for (; h + LANES <= H; h += LANES) {
    vec gv = VLOAD(g + h * es, d);
    for (int64_t s = 0; s < k; s++) {
      if (stream) VSTREAM(dst[s] + h * es, d, VFMA(w[s], gv, VZERO()));
      else VSTORE(dst[s] + h * es, d, VFMA(w[s], gv, VZERO()));
      if (dw) acc[s] = VFMA(gv, VLOAD(src[s] + h * es, d), acc[s]);
    }
  }
  if (h < H) {
    vec gv = VLOAD_N(g + h * es, d, H - h);
    for (int64_t s = 0; s < k; s++) {
      VSTORE_N(dst[s] + h * es, d, VFMA(w[s], gv, VZERO()), H - h);
      if (dw) acc[s] = VFMA(gv, VLOAD_N(src[s] + h * es, d, H - h), acc[s]);
    }
  }
  for (int64_t s = 0; dw && s < k; s++) *(float *)tk_at(&p->d_weights, t, s, 0, 0) = VHSUM(acc[s]);
}

/* Tokens [t0, t1) in dtype d (constant after inlining). */
INLINE void scatter_tokens(const tk_moe_unpermute_backward_problem *p, tk_dtype d, int64_t t0,
                           int64_t t1, int stream) {
  for (int64_t t = t0; t < t1; t++) {
    if (stream) scatter_token(p, d, t, 1);
    else scatter_token(p, d, t, 0);
  }
  if (stream) _mm_sfence();
}

void SCATTER_TOKENS(const tk_moe_unpermute_backward_problem *p, int64_t t0, int64_t t1, int stream) {
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
INLINE void gather_row(const tk_moe_unpermute_backward_problem *p, tk_dtype d, int64_t r,
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
