/* registry_cpu_paged_attention.c: the cpu paged attention record
 * (impls/cpu/). Params, in order: isa, block_q, block_kv, mr, kv_split
 * (docs/cpu-attention.md); the checks and option reading are those of
 * registry_cpu_attention.c. */
#include "cpu/attention_cpu.h"
#include "registry.h"

/* Defined in registry_cpu_attention.c. */
int tk_cpu_attn_valid(const tk_problem *p, const tk_config *c, char *why, size_t len);
int tk_cpu_attn_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len);
tk_cpu_attn_config tk_cpu_attn_options(const tk_config *c);
int tk_cpu_attn_threads(const tk_device_info *dev);
size_t tk_cpu_attn_workspace(const tk_problem *p, const tk_config *c);

static const int isa_values[] = {256, 512};
static const int block_q_values[] = {16, 64};
static const int block_kv_values[] = {64, 256};
static const int mr_values[] = {2, 4};
static const int kv_split_values[] = {1, 2, 8};
static const tk_param_def params[] = {{"isa", isa_values, 2},
                                      {"block_q", block_q_values, 2},
                                      {"block_kv", block_kv_values, 2},
                                      {"mr", mr_values, 2},
                                      {"kv_split", kv_split_values, 3}};

/* AVX-512 where it runs; one task per (sequence, kv head) for decode
 * (block_q 64 holds a GQA group of up to 64 heads); KV splits when those
 * tasks are fewer than twice the threads and the sequences long. */
static void paged_heuristic(const tk_problem *p, const tk_device_info *dev, tk_config *c) {
  const tk_paged_attention_problem *a = &p->u.paged_attention;
  char why[200];
  int threads = tk_cpu_attn_threads(dev);
  int64_t tasks = (a->Tq_total * (a->Hq / a->Hkv) + 63) / 64 * a->Hkv; /* at least */
  int64_t max_kv = a->max_pages * a->page_size;
  c->n = 5;
  c->v[0] = tk_cpu_attn_isa_ok(512, why, sizeof why) ? 512 : 256;
  c->v[1] = 64;
  c->v[2] = 256;
  c->v[3] = 4;
  c->v[4] = tasks >= 2 * threads || max_kv < 512 ? 1 : tasks >= threads ? 2 : 8;
}

static tk_status paged_run(const tk_problem *p, const tk_config *c, const tk_exec *ex, void *ws) {
  (void)ws;
  tk_cpu_attn_config o = tk_cpu_attn_options(c);
  return tk_cpu_paged_attention(&p->u.paged_attention, &o, ex->pool);
}

static const tk_config_space paged_space = {5, params, tk_cpu_attn_valid};

const tk_impl tk_cpu_paged_attention_impl = {"cpu",           TK_BACKEND_CPU,     &paged_space,
                                             tk_cpu_attn_supports, paged_heuristic, tk_cpu_attn_workspace,
                                             paged_run};
