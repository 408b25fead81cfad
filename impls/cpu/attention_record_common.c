/* attention_record_common.c: the validity, support and sizing rules the
 * cpu attention and paged attention records share. */
#include "impls/cpu/attention_record_common.h"

#include <stdint.h>
#include <stdio.h>

int tk_cpu_attn_valid(const tk_problem *p, const void *config, char *why, size_t len) {
  (void)p;
  const tk_cpu_attn_config *c = config;
  return tk_cpu_attn_isa_ok(c->isa, why, len);
}

int tk_cpu_attn_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)dev;
  char reason[200];
  if (!tk_cpu_attn_isa_ok(256, reason, sizeof reason)) {
    snprintf(why, len, "unsupported: %s", reason);
    return 0;
  }
  if (p->op == TK_OP_ATTENTION && (p->u.attention.Tk > INT32_MAX || p->u.attention.Tq > INT32_MAX)) {
    snprintf(why, len, "unsupported: more than 2^31 - 1 query or key positions");
    return 0;
  }
  return 1;
}

int tk_cpu_attn_threads(const tk_device_info *dev) {
  return dev->physical_cores > 1 ? dev->physical_cores : 1;
}

int tk_cpu_attn_best_isa(void) {
  char why[200];
  return tk_cpu_attn_isa_ok(512, why, sizeof why) ? 512 : 256;
}
