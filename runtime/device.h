/* device.h: what the machine is: CPU identity, ISA, topology, CUDA devices. */
#ifndef TK_RUNTIME_DEVICE_H
#define TK_RUNTIME_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "tokamax.h"

/* ISA bits: set only when the CPU has the feature AND the OS enabled its
 * register state (XCR0; for AMX also the Linux arch_prctl permission). */
enum {
  TK_ISA_AVX2 = 1u << 0,
  TK_ISA_FMA = 1u << 1,
  TK_ISA_F16C = 1u << 2,
  TK_ISA_AVX512F = 1u << 3,
  TK_ISA_AVX512BW = 1u << 4,
  TK_ISA_AVX512VL = 1u << 5,
  TK_ISA_AVX512_BF16 = 1u << 6,
  TK_ISA_AMX_TILE = 1u << 7,
  TK_ISA_AMX_BF16 = 1u << 8
};

/* The instruction-set levels the CPU kernels are written for, as masks of
 * the bits above: a CPU runs a level when it has every bit of its mask. */
#define TK_ISA_LEVEL_AVX2 (TK_ISA_AVX2 | TK_ISA_FMA | TK_ISA_F16C)
#define TK_ISA_LEVEL_AVX512 (TK_ISA_LEVEL_AVX2 | TK_ISA_AVX512F | TK_ISA_AVX512BW | TK_ISA_AVX512VL)
#define TK_ISA_LEVEL_AMX_BF16 (TK_ISA_LEVEL_AVX512 | TK_ISA_AMX_TILE | TK_ISA_AMX_BF16)

/* 1 when the ISA bits isa include every bit of level. */
static inline int tk_isa_has(unsigned isa, unsigned level) { return (isa & level) == level; }

#define TK_MAX_CUDA_DEVICES 16

typedef struct {
  char name[256];
  int sm_count;
  int cc_major, cc_minor;
  int64_t total_memory;          /* bytes */
  int64_t l2_bytes;
  int64_t smem_per_block_optin;  /* bytes */
  int clock_khz, memory_clock_khz, memory_bus_width;
} tk_cuda_device;

typedef struct {
  /* identity (libcpuid, else the CPUID instruction) */
  char vendor[16];               /* "AuthenticAMD", "GenuineIntel", ... */
  char brand[64];
  int family, model, stepping;   /* display family/model */
  const char *ident_source;      /* "libcpuid" or "cpuid" */
  /* ISA (always the CPUID instruction + XCR0) */
  unsigned isa;                  /* TK_ISA_* bits */
  /* topology (hwloc, else sysconf) */
  int physical_cores, logical_cpus, numa_nodes;
  int64_t l1d_bytes, l2_bytes, l3_bytes; /* per core (L1/L2) and total (L3); 0 unknown */
  const char *topology_source;   /* "hwloc" or "sysconf" */
  /* CUDA (when built with CUDA) */
  int cuda_built;                /* 1 if this library was built with CUDA */
  int cuda_device_count;         /* 0 when none or no driver */
  char cuda_status[128];         /* why there is no device, "" when there is */
  int cuda_driver_version, cuda_runtime_version;
  tk_cuda_device cuda[TK_MAX_CUDA_DEVICES];
} tk_device_info;

/* The TK_ISA_* bits of this CPU (CPUID leaves 1 and 7, XCR0), detected
 * once per process, capped by the environment variable TOKAMAX_CPU_ISA
 * (none|avx2|avx512) so tests can take the fallback paths. */
unsigned tk_cpu_isa(void);

/* Fills *out with everything above. Never fails: unknown facts stay 0/"". */
void tk_device_detect(tk_device_info *out);

/* Fills the cuda_* fields of *out (device count 0 and a reason when built
 * without CUDA or when no device/driver is present). Defined in
 * runtime/cuda_probe.c. */
void tk_cuda_probe(tk_device_info *out);

/* Writes the device as one JSON object. Returns the length needed
 * (excluding the NUL), like snprintf. */
int tk_device_json(const tk_device_info *d, char *buf, size_t len);

/* Space-separated names of the ISA bits, e.g. "avx2 fma f16c avx512f". */
void tk_isa_string(unsigned isa, char *buf, size_t len);

/* The fingerprint the tuning cache keys CPU timings by: vendor, family,
 * model, ISA, physical cores, cache sizes, e.g.
 * "cpu:AuthenticAMD:26:68:avx2+fma+...:cores=2:l1d=48K:l2=1024K:l3=32768K". */
int tk_device_fingerprint_cpu(const tk_device_info *d, char *buf, size_t len);

/* The device class of a fingerprint: what a tuned pack measured on one
 * machine needs of another to be used there (docs/autotune.md). A CPU's
 * is vendor, family, model and ISA, e.g. "cpu:AuthenticAMD:25:1:avx2+fma+f16c"
 * (cores and cache sizes left out); a CUDA device's is name, compute
 * capability and SM count; any other text is its own class. Returns the
 * length needed, like snprintf. */
int tk_device_class(const char *fingerprint, char *buf, size_t len);

/* The fingerprint of CUDA device `index` (< cuda_device_count): name,
 * compute capability, SM count, memory, driver and runtime versions
 * (returns the length needed, like snprintf). */
int tk_device_fingerprint_cuda(const tk_device_info *d, int index, char *buf, size_t len);

#endif
