/* paged_cpu.h: the cpu paged attention: its config, the planner
 * (paged_attention_cpu.c) that sends a call to the attention engine or to
 * the decode kernel, and the decode kernel (paged_decode.c, its AVX2 tasks
 * paged_decode_avx2.c and paged_decode_convert_avx2.c).
 * docs/cpu-attention.md ("Paged decode") explains the design. */
#ifndef TK_CPU_PAGED_CPU_H
#define TK_CPU_PAGED_CPU_H

#include <stdint.h>

#include "kernels/problem.h"
#include "runtime/thread_pool.h"

/* How a call runs. The first five fields drive the attention engine
 * (attention_cpu.h's tk_cpu_attn_config, same meaning); the decode kernel
 * uses block_q (rows per task), kv_split, dec_keys and dec_pf. */
typedef struct {
  int isa;      /* engine: 256 (AVX2) or 512 (AVX-512); the decode kernel is AVX2+FMA */
  int block_q;  /* query rows (positions x heads of one GQA group) per task */
  int block_kv; /* engine: keys per block of the online softmax */
  int mr;       /* engine: row vectors per microkernel tile */
  int kv_split; /* parts each task's keys are split into (log-sum-exp merge, fixed order) */
  int decode;   /* 1: 16/32-bit caches whose sequences all have <= TK_PAGED_DECODE_MAX_Q
                 * queries take the decode kernel; 0: the engine. 8-bit caches always
                 * take the decode kernel. */
  int dec_keys; /* decode: keys folded per step (multiple of 8) */
  int dec_pf;   /* decode: 1 = software prefetch of the next head's K/V rows */
} tk_cpu_paged_config;

/* The largest dec_keys. */
#define TK_PAGED_MAX_DEC_KEYS 64

/* Longest query run per sequence the decode kernel takes by choice. */
#define TK_PAGED_DECODE_MAX_Q 8

/* Paged attention as the reference defines it (decode, chunked prefill or
 * both; left window; softcap; 8-bit caches with scales), reading K/V pages
 * through the block table. The bits depend on the config, never on the
 * thread count or timing. */
tk_status tk_cpu_paged_attention(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c,
                                 tk_pool *pool);

/* 1 when c sends p to the decode kernel. */
int tk_cpu_paged_takes_decode(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c);

/* The decode kernel: tasks of (sequence, block of query positions, key
 * part) holding every kv head; each step of a task reads every K/V row of
 * its keys once (converted to float first where
 * tk_cpu_paged_decode_converts, else mostly in place) and folds it into
 * all the rows of its kv head (the GQA group's query heads at each
 * position) with an online softmax; parts merge by log-sum-exp. Any q_len;
 * any cache dtype. */
tk_status tk_cpu_paged_decode(const tk_paged_attention_problem *p, const tk_cpu_paged_config *c,
                              tk_pool *pool);

/* One task of the decode kernel: for each of nh kv heads h, rows [0, n)
 * (row r = position * G + head in group) of queries q + h * n * dp (float,
 * [n][dp], already multiplied by c_logit, in tk_paged_task_pairs order)
 * against keys [kb, ke) of one
 * sequence. Row r sees key j when lo[r] <= j <= hi[r]. */
typedef struct {
  int64_t nh, n, D, Dv, dp, dvp; /* heads, rows per head; head sizes and their rounding up to 16 */
  const float *q;
  const int32_t *lo, *hi;
  int64_t kb, ke;
  const int32_t *table;          /* the sequence's block table row */
  int64_t table_step, page_size;
  const char *k, *v;             /* element 0 of kv head 0 in page 0 */
  int64_t k_page, k_key, k_head, v_page, v_key, v_head; /* bytes */
  int64_t k_d, v_d;              /* bytes between elements of a row */
  tk_dtype kv_dtype;
  const float *k_scale, *v_scale; /* NULL: none; else the scale of (page, slot, head) at */
  int64_t ks_page, ks_key, ks_head, vs_page, vs_key, vs_head; /* these float strides (0: one) */
  float c_cap;                   /* 0: logits are q.k; else c_cap * tanh(q.k) (base 2) */
  int dec_keys;
  int prefetch;                  /* 1: software prefetch of the next head's rows */
} tk_paged_task;

/* A task's result: per row h * n + r the running max m (base 2), sum l and
 * the unnormalised output acc[nh * n][dvp]; m = -inf, l = 0 where a row
 * saw no key. */
typedef struct {
  float *acc, *m, *l;
} tk_paged_partial;

/* 1 when t takes its queries and gives its accumulators in pair order:
 * within each 16 elements the 8 even ones, then the 8 odd ones (a bf16
 * cache read in place); 0: in element order. */
int tk_paged_task_pairs(const tk_paged_task *t);

/* The factor t's queries carry beyond c_logit (a power of 2; not 1 only
 * where t reads an fp8 cache as 2^-120 times its values). */
float tk_paged_task_q_gain(const tk_paged_task *t);

/* Floats of worker scratch tk_paged_task_avx2 needs for t. */
int64_t tk_paged_task_scratch(const tk_paged_task *t);

/* Computes task t into *out, using scratch (tk_paged_task_scratch floats,
 * 32-byte aligned). AVX2 + FMA + F16C. */
void tk_paged_task_avx2(const tk_paged_task *t, float *scratch, tk_paged_partial *out);

/* 1 when p's decode tasks take the converting task function: a 16/32-bit
 * cache and a GQA group of 4 or more (each float then feeds 4 rows or
 * more; reading such a cache in place was 10-15% slower on Zen 3,
 * docs/cpu-attention.md). */
int tk_cpu_paged_decode_converts(const tk_paged_attention_problem *p);

/* Floats of worker scratch tk_paged_convert_task_avx2 needs for t. */
int64_t tk_paged_convert_task_scratch(const tk_paged_task *t);

/* Computes task t (16/32-bit cache, queries in element order, dp and dvp
 * multiples of 8) into *out like tk_paged_task_avx2, converting each
 * step's rows of every kv head to float first; t->prefetch is not read.
 * scratch: tk_paged_convert_task_scratch floats, 32-byte aligned. */
void tk_paged_convert_task_avx2(const tk_paged_task *t, float *scratch, tk_paged_partial *out);

#endif
