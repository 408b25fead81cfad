/* attention_backward.c: the attention backward op: validating
 * tk_attention_backward_args into a problem (the forward's q, k, v, out,
 * lse, lengths and scalars as the forward checks them, then dout and the
 * gradients), its key, its work, and its descriptor in the op table. */
#include <stdio.h>
#include <string.h>

#include "kernels/attention.h"
#include "kernels/op_desc.h"
#include "runtime/status.h"

static tk_status check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "attention_backward", 1);
  return tk_attention_check_lens(&v, &problem->u.attention_backward.fwd);
}

/* Requires t (argument `name`) to have the shape of `like` (argument
 * like_name), dims named by names. */
static tk_status same_shape(const tk_validator *v, const char *name, const tk_tensor *t,
                            const char *const names[4], const tk_tensor *like,
                            const char *like_name) {
  for (int d = 0; d < 4; d++) {
    char source[64];
    snprintf(source, sizeof source, "%s's %s", like_name, names[d]);
    TK_TRY(tk_expect_dim(v, name, t, d, names[d], like->shape[d], source));
  }
  return TK_OK;
}

/* A gradient `name` ([names]) of the shape of `like`, in q's dtype or float32. */
static tk_status take_grad(tk_validator *v, const char *name, DLTensor *t, const char *dims,
                           const char *const names[4], const tk_tensor *like,
                           const char *like_name, tk_dtype q_dtype, tk_tensor *out) {
  TK_TRY(tk_take_tensor(v, name, t, TK_ARG_OUTPUT, TK_DT_DATA, dims, out));
  if (out->dtype != TK_F32 && out->dtype != q_dtype)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has dtype %s, expected float32 or q's %s",
                   v->op, name, tk_dtype_name(out->dtype), tk_dtype_name(q_dtype));
  return same_shape(v, name, out, names, like, like_name);
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_attention_backward_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "attention_backward", need_data);
  tk_problem_clear(out, sizeof(tk_attention_backward_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "attention_backward: args is NULL");
  tk_attention_backward_problem *p = &out->u.attention_backward;
  /* out and lse are read here, so they are checked as inputs; lse is required. */
  const tk_attention_args fa = {.q = a->q,
                                .k = a->k,
                                .v = a->v,
                                .out = (DLTensor *)a->out,
                                .lse = (DLTensor *)a->lse,
                                .q_lens = a->q_lens,
                                .kv_lens = a->kv_lens,
                                .scale = a->scale,
                                .causal = a->causal,
                                .window_left = a->window_left,
                                .window_right = a->window_right,
                                .softcap = a->softcap};
  TK_TRY(tk_attention_take(&v, &fa, TK_ARG_INPUT, TK_ARG_INPUT, &p->fwd));
  const tk_attention_problem *f = &p->fwd;
  static const char *const q_dims[4] = {"B", "Tq", "Hq", "D"}, *const o_dims[4] = {"B", "Tq", "Hq", "Dv"};
  static const char *const k_dims[4] = {"B", "Tk", "Hkv", "D"}, *const v_dims[4] = {"B", "Tk", "Hkv", "Dv"};
  TK_TRY(tk_take_tensor(&v, "dout", a->dout, TK_ARG_INPUT, TK_DT_DATA, "[B,Tq,Hq,Dv]", &p->dout));
  TK_TRY(tk_expect_dtype(&v, "dout", &p->dout, f->q.dtype, "q's dtype"));
  TK_TRY(same_shape(&v, "dout", &p->dout, o_dims, &f->out, "out"));
  TK_TRY(take_grad(&v, "dq", a->dq, "[B,Tq,Hq,D]", q_dims, &f->q, "q", f->q.dtype, &p->dq));
  TK_TRY(take_grad(&v, "dk", a->dk, "[B,Tk,Hkv,D]", k_dims, &f->k, "k", f->q.dtype, &p->dk));
  TK_TRY(take_grad(&v, "dv", a->dv, "[B,Tk,Hkv,Dv]", v_dims, &f->v, "v", f->q.dtype, &p->dv));
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_ATTENTION_BACKWARD, f->q.dtype, out);
  return TK_OK;
}

/* The forward's fields, then the gradients' dtypes. */
static void key(tk_text *k, const tk_problem *problem) {
  const tk_attention_backward_problem *p = &problem->u.attention_backward;
  tk_attention_key_fields(k, &p->fwd);
  tk_text_printf(k, ",dq=%s,dk=%s,dv=%s", tk_dtype_short(p->dq.dtype), tk_dtype_short(p->dk.dtype),
                 tk_dtype_short(p->dv.dtype));
}

/* 2.5 times the forward's (as FlashAttention counts the backward: five
 * products of the forward's two sizes). */
static double flops(const tk_problem *problem) {
  const tk_attention_problem *f = &problem->u.attention_backward.fwd;
  return 2.5 * 2.0 * tk_attention_pairs(f, problem->device_type) * (double)f->Hq *
         (double)(f->D + f->Dv);
}

/* q, k, v, out, dout, lse read once; dq, dk, dv written once. */
static double bytes(const tk_problem *problem) {
  const tk_attention_backward_problem *p = &problem->u.attention_backward;
  const tk_attention_problem *f = &p->fwd;
  double es = (double)tk_dtype_size(f->q.dtype), q_rows = (double)(f->B * f->Tq * f->Hq);
  double k_rows = (double)(f->B * f->Tk * f->Hkv);
  return es * (q_rows * (double)(f->D + 2 * f->Dv) + k_rows * (double)(f->D + f->Dv)) +
         4.0 * q_rows + (double)tk_dtype_size(p->dq.dtype) * q_rows * (double)f->D +
         (double)tk_dtype_size(p->dk.dtype) * k_rows * (double)f->D +
         (double)tk_dtype_size(p->dv.dtype) * k_rows * (double)f->Dv +
         4.0 * (double)f->B * (f->q_lens.present + f->kv_lens.present);
}

#define T(f, path, out) \
  {#f, offsetof(tk_problem, u.attention_backward.path), offsetof(tk_attention_backward_args, f), out}
static const tk_op_tensor tensors[] = {
    T(q, fwd.q, 0),   T(k, fwd.k, 0),   T(v, fwd.v, 0),   T(out, fwd.out, 0),
    T(dout, dout, 0), T(lse, fwd.lse, 0), T(dq, dq, 1),   T(dk, dk, 1),
    T(dv, dv, 1),     T(q_lens, fwd.q_lens, 0), T(kv_lens, fwd.kv_lens, 0)};
#undef T

const tk_op_desc tk_attention_backward_desc = {
    .op = TK_OP_ATTENTION_BACKWARD,
    .name = "attention_backward",
    .args_size = sizeof(tk_attention_backward_args),
    .problem_size = sizeof(tk_attention_backward_problem),
    .validate = validate,
    .check_data = check_data,
    .key = key,
    .tensors = tensors,
    .n_tensors = (int)(sizeof tensors / sizeof tensors[0]),
    .size_fields = {"B", "Tq", "Tk", NULL},
    .flops = flops,
    .bytes = bytes,
};
