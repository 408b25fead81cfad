/* op_names.c: names of ops and of choice sources. */
#include <string.h>

#include "runtime/status.h"

static const char *const op_names[TK_OP_COUNT] = {
    "attention", "grouped_gemm", "moe_permute", "moe_unpermute", "paged_attention"};

const char *tk_op_name(tk_op op) { return (unsigned)op < TK_OP_COUNT ? op_names[op] : NULL; }

tk_status tk_op_from_name(const char *name, tk_op *out) {
  tk_clear_error();
  if (!out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "op: out is NULL");
  for (int i = 0; name && i < TK_OP_COUNT; i++)
    if (strcmp(name, op_names[i]) == 0) {
      *out = (tk_op)i;
      return TK_OK;
    }
  return tk_fail(TK_ERR_INVALID_ARGUMENT,
                 "op: '%s' is not an op (attention, grouped_gemm, moe_permute, moe_unpermute, "
                 "paged_attention)", name ? name : "(null)");
}

const char *tk_choice_source_name(tk_choice_source s) {
  switch (s) {
    case TK_CHOICE_FORCED: return "forced";
    case TK_CHOICE_CACHE: return "cache";
    case TK_CHOICE_NEAREST: return "nearest";
    case TK_CHOICE_HEURISTIC: return "heuristic";
  }
  return "unknown";
}
