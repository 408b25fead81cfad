/* fuzz_op_args.c: the per-op part of the op fuzz driver: for every op, a
 * generator of small valid calls and its op-specific ways to make one
 * invalid. Indexed by tk_op; a new op adds one entry (make, spoil, its
 * optional tensors) and does not compile until it has. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/fuzz_op.h"

#define HUGE_EXTENT ((int64_t)1 << 40) /* a size only empty tensors may have */

/* Sets element i of an int32 tensor. */
static void put(fz_tensor *t, int64_t i, int32_t v) { t->ints[i] = v; }

/* -------------------------------------------------------------- attention */

/* The scalars of an attention call (forward or backward args). */
typedef struct {
  float *scale, *softcap;
  int *causal, *window_left, *window_right;
} attn_scalars;

/* Draws q, k, v, out (dtype dt), the optional lengths and the scalars of
 * an attention call; lse too when with_lse. */
static void attention_draw(fz_in *in, fz_call *c, tk_dtype dt, int with_lse, attn_scalars a) {
  int64_t B = fz_range(in, 0, 3), Tq = fz_range(in, 0, 5), Tk = fz_range(in, 0, 6);
  int64_t Hkv = fz_range(in, 1, 3), Hq = Hkv * fz_range(in, 0, 3);
  int64_t D = fz_range(in, 1, 8), Dv = fz_range(in, 0, 8);
  if (fz_one_in(in, 16)) { /* an empty batch with a huge sequence length */
    B = 0;
    *(fz_one_in(in, 2) ? &Tq : &Tk) = HUGE_EXTENT;
  }
  fz_shape(fz_t(c, "q"), dt, 4, B, Tq, Hq, D);
  fz_shape(fz_t(c, "k"), dt, 4, B, Tk, Hkv, D);
  fz_shape(fz_t(c, "v"), dt, 4, B, Tk, Hkv, Dv);
  fz_shape(fz_t(c, "out"), dt, 4, B, Tq, Hq, Dv);
  if (with_lse) fz_shape(fz_t(c, "lse"), TK_F32, 3, B, Hq, Tq, 0);
  if (fz_one_in(in, 3)) {
    fz_tensor *t = fz_t(c, "q_lens");
    fz_shape(t, TK_I32, 1, B, 0, 0, 0);
    for (int64_t b = 0; b < B; b++) put(t, b, (int32_t)fz_range(in, 0, Tq));
  }
  if (fz_one_in(in, 3)) {
    fz_tensor *t = fz_t(c, "kv_lens");
    fz_shape(t, TK_I32, 1, B, 0, 0, 0);
    for (int64_t b = 0; b < B; b++) put(t, b, (int32_t)fz_range(in, 0, Tk));
  }
  *a.scale = fz_scale(in);
  *a.softcap = fz_softcap(in);
  *a.causal = (int)fz_range(in, 0, 1);
  *a.window_left = (int)fz_range(in, -1, 4);
  *a.window_right = (int)fz_range(in, -1, 4);
}

/* Breaks a scalar or a length of an attention call. */
static int attention_spoil_common(fz_in *in, fz_call *c, attn_scalars a) {
  fz_tensor *ql = fz_t(c, "q_lens"), *kl = fz_t(c, "kv_lens");
  switch (fz_range(in, 0, 6)) {
    case 0: *a.causal = fz_one_in(in, 2) ? 2 : -1; return 1;
    case 1: *a.window_left = (int)fz_range(in, -100, -2); return 1;
    case 2: *a.window_right = (int)fz_range(in, -100, -2); return 1;
    case 3: *a.softcap = fz_one_in(in, 2) ? -1.0f : NAN; return 1;
    case 4: *a.scale = fz_one_in(in, 2) ? INFINITY : NAN; return 1;
    case 5:
      if (!ql->present || ql->numel == 0) return 0;
      put(ql, fz_range(in, 0, ql->numel - 1), fz_one_in(in, 2) ? -1 : (int32_t)fz_t(c, "q")->shape[1] + 1);
      return 1;
    default:
      if (!kl->present || kl->numel == 0) return 0;
      put(kl, fz_range(in, 0, kl->numel - 1), fz_one_in(in, 2) ? -1 : (int32_t)fz_t(c, "k")->shape[1] + 1);
      return 1;
  }
}

static attn_scalars attention_scalars(fz_call *c) {
  tk_attention_args *a = (tk_attention_args *)c->args;
  return (attn_scalars){&a->scale, &a->softcap, &a->causal, &a->window_left, &a->window_right};
}

static void attention_make(fz_in *in, fz_call *c) {
  attention_draw(in, c, fz_data_dtype(in), fz_one_in(in, 2), attention_scalars(c));
}

static int attention_spoil(fz_in *in, fz_call *c) {
  return attention_spoil_common(in, c, attention_scalars(c));
}

static attn_scalars attention_backward_scalars(fz_call *c) {
  tk_attention_backward_args *a = (tk_attention_backward_args *)c->args;
  return (attn_scalars){&a->scale, &a->softcap, &a->causal, &a->window_left, &a->window_right};
}

/* The forward's tensors with lse, dout as out, and dq, dk, dv shaped as
 * q, k, v in the data dtype or float32 (each drawn). */
static void attention_backward_make(fz_in *in, fz_call *c) {
  const tk_dtype dt = fz_data_dtype(in);
  attention_draw(in, c, dt, 1, attention_backward_scalars(c));
  static const char *const pairs[4][2] = {{"dout", "out"}, {"dq", "q"}, {"dk", "k"}, {"dv", "v"}};
  for (int i = 0; i < 4; i++) {
    const fz_tensor *f = fz_t(c, pairs[i][1]);
    const tk_dtype g = i > 0 && fz_one_in(in, 2) ? TK_F32 : dt;
    fz_shape(fz_t(c, pairs[i][0]), g, 4, f->shape[0], f->shape[1], f->shape[2], f->shape[3]);
  }
}

/* The forward's spoilers, or dq shaped unlike q. */
static int attention_backward_spoil(fz_in *in, fz_call *c) {
  if (fz_one_in(in, 4)) {
    fz_tensor *dq = fz_t(c, "dq");
    dq->shape[3] += 1;
    dq->numel = dq->shape[0] * dq->shape[1] * dq->shape[2] * dq->shape[3];
    return 1;
  }
  return attention_spoil_common(in, c, attention_backward_scalars(c));
}

/* ----------------------------------------------------------- grouped GEMM */

static void grouped_gemm_make(fz_in *in, fz_call *c) {
  tk_grouped_gemm_args *a = (tk_grouped_gemm_args *)c->args;
  tk_dtype dt = fz_data_dtype(in), out_dt = fz_one_in(in, 2) ? TK_F32 : dt;
  int layout = (int)fz_range(in, 0, 2);
  int64_t G = fz_range(in, 0, 4), M = fz_range(in, 0, 8), K = fz_range(in, 0, 6),
          N = fz_range(in, 0, 6);
  if (layout != TK_GG_TN && fz_one_in(in, 16)) { /* no rows, no columns: any depth */
    M = 0;
    N = 0;
    K = HUGE_EXTENT;
  }
  fz_tensor *gs = fz_t(c, "group_sizes");
  fz_shape(fz_t(c, "lhs"), dt, 2, M, K, 0, 0);
  fz_shape(gs, TK_I32, 1, G, 0, 0, 0);
  int64_t left = M;
  for (int64_t g = 0; g < G; g++) {
    int64_t n = fz_range(in, 0, left);
    put(gs, g, (int32_t)n);
    left -= n;
  }
  if (layout == TK_GG_NN) fz_shape(fz_t(c, "rhs"), dt, 3, G, K, N, 0);
  if (layout == TK_GG_NT) fz_shape(fz_t(c, "rhs"), dt, 3, G, N, K, 0);
  if (layout == TK_GG_TN) fz_shape(fz_t(c, "rhs"), dt, 2, M, N, 0, 0);
  if (layout == TK_GG_TN)
    fz_shape(fz_t(c, "out"), out_dt, 3, G, K, N, 0);
  else
    fz_shape(fz_t(c, "out"), out_dt, 2, M, N, 0, 0);
  a->layout = (tk_gg_layout)layout;
}

static int grouped_gemm_spoil(fz_in *in, fz_call *c) {
  tk_grouped_gemm_args *a = (tk_grouped_gemm_args *)c->args;
  fz_tensor *gs = fz_t(c, "group_sizes"), *out = fz_t(c, "out");
  switch (fz_range(in, 0, 3)) {
    case 0: a->layout = (tk_gg_layout)(fz_one_in(in, 2) ? 3 : -1); return 1;
    case 1:
      if (gs->numel == 0) return 0;
      put(gs, fz_range(in, 0, gs->numel - 1), (int32_t)fz_range(in, -1000, -1));
      return 1;
    case 2: /* the groups cover more rows than lhs has */
      if (gs->numel == 0) return 0;
      put(gs, fz_range(in, 0, gs->numel - 1), (int32_t)fz_t(c, "lhs")->shape[0] + 1);
      return 1;
    default: /* out neither float32 nor the input dtype */
      if (fz_t(c, "lhs")->dtype == TK_F32) return 0;
      out->dtype = fz_t(c, "lhs")->dtype == TK_F16 ? TK_BF16 : TK_F16;
      return 1;
  }
}

/* --------------------------------------------------------------- MoE */

static void moe_permute_make(fz_in *in, fz_call *c) {
  tk_moe_permute_args *a = (tk_moe_permute_args *)c->args;
  tk_dtype dt = fz_data_dtype(in);
  int64_t T = fz_range(in, 0, 6), H = fz_range(in, 0, 8), k = fz_range(in, 0, 3);
  int64_t E = fz_range(in, 1, 5), align = fz_range(in, 1, 4), count[5] = {0};
  fz_tensor *ids = fz_t(c, "expert_ids");
  fz_shape(fz_t(c, "tokens"), dt, 2, T, H, 0, 0);
  fz_shape(ids, TK_I32, 2, T, k, 0, 0);
  for (int64_t i = 0; i < T * k; i++) {
    int64_t e = fz_range(in, 0, E - 1);
    put(ids, i, (int32_t)e);
    count[e]++;
  }
  int64_t needed = 0;
  for (int64_t e = 0; e < E; e++) needed += (count[e] + align - 1) / align * align;
  int64_t R = (needed > T * k ? needed : T * k) + fz_range(in, 0, 2);
  fz_shape(fz_t(c, "permuted"), dt, 2, R, H, 0, 0);
  fz_shape(fz_t(c, "group_sizes"), TK_I32, 1, E, 0, 0, 0);
  fz_shape(fz_t(c, "dest"), TK_I32, 2, T, k, 0, 0);
  a->num_experts = (int)E;
  a->align = (int)align;
}

static int moe_permute_spoil(fz_in *in, fz_call *c) {
  tk_moe_permute_args *a = (tk_moe_permute_args *)c->args;
  fz_tensor *ids = fz_t(c, "expert_ids"), *perm = fz_t(c, "permuted");
  switch (fz_range(in, 0, 3)) {
    case 0: a->num_experts = fz_one_in(in, 2) ? 0 : a->num_experts + 1; return 1;
    case 1: a->align = fz_one_in(in, 2) ? 0 : 65537; return 1;
    case 2:
      if (ids->numel == 0) return 0;
      put(ids, fz_range(in, 0, ids->numel - 1), fz_one_in(in, 2) ? -1 : a->num_experts);
      return 1;
    default: { /* one row fewer than the blocks (or T*k) need */
      int64_t need = perm->shape[0], T = ids->shape[0], k = ids->shape[1];
      int64_t count[5] = {0}, blocks = 0;
      for (int64_t i = 0; i < ids->numel; i++) count[ids->ints[i]]++;
      for (int e = 0; e < a->num_experts; e++) blocks += (count[e] + a->align - 1) / a->align * a->align;
      need = blocks > T * k ? blocks : T * k;
      if (need == 0) return 0;
      perm->shape[0] = need - 1;
      return 1;
    }
  }
}

/* Sets one dest entry outside [0, R); 0 when dest is empty. */
static int spoil_dest(fz_in *in, fz_tensor *dest, int64_t R) {
  if (dest->numel == 0) return 0;
  put(dest, fz_range(in, 0, dest->numel - 1), fz_one_in(in, 2) ? -1 : (int32_t)R);
  return 1;
}

static void moe_unpermute_make(fz_in *in, fz_call *c) {
  tk_dtype dt = fz_data_dtype(in);
  int64_t R = fz_range(in, 0, 8), H = fz_range(in, 0, 8), T = fz_range(in, 0, 6),
          k = fz_range(in, 0, 3);
  if (R == 0) k = 0; /* no row to point at */
  fz_tensor *dest = fz_t(c, "dest");
  fz_shape(fz_t(c, "rows"), dt, 2, R, H, 0, 0);
  fz_shape(dest, TK_I32, 2, T, k, 0, 0);
  for (int64_t i = 0; i < T * k; i++) put(dest, i, (int32_t)fz_range(in, 0, R - 1));
  if (fz_one_in(in, 2)) fz_shape(fz_t(c, "weights"), TK_F32, 2, T, k, 0, 0);
  fz_shape(fz_t(c, "out"), dt, 2, T, H, 0, 0);
}

static int moe_unpermute_spoil(fz_in *in, fz_call *c) {
  fz_tensor *dest = fz_t(c, "dest"), *w = fz_t(c, "weights");
  if (fz_one_in(in, 2) && w->present && w->ndim == 2) { /* weights of another shape */
    w->shape[1] += 1;
    return 1;
  }
  return spoil_dest(in, dest, fz_t(c, "rows")->shape[0]);
}

/* dout [T,H], dest into R rows, optional weights, d_rows [R,H], and
 * d_weights with the rows they need, or neither (rows then drawn alone). */
static void moe_unpermute_backward_make(fz_in *in, fz_call *c) {
  tk_dtype dt = fz_data_dtype(in);
  int64_t R = fz_range(in, 0, 8), H = fz_range(in, 0, 8), T = fz_range(in, 0, 6),
          k = fz_range(in, 0, 3);
  if (R == 0) k = 0; /* no row to point at */
  fz_tensor *dest = fz_t(c, "dest");
  fz_shape(fz_t(c, "dout"), dt, 2, T, H, 0, 0);
  fz_shape(dest, TK_I32, 2, T, k, 0, 0);
  for (int64_t i = 0; i < T * k; i++) put(dest, i, (int32_t)fz_range(in, 0, R - 1));
  if (fz_one_in(in, 2)) fz_shape(fz_t(c, "weights"), TK_F32, 2, T, k, 0, 0);
  fz_shape(fz_t(c, "d_rows"), dt, 2, R, H, 0, 0);
  const int dw = fz_one_in(in, 2);
  if (dw) fz_shape(fz_t(c, "d_weights"), TK_F32, 2, T, k, 0, 0);
  if (dw || fz_one_in(in, 2)) fz_shape(fz_t(c, "rows"), dt, 2, R, H, 0, 0);
}

/* dest out of range, or d_weights asked for without rows. */
static int moe_unpermute_backward_spoil(fz_in *in, fz_call *c) {
  fz_tensor *rows = fz_t(c, "rows");
  if (fz_one_in(in, 2) && fz_t(c, "d_weights")->present && rows->present) {
    rows->present = 0;
    return 1;
  }
  return spoil_dest(in, fz_t(c, "dest"), fz_t(c, "d_rows")->shape[0]);
}

/* -------------------------------------------------------- paged attention */

static void paged_attention_make(fz_in *in, fz_call *c) {
  tk_paged_attention_args *a = (tk_paged_attention_args *)c->args;
  tk_dtype dt = fz_data_dtype(in);
  int64_t S = fz_range(in, 0, 3), Hkv = fz_range(in, 1, 2), Hq = Hkv * fz_range(in, 0, 2);
  int64_t D = fz_range(in, 1, 8), Dv = fz_range(in, 0, 8), page = fz_range(in, 1, 4);
  int64_t max_pages = fz_range(in, 0, 4), kv[3] = {0}, ql[3] = {0}, used = 0;
  int huge = fz_one_in(in, 16); /* pages of 2^40 tokens, none of them used */
  if (huge) page = HUGE_EXTENT;
  int decode = !huge && max_pages > 0 && fz_one_in(in, 2);
  for (int64_t s = 0; s < S; s++) {
    kv[s] = huge ? 0 : fz_range(in, decode, max_pages * page);
    ql[s] = decode ? 1 : fz_range(in, 0, kv[s]);
    used += huge ? 0 : (kv[s] + page - 1) / page;
  }
  int64_t P = used + (huge ? 0 : fz_range(in, 0, 1)), total = 0;
  fz_tensor *bt = fz_t(c, "block_table"), *kl = fz_t(c, "kv_lens"), *cu = fz_t(c, "cu_q_lens");
  fz_shape(bt, TK_I32, 2, S, max_pages, 0, 0);
  fz_shape(kl, TK_I32, 1, S, 0, 0, 0);
  if (!decode) fz_shape(cu, TK_I32, 1, S + 1, 0, 0, 0);
  for (int64_t s = 0; s < S; s++) {
    int64_t pages = huge ? 0 : (kv[s] + page - 1) / page;
    for (int64_t j = 0; j < max_pages; j++) /* unused entries: anything */
      put(bt, s * max_pages + j,
          j < pages ? (int32_t)fz_range(in, 0, P - 1) : (int32_t)fz_range(in, -3, P + 3));
    put(kl, s, (int32_t)kv[s]);
    if (!decode) put(cu, s, (int32_t)total);
    total += ql[s];
  }
  if (!decode) put(cu, S, (int32_t)total);
  fz_shape(fz_t(c, "q"), dt, 3, total, Hq, D, 0);
  /* one call in three: an 8-bit cache with per-token or per-tensor scales */
  int kind = (int)fz_range(in, 0, 5);
  tk_dtype cd = kind == 4 ? TK_FP8_E4M3 : kind == 5 ? TK_I8 : dt;
  fz_shape(fz_t(c, "k_cache"), cd, 4, P, page, Hkv, D);
  fz_shape(fz_t(c, "v_cache"), cd, 4, P, page, Hkv, Dv);
  if (kind >= 4) {
    const char *names[2] = {"k_scale", "v_scale"};
    for (int i = 0; i < 2; i++) {
      if (fz_one_in(in, 2)) fz_shape(fz_t(c, names[i]), TK_F32, 3, P, page, Hkv, 0);
      else fz_shape(fz_t(c, names[i]), TK_F32, 1, 1, 0, 0, 0);
    }
  }
  fz_shape(fz_t(c, "out"), dt, 3, total, Hq, Dv, 0);
  a->scale = fz_scale(in);
  a->softcap = fz_softcap(in);
  a->window_left = (int)fz_range(in, -1, 4);
}

static int paged_attention_spoil(fz_in *in, fz_call *c) {
  tk_paged_attention_args *a = (tk_paged_attention_args *)c->args;
  fz_tensor *bt = fz_t(c, "block_table"), *kl = fz_t(c, "kv_lens"), *cu = fz_t(c, "cu_q_lens");
  int64_t S = kl->numel, page = fz_t(c, "k_cache")->shape[1], P = fz_t(c, "k_cache")->shape[0];
  int64_t s = S ? fz_range(in, 0, S - 1) : 0;
  switch (fz_range(in, 0, 6)) {
    case 0: a->window_left = (int)fz_range(in, -50, -2); return 1;
    case 6: { /* a scale of the wrong shape (a scale given to a 16-bit
               * cache is test_bad_input's: a later NULL spoil of the
               * scale would make that call valid again) */
      fz_tensor *ks = fz_t(c, "k_scale");
      if (!ks->present) return 0;
      fz_shape(ks, TK_F32, 3, P, page + 1, fz_t(c, "k_cache")->shape[2], 0);
      return 1;
    }
    case 1: a->softcap = -2.0f; return 1;
    case 2: /* more tokens than the sequence's table holds */
      if (!S || bt->shape[1] * page >= INT32_MAX) return 0;
      put(kl, s, (int32_t)(bt->shape[1] * page + 1));
      return 1;
    case 3: { /* fewer tokens than the sequence's queries */
      if (!S) return 0;
      int64_t q = cu->present ? cu->ints[s + 1] - cu->ints[s] : 1;
      if (q == 0) return 0;
      put(kl, s, (int32_t)(q - 1));
      return 1;
    }
    case 4: /* a used page out of range */
      if (!S || kl->ints[s] == 0) return 0;
      put(bt, s * bt->shape[1], fz_one_in(in, 2) ? -1 : (int32_t)P);
      return 1;
    default: /* query offsets that do not start at 0 */
      if (!cu->present) return 0;
      put(cu, 0, 1);
      return 1;
  }
}

/* ------------------------------------------------------------------ table */

static const fz_op_gen table[] = {
    [TK_OP_ATTENTION] = {TK_OP_ATTENTION, attention_make, attention_spoil, "lse, q_lens, kv_lens"},
    [TK_OP_GROUPED_GEMM] = {TK_OP_GROUPED_GEMM, grouped_gemm_make, grouped_gemm_spoil, ""},
    [TK_OP_MOE_PERMUTE] = {TK_OP_MOE_PERMUTE, moe_permute_make, moe_permute_spoil, ""},
    [TK_OP_MOE_UNPERMUTE] = {TK_OP_MOE_UNPERMUTE, moe_unpermute_make, moe_unpermute_spoil,
                             "weights"},
    [TK_OP_PAGED_ATTENTION] = {TK_OP_PAGED_ATTENTION, paged_attention_make,
                               paged_attention_spoil, "cu_q_lens"},
    [TK_OP_ATTENTION_BACKWARD] = {TK_OP_ATTENTION_BACKWARD, attention_backward_make,
                                  attention_backward_spoil, "q_lens, kv_lens"},
    [TK_OP_MOE_UNPERMUTE_BACKWARD] = {TK_OP_MOE_UNPERMUTE_BACKWARD, moe_unpermute_backward_make,
                                      moe_unpermute_backward_spoil, "rows, weights, d_weights"},
};

/* An op appended to tk_op without an entry here fails to compile. */
_Static_assert(sizeof table / sizeof table[0] == TK_OP_COUNT,
               "tests/fuzz/fuzz_op_args.c: every tk_op needs its generator");

const fz_op_gen *fz_op_gen_of(tk_op op) {
  return (unsigned)op < TK_OP_COUNT && table[op].make ? &table[op] : NULL;
}

/* -------------------------------------------------------------- helpers */

fz_tensor *fz_t(fz_call *c, const char *name) {
  for (int i = 0; i < c->desc->n_tensors; i++)
    if (strcmp(c->desc->tensors[i].name, name) == 0) return &c->t[i];
  tk_fuzz_fail("%s has no tensor named %s", c->desc->name, name);
}

void fz_shape(fz_tensor *t, tk_dtype dtype, int ndim, int64_t d0, int64_t d1, int64_t d2,
              int64_t d3) {
  int64_t dims[4] = {d0, d1, d2, d3};
  t->present = 1;
  t->dtype = dtype;
  t->ndim = ndim;
  t->numel = 1;
  for (int i = 0; i < ndim; i++) t->shape[i] = dims[i], t->numel *= dims[i];
  free(t->ints);
  t->ints = dtype == TK_I32 ? calloc((size_t)(t->numel ? t->numel : 1), sizeof(int32_t)) : NULL;
  if (dtype == TK_I32 && !t->ints) tk_fuzz_fail("out of memory for %lld int32", (long long)t->numel);
}

tk_dtype fz_data_dtype(fz_in *in) {
  static const tk_dtype d[] = {TK_F32, TK_F16, TK_BF16};
  return d[fz_range(in, 0, 2)];
}

float fz_scale(fz_in *in) {
  static const float v[] = {0.0f, 0.125f, 0.5f, 1.0f, -0.25f, 3.0f, 1e-3f, 20.0f};
  return v[fz_range(in, 0, 7)];
}

float fz_softcap(fz_in *in) {
  static const float v[] = {0.0f, 0.0f, 0.5f, 5.0f, 30.0f, 1e-2f};
  return v[fz_range(in, 0, 5)];
}
