/* fuzz_op.c: the op fuzz target. From the input it builds one valid call
 * of the op (fuzz_op_args.c), applies mutations whose effect it knows,
 * lays every tensor out in an exact-size buffer, runs the call (directly
 * or through a plan; auto, reference or cpu) and checks the contract:
 *  - no crash, no memory error, no undefined behaviour (the sanitizers);
 *  - a failed call leaves a message and every buffer byte for byte as it
 *    was; only TK_ERR_INVALID_ARGUMENT or TK_ERR_UNSUPPORTED may come
 *    back (the buffers are small: no TK_ERR_OUT_OF_MEMORY, no internal
 *    error);
 *  - TK_OK only for consistent arguments: a call a mutation broke must
 *    fail with TK_ERR_INVALID_ARGUMENT naming the op; one only re-laid
 *    out must succeed (TK_ERR_UNSUPPORTED only from a forced "cpu");
 *  - a successful call changes no input byte and no byte between an
 *    output's elements, and on the reference the layout changes nothing
 *    in the output (compared bit for bit with a contiguous call).
 * Mutations: valid re-layouts (explicit, permuted, padded or reversed
 * strides, any stride on dims of extent 0 or 1, byte_offset, pinned host
 * memory, NULL data on empty tensors); changes of unknown effect (a size,
 * a float dtype, an index value, an optional tensor dropped); and breaks
 * (a required tensor NULL, rank, dtype, device, negative size, NULL or
 * misaligned data, overlapping or overflowing strides, and the op's own
 * spoilers). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "runtime/name_list.h"
#include "tests/fuzz/fuzz_layout.h"

enum { VALID, UNKNOWN, INVALID };

/* Calls so far by what was expected of them and whether they succeeded. */
static long fz_counts[3][2];

void tk_fuzz_op_counts(long *valid_ok, long *invalid_refused, long *unknown_ok,
                       long *unknown_failed) {
  *valid_ok = fz_counts[VALID][1];
  *invalid_refused = fz_counts[INVALID][0];
  *unknown_ok = fz_counts[UNKNOWN][1];
  *unknown_failed = fz_counts[UNKNOWN][0];
  memset(fz_counts, 0, sizeof fz_counts);
}

typedef struct {
  fz_call call;
  const fz_op_gen *gen;
  fz_arg arg[FZ_MAX_TENSORS];
  int expect;
  char what[512]; /* the mutations applied, for reports */
} fz_case;

/* Adds a mutation's description to k->what. */
static void note(fz_case *k, const char *fmt, ...) TK_PRINTF(2, 3);
static void note(fz_case *k, const char *fmt, ...) {
  size_t used = strlen(k->what);
  char part[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(part, sizeof part, fmt, ap);
  va_end(ap);
  snprintf(k->what + used, sizeof k->what - used, "%s%s", used ? "; " : "", part);
}

static int is_optional(const fz_case *k, const char *name) {
  return k->gen->optional[0] && tk_name_listed(k->gen->optional, name);
}

/* A present tensor's index chosen from the input (-1 if none qualifies);
 * want: 0 any, 1 outputs, 2 int32, 3 data (float). */
static int pick(fz_in *in, fz_case *k, int want) {
  int idx[FZ_MAX_TENSORS], n = 0;
  for (int i = 0; i < k->call.desc->n_tensors; i++) {
    const fz_tensor *t = &k->call.t[i];
    int ok = t->present && (want == 0 || (want == 1 && k->call.desc->tensors[i].is_output) ||
                            (want == 2 && t->dtype == TK_I32) || (want == 3 && t->dtype != TK_I32));
    if (ok) idx[n++] = i;
  }
  return n ? idx[fz_range(in, 0, n - 1)] : -1;
}

/* ---------------------------------------------------- changes of unknown effect */

static void resize_ints(fz_in *in, fz_tensor *t, int64_t old_numel) {
  int32_t *ints = calloc((size_t)(t->numel ? t->numel : 1), sizeof *ints);
  if (!ints) tk_fuzz_fail("out of memory");
  for (int64_t i = 0; i < t->numel; i++)
    ints[i] = i < old_numel ? t->ints[i] : (int32_t)fz_range(in, -2, 9);
  free(t->ints);
  t->ints = ints;
}

static void change_unknown(fz_in *in, fz_case *k) {
  int i;
  switch (fz_range(in, 0, 3)) {
    case 0: { /* a size */
      if ((i = pick(in, k, 0)) < 0 || k->call.t[i].ndim == 0) return;
      fz_tensor *t = &k->call.t[i];
      int d = (int)fz_range(in, 0, t->ndim - 1);
      int64_t v = t->shape[d] > (1 << 20) ? 0 : t->shape[d] + fz_range(in, -1, 1);
      t->shape[d] = v < 0 ? 0 : v;
      int64_t old = t->numel;
      t->numel = 1;
      for (int j = 0; j < t->ndim; j++) t->numel *= t->shape[j];
      if (t->numel > (1 << 20)) t->numel = 0, t->shape[d] = 0; /* keep it materialisable */
      if (t->dtype == TK_I32) resize_ints(in, t, old);
      note(k, "changed a size of %s to %lld", k->call.desc->tensors[i].name, (long long)t->shape[d]);
      break;
    }
    case 1: /* a float dtype */
      if ((i = pick(in, k, 3)) < 0) return;
      k->call.t[i].dtype = (tk_dtype)((k->call.t[i].dtype + 1 + fz_range(in, 0, 1)) % 3);
      note(k, "changed the dtype of %s to %s", k->call.desc->tensors[i].name,
           tk_dtype_name(k->call.t[i].dtype));
      break;
    case 2: /* an index value */
      if ((i = pick(in, k, 2)) < 0 || k->call.t[i].numel == 0) return;
      k->call.t[i].ints[fz_range(in, 0, k->call.t[i].numel - 1)] = (int32_t)fz_range(in, -3, 12);
      note(k, "changed an element of %s", k->call.desc->tensors[i].name);
      break;
    default: /* an optional tensor left out */
      if ((i = pick(in, k, 0)) < 0 || !is_optional(k, k->call.desc->tensors[i].name)) return;
      k->call.t[i].present = 0;
      note(k, "left out %s", k->call.desc->tensors[i].name);
  }
  if (k->expect == VALID || k->expect == INVALID) k->expect = UNKNOWN;
}

/* ------------------------------------------------------------- re-layouts */

/* Strides of a permuted, padded and (inputs) partly reversed layout. */
static void relayout(fz_in *in, fz_arg *a, int is_output) {
  int nd = a->dl.ndim, order[TK_MAX_DIMS];
  for (int i = 0; i < nd; i++) order[i] = i;
  for (int i = nd - 1; i > 0; i--) { /* order[0] outermost in memory */
    int j = (int)fz_range(in, 0, i), x = order[i];
    order[i] = order[j];
    order[j] = x;
  }
  int64_t run = 1, pad = fz_range(in, 0, 2);
  for (int i = nd - 1; i >= 0; i--) {
    int d = order[i];
    a->strides[d] = run;
    run *= (a->shape[d] > 1 ? a->shape[d] : 1) + (i == nd - 1 ? pad : 0);
  }
  for (int d = 0; d < nd && !is_output; d++)
    if (fz_one_in(in, 3)) a->strides[d] = -a->strides[d];
  a->strided = 1;
}

static void layout(fz_in *in, fz_case *k, int i) {
  fz_arg *a = &k->arg[i];
  const fz_tensor *t = &k->call.t[i];
  int out = k->call.desc->tensors[i].is_output;
  static const int64_t wild[] = {INT64_MAX, INT64_MIN, INT64_MAX - 7, -1, 0, 1 << 30};
  const char *name = k->call.desc->tensors[i].name;
  switch (fz_range(in, 0, 7)) {
    case 4: /* explicit row-major */
      a->strided = 1;
      note(k, "%s with explicit strides", name);
      break;
    case 5:
    case 6:
      relayout(in, a, out);
      note(k, "%s re-laid out [%lld %lld %lld %lld]", name, (long long)a->strides[0],
           (long long)a->strides[1], (long long)a->strides[2], (long long)a->strides[3]);
      break;
    default: break;
  }
  if (fz_one_in(in, 4)) { /* dims no address depends on may have any stride */
    for (int d = 0; d < t->ndim; d++)
      if (t->shape[d] <= 1 && fz_one_in(in, 2)) a->strides[d] = wild[fz_range(in, 0, 5)], a->strided = 1;
    note(k, "%s with any strides on its dims of extent 0 or 1", name);
  }
  if (fz_one_in(in, 8)) a->dl.device.device_type = kDLCUDAHost; /* pinned host memory */
  if (fz_one_in(in, 8)) a->dl.device.device_id = (int32_t)fz_range(in, -1, 3);
  a->via_offset = fz_one_in(in, 4);
  if (t->numel == 0 && fz_one_in(in, 2)) a->null_data = 1;
}

/* ------------------------------------------------------------------ breaks */

/* Breaks the call one way, if the chosen way applies; 1 when it did. */
static int break_one(fz_in *in, fz_case *k, int kind) {
  /* dtypes no tensor of any op takes (int8 is now a paged cache's) */
  static const DLDataType bad_types[] = {{kDLFloat, 64, 1}, {kDLUInt, 8, 1},  {kDLUInt, 32, 1},
                                         {kDLFloat, 32, 2}, {kDLBfloat, 32, 1}, {kDLInt, 64, 1},
                                         {kDLFloat, 8, 1},  {kDLInt, 16, 1}};
  static const int bad_devices[] = {0, kDLOpenCL, kDLVulkan, kDLMetal, kDLROCM, kDLCUDAManaged, 99};
  const tk_op_tensor *ot = k->call.desc->tensors;
  int i = pick(in, k, kind == 6 ? 1 : 0);
  if (i < 0) return 0;
  fz_arg *a = &k->arg[i];
  const fz_tensor *t = &k->call.t[i];
  int64_t numel = fz_arg_numel(a);
  int d = t->ndim ? (int)fz_range(in, 0, t->ndim - 1) : 0, big = -1;
  for (int j = 0; j < t->ndim; j++)
    if (t->shape[j] > 1) big = j;
  switch (kind) {
    case 0:
      if (is_optional(k, ot[i].name)) return 0;
      a->pass_null = 1;
      note(k, "%s NULL", ot[i].name);
      return 1;
    case 1:
      if (fz_one_in(in, 2) && t->ndim > 0) {
        a->dl.ndim = t->ndim - 1;
      } else {
        a->shape[t->ndim] = 1;
        a->strides[t->ndim] = 1;
        a->dl.ndim = t->ndim + 1;
      }
      note(k, "%s of rank %d", ot[i].name, a->dl.ndim);
      return 1;
    case 2: {
      DLDataType bad = bad_types[fz_range(in, 0, 7)];
      if (fz_one_in(in, 3)) bad = t->dtype == TK_I32 ? tk_dtype_dl(TK_F32) : tk_dtype_dl(TK_I32);
      a->dl.dtype = bad;
      note(k, "%s of dtype code %d bits %d lanes %d", ot[i].name, bad.code, bad.bits, bad.lanes);
      return 1;
    }
    case 3: {
      int n_present = 0;
      for (int j = 0; j < k->call.desc->n_tensors; j++) n_present += k->call.t[j].present;
      if (fz_one_in(in, 2) && n_present > 1) { /* mixed devices */
        a->dl.device.device_type = kDLCUDA;
        note(k, "%s on kDLCUDA, the others on the host", ot[i].name);
        return 1;
      }
      a->dl.device.device_type = bad_devices[fz_range(in, 0, 6)];
      note(k, "%s on device type %d", ot[i].name, (int)a->dl.device.device_type);
      return 1;
    }
    case 4:
      if (!t->ndim) return 0;
      a->shape[d] = fz_one_in(in, 2) ? -1 : INT64_MIN + fz_range(in, 0, 3);
      note(k, "%s with a negative size", ot[i].name);
      return 1;
    case 5:
      if (numel == 0) return 0;
      a->null_data = 1;
      note(k, "%s NULL data", ot[i].name);
      return 1;
    case 6: /* an output whose elements overlap, or with a negative stride */
      if (numel == 0 || big < 0) return 0;
      a->strided = 1;
      a->strides[big] = fz_one_in(in, 2) ? 0 : -1;
      note(k, "output %s with overlapping strides", ot[i].name);
      return 1;
    case 7: /* a span past int64 */
      if (numel == 0 || big < 0) return 0;
      a->strided = 1;
      a->strides[big] = fz_one_in(in, 2) ? (int64_t)1 << 62 : -((int64_t)1 << 62);
      note(k, "%s with strides overflowing int64", ot[i].name);
      return 1;
    default:
      if (numel == 0 || tk_dtype_size(t->dtype) < 2) return 0;
      a->misalign = 1;
      note(k, "%s misaligned", ot[i].name);
      return 1;
  }
}

/* --------------------------------------------------------------- the call */

static tk_context *fz_context(void) {
  static tk_context *ctx;
  if (!ctx) {
    tk_context_options o = {":memory:", 2, TK_TUNE_OFF, NULL};
    if (tk_context_create(&o, &ctx) != TK_OK) tk_fuzz_fail("context: %s", tk_last_error());
  }
  return ctx;
}

/* Points the args struct's tensor fields at the laid-out tensors. */
static void bind(fz_case *k) {
  for (int i = 0; i < k->call.desc->n_tensors; i++) {
    const DLTensor *p = k->call.t[i].present && !k->arg[i].pass_null ? &k->arg[i].dl : NULL;
    memcpy(k->call.args + k->call.desc->tensors[i].args_offset, &p, sizeof p);
  }
}

static const char *const IMPLS[] = {NULL, "reference", "cpu"};

/* Runs the call: mode 0-3 directly (auto, auto, reference, cpu), 4-5
 * through a plan (auto, made from the args without their data as a plan
 * may be; reference, made from the args as they are). */
static tk_status run(fz_case *k, int mode) {
  const char *impl = IMPLS[mode == 2 || mode == 5 ? 1 : mode == 3 ? 2 : 0];
  tk_call_options o = {impl, NULL};
  if (mode < 4) return tk_api_call(k->call.op, fz_context(), k->call.args, &o);
  _Alignas(16) unsigned char shape_only[sizeof k->call.args];
  DLTensor bare[FZ_MAX_TENSORS];
  memcpy(shape_only, k->call.args, sizeof shape_only);
  for (int i = 0; mode == 4 && i < k->call.desc->n_tensors; i++) {
    const DLTensor *p;
    memcpy(&p, shape_only + k->call.desc->tensors[i].args_offset, sizeof p);
    if (!p) continue;
    bare[i] = *p;
    bare[i].data = NULL;
    bare[i].byte_offset = 0;
    p = &bare[i];
    memcpy(shape_only + k->call.desc->tensors[i].args_offset, &p, sizeof p);
  }
  tk_plan *plan = NULL;
  tk_status s = tk_plan_create(fz_context(), k->call.op, shape_only, &o, &plan);
  if (s == TK_OK) s = tk_plan_run(plan, k->call.args);
  tk_plan_destroy(plan);
  return s;
}

static void lay_out(fz_case *k, uint64_t seed) {
  for (int i = 0; i < k->call.desc->n_tensors; i++)
    if (k->call.t[i].present)
      fz_arg_make(&k->arg[i], &k->call.t[i], k->call.desc->tensors[i].is_output, i, seed);
  bind(k);
}

static void release(fz_case *k) {
  for (int i = 0; i < FZ_MAX_TENSORS; i++) {
    fz_arg_free(&k->arg[i]);
    free(k->call.t[i].ints);
    k->call.t[i].ints = NULL;
  }
}

/* The contract after a call that returned s. */
static void check(fz_case *k, tk_status s, int mode) {
  const char *op = k->call.desc->name, *msg = tk_last_error();
  const char *impl = IMPLS[mode == 2 || mode == 5 ? 1 : mode == 3 ? 2 : 0];
  if (s == TK_OK)
    FZ_REQUIRE(k->expect != INVALID, "%s: TK_OK for inconsistent arguments (%s)", op, k->what);
  if (s != TK_OK) {
    FZ_REQUIRE(msg[0], "%s: %s without a message (%s)", op, tk_status_string(s), k->what);
    FZ_REQUIRE(s == TK_ERR_INVALID_ARGUMENT || s == TK_ERR_UNSUPPORTED,
               "%s: %s: %s (%s)", op, tk_status_string(s), msg, k->what);
    FZ_REQUIRE(k->expect != INVALID || (s == TK_ERR_INVALID_ARGUMENT && strstr(msg, op)),
               "%s: %s for broken arguments: %s (%s)", op, tk_status_string(s), msg, k->what);
    FZ_REQUIRE(k->expect != VALID || (s == TK_ERR_UNSUPPORTED && impl && !strcmp(impl, "cpu")),
               "%s: %s for valid arguments (impl %s): %s (%s)", op, tk_status_string(s),
               impl ? impl : "auto", msg, k->what);
  }
  for (int i = 0; i < k->call.desc->n_tensors; i++) {
    const fz_arg *a = &k->arg[i];
    if (!k->call.t[i].present) continue;
    int out = k->call.desc->tensors[i].is_output;
    for (size_t b = 0; b < a->bytes; b++)
      if (a->buf[b] != a->before[b] && (s != TK_OK || !out || !a->elem[b]))
        tk_fuzz_fail("%s: %s %s byte %zu of %s (%s, %s)", op,
                     s == TK_OK ? "a successful call changed" : "a failed call changed",
                     out ? (s == TK_OK ? "gap" : "output") : "input", b,
                     k->call.desc->tensors[i].name, tk_status_string(s), k->what);
  }
}

/* On the reference, a re-laid-out call gives the contiguous call's output
 * bit for bit. */
static void compare_with_contiguous(fz_case *k, uint64_t seed) {
  static fz_case plain;
  memset(&plain, 0, sizeof plain);
  plain.call.op = k->call.op;
  plain.call.desc = k->call.desc;
  memcpy(plain.call.args, k->call.args, sizeof plain.call.args);
  for (int i = 0; i < k->call.desc->n_tensors; i++) {
    plain.call.t[i] = k->call.t[i];
    plain.call.t[i].ints = NULL;
    if (k->call.t[i].ints) {
      size_t n = (size_t)(k->call.t[i].numel ? k->call.t[i].numel : 1) * sizeof(int32_t);
      if (!(plain.call.t[i].ints = malloc(n))) tk_fuzz_fail("out of memory");
      memcpy(plain.call.t[i].ints, k->call.t[i].ints, n);
    }
    if (plain.call.t[i].present) fz_arg_init(&plain.arg[i], &plain.call.t[i]);
  }
  lay_out(&plain, seed);
  tk_call_options o = {"reference", NULL};
  tk_status s = tk_api_call(plain.call.op, fz_context(), plain.call.args, &o);
  FZ_REQUIRE(s == TK_OK, "%s: the contiguous call failed: %s", k->call.desc->name, tk_last_error());
  for (int i = 0; i < k->call.desc->n_tensors; i++) {
    int64_t at = -1;
    if (k->call.t[i].present && k->call.desc->tensors[i].is_output &&
        !fz_arg_same_elements(&k->arg[i], &plain.arg[i], &at))
      tk_fuzz_fail("%s: %s element %lld differs from the contiguous call's (%s)",
                   k->call.desc->name, k->call.desc->tensors[i].name, (long long)at, k->what);
  }
  release(&plain);
}

int tk_fuzz_op(tk_op op, const uint8_t *data, size_t size) {
  const fz_op_gen *gen = fz_op_gen_of(op);
  const tk_op_desc *desc = tk_op_desc_of(op);
  if (!gen || !desc) tk_fuzz_fail("op %d has no generator or descriptor", (int)op);
  if (desc->n_tensors > FZ_MAX_TENSORS)
    tk_fuzz_fail("%s has %d tensors, FZ_MAX_TENSORS is %d", desc->name, desc->n_tensors,
                 FZ_MAX_TENSORS);
  fz_in in = {data, size, 0};
  uint64_t seed = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; i++) seed = (seed ^ data[i]) * 0x100000001b3ull;
  static fz_case k;
  memset(&k, 0, sizeof k);
  k.call.op = op;
  k.call.desc = desc;
  k.gen = gen;
  gen->make(&in, &k.call);
  int mode = (int)fz_range(&in, 0, 5);
  if (fz_one_in(&in, 6) && gen->spoil(&in, &k.call)) {
    k.expect = INVALID;
    note(&k, "spoiled by %s's own rule", desc->name);
  }
  if (fz_one_in(&in, 6)) change_unknown(&in, &k);
  for (int i = 0; i < desc->n_tensors; i++)
    if (k.call.t[i].present) {
      fz_arg_init(&k.arg[i], &k.call.t[i]);
      layout(&in, &k, i);
    }
  if (fz_one_in(&in, 5)) {
    int kind = (int)fz_range(&in, 0, 8);
    for (int tries = 0; tries < 9; tries++, kind = (kind + 1) % 9)
      if (break_one(&in, &k, kind)) {
        k.expect = INVALID;
        break;
      }
  }
  lay_out(&k, seed);
  tk_status s = run(&k, mode);
  check(&k, s, mode);
  fz_counts[k.expect][s == TK_OK]++;
  if (s == TK_OK && k.expect == VALID && (mode == 2 || mode == 5)) compare_with_contiguous(&k, seed);
  release(&k);
  return 0;
}
