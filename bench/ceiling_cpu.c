/* ceiling_cpu.c: the CPU ceilings as benchmarks: FMA and bf16 dot-product
 * peak with one chain kernel per pool thread, and copy and read bandwidth
 * over buffers far larger than the last-level cache, split over the
 * threads (copy: non-temporal stores where the ISA has them, else
 * memcpy). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/ceiling.h"
#include "runtime/device.h"

/* Rounds of the chain kernels per thread and call: a few ms, so waking the
 * pool costs well under 1%. */
#define PEAK_ITERS (1 << 21)
/* Each of source and destination of the copy; the buffer read. */
#define COPY_BYTES ((size_t)256 << 20)

typedef double (*chain_fn)(int64_t iters);
typedef void (*copy_fn)(void *dst, const void *src, size_t bytes);
typedef uint64_t (*read_fn)(const void *src, size_t bytes);

typedef struct {
  tk_pool *pool;
  tk_task_fn task;       /* what each pool thread runs per call */
  chain_fn chain;        /* peak ceilings */
  copy_fn copy;          /* copy ceiling */
  read_fn read;          /* read ceiling (src only) */
  const char *no_isa;    /* why the peak one declines, NULL when it can run */
  unsigned char *src, *dst; /* copy and read ceilings */
} ceiling_state;

static ceiling_state fma_state, dot_state, copy_state, read_state;

/* Where the read ceiling's sums go, so its loads are not dropped. */
static volatile uint64_t read_sink;

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

/* One task per pool thread, all at once (timed by the wrapper). */
static double pool_run(void *user, char *why, size_t why_len) {
  (void)why;
  (void)why_len;
  ceiling_state *s = user;
  tk_pool_run(s->pool, tk_pool_size(s->pool), s->task, s);
  return 0;
}

/* Task `task`'s share of the buffers: page-aligned chunks, the last one
 * taking the rest. */
static void share_of(const ceiling_state *s, int64_t task, size_t *off, size_t *len) {
  size_t n = (size_t)tk_pool_size(s->pool), chunk = (COPY_BYTES / n) & ~(size_t)4095;
  *off = (size_t)task * chunk;
  *len = task == (int64_t)n - 1 ? COPY_BYTES - *off : chunk;
}

/* Task: copies this task's share of the buffer. */
static void copy_task(void *arg, int64_t task, int worker) {
  (void)worker;
  ceiling_state *s = arg;
  size_t off, len;
  share_of(s, task, &off, &len);
  s->copy(s->dst + off, s->src + off, len);
}

/* Task: reads this task's share of the buffer. */
static void read_task(void *arg, int64_t task, int worker) {
  (void)worker;
  ceiling_state *s = arg;
  size_t off, len;
  share_of(s, task, &off, &len);
  read_sink += s->read(s->src + off, len);
}

/* memcpy with the copy kernels' signature (CPUs without AVX2). */
static void plain_copy(void *dst, const void *src, size_t bytes) { memcpy(dst, src, bytes); }

/* The read kernels' contract in plain C (CPUs without AVX2). */
static uint64_t plain_read(const void *src, size_t bytes) {
  const uint64_t *w = src;
  uint64_t a = 0, b = 0;
  for (size_t i = 0; i < bytes / 8; i += 2) {
    a += w[i];
    b += w[i + 1];
  }
  return a + b;
}

/* Allocates and touches the source (filled with a non-zero pattern) and,
 * for the copy ceiling, the destination. */
static int buffers_setup(void *user, char *why, size_t why_len) {
  ceiling_state *s = user;
  int copy = s->copy != NULL;
  s->src = aligned_alloc(4096, COPY_BYTES);
  s->dst = copy ? aligned_alloc(4096, COPY_BYTES) : NULL;
  if (!s->src || (copy && !s->dst)) {
    snprintf(why, why_len, "could not allocate %d x %zu MiB", 1 + copy, COPY_BYTES >> 20);
    return 1;
  }
  for (size_t i = 0; i < COPY_BYTES; i++) s->src[i] = (unsigned char)(i * 131u + 7u);
  if (copy) memset(s->dst, 1, COPY_BYTES);
  return 0;
}

/* Frees the buffers of the copy or read ceiling. */
static void buffers_teardown(void *user) {
  ceiling_state *s = user;
  free(s->src);
  free(s->dst);
  s->src = s->dst = NULL;
}

void tk_ceiling_register_cpu(tk_pool *pool) {
  unsigned isa = tk_cpu_isa();
  int threads = tk_pool_size(pool);
  int avx512 = (isa & TK_ISA_AVX512F) != 0, avx2 = (isa & TK_ISA_AVX2) && (isa & TK_ISA_FMA);
  fma_state = (ceiling_state){.pool = pool,
                              .task = chain_task,
                              .chain = avx512 ? tk_ceiling_fma_f32_avx512 : tk_ceiling_fma_f32_avx2,
                              .no_isa = avx512 || avx2 ? NULL : "no AVX2+FMA on this CPU"};
  dot_state = (ceiling_state){.pool = pool,
                              .task = chain_task,
                              .chain = tk_ceiling_dot_bf16_avx512,
                              .no_isa = isa & TK_ISA_AVX512_BF16 ? NULL : "no AVX512-BF16 on this CPU"};
  copy_state = (ceiling_state){
      .pool = pool,
      .task = copy_task,
      .copy = avx512 ? tk_ceiling_copy_avx512 : isa & TK_ISA_AVX2 ? tk_ceiling_copy_avx2 : plain_copy};
  read_state = (ceiling_state){
      .pool = pool,
      .task = read_task,
      .read = avx512 ? tk_ceiling_read_avx512 : isa & TK_ISA_AVX2 ? tk_ceiling_read_avx2 : plain_read};
  /* one round of a kernel tells its work per round */
  double fma_flops = fma_state.no_isa ? 0 : fma_state.chain(1) * PEAK_ITERS * threads;
  double dot_flops = dot_state.no_isa ? 0 : dot_state.chain(1) * PEAK_ITERS * threads;
  tk_bench_def defs[] = {
      {TK_CEIL_CPU_FMA_F32, &fma_state, peak_setup, pool_run, NULL, 0, fma_flops, 0},
      {TK_CEIL_CPU_DOT_BF16, &dot_state, peak_setup, pool_run, NULL, 0, dot_flops, 0},
      /* bytes read + bytes written, the way the rows count their bytes */
      {TK_CEIL_CPU_COPY, &copy_state, buffers_setup, pool_run, buffers_teardown, 0, 0,
       2.0 * COPY_BYTES},
      /* bytes read only: the bound of a row that reads (almost) all its bytes */
      {TK_CEIL_CPU_READ, &read_state, buffers_setup, pool_run, buffers_teardown, 0, 0,
       (double)COPY_BYTES},
  };
  for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) tk_bench_register(&defs[i]);
}

double tk_ceiling_rate(const char *name) {
  tk_bench_result r;
  if (!tk_bench_result_get(name, &r) || !r.ran || r.skipped || r.min_s <= 0) return 0;
  return r.flops > 0 ? r.flops / r.min_s : r.bytes / r.median_s;
}
