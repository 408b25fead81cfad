/* check_output.c: text table and JSON rows of `tokamax-tune check`. */
#include "tools/check_output.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/json.h"

static const char *result_name(tk_row_result r) {
  return r == TK_ROW_PASS ? "PASS" : r == TK_ROW_FAIL ? "FAIL" : "skip";
}

/* Writes a seconds value with a readable unit ("12.3 us"). */
static void fmt_time(double s, char *buf, size_t len) {
  if (s < 1e-3)
    snprintf(buf, len, "%.1f us", s * 1e6);
  else if (s < 1)
    snprintf(buf, len, "%.2f ms", s * 1e3);
  else
    snprintf(buf, len, "%.2f s", s);
}

/* Prints s as a JSON string. */
static void json_string(const char *s) {
  char buf[2048];
  tk_text t = tk_text_init(buf, sizeof buf);
  tk_text_json_string(&t, s);
  fputs(buf, stdout); /* a row's strings are far below the buffer; long ones are cut */
}

/* Prints ,"key":value with null for a non-finite value. */
static void json_number(const char *key, double v) {
  if (isfinite(v))
    printf(",\"%s\":%.6g", key, v);
  else
    printf(",\"%s\":null", key);
}

static void json_row(const check_row *r) {
  printf("{\"case\":");
  json_string(r->spec);
  printf(",\"impl\":");
  json_string(r->impl);
  printf(",\"result\":\"%s\"", r->result == TK_ROW_PASS ? "pass" : r->result == TK_ROW_FAIL ? "fail" : "skip");
  if (r->result != TK_ROW_SKIP) {
    printf(",\"config\":");
    json_string(r->config);
  }
  if (r->checked) {
    json_number("max_abs_err", r->max_abs_err);
    json_number("tol", r->tol);
  }
  if (r->rate_unit) {
    json_number("median_s", r->median_s);
    json_number(strcmp(r->rate_unit, "GB/s") == 0 ? "gb_per_s" : "gflop_per_s", r->rate);
  }
  if (r->why[0]) {
    printf(",\"why\":");
    json_string(r->why);
  }
  printf("}");
}

static void text_row(const check_output *o, const check_row *r) {
  printf("%-*s  %-14s  ", o->case_width, r->spec, r->impl);
  if (r->result == TK_ROW_SKIP) {
    printf("skip: %s\n", r->why);
    return;
  }
  if (!r->checked) { /* failed before the check */
    printf("%-28s  FAIL: %s\n", r->config[0] ? r->config : "-", r->why);
    return;
  }
  char t[32] = "-", rate[32] = "-";
  if (r->rate_unit) {
    fmt_time(r->median_s, t, sizeof t);
    snprintf(rate, sizeof rate, "%.2f %s", r->rate, r->rate_unit);
  }
  printf("%-28s  %10.3g  %9.3g  %-6s  %10s  %s\n", r->config[0] ? r->config : "-",
         r->max_abs_err, r->tol, result_name(r->result), t, rate);
  if (r->result == TK_ROW_FAIL && r->why[0]) printf("  why: %s\n", r->why);
}

void check_output_begin(check_output *o, int json, int case_width) {
  o->json = json;
  o->case_width = case_width;
  o->rows = 0;
  if (json)
    printf("[");
  else
    printf("%-*s  %-14s  %-28s  %10s  %9s  %-6s  %10s  %s\n", case_width, "case", "impl", "config",
           "max_err", "tol", "result", "median", "rate");
  fflush(stdout);
}

void check_output_row(check_output *o, const check_row *r) {
  if (o->json) {
    printf("%s\n  ", o->rows ? "," : "");
    json_row(r);
  } else {
    text_row(o, r);
  }
  o->rows++;
  fflush(stdout);
}

void check_output_end(check_output *o) {
  if (o->json) printf("%s]\n", o->rows ? "\n" : "");
  fflush(stdout);
}
