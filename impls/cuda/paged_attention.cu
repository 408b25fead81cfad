/* paged_attention.cu: the paged attention entry points: which kernel takes
 * a call, its device workspace (unit table, split partials), the unit
 * table and split-merge kernels, and the launch sequence. Nothing is read
 * back to the host: the grid is sized by a host-side bound on the units
 * and CTAs past the last unit exit at once. */
#include "impls/cuda/attention_scalar.cuh"
#include "runtime/tensor.h"
#include "impls/cuda/paged_attention.cuh"

#define TK_UNITS_THREADS 256

/* Round-up of bytes to the 256-byte alignment of workspace sections. */
static size_t tk_ws_align(size_t n) { return (n + 255) / 256 * 256; }

/* cu_units[s] = units of the sequences before s (units of m rows),
 * cu_units[S] = all of them (capped at INT_MAX). One CTA. */
__global__ void __launch_bounds__(TK_UNITS_THREADS)
    tk_paged_units_kernel(const tk_cuda_paged_args a, int m, int *cu_units) {
  __shared__ long long part[TK_UNITS_THREADS];
  const int tid = threadIdx.x, group = a.Hq / a.Hkv;
  const int per = (a.S + TK_UNITS_THREADS - 1) / TK_UNITS_THREADS;
  const int s0 = min(tid * per, a.S), s1 = min(s0 + per, a.S);
  long long sum = 0;
  for (int s = s0; s < s1; s++) {
    int first;
    sum += tk_paged_units(tk_paged_q_len(a, s, &first), group, m);
  }
  part[tid] = sum;
  __syncthreads();
  for (int d = 1; d < TK_UNITS_THREADS; d *= 2) { /* inclusive scan */
    const long long v = tid >= d ? part[tid - d] : 0;
    __syncthreads();
    part[tid] += v;
    __syncthreads();
  }
  long long run = part[tid] - sum;
  for (int s = s0; s < s1; s++) {
    int first;
    cu_units[s] = (int)min(run, 0x7fffffffLL);
    run += tk_paged_units(tk_paged_q_len(a, s, &first), group, m);
  }
  if (tid == TK_UNITS_THREADS - 1) cu_units[a.S] = (int)min(part[tid], 0x7fffffffLL);
}

/* out[row, head] = the log-sum-exp weighted mean of the nsplit partials;
 * one warp per (row, head), splits summed in order. */
template <typename T>
__global__ void __launch_bounds__(128)
    tk_paged_merge_kernel(const tk_cuda_paged_args a, int nsplit, const float *part_o,
                          const float *part_lse) {
  const long long idx = (long long)blockIdx.x * 4 + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (idx >= (long long)a.Tq_total * a.Hq) return;
  const int64_t row = idx / a.Hq, head = idx % a.Hq, stride = (int64_t)a.Tq_total * a.Hq;
  float mx = -INFINITY;
  for (int sp = 0; sp < nsplit; sp++) mx = fmaxf(mx, part_lse[idx + sp * stride]);
  float total = 0.f;
  for (int sp = 0; sp < nsplit; sp++)
    total += mx == -INFINITY ? 0.f : expf(part_lse[idx + sp * stride] - mx);
  const float inv = total > 0.f ? 1.f / total : 0.f;
  T *dst = (T *)a.out + row * a.so[0] + head * a.so[1];
  for (int d = lane; d < a.Dv; d += 32) {
    float acc = 0.f;
    for (int sp = 0; sp < nsplit; sp++) {
      const float lse = part_lse[idx + sp * stride];
      if (lse != -INFINITY) acc += expf(lse - mx) * part_o[(idx + sp * stride) * a.Dv + d];
    }
    tk_from_f32(dst + d * a.so[2], acc * inv);
  }
}

extern "C" int tk_cuda_paged_attention_fast(const tk_cuda_paged_args *a) {
  int dp, dvp;
  if ((a->dtype != TK_F16 && a->dtype != TK_BF16) || a->kv_dtype != a->dtype ||
      !tk_attn_bucket(a->D, a->Dv, &dp, &dvp))
    return 0;
  const int qe[3] = {a->Tq_total, a->Hq, a->D}, oe[3] = {a->Tq_total, a->Hq, a->Dv};
  const int ke[4] = {a->P, a->page_size, a->Hkv, a->D}, ve[4] = {a->P, a->page_size, a->Hkv, a->Dv};
  return tk_rows_aligned16(a->q, a->sq, qe, 3) && tk_rows_aligned16(a->out, a->so, oe, 3) &&
         tk_rows_aligned16(a->k_cache, a->sk, ke, 4) && tk_rows_aligned16(a->v_cache, a->sv, ve, 4);
}

/* Bytes of the workspace sections: unit table, split lse, split outputs. */
static void tk_paged_ws_parts(const tk_cuda_paged_args *a, int splits, size_t *table, size_t *lse,
                              size_t *o) {
  const size_t rows = (size_t)a->Tq_total * (size_t)a->Hq * (size_t)(splits > 1 ? splits : 0);
  *table = a->cu_q_lens ? tk_ws_align(sizeof(int) * ((size_t)a->S + 1)) : 0;
  *lse = tk_ws_align(sizeof(float) * rows);
  *o = tk_ws_align(sizeof(float) * rows * (size_t)a->Dv);
}

extern "C" size_t tk_cuda_paged_attention_workspace(const tk_cuda_paged_args *a,
                                                    const tk_cuda_paged_config *c) {
  size_t table, lse, o;
  tk_paged_ws_parts(a, c->splits, &table, &lse, &o);
  return table + lse + o;
}

/* Launches the merge of c->splits partials into out. */
static cudaError_t tk_paged_merge(const tk_cuda_paged_args &a, int splits, const float *part_o,
                                  const float *part_lse, cudaStream_t stream) {
  const long long blocks = ((long long)a.Tq_total * a.Hq + 3) / 4;
  if (blocks > 0x7fffffffLL) return cudaErrorInvalidConfiguration;
  const unsigned g = (unsigned)blocks;
  if (a.dtype == TK_BF16)
    tk_paged_merge_kernel<__nv_bfloat16><<<g, 128, 0, stream>>>(a, splits, part_o, part_lse);
  else
    tk_paged_merge_kernel<__half><<<g, 128, 0, stream>>>(a, splits, part_o, part_lse);
  return cudaGetLastError();
}

extern "C" int tk_cuda_paged_attention(const tk_cuda_paged_args *a, const tk_cuda_paged_config *c,
                                       void *workspace, void *stream) {
  if (a->Tq_total == 0 || a->S == 0) return cudaSuccess;
  cudaStream_t s = (cudaStream_t)stream;
  const int fast = tk_cuda_paged_attention_fast(a), group = a->Hq / a->Hkv;
  const int m = fast ? 16 * c->row_warps : TK_SCALAR_ROWS;
  const long long units = a->cu_q_lens ? tk_paged_max_units(a->Tq_total, a->S, group, m)
                                       : (long long)a->S * ((group + m - 1) / m);
  size_t table, lse_bytes, o_bytes;
  tk_paged_ws_parts(a, c->splits, &table, &lse_bytes, &o_bytes);
  int *cu_units = a->cu_q_lens ? (int *)workspace : nullptr;
  if (cu_units) {
    tk_paged_units_kernel<<<1, TK_UNITS_THREADS, 0, s>>>(*a, m, cu_units);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return e;
  }
  if (!fast) return tk_paged_attention_scalar(*a, units, cu_units, s);
  float *part_lse = (float *)((char *)workspace + table), *part_o = (float *)((char *)part_lse + lse_bytes);
  cudaError_t e = a->dtype == TK_BF16
                      ? tk_paged_attention_bf16(*a, *c, units, cu_units, part_o, part_lse, s)
                      : tk_paged_attention_f16(*a, *c, units, cu_units, part_o, part_lse, s);
  if (e != cudaSuccess || c->splits == 1) return e;
  return tk_paged_merge(*a, c->splits, part_o, part_lse, s);
}
