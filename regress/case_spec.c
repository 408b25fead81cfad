/* case_spec.c: parsing and checking a case spec ("op key=value ...")
 * without allocating anything. The keys are documented in docs/suites.md. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/op_desc.h"
#include "regress/case_internal.h"

enum { AF = 1 << TK_OP_ATTENTION, GG = 1 << TK_OP_GROUPED_GEMM, P = 1 << TK_OP_MOE_PERMUTE,
       UF = 1 << TK_OP_MOE_UNPERMUTE, Q = 1 << TK_OP_PAGED_ATTENTION,
       AB = 1 << TK_OP_ATTENTION_BACKWARD, UB = 1 << TK_OP_MOE_UNPERMUTE_BACKWARD,
       A = AF | AB, U = UF | UB };

typedef enum { K_INT, K_FLOAT, K_DTYPE, K_ENUM } key_kind;

typedef struct {
  const char *name;
  int ops;            /* bit set of the ops that take it */
  key_kind kind;
  size_t offset;      /* into tk_case_params */
  int64_t min, max;   /* K_INT bounds */
  const char *choices; /* K_ENUM: words separated by '|', value = position */
} key_def;

#define OFF(f) offsetof(tk_case_params, f)
static const key_def KEYS[] = {
  {"dtype", A | GG | P | U | Q, K_DTYPE, OFF(dtype), 0, 0, NULL},
  {"B", A, K_INT, OFF(B), 1, 64, NULL},
  {"Tq", A, K_INT, OFF(Tq), 1, 65536, NULL},
  {"Tk", A, K_INT, OFF(Tk), 1, 65536, NULL},
  {"Hq", A | Q, K_INT, OFF(Hq), 1, 256, NULL},
  {"Hkv", A | Q, K_INT, OFF(Hkv), 1, 256, NULL},
  {"D", A | Q, K_INT, OFF(D), 1, 512, NULL},
  {"Dv", A | Q, K_INT, OFF(Dv), 0, 512, NULL},
  {"causal", A, K_INT, OFF(causal), 0, 1, NULL},
  {"wl", A, K_INT, OFF(wl), -1, 1 << 20, NULL},
  {"wr", A, K_INT, OFF(wr), -1, 1 << 20, NULL},
  {"softcap", A | Q, K_FLOAT, OFF(softcap), 0, 0, NULL},
  {"scale", A | Q, K_FLOAT, OFF(scale), 0, 0, NULL},
  {"lse", AF, K_INT, OFF(lse), 0, 1, NULL},
  {"grad", AB, K_ENUM, OFF(grad_f32), 0, 0, "same|f32"},
  {"varlen", A, K_INT, OFF(varlen), 0, 1, NULL},
  {"strided", A | GG, K_INT, OFF(strided), 0, 1, NULL},
  {"out", GG, K_ENUM, OFF(out_same), 0, 0, "f32|same"},
  {"layout", GG, K_ENUM, OFF(layout), 0, 0, "nn|nt|tn"},
  {"M", GG, K_INT, OFF(M), 1, 1 << 20, NULL},
  {"K", GG, K_INT, OFF(K), 1, 1 << 16, NULL},
  {"N", GG, K_INT, OFF(N), 1, 1 << 16, NULL},
  {"G", GG, K_INT, OFF(G), 1, 4096, NULL},
  {"sizes", GG, K_ENUM, OFF(sizes), 0, 0, "balanced|random|zipf|single"},
  {"empty", GG | P, K_INT, OFF(empty), 0, 4096, NULL},
  {"unused", GG, K_INT, OFF(unused), 0, 1 << 20, NULL},
  {"T", P | U, K_INT, OFF(T), 1, 1 << 20, NULL},
  {"H", P | U, K_INT, OFF(H), 1, 1 << 16, NULL},
  {"k", P | U, K_INT, OFF(k), 1, 64, NULL},
  {"E", P | U, K_INT, OFF(E), 1, 4096, NULL},
  {"align", P | U, K_INT, OFF(align), 1, 1024, NULL},
  {"skew", P, K_INT, OFF(skew), 0, 1, NULL},
  {"dweights", UB, K_INT, OFF(dweights), 0, 1, NULL},
  {"shared", UB, K_INT, OFF(shared), 0, 1, NULL},
  {"weights", U, K_INT, OFF(weights), 0, 1, NULL},
  {"page", Q, K_INT, OFF(page), 1, 1024, NULL},
  {"decode", Q, K_INT, OFF(decode), 0, 4096, NULL},
  {"prefill", Q, K_INT, OFF(prefill), 0, 4096, NULL},
  {"qlen", Q, K_INT, OFF(qlen), 1, 65536, NULL},
  {"kvmax", Q, K_INT, OFF(kvmax), 1, 1 << 20, NULL},
  {"window", Q, K_INT, OFF(window), -1, 1 << 20, NULL},
  {"kv", Q, K_ENUM, OFF(kv), 0, 0, "same|fp8|i8"},
  {"kvscale", Q, K_ENUM, OFF(kvscale), 0, 0, "token|tensor"},
  {"kv_lens", Q, K_INT, OFF(kv_lens), 0, 1 << 20, NULL},
};
#undef OFF
#define N_KEYS ((int)(sizeof KEYS / sizeof KEYS[0]))

/* Largest problem a case may allocate, in elements of its biggest tensors. */
#define MAX_ELEMENTS ((double)(1ll << 31)) /* the GPU suites need ~1e9 (2 GiB of bf16) */

tk_status tk_case_err(tk_status s, char *err, size_t err_len, const char *fmt, ...) {
  if (err && err_len) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, err_len, fmt, ap);
    va_end(ap);
  }
  return s;
}

#define bad tk_case_bad

/* Every key's default (docs/suites.md). */
static void set_defaults(tk_case_params *p, tk_op op) {
  memset(p, 0, sizeof *p);
  p->op = op;
  p->dtype = TK_BF16;
  p->B = 2; p->Tq = 64; p->Tk = 64; p->Hq = 4; p->Hkv = 2; p->D = 64; p->Dv = 0;
  p->wl = -1; p->wr = -1; p->lse = 1;
  p->layout = TK_GG_NN; p->M = 128; p->K = 64; p->N = 64; p->G = 4; p->sizes = TK_SIZES_RANDOM;
  p->T = 64; p->H = 64; p->k = 2; p->E = 8; p->align = 1; p->weights = 1; p->dweights = 1;
  p->page = 16; p->decode = 3; p->prefill = 1; p->qlen = 16; p->kvmax = 100; p->window = -1;
}

/* Parses value text of key kd into p. */
static tk_status parse_value(const key_def *kd, const char *word, const char *v,
                             tk_case_params *p, char *err, size_t err_len) {
  char *end = NULL;
  char *field = (char *)p + kd->offset;
  if (*v == '\0') return bad(err, err_len, "'%s': empty value", word);
  switch (kd->kind) {
    case K_INT: {
      errno = 0;
      long long x = strtoll(v, &end, 10);
      if (errno || *end != '\0')
        return bad(err, err_len, "'%s': %s takes an integer", word, kd->name);
      if (x < kd->min || x > kd->max)
        return bad(err, err_len, "'%s': %s must be in [%lld, %lld]", word, kd->name,
                   (long long)kd->min, (long long)kd->max);
      *(int64_t *)field = x;
      return TK_OK;
    }
    case K_FLOAT: {
      errno = 0;
      double x = strtod(v, &end);
      if (errno || *end != '\0' || !isfinite(x) || x < 0)
        return bad(err, err_len, "'%s': %s takes a number >= 0", word, kd->name);
      *(double *)field = x;
      return TK_OK;
    }
    case K_DTYPE: {
      static const struct { const char *name; tk_dtype d; } names[] = {
          {"f32", TK_F32}, {"float32", TK_F32}, {"f16", TK_F16},
          {"float16", TK_F16}, {"bf16", TK_BF16}, {"bfloat16", TK_BF16}};
      for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(v, names[i].name) == 0) {
          *(tk_dtype *)field = names[i].d;
          return TK_OK;
        }
      return bad(err, err_len, "'%s': dtype must be f32, f16 or bf16", word);
    }
    case K_ENUM: {
      size_t n = strlen(v);
      int64_t pos = 0;
      for (const char *c = kd->choices; *c; pos++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == n && strncmp(c, v, n) == 0) {
          *(int64_t *)field = pos;
          return TK_OK;
        }
        c += len + (bar != NULL);
      }
      return bad(err, err_len, "'%s': %s must be one of %s", word, kd->name, kd->choices);
    }
  }
  return bad(err, err_len, "'%s': internal error", word);
}

/* The op's cross-key rules (regress/case_<op>.c); the key table checks the
 * bounds of each key. */
static tk_status check_params(tk_case_params *p, char *err, size_t err_len) {
  double elems = 0;
  tk_status st = tk_case_ops_of(p->op)->check(p, &elems, err, err_len);
  if (st != TK_OK) return st;
  if (elems > MAX_ELEMENTS)
    return bad(err, err_len, "problem too large for a case (%.3g elements, at most %.3g)", elems,
               MAX_ELEMENTS);
  return TK_OK;
}

tk_status tk_case_spec_parse(const char *spec, tk_case_params *p, char *err, size_t err_len) {
  char word[256];
  const char *s = spec ? spec : "";
  int first = 1;
  unsigned char given[N_KEYS];
  memset(given, 0, sizeof given);
  for (;;) {
    while (isspace((unsigned char)*s)) s++;
    if (*s == '\0') break;
    size_t n = 0;
    while (s[n] && !isspace((unsigned char)s[n])) n++;
    if (n >= sizeof word) return bad(err, err_len, "word '%.32s...' is too long", s);
    memcpy(word, s, n);
    word[n] = '\0';
    s += n;
    if (first) {
      tk_op op;
      if (strchr(word, '=') || tk_op_from_name(word, &op) != TK_OK) {
        char names[512];
        tk_op_names_text(names, sizeof names);
        return bad(err, err_len, "'%s': not an op (%s)", word, names);
      }
      set_defaults(p, op);
      first = 0;
      continue;
    }
    char *eq = strchr(word, '=');
    if (!eq) return bad(err, err_len, "'%s': expected key=value", word);
    *eq = '\0';
    int i = 0;
    while (i < N_KEYS && !(strcmp(KEYS[i].name, word) == 0 && (KEYS[i].ops & (1 << p->op)))) i++;
    if (i == N_KEYS)
      return bad(err, err_len, "'%s': unknown key for %s (see docs/suites.md)", word,
                 tk_op_name(p->op));
    if (given[i]) return bad(err, err_len, "'%s': given twice", word);
    given[i] = 1;
    *eq = '=';
    tk_status st = parse_value(&KEYS[i], word, eq + 1, p, err, err_len);
    if (st != TK_OK) return st;
  }
  if (first) return bad(err, err_len, "empty spec: expected an op name");
  return check_params(p, err, err_len);
}
