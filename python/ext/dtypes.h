/* dtypes.h: NumPy dtypes <-> DLPack dtypes, bfloat16 through ml_dtypes. */
#ifndef TKPY_DTYPES_H
#define TKPY_DTYPES_H

#include "numpy_api.h"
#include "tokamax.h"

/* The DLPack dtype of a NumPy array's elements. Native byte order only;
 * kinds float, int and uint map by size (the library rejects sizes it does
 * not take, with its own message), ml_dtypes.bfloat16 maps to bfloat16.
 * Returns 0, or -1 with an exception naming op and argument. */
int tkpy_dtype_of_array(PyArrayObject *a, const char *op, const char *name, DLDataType *out);

/* A new reference to the NumPy dtype of a DLPack dtype (float32, float16,
 * bfloat16, int32 and the other plain sizes), or NULL with an exception. */
PyArray_Descr *tkpy_descr_of(DLDataType dt, const char *op, const char *name);

#endif /* TKPY_DTYPES_H */
