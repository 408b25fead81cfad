/* name_list.c: matching a name against a comma-separated list. */
#include "name_list.h"

#include <string.h>

int tk_name_listed(const char *list, const char *name) {
  if (!list || !list[0]) return 1;
  size_t n = strlen(name);
  for (const char *s = list; *s;) {
    while (*s == ',' || *s == ' ') s++;
    size_t len = strcspn(s, ",");
    while (len && s[len - 1] == ' ') len--;
    if (len == n && strncmp(s, name, n) == 0) return 1;
    s += strcspn(s, ",");
  }
  return 0;
}
