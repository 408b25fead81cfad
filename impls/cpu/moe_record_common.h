/* moe_record_common.h: what the cpu MoE permute and unpermute records
 * share: their config (isa, task count, streaming stores), its space, the
 * instruction-set check, and the heuristic. */
#ifndef TK_IMPLS_CPU_MOE_RECORD_COMMON_H
#define TK_IMPLS_CPU_MOE_RECORD_COMMON_H

#include "impls/cpu/moe_cpu.h"
#include "kernels/impl.h"

/* isa: 256 (AVX2) | 512 (AVX-512); tasks: pool tasks the tokens are split
 * into; stream: non-temporal stores of the output rows (0/1). */
typedef struct {
  int isa, tasks, stream;
} tk_cpu_moe_config;

/* The space; valid() rejects an isa the CPU lacks (tk_cpu_isa(), so
 * TOKAMAX_CPU_ISA caps it). */
extern const tk_config_space tk_cpu_moe_space;

/* 1 when the CPU has AVX2, FMA and F16C; else 0 with the reason. */
int tk_cpu_moe_supports(const tk_problem *p, const tk_device_info *dev, char *why, size_t len);

/* The config for a call moving `bytes` (read + written), out_bytes of them
 * output in rows of row_bytes, on dev. */
void tk_cpu_moe_heuristic(const tk_device_info *dev, double bytes, double out_bytes,
                          int64_t row_bytes, tk_cpu_moe_config *c);

/* The kernel options of config (a tk_cpu_moe_config). */
tk_moe_cpu_opts tk_cpu_moe_options(const void *config);

#endif
