/* name_list.c: splitting comma-separated name lists. */
#include "runtime/name_list.h"

#include <string.h>

tk_name_iter tk_name_iter_init(const char *list) { return (tk_name_iter){list ? list : "", 0}; }

/* The next name's start and trimmed length; advances past it. 0 at the end. */
static int next_span(tk_name_iter *it, const char **name, size_t *n) {
  const char *s = it->cur;
  while (*s == ',' || *s == ' ') s++;
  if (!*s) {
    it->cur = s;
    return 0;
  }
  size_t len = strcspn(s, ",");
  it->cur = s + len;
  while (len && s[len - 1] == ' ') len--;
  *name = s;
  *n = len;
  return 1;
}

int tk_name_next(tk_name_iter *it, char *buf, size_t len) {
  const char *name;
  size_t n;
  if (!next_span(it, &name, &n)) return 0;
  it->truncated = n >= len;
  if (it->truncated) n = len ? len - 1 : 0;
  if (len) {
    memcpy(buf, name, n);
    buf[n] = '\0';
  }
  return 1;
}

int tk_name_listed(const char *list, const char *name) {
  if (!list || !list[0]) return 1;
  tk_name_iter it = tk_name_iter_init(list);
  const char *s;
  size_t n, want = strlen(name);
  while (next_span(&it, &s, &n))
    if (n == want && strncmp(s, name, n) == 0) return 1;
  return 0;
}
