/* gate_report.c: the gate's outputs: a text table, JSON, and a markdown
 * report with one SVG chart per case of its history. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/json.h"
#include "regress/gate_internal.h"
#include "regress/gate_stats.h"

static int failed(tk_gate_verdict v) { return v >= TK_GATE_WRONG; }

static void print_table(const tk_gate_run_data *g) {
  int w = 4;
  for (int i = 0; i < g->n; i++)
    if ((int)strlen(g->items[i].spec) > w) w = (int)strlen(g->items[i].spec);
  printf("%-*s  %-10s %10s %9s %12s %9s %9s  %s\n", w, "case", "impl", "error", "tol",
         "median (us)", "vs base", "p", "verdict");
  for (int i = 0; i < g->n; i++) {
    const tk_gate_item *it = &g->items[i];
    char ratio[32] = "-", p[32] = "-", med[32] = "-";
    if (isfinite(it->ratio)) snprintf(ratio, sizeof ratio, "%.3fx", it->ratio);
    if (isfinite(it->ratio)) snprintf(p, sizeof p, "%.2g", it->ratio > 1 ? it->p_slower : it->p_faster);
    if (isfinite(it->median_ns)) snprintf(med, sizeof med, "%.2f", it->median_ns / 1e3);
    printf("%-*s  %-10s %10.3g %9.3g %12s %9s %9s  %s%s%s\n", w, it->spec, it->impl, it->max_err,
           it->tol, med, ratio, p, tk_gate_verdict_name(it->verdict),
           it->why[0] || it->reason[0] ? ": " : "", it->reason[0] ? it->reason : it->why);
  }
}

/* Appends a number or null. */
static void json_num(tk_text *t, const char *name, double v) {
  if (isfinite(v)) tk_text_printf(t, ",\"%s\":%.6g", name, v);
  else tk_text_printf(t, ",\"%s\":null", name);
}

static int write_json(const tk_gate_run_data *g, const char *path, const char *suite) {
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "tokamax-tune: gate: cannot write %s\n", path);
    return 0;
  }
  char buf[8192];
  tk_text t = tk_text_init(buf, sizeof buf);
  tk_text_printf(&t, "{\"suite\":");
  tk_text_json_string(&t, suite);
  tk_text_printf(&t, ",\"run\":%lld,\"baseline_run\":%lld,\"git_rev\":", (long long)g->run_id,
                 (long long)g->base_run);
  tk_text_json_string(&t, g->git_rev);
  tk_text_printf(&t, ",\"device\":");
  tk_text_json_string(&t, g->fingerprint);
  json_num(&t, "anchor_copy_ns", g->anchor_copy_ns);
  json_num(&t, "anchor_fma_ns", g->anchor_fma_ns);
  tk_text_printf(&t, ",\"results\":[");
  fputs(buf, f);
  for (int i = 0; i < g->n; i++) {
    const tk_gate_item *it = &g->items[i];
    t = tk_text_init(buf, sizeof buf);
    tk_text_printf(&t, "%s\n {\"case\":", i ? "," : "");
    tk_text_json_string(&t, it->spec);
    tk_text_printf(&t, ",\"impl\":");
    tk_text_json_string(&t, it->impl);
    tk_text_printf(&t, ",\"config\":");
    tk_text_json_string(&t, it->config);
    tk_text_printf(&t, ",\"verdict\":");
    tk_text_json_string(&t, tk_gate_verdict_name(it->verdict));
    tk_text_printf(&t, ",\"why\":");
    tk_text_json_string(&t, it->reason[0] ? it->reason : it->why);
    json_num(&t, "max_err", it->max_err);
    json_num(&t, "tol", it->tol);
    json_num(&t, "median_ns", it->median_ns);
    json_num(&t, "anchor_ratio", it->norm);
    json_num(&t, "vs_baseline", it->ratio);
    json_num(&t, "p_slower", it->p_slower);
    json_num(&t, "p_faster", it->p_faster);
    json_num(&t, "band", it->band);
    tk_text_printf(&t, ",\"samples_ns\":[");
    for (int k = 0; k < it->n_samples; k++) tk_text_printf(&t, "%s%.6g", k ? "," : "", it->samples[k]);
    tk_text_printf(&t, "]}");
    fputs(buf, f);
  }
  fputs("\n]}\n", f);
  return fclose(f) == 0;
}

/* The history of the suite: per run, the anchor ratio of each item. */
typedef struct {
  const tk_gate_run_data *g;
  tk_cache *cache;
  double *hist;   /* [run][item] */
  int64_t *runs;
  int n_runs, cap;
} history;

typedef struct {
  history *h;
  int run;
} history_run;

static int history_result(void *user, const tk_history_result *r) {
  history_run *hr = user;
  const tk_gate_run_data *g = hr->h->g;
  for (int i = 0; i < g->n; i++)
    if (strcmp(g->items[i].spec, r->spec) == 0 && strcmp(g->items[i].impl, r->impl) == 0) {
      double v[1024];
      int n = tk_parse_samples(r->samples, v, 1024);
      if (n) hr->h->hist[(size_t)hr->run * g->n + i] = tk_median_of(v, n);
    }
  return 0;
}

static int history_run_fn(void *user, const tk_history_run *r) {
  history *h = user;
  if (strcmp(r->mode, "perf") != 0) return 0;
  if (h->n_runs == h->cap) {
    int cap = h->cap ? 2 * h->cap : 16;
    double *hist = realloc(h->hist, (size_t)cap * h->g->n * sizeof *hist);
    int64_t *runs = hist ? realloc(h->runs, (size_t)cap * sizeof *runs) : NULL;
    if (hist) h->hist = hist;
    if (!hist || !runs) return 1;
    h->runs = runs;
    h->cap = cap;
  }
  for (int i = 0; i < h->g->n; i++) h->hist[(size_t)h->n_runs * h->g->n + i] = NAN;
  h->runs[h->n_runs++] = r->id;
  return 0;
}

static const char *const colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

/* Writes the SVG chart of case `spec` (items first..last) over the runs. */
static void write_svg(const history *h, const char *path, int first, int last) {
  FILE *f = fopen(path, "w");
  if (!f) return;
  const int W = 640, H = 240, L = 60, R = 140, T = 20, B = 30;
  double lo = INFINITY, hi = -INFINITY;
  for (int r = 0; r < h->n_runs; r++)
    for (int i = first; i <= last; i++) {
      double v = h->hist[(size_t)r * h->g->n + i];
      if (isfinite(v)) lo = fmin(lo, v), hi = fmax(hi, v);
    }
  if (!isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-12 * fabs(hi) + 1e-300) lo *= 0.9, hi *= 1.1;
  fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
             "font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
  fprintf(f, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n", W, H);
  fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
  fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, T, L, H - B);
  fprintf(f, "<text x=\"4\" y=\"%d\">%.3g</text><text x=\"4\" y=\"%d\">%.3g</text>\n", T + 4, hi,
          H - B, lo);
  fprintf(f, "<text x=\"%d\" y=\"%d\">gate runs (oldest to newest); y: time / anchor</text>\n", L,
          H - 8);
  for (int i = first; i <= last; i++) {
    const char *col = colours[(i - first) % 5];
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", col);
    for (int r = 0; r < h->n_runs; r++) {
      double v = h->hist[(size_t)r * h->g->n + i];
      if (!isfinite(v)) continue;
      double x = L + (h->n_runs > 1 ? (double)r / (h->n_runs - 1) : 0.5) * (W - L - R);
      double y = (H - B) - (v - lo) / (hi - lo) * (H - B - T);
      fprintf(f, "%.1f,%.1f ", x, y);
    }
    fprintf(f, "\"/>\n<text x=\"%d\" y=\"%d\" fill=\"%s\">%s</text>\n", W - R + 6,
            T + 14 * (i - first + 1), col, h->g->items[i].impl);
  }
  fprintf(f, "</svg>\n");
  fclose(f);
}

static int write_report(const tk_gate_run_data *g, tk_cache *cache, const char *dir,
                        const char *suite) {
  mkdir(dir, 0755);
  history h = {g, cache, NULL, NULL, 0, 0};
  tk_history_each_run(cache, suite, -1, -1, history_run_fn, &h);
  for (int r = 0; r < h.n_runs; r++) {
    history_run hr = {&h, r};
    tk_history_each_result(cache, h.runs[r], history_result, &hr);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/report.md", dir);
  FILE *f = fopen(path, "w");
  if (!f) {
    fprintf(stderr, "tokamax-tune: gate: cannot write %s\n", path);
    free(h.hist);
    free(h.runs);
    return 0;
  }
  fprintf(f, "# Regression gate: %s\n\nRun %lld, git %s, device `%s`; baseline run %lld.\n"
             "Anchors: copy %.3g ms, FMA %.3g ms.\n\n",
          suite, (long long)g->run_id, g->git_rev, g->fingerprint, (long long)g->base_run,
          g->anchor_copy_ns / 1e6, g->anchor_fma_ns / 1e6);
  fprintf(f, "| case | impl | error | tol | median (us) | vs baseline | verdict |\n"
             "|---|---|---|---|---|---|---|\n");
  for (int i = 0; i < g->n; i++) {
    const tk_gate_item *it = &g->items[i];
    fprintf(f, "| `%s` | %s | %.3g | %.3g | %.2f | %.3f | %s%s%s |\n", it->spec, it->impl,
            it->max_err, it->tol, it->median_ns / 1e3, it->ratio, tk_gate_verdict_name(it->verdict),
            it->why[0] || it->reason[0] ? ": " : "", it->reason[0] ? it->reason : it->why);
  }
  fprintf(f, "\n## History (time / anchor, per perf run)\n");
  for (int i = 0, chart = 0; i < g->n; chart++) {
    int j = i;
    while (j + 1 < g->n && strcmp(g->items[j + 1].spec, g->items[i].spec) == 0) j++;
    snprintf(path, sizeof path, "%s/case%03d.svg", dir, chart);
    write_svg(&h, path, i, j);
    fprintf(f, "\n`%s`\n\n![case %d](case%03d.svg)\n", g->items[i].spec, chart, chart);
    i = j + 1;
  }
  free(h.hist);
  free(h.runs);
  return fclose(f) == 0;
}

int tk_gate_report(const tk_gate_run_data *g, tk_cache *cache, const tk_gate_options *o,
                   const char *suite) {
  print_table(g);
  int n_failed = 0;
  for (int i = 0; i < g->n; i++) n_failed += failed(g->items[i].verdict);
  printf("\n%d of %d failed; run %lld stored in %s (baseline %lld)\n", n_failed, g->n,
         (long long)g->run_id, tk_cache_path(cache), (long long)g->base_run);
  int ok = 1;
  if (o->json_path) ok &= write_json(g, o->json_path, suite);
  if (o->report_dir) ok &= write_report(g, cache, o->report_dir, suite);
  return n_failed || !ok ? 1 : 0;
}
