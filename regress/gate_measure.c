/* gate_measure.c: interleaved timing of the gate's items and anchors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/measure.h"
#include "runtime/context.h"
#include "regress/gate_internal.h"
#include "regress/gate_stats.h"

#define COPY_BYTES ((size_t)32 << 20)
#define FMA_STEPS 20000000
#define MAX_BATCH 100000

typedef struct {
  char *dst;
  const char *src;
  int n;
} copy_job;

/* One thread's share of the copy anchor. */
static void copy_part(void *arg, int64_t task, int worker) {
  (void)worker;
  copy_job *j = arg;
  size_t part = COPY_BYTES / (size_t)j->n, off = part * (size_t)task;
  memcpy(j->dst + off, j->src + off, task == j->n - 1 ? COPY_BYTES - off : part);
  __asm__ __volatile__("" : : "r"(j->dst) : "memory");
}

/* The copy anchor: a 32 MiB memcpy split over the context's threads (ns),
 * so it slows down with the kernels when another process takes a core. */
static double time_copy(tk_pool *pool, char *dst, const char *src) {
  copy_job j = {dst, src, tk_pool_size(pool)};
  double t0 = tk_now_ns();
  tk_pool_run(pool, j.n, copy_part, &j);
  return tk_now_ns() - t0;
}

/* One thread's chain of dependent multiply-adds. */
static void fma_chain(void *arg, int64_t task, int worker) {
  (void)arg, (void)task, (void)worker;
  volatile double seed = 0.999999;
  double a = seed, b = 1e-9, x0 = 1, x1 = 2, x2 = 3, x3 = 4;
  for (int i = 0; i < FMA_STEPS / 4; i++) {
    x0 = fma(x0, a, b);
    x1 = fma(x1, a, b);
    x2 = fma(x2, a, b);
    x3 = fma(x3, a, b);
  }
  volatile double sink = x0 + x1 + x2 + x3;
  (void)sink;
}

/* The FMA anchor: the same fixed chain on every thread of the pool (ns);
 * it tracks the core clock and the cores this process really gets. */
static double time_fma(tk_pool *pool) {
  double t0 = tk_now_ns();
  tk_pool_run(pool, tk_pool_size(pool), fma_chain, NULL);
  return tk_now_ns() - t0;
}

/* Runs an item's plan `batch` times; ns per call, or -1 on failure. */
static double time_item(tk_gate_item *it) {
  const void *args = tk_case_args(it->c);
  double t0 = tk_now_ns();
  for (int k = 0; k < it->batch; k++)
    if (tk_plan_run(it->plan, args) != TK_OK) return -1;
  return (tk_now_ns() - t0) / it->batch;
}

/* Picks each item's batch so one sample lasts at least min_batch_ns. */
static void calibrate(tk_gate_run_data *g, const tk_gate_options *o) {
  for (int i = 0; i < g->n; i++) {
    tk_gate_item *it = &g->items[i];
    if (!it->numerics_ok) continue;
    it->batch = 1;
    time_item(it); /* warm-up */
    double t = time_item(it);
    int b = t > 0 ? (int)ceil(o->min_batch_ns / t) : 1;
    it->batch = b < 1 ? 1 : b > MAX_BATCH ? MAX_BATCH : b;
  }
}

void tk_gate_normalised(const tk_gate_item *it, const tk_gate_run_data *g, double *out) {
  const double *anchor = it->memory_bound ? g->copy_samples : g->fma_samples;
  for (int i = 0; i < it->n_samples; i++) out[i] = it->samples[i] / anchor[i];
}

int tk_gate_measure(tk_gate_run_data *g, const tk_gate_options *o) {
  char *a = malloc(COPY_BYTES), *b = malloc(COPY_BYTES);
  g->copy_samples = calloc((size_t)o->reps, sizeof(double));
  g->fma_samples = calloc((size_t)o->reps, sizeof(double));
  int oom = !a || !b || !g->copy_samples || !g->fma_samples;
  for (int i = 0; i < g->n; i++)
    if (g->items[i].numerics_ok && !(g->items[i].samples = calloc((size_t)o->reps, sizeof(double))))
      oom = 1;
  if (oom) {
    free(a);
    free(b);
    fprintf(stderr, "tokamax-tune: gate: out of memory\n");
    return 1;
  }
  for (size_t k = 0; k < COPY_BYTES; k++) a[k] = (char)(k * 131u);
  memcpy(b, a, COPY_BYTES);
  calibrate(g, o);
  for (int rep = 0; rep < o->reps; rep++) {
    if (!o->quiet) fprintf(stderr, "\rtiming: repetition %d/%d", rep + 1, o->reps);
    g->copy_samples[rep] = time_copy(g->ctx->pool, b, a);
    g->fma_samples[rep] = time_fma(g->ctx->pool);
    /* Each repetition starts at another item so no item always runs first. */
    for (int j = 0; j < g->n; j++) {
      tk_gate_item *it = &g->items[(j + rep) % g->n];
      if (!it->numerics_ok || !it->samples) continue;
      double t = time_item(it);
      if (t < 0) {
        it->numerics_ok = 0;
        it->verdict = TK_GATE_WRONG;
        snprintf(it->reason, sizeof it->reason, "a timed run failed: %s", tk_last_error());
        continue;
      }
      it->samples[it->n_samples++] = t;
    }
  }
  if (!o->quiet) fprintf(stderr, "\n");
  g->n_anchor = o->reps;
  g->anchor_copy_ns = tk_median_of(g->copy_samples, o->reps);
  g->anchor_fma_ns = tk_median_of(g->fma_samples, o->reps);
  for (int i = 0; i < g->n; i++) {
    tk_gate_item *it = &g->items[i];
    if (it->n_samples == 0) continue;
    it->median_ns = tk_median_of(it->samples, it->n_samples);
    it->norm = it->median_ns / (it->memory_bound ? g->anchor_copy_ns : g->anchor_fma_ns);
  }
  free(a);
  free(b);
  return 0;
}
