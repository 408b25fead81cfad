/* cpu_features.c: the ISA bits from the CPUID instruction and XCR0. */
#include "runtime/device.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#define TK_ARCH_REQ_XCOMP_PERM 0x1023
#define TK_XFEATURE_XTILEDATA 18

/* XCR0: the register states the OS saves (only valid when OSXSAVE is set). */
static uint64_t read_xcr0(void) {
  uint32_t lo, hi;
  __asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

/* Asks Linux for permission to use AMX tile data; 1 when granted. */
static int request_amx_permission(void) {
#if defined(__linux__) && defined(SYS_arch_prctl)
  return syscall(SYS_arch_prctl, TK_ARCH_REQ_XCOMP_PERM, TK_XFEATURE_XTILEDATA) == 0;
#else
  return 0;
#endif
}

static unsigned detect_isa(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  const int osxsave = (c >> 27) & 1;
  const int fma = (c >> 12) & 1, f16c = (c >> 29) & 1;
  const uint64_t xcr0 = osxsave ? read_xcr0() : 0;
  const int os_avx = (xcr0 & 0x6) == 0x6;
  const int os_avx512 = os_avx && (xcr0 & 0xe0) == 0xe0;
  const int os_amx = (xcr0 & 0x60000) == 0x60000;
  if (!os_avx) return 0;

  unsigned isa = 0;
  if (fma) isa |= TK_ISA_FMA;
  if (f16c) isa |= TK_ISA_F16C;
  unsigned b7 = 0, c7 = 0, d7 = 0, a7 = 0;
  if (!__get_cpuid_count(7, 0, &a7, &b7, &c7, &d7)) return isa;
  const unsigned max_sub7 = a7;
  if ((b7 >> 5) & 1) isa |= TK_ISA_AVX2;
  if (os_avx512 && ((b7 >> 16) & 1)) {
    isa |= TK_ISA_AVX512F;
    if ((b7 >> 30) & 1) isa |= TK_ISA_AVX512BW;
    if ((b7 >> 31) & 1) isa |= TK_ISA_AVX512VL;
    unsigned a71 = 0, b71, c71, d71;
    if (max_sub7 >= 1 && __get_cpuid_count(7, 1, &a71, &b71, &c71, &d71) && ((a71 >> 5) & 1))
      isa |= TK_ISA_AVX512_BF16;
  }
  if (os_amx && ((d7 >> 24) & 1) && request_amx_permission()) {
    isa |= TK_ISA_AMX_TILE;
    if ((d7 >> 22) & 1) isa |= TK_ISA_AMX_BF16;
  }
  return isa;
}
#else
static unsigned detect_isa(void) { return 0; }
#endif

/* The bits TOKAMAX_CPU_ISA allows: "none" (plain C only), "avx2", "avx512"
 * (no AMX), anything else or unset: all. */
static unsigned isa_cap(void) {
  const char *cap = getenv("TOKAMAX_CPU_ISA");
  if (!cap) return ~0u;
  if (strcmp(cap, "none") == 0) return 0;
  if (strcmp(cap, "avx2") == 0) return TK_ISA_LEVEL_AVX2;
  if (strcmp(cap, "avx512") == 0) return TK_ISA_LEVEL_AVX512 | TK_ISA_AVX512_BF16;
  return ~0u;
}

static unsigned cached_isa;
static pthread_once_t isa_once = PTHREAD_ONCE_INIT;
static void detect_once(void) { cached_isa = detect_isa() & isa_cap(); }

unsigned tk_cpu_isa(void) {
  pthread_once(&isa_once, detect_once);
  return cached_isa;
}

void tk_isa_string(unsigned isa, char *buf, size_t len) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{TK_ISA_AVX2, "avx2"},         {TK_ISA_FMA, "fma"},
               {TK_ISA_F16C, "f16c"},         {TK_ISA_AVX512F, "avx512f"},
               {TK_ISA_AVX512BW, "avx512bw"}, {TK_ISA_AVX512VL, "avx512vl"},
               {TK_ISA_AVX512_BF16, "avx512_bf16"}, {TK_ISA_AMX_TILE, "amx_tile"},
               {TK_ISA_AMX_BF16, "amx_bf16"}};
  if (len == 0) return;
  buf[0] = '\0';
  size_t used = 0;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(isa & names[i].bit)) continue;
    int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "", names[i].name);
    if (n < 0 || (size_t)n >= len - used) { /* does not fit: drop the partial name */
      buf[used] = '\0';
      return;
    }
    used += (size_t)n;
  }
}
