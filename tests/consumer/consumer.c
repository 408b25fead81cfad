/* consumer.c: a program outside the project that uses the installed
 * libkernels (through pkg-config or find_package). It runs every op on
 * random data and compares with its own naive loops: attention (GQA,
 * causal), grouped GEMM (NN), MoE permute + unpermute, paged attention.
 * Exits 0 when all agree, 1 otherwise. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tokamax.h>

static unsigned seed = 12345;

/* A uniform random value in [-1, 1] that is never zero. */
static float rnd(void) {
  seed = seed * 1664525u + 1013904223u;
  float x = (float)(seed >> 8) / 16777216.0f * 2.0f - 1.0f;
  return x == 0.0f ? 0.25f : x;
}

static void fill(float *x, int n) {
  for (int i = 0; i < n; i++) x[i] = rnd();
}

/* A contiguous CPU tensor: float32 when code is kDLFloat, else int32. */
static DLTensor tensor(const void *data, uint8_t code, int ndim, int64_t *shape) {
  DLTensor t = {0};
  t.data = (void *)data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype.code = code;
  t.dtype.bits = 32;
  t.dtype.lanes = 1;
  t.shape = shape;
  return t;
}

/* Compares got with want over n values; prints and returns 1 on mismatch. */
static int compare(const char *what, const float *got, const float *want, int n, float tol) {
  float m = 0;
  for (int i = 0; i < n; i++) {
    float e = fabsf(got[i] - want[i]);
    if (e != e) e = INFINITY;
    if (e > m) m = e;
  }
  printf("%-16s max abs error %.3g\n", what, m);
  if (m <= tol) return 0;
  fprintf(stderr, "consumer: %s differs from the naive result (tolerance %g)\n", what, tol);
  return 1;
}

/* Softmax-weighted sum of n value rows for one query: scores s[0..n) are
 * replaced by weights; v(j) gives row j of width d. */
static void softmax_rows(float *s, int n, const float *const *v, int d, float *out) {
  float m = -INFINITY, sum = 0;
  for (int j = 0; j < n; j++) m = s[j] > m ? s[j] : m;
  for (int j = 0; j < n; j++) sum += (s[j] = expf(s[j] - m));
  for (int c = 0; c < d; c++) {
    float acc = 0;
    for (int j = 0; j < n; j++) acc += s[j] * v[j][c];
    out[c] = acc / sum;
  }
}

static float dot(const float *a, const float *b, int n) {
  float acc = 0;
  for (int i = 0; i < n; i++) acc += a[i] * b[i];
  return acc;
}

/* ---------------------------------------------------------------- attention */
enum { AB = 2, ATQ = 3, ATK = 6, AHQ = 6, AHKV = 2, AD = 8 };

static int check_attention(tk_context *ctx) {
  static float q[AB * ATQ * AHQ * AD], k[AB * ATK * AHKV * AD], v[AB * ATK * AHKV * AD];
  static float out[AB * ATQ * AHQ * AD], want[AB * ATQ * AHQ * AD];
  fill(q, AB * ATQ * AHQ * AD);
  fill(k, AB * ATK * AHKV * AD);
  fill(v, AB * ATK * AHKV * AD);
  int64_t qs[] = {AB, ATQ, AHQ, AD}, ks[] = {AB, ATK, AHKV, AD};
  DLTensor tq = tensor(q, kDLFloat, 4, qs), tk = tensor(k, kDLFloat, 4, ks);
  DLTensor tv = tensor(v, kDLFloat, 4, ks), to = tensor(out, kDLFloat, 4, qs);
  tk_attention_args a = {0};
  a.q = &tq, a.k = &tk, a.v = &tv, a.out = &to;
  a.causal = 1, a.window_left = -1, a.window_right = -1;
  tk_status s = tk_attention(ctx, &a, NULL);
  if (s != TK_OK) {
    fprintf(stderr, "consumer: tk_attention: %s\n", tk_last_error());
    return 1;
  }
  for (int b = 0; b < AB; b++)
    for (int i = 0; i < ATQ; i++)
      for (int h = 0; h < AHQ; h++) {
        int hk = h / (AHQ / AHKV), n = i + ATK - ATQ + 1;
        float sc[ATK];
        const float *rows[ATK];
        for (int j = 0; j < n; j++) {
          sc[j] = dot(&q[((b * ATQ + i) * AHQ + h) * AD], &k[((b * ATK + j) * AHKV + hk) * AD], AD) /
                  sqrtf((float)AD);
          rows[j] = &v[((b * ATK + j) * AHKV + hk) * AD];
        }
        softmax_rows(sc, n, rows, AD, &want[((b * ATQ + i) * AHQ + h) * AD]);
      }
  return compare("attention", out, want, AB * ATQ * AHQ * AD, 1e-4f);
}

/* ---------------------------------------------------------------- grouped GEMM */
enum { GM = 9, GK = 12, GN = 5, GG = 3 };

static int check_grouped_gemm(tk_context *ctx) {
  static float lhs[GM * GK], rhs[GG * GK * GN], out[GM * GN], want[GM * GN];
  int32_t sizes[GG] = {4, 0, 5};
  fill(lhs, GM * GK);
  fill(rhs, GG * GK * GN);
  int64_t ls[] = {GM, GK}, rs[] = {GG, GK, GN}, os[] = {GM, GN}, gs[] = {GG};
  DLTensor tl = tensor(lhs, kDLFloat, 2, ls), tr = tensor(rhs, kDLFloat, 3, rs);
  DLTensor to = tensor(out, kDLFloat, 2, os), tg = tensor(sizes, kDLInt, 1, gs);
  tk_grouped_gemm_args a = {&tl, &tr, &tg, &to, TK_GG_NN};
  if (tk_grouped_gemm(ctx, &a, NULL) != TK_OK) {
    fprintf(stderr, "consumer: tk_grouped_gemm: %s\n", tk_last_error());
    return 1;
  }
  for (int g = 0, r = 0; g < GG; g++)
    for (int end = r + sizes[g]; r < end; r++)
      for (int n = 0; n < GN; n++) {
        float acc = 0;
        for (int k = 0; k < GK; k++) acc += lhs[r * GK + k] * rhs[(g * GK + k) * GN + n];
        want[r * GN + n] = acc;
      }
  return compare("grouped_gemm", out, want, GM * GN, 1e-4f);
}

/* ---------------------------------------------------------------- MoE */
enum { MT = 6, MH = 4, MK = 2, ME = 3 };

static int check_moe(tk_context *ctx) {
  const int64_t R = tk_moe_permute_max_rows(MT, MK, ME, 1);
  float tokens[MT * MH], w[MT * MK], out[MT * MH], want[MT * MH], expert_out[MT * MK * MH];
  int32_t ids[MT * MK], sizes[ME], dest[MT * MK];
  if (R != MT * MK) {
    fprintf(stderr, "consumer: tk_moe_permute_max_rows gave %lld\n", (long long)R);
    return 1;
  }
  fill(tokens, MT * MH);
  for (int t = 0; t < MT; t++) {
    ids[t * MK] = t % ME;
    ids[t * MK + 1] = (t + 1 + t / ME) % ME;
    w[t * MK] = fabsf(rnd()), w[t * MK + 1] = fabsf(rnd());
  }
  float permuted[MT * MK * MH];
  int64_t ts[] = {MT, MH}, is[] = {MT, MK}, ps[] = {R, MH}, es[] = {ME};
  DLTensor tt = tensor(tokens, kDLFloat, 2, ts), ti = tensor(ids, kDLInt, 2, is);
  DLTensor tp = tensor(permuted, kDLFloat, 2, ps), tsz = tensor(sizes, kDLInt, 1, es);
  DLTensor td = tensor(dest, kDLInt, 2, is), tw = tensor(w, kDLFloat, 2, is);
  DLTensor tx = tensor(expert_out, kDLFloat, 2, ps), to = tensor(out, kDLFloat, 2, ts);
  tk_moe_permute_args pa = {&tt, &ti, ME, 1, &tp, &tsz, &td};
  if (tk_moe_permute(ctx, &pa, NULL) != TK_OK) {
    fprintf(stderr, "consumer: tk_moe_permute: %s\n", tk_last_error());
    return 1;
  }
  /* Each row must hold its token, in expert blocks, token order within. */
  int bad = 0, row = 0;
  for (int e = 0; e < ME; e++) {
    int n = 0;
    for (int i = 0; i < MT * MK; i++)
      if (ids[i] == e) {
        bad |= dest[i] != row + n;
        bad |= memcmp(&permuted[(row + n) * MH], &tokens[(i / MK) * MH], sizeof(float) * MH) != 0;
        n++;
      }
    bad |= sizes[e] != n;
    row += n;
  }
  if (bad) {
    fprintf(stderr, "consumer: tk_moe_permute: rows, dest or group_sizes are wrong\n");
    return 1;
  }
  /* "Experts" scale each row by 1 + its index; unpermute weights them. */
  for (int r = 0; r < R; r++)
    for (int h = 0; h < MH; h++) expert_out[r * MH + h] = permuted[r * MH + h] * (float)(1 + r);
  tk_moe_unpermute_args ua = {&tx, &td, &tw, &to};
  if (tk_moe_unpermute(ctx, &ua, NULL) != TK_OK) {
    fprintf(stderr, "consumer: tk_moe_unpermute: %s\n", tk_last_error());
    return 1;
  }
  for (int t = 0; t < MT; t++)
    for (int h = 0; h < MH; h++) {
      float acc = 0;
      for (int s = 0; s < MK; s++)
        acc += w[t * MK + s] * tokens[t * MH + h] * (float)(1 + dest[t * MK + s]);
      want[t * MH + h] = acc;
    }
  return compare("moe", out, want, MT * MH, 1e-4f);
}

/* ---------------------------------------------------------------- paged attention */
enum { PS = 2, PPAGE = 4, PP = 5, PMAX = 2, PHQ = 4, PHKV = 1, PD = 8 };

static int check_paged_attention(tk_context *ctx) {
  static float q[PS * PHQ * PD], kc[PP * PPAGE * PHKV * PD], vc[PP * PPAGE * PHKV * PD];
  static float out[PS * PHQ * PD], want[PS * PHQ * PD];
  const int32_t kv_lens[PS] = {6, 3}, table[PS * PMAX] = {4, 0, 2, 1};
  fill(q, PS * PHQ * PD);
  fill(kc, PP * PPAGE * PHKV * PD);
  fill(vc, PP * PPAGE * PHKV * PD);
  int64_t qs[] = {PS, PHQ, PD}, cs[] = {PP, PPAGE, PHKV, PD}, bs[] = {PS, PMAX}, ls[] = {PS};
  DLTensor tq = tensor(q, kDLFloat, 3, qs), tkc = tensor(kc, kDLFloat, 4, cs);
  DLTensor tvc = tensor(vc, kDLFloat, 4, cs), tb = tensor(table, kDLInt, 2, bs);
  DLTensor tl = tensor(kv_lens, kDLInt, 1, ls), to = tensor(out, kDLFloat, 3, qs);
  tk_paged_attention_args a = {0};
  a.q = &tq, a.k_cache = &tkc, a.v_cache = &tvc, a.block_table = &tb, a.kv_lens = &tl;
  a.cu_q_lens = NULL; /* decode: one query per sequence, at its last position */
  a.out = &to, a.window_left = -1;
  if (tk_paged_attention(ctx, &a, NULL) != TK_OK) {
    fprintf(stderr, "consumer: tk_paged_attention: %s\n", tk_last_error());
    return 1;
  }
  for (int s = 0; s < PS; s++)
    for (int h = 0; h < PHQ; h++) {
      int hk = h / (PHQ / PHKV);
      float sc[PPAGE * PMAX];
      const float *rows[PPAGE * PMAX];
      for (int j = 0; j < kv_lens[s]; j++) {
        int at = ((table[s * PMAX + j / PPAGE] * PPAGE + j % PPAGE) * PHKV + hk) * PD;
        sc[j] = dot(&q[(s * PHQ + h) * PD], &kc[at], PD) / sqrtf((float)PD);
        rows[j] = &vc[at];
      }
      softmax_rows(sc, kv_lens[s], rows, PD, &want[(s * PHQ + h) * PD]);
    }
  return compare("paged_attention", out, want, PS * PHQ * PD, 1e-4f);
}

int main(void) {
  printf("libkernels %s\n", tk_version());
  tk_context_options opts = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  if (tk_context_create(&opts, &ctx) != TK_OK) {
    fprintf(stderr, "consumer: tk_context_create: %s\n", tk_last_error());
    return 1;
  }
  int bad = check_attention(ctx);
  bad |= check_grouped_gemm(ctx);
  bad |= check_moe(ctx);
  bad |= check_paged_attention(ctx);
  tk_context_destroy(ctx);
  return bad;
}
