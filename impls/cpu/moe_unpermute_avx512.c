/* moe_unpermute_avx512.c: the cpu unpermute's gather-reduce
 * (moe_unpermute_body.h) and its backward's row kernels
 * (moe_unpermute_backward_body.h) in 16-lane AVX-512 vectors. */
#include "impls/cpu/simd_avx512.h"

#define LANES 16
typedef __m512 vec;
#define VZERO() _mm512_setzero_ps()
#define VSET1(x) _mm512_set1_ps(x)
#define VFMA(a, b, c) _mm512_fmadd_ps(a, b, c)
#define VLOAD(p, d) tk512_load(p, d)
#define VLOAD_N(p, d, n) tk512_load_n(p, d, n)
#define VSTORE(p, d, v) tk512_store(p, d, v)
#define VSTORE_N(p, d, v, n) tk512_store_n(p, d, v, n)
#define VSTREAM(p, d, v) stream16(p, d, v)
#define REDUCE_TOKENS tk_moe_reduce_tokens_avx512
#define VHSUM(v) _mm512_reduce_add_ps(v)
#define SCATTER_TOKENS tk_moe_scatter_tokens_avx512
#define GATHER_ROWS tk_moe_gather_rows_avx512
#define DOT_TOKENS tk_moe_dot_tokens_avx512

/* Non-temporal store of 16 lanes of v at p in dtype d (p 64-byte aligned
 * for f32, 32 for f16/bf16). */
static inline void stream16(void *p, tk_dtype d, __m512 v) {
  switch (d) {
    case TK_BF16: _mm256_stream_si256(p, tk512_f32_to_bf16(v)); break;
    case TK_F16:
      _mm256_stream_si256(p, _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
      break;
    default: _mm512_stream_ps(p, v); break;
  }
}

#include "impls/cpu/moe_unpermute_body.h"
#include "impls/cpu/moe_unpermute_backward_body.h"
