/* problem_key.c: the canonical text key of a problem (what the tuning cache
 * is keyed by). Same problem, same text: fields in a fixed order, floats as
 * %.9g (round-trips a float exactly). "strides=contig" when every tensor is
 * row-major, else "strides=" and the '+'-joined names of those that are not. */
#include "kernels/runtime/json.h"
#include "kernels/runtime/problem.h"
#include "kernels/validate.h"

static const char *dtype_short(tk_dtype d) {
  switch (d) {
    case TK_F32:
      return "f32";
    case TK_F16:
      return "f16";
    case TK_BF16:
      return "bf16";
    case TK_I32:
      return "i32";
  }
  return "unknown";
}

typedef struct {
  const char *name;
  const tk_tensor *t;
} named_tensor;

/* Appends ",strides=..." for the n tensors. */
static void put_strides(tk_text *k, const named_tensor *ts, int n) {
  int strided = 0;
  tk_text_printf(k, ",strides=");
  for (int i = 0; i < n; i++)
    if (!tk_tensor_row_major(ts[i].t)) tk_text_printf(k, "%s%s", strided++ ? "+" : "", ts[i].name);
  if (!strided) tk_text_printf(k, "contig");
}

static void key_attention(tk_text *k, const tk_attention_problem *p) {
  static const char *const varlen[] = {"none", "q", "k", "qk"};
  tk_text_printf(k, "dtype=%s,B=%lld,Tq=%lld,Tk=%lld,Hq=%lld,Hkv=%lld,D=%lld,Dv=%lld",
                 dtype_short(p->q.dtype), (long long)p->B, (long long)p->Tq, (long long)p->Tk,
                 (long long)p->Hq, (long long)p->Hkv, (long long)p->D, (long long)p->Dv);
  tk_text_printf(k, ",causal=%d,wl=%d,wr=%d,softcap=%.9g,scale=%.9g,lse=%d,varlen=%s", p->causal,
                 p->window_left, p->window_right, (double)p->softcap, (double)p->scale,
                 p->lse.present, varlen[p->q_lens.present + 2 * p->kv_lens.present]);
  const named_tensor ts[] = {{"q", &p->q},
                             {"k", &p->k},
                             {"v", &p->v},
                             {"out", &p->out},
                             {"lse", &p->lse},
                             {"q_lens", &p->q_lens},
                             {"kv_lens", &p->kv_lens}};
  put_strides(k, ts, (int)(sizeof ts / sizeof ts[0]));
}

static void key_grouped_gemm(tk_text *k, const tk_grouped_gemm_problem *p) {
  static const char *const layout[] = {"nn", "nt", "tn"};
  tk_text_printf(k, "dtype=%s,out=%s,layout=%s,M=%lld,K=%lld,N=%lld,G=%lld",
                 dtype_short(p->lhs.dtype), dtype_short(p->out.dtype), layout[p->layout],
                 (long long)p->M, (long long)p->K, (long long)p->N, (long long)p->G);
  const named_tensor ts[] = {
      {"lhs", &p->lhs}, {"rhs", &p->rhs}, {"group_sizes", &p->group_sizes}, {"out", &p->out}};
  put_strides(k, ts, (int)(sizeof ts / sizeof ts[0]));
}

static void key_moe_permute(tk_text *k, const tk_moe_permute_problem *p) {
  tk_text_printf(k, "dtype=%s,T=%lld,H=%lld,k=%lld,E=%lld,align=%lld,R=%lld",
                 dtype_short(p->tokens.dtype), (long long)p->T, (long long)p->H, (long long)p->k,
                 (long long)p->E, (long long)p->align, (long long)p->R);
  const named_tensor ts[] = {{"tokens", &p->tokens},
                             {"expert_ids", &p->expert_ids},
                             {"permuted", &p->permuted},
                             {"group_sizes", &p->group_sizes},
                             {"dest", &p->dest}};
  put_strides(k, ts, (int)(sizeof ts / sizeof ts[0]));
}

static void key_moe_unpermute(tk_text *k, const tk_moe_unpermute_problem *p) {
  tk_text_printf(k, "dtype=%s,T=%lld,H=%lld,k=%lld,R=%lld,weights=%d", dtype_short(p->rows.dtype),
                 (long long)p->T, (long long)p->H, (long long)p->k, (long long)p->R,
                 p->weights.present);
  const named_tensor ts[] = {
      {"rows", &p->rows}, {"dest", &p->dest}, {"weights", &p->weights}, {"out", &p->out}};
  put_strides(k, ts, (int)(sizeof ts / sizeof ts[0]));
}

static void key_paged_attention(tk_text *k, const tk_paged_attention_problem *p) {
  tk_text_printf(k, "dtype=%s,Hq=%lld,Hkv=%lld,D=%lld,Dv=%lld,page_size=%lld,P=%lld,S=%lld",
                 dtype_short(p->q.dtype), (long long)p->Hq, (long long)p->Hkv, (long long)p->D,
                 (long long)p->Dv, (long long)p->page_size, (long long)p->P, (long long)p->S);
  tk_text_printf(k, ",max_pages=%lld,Tq_total=%lld,decode=%d,wl=%d,softcap=%.9g,scale=%.9g",
                 (long long)p->max_pages, (long long)p->Tq_total, !p->cu_q_lens.present,
                 p->window_left, (double)p->softcap, (double)p->scale);
  const named_tensor ts[] = {{"q", &p->q},
                             {"k_cache", &p->k_cache},
                             {"v_cache", &p->v_cache},
                             {"block_table", &p->block_table},
                             {"kv_lens", &p->kv_lens},
                             {"cu_q_lens", &p->cu_q_lens},
                             {"out", &p->out}};
  put_strides(k, ts, (int)(sizeof ts / sizeof ts[0]));
}

int tk_problem_key(const tk_problem *p, char *buf, size_t len) {
  tk_text k = tk_text_init(buf, len);
  const char *name = tk_op_name(p->op);
  tk_text_printf(&k, "%s:", name ? name : "unknown");
  switch (p->op) {
    case TK_OP_ATTENTION:
      key_attention(&k, &p->u.attention);
      break;
    case TK_OP_GROUPED_GEMM:
      key_grouped_gemm(&k, &p->u.grouped_gemm);
      break;
    case TK_OP_MOE_PERMUTE:
      key_moe_permute(&k, &p->u.moe_permute);
      break;
    case TK_OP_MOE_UNPERMUTE:
      key_moe_unpermute(&k, &p->u.moe_unpermute);
      break;
    case TK_OP_PAGED_ATTENTION:
      key_paged_attention(&k, &p->u.paged_attention);
      break;
    case TK_OP_COUNT:
      break;
  }
  return (int)k.need;
}
