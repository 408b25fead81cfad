/* test_dispatch.c: the registry, forced impls and configs, plans,
 * introspection, config text, and one context shared by several threads. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "impls/registry.h"
#include "tests/tk_test.h"
#include "tokamax.h"

enum { M = 37, K = 19, N = 23, G = 3 };

typedef struct {
  float lhs[M * K], rhs[G * K * N], out[M * N];
  int32_t sizes[G];
  int64_t lhs_shape[2], rhs_shape[3], out_shape[2], sizes_shape[1];
  DLTensor t_lhs, t_rhs, t_out, t_sizes;
  tk_grouped_gemm_args args;
} gemm_case;

static uint64_t rng = 0x9e3779b97f4a7c15ull;
/* A random float in [-1, 1], never 0. */
static float frand(void) {
  rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
  float f = (float)((rng >> 40) & 0xffffff) / (float)0x800000 - 1.0f;
  return f == 0.0f ? 0.5f : f;
}

static DLTensor tensor(void *data, int ndim, int64_t *shape, DLDataType dt) {
  DLTensor t = {0};
  t.data = data;
  t.device.device_type = kDLCPU;
  t.ndim = ndim;
  t.dtype = dt;
  t.shape = shape;
  return t;
}

/* An NN grouped GEMM over random data with groups 10, 0, 20 (7 rows unused). */
static void gemm_init(gemm_case *c) {
  DLDataType f32 = {kDLFloat, 32, 1}, i32 = {kDLInt, 32, 1};
  for (int i = 0; i < M * K; i++) c->lhs[i] = frand();
  for (int i = 0; i < G * K * N; i++) c->rhs[i] = frand();
  for (int i = 0; i < M * N; i++) c->out[i] = frand();
  c->sizes[0] = 10, c->sizes[1] = 0, c->sizes[2] = 20;
  c->lhs_shape[0] = M, c->lhs_shape[1] = K;
  c->rhs_shape[0] = G, c->rhs_shape[1] = K, c->rhs_shape[2] = N;
  c->out_shape[0] = M, c->out_shape[1] = N;
  c->sizes_shape[0] = G;
  c->t_lhs = tensor(c->lhs, 2, c->lhs_shape, f32);
  c->t_rhs = tensor(c->rhs, 3, c->rhs_shape, f32);
  c->t_out = tensor(c->out, 2, c->out_shape, f32);
  c->t_sizes = tensor(c->sizes, 1, c->sizes_shape, i32);
  c->args = (tk_grouped_gemm_args){&c->t_lhs, &c->t_rhs, &c->t_sizes, &c->t_out, TK_GG_NN};
}

/* Max |out - lhs x rhs[g]| over the groups, and that unused rows are 0. */
static double gemm_error(const gemm_case *c) {
  double err = 0;
  int row = 0;
  for (int g = 0; g < G; g++)
    for (int r = 0; r < c->sizes[g]; r++, row++)
      for (int n = 0; n < N; n++) {
        double acc = 0;
        for (int k = 0; k < K; k++) acc += (double)c->lhs[row * K + k] * c->rhs[(g * K + k) * N + n];
        err = fmax(err, fabs(acc - c->out[row * N + n]));
      }
  for (; row < M; row++)
    for (int n = 0; n < N; n++) err = fmax(err, fabs(c->out[row * N + n]));
  return err;
}

static void test_registry(void) {
  for (int op = 0; op < TK_OP_COUNT; op++) {
    const char *names[16];
    int n = -1;
    CHECK_OK(tk_impl_list((tk_op)op, names, 16, &n));
    CHECK(n >= 1 && strcmp(names[n - 1], "reference") == 0, "op %d: reference last", op);
    tk_op back;
    CHECK_OK(tk_op_from_name(tk_op_name((tk_op)op), &back));
    CHECK(back == (tk_op)op, "op name round trip %d", op);
  }
  int n;
  CHECK(tk_impl_list(TK_OP_COUNT, NULL, 0, &n) == TK_ERR_INVALID_ARGUMENT, "bad op");
  tk_op op;
  CHECK(tk_op_from_name("matmul", &op) == TK_ERR_INVALID_ARGUMENT, "unknown op name");
  char buf[256];
  CHECK_OK(tk_impl_config_space(TK_OP_GROUPED_GEMM, "reference", buf, sizeof buf));
  CHECK(strcmp(buf, "parallel: 0 1\n") == 0, "reference space: '%s'", buf);
  char small[4] = "xyz";
  CHECK(tk_impl_config_space(TK_OP_GROUPED_GEMM, "reference", small, sizeof small) ==
            TK_ERR_INVALID_ARGUMENT && strcmp(small, "xyz") == 0, "too small buffer untouched");
  CHECK(tk_impl_config_space(TK_OP_GROUPED_GEMM, "nope", buf, sizeof buf) == TK_ERR_INVALID_ARGUMENT,
        "unknown impl");
}

typedef struct {
  int block, split;
} text_config;
static const tk_param_def text_params[] = {TK_PARAM(text_config, block, 16, 32, 64),
                                           TK_PARAM(text_config, split, 0, 1)};

static void test_config_text(void) {
  const tk_config_space space = {2, text_params, sizeof(text_config), NULL};
  tk_config c = {{32, 0}};
  CHECK_OK(tk_config_parse(&space, NULL, "split=1", &c));
  CHECK(c.v[0] == 32 && c.v[1] == 1, "partial config keeps the base");
  CHECK_OK(tk_config_parse(&space, NULL, " block=64 , split=0 ", &c));
  char text[64];
  tk_config_format(&space, &c, text, sizeof text);
  CHECK(strcmp(text, "block=64,split=0") == 0, "format: %s", text);
  const char *bad[] = {"block=48", "blok=16", "block", "block=1x", "block=16,block=32", "split=",
                       "block=99999999999"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tk_config before = c;
    CHECK(tk_config_parse(&space, NULL, bad[i], &c) == TK_ERR_INVALID_ARGUMENT, "'%s' rejected", bad[i]);
    CHECK(memcmp(&before, &c, sizeof c) == 0, "'%s' left the config unchanged", bad[i]);
    CHECK(strstr(tk_last_error(), "config") != NULL, "'%s': message %s", bad[i], tk_last_error());
  }
  CHECK(tk_config_space_size(&space) == 6, "space size");
  int seen[6] = {0};
  for (int64_t i = 0; i < 6; i++) {
    tk_config_nth(&space, i, &c);
    char why[64];
    CHECK(tk_config_valid(&space, NULL, &c, why, sizeof why), "nth %d valid", (int)i);
    seen[(c.v[0] / 32) * 2 + c.v[1]]++;
  }
  for (int i = 0; i < 6; i++) CHECK(seen[i] == 1, "combination %d enumerated once", i);
}

static void test_forced(tk_context *ctx) {
  gemm_case *c = malloc(sizeof *c);
  gemm_init(c);
  CHECK_OK(tk_grouped_gemm(ctx, &c->args, NULL));
  CHECK(gemm_error(c) < 1e-4, "auto result wrong: %g", gemm_error(c));
  for (int i = 0; i < M * N; i++) c->out[i] = frand();
  tk_call_options o = {"reference", "parallel=1"};
  CHECK_OK(tk_grouped_gemm(ctx, &c->args, &o));
  CHECK(gemm_error(c) < 1e-4, "forced result wrong");
  float before[M * N];
  memcpy(before, c->out, sizeof before);
  const tk_call_options bad[] = {{"nope", NULL}, {"reference", "parallel=2"},
                                 {"reference", "threads=1"}, {",", NULL}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    CHECK(tk_grouped_gemm(ctx, &c->args, &bad[i]) == TK_ERR_INVALID_ARGUMENT, "bad opts %zu", i);
    CHECK(memcmp(before, c->out, sizeof before) == 0, "bad opts %zu left out unchanged", i);
  }
  CHECK(strstr(tk_last_error(), "impl") != NULL, "message: %s", tk_last_error());
  tk_call_options list = {"nope_not_here, reference", NULL};
  CHECK(tk_grouped_gemm(ctx, &c->args, &list) == TK_ERR_INVALID_ARGUMENT, "unknown name in a list");

  /* CUDA tensors: the CPU reference does not run them. */
  c->t_lhs.device.device_type = c->t_rhs.device.device_type = kDLCUDA;
  c->t_out.device.device_type = c->t_sizes.device.device_type = kDLCUDA;
  char why[256];
  CHECK(tk_impl_supports(ctx, TK_OP_GROUPED_GEMM, "reference", &c->args, why, sizeof why) ==
            TK_ERR_UNSUPPORTED, "reference on CUDA tensors");
  CHECK(strstr(why, "CPU") != NULL, "why: %s", why);
  CHECK(tk_grouped_gemm(ctx, &c->args, NULL) == TK_ERR_UNSUPPORTED, "auto on CUDA tensors");
  c->t_lhs.device.device_type = c->t_rhs.device.device_type = kDLCPU;
  c->t_out.device.device_type = c->t_sizes.device.device_type = kDLCPU;
  CHECK_OK(tk_impl_supports(ctx, TK_OP_GROUPED_GEMM, "reference", &c->args, why, sizeof why));
  free(c);
}

static void test_plans(tk_context *ctx) {
  gemm_case *c = malloc(sizeof *c);
  gemm_init(c);
  /* A plan is made from shapes alone. */
  DLTensor l = c->t_lhs, r = c->t_rhs, o = c->t_out, s = c->t_sizes;
  l.data = r.data = o.data = s.data = NULL;
  tk_grouped_gemm_args shape_only = {&l, &r, &s, &o, TK_GG_NN};
  tk_plan *plan = NULL;
  CHECK_OK(tk_plan_create(ctx, TK_OP_GROUPED_GEMM, &shape_only, NULL, &plan));
  if (!plan) {
    free(c);
    return;
  }
  /* With nothing tuned, auto is the first implementation of the list that
   * runs the problem, in its heuristic config. */
  const char *names[16];
  int n_impls = 0;
  CHECK_OK(tk_impl_list(TK_OP_GROUPED_GEMM, names, 16, &n_impls));
  const char *first = NULL;
  char why[256];
  for (int i = 0; i < n_impls && i < 16 && !first; i++)
    if (tk_impl_supports(ctx, TK_OP_GROUPED_GEMM, names[i], &c->args, why, sizeof why) == TK_OK)
      first = names[i];
  CHECK(first && strcmp(tk_plan_impl(plan), first) == 0, "impl %s, want %s", tk_plan_impl(plan),
        first ? first : "?");
  CHECK(tk_plan_config(plan)[0] != '\0', "config %s", tk_plan_config(plan));
  CHECK(tk_plan_source(plan) == TK_CHOICE_HEURISTIC, "source");
  CHECK(strstr(tk_plan_problem_key(plan), "grouped_gemm") != NULL, "key %s", tk_plan_problem_key(plan));
  CHECK(tk_plan_run(plan, &shape_only) == TK_ERR_INVALID_ARGUMENT, "run without data");
  CHECK_OK(tk_plan_run(plan, &c->args));
  CHECK(gemm_error(c) < 1e-4, "plan result wrong");
  /* Another shape is another problem. */
  c->lhs_shape[0] = M - 1, c->out_shape[0] = M - 1;
  float before[M * N];
  memcpy(before, c->out, sizeof before);
  CHECK(tk_plan_run(plan, &c->args) == TK_ERR_INVALID_ARGUMENT, "other shape rejected");
  CHECK(memcmp(before, c->out, sizeof before) == 0, "rejected run wrote nothing");
  tk_plan_destroy(plan);

  tk_call_options forced = {"reference", "parallel=0"};
  plan = NULL;
  CHECK_OK(tk_plan_create(ctx, TK_OP_GROUPED_GEMM, &shape_only, &forced, &plan));
  CHECK(plan && tk_plan_source(plan) == TK_CHOICE_FORCED, "forced source");
  CHECK(plan && strcmp(tk_plan_config(plan), "parallel=0") == 0, "forced config");
  tk_plan_destroy(plan);
  tk_plan *none = (tk_plan *)&forced;
  CHECK(tk_plan_create(ctx, TK_OP_COUNT, &shape_only, NULL, &none) == TK_ERR_INVALID_ARGUMENT &&
            none == (tk_plan *)&forced, "bad op leaves *out");
  CHECK(tk_plan_create(NULL, TK_OP_GROUPED_GEMM, &shape_only, NULL, &none) == TK_ERR_INVALID_ARGUMENT,
        "NULL ctx");
  free(c);
}

typedef struct {
  tk_context *ctx;
  gemm_case c;
  int failures;
} thread_job;

static void *run_many(void *arg) {
  thread_job *j = arg;
  for (int it = 0; it < 20; it++) {
    tk_call_options o = {"reference", it % 2 ? "parallel=1" : "parallel=0"};
    if (tk_grouped_gemm(j->ctx, &j->c.args, &o) != TK_OK || gemm_error(&j->c) > 1e-4) j->failures++;
  }
  return NULL;
}

/* Four threads share one context; every result is right. */
static void test_shared_context(tk_context *ctx) {
  enum { THREADS = 4 };
  thread_job *jobs = calloc(THREADS, sizeof *jobs);
  pthread_t th[THREADS];
  for (int i = 0; i < THREADS; i++) {
    jobs[i].ctx = ctx;
    gemm_init(&jobs[i].c);
  }
  for (int i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, run_many, &jobs[i]);
  for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
  for (int i = 0; i < THREADS; i++) CHECK(jobs[i].failures == 0, "thread %d failed %d", i, jobs[i].failures);
  free(jobs);
}

int main(void) {
  tk_context *ctx = NULL;
  tk_context_options opts = {":memory:", 2, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&opts, &ctx));
  if (!ctx) TK_TEST_END();
  test_registry();
  test_config_text();
  test_forced(ctx);
  test_plans(ctx);
  test_shared_context(ctx);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
