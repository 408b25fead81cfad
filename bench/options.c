/* options.c: the command line of tokamax-bench (docs/bench.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/tokamax_bench.h"
#include "runtime/name_list.h"

static const char USAGE[] =
    "usage: tokamax-bench [options] [--benchmark_* flags of Google Benchmark]\n"
    "  --suite NAME|FILE   cases to run (default bench_cpu; regress/suites/NAME.suite)\n"
    "  --op LIST           only these ops (comma list, e.g. grouped_gemm,attention)\n"
    "  --impl LIST         only these implementations / baselines (e.g. cpu,reference,openblas)\n"
    "  --config CFG        also run each selected impl with config CFG (\"name=value,...\")\n"
    "  --repetitions N     repetitions per row, interleaved at random (default 5)\n"
    "  --min-time S        seconds per repetition at least (default 0.3)\n"
    "  --json FILE         Google Benchmark's JSON report to FILE\n"
    "  --threads N         threads of the library's context (default: one per core)\n"
    "  --max-call S        skip a row whose warm-up call takes more than S s (default 60)\n"
    "  --seed N            seed of the case inputs (default 1)\n"
    "  --check             check each CPU row's output against the reference before timing\n"
    "  --openblas-core C   OPENBLAS_CORETYPE for the OpenBLAS baseline (default SkylakeX on\n"
    "                      AVX-512 CPUs, replacing the environment's; \"env\": keep the environment's)\n";

/* Copies of the translated flags (gb_argv points into it). */
static char translated[4][1100];

/* The value of option `name` at argv[*i] ("--name V" or "--name=V"), or
 * NULL when argv[*i] is not that option; advances *i past a separate value. */
static const char *value_of(int argc, char **argv, int *i, const char *name, int *missing) {
  size_t n = strlen(name);
  const char *a = argv[*i];
  if (strncmp(a, name, n) != 0) return NULL;
  if (a[n] == '=') return a + n + 1;
  if (a[n] != '\0') return NULL;
  if (*i + 1 >= argc) {
    *missing = 1;
    return NULL;
  }
  return argv[++*i];
}

/* Parses a number > 0 (or >= 0 when zero_ok; a whole one when whole);
 * -1 with a message when bad. */
static double number(const char *opt, const char *v, int zero_ok, int whole) {
  char *end;
  double x = strtod(v, &end);
  if (*v == '\0' || *end != '\0' || x < 0 || (!zero_ok && x == 0) || (whole && x != (long long)x)) {
    fprintf(stderr, "tokamax-bench: %s %s: expected a %s %s 0\n", opt, v, whole ? "whole number" : "number",
            zero_ok ? ">=" : ">");
    return -1;
  }
  return x;
}

/* 1 if name is an op ("op") or an implementation of some op or a baseline
 * ("impl"). */
static int known(const char *kind, const char *name) {
  tk_op op;
  if (strcmp(kind, "op") == 0) return tk_op_from_name(name, &op) == TK_OK;
  if (strcmp(name, "openblas") == 0 || strcmp(name, "onednn") == 0) return 1;
  for (int o = 0; o < TK_OP_COUNT; o++) {
    const char *names[64];
    int n = 0;
    tk_impl_list((tk_op)o, names, 64, &n);
    for (int i = 0; i < n && i < 64; i++)
      if (strcmp(names[i], name) == 0) return 1;
  }
  return 0;
}

/* Checks every item of a comma list names a known op or impl; prints the
 * first that does not. */
static int list_ok(const char *opt, const char *kind, const char *list) {
  char name[64];
  for (tk_name_iter it = tk_name_iter_init(list); tk_name_next(&it, name, sizeof name);)
    if (!known(kind, name)) {
      fprintf(stderr, "tokamax-bench: %s: '%s' is not %s\n", opt, name,
              strcmp(kind, "op") == 0
                  ? "an op"
                  : "an implementation in this build or a baseline (openblas, onednn)");
      return 0;
    }
  return 1;
}

int tk_bench_parse_args(int argc, char **argv, tk_bench_options *o, char **gb_argv, int gb_cap) {
  static char interleave[] = "--benchmark_enable_random_interleaving=true";
  *o = (tk_bench_options){"bench_cpu", NULL, NULL, NULL, 60.0, 0, 1, NULL, 0};
  const char *reps = "5", *min_time = "0.3", *json = NULL;
  char **pass = calloc((size_t)argc + 1, sizeof *pass);
  int n_pass = 0;
  if (!pass) return -1;
  for (int i = 1; i < argc; i++) {
    int missing = 0;
    const char *v;
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      fputs(USAGE, stdout);
      free(pass);
      return 0;
    } else if (strcmp(argv[i], "--check") == 0) {
      o->check = 1;
    } else if (strncmp(argv[i], "--benchmark_", 12) == 0) {
      pass[n_pass++] = argv[i];
    } else if ((v = value_of(argc, argv, &i, "--suite", &missing))) {
      o->suite = v;
    } else if ((v = value_of(argc, argv, &i, "--op", &missing))) {
      o->ops = v;
    } else if ((v = value_of(argc, argv, &i, "--impl", &missing))) {
      o->impls = v;
    } else if ((v = value_of(argc, argv, &i, "--config", &missing))) {
      o->config = v;
    } else if ((v = value_of(argc, argv, &i, "--repetitions", &missing))) {
      if (number("--repetitions", v, 0, 1) < 0) goto bad;
      reps = v;
    } else if ((v = value_of(argc, argv, &i, "--min-time", &missing))) {
      if (number("--min-time", v, 0, 0) < 0) goto bad;
      min_time = v;
    } else if ((v = value_of(argc, argv, &i, "--json", &missing))) {
      json = v;
    } else if ((v = value_of(argc, argv, &i, "--threads", &missing))) {
      double t = number("--threads", v, 1, 1);
      if (t < 0) goto bad;
      o->threads = (int)t;
    } else if ((v = value_of(argc, argv, &i, "--max-call", &missing))) {
      if ((o->max_call_s = number("--max-call", v, 0, 0)) < 0) goto bad;
    } else if ((v = value_of(argc, argv, &i, "--openblas-core", &missing))) {
      o->openblas_core = v;
    } else if ((v = value_of(argc, argv, &i, "--seed", &missing))) {
      double s = number("--seed", v, 1, 1);
      if (s < 0) goto bad;
      o->seed = (unsigned long long)s;
    } else {
      fprintf(stderr, "tokamax-bench: %s %s\n%s", argv[i],
              missing ? "needs a value" : "is not an option", USAGE);
      goto bad;
    }
  }
  if (!list_ok("--op", "op", o->ops) || !list_ok("--impl", "impl", o->impls)) goto bad;
  int n = 0;
  if (gb_cap < n_pass + 7) goto bad;
  gb_argv[n++] = argv[0];
  gb_argv[n++] = interleave;
  snprintf(translated[0], sizeof translated[0], "--benchmark_repetitions=%s", reps);
  snprintf(translated[1], sizeof translated[1], "--benchmark_min_time=%s", min_time);
  gb_argv[n++] = translated[0];
  gb_argv[n++] = translated[1];
  if (json) {
    snprintf(translated[2], sizeof translated[2], "--benchmark_out=%s", json);
    snprintf(translated[3], sizeof translated[3], "--benchmark_out_format=json");
    gb_argv[n++] = translated[2];
    gb_argv[n++] = translated[3];
  }
  for (int i = 0; i < n_pass; i++) gb_argv[n++] = pass[i]; /* given last: they win */
  gb_argv[n] = NULL;
  free(pass);
  return n;
bad:
  free(pass);
  return -1;
}
