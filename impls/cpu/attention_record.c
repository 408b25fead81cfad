/* attention_record.c: the cpu attention record (attention_cpu.c): its
 * config space, heuristic and run. */
#include "impls/cpu/attention_record_common.h"

static const tk_param_def params[] = {
    TK_PARAM(tk_cpu_attn_config, isa, 256, 512),     TK_PARAM(tk_cpu_attn_config, block_q, 16, 64, 128),
    TK_PARAM(tk_cpu_attn_config, block_kv, 64, 256), TK_PARAM(tk_cpu_attn_config, mr, 2, 4),
    TK_PARAM(tk_cpu_attn_config, kv_split, 1, 4)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cpu_attn_config, params, tk_cpu_attn_valid);

/* AVX-512 where it runs; the largest block_q that still gives every thread
 * 4 tasks; tiles of 4 row vectors with AVX-512's 32 vector registers, 2
 * with AVX2's 16 (4 spill there: measured 1.3x slower for f32 on Zen 3,
 * docs/perf/tuning.md); KV splits only when even block_q = 16 leaves
 * threads idle. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  static const int block_q[] = {16, 64, 128};
  const tk_attention_problem *a = &p->u.attention;
  tk_cpu_attn_config *c = config;
  int threads = tk_cpu_attn_threads(dev);
  int64_t rows = a->Tq * (a->Hq / a->Hkv), heads = a->B * a->Hkv;
  c->isa = tk_cpu_attn_best_isa();
  c->block_q = block_q[0];
  for (int i = 2; i >= 0; i--)
    if (heads * ((rows + block_q[i] - 1) / block_q[i]) >= 4 * threads) {
      c->block_q = block_q[i];
      break;
    }
  c->block_kv = 256;
  c->mr = c->isa == 512 ? 4 : 2;
  c->kv_split = heads * ((rows + 15) / 16) < threads && a->Tk >= 1024 ? 4 : 1;
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_cpu_attention(&p->u.attention, config, ex->pool);
}

const tk_impl tk_cpu_attention_impl = {.name = "cpu",
                                       .backend = TK_BACKEND_CPU,
                                       .space = &space,
                                       .supports = tk_cpu_attn_supports,
                                       .heuristic = heuristic,
                                       .run = run};
