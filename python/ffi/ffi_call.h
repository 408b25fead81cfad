/* ffi_call.h: one XLA FFI call of a tokamax_c handler, read through the
 * FFI C API (jaxlib's xla/ffi/api/c_api.h): the frame checks XLA expects
 * of a handler (struct size, the metadata query, the stage), attributes,
 * buffers as DLTensors, and errors carrying the library's message. */
#ifndef TKFFI_CALL_H
#define TKFFI_CALL_H

#include "tokamax.h"
#include "xla/ffi/api/c_api.h"

#define TKFFI_EXPORT __attribute__((visibility("default")))
#define TKFFI_MAX_DIMS 8
#define TKFFI_MAX_TENSORS 10

/* Returns from the enclosing handler when expr gives an error. */
#define TKFFI_TRY(expr)                 \
  do {                                  \
    XLA_FFI_Error *tkffi_err_ = (expr); \
    if (tkffi_err_) return tkffi_err_;  \
  } while (0)

typedef struct {
  XLA_FFI_CallFrame *frame;
  const XLA_FFI_Api *api;
  const char *op; /* "attention", for messages */
  int cuda;       /* registered for the CUDA platform (else the CPU) */
} tkffi_call;

/* A buffer as a DLTensor (row-major: XLA's default layout, which the
 * Python wrappers request), with its own copy of the shape. */
typedef struct {
  DLTensor dl;
  int64_t shape[TKFFI_MAX_DIMS];
} tkffi_tensor;

/* An error for XLA, message printf-style. */
XLA_FFI_Error *tkffi_error(const tkffi_call *c, XLA_FFI_Error_Code code, const char *fmt, ...);

/* The error of a failed library call: "<status name>: <tk_last_error()>". */
XLA_FFI_Error *tkffi_status_error(const tkffi_call *c, tk_status s);

/* Integer (S8..S64, U8..U64, PRED), float (F32, F64) and string
 * attributes by name; a missing or mistyped one is an error. */
XLA_FFI_Error *tkffi_attr_int(const tkffi_call *c, const char *name, int *out);
XLA_FFI_Error *tkffi_attr_float(const tkffi_call *c, const char *name, float *out);
XLA_FFI_Error *tkffi_attr_string(const tkffi_call *c, const char *name, char *buf, size_t len);

/* One tensor of a handler's signature. */
typedef struct {
  const char *name;
  int output;          /* a result buffer, not an argument */
  const char *present; /* int attribute saying whether it is passed; NULL: always */
  int rank;            /* its rank without vmap's leading axes */
} tkffi_slot;

/* Starts a call of handler `op` with the signature slots[0..n): *run is
 * set to 1 when the handler should compute; 0 with NULL returned when XLA
 * only asked for the handler's metadata; otherwise the error to return.
 * Takes the call's buffers in slot order (arguments and results each in
 * their own order): tensors[i] views slot i's buffer, NULL for a slot its
 * `present` attribute leaves out. Checks the counts and each buffer's
 * kind; dtypes map to DLPack (shapes and dtypes are then the library's to
 * check, with its messages). */
XLA_FFI_Error *tkffi_begin(tkffi_call *c, XLA_FFI_CallFrame *frame, const char *op, int cuda,
                           const tkffi_slot *slots, int n, tkffi_tensor *store, DLTensor **tensors,
                           int *run);

/* jax.vmap (vmap_method="broadcast_all") puts the same leading axes on
 * every buffer; when all present tensors have exactly those extra axes
 * over their slot's rank, merges them into the first axis (row-major, so
 * no data moves). Otherwise leaves the shapes as they are. */
void tkffi_fold_batch(const tkffi_slot *slots, int n, DLTensor **tensors);

/* Runs run(ctx, args, opts) with the context of this call's platform (and
 * XLA's stream on CUDA) and the impl/config attributes as call options. */
XLA_FFI_Error *tkffi_run(const tkffi_call *c, const void *args,
                         tk_status (*run)(tk_context *, const void *, const tk_call_options *));

/* The exported CPU and CUDA handlers of one op over handler(frame, cuda). */
#define TKFFI_HANDLERS(name, handler)                                     \
  TKFFI_EXPORT XLA_FFI_Error *tkffi_##name##_cpu(XLA_FFI_CallFrame *f) {  \
    return handler(f, 0);                                                 \
  }                                                                       \
  TKFFI_EXPORT XLA_FFI_Error *tkffi_##name##_cuda(XLA_FFI_CallFrame *f) { \
    return handler(f, 1);                                                 \
  }

#endif /* TKFFI_CALL_H */
