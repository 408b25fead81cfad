/* case_gemm.c: building a grouped GEMM case: lhs, rhs, out in one of the
 * three layouts and group sizes drawn balanced, random, Zipf-like or all in
 * one group, with forced-empty groups and unused trailing rows. */
#include <math.h>
#include <stdlib.h>

#include "regress/case_internal.h"

/* Splits total rows over the groups with weight w[g] > 0 (w[g] == 0: empty),
 * proportionally, the remainder one row at a time to random weighted groups. */
static void split_rows(tk_case *c, const double *w, int64_t G, int64_t total, int32_t *sizes) {
  double sum = 0;
  int64_t given = 0;
  for (int64_t g = 0; g < G; g++) sum += w[g];
  if (sum <= 0) sum = 1; /* every group empty: total is 0 then */
  for (int64_t g = 0; g < G; g++) {
    sizes[g] = (int32_t)floor((double)total * w[g] / sum);
    given += sizes[g];
  }
  while (given < total) {
    int64_t g = tk_case_randint(&c->rng, G);
    if (w[g] > 0) {
      sizes[g]++;
      given++;
    }
  }
}

/* Fills group_sizes per the sizes/empty/unused keys. */
static tk_status fill_sizes(tk_case *c, tk_case_tensor *gs) {
  const tk_case_params *p = &c->p;
  int64_t G = p->G;
  double *w = malloc(sizeof(double) * (size_t)G);
  int64_t *order = malloc(sizeof(int64_t) * (size_t)G);
  int32_t *sizes = malloc(sizeof(int32_t) * (size_t)G);
  if (!w || !order || !sizes) {
    free(w); free(order); free(sizes);
    return TK_ERR_OUT_OF_MEMORY;
  }
  for (int64_t g = 0; g < G; g++) order[g] = g;
  tk_case_shuffle(&c->rng, order, G);
  for (int64_t r = 0; r < G; r++) { /* order[r]: the group of rank r; the last `empty` get none */
    double x = 0;
    if (r < G - p->empty) {
      switch (p->sizes) {
        case TK_SIZES_BALANCED: x = 1; break;
        case TK_SIZES_ZIPF: x = 1.0 / (double)(r + 1); break;
        case TK_SIZES_SINGLE: x = r == 0; break;
        default: x = 0.05 + tk_case_rand01(&c->rng); break;
      }
    }
    w[order[r]] = x;
  }
  split_rows(c, w, G, p->M - p->unused, sizes);
  for (int64_t g = 0; g < G; g++) *tk_case_i32(gs, &g) = sizes[g];
  free(w); free(order); free(sizes);
  return TK_OK;
}

static tk_status build(tk_case *c) {
  const tk_case_params *p = &c->p;
  int64_t pad = p->strided ? 8 : 0;
  tk_dtype od = p->out_same ? p->dtype : TK_F32;
  int64_t sl[] = {p->M, p->K}, sg[] = {p->G};
  int64_t srn[] = {p->G, p->K, p->N}, srt[] = {p->G, p->N, p->K}, stn[] = {p->M, p->N};
  int64_t som[] = {p->M, p->N}, sog[] = {p->G, p->K, p->N};
  const int64_t *sr = p->layout == TK_GG_NN ? srn : p->layout == TK_GG_NT ? srt : stn;
  const int64_t *so = p->layout == TK_GG_TN ? sog : som;
  int rnd = p->layout == TK_GG_TN ? 2 : 3, ond = p->layout == TK_GG_TN ? 3 : 2;
  tk_case_tensor *lhs = tk_case_add(c, "lhs", p->dtype, 0, 2, sl, NULL, pad);
  tk_case_tensor *rhs = lhs ? tk_case_add(c, "rhs", p->dtype, 0, rnd, sr, NULL, pad) : NULL;
  tk_case_tensor *gs = rhs ? tk_case_add(c, "group_sizes", TK_I32, 0, 1, sg, NULL, 0) : NULL;
  tk_case_tensor *out = gs ? tk_case_add(c, "out", od, 1, ond, so, NULL, pad) : NULL;
  if (!out || fill_sizes(c, gs) != TK_OK) return TK_ERR_OUT_OF_MEMORY;
  int64_t biggest = 1;
  for (int64_t g = 0; g < p->G; g++)
    if (*tk_case_i32(gs, &g) > biggest) biggest = *tk_case_i32(gs, &g);
  out->scale = sqrt((double)(p->layout == TK_GG_TN ? biggest : p->K));
  tk_grouped_gemm_args *a = &c->args.grouped_gemm;
  a->lhs = &lhs->dl; a->rhs = &rhs->dl; a->group_sizes = &gs->dl; a->out = &out->dl;
  a->layout = (tk_gg_layout)p->layout;
  return TK_OK;
}

/* Unused rows within M; some group left for the rows that are used. */
static tk_status check(tk_case_params *p, double *elems, char *err, size_t err_len) {
  if (p->unused > p->M)
    return tk_case_bad(err, err_len, "unused=%lld is more than M=%lld", (long long)p->unused,
                       (long long)p->M);
  if (p->empty > p->G || (p->empty == p->G && p->unused < p->M))
    return tk_case_bad(err, err_len, "empty=%lld leaves no group for the %lld rows",
                       (long long)p->empty, (long long)(p->M - p->unused));
  *elems = (double)p->M * (p->K + p->N) + (double)p->G * p->K * p->N;
  return TK_OK;
}

const tk_case_ops tk_case_grouped_gemm_ops = {check, build};
