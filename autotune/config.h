/* config.h: configs as text ("name=value,...") and their validity. */
#ifndef TK_AUTOTUNE_CONFIG_H
#define TK_AUTOTUNE_CONFIG_H

#include "../impls/registry.h"

/* Parses text against space s into *c. *c holds the base values on entry
 * (normally the heuristic config): each param named in text replaces its
 * value, so "block_q=64" forces one param and keeps the others. A param
 * must be one of the space's, named at most once, with one of its candidate
 * values, and the result must pass s->valid for p (p may be NULL to skip
 * that). On failure returns TK_ERR_INVALID_ARGUMENT with a message naming
 * the parameter, and *c is unchanged. */
tk_status tk_config_parse(const tk_config_space *s, const tk_problem *p, const char *text,
                          tk_config *c);

/* Writes c as "name=value,..." (params in space order). Returns the length
 * needed, like snprintf. */
int tk_config_format(const tk_config_space *s, const tk_config *c, char *buf, size_t len);

/* 1 if every value of c is a candidate of s and s->valid accepts it for p. */
int tk_config_valid(const tk_config_space *s, const tk_problem *p, const tk_config *c,
                    char *why, size_t why_len);

/* Number of combinations in s (product of candidate counts), valid or not. */
int64_t tk_config_space_size(const tk_config_space *s);

/* The index-th combination of s in odometer order (last param fastest). */
void tk_config_nth(const tk_config_space *s, int64_t index, tk_config *c);

#endif
