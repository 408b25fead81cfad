/* tensor.c: dtype names and their DLPack dtypes, and the memory a tensor
 * addresses. */
#include "runtime/tensor.h"

const char *tk_dtype_name(tk_dtype d) {
  switch (d) {
    case TK_F32: return "float32";
    case TK_F16: return "float16";
    case TK_BF16: return "bfloat16";
    case TK_I32: return "int32";
    case TK_FP8_E4M3: return "float8_e4m3fn";
    case TK_I8: return "int8";
  }
  return "unknown";
}

const char *tk_dtype_short(tk_dtype d) {
  switch (d) {
    case TK_F32: return "f32";
    case TK_F16: return "f16";
    case TK_BF16: return "bf16";
    case TK_I32: return "i32";
    case TK_FP8_E4M3: return "fp8";
    case TK_I8: return "i8";
  }
  return "unknown";
}

DLDataType tk_dtype_dl(tk_dtype d) {
  switch (d) {
    case TK_F16: return (DLDataType){kDLFloat, 16, 1};
    case TK_BF16: return (DLDataType){kDLBfloat, 16, 1};
    case TK_I32: return (DLDataType){kDLInt, 32, 1};
    case TK_FP8_E4M3: return (DLDataType){TK_DL_FLOAT8_E4M3FN, 8, 1};
    case TK_I8: return (DLDataType){kDLInt, 8, 1};
    case TK_F32: break;
  }
  return (DLDataType){kDLFloat, 32, 1};
}

int64_t tk_tensor_span(const tk_tensor *t, int64_t *first) {
  int64_t lo = 0, hi = 0;
  *first = 0;
  for (int d = 0; d < t->ndim; d++) {
    if (t->shape[d] == 0) return 0;
    const int64_t reach = (t->shape[d] - 1) * t->stride[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  *first = lo;
  return hi - lo + 1;
}

int64_t tk_tensor_extent(const tk_tensor *t) {
  int64_t first;
  return tk_tensor_span(t, &first);
}
