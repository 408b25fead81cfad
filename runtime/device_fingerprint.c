/* device_fingerprint.c: the CPU fingerprint the tuning cache keys by. */
#include "runtime/device.h"

#include <stdio.h>
#include <string.h>

int tk_device_fingerprint_cpu(const tk_device_info *d, char *buf, size_t len) {
  char isa[256];
  tk_isa_string(d->isa, isa, sizeof isa);
  for (char *p = isa; *p; p++)
    if (*p == ' ') *p = '+';
  return snprintf(buf, len, "cpu:%s:%d:%d:%s:cores=%d:l1d=%lldK:l2=%lldK:l3=%lldK", d->vendor,
                  d->family, d->model, isa[0] ? isa : "none", d->physical_cores,
                  (long long)(d->l1d_bytes / 1024), (long long)(d->l2_bytes / 1024),
                  (long long)(d->l3_bytes / 1024));
}

int tk_device_fingerprint_cuda(const tk_device_info *d, int index, char *buf, size_t len) {
  const tk_cuda_device *g = &d->cuda[index];
  return snprintf(buf, len, "cuda:%s:sm_%d%d:sms=%d:mem=%lldM:driver=%d:runtime=%d", g->name,
                  g->cc_major, g->cc_minor, g->sm_count, (long long)(g->total_memory >> 20),
                  d->cuda_driver_version, d->cuda_runtime_version);
}

int tk_device_class(const char *fingerprint, char *buf, size_t len) {
  /* cpu:vendor:family:model:isa (drop cores and cache sizes);
   * cuda:name:sm_XY:sms=N (drop memory, driver and runtime). */
  int keep = strncmp(fingerprint, "cpu:", 4) == 0    ? 5
             : strncmp(fingerprint, "cuda:", 5) == 0 ? 4
                                                     : 0;
  size_t n = strlen(fingerprint);
  if (keep) {
    const char *p = fingerprint;
    for (int fields = 0; *p && fields < keep; p++)
      if (*p == ':' && ++fields == keep) break;
    n = (size_t)(p - fingerprint);
  }
  return snprintf(buf, len, "%.*s", (int)n, fingerprint);
}
