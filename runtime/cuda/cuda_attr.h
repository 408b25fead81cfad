/* cuda_attr.h: integer device attributes asked of the CUDA runtime once per
 * (device, attribute) and remembered, so the hot path of a call (launch
 * checks, workspace allocation, support rules) makes no attribute query
 * after the first. Plain C, thread-safe; defined only in CUDA builds
 * (runtime/cuda/cuda_attr.c). */
#ifndef TK_RUNTIME_CUDA_CUDA_ATTR_H
#define TK_RUNTIME_CUDA_CUDA_ATTR_H

/* The value of attribute `attr` (a cudaDeviceAttr) of CUDA device
 * `device`, 0 when the runtime cannot say (a failure is not remembered and
 * leaves no sticky error). Devices past TK_MAX_CUDA_DEVICES and attributes
 * past TK_CUDA_ATTR_SLOTS are asked every time. */
int tk_cuda_device_attr(int device, int attr);

/* Attribute ids below this are remembered. */
#define TK_CUDA_ATTR_SLOTS 160

#endif
