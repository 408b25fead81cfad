/* test_tuned_dispatch: dispatch through the tuning cache: an exact hit, the
 * nearest tuned shape of the same family, the heuristic for another family,
 * cached entries that are invalid (bad config, unknown impl) ignored, the
 * nearest-shape rule itself, and TK_TUNE_ON_MISS sweeping and storing a
 * shape on the caller's data without disturbing the caller's result. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/key_distance.h"
#include "kernels/runtime/context.h"
#include "regress/case.h"
#include "test_cache_util.h"

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

/* The key of spec, from a context without a cache. */
static void key_of(const char *spec, char *key, size_t len) {
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  CHECK_OK(tk_context_create(&o, &ctx));
  tk_case *c = NULL;
  tk_plan *plan = plan_of(ctx, spec, &c);
  snprintf(key, len, "%s", plan ? tk_plan_problem_key(plan) : "");
  tk_plan_destroy(plan);
  tk_case_destroy(c);
  tk_context_destroy(ctx);
}

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
      {GEMM(80), TK_CHOICE_NEAREST, "reference", "parallel=0"},  /* other size, same family */
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

int main(void) {
  tc_make_dir();
  test_key_distance();
  test_cached_choices();
  test_tune_on_miss();
  test_corrupt_cache();
  tc_remove_dir();
  TK_TEST_END();
}
