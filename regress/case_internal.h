/* case_internal.h: what a tk_case holds, shared by the spec parser, the
 * per-op builders and the checks of regress/. Not part of any public API. */
#ifndef TK_REGRESS_CASE_INTERNAL_H
#define TK_REGRESS_CASE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/problem.h"
#include "runtime/status.h"
#include "runtime/tensor.h"
#include "regress/case.h"

/* Bytes of guard pattern after every output buffer. */
#define TK_CASE_GUARD 64
#define TK_CASE_GUARD_BYTE 0xC3u
#define TK_CASE_MAX_TENSORS 12

typedef enum { TK_SIZES_BALANCED = 0, TK_SIZES_RANDOM, TK_SIZES_ZIPF, TK_SIZES_SINGLE } tk_sizes_kind;

/* Every key of every op (docs/suites.md); an op reads only its own. */
typedef struct {
  tk_op op;
  tk_dtype dtype;
  int64_t B, Tq, Tk, Hq, Hkv, D, Dv;      /* attention (Hq Hkv D Dv: paged too) */
  int64_t causal, wl, wr, lse, varlen, strided;
  double softcap, scale;                   /* attention and paged */
  int64_t out_same, layout, M, K, N, G, sizes, empty, unused; /* grouped GEMM (empty: MoE too) */
  int64_t T, H, k, E, align, skew, weights;                   /* MoE */
  int64_t grad_f32;                                           /* attention backward */
  int64_t dweights, shared;                                   /* unpermute backward */
  int64_t page, decode, prefill, qlen, kvmax, window;         /* paged */
  int64_t kv, kvscale, kv_lens; /* paged: cache same|fp8|i8, scales token|tensor, fixed kv length */
} tk_case_params;

/* Writes the formatted reason to err (if err_len > 0) and returns s. */
tk_status tk_case_err(tk_status s, char *err, size_t err_len, const char *fmt, ...)
    TK_PRINTF(4, 5);

/* Parses spec into *p (defaults for absent keys) and checks it describes a
 * valid problem, without allocating buffers. On failure returns
 * TK_ERR_INVALID_ARGUMENT with the offending word and reason in err. */
tk_status tk_case_spec_parse(const char *spec, tk_case_params *p, char *err, size_t err_len);

/* One tensor of a case over its own malloc'd buffer. */
typedef struct {
  const char *name;
  DLTensor dl;
  int64_t shape[TK_MAX_DIMS], strides[TK_MAX_DIMS];
  tk_dtype dtype;
  int is_output;
  int64_t span;        /* elements from the first to one past the last, gaps included */
  size_t data_bytes;   /* span * element size; outputs have TK_CASE_GUARD more */
  unsigned char *buf;
  unsigned char *input_copy; /* inputs: the buffer as created */
  unsigned char *expected;   /* outputs: the reference's buffer */
  unsigned char *snapshot;   /* outputs: the buffer at tk_case_snapshot */
  unsigned char *want;       /* outputs: per physical element, 1 = must be written */
  double scale;              /* outputs: magnitude the error is measured against */
  int scale_rms;             /* outputs: judged against the RMS of the expected values instead */
  int exact;                 /* outputs: must equal the reference bit for bit */
  tk_dtype tol_dtype;        /* outputs: dtype whose tolerance applies */
} tk_case_tensor;

struct tk_case {
  tk_case_params p;
  char *spec;
  uint64_t rng;
  int n_tensors;
  tk_case_tensor t[TK_CASE_MAX_TENSORS];
  union {
    tk_attention_args attention;
    tk_grouped_gemm_args grouped_gemm;
    tk_moe_permute_args moe_permute;
    tk_moe_unpermute_args moe_unpermute;
    tk_paged_attention_args paged_attention;
    tk_attention_backward_args attention_backward;
    tk_moe_unpermute_backward_args moe_unpermute_backward;
  } args;
  int have_expected, have_snapshot;
  tk_problem problem; /* the args validated, over the case's buffers */
};

/* splitmix64: the next 64 random bits of *state. */
static inline uint64_t tk_case_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

/* A uniform integer in [0, n) (n > 0). */
static inline int64_t tk_case_randint(uint64_t *state, int64_t n) {
  return (int64_t)(tk_case_rand(state) % (uint64_t)n);
}

/* A uniform double in [0, 1). */
static inline double tk_case_rand01(uint64_t *state) {
  return (double)(tk_case_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Shuffles v[0..n) in place (Fisher-Yates). */
void tk_case_shuffle(uint64_t *state, int64_t *v, int64_t n);

/* Adds a tensor of ndim dims to c. perm (NULL = identity) lists the logical
 * dims from outermost to innermost in memory; pad elements are added after
 * each innermost run. Data inputs are filled with random non-zero values in
 * [-1, 1], int32 inputs with zeros (the builder fills them); outputs get a
 * guard. Returns the tensor, or NULL when out of memory. */
tk_case_tensor *tk_case_add(tk_case *c, const char *name, tk_dtype dtype, int is_output,
                            int ndim, const int64_t *shape, const int *perm, int64_t pad);

/* The physical element index of logical index idx (ndim entries). */
static inline int64_t tk_case_offset(const tk_case_tensor *t, const int64_t *idx) {
  int64_t off = 0;
  for (int d = 0; d < t->dl.ndim; d++) off += idx[d] * t->strides[d];
  return off;
}

/* Pointer to the int32 element at logical idx. */
static inline int32_t *tk_case_i32(const tk_case_tensor *t, const int64_t *idx) {
  return (int32_t *)t->buf + tk_case_offset(t, idx);
}

/* Marks every logical element of output t as must-be-written (gaps stay 0). */
void tk_case_want_all(tk_case_tensor *t);

/* The poison bit pattern of one element of dtype d, written into out. */
void tk_case_poison_element(tk_dtype d, void *out);

/* What the case builder knows of one op (regress/case_<op>.c), indexed
 * by tk_op in regress/case_ops.c. */
typedef struct {
  /* The cross-key rules of a parsed spec (completing defaults that depend
   * on other keys); *elems = the elements its largest tensors hold. On a
   * bad spec TK_ERR_INVALID_ARGUMENT with the reason in err. */
  tk_status (*check)(tk_case_params *p, double *elems, char *err, size_t err_len);
  /* Adds the tensors, fills index inputs, sets args and masks;
   * TK_ERR_OUT_OF_MEMORY when allocation fails. */
  tk_status (*build)(tk_case *c);
} tk_case_ops;

/* The hooks of op (a valid tk_op). */
const tk_case_ops *tk_case_ops_of(tk_op op);

/* A bad spec: TK_ERR_INVALID_ARGUMENT with the formatted reason in err. */
#define tk_case_bad(err, err_len, ...) tk_case_err(TK_ERR_INVALID_ARGUMENT, err, err_len, __VA_ARGS__)

extern const tk_case_ops tk_case_attention_ops, tk_case_grouped_gemm_ops, tk_case_moe_permute_ops,
    tk_case_moe_unpermute_ops, tk_case_paged_attention_ops, tk_case_attention_backward_ops,
    tk_case_moe_unpermute_backward_ops;

/* What attention forward and backward cases share (case_attention.c). */

/* The spec rules: Hq a multiple of Hkv; Dv defaults to D. */
tk_status tk_case_attention_check(tk_case_params *p, double *elems, char *err, size_t err_len);

/* A [B,T,H,D]-shaped tensor in the case's layout (strided=1: stored as
 * [B,H,T,D] with padded rows). */
tk_case_tensor *tk_case_attention_tensor(tk_case *c, const char *name, tk_dtype dtype,
                                         int is_output, const int64_t *shape);

/* Adds q, k, v (random) and, with varlen, q_lens and kv_lens (drawn, one
 * sequence empty when B >= 2; else both NULL). */
tk_status tk_case_attention_inputs(tk_case *c, tk_case_tensor **q, tk_case_tensor **k,
                                   tk_case_tensor **v, tk_case_tensor **ql, tk_case_tensor **kl);

/* What MoE cases share (case_moe.c). */

/* The spec rules: k distinct experts per token among those that get
 * tokens (only permute leaves experts empty). */
tk_status tk_case_moe_check(tk_case_params *p, double *elems, char *err, size_t err_len);

/* The rows R permute may need for the case's T, k, E, align (-1: too many). */
int64_t tk_case_moe_rows(const tk_case *c);

/* Adds dest [T,k] (a random injective map into [0,R)) and, with weights,
 * positive router weights [T,k] (else *w NULL). */
tk_status tk_case_moe_scatter(tk_case *c, int64_t R, tk_case_tensor **dest, tk_case_tensor **w);

/* Marks the rows of output t past each batch's q_len (ql NULL: none) as
 * not to be written; rows_dim is the dim of the query position (1 for
 * [B,Tq,H,D], 2 for [B,H,Tq]). */
void tk_case_unwant_past_q_len(const tk_case *c, tk_case_tensor *t, const tk_case_tensor *ql,
                               int rows_dim);

#endif
