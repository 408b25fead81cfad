/* ceiling_cpu.c: the CPU ceilings as benchmarks: FMA and bf16 dot-product
 * peak with one chain kernel per pool thread, and copy bandwidth over
 * buffers far larger than the last-level cache, split over the threads
 * (non-temporal stores where the ISA has them, else memcpy). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ceiling.h"
#include "runtime/device.h"

/* Rounds of the chain kernels per thread and call: a few ms, so waking the
 * pool costs well under 1%. */
#define PEAK_ITERS (1 << 21)
/* Each of source and destination of the copy. */
#define COPY_BYTES ((size_t)256 << 20)

typedef double (*chain_fn)(int64_t iters);
typedef void (*copy_fn)(void *dst, const void *src, size_t bytes);

typedef struct {
  tk_pool *pool;
  chain_fn chain;        /* peak ceilings */
  copy_fn copy;          /* copy ceiling */
  const char *no_isa;    /* why the peak one declines, NULL when it can run */
  unsigned char *src, *dst; /* copy ceiling */
} ceiling_state;

static ceiling_state fma_state, dot_state, copy_state;

/* Task: one chain kernel of PEAK_ITERS rounds on the calling thread. */
static void chain_task(void *arg, int64_t task, int worker) {
  (void)task;
  (void)worker;
  ((ceiling_state *)arg)->chain(PEAK_ITERS);
}

/* Declines when the ISA is missing. */
static int peak_setup(void *user, char *why, size_t why_len) {
  ceiling_state *s = user;
  if (!s->no_isa) return 0;
  snprintf(why, why_len, "%s", s->no_isa);
  return 1;
}

/* One chain kernel on every pool thread at once (timed by the wrapper). */
static double peak_run(void *user, char *why, size_t why_len) {
  (void)why;
  (void)why_len;
  ceiling_state *s = user;
  tk_pool_run(s->pool, tk_pool_size(s->pool), chain_task, s);
  return 0;
}

/* Task: copies this task's share (page-aligned chunks) of the buffer. */
static void copy_task(void *arg, int64_t task, int worker) {
  (void)worker;
  ceiling_state *s = arg;
  size_t n = (size_t)tk_pool_size(s->pool), chunk = (COPY_BYTES / n) & ~(size_t)4095;
  size_t off = (size_t)task * chunk, len = task == (int64_t)n - 1 ? COPY_BYTES - off : chunk;
  s->copy(s->dst + off, s->src + off, len);
}

/* memcpy with the copy kernels' signature (CPUs without AVX2). */
static void plain_copy(void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }

/* Allocates and touches both buffers (source filled with a non-zero pattern). */
static int copy_setup(void *user, char *why, size_t why_len) {
  ceiling_state *s = user;
  s->src = aligned_alloc(4096, COPY_BYTES);
  s->dst = aligned_alloc(4096, COPY_BYTES);
  if (!s->src || !s->dst) {
    snprintf(why, why_len, "could not allocate 2 x %zu MiB", COPY_BYTES >> 20);
    return 1;
  }
  for (size_t i = 0; i < COPY_BYTES; i++) s->src[i] = (unsigned char)(i * 131u + 7u);
  memset(s->dst, 1, COPY_BYTES);
  return 0;
}

/* One copy of the whole buffer, split over the pool (timed by the wrapper). */
static double copy_run(void *user, char *why, size_t why_len) {
  (void)why;
  (void)why_len;
  ceiling_state *s = user;
  tk_pool_run(s->pool, tk_pool_size(s->pool), copy_task, s);
  return 0;
}

/* Frees the copy buffers. */
static void copy_teardown(void *user) {
  ceiling_state *s = user;
  free(s->src);
  free(s->dst);
  s->src = s->dst = NULL;
}

void tk_ceiling_register_cpu(tk_pool *pool) {
  unsigned isa = tk_cpu_isa();
  int threads = tk_pool_size(pool);
  int avx512 = (isa & TK_ISA_AVX512F) != 0, avx2 = (isa & TK_ISA_AVX2) && (isa & TK_ISA_FMA);
  fma_state = (ceiling_state){pool, avx512 ? tk_ceiling_fma_f32_avx512 : tk_ceiling_fma_f32_avx2,
                              NULL, avx512 || avx2 ? NULL : "no AVX2+FMA on this CPU", NULL, NULL};
  dot_state = (ceiling_state){pool, tk_ceiling_dot_bf16_avx512, NULL,
                              isa & TK_ISA_AVX512_BF16 ? NULL : "no AVX512-BF16 on this CPU", NULL,
                              NULL};
  copy_fn copy = avx512 ? tk_ceiling_copy_avx512 : isa & TK_ISA_AVX2 ? tk_ceiling_copy_avx2 : plain_copy;
  copy_state = (ceiling_state){pool, NULL, copy, NULL, NULL, NULL};
  /* one round of a kernel tells its work per round */
  double fma_flops = fma_state.no_isa ? 0 : fma_state.chain(1) * PEAK_ITERS * threads;
  double dot_flops = dot_state.no_isa ? 0 : dot_state.chain(1) * PEAK_ITERS * threads;
  tk_bench_def defs[] = {
      {TK_CEIL_CPU_FMA_F32, &fma_state, peak_setup, peak_run, NULL, 0, fma_flops, 0},
      {TK_CEIL_CPU_DOT_BF16, &dot_state, peak_setup, peak_run, NULL, 0, dot_flops, 0},
      /* bytes read + bytes written, the way the rows count their bytes */
      {TK_CEIL_CPU_COPY, &copy_state, copy_setup, copy_run, copy_teardown, 0, 0, 2.0 * COPY_BYTES},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) tk_bench_register(&defs[i]);
}

double tk_ceiling_rate(const char *name) {
  tk_bench_result r;
  if (!tk_bench_result_get(name, &r) || !r.ran || r.skipped || r.min_s <= 0) return 0;
  return r.flops > 0 ? r.flops / r.min_s : r.bytes / r.median_s;
}
