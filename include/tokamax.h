/* tokamax.h: the whole public API of libkernels (C11, DLPack tensors).
 *
 * Attention, grouped GEMM (ragged dot), MoE token permute/unpermute and
 * paged attention, forward, and the backward passes of attention and MoE
 * unpermute for training, each with several implementations chosen per
 * problem (forced, from the tuning cache, or by heuristic).
 *
 * Every call returns a tk_status. On failure tk_last_error() holds a message
 * naming the argument and what is wrong, and no output has been written.
 * The library never aborts and never prints unless TOKAMAX_LOG=info|debug.
 */
#ifndef TOKAMAX_H
#define TOKAMAX_H

#include <stddef.h>
#include <stdint.h>

#include <dlpack/dlpack.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TK_API __attribute__((visibility("default")))
#else
#define TK_API
#endif

#define TOKAMAX_VERSION_MAJOR 0
#define TOKAMAX_VERSION_MINOR 1
#define TOKAMAX_VERSION_PATCH 0

/* ---------------------------------------------------------------- status */

typedef enum {
  TK_OK = 0,
  TK_ERR_INVALID_ARGUMENT = 1, /* a bad argument: see tk_last_error() */
  TK_ERR_UNSUPPORTED = 2,      /* valid, but no (chosen) implementation runs it here */
  TK_ERR_OUT_OF_MEMORY = 3,
  TK_ERR_DEVICE = 4,           /* a CUDA/driver failure */
  TK_ERR_CACHE = 5,            /* the tuning cache could not be used */
  TK_ERR_INTERNAL = 6
} tk_status;

/* The status's name, e.g. "TK_ERR_INVALID_ARGUMENT"; never NULL. */
TK_API const char *tk_status_string(tk_status s);

/* The calling thread's message for its last failed call ("" if none).
 * Valid until that thread's next call into the library. */
TK_API const char *tk_last_error(void);

/* "0.1.0" */
TK_API const char *tk_version(void);

/* ---------------------------------------------------------------- context */

typedef struct tk_context tk_context;

enum {
  TK_TUNE_OFF = 0,     /* cache, then heuristic (default) */
  TK_TUNE_ON_MISS = 1  /* sweep a shape the cache lacks, store it */
};

typedef struct {
  const char *cache_path; /* NULL: $TOKAMAX_CACHE, else $XDG_CACHE_HOME/tokamax/tune.db
                             (~/.cache/...); ":memory:" for a private in-memory cache */
  int num_threads;        /* 0: one per physical core (hwloc) */
  int tune;               /* TK_TUNE_OFF or TK_TUNE_ON_MISS */
  void *cuda_stream;      /* cudaStream_t for CUDA calls; NULL = default stream */
} tk_context_options;

/* Creates a context: detects the CPU (and CUDA devices when built with
 * CUDA), starts a thread pool. opts may be NULL (all defaults). */
TK_API tk_status tk_context_create(const tk_context_options *opts, tk_context **out);
/* Stops the pool and frees the context; NULL is a no-op. */
TK_API void tk_context_destroy(tk_context *ctx);
/* Writes the detected device as JSON (NUL-terminated). If len is too small
 * nothing is written and TK_ERR_INVALID_ARGUMENT says how much is needed. */
TK_API tk_status tk_context_describe(tk_context *ctx, char *buf, size_t len);
/* Threads the context computes with. */
TK_API int tk_context_num_threads(const tk_context *ctx);

/* ---------------------------------------------------------------- options */

typedef struct {
  const char *impl;   /* NULL or "auto": choose; else a name or a list
                         "cuda_pipelined,cuda_tiled" tried in order */
  const char *config; /* NULL: choose; else "name=value,..." for the impl
                         that runs (must be valid in its config space) */
} tk_call_options;

typedef enum {
  TK_OP_ATTENTION = 0,
  TK_OP_GROUPED_GEMM = 1,
  TK_OP_MOE_PERMUTE = 2,
  TK_OP_MOE_UNPERMUTE = 3,
  TK_OP_PAGED_ATTENTION = 4,
  TK_OP_ATTENTION_BACKWARD = 5,
  TK_OP_MOE_UNPERMUTE_BACKWARD = 6,
  TK_OP_COUNT = 7
} tk_op;

/* "attention", "grouped_gemm", "moe_permute", "moe_unpermute",
 * "paged_attention", "attention_backward", "moe_unpermute_backward"; NULL
 * for an unknown op. */
TK_API const char *tk_op_name(tk_op op);
/* The op of a name above; TK_ERR_INVALID_ARGUMENT for an unknown name. */
TK_API tk_status tk_op_from_name(const char *name, tk_op *out);

/* ---------------------------------------------------------------- attention */

typedef struct {
  const DLTensor *q, *k, *v;  /* [B,Tq,Hq,D]  [B,Tk,Hkv,D]  [B,Tk,Hkv,Dv] */
  DLTensor *out;              /* [B,Tq,Hq,Dv], dtype of q */
  DLTensor *lse;              /* optional float32 [B,Hq,Tq]: log-sum-exp of each row */
  const DLTensor *q_lens, *kv_lens; /* optional int32 [B]: valid lengths (varlen) */
  float scale;                /* 0 = 1/sqrt(D) */
  int causal;                 /* query i sees key j <= i + (Tk_b - Tq_b), bottom-right aligned */
  int window_left, window_right; /* sliding window, -1 = unbounded */
  float softcap;              /* 0 = off; else logits = softcap * tanh(logits / softcap) */
} tk_attention_args;

TK_API tk_status tk_attention(tk_context *ctx, const tk_attention_args *args,
                       const tk_call_options *opts);

/* The gradients of tk_attention: dq, dk, dv from the forward call's q, k,
 * v, out, its lse and the gradient dout of out. Every forward semantic
 * holds (GQA/MQA, causal bottom-right, windows, softcap, varlen, Dv != D).
 * dk and dv of a KV head sum over its query heads. Rows of dq past q_lens
 * are not written; dk and dv rows of keys past kv_lens are zero, and so is
 * the dq row of a query that saw no key. dq, dk, dv have q's dtype or
 * float32. */
typedef struct {
  const DLTensor *q, *k, *v;       /* as in tk_attention_args */
  const DLTensor *out, *dout;      /* [B,Tq,Hq,Dv]: forward output and its gradient */
  const DLTensor *lse;             /* float32 [B,Hq,Tq] from the forward call */
  DLTensor *dq;                    /* [B,Tq,Hq,D]   */
  DLTensor *dk;                    /* [B,Tk,Hkv,D]  summed over the query heads of each KV head */
  DLTensor *dv;                    /* [B,Tk,Hkv,Dv] */
  const DLTensor *q_lens, *kv_lens; /* optional int32 [B], as in the forward */
  float scale; int causal; int window_left, window_right; float softcap; /* as in the forward */
} tk_attention_backward_args;

TK_API tk_status tk_attention_backward(tk_context *ctx, const tk_attention_backward_args *args,
                                       const tk_call_options *opts);

/* ---------------------------------------------------------------- grouped GEMM */

typedef enum {
  TK_GG_NN = 0, /* lhs [M,K], rhs [G,K,N] -> out [M,N]; rows of group g use rhs[g] */
  TK_GG_NT = 1, /* lhs [M,K], rhs [G,N,K] -> out [M,N]  (gradient w.r.t. lhs) */
  TK_GG_TN = 2  /* lhs [M,K], rhs [M,N]   -> out [G,K,N] = lhs_g^T rhs_g (gradient w.r.t. rhs) */
} tk_gg_layout;

typedef struct {
  const DLTensor *lhs, *rhs;
  const DLTensor *group_sizes; /* int32 [G], on the tensors' device */
  DLTensor *out;               /* float32, or the input dtype */
  tk_gg_layout layout;
} tk_grouped_gemm_args;

TK_API tk_status tk_grouped_gemm(tk_context *ctx, const tk_grouped_gemm_args *args,
                          const tk_call_options *opts);

/* ---------------------------------------------------------------- MoE */

typedef struct {
  const DLTensor *tokens;     /* [T,H] */
  const DLTensor *expert_ids; /* int32 [T,k], each in [0,E) */
  int num_experts;            /* E */
  int align;                  /* each expert's block padded to a multiple (1 = none) */
  DLTensor *permuted;         /* [R,H], dtype of tokens, R >= rows needed: grouped
                                 by expert, stable in token order within an expert;
                                 padding rows and rows past the last block are zero */
  DLTensor *group_sizes;      /* int32 [E]: rows per expert, padding included */
  DLTensor *dest;             /* int32 [T,k]: row of `permuted` holding (t, slot) */
} tk_moe_permute_args;

typedef struct {
  const DLTensor *rows;       /* [R,H]: expert outputs in permuted order */
  const DLTensor *dest;       /* int32 [T,k] from permute, each in [0,R) */
  const DLTensor *weights;    /* optional float32 [T,k] router weights (NULL = 1) */
  DLTensor *out;              /* [T,H], dtype of rows: sum over slots of weight * rows[dest] */
} tk_moe_unpermute_args;

TK_API tk_status tk_moe_permute(tk_context *ctx, const tk_moe_permute_args *args,
                         const tk_call_options *opts);
TK_API tk_status tk_moe_unpermute(tk_context *ctx, const tk_moe_unpermute_args *args,
                           const tk_call_options *opts);

/* The gradients of tk_moe_unpermute. The gradient of tk_moe_permute's
 * permuted is tk_moe_unpermute of it with unit weights (docs/api.md). */
typedef struct {
  const DLTensor *dout;     /* [T,H]: gradient of tk_moe_unpermute's out */
  const DLTensor *rows;     /* [R,H]: the forward call's rows (needed for d_weights) */
  const DLTensor *dest;     /* int32 [T,k], each in [0,R) */
  const DLTensor *weights;  /* optional float32 [T,k] (NULL = 1) */
  DLTensor *d_rows;         /* [R,H], dtype of dout: weight[t,s] * dout[t] at row dest[t,s]
                               (summed where slots share a row); rows no slot points to are zero */
  DLTensor *d_weights;      /* optional float32 [T,k]: dot(dout[t], rows[dest[t,s]]) */
} tk_moe_unpermute_backward_args;

TK_API tk_status tk_moe_unpermute_backward(tk_context *ctx,
                                           const tk_moe_unpermute_backward_args *args,
                                           const tk_call_options *opts);

/* Rows `permuted` needs at most for T tokens, top-k, E experts and align:
 * T*k + E*(align-1). Negative or overflowing inputs give -1. */
TK_API int64_t tk_moe_permute_max_rows(int64_t T, int64_t k, int64_t E, int64_t align);

/* ---------------------------------------------------------------- paged attention */

typedef struct {
  const DLTensor *q;           /* [Tq_total,Hq,D]: queries of S sequences, packed */
  const DLTensor *k_cache;     /* [P, page_size, Hkv, D] (NHD pages) */
  const DLTensor *v_cache;     /* [P, page_size, Hkv, Dv] */
  const DLTensor *block_table; /* int32 [S, max_pages]: page ids of each sequence */
  const DLTensor *kv_lens;     /* int32 [S]: tokens in each sequence's cache */
  const DLTensor *cu_q_lens;   /* int32 [S+1] query offsets; NULL = decode, one query each */
  DLTensor *out;               /* [Tq_total,Hq,Dv], dtype of q */
  float scale, softcap;        /* as for attention */
  int window_left;             /* -1 = unbounded */
  /* 8-bit caches: k_cache/v_cache (both) may be float8 e4m3fn (DLPack code
   * 10, 8 bits) or int8 instead of q's dtype; a cached value x stands for
   * x * scale. k_scale/v_scale: float32 [P,page_size,Hkv] (one per token and
   * KV head) or [1] (one per tensor); required for 8-bit caches, NULL
   * otherwise. Appended: zero-initialised callers keep 16/32-bit caches. */
  const DLTensor *k_scale, *v_scale;
} tk_paged_attention_args;

TK_API tk_status tk_paged_attention(tk_context *ctx, const tk_paged_attention_args *args,
                             const tk_call_options *opts);

/* ---------------------------------------------------------------- plans */

typedef struct tk_plan tk_plan;

typedef enum {
  TK_CHOICE_FORCED = 0,    /* tk_call_options named the impl (and/or config) */
  TK_CHOICE_CACHE = 1,     /* exact hit in the tuning cache */
  TK_CHOICE_NEAREST = 2,   /* nearest tuned shape of the same op and parameters */
  TK_CHOICE_HEURISTIC = 3, /* the first supporting impl with its heuristic config */
  TK_CHOICE_PACK = 4       /* exact hit in a tuned pack shipped for this device class */
} tk_choice_source;

/* Resolves implementation and configuration once for a problem. args points
 * to the op's args struct; its data pointers may be NULL. */
TK_API tk_status tk_plan_create(tk_context *ctx, tk_op op, const void *args,
                         const tk_call_options *opts, tk_plan **out);
/* Runs the plan on args of the same problem (shapes, dtypes, strides and
 * parameters equal; data may differ). */
TK_API tk_status tk_plan_run(tk_plan *plan, const void *args);
/* The chosen implementation's name. */
TK_API const char *tk_plan_impl(const tk_plan *plan);
/* The chosen configuration as "name=value,..." ("" for an empty space). */
TK_API const char *tk_plan_config(const tk_plan *plan);
/* Why this choice: forced, cache, nearest, heuristic or pack. */
TK_API tk_choice_source tk_plan_source(const tk_plan *plan);
/* "forced", "cache", "nearest", "heuristic", "pack". */
TK_API const char *tk_choice_source_name(tk_choice_source s);
/* The plan's canonical problem key (what the tuning cache is keyed by). */
TK_API const char *tk_plan_problem_key(const tk_plan *plan);
TK_API void tk_plan_destroy(tk_plan *plan);

/* ---------------------------------------------------------------- introspection */

/* Names of the op's implementations, fastest-first, "reference" last.
 * Writes up to cap names to names (may be NULL when cap is 0) and the total
 * to *count. Names are static strings. */
TK_API tk_status tk_impl_list(tk_op op, const char **names, int cap, int *count);

/* TK_OK if impl can run this problem on ctx's device; otherwise
 * TK_ERR_UNSUPPORTED (or TK_ERR_INVALID_ARGUMENT for bad args or an unknown
 * impl) with the reason written to why (may be NULL). */
TK_API tk_status tk_impl_supports(tk_context *ctx, tk_op op, const char *impl,
                           const void *args, char *why, size_t why_len);

/* The impl's config space as text: one line per parameter,
 * "name: v1 v2 ..."; empty for an impl without parameters. */
TK_API tk_status tk_impl_config_space(tk_op op, const char *impl, char *buf, size_t len);

#ifdef __cplusplus
}
#endif

#endif /* TOKAMAX_H */
