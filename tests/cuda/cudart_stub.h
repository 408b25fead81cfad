/* cudart_stub.h: a stand-in for the CUDA runtime calls that
 * impls/cuda/launch_cache.c, tma_map.c, sm90a.c and runtime/cuda/cuda_attr.c
 * make, so tests/cuda/test_launch_cache.c can count them without a GPU.
 * Devices 0..TK_STUB_DEVICES-1 exist; each has a compute capability, an
 * opt-in shared memory limit, and the static shared memory the runtime
 * would report for the sm_90a probe kernel. */
#ifndef TK_TESTS_CUDA_CUDART_STUB_H
#define TK_TESTS_CUDA_CUDART_STUB_H

#define TK_STUB_DEVICES 4

typedef struct {
  int cc_major, cc_minor, smem_optin, probe_smem;
} tk_stub_device;

/* What each stub device is; tests may change it before first use. */
extern tk_stub_device tk_stub_devices[TK_STUB_DEVICES];

/* Calls made so far, per runtime function (and the driver's encode). */
typedef struct {
  long get_device, set_device, device_attr, func_set_attr, func_get_attrs, entry_point, encode;
} tk_stub_counts;

/* A snapshot of the counts (thread-safe). */
tk_stub_counts tk_stub_calls(void);

/* Total calls in a snapshot. */
long tk_stub_total(tk_stub_counts c);

/* The dynamic shared memory limit last set on `kernel` for `device` (0 if none). */
int tk_stub_kernel_limit(const void *kernel, int device);

#endif
