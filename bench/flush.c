/* flush.c: evicting a case's buffers from every cache level before a timed
 * call of a memory-bound row, so its bytes come from memory as they would
 * in a model whose other layers ran in between. clflush per 64-byte line
 * costs in proportion to the case, not to the cache size. */
#include <emmintrin.h>

#include "bench/tokamax_bench.h"
#include "regress/case_internal.h"

void tk_flush_case(const tk_case *c) {
  for (int i = 0; i < c->n_tensors; i++) {
    const tk_case_tensor *t = &c->t[i];
    size_t bytes = t->data_bytes + (t->is_output ? TK_CASE_GUARD : 0);
    for (size_t off = 0; off < bytes; off += 64) _mm_clflush(t->buf + off);
    if (bytes) _mm_clflush(t->buf + bytes - 1); /* the last line when buf is not line-aligned */
  }
  _mm_mfence();
}
