/* test_runtime.c: status strings, thread-local errors, context options and
 * describe, the thread pool, ISA detection, and silence without TOKAMAX_LOG. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/device.h"
#include "runtime/thread_pool.h"
#include "tests/tk_test.h"
#include "tokamax.h"

/* ---------------------------------------------------------------- status */

static void test_status_strings(void) {
  const tk_status all[] = {TK_OK,         TK_ERR_INVALID_ARGUMENT, TK_ERR_UNSUPPORTED,
                           TK_ERR_OUT_OF_MEMORY, TK_ERR_DEVICE, TK_ERR_CACHE,
                           TK_ERR_INTERNAL};
  const int n = (int)(sizeof all / sizeof all[0]);
  for (int i = 0; i < n; i++) {
    const char *a = tk_status_string(all[i]);
    CHECK(a && a[0], "status %d has no name", (int)all[i]);
    if (!a) continue;
    for (int j = 0; j < i; j++)
      CHECK(strcmp(a, tk_status_string(all[j])) != 0, "statuses %d and %d share \"%s\"",
            (int)all[i], (int)all[j], a);
  }
  CHECK(strcmp(tk_status_string(TK_ERR_INVALID_ARGUMENT), "TK_ERR_INVALID_ARGUMENT") == 0, "name");
  const char *odd = tk_status_string((tk_status)(37 + rand() % 100));
  CHECK(odd != NULL && odd[0], "an out-of-range status has no name");
  CHECK(strcmp(tk_version(), "0.1.0") == 0, "version %s", tk_version());
}

/* A thread that makes a failing call and reports its own message. */
static void *failing_thread(void *arg) {
  tk_context_options o = {NULL, -1, TK_TUNE_OFF, NULL};
  tk_context *ctx = (tk_context *)arg;
  tk_status s = tk_context_create(&o, &ctx);
  return (void *)(intptr_t)(s == TK_ERR_INVALID_ARGUMENT && strstr(tk_last_error(), "num_threads") &&
                            ctx == (tk_context *)arg);
}

/* A thread that has made no call: its message is empty. */
static void *quiet_thread(void *arg) {
  (void)arg;
  return (void *)(intptr_t)(tk_last_error()[0] == '\0');
}

static void test_error_is_thread_local(void) {
  tk_context *sentinel = (tk_context *)(uintptr_t)0x1234;
  pthread_t a, b;
  void *ra = NULL, *rb = NULL;
  pthread_create(&a, NULL, failing_thread, sentinel);
  pthread_join(a, &ra);
  CHECK(ra == (void *)1, "the failing thread did not see its own message");
  /* main fails too; a fresh thread still sees "" */
  tk_context_options o = {NULL, 5000, TK_TUNE_OFF, NULL};
  tk_context *ctx = sentinel;
  CHECK(tk_context_create(&o, &ctx) == TK_ERR_INVALID_ARGUMENT, "num_threads 5000 accepted");
  CHECK(tk_last_error()[0] != '\0', "no message on main");
  pthread_create(&b, NULL, quiet_thread, NULL);
  pthread_join(b, &rb);
  CHECK(rb == (void *)1, "another thread sees main's message");
  CHECK(strstr(tk_last_error(), "num_threads") != NULL, "main lost its message: %s",
        tk_last_error());
}

/* ---------------------------------------------------------------- context */

static void expect_bad_options(tk_context_options o, const char *field) {
  tk_context *sentinel = (tk_context *)(uintptr_t)0xdead0;
  tk_context *ctx = sentinel;
  tk_status s = tk_context_create(&o, &ctx);
  CHECK(s == TK_ERR_INVALID_ARGUMENT, "%s: got %s", field, tk_status_string(s));
  CHECK(strstr(tk_last_error(), field) != NULL, "%s: message \"%s\" does not name it", field,
        tk_last_error());
  CHECK(ctx == sentinel, "%s: *out was written", field);
}

static void test_bad_options(void) {
  tk_context_options o = {NULL, -1 - rand() % 100, TK_TUNE_OFF, NULL};
  expect_bad_options(o, "num_threads");
  o.num_threads = 4097 + rand() % 1000;
  expect_bad_options(o, "num_threads");
  o.num_threads = 1;
  o.tune = 2 + rand() % 50;
  expect_bad_options(o, "tune");
  o.tune = -1;
  expect_bad_options(o, "tune");
  CHECK(tk_context_create(NULL, NULL) == TK_ERR_INVALID_ARGUMENT, "out NULL accepted");
  CHECK(strstr(tk_last_error(), "out") != NULL, "message: %s", tk_last_error());
  char buf[8] = "unused";
  CHECK(tk_context_describe(NULL, buf, sizeof buf) == TK_ERR_INVALID_ARGUMENT, "NULL ctx");
  tk_context_destroy(NULL);
}

static void test_context_describe(void) {
  tk_context_options o = {":memory:", 2, TK_TUNE_OFF, NULL};
  tk_context *ctx = NULL;
  CHECK_OK(tk_context_create(&o, &ctx));
  if (!ctx) return;
  CHECK(tk_last_error()[0] == '\0', "success left a message: %s", tk_last_error());
  CHECK(tk_context_num_threads(ctx) == 2, "num_threads %d", tk_context_num_threads(ctx));

  tk_device_info dev;
  tk_device_detect(&dev);
  CHECK(dev.vendor[0] != '\0', "no vendor");
  CHECK(dev.physical_cores >= 1 && dev.logical_cpus >= dev.physical_cores, "cores %d cpus %d",
        dev.physical_cores, dev.logical_cpus);
  CHECK(dev.ident_source && dev.topology_source, "sources missing");
  char isa[256];
  tk_isa_string(dev.isa, isa, sizeof isa);

  char big[16384];
  memset(big, 'x', sizeof big);
  CHECK_OK(tk_context_describe(ctx, big, sizeof big));
  const size_t n = strnlen(big, sizeof big);
  CHECK(n < sizeof big && big[0] == '{' && big[n - 1] == '}', "not one object: %.200s", big);
  char want[128];
  snprintf(want, sizeof want, "\"vendor\":\"%s\"", dev.vendor);
  CHECK(strstr(big, want) != NULL, "no %s in %s", want, big);
  CHECK(strstr(big, "\"num_threads\":2") != NULL, "no num_threads in %s", big);
  CHECK(strstr(big, "\"cache_path\":\":memory:\"") != NULL, "no cache_path in %s", big);
  CHECK(strstr(big, "\"isa\":[") != NULL, "no isa list in %s", big);
  if (dev.isa & TK_ISA_AVX2) CHECK(strstr(big, "\"avx2\"") != NULL, "avx2 missing: %s", big);
  if (dev.cuda_device_count == 0)
    CHECK(strstr(big, "\"device_count\":0") && strstr(big, dev.cuda_built ? "no CUDA device"
                                                                           : "built without CUDA"),
          "cuda part: %s", big);
  int depth = 0, min_depth = 1;
  for (size_t i = 0; i < n; i++) { /* braces balance (no brace appears inside strings here) */
    depth += big[i] == '{' || big[i] == '[';
    depth -= big[i] == '}' || big[i] == ']';
    if (i + 1 < n && depth < min_depth) min_depth = depth;
  }
  CHECK(depth == 0 && min_depth >= 1, "unbalanced JSON: %s", big);

  /* too small by one byte, and a tiny one: an error naming the size, buf untouched */
  const size_t sizes[2] = {n, 1 + (size_t)(rand() % 16)};
  for (int k = 0; k < 2; k++) {
    char small[16384], copy[16384];
    for (size_t i = 0; i < sizeof small; i++) small[i] = (char)(rand() & 0x7f);
    memcpy(copy, small, sizeof small);
    CHECK(tk_context_describe(ctx, small, sizes[k]) == TK_ERR_INVALID_ARGUMENT,
          "size %zu accepted", sizes[k]);
    char needed[32];
    snprintf(needed, sizeof needed, "%zu", n + 1);
    CHECK(strstr(tk_last_error(), needed) != NULL, "message \"%s\" lacks %s", tk_last_error(),
          needed);
    CHECK(memcmp(small, copy, sizeof small) == 0, "buf written with len %zu", sizes[k]);
  }
  CHECK(tk_context_describe(ctx, NULL, 0) == TK_ERR_INVALID_ARGUMENT, "NULL buf accepted");
  char exact[16384];
  CHECK_OK(tk_context_describe(ctx, exact, n + 1));
  CHECK(strcmp(exact, big) == 0, "exact-size output differs");
  tk_context_destroy(ctx);

  /* defaults: one thread per physical core, a cache path from the environment */
  ctx = NULL;
  CHECK_OK(tk_context_create(NULL, &ctx));
  if (ctx) {
    CHECK(tk_context_num_threads(ctx) == dev.physical_cores, "default threads %d, cores %d",
          tk_context_num_threads(ctx), dev.physical_cores);
    tk_context_destroy(ctx);
  }
}

/* ---------------------------------------------------------------- pool */

typedef struct {
  atomic_int *count;
  int n_threads;
  atomic_int bad_worker;
} pool_job;

static void count_task(void *arg, int64_t t, int worker) {
  pool_job *j = arg;
  if (worker < 0 || worker >= j->n_threads) atomic_fetch_add(&j->bad_worker, 1);
  atomic_fetch_add(&j->count[t], 1);
}

/* Runs n tasks on p and checks each ran exactly once. */
static int run_and_count(tk_pool *p, int64_t n) {
  pool_job j = {calloc((size_t)n + 1, sizeof(atomic_int)), tk_pool_size(p), 0};
  if (!j.count) return 0;
  tk_pool_run(p, n, count_task, &j);
  int ok = atomic_load(&j.bad_worker) == 0;
  for (int64_t t = 0; t < n; t++) ok &= atomic_load(&j.count[t]) == 1;
  ok &= atomic_load(&j.count[n]) == 0; /* nothing past the end */
  free(j.count);
  return ok;
}

typedef struct {
  tk_pool *pool;
  int ok;
} concurrent_caller;

static void *caller_main(void *arg) {
  concurrent_caller *c = arg;
  c->ok = 1;
  for (int rep = 0; rep < 30; rep++) c->ok &= run_and_count(c->pool, 1 + rep * 37 % 500);
  return NULL;
}

static void test_pool(void) {
  const int threads[] = {1, 2, 4};
  const int64_t tasks[] = {0, 1, 7, 1000};
  for (int i = 0; i < 3; i++) {
    tk_pool *p = NULL;
    CHECK_OK(tk_pool_create(threads[i], i == 1, &p));
    if (!p) continue;
    CHECK(tk_pool_size(p) == threads[i], "size %d", tk_pool_size(p));
    for (int k = 0; k < 4; k++)
      for (int rep = 0; rep < 3; rep++)
        CHECK(run_and_count(p, tasks[k]), "%d threads, %lld tasks", threads[i],
              (long long)tasks[k]);
    concurrent_caller c[3];
    pthread_t th[3];
    for (int t = 0; t < 3; t++) {
      c[t].pool = p;
      pthread_create(&th[t], NULL, caller_main, &c[t]);
    }
    for (int t = 0; t < 3; t++) {
      pthread_join(th[t], NULL);
      CHECK(c[t].ok, "concurrent caller %d on %d threads", t, threads[i]);
    }
    tk_pool_destroy(p);
  }
  tk_pool *p = (tk_pool *)(uintptr_t)0x77;
  CHECK(tk_pool_create(0, 0, &p) == TK_ERR_INVALID_ARGUMENT && p == (tk_pool *)(uintptr_t)0x77,
        "0 threads accepted");
}

/* ---------------------------------------------------------------- ISA */

static void test_isa_matches_gcc(void) {
  __builtin_cpu_init();
  const unsigned isa = tk_cpu_isa();
  const struct {
    unsigned bit;
    int gcc;
    const char *name;
  } f[] = {{TK_ISA_AVX2, !!__builtin_cpu_supports("avx2"), "avx2"},
           {TK_ISA_FMA, !!__builtin_cpu_supports("fma"), "fma"},
           {TK_ISA_AVX512F, !!__builtin_cpu_supports("avx512f"), "avx512f"},
           {TK_ISA_AVX512BW, !!__builtin_cpu_supports("avx512bw"), "avx512bw"},
           {TK_ISA_AVX512VL, !!__builtin_cpu_supports("avx512vl"), "avx512vl"},
           {TK_ISA_AVX512_BF16, !!__builtin_cpu_supports("avx512bf16"), "avx512bf16"}};
  for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
    CHECK(!!(isa & f[i].bit) == f[i].gcc, "%s: tokamax %d, gcc %d", f[i].name,
          !!(isa & f[i].bit), f[i].gcc);
  char s[256];
  tk_isa_string(isa, s, sizeof s);
  CHECK(!(isa & TK_ISA_AVX2) || strstr(s, "avx2"), "isa string \"%s\"", s);
  char tiny[6];
  tk_isa_string(TK_ISA_AVX2 | TK_ISA_FMA, tiny, sizeof tiny);
  CHECK(strcmp(tiny, "avx2") == 0, "truncated isa string \"%s\"", tiny);
}

/* ---------------------------------------------------------------- silence */

/* With TOKAMAX_LOG unset, create + describe + a failing call print nothing. */
static void test_silent(void) {
  FILE *tmp = tmpfile();
  if (!tmp) return;
  fflush(stderr);
  int saved = dup(2);
  dup2(fileno(tmp), 2);
  tk_context *ctx = NULL;
  tk_context_options bad = {NULL, -5, TK_TUNE_OFF, NULL};
  tk_status s1 = tk_context_create(&bad, &ctx);
  tk_status s2 = tk_context_create(NULL, &ctx);
  char buf[8];
  tk_status s3 = tk_context_describe(ctx, buf, sizeof buf);
  tk_context_destroy(ctx);
  fflush(stderr);
  dup2(saved, 2);
  close(saved);
  CHECK(s1 == TK_ERR_INVALID_ARGUMENT && s2 == TK_OK && s3 == TK_ERR_INVALID_ARGUMENT,
        "statuses %d %d %d", (int)s1, (int)s2, (int)s3);
  CHECK(ftell(tmp) == 0 && fseek(tmp, 0, SEEK_END) == 0 && ftell(tmp) == 0,
        "the library printed %ld bytes", ftell(tmp));
  fclose(tmp);
}

int main(void) {
  unsetenv("TOKAMAX_LOG"); /* read once, at the first log call */
  srand(12345);
  test_silent();
  test_status_strings();
  test_error_is_thread_local();
  test_bad_options();
  test_context_describe();
  test_pool();
  test_isa_matches_gcc();
  TK_TEST_END();
}
