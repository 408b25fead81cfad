/* case_attention.c: building an attention case: q, k, v, out, optional lse
 * and varlen lengths (one sequence empty), strided layouts on request; the
 * inputs, the spec rules and the masks of rows past q_len are shared with
 * the attention backward's cases. */
#include "regress/case_internal.h"

/* Draws the valid lengths: q_len in [1, Tq], kv_len in [1, Tk], and with
 * B >= 2 one sequence with q_len 0. */
static void fill_lens(tk_case *c, tk_case_tensor *ql, tk_case_tensor *kl) {
  const tk_case_params *p = &c->p;
  int64_t empty = p->B >= 2 ? tk_case_randint(&c->rng, p->B) : -1;
  for (int64_t b = 0; b < p->B; b++) {
    *tk_case_i32(ql, &b) = b == empty ? 0 : (int32_t)(1 + tk_case_randint(&c->rng, p->Tq));
    *tk_case_i32(kl, &b) = (int32_t)(1 + tk_case_randint(&c->rng, p->Tk));
  }
}

tk_case_tensor *tk_case_attention_tensor(tk_case *c, const char *name, tk_dtype dtype,
                                         int is_output, const int64_t *shape) {
  static const int bhtd[] = {0, 2, 1, 3};
  return tk_case_add(c, name, dtype, is_output, 4, shape, c->p.strided ? bhtd : NULL,
                     c->p.strided ? 8 : 0);
}

tk_status tk_case_attention_inputs(tk_case *c, tk_case_tensor **q, tk_case_tensor **k,
                                   tk_case_tensor **v, tk_case_tensor **ql, tk_case_tensor **kl) {
  const tk_case_params *p = &c->p;
  int64_t sq[] = {p->B, p->Tq, p->Hq, p->D}, sk[] = {p->B, p->Tk, p->Hkv, p->D};
  int64_t sv[] = {p->B, p->Tk, p->Hkv, p->Dv}, sb[] = {p->B};
  *q = tk_case_attention_tensor(c, "q", p->dtype, 0, sq);
  *k = *q ? tk_case_attention_tensor(c, "k", p->dtype, 0, sk) : NULL;
  *v = *k ? tk_case_attention_tensor(c, "v", p->dtype, 0, sv) : NULL;
  if (!*v) return TK_ERR_OUT_OF_MEMORY;
  *ql = *kl = NULL;
  if (p->varlen) {
    *ql = tk_case_add(c, "q_lens", TK_I32, 0, 1, sb, NULL, 0);
    *kl = *ql ? tk_case_add(c, "kv_lens", TK_I32, 0, 1, sb, NULL, 0) : NULL;
    if (!*kl) return TK_ERR_OUT_OF_MEMORY;
    fill_lens(c, *ql, *kl);
  }
  return TK_OK;
}

void tk_case_unwant_past_q_len(const tk_case *c, tk_case_tensor *t, const tk_case_tensor *ql,
                               int rows_dim) {
  const tk_case_params *p = &c->p;
  const int64_t heads = t->shape[rows_dim == 1 ? 2 : 1], width = t->dl.ndim == 4 ? t->shape[3] : 1;
  for (int64_t b = 0; b < p->B; b++) {
    int64_t tq = ql ? *tk_case_i32(ql, &b) : p->Tq;
    for (int64_t h = 0; h < heads; h++)
      for (int64_t i = tq; i < p->Tq; i++)
        for (int64_t d = 0; d < width; d++) {
          int64_t idx[4] = {b, rows_dim == 1 ? i : h, rows_dim == 1 ? h : i, d};
          t->want[tk_case_offset(t, idx)] = 0;
        }
  }
}

static tk_status build(tk_case *c) {
  const tk_case_params *p = &c->p;
  int64_t so[] = {p->B, p->Tq, p->Hq, p->Dv}, sl[] = {p->B, p->Hq, p->Tq};
  tk_case_tensor *q, *k, *v, *ql, *kl;
  TK_TRY(tk_case_attention_inputs(c, &q, &k, &v, &ql, &kl));
  tk_case_tensor *o = tk_case_attention_tensor(c, "out", p->dtype, 1, so);
  if (!o) return TK_ERR_OUT_OF_MEMORY;
  tk_case_tensor *lse = NULL;
  if (p->lse) {
    lse = tk_case_add(c, "lse", TK_F32, 1, 3, sl, NULL, p->strided ? 4 : 0);
    if (!lse) return TK_ERR_OUT_OF_MEMORY;
    lse->tol_dtype = p->dtype; /* from logits of p->dtype inputs */
  }
  /* rows past q_len stay poisoned */
  tk_case_unwant_past_q_len(c, o, ql, 1);
  if (lse) tk_case_unwant_past_q_len(c, lse, ql, 2);
  tk_attention_args *a = &c->args.attention;
  a->q = &q->dl; a->k = &k->dl; a->v = &v->dl; a->out = &o->dl;
  a->lse = lse ? &lse->dl : NULL;
  a->q_lens = ql ? &ql->dl : NULL;
  a->kv_lens = kl ? &kl->dl : NULL;
  a->scale = (float)p->scale;
  a->softcap = (float)p->softcap;
  a->causal = (int)p->causal;
  a->window_left = (int)p->wl;
  a->window_right = (int)p->wr;
  return TK_OK;
}

tk_status tk_case_attention_check(tk_case_params *p, double *elems, char *err, size_t err_len) {
  if (p->Dv == 0) p->Dv = p->D;
  if (p->Hq % p->Hkv)
    return tk_case_bad(err, err_len, "Hq=%lld is not a multiple of Hkv=%lld", (long long)p->Hq,
                       (long long)p->Hkv);
  *elems = (double)p->B * (p->Tq + p->Tk) * p->Hq * (p->D + p->Dv);
  return TK_OK;
}

const tk_case_ops tk_case_attention_ops = {tk_case_attention_check, build};
