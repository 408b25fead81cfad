/* thread_pool.h: a fixed pool of worker threads (pinned to cores through
 * hwloc when available) running a batch of independent tasks at a time. */
#ifndef TK_RUNTIME_THREAD_POOL_H
#define TK_RUNTIME_THREAD_POOL_H

#include <stdint.h>

#include "tokamax.h"

typedef struct tk_pool tk_pool;

/* Task body: runs task index `task` on worker `worker` (0 <= worker <
 * tk_pool_size; unique among the workers of one tk_pool_run at a time). */
typedef void (*tk_task_fn)(void *arg, int64_t task, int worker);

/* Starts n_threads - 1 workers (the caller of tk_pool_run is worker 0).
 * pin != 0 pins worker i to physical core i when hwloc is available. */
tk_status tk_pool_create(int n_threads, int pin, tk_pool **out);
void tk_pool_destroy(tk_pool *p);
int tk_pool_size(const tk_pool *p);

/* Runs fn(arg, t, worker) for every t in [0, n_tasks) and returns when all
 * are done. Safe to call from several threads at once: a caller that finds
 * the pool busy runs its tasks itself (worker 0), so nothing deadlocks. */
void tk_pool_run(tk_pool *p, int64_t n_tasks, tk_task_fn fn, void *arg);

#endif
