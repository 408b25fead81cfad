/* record_common.c: the reference records' shared space, support rule and
 * heuristic. */
#include "impls/reference/record_common.h"

static const tk_param_def params[] = {TK_PARAM(tk_ref_config, parallel, 0, 1)};
const tk_config_space tk_ref_space = TK_CONFIG_SPACE(tk_ref_config, params, NULL);

int tk_ref_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)p;
  (void)dev;
  (void)why;
  (void)len;
  return 1;
}

void tk_ref_pick(const tk_device_info *dev, double work, void *config) {
  tk_ref_config *c = config;
  c->parallel = dev->physical_cores > 1 && work >= 1 << 16;
}

tk_pool *tk_ref_pool(const void *config, const tk_exec *ex) {
  const tk_ref_config *c = config;
  return c->parallel ? ex->pool : NULL;
}
