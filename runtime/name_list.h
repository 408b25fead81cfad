/* name_list.h: comma-separated name lists ("cpu, reference"), as
 * tk_call_options.impl, --impl, --op and the gate's filters give them: the
 * one splitter every floor uses. Spaces around names are ignored and empty
 * entries skipped. */
#ifndef TK_RUNTIME_NAME_LIST_H
#define TK_RUNTIME_NAME_LIST_H

#include <stddef.h>

/* Walks a list; start it with tk_name_iter_init. */
typedef struct {
  const char *cur;
  int truncated; /* the last name returned did not fit its buffer */
} tk_name_iter;

/* An iterator over list (NULL: an empty list). */
tk_name_iter tk_name_iter_init(const char *list);

/* Copies the next name into buf (NUL-terminated; with truncated set when
 * it did not fit, buf holding its start) and returns 1; 0 at the end. */
int tk_name_next(tk_name_iter *it, char *buf, size_t len);

/* 1 if name is one of the list's names; a NULL or empty list names
 * everything. */
int tk_name_listed(const char *list, const char *name);

#endif
