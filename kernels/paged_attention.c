/* paged_attention.c: the paged attention op: validating
 * tk_paged_attention_args into a problem, its key, its work, and its
 * descriptor in the op table. */
#include <string.h>

#include "kernels/op_desc.h"
#include "kernels/validate.h"
#include "runtime/checked.h"
#include "runtime/status.h"

/* cu_q_lens starts at 0, never decreases and ends at Tq_total. */
static tk_status check_cu_q_lens(const tk_validator *v, const tk_paged_attention_problem *p) {
  const tk_tensor *cu = &p->cu_q_lens;
  if (tk_load_i32(cu, 0, 0) != 0)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: cu_q_lens[0] is %d, expected 0", v->op,
                   tk_load_i32(cu, 0, 0));
  for (int64_t s = 0; s < p->S; s++) {
    int32_t a = tk_load_i32(cu, s, 0), b = tk_load_i32(cu, s + 1, 0);
    if (b < a)
      return tk_fail(TK_ERR_INVALID_ARGUMENT,
                     "%s: cu_q_lens decreases at %lld: cu_q_lens[%lld]=%d < cu_q_lens[%lld]=%d",
                     v->op, (long long)(s + 1), (long long)(s + 1), b, (long long)s, a);
  }
  int32_t last = tk_load_i32(cu, p->S, 0);
  if (last != p->Tq_total)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: cu_q_lens[S=%lld] is %d, expected Tq_total=%lld (q's rows)", v->op,
                   (long long)p->S, last, (long long)p->Tq_total);
  return TK_OK;
}

/* Per sequence: kv_len in [0, max_pages*page_size], q_len <= kv_len, and
 * the ids of its used pages in [0,P). */
static tk_status check_sequences(const tk_validator *v, const tk_paged_attention_problem *p) {
  int64_t capacity = tk_mul_saturated(p->max_pages, p->page_size);
  for (int64_t s = 0; s < p->S; s++) {
    int32_t kv = tk_load_i32(&p->kv_lens, s, 0);
    if (kv < 0 || kv > capacity)
      return tk_fail(TK_ERR_INVALID_ARGUMENT,
                     "%s: kv_lens[%lld] is %d, outside [0,%lld] (block_table's max_pages=%lld "
                     "times page_size=%lld)",
                     v->op, (long long)s, kv, (long long)capacity, (long long)p->max_pages,
                     (long long)p->page_size);
    int64_t q_len = p->cu_q_lens.present ? (int64_t)tk_load_i32(&p->cu_q_lens, s + 1, 0) -
                                               tk_load_i32(&p->cu_q_lens, s, 0)
                                         : 1;
    if (q_len > kv)
      return tk_fail(TK_ERR_INVALID_ARGUMENT,
                     "%s: sequence %lld has q_len %lld (%s) over kv_lens[%lld]=%d", v->op,
                     (long long)s, (long long)q_len, p->cu_q_lens.present ? "cu_q_lens" : "decode",
                     (long long)s, kv);
    int64_t pages = (kv + p->page_size - 1) / p->page_size;
    for (int64_t j = 0; j < pages; j++) {
      int32_t id = tk_load_i32(&p->block_table, s, j);
      if (id < 0 || id >= p->P)
        return tk_fail(TK_ERR_INVALID_ARGUMENT,
                       "%s: block_table[%lld,%lld] is %d, outside [0,P=%lld) (k_cache's pages)",
                       v->op, (long long)s, (long long)j, id, (long long)p->P);
    }
  }
  return TK_OK;
}

static tk_status check_data(const tk_problem *problem) {
  tk_validator v;
  tk_validator_init(&v, "paged_attention", 1);
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  if (p->cu_q_lens.present) TK_TRY(check_cu_q_lens(&v, p));
  return check_sequences(&v, p);
}

/* 1 for the 8-bit cache dtypes, which need a scale. */
static int is_8bit(tk_dtype d) { return d == TK_FP8_E4M3 || d == TK_I8; }

/* The caches have q's dtype, or both the same 8-bit dtype. */
static tk_status check_cache_dtypes(const tk_validator *v, const tk_paged_attention_problem *p) {
  if (!is_8bit(p->k_cache.dtype))
    TK_TRY(tk_expect_dtype(v, "k_cache", &p->k_cache, p->q.dtype,
                           "q's dtype, or an 8-bit cache: float8_e4m3fn or int8"));
  const char *why = is_8bit(p->k_cache.dtype) ? "k_cache's 8-bit dtype" : "q's dtype";
  return tk_expect_dtype(v, "v_cache", &p->v_cache, p->k_cache.dtype, why);
}

/* Takes the optional scale `name` (a->k_scale or a->v_scale) of cache `cache`:
 * required for an 8-bit cache, forbidden otherwise; float32 [1] or
 * [P,page_size,Hkv]. */
static tk_status take_scale(tk_validator *v, const char *name, const DLTensor *t,
                            const char *cache, const tk_paged_attention_problem *p,
                            tk_tensor *out) {
  tk_dtype cd = p->k_cache.dtype;
  if (!t && is_8bit(cd))
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: %s is NULL, but %s is %s: an 8-bit cache needs a float32 scale of shape "
                   "[P,page_size,Hkv] or [1]",
                   v->op, name, cache, tk_dtype_name(cd));
  if (t && !is_8bit(cd))
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: %s is given, but %s is %s: scales are only for 8-bit caches "
                   "(float8_e4m3fn, int8); pass NULL",
                   v->op, name, cache, tk_dtype_name(cd));
  if (!t) return TK_OK;
  int per_tensor = t->ndim == 1;
  TK_TRY(tk_take_tensor(v, name, t, TK_ARG_INPUT, TK_DT_F32,
                        per_tensor ? "[1]" : "[P,page_size,Hkv]", out));
  if (per_tensor) return tk_expect_dim(v, name, out, 0, "1", 1, "one scale per tensor");
  TK_TRY(tk_expect_dim(v, name, out, 0, "P", p->P, "k_cache's P"));
  TK_TRY(tk_expect_dim(v, name, out, 1, "page_size", p->page_size, "k_cache's page_size"));
  return tk_expect_dim(v, name, out, 2, "Hkv", p->Hkv, "k_cache's Hkv");
}

/* Shape relations between the tensors. */
static tk_status check_shapes(tk_validator *v, tk_paged_attention_problem *p) {
  TK_TRY(check_cache_dtypes(v, p));
  TK_TRY(tk_expect_dtype(v, "out", &p->out, p->q.dtype, "q's dtype"));
  TK_TRY(tk_expect_at_least(v, "q's head size D", p->D, 1));
  TK_TRY(tk_expect_at_least(v, "k_cache's page_size", p->page_size, 1));
  TK_TRY(tk_expect_at_least(v, "k_cache's head count Hkv", p->Hkv, 1));
  TK_TRY(tk_expect_dim(v, "k_cache", &p->k_cache, 3, "D", p->D, "q's D"));
  if (p->Hq % p->Hkv != 0)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: k_cache has %lld heads, which does not divide q's %lld", v->op,
                   (long long)p->Hkv, (long long)p->Hq);
  TK_TRY(tk_expect_dim(v, "v_cache", &p->v_cache, 0, "P", p->P, "k_cache's P"));
  TK_TRY(tk_expect_dim(v, "v_cache", &p->v_cache, 1, "page_size", p->page_size,
                       "k_cache's page_size"));
  TK_TRY(tk_expect_dim(v, "v_cache", &p->v_cache, 2, "Hkv", p->Hkv, "k_cache's Hkv"));
  TK_TRY(tk_expect_dim(v, "kv_lens", &p->kv_lens, 0, "S", p->S, "block_table's S"));
  if (p->cu_q_lens.present) {
    TK_TRY(
        tk_expect_dim(v, "cu_q_lens", &p->cu_q_lens, 0, "S+1", p->S + 1, "block_table's S plus 1"));
    TK_TRY(tk_expect_int32_addressable(v, "q's row count Tq_total", p->Tq_total, "cu_q_lens"));
  } else if (p->Tq_total != p->S) {
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: q has Tq_total=%lld rows, expected S=%lld (block_table's sequences; "
                   "cu_q_lens is NULL: decode, one query each)",
                   v->op, (long long)p->Tq_total, (long long)p->S);
  }
  TK_TRY(tk_expect_dim(v, "out", &p->out, 0, "Tq_total", p->Tq_total, "q's Tq_total"));
  TK_TRY(tk_expect_dim(v, "out", &p->out, 1, "Hq", p->Hq, "q's Hq"));
  return tk_expect_dim(v, "out", &p->out, 2, "Dv", p->Dv, "v_cache's Dv");
}

/* Tensors, sizes, and the relations between them. */
static tk_status take_tensors(tk_validator *v, const tk_paged_attention_args *a,
                              tk_paged_attention_problem *p) {
  TK_TRY(tk_take_tensor(v, "q", a->q, TK_ARG_INPUT, TK_DT_DATA, "[Tq_total,Hq,D]", &p->q));
  TK_TRY(tk_take_tensor(v, "k_cache", a->k_cache, TK_ARG_INPUT, TK_DT_DATA | TK_DT_FP8 | TK_DT_I8,
                        "[P,page_size,Hkv,D]", &p->k_cache));
  TK_TRY(tk_take_tensor(v, "v_cache", a->v_cache, TK_ARG_INPUT, TK_DT_DATA | TK_DT_FP8 | TK_DT_I8,
                        "[P,page_size,Hkv,Dv]", &p->v_cache));
  TK_TRY(tk_take_tensor(v, "block_table", a->block_table, TK_ARG_INPUT, TK_DT_I32, "[S,max_pages]",
                        &p->block_table));
  TK_TRY(tk_take_tensor(v, "kv_lens", a->kv_lens, TK_ARG_INPUT, TK_DT_I32, "[S]", &p->kv_lens));
  TK_TRY(tk_take_tensor(v, "cu_q_lens", a->cu_q_lens, TK_ARG_OPTIONAL, TK_DT_I32, "[S+1]",
                        &p->cu_q_lens));
  TK_TRY(tk_take_tensor(v, "out", a->out, TK_ARG_OUTPUT, TK_DT_DATA, "[Tq_total,Hq,Dv]", &p->out));
  p->Tq_total = p->q.shape[0];
  p->Hq = p->q.shape[1];
  p->D = p->q.shape[2];
  p->P = p->k_cache.shape[0];
  p->page_size = p->k_cache.shape[1];
  p->Hkv = p->k_cache.shape[2];
  p->Dv = p->v_cache.shape[3];
  p->S = p->block_table.shape[0];
  p->max_pages = p->block_table.shape[1];
  TK_TRY(check_shapes(v, p));
  TK_TRY(take_scale(v, "k_scale", a->k_scale, "k_cache", p, &p->k_scale));
  return take_scale(v, "v_scale", a->v_scale, "v_cache", p, &p->v_scale);
}

static tk_status validate(const void *args, int need_data, tk_problem *out) {
  const tk_paged_attention_args *a = args;
  tk_validator v;
  tk_validator_init(&v, "paged_attention", need_data);
  tk_problem_clear(out, sizeof(tk_paged_attention_problem));
  if (!a) return tk_fail(TK_ERR_INVALID_ARGUMENT, "paged_attention: args is NULL");
  tk_paged_attention_problem *p = &out->u.paged_attention;
  TK_TRY(take_tensors(&v, a, p));
  TK_TRY(tk_resolve_scale(&v, a->scale, p->D, &p->scale));
  TK_TRY(tk_check_softcap(&v, a->softcap));
  TK_TRY(tk_check_window(&v, "window_left", a->window_left));
  p->softcap = a->softcap;
  p->window_left = a->window_left;
  if (tk_validator_host_data(&v)) TK_TRY(check_data(out));
  tk_validator_finish(&v, TK_OP_PAGED_ATTENTION, p->q.dtype, out);
  return TK_OK;
}

static void key(tk_text *k, const tk_problem *problem) {
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  tk_text_printf(k, "dtype=%s,Hq=%lld,Hkv=%lld,D=%lld,Dv=%lld,page_size=%lld,P=%lld,S=%lld",
                 tk_dtype_short(p->q.dtype), (long long)p->Hq, (long long)p->Hkv, (long long)p->D,
                 (long long)p->Dv, (long long)p->page_size, (long long)p->P, (long long)p->S);
  tk_text_printf(k, ",max_pages=%lld,Tq_total=%lld,decode=%d,wl=%d,softcap=%.9g,scale=%.9g",
                 (long long)p->max_pages, (long long)p->Tq_total, !p->cu_q_lens.present,
                 p->window_left, (double)p->softcap, (double)p->scale);
  if (p->k_scale.present)
    tk_text_printf(k, ",kv=%s,k_scale=%s,v_scale=%s", tk_dtype_short(p->k_cache.dtype),
                   p->k_scale.ndim == 1 ? "tensor" : "token", p->v_scale.ndim == 1 ? "tensor" : "token");
}

/* Whether the lengths can be read (host data). */
static int lengths_known(const tk_problem *problem) {
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  return problem->device_type == kDLCPU && p->kv_lens.data &&
         (!p->cu_q_lens.present || p->cu_q_lens.data);
}

/* Sequence s's query and kv lengths: read on host data, else one query of
 * the table's full capacity each. */
static void lengths(const tk_problem *problem, int64_t s, int64_t *q_len, int64_t *kv_len) {
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  if (!lengths_known(problem)) {
    *q_len = p->cu_q_lens.present ? p->Tq_total / (p->S > 0 ? p->S : 1) : 1;
    *kv_len = tk_mul_saturated(p->max_pages, p->page_size);
    return;
  }
  *q_len = p->cu_q_lens.present
               ? (int64_t)tk_load_i32(&p->cu_q_lens, s + 1, 0) - tk_load_i32(&p->cu_q_lens, s, 0)
               : 1;
  *kv_len = tk_load_i32(&p->kv_lens, s, 0);
}

/* The (query, key) pairs seen (causal, left window) and the cache tokens
 * of all sequences. */
static void totals(const tk_problem *problem, double *pairs, double *kv_tokens) {
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  *pairs = *kv_tokens = 0;
  for (int64_t s = 0; s < p->S; s++) {
    int64_t ql, kl;
    lengths(problem, s, &ql, &kl);
    *kv_tokens += (double)kl;
    for (int64_t i = 0; i < ql; i++) {
      int64_t diag = kl - ql + i, lo = p->window_left >= 0 ? diag - p->window_left : 0;
      *pairs += (double)(diag - (lo > 0 ? lo : 0) + 1);
    }
  }
}

/* 2 * pairs * heads * (D + Dv). */
static double flops(const tk_problem *problem) {
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  double pairs, kv_tokens;
  totals(problem, &pairs, &kv_tokens);
  return 2.0 * pairs * (double)p->Hq * (double)(p->D + p->Dv);
}

/* q and out, each cache token of each sequence once (with its per-token
 * scales), the index tensors. */
static double bytes(const tk_problem *problem) {
  const tk_paged_attention_problem *p = &problem->u.paged_attention;
  double pairs, kv_tokens;
  totals(problem, &pairs, &kv_tokens);
  double es = (double)tk_dtype_size(p->q.dtype), cs = (double)tk_dtype_size(p->k_cache.dtype);
  double token_scales = (p->k_scale.present && p->k_scale.ndim == 3 ? 4.0 : 0.0) +
                        (p->v_scale.present && p->v_scale.ndim == 3 ? 4.0 : 0.0);
  return es * (double)p->Tq_total * (double)p->Hq * (double)(p->D + p->Dv) +
         kv_tokens * (double)p->Hkv * (cs * (double)(p->D + p->Dv) + token_scales) +
         4.0 * (double)(p->S * p->max_pages + p->S + (p->cu_q_lens.present ? p->S + 1 : 0));
}

/* Decode (one query per sequence) streams the cache. */
static int memory_bound(const tk_problem *problem) {
  return !problem->u.paged_attention.cu_q_lens.present;
}

#define T(f, out) TK_OP_TENSOR(paged_attention, tk_paged_attention_args, f, out)
static const tk_op_tensor tensors[] = {T(q, 0),       T(k_cache, 0),   T(v_cache, 0), T(block_table, 0),
                                       T(kv_lens, 0), T(cu_q_lens, 0), T(out, 1),     T(k_scale, 0),
                                       T(v_scale, 0)};
#undef T

const tk_op_desc tk_paged_attention_desc = {
    .op = TK_OP_PAGED_ATTENTION,
    .name = "paged_attention",
    .args_size = sizeof(tk_paged_attention_args),
    .problem_size = sizeof(tk_paged_attention_problem),
    .validate = validate,
    .check_data = check_data,
    .key = key,
    .tensors = tensors,
    .n_tensors = (int)(sizeof tensors / sizeof tensors[0]),
    .size_fields = {"P", "S", "max_pages", "Tq_total", NULL},
    .flops = flops,
    .bytes = bytes,
    .memory_bound = memory_bound,
};
