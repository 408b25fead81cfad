/* name_list.h: comma-separated implementation lists ("cpu, reference"),
 * as --impl options and tk_call_options name them. */
#ifndef TK_AUTOTUNE_NAME_LIST_H
#define TK_AUTOTUNE_NAME_LIST_H

/* 1 if name is one of the list's names (spaces around names ignored); a
 * NULL or empty list names everything. */
int tk_name_listed(const char *list, const char *name);

#endif
