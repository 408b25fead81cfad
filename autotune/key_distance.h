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

/* How clearly a tuned shape's choice must have beaten, on its own shape,
 * the config the heuristic runs for a problem before it stands in for that
 * problem: the heuristic config's 20th-percentile time there at least this
 * many times the choice's 80th (both from the cache's measurements). A win
 * that the spread of its own timings can explain does not survive a
 * neighbouring size: with the quick suite tuned on a noisy 2-core Zen 3,
 * entries that won 1.03-1.2x at the median (one sweep's medians of the
 * same config vary by 1.6x between processes) ran at 0.86-0.96x the
 * heuristic at 1.25x the tokens or half the rows per group
 * (tests/test_nearest_heldout). */
#define TK_NEAREST_MIN_GAIN 1.05

/* The two measurements above count only when recorded at most this many
 * microseconds apart: timed together. The sweep's interleaved
 * confirmation of its fastest candidate against the heuristic records
 * both within a millisecond (measured: at most 0.2 ms); candidates timed
 * one after another lie at least the timing plan's 30 ms apart (measured:
 * 63 ms and more). Each confirmation times the heuristic again, so an
 * earlier candidate's timing can stand against a later, differently
 * loaded heuristic timing (seen: a 2.8x "win" measured 2.3 s apart). */
#define TK_NEAREST_TOGETHER_US 20000

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
