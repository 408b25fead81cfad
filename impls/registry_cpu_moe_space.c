/* registry_cpu_moe_space.c: the config space, instruction-set check and
 * heuristic shared by the cpu MoE permute and unpermute records. */
#include "registry_cpu_moe_space.h"

#include <stdio.h>

#include "../kernels/runtime/device.h"

#define AVX2_BITS (TK_ISA_AVX2 | TK_ISA_FMA | TK_ISA_F16C)
#define AVX512_BITS (AVX2_BITS | TK_ISA_AVX512F | TK_ISA_AVX512BW | TK_ISA_AVX512VL)
#define TASK_BYTES (512.0 * 1024)

static const int isa_values[] = {TK_MOE_ISA_AVX2, TK_MOE_ISA_AVX512};
static const int tasks_values[] = {1, 4, 16, 64};
static const int stream_values[] = {0, 1};
static const tk_param_def params[] = {
    {"isa", isa_values, 2}, {"tasks", tasks_values, 4}, {"stream", stream_values, 2}};

/* The isa value is one this CPU runs. */
static int moe_valid(const tk_problem *p, const tk_config *c, char *why, size_t len) {
  (void)p;
  unsigned isa = tk_cpu_isa();
  if (c->v[0] == TK_MOE_ISA_AVX512 && (isa & AVX512_BITS) != AVX512_BITS) {
    snprintf(why, len,
             "isa=512 needs AVX-512 F/BW/VL, which this CPU lacks or TOKAMAX_CPU_ISA caps");
    return 0;
  }
  if ((isa & AVX2_BITS) != AVX2_BITS) {
    snprintf(why, len,
             "isa=%d needs AVX2, FMA and F16C, which this CPU lacks or TOKAMAX_CPU_ISA caps",
             c->v[0]);
    return 0;
  }
  return 1;
}

const tk_config_space tk_cpu_moe_space = {3, params, moe_valid};

int tk_cpu_moe_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  (void)p;
  if ((dev->isa & AVX2_BITS) == AVX2_BITS) return 1;
  snprintf(why, len,
           "unsupported: needs AVX2, FMA and F16C, which this CPU lacks or TOKAMAX_CPU_ISA caps");
  return 0;
}

void tk_cpu_moe_heuristic(const tk_device_info *dev, double bytes, double out_bytes,
                          int64_t row_bytes, tk_config *c) {
  int threads = dev->physical_cores > 1 ? dev->physical_cores : 1;
  /* a task per TASK_BYTES moved (waking the pool costs about as much as
   * moving that), up to 8 per thread to balance */
  double want = bytes / TASK_BYTES < 8.0 * threads ? bytes / TASK_BYTES : 8.0 * threads;
  int tasks = tasks_values[0];
  for (int i = 1; i < 4; i++)
    if (tasks_values[i] <= want) tasks = tasks_values[i];
  double l3 = dev->l3_bytes > 0 ? (double)dev->l3_bytes : 32.0 * (1 << 20);
  c->n = 3;
  c->v[0] = (dev->isa & AVX512_BITS) == AVX512_BITS ? TK_MOE_ISA_AVX512 : TK_MOE_ISA_AVX2;
  c->v[1] = tasks;
  /* streaming pays when the output cannot stay in cache and rows hold whole lines */
  c->v[2] = out_bytes > l3 / 2 && row_bytes >= 1024;
}

tk_moe_cpu_opts tk_cpu_moe_options(const tk_config *c) {
  tk_moe_cpu_opts o = {c->v[0], c->v[1], c->v[2]};
  return o;
}
