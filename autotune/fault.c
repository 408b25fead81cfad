/* fault.c: parsing TOKAMAX_TEST_FAULT and applying it. */
#include "autotune/fault.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/half.h"
#include "runtime/status.h"
#include "autotune/measure.h"

static struct {
  char impl[64];
  int kind; /* 0 none, 1 slow, 2 wrong */
  double factor;
} fault;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;
int tk_fault_configured;

static void parse_fault(void) {
  const char *v = getenv("TOKAMAX_TEST_FAULT");
  if (!v || !v[0]) return;
  char kind[16] = "";
  double f = 0;
  int n = sscanf(v, "%63[^:]:%15[^:]:%lf", fault.impl, kind, &f);
  if (n >= 2 && strcmp(kind, "wrong") == 0) fault.kind = 2;
  else if (n == 3 && strcmp(kind, "slow") == 0 && f > 1) fault.kind = 1, fault.factor = f;
  else tk_log(TK_LOG_INFO, "TOKAMAX_TEST_FAULT='%s' not understood; ignored", v);
  tk_fault_configured = fault.kind != 0;
}

void tk_fault_init(void) { pthread_once(&fault_once, parse_fault); }

int tk_fault_armed(const tk_impl *impl) {
  tk_fault_init();
  return fault.kind && strcmp(fault.impl, impl->name) == 0;
}

void tk_fault_after_run(const tk_problem *p, const tk_impl *impl, double run_ns) {
  if (!tk_fault_armed(impl) || p->device_type != kDLCPU) return;
  if (fault.kind == 1) {
    double until = tk_now_ns() + (fault.factor - 1) * run_ns;
    while (tk_now_ns() < until) {
    }
    return;
  }
  tk_problem copy = *p;
  tk_tensor *outs[TK_MAX_OUTPUTS];
  int n = tk_problem_outputs(&copy, outs);
  for (int i = 0; i < n; i++) {
    if (outs[i]->dtype == TK_I32 || !outs[i]->data || tk_tensor_extent(outs[i]) == 0) continue;
    float v = tk_load_f32(outs[i]->data, outs[i]->dtype) + 1.0f;
    tk_store_f32(outs[i]->data, outs[i]->dtype, v);
    return;
  }
}
