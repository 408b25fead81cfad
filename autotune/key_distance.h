/* key_distance.h: the "nearest tuned shape" rule. Two problem keys of one
 * op are comparable when every field is equal except the op's size fields
 * (its descriptor's size_fields, kernels/op_desc.h: attention: B Tq Tk;
 * grouped_gemm: M K N G; moe_permute: T R; moe_unpermute: T R;
 * paged_attention: P S max_pages Tq_total). Their distance is the sum over
 * size fields of |ln(1+a) - ln(1+b)|, so halving one size counts as much as
 * doubling another. A tuned shape is used for another only within reach
 * (tk_key_within_reach): a config tuned far away (8x the rows, a tenth of
 * the rows per group) can lose to the heuristic, which adapts to the size. */
#ifndef TK_AUTOTUNE_KEY_DISTANCE_H
#define TK_AUTOTUNE_KEY_DISTANCE_H

#include "kernels/op_desc.h"

/* A key split into its family (the key with size values blanked) and its
 * size values. */
typedef struct {
  char family[1024];
  const char *const *size_names; /* the op's size fields (op_desc.h) */
  int n_sizes;
  double sizes[TK_KEY_MAX_SIZES];
} tk_key_shape;

/* Splits key; 0 when it is not a well-formed key of a known op. */
int tk_key_shape_of(const char *key, tk_key_shape *out);

/* Distance of two shapes of one family (see above); -1 when the families
 * differ. */
double tk_key_distance(const tk_key_shape *a, const tk_key_shape *b);

/* The most a size, or a regime ratio below, may differ (as a factor of
 * 1 + value) between a problem and the tuned shape used for it. */
#define TK_KEY_MAX_FACTOR 2.0

/* 1 when b (a tuned shape) may stand in for a (a problem): same family,
 * every size field within TK_KEY_MAX_FACTOR of a's either way, and so is
 * every regime ratio of the op's sizes (rows per group M/G, queries per
 * key Tq/Tk, query tokens per sequence Tq_total/S), so a shape is never
 * matched across regimes (decode with prefill, a few large groups with
 * many small ones); a grouped GEMM's K and N equal and its rows per group
 * at most the tuned shape's (the bounds table of key_distance.c says
 * why). Sizes are compared on 1 + value and ratios on values floored at
 * 1, so zero sizes compare. 0 otherwise. */
int tk_key_within_reach(const tk_key_shape *a, const tk_key_shape *b);

#endif
