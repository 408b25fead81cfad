/* case_attention.c: building an attention case: q, k, v, out, optional lse
 * and varlen lengths (one sequence empty), strided layouts on request. */
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

static tk_status build(tk_case *c) {
  const tk_case_params *p = &c->p;
  static const int bhtd[] = {0, 2, 1, 3};
  const int *perm = p->strided ? bhtd : NULL;
  int64_t pad = p->strided ? 8 : 0;
  int64_t sq[] = {p->B, p->Tq, p->Hq, p->D}, sk[] = {p->B, p->Tk, p->Hkv, p->D};
  int64_t sv[] = {p->B, p->Tk, p->Hkv, p->Dv}, so[] = {p->B, p->Tq, p->Hq, p->Dv};
  int64_t sl[] = {p->B, p->Hq, p->Tq}, sb[] = {p->B};
  tk_case_tensor *q = tk_case_add(c, "q", p->dtype, 0, 4, sq, perm, pad);
  tk_case_tensor *k = q ? tk_case_add(c, "k", p->dtype, 0, 4, sk, perm, pad) : NULL;
  tk_case_tensor *v = k ? tk_case_add(c, "v", p->dtype, 0, 4, sv, perm, pad) : NULL;
  tk_case_tensor *o = v ? tk_case_add(c, "out", p->dtype, 1, 4, so, perm, pad) : NULL;
  if (!o) return TK_ERR_OUT_OF_MEMORY;
  tk_case_tensor *lse = NULL, *ql = NULL, *kl = NULL;
  if (p->lse) {
    lse = tk_case_add(c, "lse", TK_F32, 1, 3, sl, NULL, p->strided ? 4 : 0);
    if (!lse) return TK_ERR_OUT_OF_MEMORY;
    lse->tol_dtype = p->dtype; /* from logits of p->dtype inputs */
  }
  if (p->varlen) {
    ql = tk_case_add(c, "q_lens", TK_I32, 0, 1, sb, NULL, 0);
    kl = ql ? tk_case_add(c, "kv_lens", TK_I32, 0, 1, sb, NULL, 0) : NULL;
    if (!kl) return TK_ERR_OUT_OF_MEMORY;
    fill_lens(c, ql, kl);
  }
  for (int64_t b = 0; b < p->B; b++) {
    int64_t tq = ql ? *tk_case_i32(ql, &b) : p->Tq;
    for (int64_t h = 0; h < p->Hq; h++)
      for (int64_t i = tq; i < p->Tq; i++) { /* rows past q_len stay poisoned */
        for (int64_t d = 0; d < p->Dv; d++) o->want[tk_case_offset(o, (int64_t[]){b, i, h, d})] = 0;
        if (lse) lse->want[tk_case_offset(lse, (int64_t[]){b, h, i})] = 0;
      }
  }
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

/* Hq a multiple of Hkv; Dv defaults to D. */
static tk_status check(tk_case_params *p, double *elems, char *err, size_t err_len) {
  if (p->Dv == 0) p->Dv = p->D;
  if (p->Hq % p->Hkv)
    return tk_case_bad(err, err_len, "Hq=%lld is not a multiple of Hkv=%lld", (long long)p->Hq,
                       (long long)p->Hkv);
  *elems = (double)p->B * (p->Tq + p->Tk) * p->Hq * (p->D + p->Dv);
  return TK_OK;
}

const tk_case_ops tk_case_attention_ops = {check, build};
