/* paged_decode.c: the paged decode kernel's plan: groups of (sequence,
 * block of block_q rows, kv head), longest first, each split into kv_split
 * key parts; one task per (group, part) runs tk_paged_task_avx2 on the
 * group's queries; with parts, a second pass merges them per group by
 * log-sum-exp in part order (the bits never depend on the thread count). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "impls/cpu/paged_cpu.h"
#include "runtime/half.h"
#include "runtime/status.h"

/* The rows [r0, r0 + n) of one sequence's queries against one kv head. */
typedef struct {
  int64_t seq, r0, n, hkv, cost;
} dgroup;

typedef struct {
  const tk_paged_attention_problem *p;
  const tk_cpu_paged_config *c;
  int64_t G, nsplit, dp, dvp;
  float c_logit, c_cap;
  const dgroup *groups;
  float *scratch;         /* per worker: worker_floats */
  int64_t worker_floats;
  float *parts;           /* nsplit > 1: per task part_floats; else NULL */
  int64_t part_floats;
} decode_job;

static int64_t round8(int64_t x) { return (x + 7) & ~(int64_t)7; }

/* n floats, 64-byte aligned (the size rounded up to whole lines). */
static float *alloc_floats(int64_t n) {
  return aligned_alloc(64, ((size_t)n * sizeof(float) + 63) & ~(size_t)63);
}

/* Queries of sequence s: first row and count. */
static void seq_queries(const tk_paged_attention_problem *p, int64_t s, int64_t *first,
                        int64_t *len) {
  *first = s;
  *len = 1;
  if (p->cu_q_lens.present) {
    *first = tk_load_i32(&p->cu_q_lens, s, 0);
    *len = tk_load_i32(&p->cu_q_lens, s + 1, 0) - *first;
  }
}

/* Longest first; equal costs in (sequence, rows, kv head) order. */
static int by_cost(const void *a, const void *b) {
  const dgroup *x = a, *y = b;
  if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  if (x->r0 != y->r0) return x->r0 < y->r0 ? -1 : 1;
  return x->hkv < y->hkv ? -1 : x->hkv > y->hkv;
}

/* The keys row r of group g sees: [*lo, *hi]. */
static void row_keys(const decode_job *job, const dgroup *g, int64_t r, int64_t q_len,
                     int64_t kv_len, int64_t *lo, int64_t *hi) {
  int64_t pos = (g->r0 + r) / job->G;
  *hi = kv_len - q_len + pos;
  *lo = job->p->window_left >= 0 && *hi - job->p->window_left > 0 ? *hi - job->p->window_left : 0;
}

/* Writes row r of group g: acc / l in out's dtype (0 where l is 0). */
static void write_row(const decode_job *job, const dgroup *g, int64_t first, int64_t r,
                      const float *acc, float l) {
  const tk_paged_attention_problem *p = job->p;
  int64_t row = g->r0 + r, pos = row / job->G, h = g->hkv * job->G + row % job->G;
  float inv = l > 0 ? 1.0f / l : 0.0f;
  for (int64_t d = 0; d < p->Dv; d++)
    tk_store_f32(tk_at(&p->out, first + pos, h, d, 0), p->out.dtype, acc[d] * inv);
}

/* Per-task layout inside a worker's scratch or a part: acc [n][dvp], m, l. */
static tk_paged_partial partial_at(float *base, int64_t n, int64_t dvp) {
  return (tk_paged_partial){base, base + n * dvp, base + n * dvp + round8(n)};
}

/* One (group, part) task. */
static void decode_task(void *arg, int64_t task, int worker) {
  const decode_job *job = arg;
  const tk_paged_attention_problem *p = job->p;
  const dgroup *g = &job->groups[task / job->nsplit];
  int64_t part = task % job->nsplit, first, q_len, kv_len = tk_load_i32(&p->kv_lens, g->seq, 0);
  seq_queries(p, g->seq, &first, &q_len);
  float *ws = job->scratch + (int64_t)worker * job->worker_floats;
  int64_t np = round8(g->n), rows_floats = np * job->dp;
  float *q = ws;
  int32_t *lo = (int32_t *)(q + rows_floats), *hi = lo + np;
  float *pbase = (float *)(hi + np);
  int64_t pfl = job->part_floats;
  float *kscr = pbase + pfl;
  tk_paged_partial out = partial_at(job->parts ? job->parts + task * pfl : pbase, g->n, job->dvp);
  for (int64_t r = 0; r < g->n; r++) {
    int64_t row = g->r0 + r, pos = row / job->G, h = g->hkv * job->G + row % job->G, l, u;
    for (int64_t d = 0; d < job->dp; d++)
      q[r * job->dp + d] =
          d < p->D ? tk_load_f32(tk_at(&p->q, first + pos, h, d, 0), p->q.dtype) * job->c_logit : 0;
    row_keys(job, g, r, q_len, kv_len, &l, &u);
    lo[r] = (int32_t)l;
    hi[r] = (int32_t)u;
  }
  /* the group's keys [kb, ke), cut into nsplit parts of whole steps */
  int64_t kb = lo[0], ke = hi[g->n - 1] + 1, nb = job->c->dec_keys;
  int64_t step = ((ke - kb + job->nsplit - 1) / job->nsplit + nb - 1) / nb * nb;
  int64_t pb = kb + part * step, pe = pb + step < ke ? pb + step : ke;
  int64_t es = tk_dtype_size(p->k_cache.dtype);
  int per_token_k = p->k_scale.present && p->k_scale.ndim == 3;
  int per_token_v = p->v_scale.present && p->v_scale.ndim == 3;
  tk_paged_task t = {
      .n = g->n, .D = p->D, .Dv = p->Dv, .dp = job->dp, .dvp = job->dvp, .q = q, .lo = lo, .hi = hi,
      .kb = pb, .ke = pe > pb ? pe : pb,
      .table = tk_at(&p->block_table, g->seq, 0, 0, 0), .table_step = p->block_table.stride[1],
      .page_size = p->page_size, .k = tk_at(&p->k_cache, 0, 0, g->hkv, 0),
      .v = tk_at(&p->v_cache, 0, 0, g->hkv, 0), .k_page = p->k_cache.stride[0] * es,
      .k_key = p->k_cache.stride[1] * es, .v_page = p->v_cache.stride[0] * es,
      .v_key = p->v_cache.stride[1] * es, .k_d = p->k_cache.stride[3] * es,
      .v_d = p->v_cache.stride[3] * es, .kv_dtype = p->k_cache.dtype,
      .k_scale = p->k_scale.present
                     ? (const float *)(per_token_k ? tk_at(&p->k_scale, 0, 0, g->hkv, 0) : p->k_scale.data)
                     : NULL,
      .v_scale = p->v_scale.present
                     ? (const float *)(per_token_v ? tk_at(&p->v_scale, 0, 0, g->hkv, 0) : p->v_scale.data)
                     : NULL,
      .ks_page = per_token_k ? p->k_scale.stride[0] : 0, .ks_key = per_token_k ? p->k_scale.stride[1] : 0,
      .vs_page = per_token_v ? p->v_scale.stride[0] : 0, .vs_key = per_token_v ? p->v_scale.stride[1] : 0,
      .c_cap = job->c_cap, .dec_keys = (int)nb};
  tk_paged_task_avx2(&t, kscr, &out);
  if (job->nsplit > 1) return;
  for (int64_t r = 0; r < g->n; r++) write_row(job, g, first, r, out.acc + r * job->dvp, out.l[r]);
}

/* Merges the parts of group gi in part order and writes its rows. */
static void merge_task(void *arg, int64_t gi, int worker) {
  const decode_job *job = arg;
  const dgroup *g = &job->groups[gi];
  int64_t first, q_len;
  seq_queries(job->p, g->seq, &first, &q_len);
  float *acc = job->scratch + (int64_t)worker * job->worker_floats;
  for (int64_t r = 0; r < g->n; r++) {
    float m = -INFINITY, l = 0.0f;
    for (int64_t s = 0; s < job->nsplit; s++) {
      tk_paged_partial pt = partial_at(job->parts + (gi * job->nsplit + s) * job->part_floats, g->n,
                                       job->dvp);
      if (pt.m[r] > m) m = pt.m[r];
    }
    for (int64_t d = 0; d < job->dvp; d++) acc[d] = 0.0f;
    for (int64_t s = 0; s < job->nsplit && m > -INFINITY; s++) {
      tk_paged_partial pt = partial_at(job->parts + (gi * job->nsplit + s) * job->part_floats, g->n,
                                       job->dvp);
      if (pt.m[r] == -INFINITY) continue;
      float a = exp2f(pt.m[r] - m);
      l += a * pt.l[r];
      for (int64_t d = 0; d < job->dvp; d++) acc[d] += a * pt.acc[r * job->dvp + d];
    }
    write_row(job, g, first, r, acc, l);
  }
}

static void run_tasks(tk_pool *pool, int64_t n, tk_task_fn fn, void *arg) {
  if (pool) {
    tk_pool_run(pool, n, fn, arg);
    return;
  }
  for (int64_t t = 0; t < n; t++) fn(arg, t, 0);
}

/* The groups of p, longest first, in *out (caller frees); their count. */
static int64_t plan_groups(const tk_paged_attention_problem *p, int64_t G, int64_t block,
                           dgroup **out) {
  int64_t count = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len;
    seq_queries(p, s, &first, &len);
    count += (len * G + block - 1) / block * p->Hkv;
  }
  dgroup *g = malloc(sizeof *g * (size_t)(count + 1));
  if (!g) return -1;
  int64_t n = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len, kv_len = tk_load_i32(&p->kv_lens, s, 0);
    seq_queries(p, s, &first, &len);
    for (int64_t r0 = 0; r0 < len * G; r0 += block)
      for (int64_t h = 0; h < p->Hkv; h++) {
        int64_t rows = len * G - r0 < block ? len * G - r0 : block;
        g[n++] = (dgroup){s, r0, rows, h, rows * kv_len};
      }
  }
  qsort(g, (size_t)n, sizeof *g, by_cost);
  *out = g;
  return n;
}

tk_status tk_cpu_paged_decode(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c,
                              tk_pool *pool) {
  int64_t G = p->Hq / p->Hkv, block = c->block_q;
  dgroup *groups = NULL;
  int64_t n = plan_groups(p, G, block, &groups);
  if (n < 0) return tk_fail(TK_ERR_OUT_OF_MEMORY, "paged_attention (cpu): no memory for tasks");
  const float log2e = 1.4426950408889634f;
  decode_job job = {p, c, G, c->kv_split, round8(p->D), round8(p->Dv), 0, 0, groups, NULL, 0, NULL, 0};
  job.c_logit = p->softcap > 0 ? p->scale / p->softcap : p->scale * log2e;
  job.c_cap = p->softcap > 0 ? p->softcap * log2e : 0.0f;
  int64_t np = round8(block);
  job.part_floats = np * job.dvp + 2 * np;
  tk_paged_task shape = {.n = np, .dp = job.dp, .dvp = job.dvp, .dec_keys = c->dec_keys};
  job.worker_floats = round8(np * job.dp + 2 * np + job.part_floats + tk_paged_task_scratch(&shape));
  int workers = pool ? tk_pool_size(pool) : 1;
  job.scratch = alloc_floats(workers * job.worker_floats);
  if (job.nsplit > 1 && job.scratch)
    job.parts = alloc_floats(n * job.nsplit * job.part_floats);
  if (!job.scratch || (job.nsplit > 1 && !job.parts)) {
    free(job.scratch);
    free(groups);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "paged_attention (cpu): no memory for decode scratch");
  }
  run_tasks(pool, n * job.nsplit, decode_task, &job);
  if (job.nsplit > 1) run_tasks(pool, n, merge_task, &job);
  free(job.parts);
  free(job.scratch);
  free(groups);
  return TK_OK;
}
