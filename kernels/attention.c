/* attention.c: the attention op: validating tk_attention_args into a
 * problem, its key, its work, and its descriptor in the op table. */
#include <string.h>

#include "kernels/attention.h"
#include "kernels/op_desc.h"
#include "runtime/status.h"

static tk_status check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "attention", 1);
  return tk_attention_check_lens(&v, &problem->u.attention);
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_attention_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "attention", need_data);
  tk_problem_clear(out, sizeof(tk_attention_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "attention: args is NULL");
  tk_attention_problem *p = &out->u.attention;
  TK_TRY(tk_attention_take(&v, a, TK_ARG_OUTPUT, TK_ARG_OUTPUT | TK_ARG_OPTIONAL, p));
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_ATTENTION, p->q.dtype, out);
  return TK_OK;
}

static void key(tk_text *k, const tk_problem *problem) {
  tk_attention_key_fields(k, &problem->u.attention);
}

/* 2 * (query, key) pairs seen * heads * (D + Dv). */
static double flops(const tk_problem *problem) {
  const tk_attention_problem *p = &problem->u.attention;
  return 2.0 * tk_attention_pairs(p, problem->device_type) * (double)p->Hq * (double)(p->D + p->Dv);
}

/* q, k, v, out once each, lse and the lengths. */
static double bytes(const tk_problem *problem) {
  const tk_attention_problem *p = &problem->u.attention;
  double es = (double)tk_dtype_size(p->q.dtype), dd = (double)(p->D + p->Dv);
  return es * (double)p->B * ((double)p->Tq * (double)p->Hq * dd + (double)p->Tk * (double)p->Hkv * dd) +
         (p->lse.present ? 4.0 * (double)(p->B * p->Hq * p->Tq) : 0) +
         4.0 * (double)p->B * (p->q_lens.present + p->kv_lens.present);
}

#define T(f, out) TK_OP_TENSOR(attention, tk_attention_args, f, out)
static const tk_op_tensor tensors[] = {T(q, 0),   T(k, 0),      T(v, 0),      T(out, 1),
                                       T(lse, 1), T(q_lens, 0), T(kv_lens, 0)};
#undef T

const tk_op_desc tk_attention_desc = {
    .op = TK_OP_ATTENTION,
    .name = "attention",
    .args_size = sizeof(tk_attention_args),
    .problem_size = sizeof(tk_attention_problem),
    .validate = validate,
    .check_data = check_data,
    .key = key,
    .tensors = tensors,
    .n_tensors = (int)(sizeof tensors / sizeof tensors[0]),
    .size_fields = {"B", "Tq", "Tk", NULL},
    .flops = flops,
    .bytes = bytes,
};
