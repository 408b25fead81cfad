/* fuzz_main.c: the libFuzzer entry of one target, chosen when compiling:
 * TK_FUZZ_OP (a tk_op enumerator) for an op's target, else TK_FUZZ_TARGET
 * (tk_fuzz_suite, tk_fuzz_import, tk_fuzz_cache_open or tk_fuzz_pack). */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
#ifdef TK_FUZZ_OP
  return tk_fuzz_op(TK_FUZZ_OP, data, size);
#else
  return TK_FUZZ_TARGET(data, size);
#endif
}
