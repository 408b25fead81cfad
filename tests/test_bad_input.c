/* test_bad_input.c: every argument of every op, made bad one way at a time.
 * Each op has small valid args with random non-zero data (checked to run
 * with the reference); each case changes exactly one thing and must give
 * TK_ERR_INVALID_ARGUMENT, a message naming the argument, and every buffer
 * (outputs and inputs) byte-for-byte unchanged. Generic cases (NULL, rank,
 * dtype, device, sizes, strides, data) run over every tensor argument;
 * specific ones cover shape relations, scalars and data-dependent rules. */
#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "api/call.h"
#include "kernels/problem.h"
#include "regress/case.h"
#include "tests/tk_test.h"
#include "tokamax.h"

/* ---------------------------------------------------------------- tensors */

typedef struct {
  DLTensor t;
  int64_t shape[4], strides[4];
  unsigned char *buf;
  size_t bytes;
  tk_dtype dtype;
} tbuf;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

/* Uniform in [-1,-0.125] or [0.125,1]: never zero. */
static float rand_nonzero(void) {
  float m = 0.125f + 0.875f * (float)(rng() >> 40) / (float)(1ull << 24);
  return (rng() & 1) ? m : -m;
}

/* A row-major CPU tensor of the given shape with random non-zero data
 * (int32 ones are filled with 1; the op setup writes real indices). */
static void tb_init(tbuf *b, tk_dtype d, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
  int64_t dims[4] = {d0, d1, d2, d3}, n = 1;
  memset(b, 0, sizeof *b);
  for (int i = 0; i < ndim; i++) b->shape[i] = dims[i], n *= dims[i];
  b->dtype = d;
  b->bytes = (size_t)n * (size_t)tk_dtype_size(d);
  b->buf = malloc(b->bytes ? b->bytes : 1);
  for (int64_t i = 0; i < n; i++) {
    if (d == TK_I32) ((int32_t *)b->buf)[i] = 1;
    else tk_store_f32(b->buf + (size_t)i * (b->bytes / (size_t)n), d, rand_nonzero());
  }
  b->t.data = b->buf;
  b->t.device.device_type = kDLCPU;
  b->t.ndim = ndim;
  b->t.dtype = tk_dtype_dl(d);
  b->t.shape = b->shape;
}

static int32_t *I32(tbuf *b) { return (int32_t *)b->buf; }

/* Sets explicit strides (in elements) equal to row-major ones. */
static void tb_row_major_strides(tbuf *b) {
  int64_t s = 1;
  for (int i = b->t.ndim - 1; i >= 0; i--) b->strides[i] = s, s *= b->shape[i];
  b->t.strides = b->strides;
}

/* Fills a buffer with a random byte pattern. */
static void poison(tbuf *b) {
  for (size_t i = 0; i < b->bytes; i++) b->buf[i] = (unsigned char)rng();
}

/* ---------------------------------------------------------------- ops */

enum { IN = 0, OUT = 1, OPT = 2, IDX = 4 }; /* slot flags */

/* Slot indices per op (the order of OPS[op].slots). */
enum { A_Q, A_K, A_V, A_OUT, A_LSE, A_QL, A_KVL };
enum { G_LHS, G_RHS, G_GS, G_OUT };
enum { P_TOK, P_EID, P_PERM, P_GS, P_DEST };
enum { U_ROWS, U_DEST, U_W, U_OUT };
enum { PA_Q, PA_K, PA_V, PA_BT, PA_KVL, PA_CU, PA_OUT, PA_KS, PA_VS }; /* PA_KS, PA_VS: spare buffers for 8-bit cases */
enum { B_Q, B_K, B_V, B_OUT, B_DOUT, B_LSE, B_DQ, B_DK, B_DV, B_QL, B_KVL };
enum { UB_DOUT, UB_ROWS, UB_DEST, UB_W, UB_DROWS, UB_DW };

typedef struct {
  const char *name;
  size_t off; /* offset of the pointer in the args struct */
  int flags;
} slot_def;

typedef struct {
  tk_op op;
  const char *name;
  int n;
  slot_def slots[12];
  int main_out; /* the slot a valid call must write */
} op_def;

#define S(type, field, flags) {#field, offsetof(type, field), flags}
static const op_def OPS[] = {
    {TK_OP_ATTENTION, "attention", 7,
     {S(tk_attention_args, q, IN), S(tk_attention_args, k, IN), S(tk_attention_args, v, IN),
      S(tk_attention_args, out, OUT), S(tk_attention_args, lse, OUT | OPT),
      S(tk_attention_args, q_lens, OPT | IDX), S(tk_attention_args, kv_lens, OPT | IDX)},
     A_OUT},
    {TK_OP_GROUPED_GEMM, "grouped_gemm", 4,
     {S(tk_grouped_gemm_args, lhs, IN), S(tk_grouped_gemm_args, rhs, IN),
      S(tk_grouped_gemm_args, group_sizes, IDX), S(tk_grouped_gemm_args, out, OUT)},
     G_OUT},
    {TK_OP_MOE_PERMUTE, "moe_permute", 5,
     {S(tk_moe_permute_args, tokens, IN), S(tk_moe_permute_args, expert_ids, IDX),
      S(tk_moe_permute_args, permuted, OUT), S(tk_moe_permute_args, group_sizes, OUT | IDX),
      S(tk_moe_permute_args, dest, OUT | IDX)},
     P_PERM},
    {TK_OP_MOE_UNPERMUTE, "moe_unpermute", 4,
     {S(tk_moe_unpermute_args, rows, IN), S(tk_moe_unpermute_args, dest, IDX),
      S(tk_moe_unpermute_args, weights, OPT), S(tk_moe_unpermute_args, out, OUT)},
     U_OUT},
    {TK_OP_PAGED_ATTENTION, "paged_attention", 7,
     {S(tk_paged_attention_args, q, IN), S(tk_paged_attention_args, k_cache, IN),
      S(tk_paged_attention_args, v_cache, IN), S(tk_paged_attention_args, block_table, IDX),
      S(tk_paged_attention_args, kv_lens, IDX), S(tk_paged_attention_args, cu_q_lens, OPT | IDX),
      S(tk_paged_attention_args, out, OUT)},
     PA_OUT},
    {TK_OP_ATTENTION_BACKWARD, "attention_backward", 11,
     {S(tk_attention_backward_args, q, IN), S(tk_attention_backward_args, k, IN),
      S(tk_attention_backward_args, v, IN), S(tk_attention_backward_args, out, IN),
      S(tk_attention_backward_args, dout, IN), S(tk_attention_backward_args, lse, IN),
      S(tk_attention_backward_args, dq, OUT), S(tk_attention_backward_args, dk, OUT),
      S(tk_attention_backward_args, dv, OUT), S(tk_attention_backward_args, q_lens, OPT | IDX),
      S(tk_attention_backward_args, kv_lens, OPT | IDX)},
     B_DQ},
    {TK_OP_MOE_UNPERMUTE_BACKWARD, "moe_unpermute_backward", 6,
     {S(tk_moe_unpermute_backward_args, dout, IN), S(tk_moe_unpermute_backward_args, rows, OPT),
      S(tk_moe_unpermute_backward_args, dest, IDX),
      S(tk_moe_unpermute_backward_args, weights, OPT),
      S(tk_moe_unpermute_backward_args, d_rows, OUT),
      S(tk_moe_unpermute_backward_args, d_weights, OUT | OPT)},
     UB_DROWS},
};
_Static_assert(sizeof OPS / sizeof OPS[0] == TK_OP_COUNT, "test_bad_input: every op needs its slots");
#undef S


typedef struct {
  const op_def *def;
  tbuf b[12];
  union {
    tk_attention_args at;
    tk_grouped_gemm_args gg;
    tk_moe_permute_args mp;
    tk_moe_unpermute_args mu;
    tk_paged_attention_args pa;
    tk_attention_backward_args ab;
    tk_moe_unpermute_backward_args ub;
  } u;
  int null_args, null_ctx;
} fixture;

/* Points args field of slot s at t (NULL to drop it). */
static void set_slot(fixture *f, int s, DLTensor *t) {
  memcpy((char *)&f->u + f->def->slots[s].off, &t, sizeof t);
}

static void setup_attention(fixture *f) {
  tbuf *b = f->b;
  tb_init(&b[A_Q], TK_F32, 4, 2, 3, 4, 8);
  tb_init(&b[A_K], TK_F32, 4, 2, 5, 2, 8);
  tb_init(&b[A_V], TK_F32, 4, 2, 5, 2, 6);
  tb_init(&b[A_OUT], TK_F32, 4, 2, 3, 4, 6);
  tb_init(&b[A_LSE], TK_F32, 3, 2, 4, 3, 0);
  tb_init(&b[A_QL], TK_I32, 1, 2, 0, 0, 0);
  tb_init(&b[A_KVL], TK_I32, 1, 2, 0, 0, 0);
  I32(&b[A_QL])[0] = 3, I32(&b[A_QL])[1] = 2;
  I32(&b[A_KVL])[0] = 5, I32(&b[A_KVL])[1] = 4;
  f->u.at.causal = 1;
  f->u.at.window_left = f->u.at.window_right = -1;
}

static void setup_grouped_gemm(fixture *f) {
  tbuf *b = f->b;
  tb_init(&b[G_LHS], TK_F32, 2, 10, 4, 0, 0);
  tb_init(&b[G_RHS], TK_F32, 3, 3, 4, 3, 0);
  tb_init(&b[G_GS], TK_I32, 1, 3, 0, 0, 0);
  tb_init(&b[G_OUT], TK_F32, 2, 10, 3, 0, 0);
  I32(&b[G_GS])[0] = 3, I32(&b[G_GS])[1] = 0, I32(&b[G_GS])[2] = 5;
  f->u.gg.layout = TK_GG_NN;
}

/* 5 tokens, top-2 of 3 experts: counts 3, 4, 3, which align=2 pads to 12
 * rows; R = tk_moe_permute_max_rows = 13. */
static void setup_moe_permute(fixture *f) {
  static const int32_t ids[10] = {0, 1, 1, 2, 0, 1, 2, 1, 0, 2};
  tbuf *b = f->b;
  tb_init(&b[P_TOK], TK_F32, 2, 5, 4, 0, 0);
  tb_init(&b[P_EID], TK_I32, 2, 5, 2, 0, 0);
  tb_init(&b[P_PERM], TK_F32, 2, tk_moe_permute_max_rows(5, 2, 3, 2), 4, 0, 0);
  tb_init(&b[P_GS], TK_I32, 1, 3, 0, 0, 0);
  tb_init(&b[P_DEST], TK_I32, 2, 5, 2, 0, 0);
  memcpy(b[P_EID].buf, ids, sizeof ids);
  f->u.mp.num_experts = 3;
  f->u.mp.align = 2;
}

static void setup_moe_unpermute(fixture *f) {
  tbuf *b = f->b;
  tb_init(&b[U_ROWS], TK_F32, 2, 12, 4, 0, 0);
  tb_init(&b[U_DEST], TK_I32, 2, 5, 2, 0, 0);
  tb_init(&b[U_W], TK_F32, 2, 5, 2, 0, 0);
  tb_init(&b[U_OUT], TK_F32, 2, 5, 4, 0, 0);
  for (int i = 0; i < 10; i++) I32(&b[U_DEST])[i] = (int32_t)(rng() % 12);
}

/* 3 sequences, kv_lens 5, 9, 3 over pages of 4 (2, 3, 1 pages used), query
 * counts 2, 3, 1. Unused block_table entries hold ids out of range: they
 * must be ignored. */
static void setup_paged_attention(fixture *f) {
  static const int32_t table[9] = {4, 1, -7, 0, 5, 2, 3, 99, -1};
  static const int32_t kv[3] = {5, 9, 3}, cu[4] = {0, 2, 5, 6};
  tbuf *b = f->b;
  tb_init(&b[PA_Q], TK_F32, 3, 6, 4, 8, 0);
  tb_init(&b[PA_K], TK_F32, 4, 6, 4, 2, 8);
  tb_init(&b[PA_V], TK_F32, 4, 6, 4, 2, 8);
  tb_init(&b[PA_BT], TK_I32, 2, 3, 3, 0, 0);
  tb_init(&b[PA_KVL], TK_I32, 1, 3, 0, 0, 0);
  tb_init(&b[PA_CU], TK_I32, 1, 4, 0, 0, 0);
  tb_init(&b[PA_OUT], TK_F32, 3, 6, 4, 8, 0);
  memcpy(b[PA_BT].buf, table, sizeof table);
  memcpy(b[PA_KVL].buf, kv, sizeof kv);
  memcpy(b[PA_CU].buf, cu, sizeof cu);
  f->u.pa.window_left = -1;
}

/* The forward's shapes of setup_attention, lse as an input (any finite
 * values are a valid lse), dout, and the three gradients. */
static void setup_attention_backward(fixture *f) {
  tbuf *b = f->b;
  tb_init(&b[B_Q], TK_F32, 4, 2, 3, 4, 8);
  tb_init(&b[B_K], TK_F32, 4, 2, 5, 2, 8);
  tb_init(&b[B_V], TK_F32, 4, 2, 5, 2, 6);
  tb_init(&b[B_OUT], TK_F32, 4, 2, 3, 4, 6);
  tb_init(&b[B_DOUT], TK_F32, 4, 2, 3, 4, 6);
  tb_init(&b[B_LSE], TK_F32, 3, 2, 4, 3, 0);
  tb_init(&b[B_DQ], TK_F32, 4, 2, 3, 4, 8);
  tb_init(&b[B_DK], TK_F32, 4, 2, 5, 2, 8);
  tb_init(&b[B_DV], TK_F32, 4, 2, 5, 2, 6);
  tb_init(&b[B_QL], TK_I32, 1, 2, 0, 0, 0);
  tb_init(&b[B_KVL], TK_I32, 1, 2, 0, 0, 0);
  I32(&b[B_QL])[0] = 3, I32(&b[B_QL])[1] = 2;
  I32(&b[B_KVL])[0] = 5, I32(&b[B_KVL])[1] = 4;
  f->u.ab.causal = 1;
  f->u.ab.window_left = f->u.ab.window_right = -1;
}

/* The scatter of setup_moe_unpermute, backwards. */
static void setup_moe_unpermute_backward(fixture *f) {
  tbuf *b = f->b;
  tb_init(&b[UB_DOUT], TK_F32, 2, 5, 4, 0, 0);
  tb_init(&b[UB_ROWS], TK_F32, 2, 12, 4, 0, 0);
  tb_init(&b[UB_DEST], TK_I32, 2, 5, 2, 0, 0);
  tb_init(&b[UB_W], TK_F32, 2, 5, 2, 0, 0);
  tb_init(&b[UB_DROWS], TK_F32, 2, 12, 4, 0, 0);
  tb_init(&b[UB_DW], TK_F32, 2, 5, 2, 0, 0);
  for (int i = 0; i < 10; i++) I32(&b[UB_DEST])[i] = (int32_t)(rng() % 12);
}

static void fixture_init(fixture *f, tk_op op) {
  static void (*const setup[])(fixture *) = {
      [TK_OP_ATTENTION] = setup_attention,
      [TK_OP_GROUPED_GEMM] = setup_grouped_gemm,
      [TK_OP_MOE_PERMUTE] = setup_moe_permute,
      [TK_OP_MOE_UNPERMUTE] = setup_moe_unpermute,
      [TK_OP_PAGED_ATTENTION] = setup_paged_attention,
      [TK_OP_ATTENTION_BACKWARD] = setup_attention_backward,
      [TK_OP_MOE_UNPERMUTE_BACKWARD] = setup_moe_unpermute_backward};
  _Static_assert(sizeof setup / sizeof setup[0] == TK_OP_COUNT, "every op needs its fixture");
  memset(f, 0, sizeof *f);
  f->def = &OPS[op];
  setup[op](f);
  for (int s = 0; s < f->def->n; s++) set_slot(f, s, &f->b[s].t);
}

static void fixture_free(fixture *f) {
  for (int s = 0; s < 12; s++) free(f->b[s].buf); /* spare buffers too (zero when unused) */
}

static tk_status call_op(tk_context *ctx, fixture *f) {
  tk_call_options opts = {"reference", NULL};
  tk_context *c = f->null_ctx ? NULL : ctx;
  return tk_api_call(f->def->op, c, f->null_args ? NULL : (const void *)&f->u, &opts);
}

/* Replaces slot s's tensor by one of the same shape in dtype d. */
static void retype(fixture *f, int s, tk_dtype d) {
  tbuf *b = &f->b[s];
  free(b->buf);
  tb_init(b, d, b->t.ndim, b->shape[0], b->shape[1], b->shape[2], b->shape[3]);
  set_slot(f, s, &b->t);
}

/* ---------------------------------------------------------------- mutators */

typedef void (*mutator)(fixture *f, int s);
#define MUT(name, body)                      \
  static void name(fixture *f, int s) {      \
    (void)f;                                 \
    (void)s;                                 \
    body;                                    \
  }
#define T(slot) (f->b[slot].t)
#define SH(slot, d) (f->b[slot].shape[d])
#define IDXV(slot, i) (I32(&f->b[slot])[i])

/* generic, applied to slot s */
MUT(m_null, set_slot(f, s, NULL))
MUT(m_rank, T(s).ndim -= 1)
MUT(m_dtype, T(s).dtype = tk_dtype_dl(f->b[s].dtype == TK_I32 ? TK_F32 : TK_I32))
MUT(m_dtype_int64, T(s).dtype.code = kDLInt; T(s).dtype.bits = 64)
MUT(m_lanes, T(s).dtype.lanes = 2)
MUT(m_cuda, T(s).device.device_type = kDLCUDA)
MUT(m_opencl, T(s).device.device_type = kDLOpenCL)
MUT(m_negative, SH(s, 0) = -1)
MUT(m_overflow, if (T(s).ndim >= 2) SH(s, 0) = SH(s, 1) = (int64_t)1 << 40;
    else SH(s, 0) = (int64_t)1 << 62)
MUT(m_null_shape, T(s).shape = NULL)
MUT(m_null_data, T(s).data = NULL)
MUT(m_misaligned, T(s).byte_offset = 1)
MUT(m_stride_overflow, tb_row_major_strides(&f->b[s]); f->b[s].strides[0] = INT64_MAX / 2)
/* outputs only */
MUT(m_zero_stride, tb_row_major_strides(&f->b[s]); f->b[s].strides[0] = 0)
MUT(m_overlap, tb_row_major_strides(&f->b[s]);
    f->b[s].strides[0] = T(s).ndim >= 2 ? f->b[s].strides[T(s).ndim - 1] : 0)
MUT(m_negative_stride, tb_row_major_strides(&f->b[s]); f->b[s].strides[0] = -f->b[s].strides[0])

/* specific: the slot in the case table only names the argument */
MUT(m_args_null, f->null_args = 1)
MUT(m_ctx_null, f->null_ctx = 1)
MUT(m_dim0_plus, SH(s, 0) += 1)
MUT(m_dim1_plus, SH(s, 1) += 1)
MUT(m_dim2_plus, SH(s, 2) += 1)
MUT(m_dim3_plus, SH(s, 3) += 1)
MUT(m_dim0_minus, SH(s, 0) -= 1)
MUT(m_dim3_minus, SH(s, 3) -= 1)
MUT(m_to_f16, T(s).dtype = tk_dtype_dl(TK_F16))
MUT(m_to_bf16, T(s).dtype = tk_dtype_dl(TK_BF16))
/* attention */
MUT(at_heads, SH(A_K, 2) = 3; SH(A_V, 2) = 3)
MUT(at_qlen_high, IDXV(A_QL, 1) = 4)
MUT(at_qlen_neg, IDXV(A_QL, 0) = -1)
MUT(at_kvlen_high, IDXV(A_KVL, 1) = 6)
MUT(at_kvlen_neg, IDXV(A_KVL, 0) = -1)
MUT(at_softcap_neg, f->u.at.softcap = -1.0f)
MUT(at_softcap_nan, f->u.at.softcap = NAN)
MUT(at_softcap_inf, f->u.at.softcap = INFINITY)
MUT(at_scale_nan, f->u.at.scale = NAN)
MUT(at_scale_inf, f->u.at.scale = -INFINITY)
MUT(at_wl, f->u.at.window_left = -2)
MUT(at_wr, f->u.at.window_right = -5)
MUT(at_causal, f->u.at.causal = 2)
MUT(at_d_zero, SH(A_Q, 3) = 0; SH(A_K, 3) = 0)
/* grouped GEMM */
MUT(gg_layout_high, f->u.gg.layout = (tk_gg_layout)3)
MUT(gg_layout_neg, f->u.gg.layout = (tk_gg_layout)-1)
MUT(gg_size_neg, IDXV(G_GS, 1) = -1)
MUT(gg_sum_over, IDXV(G_GS, 1) = 3)
MUT(gg_layout_tn, f->u.gg.layout = TK_GG_TN) /* rhs [G,K,N] is not [M,N] */
/* MoE permute */
MUT(mp_experts_zero, f->u.mp.num_experts = 0)
MUT(mp_experts_more, f->u.mp.num_experts = 4)
MUT(mp_align_zero, f->u.mp.align = 0)
MUT(mp_align_huge, f->u.mp.align = 1 << 24)
MUT(mp_id_neg, IDXV(P_EID, 3) = -1)
MUT(mp_id_high, IDXV(P_EID, 7) = 3)
MUT(mp_r_below_tk, SH(P_PERM, 0) = 9)
MUT(mp_r_below_needed, SH(P_PERM, 0) = 11)
/* MoE unpermute */
MUT(mu_dest_neg, IDXV(U_DEST, 4) = -1)
MUT(mu_dest_high, IDXV(U_DEST, 9) = 12)
/* paged attention */
MUT(pa_heads, SH(PA_K, 2) = 3; SH(PA_V, 2) = 3)
MUT(pa_page_neg, IDXV(PA_BT, 1) = -1)
MUT(pa_page_high, IDXV(PA_BT, 5) = 6)
MUT(pa_kv_over, IDXV(PA_KVL, 2) = 13)
MUT(pa_kv_neg, IDXV(PA_KVL, 1) = -1)
MUT(pa_q_over_kv, IDXV(PA_KVL, 0) = 1)
MUT(pa_decode_kv_zero, set_slot(f, PA_CU, NULL); SH(PA_Q, 0) = 3; SH(PA_OUT, 0) = 3;
    IDXV(PA_KVL, 2) = 0)
MUT(pa_cu_start, IDXV(PA_CU, 0) = 1)
MUT(pa_cu_decreasing, IDXV(PA_CU, 1) = 6)
MUT(pa_cu_end, IDXV(PA_CU, 3) = 5)
MUT(pa_decode_rows, set_slot(f, PA_CU, NULL))
MUT(pa_softcap_neg, f->u.pa.softcap = -0.5f)
MUT(pa_softcap_nan, f->u.pa.softcap = NAN)
MUT(pa_scale_nan, f->u.pa.scale = NAN)
MUT(pa_scale_inf, f->u.pa.scale = INFINITY)
MUT(pa_window, f->u.pa.window_left = -3)
MUT(pa_page_size_zero, SH(PA_K, 1) = 0; SH(PA_V, 1) = 0)
/* valid variants */
MUT(v_none, (void)0)
MUT(at_no_optionals, set_slot(f, A_LSE, NULL); set_slot(f, A_QL, NULL); set_slot(f, A_KVL, NULL))
MUT(at_window_softcap, f->u.at.window_left = 1; f->u.at.window_right = 0; f->u.at.softcap = 5.0f;
    f->u.at.scale = 0.3f)
/* k read backwards along Tk: negative strides are fine for inputs */
MUT(at_k_reversed, tb_row_major_strides(&f->b[A_K]); f->b[A_K].strides[1] = -16;
    T(A_K).byte_offset = 4 * 4 * 16)
/* out stored as [B,Hq,Tq,Dv]: strided but not overlapping */
MUT(at_out_transposed, tb_row_major_strides(&f->b[A_OUT]); f->b[A_OUT].strides[1] = 6;
    f->b[A_OUT].strides[2] = 18)
MUT(at_bf16, for (int i = A_Q; i <= A_OUT; i++) retype(f, i, TK_BF16))
MUT(at_f16, for (int i = A_Q; i <= A_OUT; i++) retype(f, i, TK_F16))
MUT(gg_bf16_out_f32, retype(f, G_LHS, TK_BF16); retype(f, G_RHS, TK_BF16))
MUT(gg_bf16_out_bf16, retype(f, G_LHS, TK_BF16); retype(f, G_RHS, TK_BF16);
    retype(f, G_OUT, TK_BF16))
MUT(gg_f16_out_bf16, retype(f, G_LHS, TK_F16); retype(f, G_RHS, TK_F16); retype(f, G_OUT, TK_BF16))
MUT(gg_unused_rows, IDXV(G_GS, 2) = 1)
MUT(mp_align_one, f->u.mp.align = 1; SH(P_PERM, 0) = 10)
MUT(mu_no_weights, set_slot(f, U_W, NULL))
MUT(pa_decode, set_slot(f, PA_CU, NULL); SH(PA_Q, 0) = 3; SH(PA_OUT, 0) = 3)

/* Scale buffer slot (PA_KS or PA_VS) as kind 1: [P,page_size,Hkv] float32,
 * 2: [1], 3: [P,page_size,Hkv+1], 4: [2], 5: [1] float16; set as k_scale or
 * v_scale. */
static void pa_scale(fixture *f, int slot, int kind) {
  tbuf *b = &f->b[slot];
  if (kind == 1 || kind == 3) tb_init(b, TK_F32, 3, 6, 4, kind == 3 ? 3 : 2, 0);
  else tb_init(b, kind == 5 ? TK_F16 : TK_F32, 1, kind == 4 ? 2 : 1, 0, 0, 0);
  if (slot == PA_KS) f->u.pa.k_scale = &b->t;
  else f->u.pa.v_scale = &b->t;
}
/* k_cache and v_cache as 8-bit dtype d with scales of kinds ks, vs (0: NULL). */
static void pa_8bit(fixture *f, tk_dtype d, int ks, int vs) {
  retype(f, PA_K, d);
  retype(f, PA_V, d);
  if (ks) pa_scale(f, PA_KS, ks);
  if (vs) pa_scale(f, PA_VS, vs);
}
MUT(pa_i8_token, pa_8bit(f, TK_I8, 1, 1))
MUT(pa_fp8_tensor, pa_8bit(f, TK_FP8_E4M3, 2, 2))
MUT(pa_fp8_mixed_scales, pa_8bit(f, TK_FP8_E4M3, 1, 2); set_slot(f, PA_CU, NULL);
    SH(PA_Q, 0) = 3; SH(PA_OUT, 0) = 3)
MUT(pa_i8_no_k_scale, pa_8bit(f, TK_I8, 0, 1))
MUT(pa_fp8_no_v_scale, pa_8bit(f, TK_FP8_E4M3, 2, 0))
MUT(pa_f32_with_k_scale, pa_scale(f, PA_KS, 2))
MUT(pa_f32_with_v_scale, pa_scale(f, PA_VS, 1))
MUT(pa_scale_heads, pa_8bit(f, TK_I8, 3, 1))
MUT(pa_scale_two, pa_8bit(f, TK_FP8_E4M3, 1, 4))
MUT(pa_scale_f16, pa_8bit(f, TK_I8, 5, 1))
MUT(pa_8bit_mixed, pa_8bit(f, TK_I8, 1, 1); retype(f, PA_V, TK_FP8_E4M3))
MUT(pa_8bit_k_only, pa_8bit(f, TK_I8, 1, 1); retype(f, PA_V, TK_F32))
MUT(pa_8bit_v_only, retype(f, PA_V, TK_I8); pa_scale(f, PA_VS, 2))
MUT(pa_window_softcap, f->u.pa.window_left = 2; f->u.pa.softcap = 3.0f)
/* attention backward */
MUT(ab_no_lens, set_slot(f, B_QL, NULL); set_slot(f, B_KVL, NULL))
MUT(ab_window_softcap, f->u.ab.window_left = 1; f->u.ab.window_right = 0; f->u.ab.softcap = 5.0f;
    f->u.ab.scale = 0.3f)
MUT(ab_bf16, for (int i = B_Q; i <= B_DV; i++) if (i != B_LSE) retype(f, i, TK_BF16))
MUT(ab_bf16_grads_f32, for (int i = B_Q; i <= B_DOUT; i++) retype(f, i, TK_BF16))
MUT(ab_bf16_dq_f16, for (int i = B_Q; i <= B_DOUT; i++) retype(f, i, TK_BF16);
    retype(f, B_DQ, TK_F16))
MUT(ab_heads, SH(B_K, 2) = 3; SH(B_V, 2) = 3; SH(B_DK, 2) = 3; SH(B_DV, 2) = 3)
MUT(ab_qlen_high, IDXV(B_QL, 1) = 4)
MUT(ab_kvlen_neg, IDXV(B_KVL, 0) = -1)
MUT(ab_softcap_nan, f->u.ab.softcap = NAN)
MUT(ab_scale_inf, f->u.ab.scale = INFINITY)
MUT(ab_causal, f->u.ab.causal = -1)
MUT(ab_wr, f->u.ab.window_right = -2)
/* MoE unpermute backward */
MUT(ub_no_weights, set_slot(f, UB_W, NULL))
MUT(ub_no_d_weights, set_slot(f, UB_DW, NULL); set_slot(f, UB_ROWS, NULL))
MUT(ub_bf16, retype(f, UB_DOUT, TK_BF16); retype(f, UB_ROWS, TK_BF16); retype(f, UB_DROWS, TK_BF16))
MUT(ub_d_weights_no_rows, set_slot(f, UB_ROWS, NULL))
MUT(ub_dest_neg, IDXV(UB_DEST, 4) = -1)
MUT(ub_dest_high, IDXV(UB_DEST, 9) = 12)

/* ---------------------------------------------------------------- the cases */


typedef struct {
  const char *what;
  mutator mut;
  int only;  /* ALL: every slot; else slots having one of these flags */
  int skip;  /* ...except slots having one of these flags */
} generic_case;

#define ALL 0x100
static const generic_case GENERIC[] = {
    {"NULL tensor", m_null, ALL, OPT},
    {"rank one short", m_rank, ALL, 0},
    {"wrong dtype", m_dtype, ALL, 0},
    {"dtype int64", m_dtype_int64, ALL, 0},
    {"lanes 2", m_lanes, ALL, 0},
    {"on CUDA while the others are on CPU", m_cuda, ALL, 0},
    {"on an unsupported device", m_opencl, ALL, 0},
    {"negative size", m_negative, ALL, 0},
    {"overflowing size", m_overflow, ALL, 0},
    {"NULL shape", m_null_shape, ALL, 0},
    {"NULL data", m_null_data, ALL, 0},
    {"misaligned data", m_misaligned, ALL, 0},
    {"overflowing stride", m_stride_overflow, ALL, 0},
    {"zero stride", m_zero_stride, OUT, 0},
    {"overlapping strides", m_overlap, OUT, 0},
    {"negative stride", m_negative_stride, OUT, 0},
};


typedef struct {
  tk_op op;
  const char *what;
  mutator mut;
  int slot;        /* the slot the mutator changes, where it takes one */
  const char *arg; /* the name the message must mention; NULL: a valid variant */
} specific_case;

#define AT TK_OP_ATTENTION
#define GG TK_OP_GROUPED_GEMM
#define MP TK_OP_MOE_PERMUTE
#define MU TK_OP_MOE_UNPERMUTE
#define PA TK_OP_PAGED_ATTENTION
#define AB TK_OP_ATTENTION_BACKWARD
#define UB TK_OP_MOE_UNPERMUTE_BACKWARD
static const specific_case SPECIFIC[] = {
    /* valid variants: must run */
    {AT, "valid", v_none, 0, NULL},
    {AT, "no lse, q_lens, kv_lens", at_no_optionals, 0, NULL},
    {AT, "window and softcap", at_window_softcap, 0, NULL},
    {AT, "k with a negative stride", at_k_reversed, 0, NULL},
    {AT, "out transposed", at_out_transposed, 0, NULL},
    {AT, "bfloat16", at_bf16, 0, NULL},
    {AT, "float16", at_f16, 0, NULL},
    {GG, "valid", v_none, 0, NULL},
    {GG, "bfloat16 in, float32 out", gg_bf16_out_f32, 0, NULL},
    {GG, "bfloat16 in, bfloat16 out", gg_bf16_out_bf16, 0, NULL},
    {GG, "rows past the last group", gg_unused_rows, 0, NULL},
    {MP, "valid", v_none, 0, NULL},
    {MP, "align 1, R = T*k", mp_align_one, 0, NULL},
    {MU, "valid", v_none, 0, NULL},
    {MU, "no weights", mu_no_weights, 0, NULL},
    {PA, "valid", v_none, 0, NULL},
    {PA, "decode", pa_decode, 0, NULL},
    {PA, "window and softcap", pa_window_softcap, 0, NULL},
    {PA, "int8 caches, per-token scales", pa_i8_token, 0, NULL},
    {PA, "fp8 caches, per-tensor scales", pa_fp8_tensor, 0, NULL},
    {PA, "fp8 decode, token k_scale, tensor v_scale", pa_fp8_mixed_scales, 0, NULL},
    {PA, "int8 cache without k_scale", pa_i8_no_k_scale, 0, "k_scale"},
    {PA, "fp8 cache without v_scale", pa_fp8_no_v_scale, 0, "v_scale"},
    {PA, "k_scale for a float32 cache", pa_f32_with_k_scale, 0, "k_scale"},
    {PA, "v_scale for a float32 cache", pa_f32_with_v_scale, 0, "v_scale"},
    {PA, "k_scale Hkv", pa_scale_heads, 0, "k_scale"},
    {PA, "v_scale of 2 elements", pa_scale_two, 0, "v_scale"},
    {PA, "k_scale float16", pa_scale_f16, 0, "k_scale"},
    {PA, "int8 k_cache, fp8 v_cache", pa_8bit_mixed, 0, "v_cache"},
    {PA, "int8 k_cache, float32 v_cache", pa_8bit_k_only, 0, "v_cache"},
    {PA, "float32 k_cache, int8 v_cache", pa_8bit_v_only, 0, "v_cache"},
    /* attention */
    {AT, "args NULL", m_args_null, 0, "args"},
    {AT, "ctx NULL", m_ctx_null, 0, "ctx"},
    {AT, "k B", m_dim0_plus, A_K, "k"},
    {AT, "k D", m_dim3_plus, A_K, "k"},
    {AT, "k heads do not divide q's", at_heads, 0, "k"},
    {AT, "D zero", at_d_zero, 0, "D"},
    {AT, "v B", m_dim0_plus, A_V, "v"},
    {AT, "v Tk", m_dim1_plus, A_V, "v"},
    {AT, "v Hkv", m_dim2_plus, A_V, "v"},
    {AT, "out B", m_dim0_plus, A_OUT, "out"},
    {AT, "out Tq", m_dim1_plus, A_OUT, "out"},
    {AT, "out Hq", m_dim2_plus, A_OUT, "out"},
    {AT, "out Dv", m_dim3_minus, A_OUT, "out"},
    {AT, "lse B", m_dim0_plus, A_LSE, "lse"},
    {AT, "lse Hq", m_dim1_plus, A_LSE, "lse"},
    {AT, "lse Tq", m_dim2_plus, A_LSE, "lse"},
    {AT, "q_lens B", m_dim0_plus, A_QL, "q_lens"},
    {AT, "kv_lens B", m_dim0_minus, A_KVL, "kv_lens"},
    {AT, "k dtype", m_to_f16, A_K, "k"},
    {AT, "v dtype", m_to_bf16, A_V, "v"},
    {AT, "out dtype", m_to_bf16, A_OUT, "out"},
    {AT, "lse dtype", m_to_f16, A_LSE, "lse"},
    {AT, "q_lens over Tq", at_qlen_high, 0, "q_lens"},
    {AT, "q_lens negative", at_qlen_neg, 0, "q_lens"},
    {AT, "kv_lens over Tk", at_kvlen_high, 0, "kv_lens"},
    {AT, "kv_lens negative", at_kvlen_neg, 0, "kv_lens"},
    {AT, "softcap negative", at_softcap_neg, 0, "softcap"},
    {AT, "softcap NaN", at_softcap_nan, 0, "softcap"},
    {AT, "softcap inf", at_softcap_inf, 0, "softcap"},
    {AT, "scale NaN", at_scale_nan, 0, "scale"},
    {AT, "scale -inf", at_scale_inf, 0, "scale"},
    {AT, "window_left -2", at_wl, 0, "window_left"},
    {AT, "window_right -5", at_wr, 0, "window_right"},
    {AT, "causal 2", at_causal, 0, "causal"},
    /* grouped GEMM */
    {GG, "args NULL", m_args_null, 0, "args"},
    {GG, "ctx NULL", m_ctx_null, 0, "ctx"},
    {GG, "layout 3", gg_layout_high, 0, "layout"},
    {GG, "layout -1", gg_layout_neg, 0, "layout"},
    {GG, "layout TN with NN shapes", gg_layout_tn, 0, "rhs"},
    {GG, "rhs G", m_dim0_plus, G_RHS, "rhs"},
    {GG, "rhs K", m_dim1_plus, G_RHS, "rhs"},
    {GG, "out M", m_dim0_minus, G_OUT, "out"},
    {GG, "out N", m_dim1_plus, G_OUT, "out"},
    {GG, "rhs dtype", m_to_bf16, G_RHS, "rhs"},
    {GG, "out dtype neither float32 nor lhs's", m_to_bf16, G_OUT, "out"},
    {GG, "float16 in, bfloat16 out", gg_f16_out_bf16, 0, "out"},
    {GG, "group size negative", gg_size_neg, 0, "group_sizes"},
    {GG, "group sizes sum over M", gg_sum_over, 0, "group_sizes"},
    /* MoE permute */
    {MP, "args NULL", m_args_null, 0, "args"},
    {MP, "ctx NULL", m_ctx_null, 0, "ctx"},
    {MP, "num_experts 0", mp_experts_zero, 0, "num_experts"},
    {MP, "num_experts unlike group_sizes", mp_experts_more, 0, "num_experts"},
    {MP, "align 0", mp_align_zero, 0, "align"},
    {MP, "align huge", mp_align_huge, 0, "align"},
    {MP, "expert_ids T", m_dim0_minus, P_EID, "expert_ids"},
    {MP, "permuted H", m_dim1_plus, P_PERM, "permuted"},
    {MP, "permuted dtype", m_to_bf16, P_PERM, "permuted"},
    {MP, "group_sizes E", m_dim0_plus, P_GS, "group_sizes"},
    {MP, "dest T", m_dim0_plus, P_DEST, "dest"},
    {MP, "dest k", m_dim1_plus, P_DEST, "dest"},
    {MP, "expert id negative", mp_id_neg, 0, "expert_ids"},
    {MP, "expert id = E", mp_id_high, 0, "expert_ids"},
    {MP, "R < T*k", mp_r_below_tk, 0, "permuted"},
    {MP, "R < padded rows needed", mp_r_below_needed, 0, "permuted"},
    /* MoE unpermute */
    {MU, "args NULL", m_args_null, 0, "args"},
    {MU, "ctx NULL", m_ctx_null, 0, "ctx"},
    {MU, "weights T", m_dim0_plus, U_W, "weights"},
    {MU, "weights k", m_dim1_plus, U_W, "weights"},
    {MU, "out T", m_dim0_plus, U_OUT, "out"},
    {MU, "out H", m_dim1_plus, U_OUT, "out"},
    {MU, "out dtype", m_to_f16, U_OUT, "out"},
    {MU, "dest negative", mu_dest_neg, 0, "dest"},
    {MU, "dest = R", mu_dest_high, 0, "dest"},
    /* paged attention */
    {PA, "args NULL", m_args_null, 0, "args"},
    {PA, "ctx NULL", m_ctx_null, 0, "ctx"},
    {PA, "k_cache D", m_dim3_plus, PA_K, "k_cache"},
    {PA, "k_cache heads do not divide q's", pa_heads, 0, "k_cache"},
    {PA, "page_size 0", pa_page_size_zero, 0, "page_size"},
    {PA, "v_cache P", m_dim0_plus, PA_V, "v_cache"},
    {PA, "v_cache page_size", m_dim1_plus, PA_V, "v_cache"},
    {PA, "v_cache Hkv", m_dim2_plus, PA_V, "v_cache"},
    {PA, "kv_lens S", m_dim0_plus, PA_KVL, "kv_lens"},
    {PA, "cu_q_lens S+1", m_dim0_minus, PA_CU, "cu_q_lens"},
    {PA, "out Tq_total", m_dim0_plus, PA_OUT, "out"},
    {PA, "out Hq", m_dim1_plus, PA_OUT, "out"},
    {PA, "out Dv", m_dim2_plus, PA_OUT, "out"},
    {PA, "k_cache dtype", m_to_f16, PA_K, "k_cache"},
    {PA, "v_cache dtype", m_to_bf16, PA_V, "v_cache"},
    {PA, "out dtype", m_to_bf16, PA_OUT, "out"},
    {PA, "page id negative", pa_page_neg, 0, "block_table"},
    {PA, "page id = P", pa_page_high, 0, "block_table"},
    {PA, "kv_len over max_pages*page_size", pa_kv_over, 0, "kv_lens"},
    {PA, "kv_len negative", pa_kv_neg, 0, "kv_lens"},
    {PA, "q_len over kv_len", pa_q_over_kv, 0, "kv_lens"},
    {PA, "decode with kv_len 0", pa_decode_kv_zero, 0, "kv_lens"},
    {PA, "cu_q_lens not starting at 0", pa_cu_start, 0, "cu_q_lens"},
    {PA, "cu_q_lens decreasing", pa_cu_decreasing, 0, "cu_q_lens"},
    {PA, "cu_q_lens not ending at Tq_total", pa_cu_end, 0, "cu_q_lens"},
    {PA, "decode with Tq_total != S", pa_decode_rows, 0, "q"},
    {PA, "softcap negative", pa_softcap_neg, 0, "softcap"},
    {PA, "softcap NaN", pa_softcap_nan, 0, "softcap"},
    {PA, "scale NaN", pa_scale_nan, 0, "scale"},
    {PA, "scale inf", pa_scale_inf, 0, "scale"},
    {PA, "window_left -3", pa_window, 0, "window_left"},
    /* attention backward */
    {AB, "valid", v_none, 0, NULL},
    {AB, "no q_lens, kv_lens", ab_no_lens, 0, NULL},
    {AB, "window and softcap", ab_window_softcap, 0, NULL},
    {AB, "bfloat16", ab_bf16, 0, NULL},
    {AB, "bfloat16 in, float32 gradients", ab_bf16_grads_f32, 0, NULL},
    {AB, "args NULL", m_args_null, 0, "args"},
    {AB, "ctx NULL", m_ctx_null, 0, "ctx"},
    {AB, "k heads do not divide q's", ab_heads, 0, "k"},
    {AB, "out Tq", m_dim1_plus, B_OUT, "out"},
    {AB, "out dtype", m_to_bf16, B_OUT, "out"},
    {AB, "dout B", m_dim0_plus, B_DOUT, "dout"},
    {AB, "dout Dv", m_dim3_minus, B_DOUT, "dout"},
    {AB, "dout dtype", m_to_f16, B_DOUT, "dout"},
    {AB, "lse Hq", m_dim1_plus, B_LSE, "lse"},
    {AB, "lse Tq", m_dim2_plus, B_LSE, "lse"},
    {AB, "lse dtype", m_to_bf16, B_LSE, "lse"},
    {AB, "dq Tq", m_dim1_plus, B_DQ, "dq"},
    {AB, "dq D", m_dim3_minus, B_DQ, "dq"},
    {AB, "dk Tk", m_dim1_plus, B_DK, "dk"},
    {AB, "dk Hkv", m_dim2_plus, B_DK, "dk"},
    {AB, "dv Dv", m_dim3_plus, B_DV, "dv"},
    {AB, "dv B", m_dim0_minus, B_DV, "dv"},
    {AB, "dq float16 for bfloat16 inputs", ab_bf16_dq_f16, 0, "dq"},
    {AB, "dk dtype", m_to_bf16, B_DK, "dk"},
    {AB, "q_lens over Tq", ab_qlen_high, 0, "q_lens"},
    {AB, "kv_lens negative", ab_kvlen_neg, 0, "kv_lens"},
    {AB, "softcap NaN", ab_softcap_nan, 0, "softcap"},
    {AB, "scale inf", ab_scale_inf, 0, "scale"},
    {AB, "causal -1", ab_causal, 0, "causal"},
    {AB, "window_right -2", ab_wr, 0, "window_right"},
    /* MoE unpermute backward */
    {UB, "valid", v_none, 0, NULL},
    {UB, "no weights", ub_no_weights, 0, NULL},
    {UB, "no d_weights, no rows", ub_no_d_weights, 0, NULL},
    {UB, "bfloat16", ub_bf16, 0, NULL},
    {UB, "args NULL", m_args_null, 0, "args"},
    {UB, "ctx NULL", m_ctx_null, 0, "ctx"},
    {UB, "d_weights without rows", ub_d_weights_no_rows, 0, "rows"},
    {UB, "dest T", m_dim0_plus, UB_DEST, "dest"},
    {UB, "weights k", m_dim1_plus, UB_W, "weights"},
    {UB, "rows R", m_dim0_plus, UB_ROWS, "rows"},
    {UB, "rows H", m_dim1_plus, UB_ROWS, "rows"},
    {UB, "rows dtype", m_to_bf16, UB_ROWS, "rows"},
    {UB, "d_rows H", m_dim1_plus, UB_DROWS, "d_rows"},
    {UB, "d_rows dtype", m_to_f16, UB_DROWS, "d_rows"},
    {UB, "d_weights T", m_dim0_minus, UB_DW, "d_weights"},
    {UB, "d_weights k", m_dim1_plus, UB_DW, "d_weights"},
    {UB, "dest negative", ub_dest_neg, 0, "dest"},
    {UB, "dest = R", ub_dest_high, 0, "dest"},
};

/* ---------------------------------------------------------------- running */

/* 1 if msg has word as a whole word (not inside a longer identifier). */
static int mentions(const char *msg, const char *word) {
  size_t n = strlen(word);
  for (const char *p = strstr(msg, word); p; p = strstr(p + 1, word)) {
    int before = p > msg && (isalnum((unsigned char)p[-1]) || p[-1] == '_');
    int after = isalnum((unsigned char)p[n]) || p[n] == '_';
    if (!before && !after) return 1;
  }
  return 0;
}

/* Builds the op's valid args, applies mut to slot, poisons the outputs and
 * calls the op. A bad case (arg != NULL) must fail with
 * TK_ERR_INVALID_ARGUMENT, a message naming arg, and no buffer changed; a
 * valid one must succeed and write its output. */
static void run_case(tk_context *ctx, tk_op op, const char *what, mutator mut, int slot,
                     const char *arg) {
  fixture f;
  unsigned char *before[12];
  fixture_init(&f, op);
  const char *slot_name = f.def->slots[slot].name;
  mut(&f, slot);
  for (int s = 0; s < f.def->n; s++) {
    if (f.def->slots[s].flags & OUT) poison(&f.b[s]);
    before[s] = malloc(f.b[s].bytes ? f.b[s].bytes : 1);
    memcpy(before[s], f.b[s].buf, f.b[s].bytes);
  }
  tk_status st = call_op(ctx, &f);
  const char *msg = tk_last_error();
  if (!arg) {
    CHECK(st == TK_OK, "%s %s: %s: %s", f.def->name, what, tk_status_string(st), msg);
    int o = f.def->main_out;
    int changed = memcmp(before[o], f.b[o].buf, f.b[o].bytes) != 0;
    CHECK(st != TK_OK || changed, "%s %s: output not written", f.def->name, what);
  } else {
    CHECK(st == TK_ERR_INVALID_ARGUMENT, "%s %s (%s): got %s: %s", f.def->name, what, slot_name,
          tk_status_string(st), msg);
    CHECK(mentions(msg, arg), "%s %s: message does not name '%s': %s", f.def->name, what, arg, msg);
    CHECK(strncmp(msg, f.def->name, strlen(f.def->name)) == 0,
          "%s %s: message does not start with the op: %s", f.def->name, what, msg);
    for (int s = 0; s < f.def->n; s++)
      CHECK(memcmp(before[s], f.b[s].buf, f.b[s].bytes) == 0, "%s %s: buffer of %s changed",
            f.def->name, what, f.def->slots[s].name);
  }
  for (int s = 0; s < f.def->n; s++) free(before[s]);
  fixture_free(&f);
}

/* Validation for a plan (need_data 0): every data pointer may be NULL and
 * the data-dependent rules are not applied; with need_data 1 NULL data
 * fails. */
static void check_plan_validation(void) {
  for (int op = 0; op < TK_OP_COUNT; op++) {
    fixture f;
    tk_problem p;
    fixture_init(&f, (tk_op)op);
    for (int s = 0; s < f.def->n; s++) f.b[s].t.data = NULL;
    tk_status st = tk_problem_validate((tk_op)op, &f.u, 0, &p);
    CHECK(st == TK_OK, "%s plan validation: %s", f.def->name, tk_last_error());
    CHECK(st != TK_OK || (p.op == (tk_op)op && p.has_data == 0 && p.device_type == kDLCPU &&
                          p.dtype == TK_F32),
          "%s plan problem fields", f.def->name);
    st = tk_problem_validate((tk_op)op, &f.u, 1, &p);
    CHECK(st == TK_ERR_INVALID_ARGUMENT, "%s NULL data with need_data", f.def->name);
    fixture_free(&f);
  }
}

int main(void) {
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) TK_TEST_END();

  int n_specific = 0, n_generic = 0;
  for (size_t i = 0; i < sizeof SPECIFIC / sizeof SPECIFIC[0]; i++, n_specific++)
    run_case(ctx, SPECIFIC[i].op, SPECIFIC[i].what, SPECIFIC[i].mut, SPECIFIC[i].slot,
             SPECIFIC[i].arg);
  for (int op = 0; op < TK_OP_COUNT; op++)
    for (size_t g = 0; g < sizeof GENERIC / sizeof GENERIC[0]; g++)
      for (int s = 0; s < OPS[op].n; s++) {
        int flags = OPS[op].slots[s].flags;
        if (GENERIC[g].only != ALL && !(GENERIC[g].only & flags)) continue;
        if (GENERIC[g].skip & flags) continue;
        run_case(ctx, (tk_op)op, GENERIC[g].what, GENERIC[g].mut, s, OPS[op].slots[s].name);
        n_generic++;
      }

  check_plan_validation();

  /* tk_moe_permute_max_rows: bad inputs give -1 */
  CHECK(tk_moe_permute_max_rows(5, 2, 3, 2) == 13, "max_rows(5,2,3,2)");
  CHECK(tk_moe_permute_max_rows(-1, 2, 3, 2) == -1, "negative T");
  CHECK(tk_moe_permute_max_rows(5, -2, 3, 2) == -1, "negative k");
  CHECK(tk_moe_permute_max_rows(5, 2, -3, 2) == -1, "negative E");
  CHECK(tk_moe_permute_max_rows(5, 2, 3, 0) == -1, "align 0");
  CHECK(tk_moe_permute_max_rows(INT64_MAX / 2, 3, 1, 1) == -1, "overflowing T*k");
  CHECK(tk_moe_permute_max_rows(1, 1, INT64_MAX / 2, 4) == -1, "overflowing padding");

  printf("%d specific cases, %d generic cases\n", n_specific, n_generic);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
