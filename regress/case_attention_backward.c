/* case_attention_backward.c: building an attention backward case: the
 * forward's q, k, v and lengths as an attention case draws them, out and
 * lse from a forward call on them (the cpu implementation where it runs,
 * else the reference), a random dout, and the gradients dq, dk, dv (in the
 * data dtype, or float32 with grad=f32). Rows of dq past q_len must stay
 * unwritten; dk and dv are written everywhere (zero past kv_len). */
#include "regress/case_internal.h"

/* Runs the forward on the case's tensors into out and lse. */
static tk_status forward(tk_case *c, tk_case_tensor *q, tk_case_tensor *k, tk_case_tensor *v,
                         tk_case_tensor *out, tk_case_tensor *lse, tk_case_tensor *ql,
                         tk_case_tensor *kl) {
  const tk_case_params *p = &c->p;
  tk_attention_args a = {.q = &q->dl,
                         .k = &k->dl,
                         .v = &v->dl,
                         .out = &out->dl,
                         .lse = &lse->dl,
                         .q_lens = ql ? &ql->dl : NULL,
                         .kv_lens = kl ? &kl->dl : NULL,
                         .scale = (float)p->scale,
                         .causal = (int)p->causal,
                         .window_left = (int)p->wl,
                         .window_right = (int)p->wr,
                         .softcap = (float)p->softcap};
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  tk_status s = tk_context_create(&o, &ctx);
  tk_call_options first = {"cpu,reference", NULL};
  if (s == TK_OK) s = tk_attention(ctx, &a, &first);
  tk_context_destroy(ctx);
  return s;
}

static tk_status build(tk_case *c) {
  const tk_case_params *p = &c->p;
  const tk_dtype gd = p->grad_f32 ? TK_F32 : p->dtype;
  int64_t so[] = {p->B, p->Tq, p->Hq, p->Dv}, sl[] = {p->B, p->Hq, p->Tq};
  int64_t sq[] = {p->B, p->Tq, p->Hq, p->D}, sk[] = {p->B, p->Tk, p->Hkv, p->D};
  int64_t sv[] = {p->B, p->Tk, p->Hkv, p->Dv};
  tk_case_tensor *q, *k, *v, *ql, *kl;
  TK_TRY(tk_case_attention_inputs(c, &q, &k, &v, &ql, &kl));
  tk_case_tensor *out = tk_case_attention_tensor(c, "out", p->dtype, 0, so);
  tk_case_tensor *dout = out ? tk_case_attention_tensor(c, "dout", p->dtype, 0, so) : NULL;
  tk_case_tensor *lse = dout ? tk_case_add(c, "lse", TK_F32, 0, 3, sl, NULL, p->strided ? 4 : 0) : NULL;
  tk_case_tensor *dq = lse ? tk_case_attention_tensor(c, "dq", gd, 1, sq) : NULL;
  tk_case_tensor *dk = dq ? tk_case_attention_tensor(c, "dk", gd, 1, sk) : NULL;
  tk_case_tensor *dv = dk ? tk_case_attention_tensor(c, "dv", gd, 1, sv) : NULL;
  if (!dv) return TK_ERR_OUT_OF_MEMORY;
  tk_status s = forward(c, q, k, v, out, lse, ql, kl);
  if (s != TK_OK) return s;
  tk_case_unwant_past_q_len(c, dq, ql, 1);
  /* gradients sum many terms of either sign: errors are judged against
   * their RMS, not elementwise magnitudes near zero */
  dq->scale_rms = dk->scale_rms = dv->scale_rms = 1;
  dq->tol_dtype = dk->tol_dtype = dv->tol_dtype = p->dtype;
  tk_attention_backward_args *a = &c->args.attention_backward;
  a->q = &q->dl; a->k = &k->dl; a->v = &v->dl; a->out = &out->dl; a->dout = &dout->dl;
  a->lse = &lse->dl; a->dq = &dq->dl; a->dk = &dk->dl; a->dv = &dv->dl;
  a->q_lens = ql ? &ql->dl : NULL;
  a->kv_lens = kl ? &kl->dl : NULL;
  a->scale = (float)p->scale;
  a->softcap = (float)p->softcap;
  a->causal = (int)p->causal;
  a->window_left = (int)p->wl;
  a->window_right = (int)p->wr;
  return TK_OK;
}

const tk_case_ops tk_case_attention_backward_ops = {tk_case_attention_check, build};
