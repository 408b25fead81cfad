/* attention_common.c: taking and checking the tensors and scalars the
 * attention forward and backward share, their length rules, key fields
 * and pair count. */
#include "kernels/attention.h"

#include "runtime/status.h"

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

tk_status tk_attention_check_lens(const tk_validator *v, const tk_attention_problem *p) {
  TK_TRY(check_lens(v, "q_lens", &p->q_lens, "Tq", p->Tq));
  return check_lens(v, "kv_lens", &p->kv_lens, "Tk", p->Tk);
}

/* Shapes, dtypes and the relations between the tensors. */
static tk_status take_tensors(tk_validator *v, const tk_attention_args *a, int out_flags,
                              int lse_flags, tk_attention_problem *p) {
  TK_TRY(tk_take_tensor(v, "q", a->q, TK_ARG_INPUT, TK_DT_DATA, "[B,Tq,Hq,D]", &p->q));
  TK_TRY(tk_take_tensor(v, "k", a->k, TK_ARG_INPUT, TK_DT_DATA, "[B,Tk,Hkv,D]", &p->k));
  TK_TRY(tk_take_tensor(v, "v", a->v, TK_ARG_INPUT, TK_DT_DATA, "[B,Tk,Hkv,Dv]", &p->v));
  TK_TRY(tk_take_tensor(v, "out", a->out, out_flags, TK_DT_DATA, "[B,Tq,Hq,Dv]", &p->out));
  TK_TRY(tk_take_tensor(v, "lse", a->lse, lse_flags, TK_DT_F32, "[B,Hq,Tq]", &p->lse));
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

tk_status tk_attention_take(tk_validator *v, const tk_attention_args *a, int out_flags,
                            int lse_flags, tk_attention_problem *p) {
  TK_TRY(take_tensors(v, a, out_flags, lse_flags, p));
  TK_TRY(tk_resolve_scale(v, a->scale, p->D, &p->scale));
  TK_TRY(tk_check_softcap(v, a->softcap));
  if (a->causal != 0 && a->causal != 1)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: causal is %d, expected 0 or 1", v->op, a->causal);
  TK_TRY(tk_check_window(v, "window_left", a->window_left));
  TK_TRY(tk_check_window(v, "window_right", a->window_right));
  p->softcap = a->softcap;
  p->causal = a->causal;
  p->window_left = a->window_left;
  p->window_right = a->window_right;
  return TK_OK;
}

void tk_attention_key_fields(tk_text *k, const tk_attention_problem *p) {
  static const char *const varlen[] = {"none", "q", "k", "qk"};
  tk_text_printf(k, "dtype=%s,B=%lld,Tq=%lld,Tk=%lld,Hq=%lld,Hkv=%lld,D=%lld,Dv=%lld",
                 tk_dtype_short(p->q.dtype), (long long)p->B, (long long)p->Tq, (long long)p->Tk,
                 (long long)p->Hq, (long long)p->Hkv, (long long)p->D, (long long)p->Dv);
  tk_text_printf(k, ",causal=%d,wl=%d,wr=%d,softcap=%.9g,scale=%.9g,lse=%d,varlen=%s", p->causal,
                 p->window_left, p->window_right, (double)p->softcap, (double)p->scale,
                 p->lse.present, varlen[p->q_lens.present + 2 * p->kv_lens.present]);
}

/* Keys row i of a batch of valid lengths tq, tk sees (DESIGN.md masks). */
static int64_t seen_keys(const tk_attention_problem *p, int64_t i, int64_t tq, int64_t tk) {
  int64_t diag = i + tk - tq, lo = 0, hi = tk - 1;
  if (p->causal && hi > diag) hi = diag;
  if (p->window_left >= 0 && lo < diag - p->window_left) lo = diag - p->window_left;
  if (p->window_right >= 0 && hi > diag + p->window_right) hi = diag + p->window_right;
  return hi >= lo ? hi - lo + 1 : 0;
}

/* The valid length of batch b in lens (full when absent or unreadable). */
static int64_t valid_len(const tk_tensor *lens, int device_type, int64_t b, int64_t full) {
  return lens->present && lens->data && device_type == kDLCPU ? tk_load_i32(lens, b, 0) : full;
}

double tk_attention_pairs(const tk_attention_problem *p, int device_type) {
  double pairs = 0;
  for (int64_t b = 0; b < p->B; b++) {
    int64_t tq = valid_len(&p->q_lens, device_type, b, p->Tq);
    int64_t tk = valid_len(&p->kv_lens, device_type, b, p->Tk);
    for (int64_t i = 0; i < tq; i++) pairs += (double)seen_keys(p, i, tq, tk);
  }
  return pairs;
}
