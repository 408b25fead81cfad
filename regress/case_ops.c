/* case_ops.c: the case builder's per-op hooks, indexed by tk_op. */
#include "regress/case_internal.h"

static const tk_case_ops *const table[] = {
    [TK_OP_ATTENTION] = &tk_case_attention_ops,
    [TK_OP_GROUPED_GEMM] = &tk_case_grouped_gemm_ops,
    [TK_OP_MOE_PERMUTE] = &tk_case_moe_permute_ops,
    [TK_OP_MOE_UNPERMUTE] = &tk_case_moe_unpermute_ops,
    [TK_OP_PAGED_ATTENTION] = &tk_case_paged_attention_ops,
    [TK_OP_ATTENTION_BACKWARD] = &tk_case_attention_backward_ops,
    [TK_OP_MOE_UNPERMUTE_BACKWARD] = &tk_case_moe_unpermute_backward_ops,
};

/* An op appended to tk_op without hooks here fails to compile. */
_Static_assert(sizeof table / sizeof table[0] == TK_OP_COUNT,
               "regress/case_ops.c: every tk_op needs its case-builder hooks");

const tk_case_ops *tk_case_ops_of(tk_op op) { return table[op]; }
