/* attention_engine.c: groups of query rows over the pool: row masks, query
 * packing, the walk over key blocks (split at page ends), and the final
 * (or split-merging) normalisation into out and lse. */
#include "impls/cpu/attention_engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/device.h"
#include "runtime/half.h"
#include "runtime/status.h"

#define LOG2E 1.4426950408889634
#define LN2 0.6931471805599453
#define ALIGN(x) (((x) + 63) & ~(size_t)63)

void tk_attn_params_init(tk_attn_params *p, int64_t D, int64_t Dv, tk_dtype dtype, int isa,
                         int64_t block_q, int64_t block_kv, int mr, int nsplit, float scale,
                         float softcap) {
  memset(p, 0, sizeof *p);
  p->D = D;
  p->Dv = Dv;
  p->dtype = dtype;
  p->isa = isa;
  p->lanes = isa == 512 ? 16 : 8;
  p->bf16_dot = isa == 512 && dtype == TK_BF16 && (tk_cpu_isa() & TK_ISA_AVX512_BF16);
  p->mr = mr;
  p->block_q = block_q;
  p->block_kv = block_kv;
  p->dq = p->bf16_dot ? (D + 1) & ~(int64_t)1 : D;
  p->nsplit = nsplit;
  if (softcap > 0) {
    p->c_logit = (float)((double)scale / softcap);
    p->c_cap = (float)(softcap * LOG2E);
  } else {
    p->c_logit = (float)(scale * LOG2E);
  }
}

tk_attn_view tk_attn_view_of(const tk_attn_block *b, int which, int64_t kb, int64_t ke,
                             tk_attn_span *spans) {
  tk_attn_view v = {0, spans, which ? b->v_key : b->k_key};
  int64_t start = 0;
  for (int i = 0; i < b->nseg && start < ke; i++) {
    const tk_attn_seg *s = &b->seg[i];
    int64_t lo = kb > start ? kb : start, hi = ke < start + s->n ? ke : start + s->n;
    if (lo < hi) {
      const char *base = which ? s->v : s->k;
      spans[v.n].p = base + (lo - start) * v.key;
      spans[v.n].n = hi - lo;
      v.n++;
    }
    start += s->n;
  }
  return v;
}

/* ---------------------------------------------------------------- scratch */

static int64_t pad_rows(const tk_attn_params *p, int64_t n) {
  return (n + p->lanes - 1) / p->lanes * p->lanes;
}

/* Floats of one slot (accumulator, m, l) for up to block_q rows. */
static size_t slot_floats(const tk_attn_params *p) {
  return (size_t)((p->Dv + 2) * pad_rows(p, p->block_q));
}

/* Bytes of one K (which = 0) or V row of unit element stride at most,
 * rounded up to whole cache lines; rows are prefetched no further. */
static int64_t row_span(const tk_attn_params *p, int which) {
  return ((which ? p->Dv : p->D) * 4 + 63) / 64 * 64;
}

/* Byte offsets of a worker's scratch pieces (all 64-byte aligned). */
typedef struct {
  size_t qt, slot, lo, hi, tile, st, pp, kp, vp, kspan, vspan, seg, pf, total;
} scratch_layout;

static scratch_layout layout_of(const tk_attn_params *p) {
  size_t pad = (size_t)pad_rows(p, p->block_q), T = (size_t)(p->mr * p->lanes);
  size_t bkv = (size_t)p->block_kv, tiles = (pad + T - 1) / T;
  scratch_layout l;
  size_t at = 0;
#define PIECE(field, bytes) (l.field = at, at += ALIGN(bytes))
  PIECE(qt, (size_t)p->dq * pad * 4);
  PIECE(slot, slot_floats(p) * 4);
  PIECE(lo, pad * 4);
  PIECE(hi, pad * 4);
  PIECE(tile, tiles * 4 * sizeof(int32_t));
  PIECE(st, bkv * T * 4);
  PIECE(pp, (bkv / 2 + 1) * T * 4);
  PIECE(kp, bkv * (size_t)p->dq * 4);
  PIECE(vp, (bkv + 1) * (size_t)p->Dv * 4);
  PIECE(kspan, (bkv + 1) * sizeof(tk_attn_span));
  PIECE(vspan, (bkv + 1) * sizeof(tk_attn_span));
  PIECE(seg, 2 * (bkv + 1) * sizeof(tk_attn_seg));
  PIECE(pf, bkv * (size_t)(row_span(p, 0) + row_span(p, 1)) / 64 * sizeof(char *));
#undef PIECE
  l.total = at;
  return l;
}

/* Points the state at a worker's scratch; slot (if not NULL) replaces the
 * scratch slot, as split tasks write theirs where the merge reads it. */
static void state_init(const tk_attn_params *p, char *scratch, float *slot, int64_t n,
                       tk_attn_state *s) {
  scratch_layout l = layout_of(p);
  s->n = n;
  s->pad = pad_rows(p, n);
  s->qt = scratch + l.qt;
  s->acc = slot ? slot : (float *)(scratch + l.slot);
  s->m = s->acc + p->Dv * s->pad;
  s->l = s->m + s->pad;
  s->lo = (int32_t *)(scratch + l.lo);
  s->hi = (int32_t *)(scratch + l.hi);
  s->tile = (int32_t(*)[4])(scratch + l.tile);
  s->st = (float *)(scratch + l.st);
  s->pp = (uint32_t *)(scratch + l.pp);
  s->kp = scratch + l.kp;
  s->vp = scratch + l.vp;
  s->kspan = (tk_attn_span *)(scratch + l.kspan);
  s->vspan = (tk_attn_span *)(scratch + l.vspan);
  s->pf.line = (const char **)(scratch + l.pf);
  s->pf.n = s->pf.i = 0;
}

/* ---------------------------------------------------------------- rows */

/* Fills lo/hi of every row (pad rows see nothing) and the per-tile bounds;
 * sets [*klo, *khi] to the keys any row sees (*klo > *khi: none). */
static void row_masks(const tk_attn_params *p, const tk_attn_group *g, tk_attn_state *s,
                      int64_t *klo, int64_t *khi) {
  for (int64_t r = 0; r < s->pad; r++) {
    int64_t lo = 0, hi = -1;
    if (r < s->n) {
      int64_t diag = g->diag0 + (g->r0 + r) / g->G;
      hi = g->n_keys - 1;
      if (g->causal && diag < hi) hi = diag;
      if (g->wl >= 0 && diag - g->wl > lo) lo = diag - g->wl;
      if (g->wr >= 0 && diag + g->wr < hi) hi = diag + g->wr;
    }
    s->lo[r] = lo <= hi ? (int32_t)lo : INT32_MAX;
    s->hi[r] = lo <= hi ? (int32_t)hi : INT32_MIN;
  }
  int64_t T = p->mr * p->lanes;
  *klo = INT32_MAX;
  *khi = INT32_MIN;
  for (int64_t t0 = 0; t0 < s->n; t0 += T) {
    int32_t *b = s->tile[t0 / T];
    b[0] = b[1] = s->lo[t0];
    b[2] = b[3] = s->hi[t0];
    for (int64_t r = t0 + 1; r < t0 + T && r < s->n; r++) {
      if (s->lo[r] < b[0]) b[0] = s->lo[r];
      if (s->lo[r] > b[1]) b[1] = s->lo[r];
      if (s->hi[r] < b[2]) b[2] = s->hi[r];
      if (s->hi[r] > b[3]) b[3] = s->hi[r];
    }
    if (b[0] < *klo) *klo = b[0];
    if (b[3] > *khi) *khi = b[3];
  }
}

/* Writes the group's queries by column into s->qt (zero past n and D). */
static void pack_queries(const tk_attn_params *p, const tk_attn_group *g, tk_attn_state *s) {
  memset(s->qt, 0, (size_t)(p->dq * s->pad * 4));
  for (int64_t r = 0; r < s->n; r++) {
    int64_t gr = g->r0 + r;
    const char *q = g->q + gr / g->G * g->q_pos + gr % g->G * g->q_head;
    if (p->bf16_dot) {
      uint16_t *qt = s->qt;
      for (int64_t d = 0; d < p->D; d++)
        qt[(d >> 1) * s->pad * 2 + r * 2 + (d & 1)] = *(const uint16_t *)(q + d * g->q_d);
    } else {
      float *qt = s->qt;
      for (int64_t d = 0; d < p->D; d++) qt[d * s->pad + r] = tk_load_f32(q + d * g->q_d, p->dtype);
    }
  }
}

/* Splits keys [j0, j0 + nk) into runs that stay within one page; returns
 * their count. */
static int block_segments(const tk_attn_group *g, int64_t j0, int64_t nk, tk_attn_seg *segs) {
  int nseg = 0;
  for (int64_t j = j0; j < j0 + nk;) {
    int64_t slot = j % g->page_size, n = g->page_size - slot;
    if (n > j0 + nk - j) n = j0 + nk - j;
    int64_t page = g->table ? g->table[j / g->page_size * g->table_step] : 0;
    segs[nseg].k = g->k + page * g->k_page + slot * g->k_key;
    segs[nseg].v = g->v + page * g->v_page + slot * g->v_key;
    segs[nseg].n = n;
    nseg++;
    j += n;
  }
  return nseg;
}

/* Lists the cache lines of the K and V rows of segs in s->pf (K and V of
 * each key in turn) when the group has one row vector or less: its blocks
 * are read from memory once for few rows, so the kernels fetch the next
 * block while they compute this one. Else starts loading the first rows of
 * segs, as the kernels fetch the rest ahead of use. */
static void plan_prefetch(const tk_attn_params *p, const tk_attn_group *g, tk_attn_state *s,
                          const tk_attn_seg *segs, int nseg) {
  int64_t kb = p->D * g->k_d, vb = p->Dv * g->v_d;
  if (kb > row_span(p, 0)) kb = row_span(p, 0);
  if (vb > row_span(p, 1)) vb = row_span(p, 1);
  s->pf.n = s->pf.i = 0;
  int stream = s->pad <= p->lanes;
  for (int i = 0, left = TK_ATTN_PREFETCH_KEYS; i < nseg && (stream || left > 0); i++)
    for (int64_t j = 0; j < segs[i].n && (stream || left > 0); j++, left--) {
      const char *k = segs[i].k + j * g->k_key, *v = segs[i].v + j * g->v_key;
      for (int64_t o = 0; o < kb; o += 64) s->pf.line[s->pf.n++] = k + o;
      for (int64_t o = 0; o < vb; o += 64) s->pf.line[s->pf.n++] = v + o;
    }
  if (!stream)
    while (s->pf.i < s->pf.n) tk_attn_pf_step(&s->pf);
}

/* Folds keys [a, b) into the state, block by block, with the loads of the
 * next block planned before each; segs has room for two blocks. */
static void walk_blocks(const tk_attn_params *p, const tk_attn_group *g, tk_attn_state *s,
                        tk_attn_seg *segs, int64_t a, int64_t b) {
  tk_attn_seg *cur = segs, *next = segs + p->block_kv + 1;
  int64_t nk = b - a < p->block_kv ? b - a : p->block_kv;
  int ncur = block_segments(g, a, nk, cur);
  for (int64_t j0 = a; j0 < b; j0 += nk) {
    nk = b - j0 < p->block_kv ? b - j0 : p->block_kv;
    int64_t j1 = j0 + nk, nk1 = b - j1 < p->block_kv ? b - j1 : p->block_kv;
    int nnext = j1 < b ? block_segments(g, j1, nk1, next) : 0;
    plan_prefetch(p, g, s, next, nnext);
    tk_attn_block blk = {j0, nk, ncur, cur, g->k_key, g->k_d, g->v_key, g->v_d};
    if (p->isa == 512)
      tk_attn_block_avx512(p, s, &blk);
    else
      tk_attn_block_avx2(p, s, &blk);
    tk_attn_seg *t = cur;
    cur = next;
    next = t;
    ncur = nnext;
  }
}

/* Normalises count slots (each slot_stride floats apart, merged in order)
 * into the group's out and lse rows. */
static void write_rows(const tk_attn_params *p, const tk_attn_group *g, const float *slots,
                       size_t slot_stride, int count) {
  int64_t pad = pad_rows(p, g->n), Dv = p->Dv;
  double w[64];
  for (int64_t r = 0; r < g->n; r++) {
    int64_t gr = g->r0 + r, pos = gr / g->G, h = gr % g->G;
    char *out = Dv ? g->out + pos * g->o_pos + h * g->o_head : NULL; /* Dv = 0: no data */
    float mx = -INFINITY;
    for (int i = 0; i < count; i++) {
      float m = slots[i * slot_stride + Dv * pad + r];
      if (m > mx) mx = m;
    }
    double sum = 0.0;
    for (int i = 0; i < count; i++) {
      const float *slot = slots + i * slot_stride;
      float m = slot[Dv * pad + r];
      w[i] = m == -INFINITY ? 0.0 : exp2((double)m - mx);
      sum += w[i] * slot[(Dv + 1) * pad + r];
    }
    for (int i = 0; i < count; i++) w[i] = mx == -INFINITY ? 0.0 : w[i] / sum;
    for (int64_t d = 0; d < Dv; d++) {
      double o = 0.0;
      for (int i = 0; i < count; i++) o += w[i] * slots[i * slot_stride + d * pad + r];
      tk_store_f32(out + d * g->o_d, p->dtype, (float)o);
    }
    if (g->lse)
      g->lse[pos * g->l_pos + h * g->l_head] =
          mx == -INFINITY ? -INFINITY : (float)((mx + log2(sum)) * LN2);
  }
}

/* ---------------------------------------------------------------- tasks */

typedef struct {
  const tk_attn_params *p;
  tk_attn_group_fn fn;
  const void *ctx;
  char *scratch;
  size_t scratch_bytes;
  float *partials; /* [group][split] slots; NULL without splits */
} run_job;

/* Group gi into *g (0 if it has no rows). With Dv = 0, v holds no elements
 * and may have no data: its rows then alias k's (never read as values),
 * so no address is computed from a NULL pointer. */
static int take_group(const run_job *job, int64_t gi, tk_attn_group *g) {
  if (!job->fn(job->ctx, gi, g)) return 0;
  if (job->p->Dv == 0) {
    g->v = g->k;
    g->v_page = g->k_page;
    g->v_key = g->k_key;
    g->v_d = g->k_d;
  }
  return 1;
}

/* Task = group * nsplit + split: the split's share of the group's keys. */
static void group_task(void *arg, int64_t task, int worker) {
  const run_job *job = arg;
  const tk_attn_params *p = job->p;
  int64_t gi = task / p->nsplit, split = task % p->nsplit;
  tk_attn_group g;
  if (!take_group(job, gi, &g)) return;
  char *scratch = job->scratch + (size_t)worker * job->scratch_bytes;
  float *slot = job->partials ? job->partials + (size_t)task * slot_floats(p) : NULL;
  tk_attn_state s;
  state_init(p, scratch, slot, g.n, &s);
  int64_t klo, khi;
  row_masks(p, &g, &s, &klo, &khi);
  memset(s.acc, 0, sizeof(float) * (size_t)(p->Dv * s.pad));
  for (int64_t r = 0; r < s.pad; r++) {
    s.m[r] = -INFINITY;
    s.l[r] = 0.0f;
  }
  if (klo <= khi) {
    /* split boundaries at multiples of 16 keys from klo */
    int64_t len = khi - klo + 1, a = klo, b = khi + 1;
    if (split > 0) a = klo + ((len * split / p->nsplit) & ~(int64_t)15);
    if (split + 1 < p->nsplit) b = klo + ((len * (split + 1) / p->nsplit) & ~(int64_t)15);
    if (a < b) {
      pack_queries(p, &g, &s);
      walk_blocks(p, &g, &s, (tk_attn_seg *)(scratch + layout_of(p).seg), a, b);
    }
  }
  if (!job->partials) write_rows(p, &g, s.acc, 0, 1);
}

/* Task = group: merges its splits into out and lse. */
static void merge_task(void *arg, int64_t gi, int worker) {
  (void)worker;
  const run_job *job = arg;
  tk_attn_group g;
  if (!take_group(job, gi, &g)) return;
  size_t n = slot_floats(job->p);
  write_rows(job->p, &g, job->partials + (size_t)gi * job->p->nsplit * n, n, job->p->nsplit);
}

/* Runs fn over [0, n) on the pool, or in order on this thread without one. */
static void run_tasks(tk_pool *pool, int64_t n, tk_task_fn fn, void *arg) {
  if (pool) {
    tk_pool_run(pool, n, fn, arg);
    return;
  }
  for (int64_t t = 0; t < n; t++) fn(arg, t, 0);
}

tk_status tk_attn_run(const tk_attn_params *p, int64_t n_groups, tk_attn_group_fn fn,
                      const void *ctx, tk_pool *pool, const char *op) {
  if (n_groups <= 0) return TK_OK;
  int workers = pool ? tk_pool_size(pool) : 1;
  run_job job = {p, fn, ctx, NULL, layout_of(p).total, NULL};
  double part = p->nsplit > 1 ? (double)n_groups * p->nsplit * slot_floats(p) * 4 : 0.0;
  double total = (double)workers * job.scratch_bytes + part;
  if (total > 0.5 * (double)SIZE_MAX)
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "%s (cpu): scratch of %.3g bytes is too large", op, total);
  job.scratch = aligned_alloc(64, ALIGN((size_t)total));
  if (!job.scratch)
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "%s (cpu): no memory for %.3g bytes of scratch", op, total);
  if (p->nsplit > 1) job.partials = (float *)(job.scratch + (size_t)workers * job.scratch_bytes);
  run_tasks(pool, n_groups * p->nsplit, group_task, &job);
  if (p->nsplit > 1) run_tasks(pool, n_groups, merge_task, &job);
  free(job.scratch);
  return TK_OK;
}
