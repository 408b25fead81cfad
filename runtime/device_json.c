/* device_json.c: the detected device as one JSON object. */
#include "runtime/device.h"

#include "runtime/json.h"

/* Writes the "cpu" object. */
static void cpu_json(tk_text *t, const tk_device_info *d) {
  char isa[256], fp[512], cls[512];
  tk_isa_string(d->isa, isa, sizeof isa);
  tk_device_fingerprint_cpu(d, fp, sizeof fp);
  tk_device_class(fp, cls, sizeof cls);
  tk_text_printf(t, "\"cpu\":{\"vendor\":");
  tk_text_json_string(t, d->vendor);
  tk_text_printf(t, ",\"brand\":");
  tk_text_json_string(t, d->brand);
  tk_text_printf(t, ",\"family\":%d,\"model\":%d,\"stepping\":%d,\"isa\":[", d->family, d->model,
                 d->stepping);
  if (isa[0]) { /* "avx2 fma" -> "avx2","fma" */
    tk_text_printf(t, "\"");
    for (const char *p = isa; *p; p++) {
      if (*p == ' ')
        tk_text_printf(t, "\",\"");
      else
        tk_text_printf(t, "%c", *p);
    }
    tk_text_printf(t, "\"");
  }
  tk_text_printf(t,
                 "],\"physical_cores\":%d,\"logical_cpus\":%d,\"numa_nodes\":%d,"
                 "\"l1d_bytes\":%lld,\"l2_bytes\":%lld,\"l3_bytes\":%lld,\"ident_source\":",
                 d->physical_cores, d->logical_cpus, d->numa_nodes, (long long)d->l1d_bytes,
                 (long long)d->l2_bytes, (long long)d->l3_bytes);
  tk_text_json_string(t, d->ident_source);
  tk_text_printf(t, ",\"topology_source\":");
  tk_text_json_string(t, d->topology_source);
  tk_text_printf(t, ",\"fingerprint\":");
  tk_text_json_string(t, fp);
  tk_text_printf(t, ",\"device_class\":");
  tk_text_json_string(t, cls);
  tk_text_printf(t, "}");
}

/* Writes one CUDA device object. */
static void cuda_device_json(tk_text *t, const tk_cuda_device *c) {
  tk_text_printf(t, "{\"name\":");
  tk_text_json_string(t, c->name);
  tk_text_printf(t,
                 ",\"sm_count\":%d,\"compute_capability\":\"%d.%d\",\"total_memory\":%lld,"
                 "\"l2_bytes\":%lld,\"smem_per_block_optin\":%lld,\"clock_khz\":%d,"
                 "\"memory_clock_khz\":%d,\"memory_bus_width\":%d}",
                 c->sm_count, c->cc_major, c->cc_minor, (long long)c->total_memory,
                 (long long)c->l2_bytes, (long long)c->smem_per_block_optin, c->clock_khz,
                 c->memory_clock_khz, c->memory_bus_width);
}

/* Writes the "cuda" object. */
static void cuda_json(tk_text *t, const tk_device_info *d) {
  tk_text_printf(t, "\"cuda\":{\"built\":%s,\"device_count\":%d,\"status\":",
                 d->cuda_built ? "true" : "false", d->cuda_device_count);
  tk_text_json_string(t, d->cuda_status);
  tk_text_printf(t, ",\"driver_version\":%d,\"runtime_version\":%d,\"devices\":[",
                 d->cuda_driver_version, d->cuda_runtime_version);
  for (int i = 0; i < d->cuda_device_count && i < TK_MAX_CUDA_DEVICES; i++) {
    if (i) tk_text_printf(t, ",");
    cuda_device_json(t, &d->cuda[i]);
  }
  tk_text_printf(t, "]}");
}

int tk_device_json(const tk_device_info *d, char *buf, size_t len) {
  tk_text t = tk_text_init(buf, len);
  tk_text_printf(&t, "{");
  cpu_json(&t, d);
  tk_text_printf(&t, ",");
  cuda_json(&t, d);
  tk_text_printf(&t, "}");
  return (int)t.need;
}
