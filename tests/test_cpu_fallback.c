/* test_cpu_fallback: on a CPU without AVX2 (simulated: ctest runs this with
 * TOKAMAX_CPU_ISA=none) every cpu implementation reports unsupported with a
 * reason, and each op still runs, through the reference: automatic choice,
 * plans, and a forced "cpu,reference" list; forcing "cpu" alone is
 * TK_ERR_UNSUPPORTED, not a crash. */
#include <string.h>

#include "runtime/device.h"
#include "regress/case.h"
#include "tests/tk_test.h"

/* One small case per op. */
static const char *const SPECS[] = {
    "attention dtype=bf16 B=1 Tq=16 Tk=24 Hq=4 Hkv=2 D=32 causal=1",
    "grouped_gemm dtype=bf16 M=40 K=32 N=24 G=3",
    "moe_permute dtype=bf16 T=20 H=32 k=2 E=4 align=4",
    "moe_unpermute dtype=f16 T=20 H=32 k=2 E=4",
    "paged_attention dtype=bf16 Hq=4 Hkv=2 D=32 page=8 decode=2 prefill=1 qlen=4 kvmax=40",
};

/* 1 if op has an implementation called "cpu". */
static int has_cpu_impl(tk_op op) {
  const char *names[16];
  int count = 0;
  if (tk_impl_list(op, names, 16, &count) != TK_OK) return 0;
  for (int i = 0; i < count && i < 16; i++)
    if (strcmp(names[i], "cpu") == 0) return 1;
  return 0;
}

/* Runs c with opts and checks the result against the reference. */
static void run_checked(tk_case *c, tk_context *ctx, const tk_call_options *opts, const char *how) {
  tk_status st = tk_case_run(c, ctx, opts);
  CHECK(st == TK_OK, "%s | %s: %s: %s", tk_case_spec(c), how, tk_status_string(st),
        tk_last_error());
  tk_case_report r;
  CHECK(st != TK_OK || tk_case_check(c, &r), "%s | %s: %s", tk_case_spec(c), how, r.why);
}

/* The fallback checks for one op's case. Returns 1 if the op has a cpu impl. */
static int check_op(tk_context *ctx, const char *spec) {
  char err[256], why[512] = "";
  tk_case *c = NULL;
  tk_status st = tk_case_create(spec, 5, &c, err, sizeof err);
  CHECK(st == TK_OK, "%s: %s", spec, err);
  if (st != TK_OK) return 0;
  tk_op op = tk_case_op(c);
  CHECK_OK(tk_case_prepare_expected(c, ctx));
  int has_cpu = has_cpu_impl(op);
  if (has_cpu) {
    st = tk_impl_supports(ctx, op, "cpu", tk_case_args(c), why, sizeof why);
    CHECK(st == TK_ERR_UNSUPPORTED && why[0], "%s: cpu supports says %s (%s)", spec,
          tk_status_string(st), why);
    tk_call_options only_cpu = {"cpu", NULL};
    st = tk_case_run(c, ctx, &only_cpu);
    CHECK(st == TK_ERR_UNSUPPORTED, "%s: forced cpu gave %s: %s", spec, tk_status_string(st),
          tk_last_error());
    tk_call_options cpu_then_ref = {"cpu,reference", NULL};
    run_checked(c, ctx, &cpu_then_ref, "cpu,reference");
  } else {
    printf("%s: no cpu implementation registered\n", spec);
  }
  run_checked(c, ctx, NULL, "auto");
  tk_plan *plan = NULL;
  CHECK_OK(tk_plan_create(ctx, op, tk_case_args(c), NULL, &plan));
  if (plan) {
    CHECK(strcmp(tk_plan_impl(plan), "reference") == 0, "%s: auto plan chose %s", spec,
          tk_plan_impl(plan));
    tk_plan_destroy(plan);
  }
  tk_case_destroy(c);
  return has_cpu;
}

int main(void) {
  CHECK(tk_cpu_isa() == 0,
        "TOKAMAX_CPU_ISA=none should leave no ISA bits, got 0x%x (run through ctest)",
        tk_cpu_isa());
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) TK_TEST_END();
  int with_cpu = 0;
  for (size_t i = 0; i < sizeof SPECS / sizeof *SPECS; i++) with_cpu += check_op(ctx, SPECS[i]);
  CHECK(with_cpu > 0, "no op has a cpu implementation to check");
  printf("%d of %d ops have a cpu implementation\n", with_cpu, (int)(sizeof SPECS / sizeof *SPECS));
  tk_context_destroy(ctx);
  TK_TEST_END();
}
