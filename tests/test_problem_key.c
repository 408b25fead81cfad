/* test_problem_key.c: the canonical problem key is equal for equal problems
 * and differs when anything that changes the kernel differs. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "regress/case.h"
#include "tests/tk_test.h"

/* The key a plan for spec gets; "" on failure. */
static void key_of(tk_context *ctx, const char *spec, uint64_t seed, char *out, size_t len) {
  char err[256];
  tk_case *c = NULL;
  out[0] = '\0';
  tk_status s = tk_case_create(spec, seed, &c, err, sizeof err);
  CHECK(s == TK_OK, "%s: %s", spec, err);
  if (s != TK_OK) return;
  tk_plan *plan = NULL;
  CHECK_OK(tk_plan_create(ctx, tk_case_op(c), tk_case_args(c), NULL, &plan));
  if (plan) snprintf(out, len, "%s", tk_plan_problem_key(plan));
  tk_plan_destroy(plan);
  tk_case_destroy(c);
}

/* Each row: a base spec, then variants that each change one thing. */
static const char *const families[][6] = {
    {"attention dtype=bf16 B=1 Tq=16 Tk=16 Hq=4 Hkv=2 D=64",
     "attention dtype=f16 B=1 Tq=16 Tk=16 Hq=4 Hkv=2 D=64",
     "attention dtype=bf16 B=1 Tq=16 Tk=24 Hq=4 Hkv=2 D=64",
     "attention dtype=bf16 B=1 Tq=16 Tk=16 Hq=4 Hkv=2 D=64 causal=1",
     "attention dtype=bf16 B=1 Tq=16 Tk=16 Hq=4 Hkv=2 D=64 softcap=50",
     "attention dtype=bf16 B=1 Tq=16 Tk=16 Hq=4 Hkv=2 D=64 strided=1"},
    {"grouped_gemm dtype=bf16 layout=nn M=40 K=32 N=16 G=4",
     "grouped_gemm dtype=bf16 layout=nt M=40 K=32 N=16 G=4",
     "grouped_gemm dtype=bf16 layout=nn M=40 K=32 N=16 G=5",
     "grouped_gemm dtype=bf16 out=same layout=nn M=40 K=32 N=16 G=4",
     "grouped_gemm dtype=f32 layout=nn M=40 K=32 N=16 G=4",
     "grouped_gemm dtype=bf16 layout=nn M=40 K=32 N=24 G=4"},
    {"moe_permute dtype=bf16 T=16 H=32 k=2 E=8 align=1",
     "moe_permute dtype=bf16 T=16 H=32 k=2 E=8 align=16",
     "moe_permute dtype=bf16 T=16 H=32 k=1 E=8 align=1",
     "moe_permute dtype=bf16 T=16 H=32 k=2 E=4 align=1",
     "moe_permute dtype=f32 T=16 H=32 k=2 E=8 align=1",
     "moe_permute dtype=bf16 T=16 H=64 k=2 E=8 align=1"},
    {"paged_attention dtype=bf16 Hq=4 Hkv=1 D=64 page=16 decode=2 prefill=0 kvmax=40",
     "paged_attention dtype=bf16 Hq=4 Hkv=1 D=64 page=16 decode=2 prefill=1 qlen=5 kvmax=40",
     "paged_attention dtype=bf16 Hq=4 Hkv=1 D=64 page=1 decode=2 prefill=0 kvmax=40",
     "paged_attention dtype=bf16 Hq=4 Hkv=1 D=64 page=16 decode=2 prefill=0 kvmax=40 window=8",
     "paged_attention dtype=bf16 Hq=4 Hkv=2 D=64 page=16 decode=2 prefill=0 kvmax=40",
     "paged_attention dtype=f16 Hq=4 Hkv=1 D=64 page=16 decode=2 prefill=0 kvmax=40"},
};

int main(void) {
  tk_context *ctx = NULL;
  tk_context_options opts = {":memory:", 1, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&opts, &ctx));
  if (!ctx) TK_TEST_END();
  for (size_t f = 0; f < sizeof families / sizeof families[0]; f++) {
    char keys[6][1024];
    for (int i = 0; i < 6; i++) key_of(ctx, families[f][i], 7, keys[i], sizeof keys[i]);
    char again[1024];
    key_of(ctx, families[f][0], 7, again, sizeof again);
    CHECK(keys[0][0] && strcmp(again, keys[0]) == 0, "same spec, same key: %s", keys[0]);
    CHECK(strncmp(keys[0], families[f][0], strcspn(families[f][0], " ")) == 0,
          "key starts with the op: %s", keys[0]);
    for (int i = 0; i < 6; i++)
      for (int j = i + 1; j < 6; j++)
        CHECK(strcmp(keys[i], keys[j]) != 0, "'%s' and '%s' share key %s", families[f][i],
              families[f][j], keys[i]);
  }
  /* Runtime group sizes are not part of the key: two seeds, one key. */
  const char *ragged = "grouped_gemm dtype=bf16 layout=nn M=64 K=16 N=16 G=8 sizes=random";
  char k1[1024], k2[1024];
  key_of(ctx, ragged, 1, k1, sizeof k1);
  key_of(ctx, ragged, 2, k2, sizeof k2);
  CHECK(k1[0] && strcmp(k1, k2) == 0, "group sizes changed the key: %s vs %s", k1, k2);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
