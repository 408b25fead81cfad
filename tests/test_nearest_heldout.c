/* test_nearest_heldout: tuned dispatch never loses to the heuristic on
 * shapes that were not tuned. The quick suite is swept (cpu only) into a
 * scratch cache; a context over it then dispatches held-out shapes:
 *   - the bench suite's large shapes (8x the quick suite's rows and more),
 *     which are out of reach of every quick shape (key_distance.h), so the
 *     automatic choice must be the heuristic itself (asserted, not timed);
 *   - shapes within reach of a quick shape (key_distance.h), where the
 *     automatic choice is the nearest entry where that entry beat the
 *     heuristic's config by TK_NEAREST_MIN_GAIN on its own shape, else the
 *     heuristic itself (asserted). A nearest entry whose config is not the
 *     heuristic's is timed against impl=cpu (the heuristic) in one run,
 *     interleaved, medians of 9, and must be at least 0.95x as fast. A
 *     noisy, shared machine can slow either side, so a case that misses is
 *     measured again, twice at most; a real loss (issue 15 saw 1.2-1.7x)
 *     misses every time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "autotune/measure.h"
#include "impls/registry.h"
#include "runtime/context.h"
#include "runtime/device.h"
#include "regress/case.h"
#include "regress/case_sweep.h"
#include "tests/test_cache_util.h"

#define MIN_SPEEDUP 0.95
#define ROUNDS 9
#define ATTEMPTS 3
/* One library thread for the sweep and the timing alike: on a shared
 * 2-core machine another process's burst then slows a run, where with two
 * threads it stalls the pool's barrier on the descheduled one, and how much
 * depends on the config's task count, which reorders the configs. */
#define THREADS 1

/* Held out: the bench suite's large grouped GEMM (balanced and ragged, f32
 * and bf16) and attention shapes. Out of reach: must be the heuristic. */
static const char *const far_specs[] = {
    "grouped_gemm dtype=f32 out=f32 layout=nn M=4096 K=2048 N=2048 G=8 sizes=balanced",
    "grouped_gemm dtype=bf16 out=same layout=nn M=4096 K=2048 N=2048 G=8 sizes=balanced",
    "grouped_gemm dtype=f32 out=f32 layout=nn M=1024 K=4096 N=1000 G=64 sizes=random empty=2",
    "grouped_gemm dtype=bf16 out=same layout=nn M=1024 K=4096 N=1000 G=64 sizes=random empty=2",
    "grouped_gemm dtype=f32 out=f32 layout=nn M=1024 K=512 N=512 G=8 sizes=balanced",
    "attention dtype=bf16 B=1 Tq=2048 Tk=2048 Hq=32 Hkv=8 D=128 causal=1",
    "attention dtype=f32 B=1 Tq=1024 Tk=1024 Hq=16 Hkv=4 D=128 causal=0",
    "moe_unpermute dtype=bf16 T=4096 H=2048 k=8 E=128 align=16",
    "attention dtype=bf16 B=1 Tq=512 Tk=512 Hq=32 Hkv=8 D=128 causal=1",
};

/* Held out, within reach of a quick shape: attention with 1.25x or 1.33x
 * the tokens (2x is out of reach: the last far shape), grouped GEMMs with the layer's K and N and fewer rows per group
 * (key_distance.h). */
static const char *const near_specs[] = {
    "grouped_gemm dtype=f32 out=f32 layout=nn M=384 K=512 N=512 G=8 sizes=balanced",
    "grouped_gemm dtype=bf16 out=same layout=nn M=384 K=1024 N=384 G=8 sizes=zipf",
    "grouped_gemm dtype=bf16 out=f32 layout=nn M=256 K=512 N=256 G=96 sizes=zipf empty=16",
    "attention dtype=bf16 B=1 Tq=320 Tk=320 Hq=32 Hkv=8 D=128 causal=1",
    "attention dtype=f32 B=1 Tq=256 Tk=256 Hq=16 Hkv=4 D=128 causal=0",
};

#define N_OF(a) (int)(sizeof a / sizeof a[0])

/* Sweeps every quick spec with the cpu impl into the cache at db. */
static void sweep_quick(const char *db) {
  tk_suite suite;
  char err[512];
  CHECK_OK(tk_suite_load("quick", &suite, err, sizeof err));
  tk_context_options o = {db, THREADS, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  tk_cache *cache = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  CHECK_OK(tk_cache_open(db, TK_CACHE_CREATE, 0, &cache));
  if (!ctx || !cache) exit(1);
  char fp[512];
  tk_device_fingerprint_cpu(&ctx->dev, fp, sizeof fp);
  tk_sweep_options so = tk_sweep_defaults();
  so.impls = "cpu";
  for (int i = 0; i < suite.count; i++) {
    case_target_options to = {1, -1, NULL};
    case_target *ct = NULL;
    tk_sweep_target t;
    tk_sweep_summary sum;
    tk_status s = case_target_create(ctx, suite.specs[i], &to, &ct, &t, err, sizeof err);
    CHECK(s == TK_OK, "%s: %s", suite.specs[i], err);
    if (s == TK_OK) CHECK_OK(tk_sweep_problem(ctx, cache, fp, &t, &so, &sum));
    case_target_destroy(ct);
  }
  tk_cache_close(cache);
  tk_context_destroy(ctx);
  tk_suite_free(&suite);
}

/* The choice plan runs, for the target's problem. */
static tk_choice choice_of(const tk_plan *plan, const tk_problem *p, const tk_device_info *dev) {
  tk_choice c;
  memset(&c, 0, sizeof c);
  c.impl = tk_registry_find(p->op, tk_plan_impl(plan));
  c.source = TK_CHOICE_FORCED;
  if (!c.impl) return c;
  tk_config_heuristic(c.impl, p, dev, &c.cfg);
  CHECK_OK(tk_config_parse(c.impl->space, p, tk_plan_config(plan), &c.cfg));
  return c;
}

/* Medians over ROUNDS interleaved runs of choices a and b, timed as the
 * sweep times (the target rotates input copies, so caches do not flatter
 * the smaller tiles); 0 on a failed run. */
static int time_pair(const tk_sweep_target *t, const tk_choice *a, const tk_choice *b,
                     double *t_a, double *t_b) {
  double xa[ROUNDS], xb[ROUNDS];
  int rep = 0;
  if (t->run(t->user, a, rep++, NULL) != TK_OK || t->run(t->user, b, rep++, NULL) != TK_OK)
    return 0;
  for (int r = 0; r < ROUNDS; r++)
    for (int side = 0; side < 2; side++) {
      /* alternate which side runs first, so neither always follows the other */
      int second = (side + r) & 1;
      double self = -1, t0 = tk_now_ns();
      if (t->run(t->user, second ? b : a, rep++, &self) != TK_OK) return 0;
      (second ? xb : xa)[r] = self >= 0 ? self : tk_now_ns() - t0;
    }
  *t_a = tk_quantile(xa, ROUNDS, 0.5);
  *t_b = tk_quantile(xb, ROUNDS, 0.5);
  return 1;
}

/* The automatic plan of spec on ctx and the heuristic's (impl=cpu); 0 when
 * either failed (counted). */
static int plans_of(tk_context *ctx, tk_op op, const void *args, tk_plan **autop, tk_plan **heur) {
  tk_call_options cpu = {"cpu", NULL};
  CHECK_OK(tk_plan_create(ctx, op, args, NULL, autop));
  CHECK_OK(tk_plan_create(ctx, op, args, &cpu, heur));
  return *autop && *heur;
}

/* A bench-sized spec: out of reach of every quick shape, so the automatic
 * choice is the heuristic, the same impl and config as impl=cpu. */
static void far_case(tk_context *ctx, const char *spec) {
  char err[256];
  tk_case *c = NULL;
  CHECK_OK(tk_case_create(spec, 3, &c, err, sizeof err));
  tk_plan *autop = NULL, *heur = NULL;
  if (c && plans_of(ctx, tk_case_op(c), tk_case_args(c), &autop, &heur)) {
    CHECK(tk_plan_source(autop) == TK_CHOICE_HEURISTIC && strcmp(tk_plan_impl(autop), "cpu") == 0 &&
              strcmp(tk_plan_config(autop), tk_plan_config(heur)) == 0,
          "%s: %s %s %s, impl=cpu %s", spec, tk_choice_source_name(tk_plan_source(autop)),
          tk_plan_impl(autop), tk_plan_config(autop), tk_plan_config(heur));
    printf("%-90s %s %s\n", spec, tk_choice_source_name(tk_plan_source(autop)), tk_plan_config(autop));
  }
  tk_plan_destroy(autop);
  tk_plan_destroy(heur);
  tk_case_destroy(c);
}

/* A spec within reach of a quick shape: the automatic choice is the
 * nearest entry or (without a clear win there) the heuristic, and when it
 * is not the heuristic's config it runs at least MIN_SPEEDUP times as
 * fast (best of ATTEMPTS interleaved timings). */
static void near_case(tk_context *ctx, const char *spec) {
  char err[512];
  case_target_options to = {3, -1, "cpu"}; /* the cpu oracle: only timing matters here */
  case_target *ct = NULL;
  tk_sweep_target t;
  CHECK_OK(case_target_create(ctx, spec, &to, &ct, &t, err, sizeof err));
  tk_case *c = NULL; /* the same spec and seed, for the plans (the target keeps its case) */
  CHECK_OK(tk_case_create(spec, 3, &c, err, sizeof err));
  tk_plan *autop = NULL, *heur = NULL;
  const tk_problem *p = ct ? t.problem : NULL;
  if (ct && c && plans_of(ctx, p->op, tk_case_args(c), &autop, &heur)) {
    tk_choice_source src = tk_plan_source(autop);
    CHECK(src == TK_CHOICE_NEAREST || src == TK_CHOICE_HEURISTIC,
          "%s: source %s (%s %s), want nearest or heuristic", spec, tk_choice_source_name(src),
          tk_plan_impl(autop), tk_plan_config(autop));
    if (strcmp(tk_plan_impl(autop), "cpu") == 0 && strcmp(tk_plan_config(autop), tk_plan_config(heur)) == 0) {
      printf("%-90s %s = heuristic %s\n", spec, tk_choice_source_name(src), tk_plan_config(autop));
    } else if (src == TK_CHOICE_HEURISTIC) {
      CHECK(0, "%s: the heuristic's choice %s %s differs from impl=cpu's %s", spec,
            tk_plan_impl(autop), tk_plan_config(autop), tk_plan_config(heur));
    } else {
      tk_choice a = choice_of(autop, p, &ctx->dev), h = choice_of(heur, p, &ctx->dev);
      double ta = 0, th = 0, best = 0;
      for (int attempt = 0; attempt < ATTEMPTS && best < MIN_SPEEDUP && a.impl && h.impl; attempt++) {
        CHECK(time_pair(&t, &a, &h, &ta, &th), "%s: run failed: %s", spec, tk_last_error());
        if (ta > 0 && th / ta > best) best = th / ta;
      }
      printf("%-90s nearest %s vs heuristic %s: %.3fx\n", spec, tk_plan_config(autop),
             tk_plan_config(heur), best);
      CHECK(best >= MIN_SPEEDUP, "%s: the nearest entry's %s runs at %.3fx the heuristic's %s",
            spec, tk_plan_config(autop), best, tk_plan_config(heur));
    }
  }
  tk_plan_destroy(autop);
  tk_plan_destroy(heur);
  tk_case_destroy(c);
  case_target_destroy(ct);
}

int main(void) {
  if (!tk_isa_has(tk_cpu_isa(), TK_ISA_LEVEL_AVX2)) {
    printf("the cpu implementations need AVX2, FMA and F16C; skipping\n");
    return 77;
  }
  tc_make_dir();
  const char *db = tc_path("quick.db");
  sweep_quick(db);
  tk_context_options o = {db, THREADS, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (ctx) {
    for (int i = 0; i < N_OF(far_specs); i++) far_case(ctx, far_specs[i]);
    for (int i = 0; i < N_OF(near_specs); i++) near_case(ctx, near_specs[i]);
  }
  tk_context_destroy(ctx);
  tc_remove_dir();
  TK_TEST_END();
}
