/* json.h: a bounded text builder that counts what it would need (like
 * snprintf), with JSON string escaping. */
#ifndef TK_RUNTIME_JSON_H
#define TK_RUNTIME_JSON_H

#include <stddef.h>

#include "runtime/status.h"

/* Writes into buf[0, cap) and keeps it NUL-terminated (when cap > 0);
 * `need` counts every character appended, written or not. */
typedef struct {
  char *buf;
  size_t cap;
  size_t need;
} tk_text;

/* A builder over buf (may be NULL when cap is 0). */
tk_text tk_text_init(char *buf, size_t cap);

/* Appends printf-formatted text. */
void tk_text_printf(tk_text *t, const char *fmt, ...) TK_PRINTF(2, 3);

/* Appends s as a quoted JSON string ("" for NULL), escaping quotes,
 * backslashes and control characters. */
void tk_text_json_string(tk_text *t, const char *s);

#endif
