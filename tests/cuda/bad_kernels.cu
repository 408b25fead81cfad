/* bad_kernels.cu: kernels that scripts/gpu/check_kernels.sh must reject,
 * compiled for sm_90a by tests/test_cuda_kernels.sh (never linked into
 * anything): a spill to local memory, a setmaxnreg split that does not
 * balance, a "pipelined" kernel without wgmma or TMA, and an sm_90a probe
 * without its shared memory marker. */

/* Stores into a register array at a run-time index: it lives in local memory. */
__global__ void spills(float *out, int i) {
  float a[256];
#pragma unroll
  for (int k = 0; k < 256; k++) a[k] = out[k];
  a[i & 255] += 1.f;
  float s = 0.f;
#pragma unroll
  for (int k = 0; k < 256; k++) s += a[k] * (float)k;
  out[0] = s;
}

/* 3 warpgroups, 24 + 2 x 232 registers: not 3 x the entry count. */
__global__ void __launch_bounds__(384, 1) unbalanced(float *out) {
  if (threadIdx.x < 128) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 24;\n");
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;\n");
    out[threadIdx.x] = 1.f;
  }
}

/* Named like the pipelined attention kernel, but plain FFMA code. */
__global__ void tk_pipelined_kernel(float *out) { out[threadIdx.x] = out[threadIdx.x] * 2.f + 1.f; }

/* Named like the probe, without the marker. */
__global__ void tk_sm90a_probe(int *out) { out[threadIdx.x] = threadIdx.x; }
