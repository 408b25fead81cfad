/* op_names.c: names of ops (from the op table) and of choice sources. */
#include <string.h>

#include "kernels/op_desc.h"
#include "runtime/status.h"

const char *tk_op_name(tk_op op) {
  const tk_op_desc *d = tk_op_desc_of(op);
  return d ? d->name : NULL;
}

tk_status tk_op_from_name(const char *name, tk_op *out) {
  tk_clear_error();
  if (!out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "op: out is NULL");
  for (int i = 0; i < TK_OP_COUNT; i++)
    if (name && strcmp(name, tk_op_desc_of((tk_op)i)->name) == 0) {
      *out = (tk_op)i;
      return TK_OK;
    }
  char names[512];
  tk_op_names_text(names, sizeof names);
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "op: '%s' is not an op (%s)", name ? name : "(null)",
                 names);
}

const char *tk_choice_source_name(tk_choice_source s) {
  switch (s) {
    case TK_CHOICE_FORCED: return "forced";
    case TK_CHOICE_CACHE: return "cache";
    case TK_CHOICE_NEAREST: return "nearest";
    case TK_CHOICE_HEURISTIC: return "heuristic";
    case TK_CHOICE_PACK: return "pack";
  }
  return "unknown";
}
