/* tensor.c: dtype names and their DLPack dtypes. */
#include "kernels/runtime/tensor.h"

const char *tk_dtype_name(tk_dtype d) {
  switch (d) {
    case TK_F32: return "float32";
    case TK_F16: return "float16";
    case TK_BF16: return "bfloat16";
    case TK_I32: return "int32";
  }
  return "unknown";
}

DLDataType tk_dtype_dl(tk_dtype d) {
  switch (d) {
    case TK_F16: return (DLDataType){kDLFloat, 16, 1};
    case TK_BF16: return (DLDataType){kDLBfloat, 16, 1};
    case TK_I32: return (DLDataType){kDLInt, 32, 1};
    case TK_F32: break;
  }
  return (DLDataType){kDLFloat, 32, 1};
}
