/* tma_map.c: the remembered tensor maps of impls/cuda/tma_map.h. */
#include "impls/cuda/tma_map.h"

#include <cudaTypedefs.h>
#include <cuda_runtime_api.h>
#include <pthread.h>
#include <string.h>

/* Everything an encoding depends on (zeroed before filling, so memcmp
 * compares no padding garbage). */
typedef struct {
  const void *base;
  uint64_t dims[5], strides[4];
  uint32_t box[5];
  int rank, is_bf16;
} map_key;

typedef struct {
  map_key key[TK_TMA_MAP_CACHE];
  CUtensorMap map[TK_TMA_MAP_CACHE];
  int used, next; /* entries filled; the one replaced next */
} map_cache;

static _Thread_local map_cache cache;

static PFN_cuTensorMapEncodeTiled_v12000 encode_fn;
static pthread_once_t encode_once = PTHREAD_ONCE_INIT;

static void find_encode(void) {
  void *p = NULL;
  enum cudaDriverEntryPointQueryResult q;
  if (cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &p, 12000, cudaEnableDefault, &q) !=
          cudaSuccess ||
      q != cudaDriverEntryPointSuccess) {
    cudaGetLastError();
    p = NULL;
  }
  encode_fn = (PFN_cuTensorMapEncodeTiled_v12000)p;
}

int tk_tma_map_b16(CUtensorMap *map, int is_bf16, const void *base, int rank, const uint64_t *dims,
                   const uint64_t *strides, const uint32_t *box) {
  if (rank < 2 || rank > 5) return -1;
  map_key k;
  memset(&k, 0, sizeof k);
  k.base = base;
  k.rank = rank;
  k.is_bf16 = is_bf16 != 0;
  memcpy(k.dims, dims, sizeof *dims * (size_t)rank);
  memcpy(k.strides, strides, sizeof *strides * (size_t)(rank - 1));
  memcpy(k.box, box, sizeof *box * (size_t)rank);
  for (int i = 0; i < cache.used; i++)
    if (cache.key[i].base == base && memcmp(&cache.key[i], &k, sizeof k) == 0) {
      *map = cache.map[i];
      return 0;
    }
  pthread_once(&encode_once, find_encode);
  if (!encode_fn) return -1;
  const cuuint32_t elem_strides[5] = {1, 1, 1, 1, 1};
  CUresult r = encode_fn(map, is_bf16 ? CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 : CU_TENSOR_MAP_DATA_TYPE_FLOAT16,
                         (cuuint32_t)rank, (void *)base, (const cuuint64_t *)dims,
                         (const cuuint64_t *)strides, (const cuuint32_t *)box, elem_strides,
                         CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                         CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) return (int)r;
  const int slot = cache.next; /* the next free entry until all are used, then the oldest */
  cache.next = (slot + 1) % TK_TMA_MAP_CACHE;
  if (cache.used < TK_TMA_MAP_CACHE) cache.used++;
  cache.key[slot] = k;
  cache.map[slot] = *map;
  return 0;
}
