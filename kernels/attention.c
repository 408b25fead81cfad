/* attention.c: validating tk_attention_args into a problem, and the
 * tk_attention entry point. */
#include <string.h>

#include "autotune/choose.h"
#include "kernels/runtime/problem.h"
#include "kernels/runtime/status.h"
#include "kernels/validate.h"

/* Checks that every entry of an int32 [B] length tensor lies in [0, max]. */
static tk_status check_lens(const tk_validator *v, const char *name, const tk_tensor *t,
                            const char *bound, int64_t max) {
  if (!t->present) return TK_OK;
  for (int64_t b = 0; b < t->shape[0]; b++) {
    int32_t n = tk_load_i32(t, b, 0);
    if (n < 0 || n > max)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s[%lld] is %d, outside [0,%s=%lld]", v->op,
                     name, (long long)b, n, bound, (long long)max);
  }
  return TK_OK;
}

tk_status tk_attention_check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "attention", 1);
  const tk_attention_problem *p = &problem->u.attention;
  TK_TRY(check_lens(&v, "q_lens", &p->q_lens, "Tq", p->Tq));
  return check_lens(&v, "kv_lens", &p->kv_lens, "Tk", p->Tk);
}

/* Shapes, dtypes and the relations between the tensors. */
static tk_status take_tensors(tk_validator *v, const tk_attention_args *a,
                              tk_attention_problem *p) {
  TK_TRY(tk_take_tensor(v, "q", a->q, TK_ARG_INPUT, TK_DT_DATA, "[B,Tq,Hq,D]", &p->q));
  TK_TRY(tk_take_tensor(v, "k", a->k, TK_ARG_INPUT, TK_DT_DATA, "[B,Tk,Hkv,D]", &p->k));
  TK_TRY(tk_take_tensor(v, "v", a->v, TK_ARG_INPUT, TK_DT_DATA, "[B,Tk,Hkv,Dv]", &p->v));
  TK_TRY(tk_take_tensor(v, "out", a->out, TK_ARG_OUTPUT, TK_DT_DATA, "[B,Tq,Hq,Dv]", &p->out));
  TK_TRY(tk_take_tensor(v, "lse", a->lse, TK_ARG_OUTPUT | TK_ARG_OPTIONAL, TK_DT_F32, "[B,Hq,Tq]",
                        &p->lse));
  TK_TRY(tk_take_tensor(v, "q_lens", a->q_lens, TK_ARG_OPTIONAL, TK_DT_I32, "[B]", &p->q_lens));
  TK_TRY(tk_take_tensor(v, "kv_lens", a->kv_lens, TK_ARG_OPTIONAL, TK_DT_I32, "[B]", &p->kv_lens));

  p->B = p->q.shape[0];
  p->Tq = p->q.shape[1];
  p->Hq = p->q.shape[2];
  p->D = p->q.shape[3];
  p->Tk = p->k.shape[1];
  p->Hkv = p->k.shape[2];
  p->Dv = p->v.shape[3];
  TK_TRY(tk_expect_dtype(v, "k", &p->k, p->q.dtype, "q's dtype"));
  TK_TRY(tk_expect_dtype(v, "v", &p->v, p->q.dtype, "q's dtype"));
  TK_TRY(tk_expect_dtype(v, "out", &p->out, p->q.dtype, "q's dtype"));
  TK_TRY(tk_expect_dim(v, "k", &p->k, 0, "B", p->B, "q's B"));
  TK_TRY(tk_expect_dim(v, "k", &p->k, 3, "D", p->D, "q's D"));
  TK_TRY(tk_expect_at_least(v, "q's head size D", p->D, 1));
  TK_TRY(tk_expect_at_least(v, "k's head count Hkv", p->Hkv, 1));
  if (p->Hq % p->Hkv != 0)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: k has %lld heads, which does not divide q's %lld",
                   v->op, (long long)p->Hkv, (long long)p->Hq);
  TK_TRY(tk_expect_dim(v, "v", &p->v, 0, "B", p->B, "q's B"));
  TK_TRY(tk_expect_dim(v, "v", &p->v, 1, "Tk", p->Tk, "k's Tk"));
  TK_TRY(tk_expect_dim(v, "v", &p->v, 2, "Hkv", p->Hkv, "k's Hkv"));
  TK_TRY(tk_expect_dim(v, "out", &p->out, 0, "B", p->B, "q's B"));
  TK_TRY(tk_expect_dim(v, "out", &p->out, 1, "Tq", p->Tq, "q's Tq"));
  TK_TRY(tk_expect_dim(v, "out", &p->out, 2, "Hq", p->Hq, "q's Hq"));
  TK_TRY(tk_expect_dim(v, "out", &p->out, 3, "Dv", p->Dv, "v's Dv"));
  if (p->lse.present) {
    TK_TRY(tk_expect_dim(v, "lse", &p->lse, 0, "B", p->B, "q's B"));
    TK_TRY(tk_expect_dim(v, "lse", &p->lse, 1, "Hq", p->Hq, "q's Hq"));
    TK_TRY(tk_expect_dim(v, "lse", &p->lse, 2, "Tq", p->Tq, "q's Tq"));
  }
  if (p->q_lens.present) TK_TRY(tk_expect_dim(v, "q_lens", &p->q_lens, 0, "B", p->B, "q's B"));
  if (p->kv_lens.present) TK_TRY(tk_expect_dim(v, "kv_lens", &p->kv_lens, 0, "B", p->B, "q's B"));
  return TK_OK;
}

tk_status tk_attention_validate(const tk_attention_args *a, int need_data, tk_problem *out) {
  tk_validator v;
  tk_validator_init(&v, "attention", need_data);
  memset(out, 0, sizeof *out);
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "attention: args is NULL");
  tk_attention_problem *p = &out->u.attention;
  TK_TRY(take_tensors(&v, a, p));
  TK_TRY(tk_resolve_scale(&v, a->scale, p->D, &p->scale));
  TK_TRY(tk_check_softcap(&v, a->softcap));
  if (a->causal != 0 && a->causal != 1)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "attention: causal is %d, expected 0 or 1", a->causal);
  TK_TRY(tk_check_window(&v, "window_left", a->window_left));
  TK_TRY(tk_check_window(&v, "window_right", a->window_right));
  p->softcap = a->softcap;
  p->causal = a->causal;
  p->window_left = a->window_left;
  p->window_right = a->window_right;
  if (tk_validator_host_data(&v)) TK_TRY(tk_attention_check_data(out));
  tk_validator_finish(&v, TK_OP_ATTENTION, p->q.dtype, out);
  return TK_OK;
}

tk_status tk_attention(tk_context *ctx, const tk_attention_args *args,
                       const tk_call_options *opts) {
  tk_clear_error();
  tk_problem problem;
  TK_TRY(tk_attention_validate(args, 1, &problem));
  return tk_dispatch(ctx, &problem, opts);
}
