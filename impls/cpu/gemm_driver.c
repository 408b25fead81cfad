/* gemm_driver.c: the grouped GEMM as independent tasks, one per (group,
 * row tile, column tile), each packing its operands block by block and
 * running the microkernel over them. Baseline x86-64: reaches ISA code only
 * through the kernel record it is given. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "impls/cpu/gemm.h"
#include "runtime/half.h"
#include "runtime/status.h"

/* One group's GEMM: C (m x n) = A (m lines by depth) * B (n lines by depth). */
typedef struct {
  tk_gemm_src a, b;
  char *c;              /* C[0][0] */
  int64_t c_rs, c_cs;   /* element strides of C */
  int64_t m, depth;
} gemm_view;

typedef struct {
  const tk_grouped_gemm_problem *p;
  const tk_gemm_kernel *k;
  int64_t kc, mc, tm, tn; /* mc, tm, tn: whole panels */
  int64_t *row_start;   /* G + 1 lhs row offsets of the groups */
  int64_t *task_start;  /* G + 1 offsets of each group's tasks */
  char *scratch;        /* per worker: packed A, packed B, C tile */
  size_t a_bytes, b_bytes, c_bytes, worker_bytes;
  int direct;           /* C is float32 with unit column stride: accumulate in place */
} gemm_job;

/* Bytes of A a task packs at a time (mc rows by kc depth): the block the
 * microkernel streams from L2 while a B panel stays in L1. */
enum { A_BLOCK_BYTES = 96 * 1024 };

static int64_t round_up(int64_t x, int64_t m) { return (x + m - 1) / m * m; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* The GEMM of group g (rows row_start[g] .. row_start[g+1]-1 of lhs). */
static gemm_view group_view(const gemm_job *j, int64_t g) {
  const tk_grouped_gemm_problem *p = j->p;
  const tk_tensor *l = &p->lhs, *r = &p->rhs, *o = &p->out;
  int64_t r0 = j->row_start[g], rows = j->row_start[g + 1] - r0;
  gemm_view v;
  if (p->layout == TK_GG_TN) { /* out[g] (K x N) = lhs_g^T rhs_g */
    v.a = (tk_gemm_src){tk_elem_at(l, r0 * l->stride[0]), l->stride[1], l->stride[0], l->dtype};
    v.b = (tk_gemm_src){tk_elem_at(r, r0 * r->stride[0]), r->stride[1], r->stride[0], r->dtype};
    v.c = tk_elem_at(o, g * o->stride[0]);
    v.c_rs = o->stride[1];
    v.c_cs = o->stride[2];
    v.m = p->K;
    v.depth = rows;
    return v;
  }
  v.a = (tk_gemm_src){tk_elem_at(l, r0 * l->stride[0]), l->stride[0], l->stride[1], l->dtype};
  if (p->layout == TK_GG_NN) /* B(n, k) = rhs[g, k, n] */
    v.b = (tk_gemm_src){tk_elem_at(r, g * r->stride[0]), r->stride[2], r->stride[1], r->dtype};
  else /* NT: B(n, k) = rhs[g, n, k] */
    v.b = (tk_gemm_src){tk_elem_at(r, g * r->stride[0]), r->stride[1], r->stride[2], r->dtype};
  v.c = tk_elem_at(o, r0 * o->stride[0]);
  v.c_rs = o->stride[0];
  v.c_cs = o->stride[1];
  v.m = rows;
  v.depth = p->K;
  return v;
}

/* s moved to line l, depth k. */
static tk_gemm_src src_at(const tk_gemm_src *s, int64_t l, int64_t k) {
  tk_gemm_src r = *s;
  r.base = (const char *)s->base + (l * s->ls + k * s->ks) * tk_dtype_size(s->dt);
  return r;
}

/* Task tiles of a group's GEMM of m rows (0 when m or N is 0). */
static int64_t tiles_of(const gemm_job *j, int64_t m) {
  if (m <= 0 || j->p->N <= 0) return 0;
  return ((m + j->tm - 1) / j->tm) * ((j->p->N + j->tn - 1) / j->tn);
}

/* The group whose tasks include task t: the last g with task_start[g] <= t
 * that has tasks. */
static int64_t group_of_task(const gemm_job *j, int64_t t) {
  int64_t lo = 0, hi = j->p->G - 1;
  while (lo < hi) {
    int64_t mid = (lo + hi + 1) / 2;
    if (j->task_start[mid] <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/* Writes the float32 tile c (rows x cols, row stride ldc) to C at (m0, n0)
 * in the output dtype. */
static void store_tile(const gemm_job *j, const gemm_view *v, const float *c, int64_t ldc,
                       int64_t m0, int64_t n0, int64_t rows, int64_t cols) {
  tk_dtype dt = j->p->out.dtype;
  int64_t es = tk_dtype_size(dt);
  char *out = v->c + (m0 * v->c_rs + n0 * v->c_cs) * es;
  if (v->c_cs == 1) {
    j->k->store(c, ldc, rows, cols, out, v->c_rs, dt);
    return;
  }
  for (int64_t i = 0; i < rows; i++)
    for (int64_t n = 0; n < cols; n++)
      tk_store_f32(out + (i * v->c_rs + n * v->c_cs) * es, dt, c[i * ldc + n]);
}

/* One task tile: C[m0 .. m0+mt) x [n0 .. n0+nt) of view v over the whole
 * depth, in kc blocks: pack B's block, then for each block of mc rows pack
 * A's block and run every (B panel, A panel) pair through the microkernel. */
static void run_tile(const gemm_job *j, const gemm_view *v, int64_t m0, int64_t mt, int64_t n0,
                     int64_t nt, char *ws) {
  const tk_gemm_kernel *k = j->k;
  char *ap = ws, *bp = ws + j->a_bytes;
  float *c;
  int64_t ldc;
  if (j->direct) {
    c = (float *)v->c + m0 * v->c_rs + n0;
    ldc = v->c_rs;
  } else {
    c = (float *)(ws + j->a_bytes + j->b_bytes);
    ldc = j->tn;
  }
  if (v->depth == 0)
    for (int64_t i = 0; i < mt; i++) memset(c + i * ldc, 0, sizeof(float) * (size_t)nt);
  for (int64_t pc = 0; pc < v->depth; pc += j->kc) {
    int64_t kc = min64(j->kc, v->depth - pc), kcp = round_up(kc, k->k_align);
    size_t a_panel = (size_t)(k->mr * kcp * k->elem_bytes);
    size_t b_panel = (size_t)(k->nr * kcp * k->elem_bytes);
    tk_gemm_src bs = src_at(&v->b, n0, pc);
    k->pack_b(&bs, nt, kc, kcp, k->nr, bp);
    for (int64_t ic = 0; ic < mt; ic += j->mc) {
      int64_t mc = min64(j->mc, mt - ic);
      tk_gemm_src as = src_at(&v->a, m0 + ic, pc);
      k->pack_a(&as, mc, kc, kcp, k->mr, ap);
      for (int64_t n = 0; n < nt; n += k->nr)
        for (int64_t i = 0; i < mc; i += k->mr)
          k->ukr(kcp, ap + (size_t)(i / k->mr) * a_panel, bp + (size_t)(n / k->nr) * b_panel,
                 c + (ic + i) * ldc + n, ldc, pc > 0, (int)min64(k->mr, mc - i),
                 (int)min64(k->nr, nt - n));
    }
  }
  if (!j->direct) store_tile(j, v, c, ldc, m0, n0, mt, nt);
}

/* Task t: find its group and tile, then run the tile on this worker's scratch. */
static void gemm_task(void *arg, int64_t t, int worker) {
  const gemm_job *j = arg;
  int64_t g = group_of_task(j, t);
  gemm_view v = group_view(j, g);
  int64_t local = t - j->task_start[g], m_tiles = (v.m + j->tm - 1) / j->tm;
  int64_t m0 = (local % m_tiles) * j->tm, n0 = (local / m_tiles) * j->tn;
  if (j->k->enter) j->k->enter();
  run_tile(j, &v, m0, min64(j->tm, v.m - m0), n0, min64(j->tn, j->p->N - n0),
           j->scratch + (size_t)worker * j->worker_bytes);
  if (j->k->leave) j->k->leave();
}

/* Zeroes output rows from..M-1 (NN/NT rows past the groups); nothing when
 * rows are empty (N = 0: out may have no data). */
static void zero_rows(const tk_grouped_gemm_problem *p, int64_t from) {
  const tk_tensor *o = &p->out;
  int64_t es = tk_dtype_size(o->dtype);
  if (p->N == 0) return;
  for (int64_t m = from; m < p->M; m++) {
    char *row = tk_elem_at(o, m * o->stride[0]);
    if (o->stride[1] == 1) {
      memset(row, 0, (size_t)(p->N * es));
      continue;
    }
    for (int64_t n = 0; n < p->N; n++) memset(row + n * o->stride[1] * es, 0, (size_t)es);
  }
}

static size_t align64(size_t x) { return (x + 63) & ~(size_t)63; }

/* The packing scratch of the last call, kept for the next one (up to
 * KEEP_BYTES) so that repeated calls do not fault in fresh pages: the
 * allocator hands large blocks back to the OS on free, and a small GEMM
 * then spends more time in page faults than in arithmetic. The buffer's
 * first 64 bytes hold its usable size. */
enum { KEEP_BYTES = 64 << 20 };
static _Atomic(char *) kept_scratch;

/* 64-byte aligned scratch of at least `bytes` (a multiple of 64), or NULL. */
static char *scratch_take(size_t bytes) {
  char *p = atomic_exchange(&kept_scratch, NULL);
  if (p && *(size_t *)p >= bytes) return p + 64;
  free(p);
  p = aligned_alloc(64, bytes + 64);
  if (!p) return NULL;
  *(size_t *)p = bytes;
  return p + 64;
}

/* Gives back scratch from scratch_take (kept for the next call, or freed). */
static void scratch_give(char *s) {
  if (!s) return;
  char *p = s - 64;
  if (*(size_t *)p > KEEP_BYTES) {
    free(p);
    return;
  }
  free(atomic_exchange(&kept_scratch, p));
}

tk_status tk_gemm_grouped(const tk_grouped_gemm_problem *p, const tk_gemm_kernel *k,
                          const tk_gemm_blocking *b, tk_pool *pool) {
  gemm_job j = {0};
  j.p = p;
  j.k = k;
  j.row_start = malloc(sizeof(int64_t) * (size_t)(p->G + 1));
  j.task_start = malloc(sizeof(int64_t) * (size_t)(p->G + 1));
  if (!j.row_start || !j.task_start) {
    free(j.row_start);
    free(j.task_start);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "grouped_gemm (cpu): no memory for group offsets");
  }
  j.row_start[0] = 0;
  int64_t max_rows = 0;
  for (int64_t g = 0; g < p->G; g++) {
    int64_t rows = tk_load_i32(&p->group_sizes, g, 0);
    j.row_start[g + 1] = j.row_start[g] + rows;
    if (rows > max_rows) max_rows = rows;
  }
  /* Tiles never larger than the biggest GEMM needs, so scratch stays small. */
  int64_t max_m = p->layout == TK_GG_TN ? p->K : max_rows;
  int64_t max_depth = p->layout == TK_GG_TN ? max_rows : p->K;
  j.tm = min64(round_up(b->tm, k->mr), round_up(max_m > 0 ? max_m : 1, k->mr));
  j.tn = min64(round_up(b->tn, k->nr), round_up(p->N > 0 ? p->N : 1, k->nr));
  j.kc = b->kc;
  int64_t kcp = round_up(min64(b->kc, max_depth > 0 ? max_depth : 1), k->k_align);
  j.mc = min64(j.tm, round_up(A_BLOCK_BYTES / (kcp * k->elem_bytes), k->mr));
  int64_t out_cs = p->layout == TK_GG_TN ? p->out.stride[2] : p->out.stride[1];
  j.direct = p->out.dtype == TK_F32 && out_cs == 1;
  j.a_bytes = align64((size_t)(j.mc * kcp * k->elem_bytes));
  j.b_bytes = align64((size_t)(j.tn * kcp * k->elem_bytes));
  j.c_bytes = j.direct ? 0 : align64((size_t)(j.tm * j.tn) * sizeof(float));
  j.worker_bytes = j.a_bytes + j.b_bytes + j.c_bytes;
  j.task_start[0] = 0;
  for (int64_t g = 0; g < p->G; g++) {
    int64_t m = p->layout == TK_GG_TN ? p->K : j.row_start[g + 1] - j.row_start[g];
    j.task_start[g + 1] = j.task_start[g] + tiles_of(&j, m);
  }
  int64_t n_tasks = j.task_start[p->G];
  size_t workers = (size_t)(pool ? tk_pool_size(pool) : 1);
  j.scratch = n_tasks ? scratch_take(j.worker_bytes * workers) : NULL;
  if (n_tasks && !j.scratch) {
    free(j.row_start);
    free(j.task_start);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "grouped_gemm (cpu): no memory for packing buffers");
  }
  if (p->layout != TK_GG_TN) zero_rows(p, j.row_start[p->G]);
  if (pool && n_tasks > 1)
    tk_pool_run(pool, n_tasks, gemm_task, &j);
  else
    for (int64_t t = 0; t < n_tasks; t++) gemm_task(&j, t, 0);
  scratch_give(j.scratch);
  free(j.row_start);
  free(j.task_start);
  return TK_OK;
}
