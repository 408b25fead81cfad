/* moe_permute.c: cpu MoE permute as a parallel counting sort. The flattened
 * (token, slot) list is cut into chunks of whole tokens; each chunk counts
 * its rows per expert, a serial scan turns the counts into each chunk's
 * first row per expert (so rows stay in token order within an expert, as
 * in the reference), then each chunk places its rows: dest, the row copy,
 * and the zero padding of its share of the experts. */
#include <string.h>
#include <xmmintrin.h>

#include "impls/cpu/moe_cpu.h"

/* Bounds the histogram scratch: chunks * experts counters. */
enum { MAX_COUNTERS = 1 << 20 };

/* Chunks and tokens per chunk for p split into about `tasks` chunks: at
 * least one chunk, whole tokens, chunks * E counters at most MAX_COUNTERS
 * (or one chunk). */
static void chunking(const tk_moe_permute_problem *p, int64_t tasks, int64_t *n_chunks,
                     int64_t *per_chunk) {
  int64_t cap = MAX_COUNTERS / p->E;
  *per_chunk = tk_moe_tokens_per_task(p->T, tasks < cap ? tasks : cap > 1 ? cap : 1);
  *n_chunks = (p->T + *per_chunk - 1) / *per_chunk;
  if (*n_chunks < 1) *n_chunks = 1;
}

size_t tk_cpu_moe_permute_workspace(const tk_moe_permute_problem *p, int64_t tasks) {
  int64_t n_chunks, per_chunk;
  chunking(p, tasks, &n_chunks, &per_chunk);
  return sizeof(int32_t) * (size_t)((n_chunks + 2) * p->E);
}

typedef struct {
  const tk_moe_permute_problem *p;
  int64_t n_chunks, per_chunk, used_rows;
  int32_t *next;      /* [n_chunks][E]: counts, then the chunk's next row per expert */
  int32_t *pad_begin; /* [E]: first padding row of each expert */
  int32_t *pad_end;   /* [E]: one past its last */
  int64_t row_bytes;  /* H * element size when both row layouts are contiguous, else 0 */
  int stream;
  void (*copy)(void *, const void *, size_t, int);
  void (*zero)(void *, size_t, int);
} permute_job;

/* Counts the rows of chunk `task` per expert into its line of next. */
static void count_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const permute_job *job = arg;
  const tk_moe_permute_problem *p = job->p;
  int32_t *count = job->next + task * p->E;
  memset(count, 0, sizeof(int32_t) * (size_t)p->E);
  int64_t t1 = (task + 1) * job->per_chunk < p->T ? (task + 1) * job->per_chunk : p->T;
  for (int64_t t = task * job->per_chunk; t < t1; t++)
    for (int64_t s = 0; s < p->k; s++) count[tk_load_i32(&p->expert_ids, t, s)]++;
}

/* Row r of permuted as the address of its first element. */
static char *permuted_row(const tk_moe_permute_problem *p, int64_t r) {
  return tk_at(&p->permuted, r, 0, 0, 0);
}

/* Copies token t into row r, element by element (any strides). */
static void copy_strided(const tk_moe_permute_problem *p, int64_t r, int64_t t) {
  size_t es = (size_t)tk_dtype_size(p->tokens.dtype);
  for (int64_t h = 0; h < p->H; h++)
    memcpy(tk_at(&p->permuted, r, h, 0, 0), tk_at(&p->tokens, t, h, 0, 0), es);
}

/* Zeroes rows [r0, r1) of permuted. */
static void zero_rows(const permute_job *job, int64_t r0, int64_t r1) {
  const tk_moe_permute_problem *p = job->p;
  size_t es = (size_t)tk_dtype_size(p->permuted.dtype);
  for (int64_t r = r0; r < r1; r++) {
    if (job->row_bytes) {
      job->zero(permuted_row(p, r), (size_t)job->row_bytes, job->stream);
      continue;
    }
    for (int64_t h = 0; h < p->H; h++) memset(tk_at(&p->permuted, r, h, 0, 0), 0, es);
  }
}

/* Places the rows of chunk `task` (dest and copies, in token order), then
 * zeroes the padding of experts [task * E / n, (task + 1) * E / n) and, in
 * the last chunk, the rows past every expert block. */
static void place_task(void *arg, int64_t task, int worker) {
  (void)worker;
  const permute_job *job = arg;
  const tk_moe_permute_problem *p = job->p;
  int32_t *next = job->next + task * p->E;
  int64_t t1 = (task + 1) * job->per_chunk < p->T ? (task + 1) * job->per_chunk : p->T;
  for (int64_t t = task * job->per_chunk; t < t1; t++) {
    const void *src = tk_at(&p->tokens, t, 0, 0, 0);
    for (int64_t s = 0; s < p->k; s++) {
      int32_t r = next[tk_load_i32(&p->expert_ids, t, s)]++;
      memcpy(tk_at(&p->dest, t, s, 0, 0), &r, sizeof r);
      if (job->row_bytes)
        job->copy(permuted_row(p, r), src, (size_t)job->row_bytes, job->stream);
      else
        copy_strided(p, r, t);
    }
  }
  int64_t e0 = task * p->E / job->n_chunks, e1 = (task + 1) * p->E / job->n_chunks;
  for (int64_t e = e0; e < e1; e++) zero_rows(job, job->pad_begin[e], job->pad_end[e]);
  if (task == job->n_chunks - 1) zero_rows(job, job->used_rows, p->R);
  if (job->stream) _mm_sfence();
}

/* Turns the per-chunk counts into each chunk's first row per expert, writes
 * group_sizes and the padding ranges; returns the rows the blocks use. */
static int64_t scan_counts(const permute_job *job) {
  const tk_moe_permute_problem *p = job->p;
  int64_t base = 0;
  for (int64_t e = 0; e < p->E; e++) {
    int64_t row = base;
    for (int64_t c = 0; c < job->n_chunks; c++) {
      int32_t n = job->next[c * p->E + e];
      job->next[c * p->E + e] = (int32_t)row;
      row += n;
    }
    int64_t size = (row - base + p->align - 1) / p->align * p->align;
    int32_t size32 = (int32_t)size;
    memcpy(tk_at(&p->group_sizes, e, 0, 0, 0), &size32, sizeof size32);
    job->pad_begin[e] = (int32_t)row;
    job->pad_end[e] = (int32_t)(base + size);
    base += size;
  }
  return base;
}

tk_status tk_cpu_moe_permute(const tk_moe_permute_problem *p, const tk_moe_cpu_opts *o,
                             tk_pool *pool, void *ws) {
  permute_job job = {.p = p, .stream = o->stream};
  chunking(p, o->tasks, &job.n_chunks, &job.per_chunk);
  job.next = ws;
  job.pad_begin = job.next + job.n_chunks * p->E;
  job.pad_end = job.pad_begin + p->E;
  int64_t es = tk_dtype_size(p->tokens.dtype);
  int contiguous = (p->H <= 1 || (p->tokens.stride[1] == 1 && p->permuted.stride[1] == 1));
  job.row_bytes = contiguous ? p->H * es : 0;
  job.copy = o->isa == TK_MOE_ISA_AVX512 ? tk_moe_copy_bytes_avx512 : tk_moe_copy_bytes_avx2;
  job.zero = o->isa == TK_MOE_ISA_AVX512 ? tk_moe_zero_bytes_avx512 : tk_moe_zero_bytes_avx2;
  tk_pool_run(pool, job.n_chunks, count_task, &job);
  job.used_rows = scan_counts(&job);
  tk_pool_run(pool, job.n_chunks, place_task, &job);
  return TK_OK;
}
