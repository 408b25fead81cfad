/* paged_decode.c: the paged decode kernel's plan: groups of (sequence,
 * block of query positions: block_q / G of them, at least one) with every
 * kv head, longest first, each split into kv_split key parts; one task per
 * (group, part) runs tk_paged_task_avx2 on the group's queries; with
 * parts, a second pass merges them per group by log-sum-exp in part order
 * (the bits never depend on the thread count). */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "impls/cpu/paged_cpu.h"
#include "runtime/half.h"
#include "runtime/status.h"

/* Query positions [pos0, pos0 + npos) of one sequence: n = npos * G rows
 * per kv head. */
typedef struct {
  int64_t seq, pos0, npos, n, cost;
} dgroup;

typedef struct {
  const tk_paged_attention_problem *p;
  const tk_cpu_paged_config *c;
  int64_t G, nsplit, dp, dvp, nb; /* nb: keys per step */
  int pairs;              /* queries and accumulators in pair order (tk_paged_task_pairs) */
  int converts;           /* tk_cpu_paged_decode_converts: the converting task function */
  float c_logit, c_cap;   /* c_logit includes tk_paged_task_q_gain */
  const dgroup *groups;
  float *scratch;         /* per worker: worker_floats */
  int64_t worker_floats;
  float *parts;           /* nsplit > 1: per task part_floats; else NULL */
  int64_t part_floats;
} decode_job;

static int64_t round8(int64_t x) { return (x + 7) & ~(int64_t)7; }
static int64_t round16(int64_t x) { return (x + 15) & ~(int64_t)15; }

/* Where element d of a row lies in a query or accumulator row (pairs: the
 * even elements of each 16, then the odd ones). */
static int64_t slot(int64_t d, int pairs) {
  return pairs ? (d & ~(int64_t)15) + ((d & 1) << 3) + ((d & 15) >> 1) : d;
}

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

/* Longest first; equal costs in (sequence, position) order. */
static int by_cost(const void *a, const void *b) {
  const dgroup *x = a, *y = b;
  if (x->cost != y->cost) return x->cost > y->cost ? -1 : 1;
  if (x->seq != y->seq) return x->seq < y->seq ? -1 : 1;
  return x->pos0 < y->pos0 ? -1 : x->pos0 > y->pos0;
}

/* The keys row r of group g sees: [*lo, *hi]. */
static void row_keys(const decode_job *job, const dgroup *g, int64_t r, int64_t q_len,
                     int64_t kv_len, int64_t *lo, int64_t *hi) {
  int64_t pos = g->pos0 + r / job->G;
  *hi = kv_len - q_len + pos;
  *lo = job->p->window_left >= 0 && *hi - job->p->window_left > 0 ? *hi - job->p->window_left : 0;
}

/* Writes row r of kv head hkv of group g: acc / l in out's dtype (0 where
 * l is 0). */
static void write_row(const decode_job *job, const dgroup *g, int64_t first, int64_t hkv,
                      int64_t r, const float *acc, float l) {
  const tk_paged_attention_problem *p = job->p;
  int64_t pos = g->pos0 + r / job->G, h = hkv * job->G + r % job->G;
  float inv = l > 0 ? 1.0f / l : 0.0f;
  for (int64_t d = 0; d < p->Dv; d++)
    tk_store_f32(tk_at(&p->out, first + pos, h, d, 0), p->out.dtype,
                 acc[slot(d, job->pairs)] * inv);
}

/* Per-task layout inside a worker's scratch or a part: acc [n][dvp], m, l
 * (n rows: every kv head's). */
static tk_paged_partial partial_at(float *base, int64_t n, int64_t dvp) {
  return (tk_paged_partial){base, base + n * dvp, base + n * dvp + round8(n)};
}

/* The task fields every task of p shares: sizes, cache and scale
 * layouts (a task adds its queries, keys, table row and softcap). */
static tk_paged_task task_shape(const tk_paged_attention_problem *p, int64_t n, int64_t dp,
                                int64_t dvp, int nb) {
  int64_t es = tk_dtype_size(p->k_cache.dtype);
  const tk_tensor *ks = &p->k_scale, *vs = &p->v_scale;
  int tok_k = ks->present && ks->ndim == 3, tok_v = vs->present && vs->ndim == 3;
  return (tk_paged_task){
      .nh = p->Hkv, .n = n, .D = p->D, .Dv = p->Dv, .dp = dp, .dvp = dvp,
      .table_step = p->block_table.stride[1], .page_size = p->page_size, .k = p->k_cache.data,
      .v = p->v_cache.data, .k_page = p->k_cache.stride[0] * es,
      .k_key = p->k_cache.stride[1] * es, .k_head = p->k_cache.stride[2] * es,
      .v_page = p->v_cache.stride[0] * es, .v_key = p->v_cache.stride[1] * es,
      .v_head = p->v_cache.stride[2] * es, .k_d = p->k_cache.stride[3] * es,
      .v_d = p->v_cache.stride[3] * es, .kv_dtype = p->k_cache.dtype,
      .k_scale = ks->present ? ks->data : NULL, .v_scale = vs->present ? vs->data : NULL,
      .ks_page = tok_k ? ks->stride[0] : 0, .ks_key = tok_k ? ks->stride[1] : 0,
      .ks_head = tok_k ? ks->stride[2] : 0, .vs_page = tok_v ? vs->stride[0] : 0,
      .vs_key = tok_v ? vs->stride[1] : 0, .vs_head = tok_v ? vs->stride[2] : 0, .dec_keys = nb};
}

/* One (group, part) task. */
static void decode_task(void *arg, int64_t task, int worker) {
  const decode_job *job = arg;
  const tk_paged_attention_problem *p = job->p;
  const dgroup *g = &job->groups[task / job->nsplit];
  int64_t part = task % job->nsplit, first, q_len, kv_len = tk_load_i32(&p->kv_lens, g->seq, 0);
  seq_queries(p, g->seq, &first, &q_len);
  float *ws = job->scratch + (int64_t)worker * job->worker_floats;
  int64_t n = g->n, rows = p->Hkv * n, rp = round8(rows), np = round8(n);
  float *q = ws;
  int32_t *lo = (int32_t *)(q + rp * job->dp), *hi = lo + np;
  float *pbase = (float *)(hi + np), *kscr = pbase + job->part_floats;
  tk_paged_partial out =
      partial_at(job->parts ? job->parts + task * job->part_floats : pbase, rows, job->dvp);
  for (int64_t h = 0; h < p->Hkv; h++)
    for (int64_t r = 0; r < n; r++) {
      int64_t pos = g->pos0 + r / job->G, hq = h * job->G + r % job->G;
      float *qr = q + (h * n + r) * job->dp;
      for (int64_t d = 0; d < job->dp; d++)
        qr[slot(d, job->pairs)] =
            d < p->D ? tk_load_f32(tk_at(&p->q, first + pos, hq, d, 0), p->q.dtype) * job->c_logit
                     : 0.0f;
    }
  for (int64_t r = 0; r < n; r++) {
    int64_t l, u;
    row_keys(job, g, r, q_len, kv_len, &l, &u);
    lo[r] = (int32_t)l;
    hi[r] = (int32_t)u;
  }
  /* the group's keys [kb, ke), cut into nsplit parts of whole steps */
  int64_t kb = lo[0], ke = hi[n - 1] + 1, nb = job->nb;
  int64_t step = ((ke - kb + job->nsplit - 1) / job->nsplit + nb - 1) / nb * nb;
  int64_t pb = kb + part * step, pe = pb + step < ke ? pb + step : ke;
  tk_paged_task t = task_shape(p, n, job->dp, job->dvp, (int)nb);
  t.q = q;
  t.lo = lo;
  t.hi = hi;
  t.kb = pb < ke ? pb : ke;
  t.ke = pe > pb ? pe : t.kb;
  t.table = tk_at(&p->block_table, g->seq, 0, 0, 0);
  t.c_cap = job->c_cap;
  t.prefetch = job->c->dec_pf;
  if (job->converts)
    tk_paged_convert_task_avx2(&t, kscr, &out);
  else
    tk_paged_task_avx2(&t, kscr, &out);
  if (job->nsplit > 1) return;
  for (int64_t h = 0; h < p->Hkv; h++)
    for (int64_t r = 0; r < n; r++)
      write_row(job, g, first, h, r, out.acc + (h * n + r) * job->dvp, out.l[h * n + r]);
}

/* Merges the parts of group gi in part order and writes its rows. */
static void merge_task(void *arg, int64_t gi, int worker) {
  const decode_job *job = arg;
  const dgroup *g = &job->groups[gi];
  int64_t first, q_len, rows = job->p->Hkv * g->n;
  seq_queries(job->p, g->seq, &first, &q_len);
  float *acc = job->scratch + (int64_t)worker * job->worker_floats;
  for (int64_t hr = 0; hr < rows; hr++) {
    float m = -INFINITY, l = 0.0f;
    for (int64_t s = 0; s < job->nsplit; s++) {
      tk_paged_partial pt =
          partial_at(job->parts + (gi * job->nsplit + s) * job->part_floats, rows, job->dvp);
      if (pt.m[hr] > m) m = pt.m[hr];
    }
    for (int64_t d = 0; d < job->dvp; d++) acc[d] = 0.0f;
    for (int64_t s = 0; s < job->nsplit && m > -INFINITY; s++) {
      tk_paged_partial pt =
          partial_at(job->parts + (gi * job->nsplit + s) * job->part_floats, rows, job->dvp);
      if (pt.m[hr] == -INFINITY) continue;
      float a = exp2f(pt.m[hr] - m);
      l += a * pt.l[hr];
      for (int64_t d = 0; d < job->dvp; d++) acc[d] += a * pt.acc[hr * job->dvp + d];
    }
    write_row(job, g, first, hr / g->n, hr % g->n, acc, l);
  }
}

static void run_tasks(tk_pool *pool, int64_t n, tk_task_fn fn, void *arg) {
  if (pool) {
    tk_pool_run(pool, n, fn, arg);
    return;
  }
  for (int64_t t = 0; t < n; t++) fn(arg, t, 0);
}

/* The groups of p (npos positions at most each), longest first, in *out
 * (caller frees); their count, -1 without memory. */
static int64_t plan_groups(const tk_paged_attention_problem *p, int64_t G, int64_t npos,
                           dgroup **out) {
  int64_t count = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len;
    seq_queries(p, s, &first, &len);
    count += (len + npos - 1) / npos;
  }
  dgroup *g = malloc(sizeof *g * (size_t)(count + 1));
  if (!g) return -1;
  int64_t n = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len, kv_len = tk_load_i32(&p->kv_lens, s, 0);
    seq_queries(p, s, &first, &len);
    for (int64_t p0 = 0; p0 < len; p0 += npos) {
      int64_t k = len - p0 < npos ? len - p0 : npos;
      g[n++] = (dgroup){s, p0, k, k * G, k * kv_len};
    }
  }
  qsort(g, (size_t)n, sizeof *g, by_cost);
  *out = g;
  return n;
}

tk_status tk_cpu_paged_decode(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c,
                              tk_pool *pool) {
  if (p->Hq == 0 || p->Tq_total == 0) return TK_OK; /* no output rows */
  int64_t G = p->Hq / p->Hkv, npos = c->block_q / G > 1 ? c->block_q / G : 1;
  /* no group holds more positions than the longest sequence has queries
   * (decode: one), so the scratch is sized for the rows there are */
  int64_t longest = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t first, len;
    seq_queries(p, s, &first, &len);
    if (len > longest) longest = len;
  }
  if (npos > longest && longest > 0) npos = longest;
  dgroup *groups = NULL;
  int64_t n = plan_groups(p, G, npos, &groups);
  if (n < 0) return tk_fail(TK_ERR_OUT_OF_MEMORY, "paged_attention (cpu): no memory for tasks");
  if (n == 0) { /* no query rows: nothing to write (sizes of empty tensors may be huge) */
    free(groups);
    return TK_OK;
  }
  const float log2e = 1.4426950408889634f;
  decode_job job = {.p = p, .c = c, .G = G, .nsplit = c->kv_split, .dp = round16(p->D),
                    .dvp = round16(p->Dv), .nb = c->dec_keys, .groups = groups};
  job.c_logit = p->softcap > 0 ? p->scale / p->softcap : p->scale * log2e;
  job.c_cap = p->softcap > 0 ? p->softcap * log2e : 0.0f;
  int64_t rows = p->Hkv * npos * G, rp = round8(rows), np = round8(npos * G);
  job.part_floats = rp * job.dvp + 2 * rp;
  job.converts = tk_cpu_paged_decode_converts(p);
  if (job.converts) { /* steps of float K/V of every head within 256 KiB (half this L2) */
    int64_t row = job.dp + job.dvp;
    int64_t fit = p->Hkv > 65536 / row ? 0 : (65536 / (p->Hkv * row)) & ~(int64_t)7;
    job.nb = job.nb < fit ? job.nb : fit > 8 ? fit : 8;
  }
  tk_paged_task shape = task_shape(p, npos * G, job.dp, job.dvp, (int)job.nb);
  job.pairs = !job.converts && tk_paged_task_pairs(&shape);
  if (!job.converts) job.c_logit *= tk_paged_task_q_gain(&shape);
  int64_t task_floats =
      job.converts ? tk_paged_convert_task_scratch(&shape) : tk_paged_task_scratch(&shape);
  job.worker_floats = round8(rp * job.dp + 2 * np + job.part_floats + task_floats);
  int workers = pool ? tk_pool_size(pool) : 1;
  job.scratch = alloc_floats(workers * job.worker_floats);
  if (job.nsplit > 1 && job.scratch) job.parts = alloc_floats(n * job.nsplit * job.part_floats);
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
