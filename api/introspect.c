/* introspect.c: what implementations exist, which run a problem, and their
 * config spaces. */
#include <stdio.h>
#include <string.h>

#include "impls/registry.h"
#include "runtime/status.h"

tk_status tk_impl_list(tk_op op, const char **names, int cap, int *count) {
  tk_clear_error();
  if ((unsigned)op >= TK_OP_COUNT)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "impl_list: op %d is not an op", (int)op);
  if (!count) return tk_fail(TK_ERR_INVALID_ARGUMENT, "impl_list: count is NULL");
  if (cap < 0 || (cap > 0 && !names))
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "impl_list: names is NULL or cap negative");
  int n;
  const tk_impl *const *list = tk_registry(op, &n);
  for (int i = 0; i < n && i < cap; i++) names[i] = list[i]->name;
  *count = n;
  return TK_OK;
}

/* The op's impl called name, or NULL with the error set. */
static const tk_impl *find_impl(tk_op op, const char *name) {
  if ((unsigned)op >= TK_OP_COUNT) {
    tk_fail(TK_ERR_INVALID_ARGUMENT, "impl: op %d is not an op", (int)op);
    return NULL;
  }
  const tk_impl *impl = name ? tk_registry_find(op, name) : NULL;
  if (!impl)
    tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: impl '%s' is not an implementation of this op",
            tk_op_name(op), name ? name : "(null)");
  return impl;
}

tk_status tk_impl_supports(tk_context *ctx, tk_op op, const char *impl_name, const void *args,
                           char *why, size_t why_len) {
  tk_clear_error();
  char reason[256] = "";
  tk_status s = TK_OK;
  const tk_impl *impl = find_impl(op, impl_name);
  tk_problem p;
  if (!impl) {
    s = TK_ERR_INVALID_ARGUMENT;
  } else if (!ctx) {
    s = tk_fail(TK_ERR_INVALID_ARGUMENT, "impl_supports: ctx is NULL");
  } else if (!args) {
    s = tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: args is NULL", tk_op_name(op));
  } else {
    s = tk_problem_validate(op, args, 0, &p);
    if (s == TK_OK && !tk_impl_can_run(ctx, impl, &p, reason, sizeof reason))
      s = tk_fail(TK_ERR_UNSUPPORTED, "%s: %s: %s", tk_op_name(op), impl->name, reason);
  }
  if (why && why_len) snprintf(why, why_len, "%s", s == TK_OK ? "" : tk_last_error());
  return s;
}

tk_status tk_impl_config_space(tk_op op, const char *impl_name, char *buf, size_t len) {
  tk_clear_error();
  const tk_impl *impl = find_impl(op, impl_name);
  if (!impl) return TK_ERR_INVALID_ARGUMENT;
  if (!buf || !len) return tk_fail(TK_ERR_INVALID_ARGUMENT, "impl_config_space: buf is NULL");
  char text[2048];
  size_t used = 0;
  text[0] = '\0';
  const tk_config_space *s = impl->space;
  for (int i = 0; i < s->n_params && used < sizeof text; i++) {
    used += (size_t)snprintf(text + used, sizeof text - used, "%s:", s->params[i].name);
    for (int j = 0; j < s->params[i].n_values && used < sizeof text; j++)
      used += (size_t)snprintf(text + used, sizeof text - used, " %d", s->params[i].values[j]);
    if (used < sizeof text) used += (size_t)snprintf(text + used, sizeof text - used, "\n");
  }
  if (used >= len)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "impl_config_space: buf holds %zu bytes, %zu needed",
                   len, used + 1);
  memcpy(buf, text, used + 1);
  return TK_OK;
}
