/* test_cuda_on_miss: TK_TUNE_ON_MISS on tensors in CUDA device memory: the
 * first call of each op sweeps the CUDA implementations on the caller's own
 * data, still returns the right result, stores the best under the GPU's
 * fingerprint, and the next plan is a cache hit on a CUDA implementation.
 *
 * First, on any machine, the host-side pieces it rests on: the span of a
 * tensor with negative strides, and each op's input tensors. Then exits 77
 * (skipped) without CUDA or a device. */
#include <stdio.h>
#include <string.h>

#include "runtime/device.h"
#include "kernels/problem.h"
#include "regress/case.h"
#include "tests/test_cache_util.h"

/* tk_tensor_span covers exactly the addressed elements for any strides. */
static void check_spans(void) {
  tk_tensor t = {0};
  t.present = 1;
  t.ndim = 2;
  t.shape[0] = 3;
  t.shape[1] = 4;
  const int64_t strides[][2] = {{4, 1}, {-4, 1}, {1, -3}, {-5, -1}, {0, 1}};
  for (size_t k = 0; k < sizeof strides / sizeof strides[0]; k++) {
    t.stride[0] = strides[k][0];
    t.stride[1] = strides[k][1];
    int64_t lo = 0, hi = 0, first;
    for (int64_t i = 0; i < 3; i++)
      for (int64_t j = 0; j < 4; j++) {
        int64_t off = i * t.stride[0] + j * t.stride[1];
        lo = off < lo ? off : lo;
        hi = off > hi ? off : hi;
      }
    int64_t n = tk_tensor_span(&t, &first);
    CHECK(first == lo && n == hi - lo + 1, "strides {%lld,%lld}: span %lld from %lld, want %lld from %lld",
          (long long)t.stride[0], (long long)t.stride[1], (long long)n, (long long)first,
          (long long)(hi - lo + 1), (long long)lo);
  }
  t.shape[1] = 0;
  CHECK(tk_tensor_span(&t, &(int64_t){0}) == 0, "an empty tensor spans nothing");
}

static const char *const specs[] = {
    "grouped_gemm dtype=bf16 out=same layout=nn M=256 K=128 N=128 G=4 sizes=random",
    "attention dtype=bf16 B=1 Tq=64 Tk=96 Hq=4 Hkv=2 D=64 causal=1 lse=1 varlen=1",
    "moe_permute dtype=bf16 T=64 H=256 k=2 E=8 align=16",
    "moe_unpermute dtype=bf16 T=64 H=256 k=2 E=8 align=16 weights=1",
    "paged_attention dtype=bf16 Hq=4 Hkv=2 D=64 page=16 decode=3 prefill=1 qlen=5 kvmax=100",
};

/* Inputs and outputs of each op: every tensor of the case's args once. */
static void check_inputs(void) {
  static const int want_in[] = {3, 5, 2, 3, 6};
  for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
    tk_case *c = NULL;
    char err[256];
    CHECK_OK(tk_case_create(specs[k], 1, &c, err, sizeof err));
    if (!c) continue;
    tk_problem p;
    CHECK_OK(tk_problem_validate(tk_case_op(c), tk_case_args(c), 1, &p));
    tk_tensor *in[TK_MAX_INPUTS], *out[TK_MAX_OUTPUTS];
    int n_in = tk_problem_inputs(&p, in), n_out = tk_problem_outputs(&p, out), distinct = 1;
    for (int i = 0; i < n_in; i++)
      for (int j = 0; j < n_out; j++) distinct &= in[i] != out[j] && in[i]->data != out[j]->data;
    CHECK(n_in == want_in[k] && distinct, "%s: %d inputs (want %d), distinct from outputs: %d",
          specs[k], n_in, want_in[k], distinct);
    tk_case_destroy(c);
  }
}

static int count_best(void *user, const char *fp, const tk_cache_best *b) {
  (void)fp;
  (void)b;
  ++*(int *)user;
  return 0;
}

/* One op on device 0: the on-miss call, its result, the stored best, the hit. */
static void check_on_miss(const char *spec, tk_context *host, const tk_device_info *dev) {
  tk_case *c = NULL;
  tk_case_device *d = NULL;
  char err[256];
  CHECK_OK(tk_case_create(spec, 7, &c, err, sizeof err));
  if (c) CHECK_OK(tk_case_prepare_expected(c, host));
  if (c) CHECK_OK(tk_case_device_create(c, 0, &d, err, sizeof err));
  tk_context_options o = {tc_path("on_miss.db"), 0, TK_TUNE_ON_MISS, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!d || !ctx) goto done;
  CHECK_OK(tk_case_run_device(d, ctx, NULL));
  tk_case_report r;
  CHECK(tk_case_check(c, &r), "%s: the on-miss call's result: %s", spec, r.why);
  tk_plan *plan = NULL;
  CHECK_OK(tk_plan_create(ctx, tk_case_op(c), tk_case_device_args(d), NULL, &plan));
  if (plan) {
    const char *impl = tk_plan_impl(plan);
    CHECK(tk_plan_source(plan) == TK_CHOICE_CACHE, "%s: next plan from %s", spec,
          tk_choice_source_name(tk_plan_source(plan)));
    CHECK(strncmp(impl, "cuda", 4) == 0 || strcmp(impl, "cublas") == 0, "%s: tuned impl %s", spec,
          impl);
    char fp[512];
    tk_device_fingerprint_cuda(dev, 0, fp, sizeof fp);
    tk_cache *cache = NULL;
    int64_t id;
    int found = 0;
    CHECK_OK(tk_cache_open(o.cache_path, 0, 0, &cache));
    if (cache && tk_cache_device_id(cache, fp, NULL, &id) == TK_OK)
      CHECK_OK(tk_cache_get_best(cache, id, tk_op_name(tk_case_op(c)), tk_plan_problem_key(plan),
                                 count_best, &found, NULL));
    tk_cache_close(cache);
    CHECK(found == 1, "%s: %d best rows under %s", spec, found, fp);
    tk_plan_destroy(plan);
  }
done:
  tk_context_destroy(ctx);
  tk_case_device_destroy(d);
  tk_case_destroy(c);
}

int main(void) {
  check_spans();
  check_inputs();
  if (tk_test_failures) TK_TEST_END();
  tk_device_info dev;
  tk_device_detect(&dev);
  if (!dev.cuda_built || dev.cuda_device_count == 0) {
    printf("host-side checks passed; skipped the device runs: %s\n",
           dev.cuda_built ? dev.cuda_status : "built without CUDA");
    return 77;
  }
  tc_make_dir();
  tk_context_options o = {":memory:", 0, TK_TUNE_OFF, NULL};
  tk_context *host = NULL;
  CHECK_OK(tk_context_create(&o, &host));
  for (size_t k = 0; host && k < sizeof specs / sizeof specs[0]; k++)
    check_on_miss(specs[k], host, &dev);
  tk_context_destroy(host);
  tc_remove_dir();
  TK_TEST_END();
}
