/* test_op_table.c: the op table and the implementation records are
 * complete and consistent: every op has a descriptor whose name round-trips,
 * whose tensor list maps each DLTensor argument to its validated tensor,
 * whose key holds its size fields and whose work counts are positive, a
 * case in the impls suite, and an implementation list ending with the
 * reference; every config space names each int field of its struct once
 * and every heuristic config is valid. */
#include <stdio.h>
#include <string.h>

#include "autotune/config.h"
#include "kernels/op_desc.h"
#include "regress/case.h"
#include "tests/tk_test.h"

/* The first case of op in suite s, or NULL. */
static tk_case *first_case(const tk_suite *s, tk_op op) {
  for (int i = 0; i < s->count; i++) {
    char err[256];
    tk_case *c = NULL;
    if (tk_case_create(s->specs[i], 3, &c, err, sizeof err) != TK_OK) continue;
    if (tk_case_op(c) == op) return c;
    tk_case_destroy(c);
  }
  return NULL;
}

/* The descriptor's own fields: name, sizes, tensor offsets and counts. */
static void check_desc(tk_op op, const tk_op_desc *d) {
  CHECK(d->op == op, "op %d: descriptor says op %d", (int)op, (int)d->op);
  CHECK(tk_op_name(op) && strcmp(tk_op_name(op), d->name) == 0, "op %d: name", (int)op);
  tk_op back;
  CHECK(tk_op_from_name(d->name, &back) == TK_OK && back == op, "%s: name round-trips", d->name);
  CHECK(d->validate && d->check_data && d->key && d->flops && d->bytes, "%s: hooks", d->name);
  int inputs = 0, outputs = 0;
  const size_t lo = offsetof(tk_problem, u), hi = lo + d->problem_size;
  for (int i = 0; i < d->n_tensors; i++) {
    const tk_op_tensor *t = &d->tensors[i];
    CHECK(t->problem_offset >= lo && t->problem_offset + sizeof(tk_tensor) <= hi,
          "%s: %s lies in the op's problem struct", d->name, t->name);
    CHECK(t->args_offset + sizeof(DLTensor *) <= d->args_size, "%s: %s lies in the args struct",
          d->name, t->name);
    for (int j = 0; j < i; j++)
      CHECK(strcmp(t->name, d->tensors[j].name) != 0 && t->args_offset != d->tensors[j].args_offset,
            "%s: %s listed once", d->name, t->name);
    outputs += t->is_output;
    inputs += !t->is_output;
  }
  CHECK(outputs >= 1 && outputs <= TK_MAX_OUTPUTS && inputs <= TK_MAX_INPUTS,
        "%s: %d inputs, %d outputs", d->name, inputs, outputs);
  int sizes = 0;
  while (sizes <= TK_KEY_MAX_SIZES && d->size_fields[sizes]) sizes++;
  CHECK(sizes >= 1 && sizes <= TK_KEY_MAX_SIZES, "%s: %d size fields", d->name, sizes);
}

/* On a real case: each DLTensor argument lands in its problem tensor, the
 * key names every size field, the work is positive. */
static void check_case(const tk_op_desc *d, tk_case *c) {
  tk_problem p;
  CHECK_OK(tk_problem_validate(d->op, tk_case_args(c), 1, &p));
  const char *args = tk_case_args(c);
  for (int i = 0; i < d->n_tensors; i++) {
    const DLTensor *dl;
    memcpy(&dl, args + d->tensors[i].args_offset, sizeof dl);
    const tk_tensor *t = tk_op_tensor_in(&p, &d->tensors[i]);
    CHECK(dl ? t->present && t->data == (char *)dl->data + dl->byte_offset && t->ndim == dl->ndim
             : !t->present,
          "%s: %s maps to its validated tensor", d->name, d->tensors[i].name);
  }
  char key[1024], field[64];
  tk_problem_key(&p, key, sizeof key);
  CHECK(strncmp(key, d->name, strlen(d->name)) == 0 && key[strlen(d->name)] == ':', "key %s", key);
  for (int i = 0; d->size_fields[i]; i++) {
    snprintf(field, sizeof field, ",%s=", d->size_fields[i]);
    char colon[64];
    snprintf(colon, sizeof colon, ":%s=", d->size_fields[i]);
    CHECK(strstr(key, field) || strstr(key, colon), "%s: key %s lacks size field %s", d->name, key,
          d->size_fields[i]);
  }
  CHECK(tk_problem_flops(&p) >= 0 && tk_problem_bytes(&p) > 0, "%s: work %g flops %g bytes",
        d->name, tk_problem_flops(&p), tk_problem_bytes(&p));
}

/* The op's implementation list and every record's config space. */
static void check_impls(tk_context *ctx, const tk_op_desc *d, tk_case *c) {
  int n = 0;
  const tk_impl *const *list = tk_registry(d->op, &n);
  CHECK(n >= 1 && strcmp(list[n - 1]->name, "reference") == 0, "%s: reference last", d->name);
  tk_problem p;
  if (tk_problem_validate(d->op, tk_case_args(c), 1, &p) != TK_OK) return;
  for (int i = 0; i < n; i++) {
    const tk_impl *impl = list[i];
    const tk_config_space *s = impl->space;
    CHECK(impl->supports && impl->heuristic && impl->run, "%s %s: hooks", d->name, impl->name);
    CHECK(s->n_params >= 1 && s->n_params <= TK_MAX_PARAMS &&
              s->size == (size_t)s->n_params * sizeof(int),
          "%s %s: %d params over a %zu-byte struct", d->name, impl->name, s->n_params, s->size);
    for (int j = 0; j < s->n_params; j++) {
      CHECK(s->params[j].offset % sizeof(int) == 0 && s->params[j].offset < s->size &&
                s->params[j].n_values >= 1,
            "%s %s: param %s", d->name, impl->name, s->params[j].name);
      for (int k = 0; k < j; k++)
        CHECK(s->params[j].offset != s->params[k].offset, "%s %s: %s and %s share a field",
              d->name, impl->name, s->params[j].name, s->params[k].name);
    }
    for (int j = 0; j < i; j++)
      CHECK(strcmp(impl->name, list[j]->name) != 0, "%s: %s listed once", d->name, impl->name);
    char why[256];
    if (!tk_impl_can_run(ctx, impl, &p, why, sizeof why)) continue;
    tk_config h;
    tk_config_heuristic(impl, &p, &ctx->dev, &h);
    CHECK(tk_config_valid(s, &p, &h, why, sizeof why), "%s %s: heuristic config invalid: %s",
          d->name, impl->name, why);
  }
}

int main(void) {
  tk_context *ctx = NULL;
  tk_context_options o = {":memory:", 1, TK_TUNE_OFF, NULL};
  CHECK_OK(tk_context_create(&o, &ctx));
  tk_suite suite;
  char err[512];
  CHECK(tk_suite_load("impls", &suite, err, sizeof err) == TK_OK, "%s", err);
  CHECK(tk_op_desc_of(TK_OP_COUNT) == NULL && tk_op_name(TK_OP_COUNT) == NULL, "past the table");
  for (int op = 0; op < TK_OP_COUNT && ctx; op++) {
    const tk_op_desc *d = tk_op_desc_of((tk_op)op);
    CHECK(d != NULL, "op %d has no descriptor", op);
    if (!d) continue;
    check_desc((tk_op)op, d);
    tk_case *c = first_case(&suite, (tk_op)op);
    CHECK(c != NULL, "%s: the impls suite has no case of it", d->name);
    if (!c) continue;
    check_case(d, c);
    check_impls(ctx, d, c);
    tk_case_destroy(c);
  }
  tk_suite_free(&suite);
  tk_context_destroy(ctx);
  TK_TEST_END();
}
