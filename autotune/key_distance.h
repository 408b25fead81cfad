/* key_distance.h: the "nearest tuned shape" rule. Two problem keys of one
 * op are comparable when every field is equal except the op's size fields
 * (its descriptor's size_fields, kernels/op_desc.h: attention: B Tq Tk;
 * grouped_gemm: M K N G; moe_permute: T R; moe_unpermute: T R;
 * paged_attention: P S max_pages Tq_total). Their distance is the sum over
 * size fields of |ln(1+a) - ln(1+b)|, so halving one size counts as much as
 * doubling another. */
#ifndef TK_AUTOTUNE_KEY_DISTANCE_H
#define TK_AUTOTUNE_KEY_DISTANCE_H

#include "kernels/op_desc.h"

/* A key split into its family (the key with size values blanked) and its
 * size values. */
typedef struct {
  char family[1024];
  int n_sizes;
  double sizes[TK_KEY_MAX_SIZES];
} tk_key_shape;

/* Splits key; 0 when it is not a well-formed key of a known op. */
int tk_key_shape_of(const char *key, tk_key_shape *out);

/* Distance of two shapes of one family (see above); -1 when the families
 * differ. */
double tk_key_distance(const tk_key_shape *a, const tk_key_shape *b);

#endif
