/* case_moe.c: building MoE permute and unpermute cases: top-k expert ids
 * (distinct per token, some experts given none, optionally Zipf-skewed),
 * and for unpermute a valid scatter of rows and router weights (shared
 * with the unpermute backward's cases). */
#include <math.h>
#include <stdlib.h>

#include "regress/case_internal.h"

/* Fills ids [T,k] with k distinct experts per token, drawn by weight
 * (experts of weight 0 get no token). */
static void fill_ids(tk_case *c, tk_case_tensor *ids, const double *cum, int64_t E) {
  const tk_case_params *p = &c->p;
  for (int64_t t = 0; t < p->T; t++)
    for (int64_t s = 0; s < p->k; s++) {
      int32_t e;
      int dup;
      do {
        double x = tk_case_rand01(&c->rng) * cum[E - 1];
        e = 0;
        while (e < E - 1 && cum[e] <= x) e++; /* first e with cum[e] > x: weight > 0 */
        dup = 0;
        for (int64_t r = 0; r < s; r++) dup |= *tk_case_i32(ids, (int64_t[]){t, r}) == e;
      } while (dup);
      *tk_case_i32(ids, (int64_t[]){t, s}) = e;
    }
}

/* Expert weights: `empty` random experts get 0, the rest 1 or (skew) 1/rank;
 * writes the cumulative sums to cum. */
static tk_status expert_weights(tk_case *c, double *cum) {
  const tk_case_params *p = &c->p;
  int64_t *order = malloc(sizeof(int64_t) * (size_t)p->E);
  if (!order) return TK_ERR_OUT_OF_MEMORY;
  for (int64_t e = 0; e < p->E; e++) order[e] = e;
  tk_case_shuffle(&c->rng, order, p->E);
  for (int64_t r = 0; r < p->E; r++)
    cum[order[r]] = r >= p->E - p->empty ? 0 : p->skew ? 1.0 / (double)(r + 1) : 1.0;
  for (int64_t e = 1; e < p->E; e++) cum[e] += cum[e - 1];
  free(order);
  return TK_OK;
}

/* Adds tokens, expert ids and the three outputs of a permute case. */
static tk_status build_permute(tk_case *c, int64_t R) {
  const tk_case_params *p = &c->p;
  int64_t st[] = {p->T, p->H}, sk[] = {p->T, p->k}, sr[] = {R, p->H}, se[] = {p->E};
  tk_case_tensor *tok = tk_case_add(c, "tokens", p->dtype, 0, 2, st, NULL, 0);
  tk_case_tensor *ids = tok ? tk_case_add(c, "expert_ids", TK_I32, 0, 2, sk, NULL, 0) : NULL;
  tk_case_tensor *per = ids ? tk_case_add(c, "permuted", p->dtype, 1, 2, sr, NULL, 0) : NULL;
  tk_case_tensor *gs = per ? tk_case_add(c, "group_sizes", TK_I32, 1, 1, se, NULL, 0) : NULL;
  tk_case_tensor *dest = gs ? tk_case_add(c, "dest", TK_I32, 1, 2, sk, NULL, 0) : NULL;
  double *cum = dest ? malloc(sizeof(double) * (size_t)p->E) : NULL;
  if (!cum || expert_weights(c, cum) != TK_OK) {
    free(cum);
    return TK_ERR_OUT_OF_MEMORY;
  }
  fill_ids(c, ids, cum, p->E);
  free(cum);
  per->exact = gs->exact = dest->exact = 1;
  tk_moe_permute_args *a = &c->args.moe_permute;
  a->tokens = &tok->dl; a->expert_ids = &ids->dl; a->num_experts = (int)p->E;
  a->align = (int)p->align; a->permuted = &per->dl; a->group_sizes = &gs->dl; a->dest = &dest->dl;
  return TK_OK;
}

tk_status tk_case_moe_scatter(tk_case *c, int64_t R, tk_case_tensor **dest, tk_case_tensor **w) {
  const tk_case_params *p = &c->p;
  int64_t sk[] = {p->T, p->k};
  *dest = tk_case_add(c, "dest", TK_I32, 0, 2, sk, NULL, 0);
  *w = NULL;
  if (*dest && p->weights) {
    *w = tk_case_add(c, "weights", TK_F32, 0, 2, sk, NULL, 0);
    if (!*w) return TK_ERR_OUT_OF_MEMORY;
    for (int64_t i = 0; i < (*w)->span; i++) ((float *)(*w)->buf)[i] = fabsf(((float *)(*w)->buf)[i]);
  }
  int64_t *perm = *dest ? malloc(sizeof(int64_t) * (size_t)R) : NULL;
  if (!perm) return TK_ERR_OUT_OF_MEMORY;
  for (int64_t r = 0; r < R; r++) perm[r] = r;
  tk_case_shuffle(&c->rng, perm, R);
  for (int64_t i = 0; i < p->T * p->k; i++) ((int32_t *)(*dest)->buf)[i] = (int32_t)perm[i];
  free(perm);
  return TK_OK;
}

int64_t tk_case_moe_rows(const tk_case *c) {
  return tk_moe_permute_max_rows(c->p.T, c->p.k, c->p.E, c->p.align);
}

/* Adds rows, a random injective dest, optional weights and out. */
static tk_status build_unpermute(tk_case *c, int64_t R) {
  const tk_case_params *p = &c->p;
  int64_t sr[] = {R, p->H}, so[] = {p->T, p->H};
  tk_case_tensor *rows = tk_case_add(c, "rows", p->dtype, 0, 2, sr, NULL, 0), *dest, *w;
  if (!rows) return TK_ERR_OUT_OF_MEMORY;
  TK_TRY(tk_case_moe_scatter(c, R, &dest, &w));
  tk_case_tensor *out = tk_case_add(c, "out", p->dtype, 1, 2, so, NULL, 0);
  if (!out) return TK_ERR_OUT_OF_MEMORY;
  tk_moe_unpermute_args *a = &c->args.moe_unpermute;
  a->rows = &rows->dl; a->dest = &dest->dl; a->weights = w ? &w->dl : NULL; a->out = &out->dl;
  return TK_OK;
}

static tk_status permute(tk_case *c) {
  int64_t R = tk_case_moe_rows(c);
  return R < 0 ? TK_ERR_OUT_OF_MEMORY : build_permute(c, R);
}

static tk_status unpermute(tk_case *c) {
  int64_t R = tk_case_moe_rows(c);
  return R < 0 ? TK_ERR_OUT_OF_MEMORY : build_unpermute(c, R);
}

tk_status tk_case_moe_check(tk_case_params *p, double *elems, char *err, size_t err_len) {
  if (p->op != TK_OP_MOE_PERMUTE) p->empty = 0;
  if (p->k > p->E - p->empty)
    return tk_case_bad(err, err_len, "k=%lld is more than the %lld experts that get tokens",
                       (long long)p->k, (long long)(p->E - p->empty));
  *elems = ((double)p->T * p->k + (double)p->E * (p->align - 1)) * p->H;
  return TK_OK;
}

const tk_case_ops tk_case_moe_permute_ops = {tk_case_moe_check, permute};
const tk_case_ops tk_case_moe_unpermute_ops = {tk_case_moe_check, unpermute};
