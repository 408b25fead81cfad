/* case_moe_unpermute_backward.c: building an MoE unpermute backward case:
 * a random dout, the scatter of an unpermute case (injective dest,
 * positive weights), the forward's rows when d_weights is asked for
 * (dweights=1), and with shared=1 some slots moved onto rows another slot
 * already holds, so their gradients add and the rows they left are zero. */
#include "regress/case_internal.h"

static tk_status build(tk_case *c) {
  const tk_case_params *p = &c->p;
  const int64_t R = tk_case_moe_rows(c);
  if (R < 0) return TK_ERR_OUT_OF_MEMORY;
  int64_t sr[] = {R, p->H}, sk[] = {p->T, p->k}, so[] = {p->T, p->H};
  tk_case_tensor *dout = tk_case_add(c, "dout", p->dtype, 0, 2, so, NULL, 0), *dest, *w;
  tk_case_tensor *rows = dout && p->dweights ? tk_case_add(c, "rows", p->dtype, 0, 2, sr, NULL, 0) : NULL;
  if (!dout || (p->dweights && !rows)) return TK_ERR_OUT_OF_MEMORY;
  TK_TRY(tk_case_moe_scatter(c, R, &dest, &w));
  for (int64_t t = 1; p->shared && t < p->T; t += 3) /* slot 0 of t onto slot 0 of t - 1 */
    *tk_case_i32(dest, (int64_t[]){t, 0}) = *tk_case_i32(dest, (int64_t[]){t - 1, 0});
  tk_case_tensor *d_rows = tk_case_add(c, "d_rows", p->dtype, 1, 2, sr, NULL, 0);
  tk_case_tensor *dw = d_rows && p->dweights ? tk_case_add(c, "d_weights", TK_F32, 1, 2, sk, NULL, 0) : NULL;
  if (!d_rows || (p->dweights && !dw)) return TK_ERR_OUT_OF_MEMORY;
  if (dw) {
    dw->tol_dtype = p->dtype; /* dot products of p->dtype inputs */
    dw->scale_rms = 1;
  }
  tk_moe_unpermute_backward_args *a = &c->args.moe_unpermute_backward;
  a->dout = &dout->dl; a->rows = rows ? &rows->dl : NULL; a->dest = &dest->dl;
  a->weights = w ? &w->dl : NULL; a->d_rows = &d_rows->dl; a->d_weights = dw ? &dw->dl : NULL;
  return TK_OK;
}

const tk_case_ops tk_case_moe_unpermute_backward_ops = {tk_case_moe_check, build};
