/* case_paged.c: building a paged attention case: decode and prefill
 * sequences in shuffled order, kv lengths not multiples of the page size
 * (or all kv_lens), cache pages handed out in shuffled order, unused table
 * entries -1; 8-bit caches with their scales. */
#include <stdlib.h>

#include "regress/case_internal.h"
#include "runtime/half.h"

/* The cache dtype of a case: q's, or the 8-bit one of key kv. */
static tk_dtype cache_dtype(const tk_case_params *p) {
  return p->kv == 1 ? TK_FP8_E4M3 : p->kv == 2 ? TK_I8 : p->dtype;
}

/* Refills an 8-bit cache: fp8 with every finite bit pattern but zero
 * (subnormals and +-448 included), int8 with [-127,127] but 0. */
static void fill_8bit(tk_case *c, tk_case_tensor *t) {
  for (int64_t i = 0; i < t->span; i++) {
    uint8_t b;
    if (t->dtype == TK_FP8_E4M3) {
      do b = (uint8_t)tk_case_rand(&c->rng);
      while ((b & 0x7fu) == 0x7fu || (b & 0x7fu) == 0);
    } else {
      b = (uint8_t)(int8_t)(1 + tk_case_randint(&c->rng, 127));
      if (tk_case_rand(&c->rng) & 1) b = (uint8_t)(-(int8_t)b);
    }
    t->buf[i] = b;
  }
}

/* Fills a scale with positive values that keep the dequantised cache
 * within about [-2, 2]: [1/512, 1/256) for fp8, [1/256, 1/64) for int8. */
static void fill_scale(tk_case *c, tk_case_tensor *t, tk_dtype cache) {
  double lo = cache == TK_FP8_E4M3 ? 1.0 / 512 : 1.0 / 256, hi = cache == TK_FP8_E4M3 ? 1.0 / 256 : 1.0 / 64;
  for (int64_t i = 0; i < t->span; i++)
    ((float *)t->buf)[i] = (float)(lo + (hi - lo) * tk_case_rand01(&c->rng));
}

/* Adds the scale `name` of an 8-bit cache: [P,page,Hkv] or [1]. */
static tk_case_tensor *add_scale(tk_case *c, const char *name, int64_t P, tk_dtype cache) {
  const tk_case_params *p = &c->p;
  int64_t token[] = {P, p->page, p->Hkv}, one[] = {1};
  tk_case_tensor *t = p->kvscale == 0 ? tk_case_add(c, name, TK_F32, 0, 3, token, NULL, 0)
                                      : tk_case_add(c, name, TK_F32, 0, 1, one, NULL, 0);
  if (t) fill_scale(c, t, cache);
  return t;
}

/* Draws q_len and kv_len of each sequence (kind[s]: 1 = prefill). */
static void draw_lengths(tk_case *c, const int64_t *kind, int64_t *ql, int64_t *kl) {
  const tk_case_params *p = &c->p;
  int64_t S = p->decode + p->prefill;
  int first_prefill = 1;
  for (int64_t s = 0; s < S; s++) {
    if (kind[s]) {
      ql[s] = first_prefill ? p->qlen : p->qlen / 2 + 1 + tk_case_randint(&c->rng, p->qlen - p->qlen / 2);
      first_prefill = 0;
    } else {
      ql[s] = 1;
    }
    if (p->kv_lens > 0) {
      kl[s] = p->kv_lens;
      continue;
    }
    kl[s] = s == 0 ? p->kvmax : ql[s] + tk_case_randint(&c->rng, p->kvmax - ql[s] + 1);
    if (p->page > 1 && kl[s] % p->page == 0) kl[s] += kl[s] > ql[s] ? -1 : kl[s] < p->kvmax ? 1 : 0;
  }
}

/* Fills block_table with shuffled page ids (unused entries -1); returns P. */
static int64_t fill_table(tk_case *c, tk_case_tensor *bt, const int64_t *kl, int64_t S,
                          int64_t max_pages, int64_t *ids) {
  int64_t P = 0;
  for (int64_t s = 0; s < S; s++) P += (kl[s] + c->p.page - 1) / c->p.page;
  P += 2; /* pages no sequence uses */
  for (int64_t i = 0; i < P; i++) ids[i] = i;
  tk_case_shuffle(&c->rng, ids, P);
  int64_t next = 0;
  for (int64_t s = 0; s < S; s++) {
    int64_t used = (kl[s] + c->p.page - 1) / c->p.page;
    for (int64_t j = 0; j < max_pages; j++)
      *tk_case_i32(bt, (int64_t[]){s, j}) = j < used ? (int32_t)ids[next++] : -1;
  }
  return P;
}

/* Builds the case given scratch arrays of S (kind, ql, kl) and of the
 * largest page count (ids). */
static tk_status build(tk_case *c, int64_t *kind, int64_t *ql, int64_t *kl, int64_t *ids) {
  const tk_case_params *p = &c->p;
  int64_t S = p->decode + p->prefill, total = 0;
  for (int64_t s = 0; s < S; s++) kind[s] = s < p->prefill;
  tk_case_shuffle(&c->rng, kind, S);
  draw_lengths(c, kind, ql, kl);
  for (int64_t s = 0; s < S; s++) total += ql[s];
  int64_t max_pages = (p->kvmax + p->page - 1) / p->page + 1;
  int64_t sb[] = {S, max_pages}, ss[] = {S}, sc[] = {S + 1};
  tk_case_tensor *bt = tk_case_add(c, "block_table", TK_I32, 0, 2, sb, NULL, 0);
  if (!bt) return TK_ERR_OUT_OF_MEMORY;
  int64_t P = fill_table(c, bt, kl, S, max_pages, ids);
  int64_t sq[] = {total, p->Hq, p->D}, so[] = {total, p->Hq, p->Dv};
  int64_t skc[] = {P, p->page, p->Hkv, p->D}, svc[] = {P, p->page, p->Hkv, p->Dv};
  tk_case_tensor *q = tk_case_add(c, "q", p->dtype, 0, 3, sq, NULL, 0);
  tk_dtype cd = cache_dtype(p);
  tk_case_tensor *kc = q ? tk_case_add(c, "k_cache", cd, 0, 4, skc, NULL, 0) : NULL;
  tk_case_tensor *vc = kc ? tk_case_add(c, "v_cache", cd, 0, 4, svc, NULL, 0) : NULL;
  tk_case_tensor *ks = NULL, *vs = NULL;
  if (vc && p->kv) {
    fill_8bit(c, kc);
    fill_8bit(c, vc);
    ks = add_scale(c, "k_scale", P, cd);
    vs = ks ? add_scale(c, "v_scale", P, cd) : NULL;
    if (!vs) return TK_ERR_OUT_OF_MEMORY;
  }
  tk_case_tensor *kv = vc ? tk_case_add(c, "kv_lens", TK_I32, 0, 1, ss, NULL, 0) : NULL;
  tk_case_tensor *cu = kv && p->prefill ? tk_case_add(c, "cu_q_lens", TK_I32, 0, 1, sc, NULL, 0) : NULL;
  tk_case_tensor *out = kv && (cu || !p->prefill) ? tk_case_add(c, "out", p->dtype, 1, 3, so, NULL, 0) : NULL;
  if (!out) return TK_ERR_OUT_OF_MEMORY;
  int64_t off = 0;
  for (int64_t s = 0; s <= S; s++) {
    if (cu) *tk_case_i32(cu, &s) = (int32_t)off;
    if (s < S) {
      *tk_case_i32(kv, &s) = (int32_t)kl[s];
      off += ql[s];
    }
  }
  tk_paged_attention_args *a = &c->args.paged_attention;
  a->q = &q->dl; a->k_cache = &kc->dl; a->v_cache = &vc->dl; a->block_table = &bt->dl;
  a->kv_lens = &kv->dl; a->cu_q_lens = cu ? &cu->dl : NULL; a->out = &out->dl;
  a->scale = (float)p->scale; a->softcap = (float)p->softcap; a->window_left = (int)p->window;
  a->k_scale = ks ? &ks->dl : NULL; a->v_scale = vs ? &vs->dl : NULL;
  return TK_OK;
}

static tk_status build_case(tk_case *c) {
  int64_t S = c->p.decode + c->p.prefill;
  int64_t pages = S * ((c->p.kvmax + c->p.page - 1) / c->p.page) + 2;
  int64_t *kind = malloc(sizeof(int64_t) * (size_t)S), *ql = malloc(sizeof(int64_t) * (size_t)S);
  int64_t *kl = malloc(sizeof(int64_t) * (size_t)S), *ids = malloc(sizeof(int64_t) * (size_t)pages);
  tk_status st = kind && ql && kl && ids ? build(c, kind, ql, kl, ids) : TK_ERR_OUT_OF_MEMORY;
  free(kind); free(ql); free(kl); free(ids);
  return st;
}

/* Hq a multiple of Hkv, some sequence, prefill queries within kvmax; Dv
 * defaults to D. */
static tk_status check(tk_case_params *p, double *elems, char *err, size_t err_len) {
  if (p->Dv == 0) p->Dv = p->D;
  if (p->Hq % p->Hkv)
    return tk_case_bad(err, err_len, "Hq=%lld is not a multiple of Hkv=%lld", (long long)p->Hq,
                       (long long)p->Hkv);
  if (p->decode + p->prefill == 0)
    return tk_case_bad(err, err_len, "decode=0 and prefill=0: no sequence");
  if (p->prefill > 0 && p->qlen > p->kvmax)
    return tk_case_bad(err, err_len, "qlen=%lld is more than kvmax=%lld", (long long)p->qlen,
                       (long long)p->kvmax);
  if (p->kv_lens > p->kvmax)
    return tk_case_bad(err, err_len, "kv_lens=%lld is more than kvmax=%lld", (long long)p->kv_lens,
                       (long long)p->kvmax);
  if (p->kv_lens > 0 && p->prefill > 0 && p->qlen > p->kv_lens)
    return tk_case_bad(err, err_len, "qlen=%lld is more than kv_lens=%lld", (long long)p->qlen,
                       (long long)p->kv_lens);
  if (p->kv == 0 && p->kvscale != 0)
    return tk_case_bad(err, err_len, "kvscale=tensor without an 8-bit cache (kv=fp8 or kv=i8)");
  *elems = (double)(p->decode + p->prefill) *
           ((double)p->kvmax * p->Hkv * (p->D + p->Dv) + (double)p->qlen * p->Hq * (p->D + p->Dv));
  return TK_OK;
}

const tk_case_ops tk_case_paged_attention_ops = {check, build_case};
