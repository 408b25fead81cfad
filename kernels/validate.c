/* validate.c: checked conversion of DLTensor arguments, and the shared
 * shape, dtype and scalar checks of the op validators. */
#include "kernels/validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "runtime/checked.h"
#include "runtime/status.h"

void tk_validator_init(tk_validator *v, const char *op, int need_data) {
  memset(v, 0, sizeof *v);
  v->op = op;
  v->need_data = need_data;
}

void tk_validator_finish(const tk_validator *v, tk_op op, tk_dtype dtype, tk_problem *out) {
  out->op = op;
  out->device_type = v->device_type;
  out->device_id = v->device_id;
  out->dtype = dtype;
  out->has_data = v->need_data != 0;
}

/* Entries of a dims text "[A,B,C]" ("[]" has none). */
static int dims_count(const char *dims) {
  if (strcmp(dims, "[]") == 0) return 0;
  int n = 1;
  for (const char *c = dims; *c; c++) n += *c == ',';
  return n;
}

/* The name of entry i of a dims text, into buf. */
static void dims_name(const char *dims, int i, char *buf, size_t len) {
  const char *c = dims + 1;
  for (int k = 0; k < i && *c; c++)
    if (*c == ',') k++;
  size_t n = strcspn(c, ",]");
  if (n >= len) n = len - 1;
  memcpy(buf, c, n);
  buf[n] = '\0';
}

/* The library dtype of a DLPack dtype; 0 when it has none. */
static int dtype_from_dl(DLDataType d, tk_dtype *out) {
  if (d.lanes != 1) return 0;
  if (d.code == kDLFloat && d.bits == 32)
    *out = TK_F32;
  else if (d.code == kDLFloat && d.bits == 16)
    *out = TK_F16;
  else if (d.code == kDLBfloat && d.bits == 16)
    *out = TK_BF16;
  else if (d.code == kDLInt && d.bits == 32)
    *out = TK_I32;
  else if (d.code == TK_DL_FLOAT8_E4M3FN && d.bits == 8)
    *out = TK_FP8_E4M3;
  else if (d.code == kDLInt && d.bits == 8)
    *out = TK_I8;
  else
    return 0;
  return 1;
}

/* A DLPack dtype as text, e.g. "float32", "int64", "float16x4". */
static void dl_dtype_text(DLDataType d, char *buf, size_t len) {
  const char *code = d.code == kDLInt      ? "int"
                     : d.code == kDLUInt   ? "uint"
                     : d.code == kDLFloat  ? "float"
                     : d.code == kDLBfloat ? "bfloat"
                                           : NULL;
  int fp8 = d.code == TK_DL_FLOAT8_E4M3FN && d.bits == 8;
  int n = fp8    ? snprintf(buf, len, "float8_e4m3fn")
          : code ? snprintf(buf, len, "%s%d", code, d.bits)
                 : snprintf(buf, len, "code%d/%d", d.code, d.bits);
  if (d.lanes != 1 && n >= 0 && (size_t)n < len) snprintf(buf + n, len - (size_t)n, "x%d", d.lanes);
}

/* A dtype set as text: "int32", "float32 or float16", "float32, float16 or bfloat16". */
static void dtype_set_text(unsigned set, char *buf, size_t len) {
  int total = 0, done = 0;
  for (int d = 0; d <= TK_DTYPE_LAST; d++) total += (set >> d) & 1u;
  buf[0] = '\0';
  for (int d = 0; d <= TK_DTYPE_LAST; d++) {
    if (!((set >> d) & 1u)) continue;
    size_t used = strlen(buf);
    const char *sep = done == 0 ? "" : done == total - 1 ? " or " : ", ";
    snprintf(buf + used, len - used, "%s%s", sep, tk_dtype_name((tk_dtype)d));
    done++;
  }
}

static const char *device_text(int type) {
  return type == kDLCPU ? "cpu" : type == kDLCUDA ? "cuda" : "device";
}

/* A shape as text, "[2,5,2,8]". */
static void shape_text(const int64_t *shape, int ndim, char *buf, size_t len) {
  size_t used = (size_t)snprintf(buf, len, "[");
  for (int i = 0; i < ndim && used < len; i++)
    used += (size_t)snprintf(buf + used, len - used, "%s%lld", i ? "," : "", (long long)shape[i]);
  if (used < len) snprintf(buf + used, len - used, "]");
}

/* Checks the device of t and that it matches the call's earlier tensors. */
static tk_status take_device(tk_validator *v, const char *name, const DLTensor *t, tk_tensor *out) {
  int type = t->device.device_type, id = t->device.device_id;
  if (type == kDLCUDAHost) type = kDLCPU;
  if (type != kDLCPU && type != kDLCUDA)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: %s is on device type %d, expected kDLCPU or kDLCUDA", v->op, name,
                   t->device.device_type);
  if (type == kDLCPU) id = 0;
  if (id < 0)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has device id %d, expected >= 0", v->op, name,
                   id);
  if (v->have_device && (type != v->device_type || id != v->device_id))
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: %s is on %s:%d, but %s is on %s:%d (mixed devices)", v->op, name,
                   device_text(type), id, v->device_arg, device_text(v->device_type), v->device_id);
  if (!v->have_device) {
    v->have_device = 1;
    v->device_type = type;
    v->device_id = id;
    v->device_arg = name;
  }
  out->device_type = type;
  out->device_id = id;
  return TK_OK;
}

/* Checks sizes (>= 0, bytes of the row-major extent fitting int64) and
 * fills the shape; counts elements into *numel. */
static tk_status take_shape(const tk_validator *v, const char *name, const DLTensor *t,
                            const char *dims, tk_tensor *out, int64_t *numel) {
  int64_t bound = tk_dtype_size(out->dtype), count = 1;
  if (out->ndim > 0 && !t->shape)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has a NULL shape", v->op, name);
  for (int i = 0; i < out->ndim; i++) {
    int64_t s = t->shape[i];
    if (s < 0) {
      char dn[32];
      dims_name(dims, i, dn, sizeof dn);
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has negative size %lld at dim %d (%s)", v->op,
                     name, (long long)s, i, dn);
    }
    /* zero sizes count as 1 so that row-major strides also fit */
    if (!tk_mul_fits(bound, s > 1 ? s : 1, &bound)) {
      char st[160];
      shape_text(t->shape, out->ndim, st, sizeof st);
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has shape %s, too many elements", v->op, name,
                     st);
    }
    out->shape[i] = s;
    count *= s;
  }
  *numel = count;
  return TK_OK;
}

/* The most bytes one tensor's strides may span: no process addresses more
 * (x86-64 with 5-level paging: 2^57 in all, half of it user space). */
#define TK_MAX_SPAN_BYTES ((int64_t)1 << 56)

/* Checks user strides: the addressed span fits int64 and an address space
 * (in bytes); for
 * outputs strides are >= 0 and no two elements share an address. */
static tk_status check_strides(const tk_validator *v, const char *name, int is_output,
                               tk_tensor *out) {
  int64_t lo = 0, hi = 0, ext;
  for (int i = 0; i < out->ndim; i++) {
    if (out->shape[i] <= 1) continue;
    if (is_output && out->stride[i] < 0)
      return tk_fail(TK_ERR_INVALID_ARGUMENT,
                     "%s: %s is an output with negative stride %lld at dim %d", v->op, name,
                     (long long)out->stride[i], i);
    if (!tk_mul_fits(out->shape[i] - 1, out->stride[i], &ext) ||
        !tk_add_fits(ext < 0 ? lo : hi, ext, ext < 0 ? &lo : &hi))
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has strides whose span overflows int64",
                     v->op, name);
  }
  int64_t span;
  if (!tk_sub_fits(hi, lo, &span) || !tk_add_fits(span, 1, &span) ||
      !tk_mul_fits(span, tk_dtype_size(out->dtype), &span))
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has strides whose span overflows int64", v->op,
                   name);
  if (span > TK_MAX_SPAN_BYTES)
    return tk_fail(TK_ERR_INVALID_ARGUMENT,
                   "%s: %s has strides spanning %lld bytes, more than any address space (2^56)",
                   v->op, name, (long long)span);
  if (!is_output) return TK_OK;
  /* dims of extent > 1 by increasing stride: each stride must pass the
   * largest offset the smaller dims reach */
  int order[TK_MAX_DIMS], n = 0;
  for (int i = 0; i < out->ndim; i++) {
    if (out->shape[i] <= 1) continue;
    int j = n++;
    for (; j > 0 && out->stride[order[j - 1]] > out->stride[i]; j--) order[j] = order[j - 1];
    order[j] = i;
  }
  int64_t reach = 0;
  for (int j = 0; j < n; j++) {
    int d = order[j];
    if (out->stride[d] <= reach)
      return tk_fail(TK_ERR_INVALID_ARGUMENT,
                     "%s: %s is an output whose elements overlap (stride %lld at dim %d does not "
                     "pass offset %lld of the smaller dims)",
                     v->op, name, (long long)out->stride[d], d, (long long)reach);
    reach += out->stride[d] * (out->shape[d] - 1); /* <= hi, checked above */
  }
  return TK_OK;
}

/* The row-major stride of dim i of out (the product of the later extents,
 * zero extents counted as 1): what NULL strides give, and what the stride
 * of a dim that addresses one element is normalised to. Fits int64, as
 * take_shape checked. */
static int64_t row_major_stride(const tk_tensor *out, int i) {
  int64_t st = 1;
  for (int j = out->ndim - 1; j > i; j--) st *= out->shape[j] > 1 ? out->shape[j] : 1;
  return st;
}

/* Normalises the strides no element address depends on: those of dims of
 * extent 0 or 1 (their index is always 0), and every stride of a tensor
 * with no elements, become row-major ones. So no kernel ever multiplies a
 * caller's meaningless stride (a huge one overflows int64 even times 0's
 * neighbours, e.g. times the element size). */
static void normalise_strides(tk_tensor *out, int64_t numel) {
  for (int i = 0; i < out->ndim; i++)
    if (numel == 0 || out->shape[i] <= 1) out->stride[i] = row_major_stride(out, i);
}

tk_status tk_take_tensor(tk_validator *v, const char *name, const DLTensor *t, int flags,
                         unsigned dtypes, const char *dims, tk_tensor *out) {
  memset(out, 0, sizeof *out);
  if (!t) {
    if (flags & TK_ARG_OPTIONAL) return TK_OK;
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s is NULL", v->op, name);
  }
  int ndim = dims_count(dims);
  if (t->ndim != ndim)
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has rank %d, expected %d (%s)", v->op, name,
                   t->ndim, ndim, dims);
  out->ndim = ndim;
  if (!dtype_from_dl(t->dtype, &out->dtype) || !((dtypes >> out->dtype) & 1u)) {
    char got[32], want[64];
    dl_dtype_text(t->dtype, got, sizeof got);
    dtype_set_text(dtypes, want, sizeof want);
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has dtype %s, expected %s", v->op, name, got,
                   want);
  }
  tk_status s = take_device(v, name, t, out);
  if (s != TK_OK) return s;
  int64_t numel = 0;
  s = take_shape(v, name, t, dims, out, &numel);
  if (s != TK_OK) return s;
  if (t->strides) {
    memcpy(out->stride, t->strides, sizeof(int64_t) * (size_t)ndim);
    s = check_strides(v, name, flags & TK_ARG_OUTPUT, out);
    if (s != TK_OK) return s;
    normalise_strides(out, numel);
  } else {
    for (int i = 0; i < ndim; i++) out->stride[i] = row_major_stride(out, i);
  }
  if (t->data) {
    char *p = (char *)t->data + t->byte_offset;
    if ((uintptr_t)p % (uintptr_t)tk_dtype_size(out->dtype) != 0)
      return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s data is not aligned to its %d-byte elements",
                     v->op, name, (int)tk_dtype_size(out->dtype));
    out->data = p;
  } else if (v->need_data && numel > 0) {
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has NULL data", v->op, name);
  }
  out->present = 1;
  return TK_OK;
}

tk_status tk_expect_dim(const tk_validator *v, const char *name, const tk_tensor *t, int dim,
                        const char *dim_name, int64_t want, const char *source) {
  if (t->shape[dim] == want) return TK_OK;
  char st[160];
  shape_text(t->shape, t->ndim, st, sizeof st);
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has %s=%lld (dim %d of %s), expected %lld (%s)",
                 v->op, name, dim_name, (long long)t->shape[dim], dim, st, (long long)want, source);
}

tk_status tk_expect_dtype(const tk_validator *v, const char *name, const tk_tensor *t,
                          tk_dtype want, const char *source) {
  if (t->dtype == want) return TK_OK;
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s has dtype %s, expected %s (%s)", v->op, name,
                 tk_dtype_name(t->dtype), tk_dtype_name(want), source);
}

tk_status tk_expect_at_least(const tk_validator *v, const char *what, int64_t value, int64_t min) {
  if (value >= min) return TK_OK;
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s is %lld, expected >= %lld", v->op, what,
                 (long long)value, (long long)min);
}

tk_status tk_expect_int32_addressable(const tk_validator *v, const char *what, int64_t value,
                                      const char *index) {
  if (value <= INT32_MAX) return TK_OK;
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s is %lld, more than int32 %s can address", v->op,
                 what, (long long)value, index);
}

tk_status tk_resolve_scale(const tk_validator *v, float scale, int64_t D, float *out) {
  if (!isfinite(scale))
    return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: scale is %g, expected a finite number", v->op,
                   (double)scale);
  *out = scale != 0.0f ? scale : (float)(1.0 / sqrt((double)D));
  return TK_OK;
}

tk_status tk_check_softcap(const tk_validator *v, float softcap) {
  if (isfinite(softcap) && softcap >= 0.0f) return TK_OK;
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: softcap is %g, expected finite and >= 0 (0 = off)",
                 v->op, (double)softcap);
}

tk_status tk_check_window(const tk_validator *v, const char *name, int window) {
  if (window >= -1) return TK_OK;
  return tk_fail(TK_ERR_INVALID_ARGUMENT, "%s: %s is %d, expected >= -1 (-1 = unbounded)", v->op,
                 name, window);
}

int tk_tensor_row_major(const tk_tensor *t) {
  if (!t->present) return 1;
  for (int i = 0; i < t->ndim; i++)
    if (t->shape[i] == 0) return 1;
  int64_t want = 1;
  for (int i = t->ndim - 1; i >= 0; i--) {
    if (t->shape[i] > 1 && t->stride[i] != want) return 0;
    want *= t->shape[i];
  }
  return 1;
}
