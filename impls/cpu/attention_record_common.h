/* attention_record_common.h: what the cpu attention and paged attention
 * records share. Both configs are a tk_cpu_attn_config (attention_cpu.h:
 * isa, block_q, block_kv, mr, kv_split; docs/cpu-attention.md) with their
 * own candidate values. */
#ifndef TK_IMPLS_CPU_ATTENTION_RECORD_COMMON_H
#define TK_IMPLS_CPU_ATTENTION_RECORD_COMMON_H

#include "impls/cpu/attention_cpu.h"
#include "kernels/impl.h"

/* Valid when this CPU runs the config's isa (tk_cpu_isa(), so
 * TOKAMAX_CPU_ISA caps it). */
int tk_cpu_attn_valid(const tk_problem *p, const void *config, char *why, size_t len);

/* Runs on any problem when the CPU has AVX2, FMA and F16C and lengths fit
 * int32 (keys are int32 lanes in the masks). */
int tk_cpu_attn_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len);

/* Threads the heuristics plan for. */
int tk_cpu_attn_threads(const tk_device_info *dev);

/* The widest isa this CPU runs: 512 or 256. */
int tk_cpu_attn_best_isa(void);

#endif
