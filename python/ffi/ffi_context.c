/* ffi_context.c: the CPU context (set from Python or a default one) and
 * one context per CUDA stream XLA runs on. */
#include "ffi_context.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STREAMS 64

static _Atomic(tk_context *) cpu_context;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static tk_context *default_cpu_context; /* created on first use when none is set */
static char *stream_cache_path;         /* options for new stream contexts */
static int stream_threads, stream_tune;
static struct {
  void *stream;
  tk_context *ctx;
} streams[MAX_STREAMS];
static int n_streams;

void tkffi_set_context(tk_context *ctx, const char *cache_path, int num_threads, int tune) {
  pthread_mutex_lock(&lock);
  atomic_store(&cpu_context, ctx ? ctx : default_cpu_context);
  free(stream_cache_path);
  stream_cache_path = cache_path ? strdup(cache_path) : NULL;
  stream_threads = num_threads;
  stream_tune = tune;
  pthread_mutex_unlock(&lock);
}

/* The CPU context: the one set, else the default (created now if need be). */
static XLA_FFI_Error *cpu(const tkffi_call *c, tk_context **out) {
  if ((*out = atomic_load(&cpu_context))) return NULL;
  tk_status s = TK_OK;
  pthread_mutex_lock(&lock);
  if (!(*out = atomic_load(&cpu_context))) {
    s = tk_context_create(NULL, &default_cpu_context);
    if (s == TK_OK) atomic_store(&cpu_context, default_cpu_context);
    *out = default_cpu_context;
  }
  pthread_mutex_unlock(&lock);
  return s == TK_OK ? NULL : tkffi_status_error(c, s);
}

/* XLA's stream for this call. */
static XLA_FFI_Error *xla_stream(const tkffi_call *c, void **out) {
  XLA_FFI_Stream_Get_Args a = {XLA_FFI_Stream_Get_Args_STRUCT_SIZE, NULL, c->frame->ctx, NULL};
  TKFFI_TRY(c->api->XLA_FFI_Stream_Get(&a));
  *out = a.stream;
  return NULL;
}

/* The context of XLA's stream, created with the options set last. */
static XLA_FFI_Error *cuda(const tkffi_call *c, tk_context **out) {
  void *stream;
  TKFFI_TRY(xla_stream(c, &stream));
  tk_status s = TK_OK;
  *out = NULL;
  pthread_mutex_lock(&lock);
  for (int i = 0; i < n_streams && !*out; i++)
    if (streams[i].stream == stream) *out = streams[i].ctx;
  if (!*out && n_streams < MAX_STREAMS) {
    tk_context_options o = {stream_cache_path, stream_threads, stream_tune, stream};
    s = tk_context_create(&o, out);
    if (s == TK_OK) streams[n_streams].stream = stream, streams[n_streams++].ctx = *out;
  }
  pthread_mutex_unlock(&lock);
  if (s != TK_OK) return tkffi_status_error(c, s);
  if (!*out)
    return tkffi_error(c, XLA_FFI_Error_Code_RESOURCE_EXHAUSTED,
                       "tokamax_c %s: more than %d CUDA streams", c->op, MAX_STREAMS);
  return NULL;
}

XLA_FFI_Error *tkffi_context(const tkffi_call *c, tk_context **out) {
  return c->cuda ? cuda(c, out) : cpu(c, out);
}
