/* attention_backward_engine.h: what the cpu attention backward's driver
 * (attention_backward_cpu.c) and its per-instruction-set task kernels
 * (attention_backward_avx512.c, attention_backward_avx2.c) share.
 *
 * A task is one (batch, kv head, split): its *group* of rows r = pos * G +
 * g (the query heads g of the kv head, positions pos < q_len) against the
 * keys [kb0, kb1) of the split, walked in blocks of bk keys; for each key
 * block the rows in blocks of bq:
 *   S = Q K^T, P = exp(scale S [softcapped] - lse), dP = dO V^T,
 *   dZ = scale P (dP - Drow) [times the softcap's slope],
 *   dV += P^T dO, dK += dZ^T Q (per key block, stored when it is done),
 *   dQ += dZ K (into the split's float32 partial of the group's rows).
 * No two tasks write the same dk, dv row or dQ partial, and every sum runs
 * in a fixed order, so the result does not depend on the threads. */
#ifndef TK_CPU_ATTENTION_BACKWARD_ENGINE_H
#define TK_CPU_ATTENTION_BACKWARD_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/tensor.h"

/* Everything fixed for one call. */
typedef struct {
  int64_t D, Dv;        /* head dims */
  int64_t Dp, Dvp;      /* rounded up to 16 (the row pitch of packed operands) */
  int64_t bq, bk;       /* rows and keys per block */
  tk_dtype dtype;       /* of q, k, v, out, dout */
  int bf16_dot;         /* bf16 products with vdpbf16ps (AVX512-BF16, bf16 inputs) */
  float scale, softcap; /* softcap 0: off */
} tk_abw_params;

/* One task. Byte strides; pointers at the task's batch and kv head. */
typedef struct {
  const char *q, *dout;   /* row (pos, g) at q + pos * q_pos + g * q_head; elements q_d apart */
  int64_t q_pos, q_head, q_d, o_pos, o_head, o_d;
  const char *k, *v;      /* key j at k + j * k_key; elements k_d apart */
  int64_t k_key, k_d, v_key, v_d;
  const char *out;        /* the forward's out, laid out as dout */
  int64_t f_pos, f_head, f_d;
  const float *lse;       /* lse of row (pos, g) at lse[pos * l_pos + g * l_head] */
  int64_t l_pos, l_head;
  int64_t G, rows;        /* heads per group; rows = q_len * G */
  int64_t tq, tk;         /* the batch's valid lengths */
  int causal;
  int64_t wl, wr;         /* key j is seen by pos when j < tk, (causal) j <= diag, j >= diag - wl
                             (wl >= 0), j <= diag + wr (wr >= 0); diag = pos + tk - tq */
  int64_t kb0, kb1;       /* keys of this split */
  float *dq;              /* [rows][Dp]: this split's partial of dQ (zeroed by the driver) */
  char *dk, *dv;          /* key j's gradient at dk + j * dk_key; elements dk_d apart */
  int64_t dk_key, dk_d, dv_key, dv_d;
  tk_dtype dk_dtype, dv_dtype;
} tk_abw_task;

/* Where a task kernel's per-worker scratch keeps each operand (byte
 * offsets, 64-byte aligned), for groups of at most max_rows rows. The
 * float32 path computes S as [rows][keys]; the bf16 path computes S^T as
 * [keys][rows] and keeps bf16 pairs (two consecutive elements of the
 * reduced dimension in 32 bits, as vdpbf16ps takes them). */
typedef struct {
  int64_t rows_p, bkp, bqp;    /* max_rows, bk, bq rounded up to 32 */
  size_t drow;                 /* Drow [rows_p] */
  size_t s, dp;                /* f32: S then P, dP then dZ ([bq][bkp]; bf16: [bkp][bqp]) */
  size_t dk, dv;               /* accumulators [bk][Dp], [bk][Dvp] */
  size_t lo, hi;               /* int32 [bqp]: the keys each row of a block sees */
  /* float32 path */
  size_t qf, of;               /* the group's Q [rows_p][Dp], dO [rows_p][Dvp] */
  size_t kt, vt, kn;           /* the key block: K^T [Dp][bkp], V^T [Dvp][bkp], K [bkp][Dp] */
  /* bf16 path, pairs along the reduced dimension */
  size_t qt, ot;               /* the group's Q^T [Dp/2][rows_p], dO^T [Dvp/2][rows_p] (pairs of d) */
  size_t qr, orr;              /* the group's Q [rows_p/2][Dp], dO [rows_p/2][Dvp] (pairs of rows) */
  size_t kb, vb, kr;           /* the key block: K [bkp][Dp/2], V [bkp][Dvp/2] (pairs of d),
                                  K [bkp/2][Dp] (pairs of keys) */
  size_t pt, zt, zb;           /* P^T, dZ^T [bkp][bqp/2] (pairs of rows); dZ [bqp][bkp/2] (pairs of keys) */
  size_t ptl, ztl, zbl;        /* the rounding residuals (x - bf16(x)) of P^T, dZ^T, dZ, laid out alike */
  size_t bytes;                /* the whole */
} tk_abw_layout;

/* The layout for p and groups of at most max_rows rows. */
static inline tk_abw_layout tk_abw_layout_of(const tk_abw_params *p, int64_t max_rows) {
  tk_abw_layout l;
  size_t at = 0;
#define TK_ABW_PUT(field, n) (l.field = at, at += ((size_t)(n) + 63) & ~(size_t)63)
  const int bf = p->bf16_dot;
  l.rows_p = (max_rows + 31) & ~(int64_t)31;
  l.bkp = (p->bk + 31) & ~(int64_t)31;
  l.bqp = (p->bq + 31) & ~(int64_t)31;
  TK_ABW_PUT(drow, 4 * l.rows_p);
  TK_ABW_PUT(s, 4 * l.bqp * l.bkp);
  TK_ABW_PUT(dp, 4 * l.bqp * l.bkp);
  TK_ABW_PUT(dk, 4 * l.bkp * p->Dp);
  TK_ABW_PUT(dv, 4 * l.bkp * p->Dvp);
  TK_ABW_PUT(lo, 4 * l.bqp);
  TK_ABW_PUT(hi, 4 * l.bqp);
  TK_ABW_PUT(qf, bf ? 0 : 4 * l.rows_p * p->Dp);
  TK_ABW_PUT(of, bf ? 0 : 4 * l.rows_p * p->Dvp);
  TK_ABW_PUT(kt, bf ? 0 : 4 * p->Dp * l.bkp);
  TK_ABW_PUT(vt, bf ? 0 : 4 * p->Dvp * l.bkp);
  TK_ABW_PUT(kn, bf ? 0 : 4 * l.bkp * p->Dp);
  TK_ABW_PUT(qt, bf ? 2 * p->Dp * l.rows_p : 0);
  TK_ABW_PUT(ot, bf ? 2 * p->Dvp * l.rows_p : 0);
  TK_ABW_PUT(qr, bf ? 2 * l.rows_p * p->Dp : 0);
  TK_ABW_PUT(orr, bf ? 2 * l.rows_p * p->Dvp : 0);
  TK_ABW_PUT(kb, bf ? 2 * l.bkp * p->Dp : 0);
  TK_ABW_PUT(vb, bf ? 2 * l.bkp * p->Dvp : 0);
  TK_ABW_PUT(kr, bf ? 2 * l.bkp * p->Dp : 0);
  TK_ABW_PUT(pt, bf ? 2 * l.bkp * l.bqp : 0);
  TK_ABW_PUT(zt, bf ? 2 * l.bkp * l.bqp : 0);
  TK_ABW_PUT(zb, bf ? 2 * l.bqp * l.bkp : 0);
  TK_ABW_PUT(ptl, bf ? 2 * l.bkp * l.bqp : 0);
  TK_ABW_PUT(ztl, bf ? 2 * l.bkp * l.bqp : 0);
  TK_ABW_PUT(zbl, bf ? 2 * l.bqp * l.bkp : 0);
#undef TK_ABW_PUT
  l.bytes = at;
  return l;
}

/* base + off bytes, or NULL for a tensor without data (empty: D or Dv is
 * 0), so no address is computed from a NULL pointer. */
static inline char *tk_abw_at(const char *base, int64_t off) {
  return base ? (char *)base + off : NULL;
}

/* Task kernels: compute the task into its dQ partial and its dk, dv rows,
 * with scratch of tk_abw_scratch_bytes (64-byte aligned). */
void tk_abw_task_avx512(const tk_abw_params *p, const tk_abw_task *t, void *scratch);
void tk_abw_task_avx2(const tk_abw_params *p, const tk_abw_task *t, void *scratch);

#endif
