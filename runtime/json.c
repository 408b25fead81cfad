/* json.c: the bounded text builder of json.h. */
#include "runtime/json.h"

#include <stdarg.h>
#include <stdio.h>

tk_text tk_text_init(char *buf, size_t cap) {
  tk_text t = {buf, cap, 0};
  if (cap > 0) buf[0] = '\0';
  return t;
}

/* Appends vprintf-formatted text, truncating at cap - 1 characters. */
static void text_vprintf(tk_text *t, const char *fmt, va_list ap) {
  char *dst = NULL;
  size_t room = 0;
  if (t->need < t->cap) {
    dst = t->buf + t->need;
    room = t->cap - t->need;
  }
  int n = vsnprintf(dst, room, fmt, ap);
  if (n > 0) t->need += (size_t)n;
}

void tk_text_printf(tk_text *t, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  text_vprintf(t, fmt, ap);
  va_end(ap);
}

void tk_text_json_string(tk_text *t, const char *s) {
  tk_text_printf(t, "\"");
  for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
    if (*p == '"' || *p == '\\')
      tk_text_printf(t, "\\%c", *p);
    else if (*p == '\n')
      tk_text_printf(t, "\\n");
    else if (*p == '\t')
      tk_text_printf(t, "\\t");
    else if (*p < 0x20)
      tk_text_printf(t, "\\u%04x", *p);
    else
      tk_text_printf(t, "%c", *p);
  }
  tk_text_printf(t, "\"");
}
