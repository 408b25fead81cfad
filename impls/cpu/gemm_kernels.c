/* gemm_kernels.c: which microkernel runs for an (instruction set, shape,
 * input dtype) choice on this CPU. */
#include "impls/cpu/gemm.h"
#include "runtime/device.h"

const tk_gemm_kernel *tk_gemm_kernel_for(tk_gemm_isa isa, int shape, tk_dtype dt,
                                         unsigned cpu_isa) {
  if (shape < 0 || shape > 1) return NULL;
  switch (isa) {
    case TK_GEMM_ISA_AVX2:
      if (!tk_isa_has(cpu_isa, TK_ISA_LEVEL_AVX2)) return NULL;
      return shape ? &tk_gemm_avx2_f32_4x24 : &tk_gemm_avx2_f32_6x16;
    case TK_GEMM_ISA_AVX512:
      if (!tk_isa_has(cpu_isa, TK_ISA_LEVEL_AVX512)) return NULL;
      if (dt == TK_BF16 && (cpu_isa & TK_ISA_AVX512_BF16))
        return shape ? &tk_gemm_avx512_bf16_8x48 : &tk_gemm_avx512_bf16_14x32;
      return shape ? &tk_gemm_avx512_f32_8x48 : &tk_gemm_avx512_f32_14x32;
    case TK_GEMM_ISA_AMX:
      if (!tk_isa_has(cpu_isa, TK_ISA_LEVEL_AMX_BF16) || dt != TK_BF16 || shape != 0)
        return NULL;
      return &tk_gemm_amx_bf16_32x32;
  }
  return NULL;
}
