/* paged_attention_record.c: the cpu paged attention record
 * (paged_attention_cpu.c, paged_decode.c): its config space, heuristic and
 * run; support is that of attention_record_common.c. */
#include <stdio.h>

#include "impls/cpu/attention_record_common.h"
#include "impls/cpu/paged_cpu.h"

static const tk_param_def params[] = {
    TK_PARAM(tk_cpu_paged_config, isa, 256, 512),     TK_PARAM(tk_cpu_paged_config, block_q, 16, 64),
    TK_PARAM(tk_cpu_paged_config, block_kv, 64, 256), TK_PARAM(tk_cpu_paged_config, mr, 2, 4),
    TK_PARAM(tk_cpu_paged_config, kv_split, 1, 2, 8), TK_PARAM(tk_cpu_paged_config, decode, 1, 0),
    TK_PARAM(tk_cpu_paged_config, dec_keys, 16, 8, 32), TK_PARAM(tk_cpu_paged_config, dec_pf, 0, 1)};

/* The isa must run here; the knobs of the path the config does not take
 * stay at their first values (no two valid configs run the same code):
 * decode: isa 256, block_kv 64, mr 2 (decode 1 for 8-bit caches, which
 * always take it), and dec_pf 0 where the decode kernel converts first
 * (it does not prefetch); engine: decode 0, dec_keys 16, dec_pf 0. */
static int paged_valid(const tk_problem *p, const void *config, char *why, size_t len) {
  const tk_cpu_paged_config *c = config;
  if (!tk_cpu_attn_isa_ok(c->isa, why, len)) return 0;
  const tk_paged_attention_problem *a = &p->u.paged_attention;
  if (tk_cpu_paged_takes_decode(a, c)) {
    if (tk_cpu_paged_decode_converts(a) && c->dec_pf) {
      snprintf(why, len, "the decode kernel converts this call's steps first: dec_pf stays 0");
      return 0;
    }
    if (c->isa == 256 && c->block_kv == 64 && c->mr == 2 && c->decode == 1) return 1;
    snprintf(why, len, "the decode kernel takes this call: isa, block_kv, mr, decode stay 256, 64, 2, 1");
    return 0;
  }
  if (c->decode == 0 && c->dec_keys == 16 && c->dec_pf == 0) return 1;
  snprintf(why, len, "the engine takes this call: decode, dec_keys, dec_pf stay 0, 16, 0");
  return 0;
}
static const tk_config_space space = TK_CONFIG_SPACE(tk_cpu_paged_config, params, paged_valid);

/* Decode-like calls (mean q_len <= TK_PAGED_DECODE_MAX_Q) and 8-bit caches:
 * the decode kernel (AVX2), steps of 16 keys; software prefetch of the
 * next step's rows where it reads rows in place and each K row feeds two
 * query rows or more (GQA: the fold is slow enough for the hardware
 * prefetchers to fall behind; with one row per head, MHA, the cache
 * streams in memory order and the prefetches only crowd the load queue;
 * 16/32-bit caches with G >= 4 take the converting task, which does not
 * prefetch: docs/cpu-attention.md). Else the engine with AVX-512 where it
 * runs, one task per (sequence, kv head) holding a GQA group of up to 64
 * rows (block_q 64). KV splits when the tasks are fewer than twice the
 * threads and the sequences long: the decode kernel's tasks are
 * (sequence, block of 64 / G positions) with every kv head, the engine's
 * (block of 64 rows, kv head). */
static void heuristic(const tk_problem *p, const tk_device_info *dev, void *config) {
  const tk_paged_attention_problem *a = &p->u.paged_attention;
  tk_cpu_paged_config *c = config;
  int threads = tk_cpu_attn_threads(dev);
  int64_t G = a->Hq / a->Hkv, max_kv = a->max_pages * a->page_size;
  *c = (tk_cpu_paged_config){.isa = tk_cpu_attn_best_isa(), .block_q = 64, .block_kv = 256,
                             .mr = 4, .decode = 1, .dec_keys = 16,
                             .dec_pf = G >= 2 && !tk_cpu_paged_decode_converts(a)};
  int decode = tk_cpu_paged_takes_decode(a, c);
  int64_t blocks = (a->Tq_total * G + 63) / 64; /* blocks of 64 rows, at least */
  int64_t tasks = decode ? (blocks > a->S ? blocks : a->S) : blocks * a->Hkv;
  c->kv_split = tasks >= 2 * threads || max_kv < 512 ? 1 : tasks >= threads ? 2 : 8;
  if (decode) {
    c->isa = 256;
    c->block_kv = 64;
    c->mr = 2;
  } else {
    c->decode = 0;
    c->dec_pf = 0;
  }
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
