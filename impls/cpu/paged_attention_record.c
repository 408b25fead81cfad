/* paged_attention_record.c: the cpu paged attention record
 * (paged_attention_cpu.c): its config space, heuristic and run; the checks
 * are those of attention_record_common.c. */
#include "impls/cpu/attention_record_common.h"

static const tk_param_def params[] = {
    TK_PARAM(tk_cpu_attn_config, isa, 256, 512),     TK_PARAM(tk_cpu_attn_config, block_q, 16, 64),
    TK_PARAM(tk_cpu_attn_config, block_kv, 64, 256), TK_PARAM(tk_cpu_attn_config, mr, 2, 4),
    TK_PARAM(tk_cpu_attn_config, kv_split, 1, 2, 8)};
static const tk_config_space space = TK_CONFIG_SPACE(tk_cpu_attn_config, params, tk_cpu_attn_valid);

/* AVX-512 where it runs; one task per (sequence, kv head) for decode
 * (block_q 64 holds a GQA group of up to 64 heads); KV splits when those
 * tasks are fewer than twice the threads and the sequences long. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_paged_attention_problem *a = &p->u.paged_attention;
  tk_cpu_attn_config *c = config;
  int threads = tk_cpu_attn_threads(dev);
  int64_t tasks = (a->Tq_total * (a->Hq / a->Hkv) + 63) / 64 * a->Hkv; /* at least */
  int64_t max_kv = a->max_pages * a->page_size;
  c->isa = tk_cpu_attn_best_isa();
  c->block_q = 64;
  c->block_kv = 256;
  c->mr = 4;
  c->kv_split = tasks >= 2 * threads || max_kv < 512 ? 1 : tasks >= threads ? 2 : 8;
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  (void)ws;
  return tk_cpu_paged_attention(&p->u.paged_attention, config, ex->pool);
}

const tk_impl tk_cpu_paged_attention_impl = {.name = "cpu",
                                             .backend = TK_BACKEND_CPU,
                                             .space = &space,
                                             .supports = tk_cpu_attn_supports,
                                             .heuristic = heuristic,
                                             .run = run};
