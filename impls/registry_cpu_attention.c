/* registry_cpu_attention.c: the cpu attention record (impls/cpu/), and the
 * pieces the cpu paged attention record shares with it: the instruction-set
 * checks and reading a config into kernel options. Every config's params
 * are, in order: isa, block_q, block_kv, mr, kv_split (see
 * docs/cpu-attention.md). */
#include <stdio.h>

#include "cpu/attention_cpu.h"
#include "registry.h"

static const int isa_values[] = {256, 512};
static const int block_q_values[] = {16, 64, 128};
static const int block_kv_values[] = {64, 256};
static const int mr_values[] = {2, 4};
static const int kv_split_values[] = {1, 4};
static const tk_param_def params[] = {{"isa", isa_values, 2},
                                      {"block_q", block_q_values, 3},
                                      {"block_kv", block_kv_values, 2},
                                      {"mr", mr_values, 2},
                                      {"kv_split", kv_split_values, 2}};

/* Valid when this CPU runs the config's isa (tk_cpu_isa(), so
 * TOKAMAX_CPU_ISA caps it). */
int tk_cpu_attn_valid(const tk_problem *p, const tk_config *c, char *why, size_t len) {
  (void)p;
  return tk_cpu_attn_isa_ok(c->v[0], why, len);
}

/* Runs on any problem when the CPU has AVX2, FMA and F16C and lengths fit
 * int32 (keys are int32 lanes in the masks). */
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

/* The kernel options of config c. */
tk_cpu_attn_config tk_cpu_attn_options(const tk_config *c) {
  tk_cpu_attn_config o = {c->v[0], c->v[1], c->v[2], c->v[3], c->v[4]};
  return o;
}

/* Threads the heuristics plan for. */
int tk_cpu_attn_threads(const tk_device_info *dev) {
  return dev->physical_cores > 1 ? dev->physical_cores : 1;
}

/* AVX-512 where it runs; the largest block_q that still gives every thread
 * 4 tasks; KV splits only when even block_q = 16 leaves threads idle. */
static void attention_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  const tk_attention_problem *a = &p->u.attention;
  char why[200];
  int threads = tk_cpu_attn_threads(dev);
  int64_t rows = a->Tq * (a->Hq / a->Hkv), heads = a->B * a->Hkv;
  c->n = 5;
  c->v[0] = tk_cpu_attn_isa_ok(512, why, sizeof why) ? 512 : 256;
  c->v[1] = block_q_values[0];
  for (int i = 2; i >= 0; i--)
    if (heads * ((rows + block_q_values[i] - 1) / block_q_values[i]) >= 4 * threads) {
      c->v[1] = block_q_values[i];
      break;
    }
  c->v[2] = 256;
  c->v[3] = 4;
  c->v[4] = heads * ((rows + 15) / 16) < threads && a->Tk >= 1024 ? 4 : 1;
}

/* No workspace: the scratch depends on the pool size, so run() allocates it. */
size_t tk_cpu_attn_workspace(const tk_problem *p, const tk_config *c) {
  (void)p;
  (void)c;
  return 0;
}

static tk_status attention_run(const tk_problem *p, const tk_config *c, const tk_exec *ex,
                               void *ws) {
  (void)ws;
  tk_cpu_attn_config o = tk_cpu_attn_options(c);
  return tk_cpu_attention(&p->u.attention, &o, ex->pool);
}

static const tk_config_space attention_space = {5, params, tk_cpu_attn_valid};

const tk_impl tk_cpu_attention_impl = {"cpu",           TK_BACKEND_CPU,      &attention_space,
                                       tk_cpu_attn_supports, attention_heuristic, tk_cpu_attn_workspace,
                                       attention_run};
