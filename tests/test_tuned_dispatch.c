/* test_tuned_dispatch: dispatch through the tuning cache: an exact hit, the
 * nearest tuned shape of the same family, the heuristic for another family,
 * cached entries that are invalid (bad config, unknown impl) ignored, the
 * nearest-shape rule itself and the win it needs (TK_NEAREST_MIN_GAIN),
 * TK_TUNE_ON_MISS sweeping and storing a shape on the caller's data
 * without disturbing the caller's result, and the memo
 * by problem image (autotune/choice_memo.h) answering exactly what the key
 * path answers. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/choice_memo.h"
#include "autotune/config.h"
#include "autotune/key_distance.h"
#include "autotune/tuned_map.h"
#include "kernels/op_desc.h"
#include "runtime/context.h"
#include "regress/case.h"
#include "tests/test_cache_util.h"

#define GEMM(M) "grouped_gemm dtype=f32 out=f32 layout=nn M=" #M " K=64 N=48 G=4 sizes=random"

/* The problem key and plan of spec on ctx (auto dispatch). */
static tk_plan *plan_of(tk_context *ctx, const char *spec, tk_case **c) {
  char err[256];
  tk_plan *plan = NULL;
  CHECK_OK(tk_case_create(spec, 7, c, err, sizeof err));
  if (!*c) return NULL;
  CHECK_OK(tk_plan_create(ctx, tk_case_op(*c), tk_case_args(*c), NULL, &plan));
  return plan;
}

/* The problem key of spec and the heuristic's impl and config for it, from
 * a context without a cache; any of the three may be NULL. */
static void untuned_plan(const char *spec, char *key, char *impl, char *config, size_t len) {
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  CHECK_OK(tk_context_create(&o, &ctx));
  tk_case *c = NULL;
  tk_plan *plan = ctx ? plan_of(ctx, spec, &c) : NULL;
  if (key) snprintf(key, len, "%s", plan ? tk_plan_problem_key(plan) : "");
  if (impl) snprintf(impl, len, "%s", plan ? tk_plan_impl(plan) : "");
  if (config) snprintf(config, len, "%s", plan ? tk_plan_config(plan) : "");
  tk_plan_destroy(plan);
  tk_case_destroy(c);
  tk_context_destroy(ctx);
}

/* The key of spec, from a context without a cache. */
static void key_of(const char *spec, char *key, size_t len) { untuned_plan(spec, key, NULL, NULL, len); }

static void test_key_distance(void) {
  tk_key_shape a, b, c;
  CHECK(tk_key_shape_of("grouped_gemm:dtype=f32,out=f32,layout=nn,M=64,K=64,N=48,G=4,strides=contig", &a),
        "parse a");
  CHECK(tk_key_shape_of("grouped_gemm:dtype=f32,out=f32,layout=nn,M=128,K=64,N=48,G=4,strides=contig", &b),
        "parse b");
  CHECK(tk_key_shape_of("grouped_gemm:dtype=bf16,out=f32,layout=nn,M=64,K=64,N=48,G=4,strides=contig", &c),
        "parse c");
  CHECK(strcmp(a.family, b.family) == 0 && strcmp(a.family, c.family) != 0, "families %s | %s",
        a.family, c.family);
  double d = tk_key_distance(&a, &b);
  CHECK(fabs(d - fabs(log1p(64) - log1p(128))) < 1e-12 && d == tk_key_distance(&b, &a), "d %g", d);
  CHECK(tk_key_distance(&a, &a) == 0, "self distance");
  CHECK(tk_key_distance(&a, &c) < 0, "other family");
  CHECK(!tk_key_shape_of("grouped_gemm:dtype=f32,M=64", &a), "missing sizes rejected");
  CHECK(!tk_key_shape_of("nonsense", &a) && !tk_key_shape_of("warp:M=1", &a), "bad keys rejected");
}

/* Whether the shape of key b is within reach of key a's. */
static int reach(const char *a, const char *b) {
  tk_key_shape x, y;
  CHECK(tk_key_shape_of(a, &x) && tk_key_shape_of(b, &y), "parse %s | %s", a, b);
  return tk_key_within_reach(&x, &y);
}

#define GG(sizes) "grouped_gemm:dtype=f32,out=f32,layout=nn," sizes ",strides=contig"
#define ATT(sizes) \
  "attention:dtype=bf16," sizes ",Hq=32,Hkv=8,D=128,Dv=128,causal=1,wl=-1,wr=-1,softcap=0," \
  "scale=0.0883883461,lse=1,varlen=none,strides=contig"
#define PAGED(sizes) \
  "paged_attention:dtype=bf16,Hq=32,Hkv=8,D=128,Dv=128,page_size=16," sizes \
  ",decode=0,wl=-1,softcap=0,scale=0.0883883461,strides=contig"

/* The reach bound of the nearest-shape rule: every size within 2x (on
 * 1 + value), every regime ratio within 2x, the family equal. */
static void test_key_reach(void) {
  const char *base = GG("M=512,K=512,N=512,G=8");
  CHECK(reach(base, base), "self");
  /* reach(problem, tuned shape) */
  CHECK(reach(GG("M=256,K=512,N=512,G=8"), base), "half the rows per group");
  CHECK(!reach(GG("M=1024,K=512,N=512,G=8"), base), "twice the rows per group");
  CHECK(!reach(GG("M=200,K=512,N=512,G=8"), base), "M under half");
  CHECK(reach(GG("M=256,K=512,N=512,G=4"), base) && reach(GG("M=1024,K=512,N=512,G=16"), base),
        "M and G halved or doubled, rows per group equal");
  CHECK(!reach(GG("M=512,K=1024,N=512,G=8"), base), "K must be equal");
  CHECK(!reach(GG("M=512,K=512,N=600,G=8"), base), "N must be equal");
  CHECK(!reach(GG("M=4096,K=2048,N=2048,G=8"), base), "the bench shape");
  CHECK(!reach(GG("M=2048,K=512,N=512,G=64"), base), "G 8x");
  CHECK(!reach(GG("M=512,K=512,N=512,G=32"), base), "G 4x");
  CHECK(reach(GG("M=0,K=64,N=64,G=1"), GG("M=1,K=64,N=64,G=1")), "zero sizes compare on 1 + value");
  CHECK(!reach(GG("M=0,K=64,N=64,G=1"), GG("M=3,K=64,N=64,G=1")), "0 and 3: 4x on 1 + value");
  CHECK(reach(ATT("B=1,Tq=384,Tk=384"), ATT("B=1,Tq=256,Tk=256")), "attention 1.5x the tokens");
  CHECK(!reach(ATT("B=1,Tq=512,Tk=512"), ATT("B=1,Tq=256,Tk=256")), "attention twice the tokens");
  CHECK(!reach(base, "grouped_gemm:dtype=bf16,out=f32,layout=nn,M=512,K=512,N=512,G=8,strides=contig"),
        "other dtype");
  CHECK(reach(ATT("B=1,Tq=256,Tk=256"), ATT("B=2,Tq=320,Tk=320")), "attention: B 2x, tokens 1.25x");
  CHECK(!reach(ATT("B=1,Tq=256,Tk=256"), ATT("B=1,Tq=256,Tk=512")), "attention: Tk 2x");
  CHECK(!reach(ATT("B=1,Tq=256,Tk=256"), ATT("B=1,Tq=1,Tk=256")), "decode is not prefill");
  CHECK(!reach(ATT("B=1,Tq=256,Tk=256"), ATT("B=1,Tq=128,Tk=512")), "Tq/Tk 4x");
  CHECK(reach(PAGED("P=125,S=4,max_pages=65,Tq_total=67"), PAGED("P=200,S=6,max_pages=65,Tq_total=100")),
        "paged within 2x");
  CHECK(reach(PAGED("P=125,S=4,max_pages=65,Tq_total=4"), PAGED("P=125,S=4,max_pages=65,Tq_total=7")),
        "paged: Tq_total 4 -> 7 is within 2x on 1 + value");
  CHECK(!reach(PAGED("P=125,S=8,max_pages=65,Tq_total=16"), PAGED("P=125,S=16,max_pages=65,Tq_total=8")),
        "S and Tq_total within 2x, query tokens per sequence 3.6x");
}

/* A cache with tuned entries; a context over it dispatches by them. */
static void test_cached_choices(void) {
  char db[128], k64[1024], k_bad[1024], k_unknown[1024];
  snprintf(db, sizeof db, "%s/tune.db", tc_dir);
  key_of(GEMM(64), k64, sizeof k64);
  key_of("grouped_gemm dtype=f32 out=f32 layout=tn M=64 K=64 N=48 G=4", k_bad, sizeof k_bad);
  key_of("grouped_gemm dtype=f32 out=f32 layout=nt M=64 K=64 N=48 G=4", k_unknown, sizeof k_unknown);
  tk_device_info dev;
  tk_device_detect(&dev);
  char fp[512];
  tk_device_fingerprint_cpu(&dev, fp, sizeof fp);
  tk_cache *c;
  int64_t id;
  CHECK_OK(tk_cache_open(db, TK_CACHE_CREATE, 0, &c));
  CHECK_OK(tk_cache_device_id(c, fp, NULL, &id));
  CHECK_OK(tk_cache_set_best(c, id, "grouped_gemm", k64, "reference", "parallel=0", 1000));
  CHECK_OK(tk_cache_set_best(c, id, "grouped_gemm", k_bad, "reference", "parallel=7", 1000));
  CHECK_OK(tk_cache_set_best(c, id, "grouped_gemm", k_unknown, "no_such_impl", "x=1", 1000));
  int64_t other;
  CHECK_OK(tk_cache_device_id(c, "cpu:another-machine", NULL, &other));
  CHECK_OK(tk_cache_set_best(c, other, "grouped_gemm", k64, "reference", "parallel=1", 5));
  tk_cache_close(c);

  tk_context_options o = {db, 1, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) return;
  char desc[8192];
  CHECK_OK(tk_context_describe(ctx, desc, sizeof desc));
  CHECK(strstr(desc, "\"tuned_shapes\":3") != NULL, "describe: %s", desc);
  struct {
    const char *spec;
    tk_choice_source src;
    const char *impl, *config;
  } want[] = {
      {GEMM(64), TK_CHOICE_CACHE, "reference", "parallel=0"},
      {GEMM(48), TK_CHOICE_NEAREST, "reference", "parallel=0"},  /* other size, same family */
      {GEMM(80), TK_CHOICE_HEURISTIC, NULL, NULL},  /* same family, more rows per group */
      {GEMM(256), TK_CHOICE_HEURISTIC, NULL, NULL}, /* same family, 4x: out of reach */
      {GEMM(64), TK_CHOICE_CACHE, "reference", "parallel=0"},    /* memo did not disturb it */
      {"grouped_gemm dtype=bf16 out=f32 layout=nn M=64 K=64 N=48 G=4", TK_CHOICE_HEURISTIC, NULL, NULL},
      {"grouped_gemm dtype=f32 out=f32 layout=tn M=64 K=64 N=48 G=4", TK_CHOICE_HEURISTIC, NULL, NULL},
      {"grouped_gemm dtype=f32 out=f32 layout=nt M=64 K=64 N=48 G=4", TK_CHOICE_HEURISTIC, NULL, NULL},
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    tk_case *cs = NULL;
    tk_plan *plan = plan_of(ctx, want[i].spec, &cs);
    if (!plan) continue;
    CHECK(tk_plan_source(plan) == want[i].src, "%s: source %s, want %s", want[i].spec,
          tk_choice_source_name(tk_plan_source(plan)), tk_choice_source_name(want[i].src));
    if (want[i].impl)
      CHECK(strcmp(tk_plan_impl(plan), want[i].impl) == 0 &&
                strcmp(tk_plan_config(plan), want[i].config) == 0,
            "%s: %s %s", want[i].spec, tk_plan_impl(plan), tk_plan_config(plan));
    /* The tuned choice computes the right answer. */
    CHECK_OK(tk_case_prepare_expected(cs, ctx));
    CHECK_OK(tk_case_run(cs, ctx, NULL));
    tk_case_report r;
    CHECK(tk_case_check(cs, &r), "%s: %s", want[i].spec, r.why);
    tk_plan_destroy(plan);
    tk_case_destroy(cs);
  }
  /* A forced impl still wins over the cache. */
  tk_case *cs = NULL;
  char err[256];
  CHECK_OK(tk_case_create(GEMM(64), 7, &cs, err, sizeof err));
  tk_call_options forced = {"reference", "parallel=1"};
  tk_plan *plan = NULL;
  CHECK_OK(tk_plan_create(ctx, TK_OP_GROUPED_GEMM, tk_case_args(cs), &forced, &plan));
  CHECK(plan && tk_plan_source(plan) == TK_CHOICE_FORCED && strcmp(tk_plan_config(plan), "parallel=1") == 0,
        "forced");
  tk_plan_destroy(plan);
  tk_case_destroy(cs);
  tk_context_destroy(ctx);
}

static int ignore_best(void *user, const char *fp, const tk_cache_best *b) {
  (void)user, (void)fp, (void)b;
  return 0;
}

/* TK_TUNE_ON_MISS: the first call sweeps, stores, and still computes the
 * caller's result; the next plan is a cache hit; a new context loads it. */
static void test_tune_on_miss(void) {
  char db[128];
  snprintf(db, sizeof db, "%s/on_miss.db", tc_dir);
  tk_context_options o = {db, 2, TK_TUNE_ON_MISS, NULL};
  tk_context *ctx;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) return;
  tk_case *cs = NULL;
  char err[256];
  CHECK_OK(tk_case_create(GEMM(96), 3, &cs, err, sizeof err));
  if (!cs) return;
  CHECK_OK(tk_case_prepare_expected(cs, ctx));
  CHECK_OK(tk_case_run(cs, ctx, NULL));
  tk_case_report r;
  CHECK(tk_case_check(cs, &r), "on-miss call result: %s", r.why);
  tk_plan *plan = NULL;
  CHECK_OK(tk_plan_create(ctx, TK_OP_GROUPED_GEMM, tk_case_args(cs), NULL, &plan));
  CHECK(plan && tk_plan_source(plan) == TK_CHOICE_CACHE, "after on-miss: %s",
        plan ? tk_choice_source_name(tk_plan_source(plan)) : "no plan");
  char key[1024];
  snprintf(key, sizeof key, "%s", plan ? tk_plan_problem_key(plan) : "");
  tk_plan_destroy(plan);
  tk_context_destroy(ctx);

  tk_cache *c;
  CHECK_OK(tk_cache_open(db, 0, 0, &c));
  int found = 0;
  tk_device_info dev;
  tk_device_detect(&dev);
  char fp[512];
  tk_device_fingerprint_cpu(&dev, fp, sizeof fp);
  if (c) {
    int64_t id;
    CHECK_OK(tk_cache_device_id(c, fp, NULL, &id));
    CHECK_OK(tk_cache_get_best(c, id, "grouped_gemm", key, ignore_best, NULL, &found));
    tk_cache_close(c);
  }
  CHECK(found, "on-miss stored a best for %s", key);
  /* The sweep's new entry replaced the miss the first call memoised. */
  o.tune = TK_TUNE_ON_MISS;
  CHECK_OK(tk_context_create(&o, &ctx));
  tk_problem p;
  CHECK_OK(tk_problem_validate(TK_OP_GROUPED_GEMM, tk_case_args(cs), 1, &p));
  for (int i = 0; ctx && i < 3; i++) {
    tk_choice ch = {0};
    CHECK_OK(tk_choose(ctx, &p, NULL, &ch));
    CHECK(ch.source == TK_CHOICE_CACHE, "on-miss context, call %d: %s", i,
          tk_choice_source_name(ch.source));
  }
  tk_context_destroy(ctx);
  o.tune = TK_TUNE_OFF;
  CHECK_OK(tk_context_create(&o, &ctx));
  plan = NULL;
  CHECK_OK(tk_plan_create(ctx, TK_OP_GROUPED_GEMM, tk_case_args(cs), NULL, &plan));
  CHECK(plan && tk_plan_source(plan) == TK_CHOICE_CACHE, "a new context loads it");
  tk_plan_destroy(plan);
  tk_context_destroy(ctx);
  tk_case_destroy(cs);
}

/* A corrupt cache file is not fatal: nothing tuned, heuristic dispatch. */
static void test_corrupt_cache(void) {
  char db[128];
  snprintf(db, sizeof db, "%s/corrupt.db", tc_dir);
  FILE *f = fopen(db, "wb");
  if (f) {
    fputs("this is not an SQLite database, just text that is long enough to look like one......", f);
    fclose(f);
  }
  tk_context_options o = {db, 1, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  CHECK_OK(tk_context_create(&o, &ctx));
  tk_case *cs = NULL;
  tk_plan *plan = ctx ? plan_of(ctx, GEMM(64), &cs) : NULL;
  CHECK(plan && tk_plan_source(plan) == TK_CHOICE_HEURISTIC, "corrupt cache: heuristic");
  tk_plan_destroy(plan);
  tk_case_destroy(cs);
  tk_context_destroy(ctx);
}

/* Makes (impl, config) the best of spec's key for this machine's CPU in db. */
static void set_best(const char *db, const char *spec, const char *impl, const char *config) {
  char key[1024], fp[512];
  key_of(spec, key, sizeof key);
  tk_device_info dev;
  tk_device_detect(&dev);
  tk_device_fingerprint_cpu(&dev, fp, sizeof fp);
  tk_cache *c;
  int64_t id;
  CHECK_OK(tk_cache_open(db, TK_CACHE_CREATE, 0, &c));
  if (!c) return;
  CHECK_OK(tk_cache_device_id(c, fp, NULL, &id));
  CHECK_OK(tk_cache_set_best(c, id, "grouped_gemm", key, impl, config, 1000));
  tk_cache_close(c);
}

/* The nearest entry stands in only where its shape's measurements show it
 * beating the problem's heuristic config by TK_NEAREST_MIN_GAIN (p20 over
 * p80): the tuned shape M=64 with its best's p80 at 1000 ns, the problem
 * M=48 (in reach), and the heuristic's config for M=48 measured on M=64
 * with its p20 at 1.5x, at just under the gain, at 0.8x under a median of
 * 1.5x (a noisy win), at 1.5x but timed 2 s apart from the best, or not at
 * all. The measurements are read at the first nearest lookup: with the
 * file gone by then, the entry is judged by its distance alone. */
static void test_nearest_evidence(void) {
  char k64[1024], hi[1024], hc[1024], fp[512];
  key_of(GEMM(64), k64, sizeof k64);
  untuned_plan(GEMM(48), NULL, hi, hc, sizeof hi);
  /* the tuned best: a reference config that is not the heuristic's */
  const char *bc = strcmp(hi, "reference") == 0 && strcmp(hc, "parallel=0") == 0 ? "parallel=1"
                                                                                 : "parallel=0";
  tk_device_info dev;
  tk_device_detect(&dev);
  tk_device_fingerprint_cpu(&dev, fp, sizeof fp);
  const struct {
    double p20_ns, median_ns; /* the heuristic config's on M=64; 0: not measured */
    int apart;                /* recorded 2 s after the best */
    int removed;              /* the file removed after context creation */
    tk_choice_source want;
  } cases[] = {
      {1500, 1600, 0, 0, TK_CHOICE_NEAREST},
      {1000 * TK_NEAREST_MIN_GAIN * 0.98, 1100, 0, 0, TK_CHOICE_HEURISTIC},
      {800, 1500, 0, 0, TK_CHOICE_HEURISTIC},
      {1500, 1600, 1, 0, TK_CHOICE_HEURISTIC},
      {0, 0, 0, 0, TK_CHOICE_HEURISTIC},
      {800, 1500, 0, 1, TK_CHOICE_NEAREST},
  };
  for (int i = 0; i < (int)(sizeof cases / sizeof cases[0]); i++) {
    char name[64];
    snprintf(name, sizeof name, "evidence%d.db", i);
    const char *db = tc_path(name);
    tk_cache *c = NULL;
    int64_t id;
    CHECK_OK(tk_cache_open(db, TK_CACHE_CREATE, 0, &c));
    if (!c) return;
    CHECK_OK(tk_cache_device_id(c, fp, NULL, &id));
    tk_cache_measurement best = {"grouped_gemm", k64, "reference", bc, TK_CACHE_RESULT_OK, "",
                                 1000, 950, 1000, 10, 0, 0};
    CHECK_OK(tk_cache_record(c, id, &best));
    if (cases[i].p20_ns > 0) {
      tk_cache_measurement h = best;
      h.impl = hi;
      h.config = hc;
      h.p20_ns = cases[i].p20_ns; /* against the best's p80 of 1000 */
      h.median_ns = cases[i].median_ns;
      h.p80_ns = cases[i].median_ns * 1.1;
      CHECK_OK(tk_cache_record(c, id, &h));
    }
    CHECK_OK(tk_cache_recompute_best(c, id, "grouped_gemm", k64, NULL));
    tk_cache_close(c);
    if (cases[i].apart) {
      sqlite3 *sq = NULL;
      char sql[1200];
      snprintf(sql, sizeof sql,
               "UPDATE measurements SET measured_us = measured_us + 2000000 WHERE config = '%s'", hc);
      CHECK(sqlite3_open(db, &sq) == SQLITE_OK && sqlite3_exec(sq, sql, NULL, NULL, NULL) == SQLITE_OK &&
                sqlite3_changes(sq) == 1,
            "moving the heuristic's measurement: %s", sq ? sqlite3_errmsg(sq) : "no db");
      sqlite3_close(sq);
    }
    tk_context_options o = {db, 1, TK_TUNE_OFF, NULL};
    tk_context *ctx = NULL;
    CHECK_OK(tk_context_create(&o, &ctx));
    if (!ctx) return;
    if (cases[i].removed) CHECK(remove(db) == 0, "removing %s", db);
    tk_case *cs = NULL;
    tk_plan *plan = plan_of(ctx, GEMM(48), &cs);
    if (plan) {
      const char *want_config = cases[i].want == TK_CHOICE_NEAREST ? bc : hc;
      CHECK(tk_plan_source(plan) == cases[i].want && strcmp(tk_plan_config(plan), want_config) == 0,
            "heuristic's p20 at %g ns: %s %s %s, want %s %s", cases[i].p20_ns,
            tk_choice_source_name(tk_plan_source(plan)), tk_plan_impl(plan), tk_plan_config(plan),
            tk_choice_source_name(cases[i].want), want_config);
    }
    tk_plan_destroy(plan);
    tk_case_destroy(cs);
    /* the tuned shape itself is an exact hit whatever the margin */
    plan = plan_of(ctx, GEMM(64), &cs);
    if (plan)
      CHECK(tk_plan_source(plan) == TK_CHOICE_CACHE && strcmp(tk_plan_config(plan), bc) == 0,
            "exact hit: %s %s", tk_choice_source_name(tk_plan_source(plan)), tk_plan_config(plan));
    tk_plan_destroy(plan);
    tk_case_destroy(cs);
    tk_context_destroy(ctx);
  }
}

/* The validated problem (with data) of case c. */
static tk_problem problem_of(tk_case *c) {
  tk_problem p;
  memset(&p, 0, sizeof p);
  CHECK_OK(tk_problem_validate(tk_case_op(c), tk_case_args(c), 1, &p));
  return p;
}

/* Validation fills every byte the dispatch memo compares (the call-wide
 * fields and the op's member of the union, padding included), so equal
 * args give equal images whatever the memory held before. */
static void test_problem_bytes_defined(void) {
  static const char *const specs[] = {
      "attention dtype=bf16 B=1 Tq=8 Tk=8 Hq=2 Hkv=1 D=16 causal=1 lse=1",
      GEMM(16),
      "moe_permute dtype=f32 T=4 H=8 k=2 E=4",
      "moe_unpermute dtype=f32 T=4 H=8 k=2 E=4 weights=1",
      "paged_attention dtype=bf16 Hq=2 Hkv=1 D=16 page=16 decode=1 prefill=1 qlen=3 kvmax=20",
      "attention_backward dtype=bf16 B=1 Tq=8 Tk=8 Hq=2 Hkv=1 D=16 causal=1 grad=f32",
      "moe_unpermute_backward dtype=f32 T=4 H=8 k=2 E=4 weights=1 dweights=1",
  };
  for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
    tk_case *c = NULL;
    char err[256];
    CHECK_OK(tk_case_create(specs[i], 5, &c, err, sizeof err));
    if (!c) continue;
    tk_problem a, b;
    memset(&a, 0xA5, sizeof a);
    memset(&b, 0x5A, sizeof b);
    CHECK_OK(tk_problem_validate(tk_case_op(c), tk_case_args(c), 1, &a));
    CHECK_OK(tk_problem_validate(tk_case_op(c), tk_case_args(c), 1, &b));
    const size_t image = offsetof(tk_problem, u) + tk_op_desc_of(tk_case_op(c))->problem_size;
    CHECK(memcmp(&a, &b, image) == 0, "%s: validation leaves bytes undefined", specs[i]);
    tk_case_destroy(c);
  }
}

/* The memo itself: a hit needs every byte but the data pointers equal and
 * the same slot; forgetting a key drops its answers; it stays bounded. */
static void test_choice_memo(void) {
  tk_choice_memo *m = tk_choice_memo_create();
  CHECK(m != NULL, "memo");
  if (!m) return;
  char err[256];
  tk_case *c7 = NULL, *c8 = NULL, *cs = NULL, *cb = NULL;
  CHECK_OK(tk_case_create(GEMM(64), 7, &c7, err, sizeof err));
  CHECK_OK(tk_case_create(GEMM(64), 8, &c8, err, sizeof err));
  CHECK_OK(tk_case_create(GEMM(64) " strided=1", 7, &cs, err, sizeof err));
  CHECK_OK(tk_case_create("grouped_gemm dtype=bf16 out=f32 layout=nn M=64 K=64 N=48 G=4", 7, &cb,
                          err, sizeof err));
  if (c7 && c8 && cs && cb) {
    tk_problem p7 = problem_of(c7), p8 = problem_of(c8), ps = problem_of(cs), pb = problem_of(cb);
    CHECK(p7.u.grouped_gemm.lhs.data != p8.u.grouped_gemm.lhs.data, "two cases, two buffers");
    /* p8's buffers moved to the alignment of p7's: 256 bytes on from p7's
     * keeps every alignment (capped at 256 bytes); 4 bytes on does not. */
    tk_problem p_odd = p7;
    tk_grouped_gemm_problem *g8 = &p8.u.grouped_gemm, *g7 = &p7.u.grouped_gemm;
    g8->lhs.data = (char *)g7->lhs.data + 256;
    g8->rhs.data = (char *)g7->rhs.data + 256;
    g8->group_sizes.data = (char *)g7->group_sizes.data + 256;
    g8->out.data = (char *)g7->out.data + 256;
    p_odd.u.grouped_gemm.lhs.data = (char *)g7->lhs.data + 4;
    tk_problem_image i7, i8, is, ib, i7_slot1, i_odd;
    tk_problem_image_of(&p7, 0, &i7);
    tk_problem_image_of(&p8, 0, &i8);
    tk_problem_image_of(&p_odd, 0, &i_odd);
    tk_problem_image_of(&ps, 0, &is);
    tk_problem_image_of(&pb, 0, &ib);
    tk_problem_image_of(&p7, 1, &i7_slot1);
    CHECK(i7.len > 0 && i7.hash == i8.hash && memcmp(&i7.p, &i8.p, i7.len) == 0,
          "the data pointers are not part of the image, only their alignment");
    CHECK(memcmp(&i7.p, &i_odd.p, i7.len) != 0, "a less aligned buffer is another image");
    CHECK(memcmp(&i7.p, &is.p, i7.len) != 0 && memcmp(&i7.p, &ib.p, i7.len) != 0,
          "strides and dtype are");
    const tk_impl *ref = tk_registry_find(TK_OP_GROUPED_GEMM, "reference");
    tk_choice put = {ref, {{1}}, TK_CHOICE_CACHE}, got = {0};
    int found = -1;
    tk_choice_memo_put(m, &i7, 0, 42, 1, &put);
    CHECK(tk_choice_memo_find(m, &i8, 0, &found, &got) && found == 1 && got.impl == ref &&
              got.impl->space->n_params == 1 && got.cfg.v[0] == 1 && got.source == TK_CHOICE_CACHE,
          "hit on other buffers");
    CHECK(!tk_choice_memo_find(m, &is, 0, &found, &got), "strided problem: no hit");
    CHECK(!tk_choice_memo_find(m, &i_odd, 0, &found, &got), "less aligned buffers: no hit");
    CHECK(!tk_choice_memo_find(m, &ib, 0, &found, &got), "bf16 problem: no hit");
    CHECK(!tk_choice_memo_find(m, &i7_slot1, 1, &found, &got), "other slot: no hit");
    tk_choice_memo_put(m, &is, 0, 43, 0, NULL);
    CHECK(tk_choice_memo_find(m, &is, 0, &found, &got) && found == 0, "a memoised miss");
    CHECK(tk_choice_memo_size(m) == 2, "size %d", tk_choice_memo_size(m));
    tk_choice_memo_forget_key(m, 0, 42);
    CHECK(!tk_choice_memo_find(m, &i7, 0, &found, &got), "forgotten key");
    CHECK(tk_choice_memo_find(m, &is, 0, &found, &got), "other key kept");
    /* Bounded: many more problems than it holds; the newest is always there. */
    for (int i = 0; i < 600; i++) {
      tk_problem q = p7;
      q.u.grouped_gemm.M = 1000 + i;
      tk_problem_image iq;
      tk_problem_image_of(&q, 0, &iq);
      tk_choice_memo_put(m, &iq, 0, (uint64_t)i, 1, &put);
      if (!tk_choice_memo_find(m, &iq, 0, &found, &got)) {
        CHECK(0, "problem %d not found right after its put", i);
        break;
      }
    }
    CHECK(tk_choice_memo_size(m) <= 256, "size %d", tk_choice_memo_size(m));
    tk_choice_memo_clear(m);
    CHECK(tk_choice_memo_size(m) == 0, "cleared");
  }
  tk_case_destroy(c7);
  tk_case_destroy(c8);
  tk_case_destroy(cs);
  tk_case_destroy(cb);
  tk_choice_memo_free(m);
}

/* What a thread of the concurrent part checks: each problem's choice. */
typedef struct {
  tk_context *ctx;
  const tk_problem *p;
  const tk_choice *want;
  int n, mismatches;
} memo_job;

/* Chooses every problem of the job many times; counts wrong choices. */
static void *choose_many(void *arg) {
  memo_job *j = arg;
  for (int it = 0; it < 1000; it++)
    for (int i = 0; i < j->n; i++) {
      tk_choice ch = {0};
      if (tk_choose(j->ctx, &j->p[i], NULL, &ch) != TK_OK || ch.impl != j->want[i].impl ||
          ch.source != j->want[i].source || ch.cfg.v[0] != j->want[i].cfg.v[0])
        j->mismatches++;
    }
  return NULL;
}

/* Auto dispatch answers a problem seen before (memo) exactly as the first
 * time (key path): across keys of one family, strides, dtypes, other data
 * buffers, plans and calls, repeated; and a tuned map change reaches it. */
static void test_memo_matches_key_path(void) {
  char db[128];
  snprintf(db, sizeof db, "%s/memo.db", tc_dir);
  set_best(db, GEMM(128), "reference", "parallel=0");
  set_best(db, GEMM(128) " strided=1", "reference", "parallel=1");
  set_best(db, "grouped_gemm dtype=bf16 out=f32 layout=nn M=64 K=64 N=48 G=4", "reference",
           "parallel=1");
  struct {
    const char *spec;
    tk_choice_source src;
    const char *config; /* NULL: the heuristic's */
  } want[] = {
      {GEMM(128), TK_CHOICE_CACHE, "parallel=0"},
      {GEMM(128) " strided=1", TK_CHOICE_CACHE, "parallel=1"},                 /* strides */
      {"grouped_gemm dtype=bf16 out=f32 layout=nn M=64 K=64 N=48 G=4", TK_CHOICE_CACHE,
       "parallel=1"},                                                          /* dtype */
      {GEMM(80), TK_CHOICE_NEAREST, "parallel=0"},                             /* same family */
      {GEMM(72), TK_CHOICE_NEAREST, "parallel=0"},
      {GEMM(80) " strided=1", TK_CHOICE_NEAREST, "parallel=1"},
      {"grouped_gemm dtype=f32 out=f32 layout=tn M=64 K=64 N=48 G=4", TK_CHOICE_HEURISTIC, NULL},
      {"grouped_gemm dtype=bf16 out=same layout=nn M=64 K=64 N=48 G=4", TK_CHOICE_HEURISTIC, NULL},
  };
  enum { N = sizeof want / sizeof want[0] };
  tk_context_options o = {db, 1, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) return;
  tk_case *cases[N][2] = {{NULL}};
  tk_choice first[N];
  char err[256];
  for (int i = 0; i < N; i++) {
    for (int s = 0; s < 2; s++)
      CHECK_OK(tk_case_create(want[i].spec, 7 + (uint64_t)s, &cases[i][s], err, sizeof err));
    memset(&first[i], 0, sizeof first[i]);
    /* The key path: a fresh context has nothing memoised. */
    tk_context *fresh;
    CHECK_OK(tk_context_create(&o, &fresh));
    if (fresh && cases[i][0]) {
      tk_problem p = problem_of(cases[i][0]);
      CHECK_OK(tk_choose(fresh, &p, NULL, &first[i]));
    }
    tk_context_destroy(fresh);
    char cfg[256] = "";
    if (first[i].impl) tk_config_format(first[i].impl->space, &first[i].cfg, cfg, sizeof cfg);
    CHECK(first[i].impl && first[i].source == want[i].src &&
              (!want[i].config || (strcmp(first[i].impl->name, "reference") == 0 &&
                                   strcmp(cfg, want[i].config) == 0)),
          "%s: key path chose %s %s (%s)", want[i].spec, first[i].impl ? first[i].impl->name : "-",
          cfg, tk_choice_source_name(first[i].source));
  }
  int memo_after_first_round = 0;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < N; i++)
      for (int s = 0; s < 2; s++) {
        if (!cases[i][s]) continue;
        tk_problem p = problem_of(cases[i][s]);
        tk_choice ch = {0};
        CHECK_OK(tk_choose(ctx, &p, NULL, &ch));
        CHECK(ch.impl == first[i].impl && ch.source == first[i].source &&
                  (!ch.impl || tk_config_equal(ch.impl->space, &ch.cfg, &first[i].cfg)),
              "%s (round %d, seed %d): the call chose %s (%s), the key path %s (%s)", want[i].spec,
              round, 7 + s, ch.impl ? ch.impl->name : "-", tk_choice_source_name(ch.source),
              first[i].impl ? first[i].impl->name : "-", tk_choice_source_name(first[i].source));
        tk_plan *plan = NULL;
        CHECK_OK(tk_plan_create(ctx, TK_OP_GROUPED_GEMM, tk_case_args(cases[i][s]), NULL, &plan));
        CHECK(plan && tk_plan_source(plan) == first[i].source &&
                  strcmp(tk_plan_impl(plan), first[i].impl->name) == 0,
              "%s (round %d): plan source %s", want[i].spec, round,
              plan ? tk_choice_source_name(tk_plan_source(plan)) : "no plan");
        tk_plan_destroy(plan);
      }
    if (round == 0) memo_after_first_round = tk_tuned_map_memo_size(ctx->tuned);
  }
  /* Per spec and kind (call: with data; plan: without), one problem per
   * alignment of the two cases' buffers; repeats hit the memo. */
  CHECK(memo_after_first_round >= 2 * N && memo_after_first_round <= 4 * N &&
            tk_tuned_map_memo_size(ctx->tuned) == memo_after_first_round,
        "memo holds %d then %d problems, want %d to %d and no growth", memo_after_first_round,
        tk_tuned_map_memo_size(ctx->tuned), 2 * N, 4 * N);
  /* Threads choosing at once, while entries of another family are added
   * (each put empties the memo): every choice stays the key path's. */
  enum { THREADS = 3 };
  tk_problem probs[N];
  int n_probs = 0;
  for (int i = 0; i < N; i++)
    if (cases[i][0]) probs[n_probs++] = problem_of(cases[i][0]);
  memo_job jobs[THREADS];
  pthread_t th[THREADS];
  for (int t = 0; t < THREADS; t++) {
    jobs[t] = (memo_job){ctx, probs, first, n_probs, 0};
    pthread_create(&th[t], NULL, choose_many, &jobs[t]);
  }
  for (int i = 0; i < 300; i++) {
    char key[128];
    snprintf(key, sizeof key,
             "grouped_gemm:dtype=f32,out=f32,layout=nt,M=%d,K=8,N=8,G=1,strides=contig", 1 + i);
    tk_tuned_map_put(ctx->tuned, 0, key, "reference", "parallel=1");
  }
  for (int t = 0; t < THREADS; t++) {
    pthread_join(th[t], NULL);
    CHECK(jobs[t].mismatches == 0, "thread %d: %d choices differ from the key path", t,
          jobs[t].mismatches);
  }
  /* A new tuned entry (M=80) reaches the shapes answered by nearest: M=80
   * itself, and M=72, whose nearest it now is. */
  char k80[1024];
  key_of(GEMM(80), k80, sizeof k80);
  CHECK(tk_tuned_map_put(ctx->tuned, 0, k80, "reference", "parallel=1"), "put");
  for (int i = 3; i <= 4; i++) {
    if (!cases[i][0]) continue;
    tk_problem p = problem_of(cases[i][0]);
    tk_choice ch = {0};
    CHECK_OK(tk_choose(ctx, &p, NULL, &ch));
    CHECK(ch.source == (i == 3 ? TK_CHOICE_CACHE : TK_CHOICE_NEAREST) &&
              ch.impl->space->n_params == 1 && ch.cfg.v[0] == 1,
          "%s after a put: %s parallel=%d", want[i].spec, tk_choice_source_name(ch.source),
          ch.cfg.v[0]);
  }
  for (int i = 0; i < N; i++)
    for (int s = 0; s < 2; s++) tk_case_destroy(cases[i][s]);
  tk_context_destroy(ctx);
}

int main(void) {
  tc_make_dir();
  test_key_distance();
  test_key_reach();
  test_cached_choices();
  test_nearest_evidence();
  test_tune_on_miss();
  test_corrupt_cache();
  test_problem_bytes_defined();
  test_choice_memo();
  test_memo_matches_key_path();
  tc_remove_dir();
  TK_TEST_END();
}
