/* test_launch_cache: the CUDA host code that runs before each launch asks
 * the runtime once and then nothing: impls/cuda/launch_cache.c (launch
 * device, shared memory limits per kernel and device), impls/cuda/tma_map.c
 * (tensor maps keyed by pointer and shape), impls/cuda/sm90a.c (the sm_90a
 * answer per device) and runtime/cuda/cuda_attr.c, linked against the
 * counting runtime of tests/cuda/cudart_stub.c instead of libcudart. Runs
 * on any machine: no GPU and no driver are involved. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "impls/cuda/launch_cache.h"
#include "impls/cuda/sm90a.h"
#include "impls/cuda/tma_map.h"
#include "runtime/cuda/cuda_attr.h"
#include "runtime/device.h"
#include "tests/cuda/cudart_stub.h"
#include "tests/tk_test.h"

/* Stand-ins for kernels: only their addresses matter. */
static char kernels[3000][16];

/* The calls made since `before`. */
static tk_stub_counts since(tk_stub_counts before) {
  tk_stub_counts now = tk_stub_calls();
  return (tk_stub_counts){now.get_device - before.get_device, now.set_device - before.set_device,
                          now.device_attr - before.device_attr,
                          now.func_set_attr - before.func_set_attr,
                          now.func_get_attrs - before.func_get_attrs,
                          now.entry_point - before.entry_point, now.encode - before.encode};
}

/* First launch of a kernel asks for the device's limit and sets the
 * kernel's; repeats ask nothing; more memory raises the limit once. */
static void check_prepare_launch(void) {
  const void *k = kernels[0];
  tk_stub_counts t0 = tk_stub_calls();
  CHECK(tk_cuda_prepare_launch(k, 40 * 1024, 10) == cudaSuccess, "48 KB or less needs nothing");
  CHECK(tk_stub_total(since(t0)) == 0, "a launch under 48 KB made %ld runtime calls",
        tk_stub_total(since(t0)));

  cudaSetDevice(0); /* as tk_cuda_enqueue_on does */
  tk_cuda_set_launch_device(0);
  t0 = tk_stub_calls();
  CHECK(tk_cuda_prepare_launch(k, 100 * 1024, 10) == cudaSuccess, "first 100 KB launch");
  tk_stub_counts first = since(t0);
  CHECK(first.func_set_attr == 1 && first.device_attr == 1 && first.get_device == 0,
        "first launch: %ld cudaFuncSetAttribute, %ld cudaDeviceGetAttribute, %ld cudaGetDevice "
        "(expected 1, 1, 0)",
        first.func_set_attr, first.device_attr, first.get_device);
  CHECK(tk_stub_kernel_limit(k, 0) == 100 * 1024, "limit set to %d", tk_stub_kernel_limit(k, 0));
  t0 = tk_stub_calls();
  for (int i = 0; i < 1000; i++) tk_cuda_prepare_launch(k, 100 * 1024 - i, 10);
  CHECK(tk_stub_total(since(t0)) == 0, "1000 repeated launches made %ld runtime calls",
        tk_stub_total(since(t0)));

  t0 = tk_stub_calls();
  CHECK(tk_cuda_prepare_launch(k, 150 * 1024, 10) == cudaSuccess, "150 KB launch");
  CHECK(since(t0).func_set_attr == 1 && since(t0).device_attr == 0,
        "raising the limit: %ld cudaFuncSetAttribute, %ld attribute queries (expected 1, 0)",
        since(t0).func_set_attr, since(t0).device_attr);
  CHECK(tk_stub_kernel_limit(k, 0) == 150 * 1024, "limit raised to %d", tk_stub_kernel_limit(k, 0));
  t0 = tk_stub_calls();
  tk_cuda_prepare_launch(k, 120 * 1024, 10);
  CHECK(tk_stub_total(since(t0)) == 0, "a smaller launch after a larger one made runtime calls");

  /* the same kernel on another device is another entry */
  cudaSetDevice(1);
  tk_cuda_set_launch_device(1);
  t0 = tk_stub_calls();
  CHECK(tk_cuda_prepare_launch(k, 100 * 1024, 10) == cudaSuccess, "launch on device 1");
  CHECK(since(t0).func_set_attr == 1 && since(t0).device_attr == 1,
        "device 1: %ld cudaFuncSetAttribute, %ld attribute queries (expected 1, 1)",
        since(t0).func_set_attr, since(t0).device_attr);
  CHECK(tk_stub_kernel_limit(k, 1) == 100 * 1024 && tk_stub_kernel_limit(k, 0) == 150 * 1024,
        "per-device limits %d / %d", tk_stub_kernel_limit(k, 0), tk_stub_kernel_limit(k, 1));

  /* what does not fit is refused before any attribute is set */
  t0 = tk_stub_calls();
  CHECK(tk_cuda_prepare_launch(kernels[1], 300 * 1024, 10) == cudaErrorInvalidConfiguration,
        "300 KB on a 227 KB device was accepted");
  CHECK(tk_cuda_prepare_launch(kernels[1], 100 * 1024, 0) == cudaErrorInvalidConfiguration &&
            tk_cuda_prepare_launch(kernels[1], 100 * 1024, 1LL << 31) == cudaErrorInvalidConfiguration,
        "a grid of 0 or 2^31 CTAs was accepted");
  CHECK(since(t0).func_set_attr == 0, "a refused launch set an attribute");

  /* outside an enqueue the runtime's current device is asked */
  cudaSetDevice(0);
  tk_cuda_set_launch_device(-1);
  t0 = tk_stub_calls();
  CHECK(tk_cuda_launch_device() == 0 && since(t0).get_device == 1,
        "without a launch device: device %d after %ld cudaGetDevice", tk_cuda_launch_device(),
        since(t0).get_device);
}

/* More kernels than the table holds still launch (their limits set every
 * time once it is full); the first ones stay cached. */
static void check_table_overflow(void) {
  cudaSetDevice(2);
  tk_cuda_set_launch_device(2);
  for (int i = 100; i < 3000; i++)
    CHECK(tk_cuda_prepare_launch(kernels[i], 64 * 1024, 1) == cudaSuccess, "kernel %d", i);
  int set = 0;
  for (int i = 100; i < 3000; i++) set += tk_stub_kernel_limit(kernels[i], 2) == 64 * 1024;
  CHECK(set == 2900, "%d of 2900 kernels got their limit", set);
  tk_stub_counts t0 = tk_stub_calls();
  for (int i = 100; i < 200; i++) tk_cuda_prepare_launch(kernels[i], 64 * 1024, 1);
  CHECK(since(t0).func_set_attr == 0, "%ld of the first 100 kernels were not kept",
        since(t0).func_set_attr);
  cudaSetDevice(0);
  tk_cuda_set_launch_device(-1);
}

/* Threads racing on the same kernels set each limit once. */
static void *race(void *arg) {
  (void)arg;
  cudaSetDevice(3);
  tk_cuda_set_launch_device(3);
  for (int round = 0; round < 200; round++)
    for (int i = 10; i < 60; i++) tk_cuda_prepare_launch(kernels[i], 80 * 1024, 1);
  return NULL;
}

static void check_threads(void) {
  tk_stub_counts t0 = tk_stub_calls();
  pthread_t th[8];
  for (int i = 0; i < 8; i++) pthread_create(&th[i], NULL, race, NULL);
  for (int i = 0; i < 8; i++) pthread_join(th[i], NULL);
  CHECK(since(t0).func_set_attr == 50, "8 threads x 50 kernels: %ld cudaFuncSetAttribute (expected 50)",
        since(t0).func_set_attr);
}

/* Encodes a 2-D map of a [rows, 64] bf16 tensor at p with boxes of `box_rows`. */
static int map_of(CUtensorMap *m, const void *p, uint64_t rows, uint32_t box_rows) {
  const uint64_t dims[2] = {64, rows}, strides[1] = {128};
  const uint32_t box[2] = {64, box_rows};
  return tk_tma_map_b16(m, 1, p, 2, dims, strides, box);
}

/* A map is encoded once per thread and argument set; a hit returns the
 * same bytes; pointer, shape or box changes encode again. */
static void check_maps(void) {
  static char buf[64][256];
  CUtensorMap a, b;
  tk_stub_counts t0 = tk_stub_calls();
  CHECK(map_of(&a, buf[0], 1000, 64) == 0, "encode");
  CHECK(since(t0).encode == 1 && since(t0).entry_point == 1, "first map: %ld encodes, %ld entry points",
        since(t0).encode, since(t0).entry_point);
  t0 = tk_stub_calls();
  for (int i = 0; i < 1000; i++) map_of(&b, buf[0], 1000, 64);
  CHECK(tk_stub_total(since(t0)) == 0, "1000 repeated maps made %ld runtime calls",
        tk_stub_total(since(t0)));
  CHECK(memcmp(&a, &b, sizeof a) == 0, "a cached map differs from the encoded one");
  t0 = tk_stub_calls();
  map_of(&b, buf[1], 1000, 64);
  map_of(&b, buf[0], 999, 64);
  map_of(&b, buf[0], 1000, 128);
  CHECK(since(t0).encode == 3, "pointer, shape and box changes: %ld encodes (expected 3)",
        since(t0).encode);
  CHECK(memcmp(&a, &b, sizeof a) != 0, "a map of another box has the same bytes");
  /* 3 maps a call, alternating calls: all hits once encoded */
  for (int i = 0; i < 64; i++) map_of(&b, buf[i], 1000, 64);
  t0 = tk_stub_calls();
  for (int i = 0; i < TK_TMA_MAP_CACHE; i++) map_of(&b, buf[63 - i], 1000, 64);
  CHECK(since(t0).encode == 0, "the newest %d maps: %ld encodes", TK_TMA_MAP_CACHE, since(t0).encode);
  t0 = tk_stub_calls();
  map_of(&b, buf[0], 1000, 64);
  CHECK(since(t0).encode == 1, "the oldest map was not replaced (%ld encodes)", since(t0).encode);
  const uint64_t dims[2] = {64, 10}, strides[1] = {128};
  const uint32_t bad_box[2] = {32, 8};
  CHECK(tk_tma_map_b16(&b, 1, buf[2], 2, dims, strides, bad_box) != 0, "a bad box was encoded");
  CHECK(tk_tma_map_b16(&b, 1, buf[2], 6, dims, strides, bad_box) == -1, "rank 6 was accepted");
}

static void *map_thread(void *arg) {
  CUtensorMap m;
  long *encodes = arg;
  tk_stub_counts t0 = tk_stub_calls();
  map_of(&m, kernels[0], 1000, 64);
  map_of(&m, kernels[0], 1000, 64);
  *encodes = since(t0).encode;
  return NULL;
}

/* Each thread has its own maps: a new thread encodes once. */
static void check_map_threads(void) {
  CUtensorMap m;
  map_of(&m, kernels[0], 1000, 64);
  long encodes = -1;
  pthread_t th;
  pthread_create(&th, NULL, map_thread, &encodes);
  pthread_join(th, NULL);
  CHECK(encodes == 1, "a new thread: %ld encodes for one map used twice", encodes);
}

/* The sm_90a answer: the probe's shared memory tells the builds apart
 * (with or without the 1 KB system reservation); asked once per device. */
static void check_sm90a(void) {
  tk_stub_devices[1].probe_smem = 1024;              /* sm_90 code: no marker */
  tk_stub_devices[2].cc_major = 8;                   /* an A100 */
  tk_stub_devices[3].probe_smem = TK_SM90A_PROBE_SMEM + 1024; /* marker plus reservation */
  tk_stub_counts t0 = tk_stub_calls();
  CHECK(tk_cuda_sm90a_available(0) == 1, "device 0 (sm_90a build) not available");
  CHECK(tk_cuda_sm90a_available(1) == 0, "device 1 (sm_90 build) available");
  CHECK(tk_cuda_sm90a_available(2) == 0, "device 2 (cc 8.0) available");
  CHECK(tk_cuda_sm90a_available(3) == 1, "device 3 (sm_90a build, 1 KB reserved) not available");
  CHECK(tk_cuda_sm90a_available(-1) == 0 && tk_cuda_sm90a_available(TK_MAX_CUDA_DEVICES) == 0,
        "a device out of range is available");
  CHECK(since(t0).func_get_attrs == 3, "%ld probe queries for 3 cc-9.0 devices", since(t0).func_get_attrs);
  int dev;
  cudaGetDevice(&dev);
  CHECK(dev == 0, "the probe left device %d current", dev);
  t0 = tk_stub_calls();
  for (int i = 0; i < 100; i++)
    for (int d = 0; d < 4; d++) tk_cuda_sm90a_available(d);
  CHECK(tk_stub_total(since(t0)) == 0, "repeated sm_90a answers made %ld runtime calls",
        tk_stub_total(since(t0)));

  tk_device_info info;
  memset(&info, 0, sizeof info);
  for (int d = 0; d < 4; d++) {
    info.cuda[d].cc_major = tk_stub_devices[d].cc_major;
    info.cuda[d].cc_minor = tk_stub_devices[d].cc_minor;
    snprintf(info.cuda[d].name, sizeof info.cuda[d].name, "stub %d", d);
  }
  char why[256] = "";
  CHECK(tk_cuda_sm90a_or_why(&info, 0, why, sizeof why) == 1, "device 0: %s", why);
  CHECK(tk_cuda_sm90a_or_why(&info, 1, why, sizeof why) == 0 &&
            strstr(why, "unsupported: built without sm_90a"),
        "device 1 says: %s", why);
  CHECK(tk_cuda_sm90a_or_why(&info, 2, why, sizeof why) == 0 &&
            strstr(why, "needs compute capability 9.0") && strstr(why, "8.0"),
        "device 2 says: %s", why);
}

/* Attributes are asked once per (device, attribute). */
static void check_attrs(void) {
  tk_stub_counts t0 = tk_stub_calls();
  for (int i = 0; i < 100; i++)
    CHECK(tk_cuda_device_attr(3, cudaDevAttrMaxSharedMemoryPerBlockOptin) == 232448, "opt-in limit");
  CHECK(since(t0).device_attr <= 1, "%ld queries of one attribute", since(t0).device_attr);
  t0 = tk_stub_calls();
  CHECK(tk_cuda_device_attr(3, cudaDevAttrL2CacheSize) == 0 && tk_cuda_device_attr(3, cudaDevAttrL2CacheSize) == 0,
        "an attribute the runtime refuses is not 0");
  CHECK(since(t0).device_attr == 2, "a refused attribute was remembered (%ld queries)", since(t0).device_attr);
  CHECK(tk_cuda_device_attr(7, cudaDevAttrComputeCapabilityMajor) == 0, "a missing device has attributes");
}

int main(void) {
  check_prepare_launch();
  check_threads();
  check_table_overflow(); /* fills the table: keep it last of the launch checks */
  check_maps();
  check_map_threads();
  check_sm90a();
  check_attrs();
  TK_TEST_END();
}
