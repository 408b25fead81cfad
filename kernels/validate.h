/* validate.h: turning the DLTensor arguments of one call into checked
 * tk_tensors, and the shape/dtype/scalar checks the op validators share.
 * Every failure sets tk_last_error() to "<op>: <arg> <what is wrong>".
 *
 * Devices: kDLCPU and kDLCUDA. kDLCUDAHost (pinned host memory) is plain
 * host memory to the CPU, so it is accepted and recorded as kDLCPU; every
 * other device type (kDLCUDAManaged included) is TK_ERR_INVALID_ARGUMENT.
 * Host tensors are all one device: their device_id is recorded as 0.
 */
#ifndef TK_KERNELS_VALIDATE_H
#define TK_KERNELS_VALIDATE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/problem.h"
#include "runtime/status.h"
#include "runtime/tensor.h"
#include "tokamax.h"

/* The state of validating one call: which op (for messages), whether data
 * is required, and the device the tensors seen so far live on. */
typedef struct {
  const char *op;
  int need_data;
  int have_device;
  int device_type, device_id;
  const char *device_arg; /* the argument that fixed the device */
} tk_validator;

/* Sets of allowed dtypes, as bits (1 << tk_dtype). */
enum {
  TK_DT_F32 = 1u << TK_F32,
  TK_DT_F16 = 1u << TK_F16,
  TK_DT_BF16 = 1u << TK_BF16,
  TK_DT_I32 = 1u << TK_I32,
  TK_DT_FP8 = 1u << TK_FP8_E4M3,
  TK_DT_I8 = 1u << TK_I8,
  TK_DT_DATA = TK_DT_F32 | TK_DT_F16 | TK_DT_BF16
};

/* How a tensor argument is used. */
enum {
  TK_ARG_INPUT = 0,
  TK_ARG_OUTPUT = 1,  /* strides >= 0, no self-overlap */
  TK_ARG_OPTIONAL = 2 /* NULL gives present == 0 (or with OUTPUT) */
};

/* Starts validating one call of op (its name, e.g. "attention"). */
void tk_validator_init(tk_validator *v, const char *op, int need_data);

/* Checks argument `name` and fills *out. dims is the expected shape as text,
 * e.g. "[B,Tq,Hq,D]": its entry count is the required rank and its names
 * appear in messages. Checks: NULL (unless optional), rank, dtype in the
 * dtypes set, lanes 1, device type and same device as the earlier
 * arguments, sizes >= 0, element and byte counts fitting int64, strides
 * (NULL = row-major; any value for inputs, with the addressed span checked
 * for overflow; non-negative and non-overlapping for outputs), data NULL
 * only without need_data or with no elements, data + byte_offset aligned to
 * the element size. In *out the strides of dims of extent 0 or 1 (and all
 * strides of a tensor with no elements) are normalised to row-major ones:
 * no address depends on them, and no kernel may multiply the caller's. */
tk_status tk_take_tensor(tk_validator *v, const char *name, const DLTensor *t, int flags,
                         unsigned dtypes, const char *dims, tk_tensor *out);

/* Requires dimension dim of argument `name` (named dim_name) to equal want;
 * `source` says where want comes from, e.g. "q's B". */
tk_status tk_expect_dim(const tk_validator *v, const char *name, const tk_tensor *t, int dim,
                        const char *dim_name, int64_t want, const char *source);

/* Requires argument `name` to have dtype want; `source` says why, e.g.
 * "q's dtype". */
tk_status tk_expect_dtype(const tk_validator *v, const char *name, const tk_tensor *t,
                          tk_dtype want, const char *source);

/* Requires a size to be at least min (e.g. heads >= 1); `what` names it,
 * e.g. "k's Hkv". */
tk_status tk_expect_at_least(const tk_validator *v, const char *what, int64_t value, int64_t min);

/* Requires a size to fit an int32 index tensor that must address it;
 * `what` names the size, `index` the int32 tensor. */
tk_status tk_expect_int32_addressable(const tk_validator *v, const char *what, int64_t value,
                                      const char *index);

/* Checks scale is finite and resolves 0 to 1/sqrt(D) into *out. */
tk_status tk_resolve_scale(const tk_validator *v, float scale, int64_t D, float *out);

/* Checks softcap is finite and >= 0 (0 = off). */
tk_status tk_check_softcap(const tk_validator *v, float softcap);

/* Checks a window bound (`name`) is >= -1 (-1 = unbounded). */
tk_status tk_check_window(const tk_validator *v, const char *name, int window);

/* Zeroes the call-wide fields of *out and the first op_size bytes of its
 * union (the op's struct, padding included, which the dispatch memo
 * compares), not the rest of the union. */
static inline void tk_problem_clear(tk_problem *out, size_t op_size) {
  memset(out, 0, offsetof(tk_problem, u) + op_size);
}

/* Fills the call-wide fields of *out (op, device, dtype, has_data) once
 * every check of the call passed. */
void tk_validator_finish(const tk_validator *v, tk_op op, tk_dtype dtype, tk_problem *out);

/* 1 when the data-dependent checks apply: data is required and the tensors
 * live in host memory. */
static inline int tk_validator_host_data(const tk_validator *v) {
  return v->need_data && v->device_type == kDLCPU;
}

/* 1 if t is absent or laid out row-major contiguous (strides of extent-1
 * dims do not matter). */
int tk_tensor_row_major(const tk_tensor *t);

#endif
