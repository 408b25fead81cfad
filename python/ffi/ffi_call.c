/* ffi_call.c: reading an XLA FFI call frame for the tokamax_c handlers. */
#include "ffi_call.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ffi_context.h"

XLA_FFI_Error *tkffi_error(const tkffi_call *c, XLA_FFI_Error_Code code, const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  XLA_FFI_Error_Create_Args a = {XLA_FFI_Error_Create_Args_STRUCT_SIZE, NULL, msg, code};
  return c->api->XLA_FFI_Error_Create(&a);
}

XLA_FFI_Error *tkffi_status_error(const tkffi_call *c, tk_status s) {
  XLA_FFI_Error_Code code = s == TK_ERR_INVALID_ARGUMENT ? XLA_FFI_Error_Code_INVALID_ARGUMENT
                            : s == TK_ERR_UNSUPPORTED    ? XLA_FFI_Error_Code_UNIMPLEMENTED
                            : s == TK_ERR_OUT_OF_MEMORY  ? XLA_FFI_Error_Code_RESOURCE_EXHAUSTED
                            : s == TK_ERR_CACHE          ? XLA_FFI_Error_Code_FAILED_PRECONDITION
                                                         : XLA_FFI_Error_Code_INTERNAL;
  return tkffi_error(c, code, "%s: %s", tk_status_string(s), tk_last_error());
}

/* Answers XLA's metadata query: the FFI version this handler was built
 * against, no traits, no state. */
static XLA_FFI_Error *answer_metadata(const tkffi_call *c, XLA_FFI_Metadata_Extension *ext) {
  if (ext->extension_base.struct_size < XLA_FFI_Metadata_Extension_STRUCT_SIZE || !ext->metadata ||
      ext->metadata->struct_size < XLA_FFI_Metadata_STRUCT_SIZE)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: XLA's metadata struct is smaller than this handler's header",
                       c->op);
  XLA_FFI_Metadata *m = ext->metadata;
  m->api_version = (XLA_FFI_Api_Version){XLA_FFI_Api_Version_STRUCT_SIZE, NULL, XLA_FFI_API_MAJOR,
                                         XLA_FFI_API_MINOR};
  m->traits = 0;
  if (m->struct_size >= offsetof(XLA_FFI_Metadata, state_type_id) + sizeof m->state_type_id)
    m->state_type_id = (XLA_FFI_TypeId){0};
  return NULL;
}

/* The frame checks of tkffi_begin. */
static XLA_FFI_Error *check_frame(tkffi_call *c, XLA_FFI_CallFrame *frame, const char *op, int cuda,
                                  int *run) {
  c->frame = frame;
  c->api = frame->api;
  c->op = op;
  c->cuda = cuda;
  *run = 0;
  if (frame->struct_size < XLA_FFI_CallFrame_STRUCT_SIZE)
    return tkffi_error(
        c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
        "tokamax_c %s: XLA's call frame has %zu bytes, fewer than this handler's %zu", op,
        frame->struct_size, (size_t)XLA_FFI_CallFrame_STRUCT_SIZE);
  if (frame->extension_start && frame->extension_start->type == XLA_FFI_Extension_Metadata)
    return answer_metadata(c, (XLA_FFI_Metadata_Extension *)frame->extension_start);
  if (frame->stage != XLA_FFI_ExecutionStage_EXECUTE)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: called at stage %d, expected execute", op, (int)frame->stage);
  *run = 1;
  return NULL;
}

/* The index of attribute `name`, -1 when absent. */
static int64_t find_attr(const tkffi_call *c, const char *name) {
  const XLA_FFI_Attrs *a = &c->frame->attrs;
  size_t len = strlen(name);
  for (int64_t i = 0; i < a->size; i++)
    if (a->names[i]->len == len && memcmp(a->names[i]->ptr, name, len) == 0) return i;
  return -1;
}

/* Scalar attribute `name`, or an error naming it. */
static XLA_FFI_Error *scalar_attr(const tkffi_call *c, const char *name,
                                  const XLA_FFI_Scalar **out) {
  int64_t i = find_attr(c, name);
  if (i < 0)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT, "tokamax_c %s: no attribute %s",
                       c->op, name);
  if (c->frame->attrs.types[i] != XLA_FFI_AttrType_SCALAR)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: attribute %s is not a scalar", c->op, name);
  *out = c->frame->attrs.attrs[i];
  return NULL;
}

XLA_FFI_Error *tkffi_attr_int(const tkffi_call *c, const char *name, int *out) {
  const XLA_FFI_Scalar *s;
  TKFFI_TRY(scalar_attr(c, name, &s));
  int64_t v;
  switch (s->dtype) {
    case XLA_FFI_DataType_PRED:
    case XLA_FFI_DataType_S8:
      v = *(const int8_t *)s->value;
      break;
    case XLA_FFI_DataType_U8:
      v = *(const uint8_t *)s->value;
      break;
    case XLA_FFI_DataType_S16:
      v = *(const int16_t *)s->value;
      break;
    case XLA_FFI_DataType_U16:
      v = *(const uint16_t *)s->value;
      break;
    case XLA_FFI_DataType_S32:
      v = *(const int32_t *)s->value;
      break;
    case XLA_FFI_DataType_U32:
      v = *(const uint32_t *)s->value;
      break;
    case XLA_FFI_DataType_S64:
      v = *(const int64_t *)s->value;
      break;
    case XLA_FFI_DataType_U64:
      v = (int64_t) * (const uint64_t *)s->value;
      break;
    default:
      return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                         "tokamax_c %s: attribute %s has XLA type %d, expected an integer", c->op,
                         name, (int)s->dtype);
  }
  if (v < -2147483647LL - 1 || v > 2147483647LL)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: attribute %s is %lld, out of the int range", c->op, name,
                       (long long)v);
  *out = (int)v;
  return NULL;
}

XLA_FFI_Error *tkffi_attr_float(const tkffi_call *c, const char *name, float *out) {
  const XLA_FFI_Scalar *s;
  TKFFI_TRY(scalar_attr(c, name, &s));
  if (s->dtype == XLA_FFI_DataType_F32)
    *out = *(const float *)s->value;
  else if (s->dtype == XLA_FFI_DataType_F64)
    *out = (float)*(const double *)s->value;
  else
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: attribute %s has XLA type %d, expected F32 or F64", c->op,
                       name, (int)s->dtype);
  return NULL;
}

XLA_FFI_Error *tkffi_attr_string(const tkffi_call *c, const char *name, char *buf, size_t len) {
  int64_t i = find_attr(c, name);
  if (i < 0)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT, "tokamax_c %s: no attribute %s",
                       c->op, name);
  if (c->frame->attrs.types[i] != XLA_FFI_AttrType_STRING)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: attribute %s is not a string", c->op, name);
  const XLA_FFI_ByteSpan *s = c->frame->attrs.attrs[i];
  if (s->len >= len)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "tokamax_c %s: attribute %s has %zu bytes, more than %zu", c->op, name,
                       s->len, len - 1);
  memcpy(buf, s->ptr, s->len);
  buf[s->len] = '\0';
  return NULL;
}

/* DLPack 1.x's type code kDLFloat8_e4m3fn, which older dlpack.h headers
 * lack (the library reads it as TK_FP8_E4M3). */
#define TKFFI_DL_FLOAT8_E4M3FN 10

/* The DLPack dtype of an XLA element type; 0 when it has none. */
static int dtype_of(XLA_FFI_DataType t, DLDataType *out) {
  static const struct {
    XLA_FFI_DataType xla;
    uint8_t code, bits;
  } map[] = {
      {XLA_FFI_DataType_F32, kDLFloat, 32},   {XLA_FFI_DataType_F16, kDLFloat, 16},
      {XLA_FFI_DataType_BF16, kDLBfloat, 16}, {XLA_FFI_DataType_F64, kDLFloat, 64},
      {XLA_FFI_DataType_S8, kDLInt, 8},       {XLA_FFI_DataType_S16, kDLInt, 16},
      {XLA_FFI_DataType_S32, kDLInt, 32},     {XLA_FFI_DataType_S64, kDLInt, 64},
      {XLA_FFI_DataType_U8, kDLUInt, 8},      {XLA_FFI_DataType_U16, kDLUInt, 16},
      {XLA_FFI_DataType_U32, kDLUInt, 32},    {XLA_FFI_DataType_U64, kDLUInt, 64},
      {XLA_FFI_DataType_F8E4M3FN, TKFFI_DL_FLOAT8_E4M3FN, 8},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i].xla == t) {
      *out = (DLDataType){map[i].code, map[i].bits, 1};
      return 1;
    }
  return 0;
}

/* Buffer b as tensor t of argument `name`. */
static XLA_FFI_Error *take_buffer(const tkffi_call *c, const XLA_FFI_Buffer *b, const char *name,
                                  int device_id, tkffi_tensor *t) {
  if (b->rank > TKFFI_MAX_DIMS)
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT, "%s: %s has rank %lld, more than %d",
                       c->op, name, (long long)b->rank, TKFFI_MAX_DIMS);
  memset(&t->dl, 0, sizeof t->dl);
  if (!dtype_of(b->dtype, &t->dl.dtype))
    return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                       "%s: %s has XLA element type %d, which the library does not take (float32, "
                       "float16 or bfloat16 data, int32 indices, int8 or float8_e4m3fn paged "
                       "KV caches)",
                       c->op, name, (int)b->dtype);
  for (int64_t i = 0; i < b->rank; i++) t->shape[i] = b->dims[i];
  t->dl.data = b->data;
  t->dl.device = (DLDevice){c->cuda ? kDLCUDA : kDLCPU, c->cuda ? device_id : 0};
  t->dl.ndim = (int)b->rank;
  t->dl.shape = t->shape;
  t->dl.strides = NULL;
  return NULL;
}

/* The device this call runs on (0 when XLA's API predates the query). */
static int device_ordinal(const tkffi_call *c) {
  if (!c->cuda || c->api->struct_size < offsetof(XLA_FFI_Api, XLA_FFI_DeviceOrdinal_Get) +
                                            sizeof c->api->XLA_FFI_DeviceOrdinal_Get)
    return 0;
  XLA_FFI_DeviceOrdinal_Get_Args a = {XLA_FFI_DeviceOrdinal_Get_Args_STRUCT_SIZE, NULL,
                                      c->frame->ctx, 0};
  XLA_FFI_Error *err = c->api->XLA_FFI_DeviceOrdinal_Get(&a);
  if (err) {
    XLA_FFI_Error_Destroy_Args d = {XLA_FFI_Error_Destroy_Args_STRUCT_SIZE, NULL, err};
    c->api->XLA_FFI_Error_Destroy(&d);
    return 0;
  }
  return a.device_ordinal;
}

/* The buffers of tkffi_begin. */
static XLA_FFI_Error *take(const tkffi_call *c, const tkffi_slot *slots, int n, tkffi_tensor *store,
                           DLTensor **tensors) {
  int present[TKFFI_MAX_TENSORS], want_args = 0, want_rets = 0;
  for (int i = 0; i < n; i++) {
    present[i] = 1;
    if (slots[i].present) TKFFI_TRY(tkffi_attr_int(c, slots[i].present, &present[i]));
    if (present[i]) *(slots[i].output ? &want_rets : &want_args) += 1;
  }
  const XLA_FFI_Args *args = &c->frame->args;
  const XLA_FFI_Rets *rets = &c->frame->rets;
  if (args->size != want_args || rets->size != want_rets)
    return tkffi_error(
        c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
        "tokamax_c %s: called with %lld arguments and %lld results, expected %d and %d", c->op,
        (long long)args->size, (long long)rets->size, want_args, want_rets);
  int device_id = device_ordinal(c);
  for (int i = 0, ai = 0, ri = 0; i < n; i++) {
    tensors[i] = NULL;
    if (!present[i]) continue;
    const XLA_FFI_Buffer *b;
    if (slots[i].output) {
      if (rets->types[ri] != XLA_FFI_RetType_BUFFER)
        return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                           "tokamax_c %s: result %s is not a buffer", c->op, slots[i].name);
      b = rets->rets[ri++];
    } else {
      if (args->types[ai] != XLA_FFI_ArgType_BUFFER)
        return tkffi_error(c, XLA_FFI_Error_Code_INVALID_ARGUMENT,
                           "tokamax_c %s: argument %s is not a buffer", c->op, slots[i].name);
      b = args->args[ai++];
    }
    TKFFI_TRY(take_buffer(c, b, slots[i].name, device_id, &store[i]));
    tensors[i] = &store[i].dl;
  }
  return NULL;
}

XLA_FFI_Error *tkffi_begin(tkffi_call *c, XLA_FFI_CallFrame *frame, const char *op, int cuda,
                           const tkffi_slot *slots, int n, tkffi_tensor *store, DLTensor **tensors,
                           int *run) {
  TKFFI_TRY(check_frame(c, frame, op, cuda, run));
  if (!*run) return NULL;
  XLA_FFI_Error *err = take(c, slots, n, store, tensors);
  if (err) *run = 0;
  return err;
}

void tkffi_fold_batch(const tkffi_slot *slots, int n, DLTensor **tensors) {
  int lead = -1;
  const int64_t *lead_dims = NULL;
  for (int i = 0; i < n; i++) {
    if (!tensors[i]) continue;
    int extra = tensors[i]->ndim - slots[i].rank;
    if (lead < 0) lead = extra, lead_dims = tensors[i]->shape;
    if (extra != lead || extra < 0) return;
    for (int d = 0; d < extra; d++)
      if (tensors[i]->shape[d] != lead_dims[d]) return;
  }
  if (lead <= 0) return;
  int64_t batch = 1;
  for (int d = 0; d < lead; d++) batch *= lead_dims[d];
  for (int i = 0; i < n; i++) {
    DLTensor *t = tensors[i];
    if (!t) continue;
    int64_t *s = t->shape; /* the tensor's own copy (tkffi_tensor.shape) */
    s[0] = batch * s[lead];
    memmove(s + 1, s + lead + 1, (size_t)(t->ndim - lead - 1) * sizeof *s);
    t->ndim -= lead;
  }
}

XLA_FFI_Error *tkffi_run(const tkffi_call *c, const void *args,
                         tk_status (*run)(tk_context *, const void *, const tk_call_options *)) {
  char impl[256], config[512];
  TKFFI_TRY(tkffi_attr_string(c, "impl", impl, sizeof impl));
  TKFFI_TRY(tkffi_attr_string(c, "config", config, sizeof config));
  tk_context *ctx;
  TKFFI_TRY(tkffi_context(c, &ctx));
  tk_call_options o = {impl[0] ? impl : NULL, config[0] ? config : NULL};
  tk_status s = run(ctx, args, &o);
  return s == TK_OK ? NULL : tkffi_status_error(c, s);
}
