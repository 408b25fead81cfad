/* thread_pool.c: n - 1 worker threads plus the caller, running one batch of
 * tasks at a time; tasks are handed out through an atomic counter. */
#include "runtime/thread_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "runtime/status.h"

#if TK_HAVE_HWLOC
#include <hwloc.h>
#endif

typedef struct {
  tk_pool *pool;
  int id; /* 1 .. n-1 */
  pthread_t thread;
} tk_worker;

struct tk_pool {
  int n_threads;
  tk_worker *workers;   /* workers[i] is worker i + 1 */
  int n_started;
  pthread_mutex_t busy; /* held by the caller whose batch the workers run */
  pthread_mutex_t mu;   /* guards everything below */
  pthread_cond_t start, done;
  uint64_t generation;  /* bumped once per batch */
  int stop;
  int active;           /* workers still in the current batch */
  tk_task_fn fn;
  void *arg;
  int64_t n_tasks;
  atomic_llong next;    /* next task index to hand out */
#if TK_HAVE_HWLOC
  hwloc_topology_t topo; /* loaded when pinning, else NULL */
#endif
};

/* Takes tasks of the current batch until none are left. */
static void run_tasks(tk_pool *p, tk_task_fn fn, void *arg, int64_t n_tasks, int worker) {
  for (;;) {
    long long t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
    if (t >= n_tasks) return;
    fn(arg, t, worker);
  }
}

#if TK_HAVE_HWLOC
/* Binds the calling thread to physical core `core` (modulo the core count). */
static void pin_to_core(hwloc_topology_t topo, int core) {
  int n = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  hwloc_obj_t c = n > 0 ? hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, (unsigned)(core % n)) : NULL;
  if (!c || hwloc_set_cpubind(topo, c->cpuset, HWLOC_CPUBIND_THREAD) < 0)
    tk_log(TK_LOG_DEBUG, "thread pool: could not pin worker %d", core);
}
#endif

/* A worker: waits for a new batch (or stop), joins it, reports done. */
static void *worker_main(void *opaque) {
  tk_worker *w = opaque;
  tk_pool *p = w->pool;
#if TK_HAVE_HWLOC
  if (p->topo) pin_to_core(p->topo, w->id);
#endif
  uint64_t seen = 0;
  pthread_mutex_lock(&p->mu);
  for (;;) {
    while (!p->stop && p->generation == seen) pthread_cond_wait(&p->start, &p->mu);
    if (p->stop) break;
    seen = p->generation;
    tk_task_fn fn = p->fn;
    void *arg = p->arg;
    int64_t n_tasks = p->n_tasks;
    pthread_mutex_unlock(&p->mu);
    run_tasks(p, fn, arg, n_tasks, w->id);
    pthread_mutex_lock(&p->mu);
    if (--p->active == 0) pthread_cond_signal(&p->done);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

/* Stops and joins the started workers and frees everything. */
static void pool_free(tk_pool *p) {
  pthread_mutex_lock(&p->mu);
  p->stop = 1;
  pthread_cond_broadcast(&p->start);
  pthread_mutex_unlock(&p->mu);
  for (int i = 0; i < p->n_started; i++) pthread_join(p->workers[i].thread, NULL);
#if TK_HAVE_HWLOC
  if (p->topo) hwloc_topology_destroy(p->topo);
#endif
  pthread_cond_destroy(&p->done);
  pthread_cond_destroy(&p->start);
  pthread_mutex_destroy(&p->mu);
  pthread_mutex_destroy(&p->busy);
  free(p->workers);
  free(p);
}

#if TK_HAVE_HWLOC
/* A loaded topology for pinning, or NULL (then workers run unpinned). */
static hwloc_topology_t load_topology(void) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) < 0) return NULL;
  if (hwloc_topology_load(topo) < 0) {
    hwloc_topology_destroy(topo);
    return NULL;
  }
  return topo;
}
#endif

tk_status tk_pool_create(int n_threads, int pin, tk_pool **out) {
  if (n_threads < 1) return tk_fail(TK_ERR_INVALID_ARGUMENT, "thread pool: %d threads", n_threads);
  if (!out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "thread pool: out is NULL");
  tk_pool *p = calloc(1, sizeof *p);
  if (!p) return tk_fail(TK_ERR_OUT_OF_MEMORY, "thread pool: out of memory");
  p->n_threads = n_threads;
  p->workers = calloc((size_t)n_threads, sizeof *p->workers);
  pthread_mutex_init(&p->busy, NULL);
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->start, NULL);
  pthread_cond_init(&p->done, NULL);
  atomic_init(&p->next, 0);
  if (!p->workers) {
    pool_free(p);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "thread pool: out of memory");
  }
#if TK_HAVE_HWLOC
  p->topo = pin && n_threads > 1 ? load_topology() : NULL;
#else
  (void)pin;
#endif
  for (int i = 1; i < n_threads; i++) {
    tk_worker *w = &p->workers[i - 1];
    w->pool = p;
    w->id = i;
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
      pool_free(p);
      return tk_fail(TK_ERR_INTERNAL, "thread pool: could not start thread %d of %d", i,
                     n_threads);
    }
    p->n_started = i;
  }
  *out = p;
  return TK_OK;
}

void tk_pool_destroy(tk_pool *p) {
  if (p) pool_free(p);
}

int tk_pool_size(const tk_pool *p) { return p->n_threads; }

void tk_pool_run(tk_pool *p, int64_t n_tasks, tk_task_fn fn, void *arg) {
  if (n_tasks <= 0) return;
  if (p->n_threads == 1 || n_tasks == 1 || pthread_mutex_trylock(&p->busy) != 0) {
    for (int64_t t = 0; t < n_tasks; t++) fn(arg, t, 0); /* alone, or the pool is busy */
    return;
  }
  pthread_mutex_lock(&p->mu);
  p->fn = fn;
  p->arg = arg;
  p->n_tasks = n_tasks;
  atomic_store_explicit(&p->next, 0, memory_order_relaxed);
  p->active = p->n_threads - 1;
  p->generation++;
  pthread_cond_broadcast(&p->start);
  pthread_mutex_unlock(&p->mu);
  run_tasks(p, fn, arg, n_tasks, 0);
  pthread_mutex_lock(&p->mu);
  while (p->active > 0) pthread_cond_wait(&p->done, &p->mu);
  pthread_mutex_unlock(&p->mu);
  pthread_mutex_unlock(&p->busy);
}
