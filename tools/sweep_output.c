/* sweep_output.c: progress lines and the results table of a sweep. */
#include "tools/sweep_output.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tools/cli_lookup.h"
#include "runtime/json.h"
#include "tokamax.h"

void sweep_progress_begin(sweep_progress *p, int n_problems, int json, int quiet) {
  memset(p, 0, sizeof *p);
  p->n_problems = n_problems;
  p->json = json;
  p->quiet = quiet;
  p->bar = !quiet && isatty(STDERR_FILENO);
  p->t0_ns = tk_now_ns();
}

/* "1h02m", "3m05s", "12s". */
static void fmt_duration(double s, char *buf, size_t len) {
  long t = (long)(s + 0.5);
  if (t >= 3600) snprintf(buf, len, "%ldh%02ldm", t / 3600, t / 60 % 60);
  else if (t >= 60) snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
  else snprintf(buf, len, "%lds", t);
}

void sweep_progress_event(void *user, const tk_sweep_event *e) {
  sweep_progress *p = user;
  if (!p->bar) return;
  double frac = (p->done + (double)e->index / e->total) / p->n_problems;
  double elapsed = (tk_now_ns() - p->t0_ns) / 1e9;
  char eta[32] = "?", el[32];
  if (frac > 0) fmt_duration(elapsed / frac * (1 - frac), eta, sizeof eta);
  fmt_duration(elapsed, el, sizeof el);
  const int width = 24;
  char bar[32];
  int fill = (int)(frac * width);
  for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
  bar[width] = '\0';
  fprintf(stderr, "\r\033[K[%s] %3.0f%% %s ETA %s  problem %d/%d  candidate %d/%d %s%s", bar,
          100 * frac, el, eta, p->done + 1, p->n_problems, e->index, e->total, e->impl,
          e->resumed ? " (cached)" : "");
  fflush(stderr);
}

void sweep_progress_problem(sweep_progress *p, const tk_sweep_summary *s, const char *err) {
  p->done++;
  if (p->quiet) return;
  if (p->bar) fprintf(stderr, "\r\033[K");
  if (!s) {
    fprintf(stderr, "[%d/%d] %s: failed: %s\n", p->done, p->n_problems, p->spec, err);
  } else if (!p->bar) {
    fprintf(stderr, "[%d/%d] %s: %s %s %.4g us; %d candidates (%d measured, %d cached, %d wrong, "
                    "%d failed)\n",
            p->done, p->n_problems, p->spec, s->have_best ? s->best_impl : "-",
            s->have_best ? s->best_config : "", s->best_ns / 1e3, s->candidates, s->measured,
            s->resumed, s->wrong, s->failed);
  }
  fflush(stderr);
}

/* "1.23x", or "-" when either time is unknown. */
static void fmt_ratio(double num, double den, char *buf, size_t len) {
  if (isfinite(num) && isfinite(den) && den > 0) snprintf(buf, len, "%.2fx", num / den);
  else snprintf(buf, len, "-");
}

/* A rate text: GB/s for the bandwidth-bound problems (MoE, paged decode),
 * GFLOP/s for the rest. */
static void fmt_rate(const sweep_result *r, char *buf, size_t len) {
  double t = r->s.best_ns * 1e-9;
  int by_bytes = r->memory_bound || !(r->flops > 0);
  if (!(t > 0)) snprintf(buf, len, "-");
  else if (!by_bytes) snprintf(buf, len, "%.1f GFLOP/s", r->flops / t * 1e-9);
  else snprintf(buf, len, "%.1f GB/s", r->bytes / t * 1e-9);
}

static void print_json(const sweep_result *r, int n) {
  printf("[");
  for (int i = 0; i < n; i++) {
    char buf[4096];
    tk_text t = tk_text_init(buf, sizeof buf);
    tk_text_printf(&t, "%s\n {\"problem\":", i ? "," : "");
    tk_text_json_string(&t, r[i].spec);
    tk_text_printf(&t, ",\"key\":");
    tk_text_json_string(&t, r[i].s.key);
    if (!r[i].ok) {
      tk_text_printf(&t, ",\"error\":");
      tk_text_json_string(&t, r[i].err);
    } else {
      tk_text_printf(&t, ",\"impl\":");
      tk_text_json_string(&t, r[i].s.have_best ? r[i].s.best_impl : "");
      tk_text_printf(&t, ",\"config\":");
      tk_text_json_string(&t, r[i].s.have_best ? r[i].s.best_config : "");
      tk_text_printf(&t, ",\"heuristic_impl\":");
      tk_text_json_string(&t, r[i].s.heuristic_impl);
      tk_text_printf(&t, ",\"heuristic_config\":");
      tk_text_json_string(&t, r[i].s.heuristic_config);
      const double v[] = {r[i].s.best_ns, r[i].s.heuristic_ns, r[i].s.reference_ns};
      const char *names[] = {"best_ns", "heuristic_ns", "reference_ns"};
      for (int k = 0; k < 3; k++) {
        if (isfinite(v[k])) tk_text_printf(&t, ",\"%s\":%.6g", names[k], v[k]);
        else tk_text_printf(&t, ",\"%s\":null", names[k]);
      }
      tk_text_printf(&t, ",\"candidates\":%d,\"measured\":%d,\"cached\":%d,\"wrong\":%d,\"failed\":%d",
                     r[i].s.candidates, r[i].s.measured, r[i].s.resumed, r[i].s.wrong, r[i].s.failed);
    }
    tk_text_printf(&t, "}");
    fputs(buf, stdout);
  }
  printf("\n]\n");
}

void sweep_print_results(const sweep_result *r, int n, int json) {
  if (json) {
    print_json(r, n);
    return;
  }
  int w = 7;
  for (int i = 0; i < n; i++)
    if ((int)strlen(r[i].spec) > w) w = (int)strlen(r[i].spec);
  printf("%-*s  %-10s %-40s %12s %16s %9s %9s\n", w, "problem", "impl", "config", "time (us)",
         "rate", "vs heur.", "vs ref.");
  double log_sum = 0;
  int n_ratio = 0;
  for (int i = 0; i < n; i++) {
    if (!r[i].ok || !r[i].s.have_best) {
      printf("%-*s  %-10s %s\n", w, r[i].spec, "-", r[i].ok ? "no candidate passed" : r[i].err);
      continue;
    }
    char h[32], ref[32], rate[32];
    fmt_ratio(r[i].s.heuristic_ns, r[i].s.best_ns, h, sizeof h);
    fmt_ratio(r[i].s.reference_ns, r[i].s.best_ns, ref, sizeof ref);
    fmt_rate(&r[i], rate, sizeof rate);
    printf("%-*s  %-10s %-40s %12.2f %16s %9s %9s\n", w, r[i].spec, r[i].s.best_impl,
           r[i].s.best_config, r[i].s.best_ns / 1e3, rate, h, ref);
    if (isfinite(r[i].s.heuristic_ns) && r[i].s.best_ns > 0) {
      log_sum += log(r[i].s.heuristic_ns / r[i].s.best_ns);
      n_ratio++;
    }
  }
  if (n_ratio)
    printf("\ngeometric-mean speed-up of the tuned choice over the heuristic default: %.3fx "
           "(%d problems)\n", exp(log_sum / n_ratio), n_ratio);
}
