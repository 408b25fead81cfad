/* ffi_context.h: the tk_context the FFI handlers compute in. */
#ifndef TKFFI_CONTEXT_H
#define TKFFI_CONTEXT_H

#include "ffi_call.h"

/* Makes ctx the context of CPU calls (NULL: a default context created on
 * first use), and gives the options for the contexts of CUDA streams
 * created from now on (one per XLA stream, each with that stream).
 * tokamax_c.jax.set_context calls it; ctx must outlive its use. */
TKFFI_EXPORT void tkffi_set_context(tk_context *ctx, const char *cache_path, int num_threads,
                                    int tune);

/* The context for call c: the CPU context, or the one of XLA's stream. */
XLA_FFI_Error *tkffi_context(const tkffi_call *c, tk_context **out);

#endif /* TKFFI_CONTEXT_H */
