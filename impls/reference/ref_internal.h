/* ref_internal.h: helpers shared by the reference implementations (not part
 * of reference.h's interface): running tasks with or without a pool, reading
 * int32 elements, and attending one query row over a list of keys. */
#ifndef TK_IMPLS_REF_INTERNAL_H
#define TK_IMPLS_REF_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "kernels/problem.h"
#include "runtime/status.h"
#include "runtime/tensor.h"
#include "runtime/thread_pool.h"

/* Workers a run over pool uses: its size, or 1 without a pool. */
int tk_ref_workers(const tk_pool *pool);

/* Runs fn for every task in [0, n): over the pool, or in order on the
 * calling thread (worker 0) when pool is NULL. */
void tk_ref_run(tk_pool *pool, int64_t n, tk_task_fn fn, void *arg);


/* The keys row i of a batch of valid lengths tq, tk sees under p's masks
 * (DESIGN.md): [*lo, *hi], empty when *lo > *hi. */
void tk_ref_visible(const tk_attention_problem *p, int64_t i, int64_t tq, int64_t tk, int64_t *lo,
                    int64_t *hi);

/* The valid query and key lengths of batch b. */
void tk_ref_lengths(const tk_attention_problem *p, int64_t b, int64_t *tq, int64_t *tk);

/* One query row and the keys it may see. k[j] / v[j] point at element 0 of
 * key j's head vector; consecutive elements are *_step elements apart. */
typedef struct {
  const void *q;
  int64_t q_step, D;
  tk_dtype q_dtype;
  const void *const *k;
  int64_t k_step;
  tk_dtype k_dtype;
  const void *const *v;
  int64_t v_step, Dv;
  tk_dtype v_dtype;
  double scale, softcap; /* softcap <= 0: off */
  const float *k_scale, *v_scale; /* NULL, or key j's value is its element times [j] (8-bit caches) */
} tk_ref_row;

/* Per-worker scratch of tk_ref_attend_row callers: for each of `workers`
 * workers, keys logits then Dv accumulators (doubles), and keys key
 * pointers then keys value pointers. */
typedef struct {
  int64_t keys, dv;
  double *d;
  const void **ptr;
} tk_ref_row_scratch;

/* Allocates *s for keys keys (the most any task attends) and dv values,
 * sizes checked for overflow; TK_ERR_OUT_OF_MEMORY naming op on failure. */
tk_status tk_ref_row_scratch_alloc(tk_ref_row_scratch *s, int64_t workers, int64_t keys,
                                   int64_t dv, const char *op);
void tk_ref_row_scratch_free(tk_ref_row_scratch *s);

/* Worker w's logits (then accumulators) and key pointers (then values). */
static inline double *tk_ref_row_logits(const tk_ref_row_scratch *s, int w) {
  return s->d + (int64_t)w * (s->keys + s->dv);
}
static inline const void **tk_ref_row_keys(const tk_ref_row_scratch *s, int w) {
  return s->ptr + (int64_t)w * 2 * s->keys;
}

/* Attends r's query to keys lo..hi (inclusive) in float64: writes the
 * softmax-weighted sum of their values to acc[0..Dv) and returns the
 * log-sum-exp of the logits. With lo > hi (no key seen) acc is zero and the
 * result -inf. logits needs room for hi - lo + 1 doubles. */
double tk_ref_attend_row(const tk_ref_row *r, int64_t lo, int64_t hi, double *logits, double *acc);

#endif
