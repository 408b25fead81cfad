/* device_detect.c: what the machine is. Identity from libcpuid (else the
 * CPUID instruction), ISA always from the CPUID instruction, topology from
 * hwloc (else sysconf and sysfs), then the CUDA probe. */
#include "runtime/device.h"

#include <ctype.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/status.h"

#if TK_HAVE_LIBCPUID
#include <libcpuid.h>
#include <pthread.h>
#endif
#if TK_HAVE_HWLOC
#include <hwloc.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* Removes leading and trailing blanks of s in place. */
static void trim(char *s) {
  size_t start = 0, n = strlen(s);
  while (start < n && isspace((unsigned char)s[start])) start++;
  while (n > start && isspace((unsigned char)s[n - 1])) n--;
  memmove(s, s + start, n - start);
  s[n - start] = '\0';
}

#if TK_HAVE_LIBCPUID
/* libcpuid writes its warnings to stderr unless told otherwise; the library
 * never prints, so they go to the debug log. */
static void libcpuid_warning(const char *msg) {
  int n = (int)strlen(msg);
  while (n > 0 && msg[n - 1] == '\n') n--;
  tk_log(TK_LOG_DEBUG, "libcpuid: %.*s", n, msg);
}

static pthread_once_t libcpuid_once = PTHREAD_ONCE_INIT;
static void quiet_libcpuid(void) { cpuid_set_warn_function(libcpuid_warning); }

/* Fills vendor, brand, family/model/stepping from libcpuid; 0 on failure. */
static int identify_libcpuid(tk_device_info *out) {
  pthread_once(&libcpuid_once, quiet_libcpuid);
  struct cpu_raw_data_t raw;
  struct cpu_id_t id;
  if (!cpuid_present() || cpuid_get_raw_data(&raw) < 0 || cpu_identify(&raw, &id) < 0) return 0;
  snprintf(out->vendor, sizeof out->vendor, "%s", id.vendor_str);
  snprintf(out->brand, sizeof out->brand, "%s", id.brand_str);
  out->family = id.ext_family;
  out->model = id.ext_model;
  out->stepping = id.stepping;
  out->ident_source = "libcpuid";
  return 1;
}
#endif

/* Fills the identity from CPUID leaves 0, 1 and 0x80000002-4. */
static void identify_cpuid(tk_device_info *out) {
  out->ident_source = "cpuid";
#if defined(__x86_64__) || defined(__i386__)
  unsigned r[4];
  if (__get_cpuid(0, &r[0], &r[1], &r[2], &r[3])) {
    memcpy(out->vendor, &r[1], 4); /* EBX, EDX, ECX */
    memcpy(out->vendor + 4, &r[3], 4);
    memcpy(out->vendor + 8, &r[2], 4);
    out->vendor[12] = '\0';
  }
  if (__get_cpuid(1, &r[0], &r[1], &r[2], &r[3])) {
    const int base_family = (r[0] >> 8) & 0xf, base_model = (r[0] >> 4) & 0xf;
    out->stepping = r[0] & 0xf;
    out->family = base_family == 0xf ? base_family + (int)((r[0] >> 20) & 0xff) : base_family;
    out->model = base_family == 0x6 || base_family == 0xf
                     ? (int)(((r[0] >> 16) & 0xf) << 4) + base_model
                     : base_model;
  }
  if ((unsigned)__get_cpuid_max(0x80000000, NULL) >= 0x80000004u) {
    for (unsigned leaf = 0; leaf < 3; leaf++) {
      __get_cpuid(0x80000002 + leaf, &r[0], &r[1], &r[2], &r[3]);
      memcpy(out->brand + 16 * leaf, r, 16);
    }
    out->brand[48] = '\0';
    trim(out->brand);
  }
#endif
}

#if TK_HAVE_HWLOC
/* Size of the first cache of `type` above obj (0 when none). */
static int64_t cache_above(hwloc_topology_t topo, hwloc_obj_t obj, hwloc_obj_type_t type) {
  hwloc_obj_t c = obj ? hwloc_get_ancestor_obj_by_type(topo, type, obj) : NULL;
  return c && c->attr ? (int64_t)c->attr->cache.size : 0;
}

/* Fills cores, PUs, NUMA nodes and cache sizes from hwloc; 0 on failure. */
static int topology_hwloc(tk_device_info *out) {
  hwloc_topology_t topo;
  if (hwloc_topology_init(&topo) < 0) return 0;
  if (hwloc_topology_load(topo) < 0) {
    hwloc_topology_destroy(topo);
    return 0;
  }
  out->physical_cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
  out->logical_cpus = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_PU);
  out->numa_nodes = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_NUMANODE);
  hwloc_obj_t first = hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, 0);
  if (!first) first = hwloc_get_obj_by_type(topo, HWLOC_OBJ_PU, 0);
  out->l1d_bytes = cache_above(topo, first, HWLOC_OBJ_L1CACHE);
  out->l2_bytes = cache_above(topo, first, HWLOC_OBJ_L2CACHE);
  const int n_l3 = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_L3CACHE);
  for (int i = 0; i < n_l3; i++) {
    hwloc_obj_t c = hwloc_get_obj_by_type(topo, HWLOC_OBJ_L3CACHE, (unsigned)i);
    out->l3_bytes += (int64_t)c->attr->cache.size;
  }
  hwloc_topology_destroy(topo);
  out->topology_source = "hwloc";
  return 1;
}
#endif

/* Number of CPUs in a sysfs list such as "0-3,8,10-11"; 0 if unreadable. */
static int count_cpu_list(const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int count = 0, lo, hi;
  char sep;
  while (fscanf(f, "%d", &lo) == 1) {
    hi = lo;
    if (fscanf(f, "%c", &sep) == 1 && sep == '-' && fscanf(f, "%d", &hi) == 1)
      (void)fscanf(f, "%c", &sep);
    if (hi >= lo) count += hi - lo + 1;
  }
  fclose(f);
  return count;
}

/* sysconf sizes are -1 or 0 when unknown. */
static int64_t sysconf_bytes(int name) {
  long v = sysconf(name);
  return v > 0 ? (int64_t)v : 0;
}

/* Fills the topology from sysconf and sysfs: physical cores are logical
 * CPUs divided by the SMT width of cpu0. */
static void topology_sysconf(tk_device_info *out) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  out->logical_cpus = n > 0 ? (int)n : 1;
  int smt = count_cpu_list("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list");
  out->physical_cores = smt > 1 ? out->logical_cpus / smt : out->logical_cpus;
  if (out->physical_cores < 1) out->physical_cores = 1;
  glob_t g;
  out->numa_nodes = glob("/sys/devices/system/node/node[0-9]*", GLOB_ONLYDIR, NULL, &g) == 0
                        ? (int)g.gl_pathc
                        : 1;
  globfree(&g);
  out->l1d_bytes = sysconf_bytes(_SC_LEVEL1_DCACHE_SIZE);
  out->l2_bytes = sysconf_bytes(_SC_LEVEL2_CACHE_SIZE);
  out->l3_bytes = sysconf_bytes(_SC_LEVEL3_CACHE_SIZE);
  out->topology_source = "sysconf";
}

void tk_device_detect(tk_device_info *out) {
  memset(out, 0, sizeof *out);
#if TK_HAVE_LIBCPUID
  if (!identify_libcpuid(out))
#endif
    identify_cpuid(out);
  out->isa = tk_cpu_isa();
#if TK_HAVE_HWLOC
  if (!topology_hwloc(out))
#endif
    topology_sysconf(out);
  tk_cuda_probe(out);
}
