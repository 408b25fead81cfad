/* case.c: a case's life: create from a spec, run (poisoned outputs),
 * reference expectations, snapshots, and the work it represents. */
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "regress/case_internal.h"

void tk_case_destroy(tk_case *c) {
  if (!c) return;
  for (int i = 0; i < c->n_tensors; i++) {
    tk_case_tensor *t = &c->t[i];
    free(t->buf); free(t->input_copy); free(t->expected); free(t->snapshot); free(t->want);
  }
  free(c->spec);
  free(c);
}

/* Copies every input buffer so tk_case_check can tell it was not changed. */
static tk_status keep_inputs(tk_case *c) {
  for (int i = 0; i < c->n_tensors; i++) {
    tk_case_tensor *t = &c->t[i];
    if (t->is_output) continue;
    t->input_copy = malloc(t->data_bytes ? t->data_bytes : 1);
    if (!t->input_copy) return TK_ERR_OUT_OF_MEMORY;
    memcpy(t->input_copy, t->buf, t->data_bytes);
  }
  return TK_OK;
}

tk_status tk_case_create(const char *spec, uint64_t seed, tk_case **out, char *err, size_t err_len) {
  tk_case_params p;
  tk_status st = tk_case_spec_parse(spec, &p, err, err_len);
  if (st != TK_OK) return st;
  tk_case *c = calloc(1, sizeof *c);
  if (!c || !(c->spec = strdup(spec))) {
    free(c);
    return tk_case_err(TK_ERR_OUT_OF_MEMORY, err, err_len, "out of memory building the case");
  }
  c->p = p;
  c->rng = seed ^ 0x5EED5EED5EED5EEDull;
  st = tk_case_ops_of(p.op)->build(c);
  if (st == TK_OK) st = keep_inputs(c);
  if (st != TK_OK) {
    if (st == TK_ERR_OUT_OF_MEMORY) tk_case_err(st, err, err_len, "out of memory building the case");
    else tk_case_err(st, err, err_len, "building the case: %s", tk_last_error());
    tk_case_destroy(c);
    return st;
  }
  st = tk_problem_validate(p.op, &c->args, 1, &c->problem);
  if (st != TK_OK) { /* the builder made args the library rejects */
    tk_case_err(st, err, err_len, "the case's args do not validate: %s", tk_last_error());
    tk_case_destroy(c);
    return st;
  }
  *out = c;
  return TK_OK;
}

tk_op tk_case_op(const tk_case *c) { return c->p.op; }
const char *tk_case_spec(const tk_case *c) { return c->spec; }
const void *tk_case_args(tk_case *c) { return &c->args; }
double tk_case_flops(const tk_case *c) { return tk_problem_flops(&c->problem); }
double tk_case_bytes(const tk_case *c) { return tk_problem_bytes(&c->problem); }
int tk_case_memory_bound(const tk_case *c) { return tk_problem_memory_bound(&c->problem); }
tk_dtype tk_case_dtype(const tk_case *c) { return c->problem.dtype; }

/* Fills every output element (gaps included) with the poison pattern and
 * its guard with the guard byte. */
static void poison_outputs(tk_case *c) {
  for (int i = 0; i < c->n_tensors; i++) {
    tk_case_tensor *t = &c->t[i];
    if (!t->is_output) continue;
    int64_t es = tk_dtype_size(t->dtype);
    unsigned char pat[4];
    tk_case_poison_element(t->dtype, pat);
    for (int64_t e = 0; e < t->span; e++) memcpy(t->buf + e * es, pat, (size_t)es);
    memset(t->buf + t->data_bytes, TK_CASE_GUARD_BYTE, TK_CASE_GUARD);
  }
}

tk_status tk_case_run(tk_case *c, tk_context *ctx, const tk_call_options *opts) {
  poison_outputs(c);
  return tk_api_call(c->p.op, ctx, &c->args, opts);
}

tk_status tk_case_prepare_expected(tk_case *c, tk_context *ctx) {
  return tk_case_prepare_expected_by(c, ctx, "reference");
}

tk_status tk_case_prepare_expected_by(tk_case *c, tk_context *ctx, const char *oracle) {
  if (c->have_expected) return TK_OK;
  tk_call_options ref = {oracle, NULL};
  tk_status st = tk_case_run(c, ctx, &ref);
  if (st != TK_OK) return st;
  for (int i = 0; i < c->n_tensors; i++)
    if (c->t[i].is_output) memcpy(c->t[i].expected, c->t[i].buf, c->t[i].data_bytes + TK_CASE_GUARD);
  c->have_expected = 1;
  return TK_OK;
}

void tk_case_snapshot(tk_case *c) {
  for (int i = 0; i < c->n_tensors; i++)
    if (c->t[i].is_output) memcpy(c->t[i].snapshot, c->t[i].buf, c->t[i].data_bytes);
  c->have_snapshot = 1;
}

int tk_case_same_as_snapshot(const tk_case *c) {
  if (!c->have_snapshot) return 0;
  for (int i = 0; i < c->n_tensors; i++)
    if (c->t[i].is_output && memcmp(c->t[i].snapshot, c->t[i].buf, c->t[i].data_bytes) != 0)
      return 0;
  return 1;
}
