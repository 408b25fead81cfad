/* attention.h: what the attention forward (kernels/attention.c) and
 * backward (kernels/attention_backward.c) ops share: taking q, k, v, out,
 * lse and the lengths with their shape relations and the scalars, the
 * length data rules, the key fields, and the (query, key) pairs a call
 * sees. */
#ifndef TK_KERNELS_ATTENTION_H
#define TK_KERNELS_ATTENTION_H

#include "kernels/problem.h"
#include "kernels/validate.h"
#include "runtime/json.h"

/* Takes every tensor of a (the backward passes its q, k, v, out, lse and
 * lengths in a tk_attention_args) with out and lse used as out_flags and
 * lse_flags say (TK_ARG_*), checks their shapes, dtypes and relations and
 * the scalars (scale resolved, softcap, causal, windows) into *p. */
tk_status tk_attention_take(tk_validator *v, const tk_attention_args *a, int out_flags,
                            int lse_flags, tk_attention_problem *p);

/* q_lens and kv_lens (when present) lie in [0, Tq] and [0, Tk]: host data. */
tk_status tk_attention_check_lens(const tk_validator *v, const tk_attention_problem *p);

/* Appends the forward's key fields (dtype, sizes, masks, scalars, lse,
 * varlen), without strides. */
void tk_attention_key_fields(tk_text *k, const tk_attention_problem *p);

/* The (query, key) pairs the masks let through, the lengths read when the
 * tensors are in host memory (device_type kDLCPU), else taken as full. */
double tk_attention_pairs(const tk_attention_problem *p, int device_type);

#endif
