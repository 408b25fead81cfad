/* registry.h: the ordered implementation list of each op, and whether an
 * implementation can run a problem here. The records are defined by the
 * backends (impls/<backend>/<op>_record.c, declared in their
 * <backend>_records.h); impls/registry.c orders them per op. */
#ifndef TK_IMPLS_REGISTRY_H
#define TK_IMPLS_REGISTRY_H

#include <stddef.h>

#include "kernels/impl.h"

/* The op's implementations, fastest-first, reference last; *count set (0
 * and NULL for an unknown op). */
const tk_impl *const *tk_registry(tk_op op, int *count);

/* The op's implementation called name, or NULL. */
const tk_impl *tk_registry_find(tk_op op, const char *name);

/* 1 if impl can run p on ctx's devices: its backend matches p's device,
 * the device exists, and impl->supports accepts p; else 0 with the reason
 * in why. */
int tk_impl_can_run(const tk_context *ctx, const tk_impl *impl, const tk_problem *p, char *why,
                    size_t why_len);

#endif
