/* op_table.c: the op table, indexed by tk_op. */
#include "kernels/op_desc.h"

#include <stdio.h>

/* The descriptors, defined in the per-op files kernels/<op>.c. */
extern const tk_op_desc tk_attention_desc, tk_grouped_gemm_desc, tk_moe_permute_desc,
    tk_moe_unpermute_desc, tk_paged_attention_desc, tk_attention_backward_desc,
    tk_moe_unpermute_backward_desc;

static const tk_op_desc *const table[] = {
    [TK_OP_ATTENTION] = &tk_attention_desc,
    [TK_OP_GROUPED_GEMM] = &tk_grouped_gemm_desc,
    [TK_OP_MOE_PERMUTE] = &tk_moe_permute_desc,
    [TK_OP_MOE_UNPERMUTE] = &tk_moe_unpermute_desc,
    [TK_OP_PAGED_ATTENTION] = &tk_paged_attention_desc,
    [TK_OP_ATTENTION_BACKWARD] = &tk_attention_backward_desc,
    [TK_OP_MOE_UNPERMUTE_BACKWARD] = &tk_moe_unpermute_backward_desc,
};

/* An op appended to tk_op without a descriptor here fails to compile. */
_Static_assert(sizeof table / sizeof table[0] == TK_OP_COUNT,
               "kernels/op_table.c: every tk_op needs its descriptor in the table");

const tk_op_desc *tk_op_desc_of(tk_op op) {
  return (unsigned)op < TK_OP_COUNT ? table[op] : (const tk_op_desc *)0;
}

void tk_op_names_text(char *buf, size_t len) {
  size_t used = 0;
  if (len) buf[0] = '\0';
  for (int i = 0; i < TK_OP_COUNT && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", table[i]->name);
}
