/* ref_pool.c: running the reference's independent tasks with or without a
 * thread pool. */
#include "impls/reference/ref_internal.h"

int tk_ref_workers(const tk_pool *pool) { return pool ? tk_pool_size(pool) : 1; }

void tk_ref_run(tk_pool *pool, int64_t n, tk_task_fn fn, void *arg) {
  if (n <= 0) return;
  if (pool) {
    tk_pool_run(pool, n, fn, arg);
    return;
  }
  for (int64_t t = 0; t < n; t++) fn(arg, t, 0);
}
