/* attention_backward_record.c: the cpu attention backward record
 * (attention_backward_cpu.c): its config space, validity, heuristic and
 * run. */
#include <stdio.h>

#include "impls/cpu/attention_backward_cpu.h"
#include "impls/cpu/attention_record_common.h"

static const tk_param_def params[] = {TK_PARAM(tk_cpu_attn_bwd_config, isa, 256, 512),
                                      TK_PARAM(tk_cpu_attn_bwd_config, block_q, 32, 64, 128),
                                      TK_PARAM(tk_cpu_attn_bwd_config, block_kv, 32, 64, 128),
                                      TK_PARAM(tk_cpu_attn_bwd_config, kv_split, 1, 2, 4)};

/* Valid when this CPU runs the config's isa. */
static int valid(const tk_problem *p, const void *config, char *why, size_t len) {
  (void)p;
  return tk_cpu_attn_isa_ok(((const tk_cpu_attn_bwd_config *)config)->isa, why, len);
}

static const tk_config_space space = TK_CONFIG_SPACE(tk_cpu_attn_bwd_config, params, valid);

/* The forward's conditions, and head dims the packed rows hold. */
static int supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len) {
  const tk_attention_problem *f = &p->u.attention_backward.fwd;
  if (f->D > TK_CPU_ATTN_BWD_MAX_D || f->Dv > TK_CPU_ATTN_BWD_MAX_D) {
    snprintf(why, len, "unsupported: head dims over %d", TK_CPU_ATTN_BWD_MAX_D);
    return 0;
  }
  if (f->Tk > INT32_MAX || f->Tq > INT32_MAX) {
    snprintf(why, len, "unsupported: more than 2^31 - 1 query or key positions");
    return 0;
  }
  return tk_cpu_attn_supports(p, dev, why, len);
}

/* AVX-512 where it runs; blocks of 128 keys, and of 128 rows without
 * masks (64 with causal or a window, where the diagonal blocks waste
 * less); the keys split only when the (batch, kv head) groups are too few
 * to keep two tasks per thread and there are at least two key blocks to
 * split. On this library's Zen 5 (2026-12-02, 2048 tokens, D = 128) 128
 * keys beat 64 by 5-15% for f32 and bf16, 128 rows beat 64 by 5-15%
 * unmasked and were within noise causal. */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_attention_problem *f = &p->u.attention_backward.fwd;
  tk_cpu_attn_bwd_config *c = config;
  const int64_t threads = tk_cpu_attn_threads(dev), groups = f->B * f->Hkv;
  const int masked = f->causal || f->window_left >= 0 || f->window_right >= 0;
  c->isa = tk_cpu_attn_best_isa();
  c->block_q = masked ? 64 : 128;
  c->block_kv = 128;
  c->kv_split = groups >= 2 * threads || f->Tk < 2 * c->block_kv ? 1 : groups >= threads ? 2 : 4;
}

static size_t workspace(const tk_problem *p, const void *config) {
  return tk_cpu_attention_backward_workspace(&p->u.attention_backward, config);
}

static tk_status run(const tk_problem *p, const void *config, const tk_exec *ex, void *ws) {
  return tk_cpu_attention_backward(&p->u.attention_backward, config, ex->pool, ws);
}

const tk_impl tk_cpu_attention_backward_impl = {.name = "cpu",
                                                .backend = TK_BACKEND_CPU,
                                                .space = &space,
                                                .supports = supports,
                                                .heuristic = heuristic,
                                                .workspace = workspace,
                                                .run = run};
