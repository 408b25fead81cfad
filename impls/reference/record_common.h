/* record_common.h: what the reference's records (impls/reference/<op>_record.c)
 * share: the config space, whose one parameter `parallel` runs independent
 * work over the context's threads (1) or on the calling thread (0), both
 * giving identical bits; the support rule; and the heuristic's choice. */
#ifndef TK_IMPLS_REFERENCE_RECORD_COMMON_H
#define TK_IMPLS_REFERENCE_RECORD_COMMON_H

#include "kernels/impl.h"

typedef struct {
  int parallel;
} tk_ref_config;

extern const tk_config_space tk_ref_space;

/* The reference runs any valid problem whose data the CPU can read: 1. */
int tk_ref_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len);

/* The heuristic config for a problem of `work` multiply-adds (or element
 * moves): parallel when the machine has several cores and there is enough
 * work for spreading it to pay. */
void tk_ref_pick(const tk_device_info *dev, double work, void *config);

/* The pool a run with config uses: the context's, or NULL (serial). */
tk_pool *tk_ref_pool(const void *config, const tk_exec *ex);

#endif
