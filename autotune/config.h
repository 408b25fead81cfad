/* config.h: the one generic routine over every implementation's config:
 * storage, the heuristic's config, text ("name=value,..."), validity,
 * enumeration. A config struct (kernels/impl.h) lives in a tk_config; the
 * space's param table says where each named field sits. */
#ifndef TK_AUTOTUNE_CONFIG_H
#define TK_AUTOTUNE_CONFIG_H

#include <stdint.h>

#include "impls/registry.h"

/* Storage for any implementation's config struct (its int fields, at the
 * offsets its space names); the implementation reads it as its struct. */
typedef struct {
  int v[TK_MAX_PARAMS];
} tk_config;

/* The config struct stored in c, as the implementation's run() and
 * valid() take it. */
static inline const void *tk_config_struct(const tk_config *c) { return c->v; }

/* Sets *c to impl's heuristic config for p on dev. */
void tk_config_heuristic(const tk_impl *impl, const tk_problem *p, const tk_device_info *dev,
                         tk_config *c);

/* The value of param i of space s in c. */
static inline int tk_config_value(const tk_config_space *s, const tk_config *c, int i) {
  return c->v[s->params[i].offset / sizeof(int)];
}

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

/* 1 if every value of c is a candidate of s and s->valid accepts it for p
 * (p NULL: not asked). */
int tk_config_valid(const tk_config_space *s, const tk_problem *p, const tk_config *c,
                    char *why, size_t why_len);

/* 1 if a and b hold the same values of s's params. */
int tk_config_equal(const tk_config_space *s, const tk_config *a, const tk_config *b);

/* Number of combinations in s (product of candidate counts), valid or not. */
int64_t tk_config_space_size(const tk_config_space *s);

/* The index-th combination of s in odometer order (last param fastest). */
void tk_config_nth(const tk_config_space *s, int64_t index, tk_config *c);

#endif
