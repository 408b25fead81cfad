/* config.c: configs stored by their space's param table: the heuristic's,
 * "name=value,..." text, validity, enumeration. */
#include "autotune/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/status.h"

/* The stored value of param i. */
static int *slot(const tk_config_space *s, tk_config *c, int i) {
  return &c->v[s->params[i].offset / sizeof(int)];
}

void tk_config_heuristic(const tk_impl *impl, const tk_problem *p, const tk_device_info *dev,
                         tk_config *c) {
  *c = (tk_config){{0}};
  impl->heuristic(p, dev, c->v);
}

/* Index of the param called name (len bytes) in s, or -1. */
static int find_param(const tk_config_space *s, const char *name, size_t len) {
  for (int i = 0; i < s->n_params; i++)
    if (strlen(s->params[i].name) == len && memcmp(s->params[i].name, name, len) == 0) return i;
  return -1;
}

static int is_candidate(const tk_param_def *d, int v) {
  for (int i = 0; i < d->n_values; i++)
    if (d->values[i] == v) return 1;
  return 0;
}

/* Lists the space's param names into buf for error messages. */
static void param_names(const tk_config_space *s, char *buf, size_t len) {
  size_t used = 0;
  buf[0] = '\0';
  for (int i = 0; i < s->n_params && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", s->params[i].name);
  if (s->n_params == 0) snprintf(buf, len, "none");
}

tk_status tk_config_parse(const tk_config_space *s, const tk_problem *p, const char *text,
                          tk_config *c) {
  tk_config out = *c;
  int named[TK_MAX_PARAMS] = {0};
  const char *cur = text ? text : "";
  while (*cur) {
    while (*cur == ' ' || *cur == ',') cur++;
    if (!*cur) break;
    const char *eq = cur;
    while (*eq && *eq != '=' && *eq != ',') eq++;
    size_t name_len = (size_t)(eq - cur);
    while (name_len && cur[name_len - 1] == ' ') name_len--;
    if (*eq != '=')
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: '%.*s' is not name=value", (int)name_len, cur);
    int idx = find_param(s, cur, name_len);
    if (idx < 0) {
      char names[256];
      param_names(s, names, sizeof names);
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: unknown parameter '%.*s' (parameters: %s)",
                     (int)name_len, cur, names);
    }
    if (named[idx])
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: parameter '%s' named twice",
                     s->params[idx].name);
    named[idx] = 1;
    errno = 0;
    char *end;
    long v = strtol(eq + 1, &end, 10);
    while (*end == ' ') end++;
    if (end == eq + 1 || (*end && *end != ',') || errno || v < -2147483647L || v > 2147483647L)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: parameter '%s' has value '%.*s', not an integer",
                     s->params[idx].name, (int)strcspn(eq + 1, ","), eq + 1);
    if (!is_candidate(&s->params[idx], (int)v))
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: %s=%ld is not one of its candidate values",
                     s->params[idx].name, v);
    *slot(s, &out, idx) = (int)v;
    cur = end;
  }
  char why[256];
  for (int i = 0; i < s->n_params; i++)
    if (!is_candidate(&s->params[i], tk_config_value(s, &out, i)))
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: parameter '%s' has no valid value",
                     s->params[i].name);
  if (p && s->valid && !s->valid(p, tk_config_struct(&out), why, sizeof why))
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "config: invalid for this problem: %s", why);
  *c = out;
  return TK_OK;
}

int tk_config_format(const tk_config_space *s, const tk_config *c, char *buf, size_t len) {
  int used = 0;
  if (len) buf[0] = '\0';
  for (int i = 0; i < s->n_params; i++) {
    size_t room = (size_t)used < len ? len - (size_t)used : 0;
    used += snprintf(room ? buf + used : NULL, room, "%s%s=%d", i ? "," : "", s->params[i].name,
                     tk_config_value(s, c, i));
  }
  return used;
}

int tk_config_valid(const tk_config_space *s, const tk_problem *p, const tk_config *c,
                    char *why, size_t why_len) {
  for (int i = 0; i < s->n_params; i++)
    if (!is_candidate(&s->params[i], tk_config_value(s, c, i))) {
      snprintf(why, why_len, "%s=%d is not a candidate value", s->params[i].name,
               tk_config_value(s, c, i));
      return 0;
    }
  return !(p && s->valid) || s->valid(p, tk_config_struct(c), why, why_len);
}

int tk_config_equal(const tk_config_space *s, const tk_config *a, const tk_config *b) {
  for (int i = 0; i < s->n_params; i++)
    if (tk_config_value(s, a, i) != tk_config_value(s, b, i)) return 0;
  return 1;
}

int64_t tk_config_space_size(const tk_config_space *s) {
  int64_t n = 1;
  for (int i = 0; i < s->n_params; i++) n *= s->params[i].n_values;
  return n;
}

void tk_config_nth(const tk_config_space *s, int64_t index, tk_config *c) {
  *c = (tk_config){{0}};
  for (int i = s->n_params - 1; i >= 0; i--) {
    int nv = s->params[i].n_values;
    *slot(s, c, i) = s->params[i].values[index % nv];
    index /= nv;
  }
}
