/* cmd_device.c: `tokamax-tune device [--json]`: what the library detected
 * on this machine, as text or as tk_context_describe's JSON. */
#include <stdio.h>
#include <stdlib.h>

#include "tools/cli_args.h"
#include "tools/commands.h"
#include "runtime/context.h"
#include "tokamax.h"

/* Prints tk_context_describe's JSON, growing the buffer as it asks. */
static int print_json(tk_context *ctx) {
  for (size_t cap = 16384; cap <= ((size_t)1 << 24); cap *= 2) {
    char *buf = malloc(cap);
    if (!buf) break;
    tk_status s = tk_context_describe(ctx, buf, cap);
    if (s == TK_OK) {
      printf("%s\n", buf);
      free(buf);
      return 0;
    }
    free(buf);
    if (s != TK_ERR_INVALID_ARGUMENT) {
      tk_cli_error("device: %s", tk_last_error());
      return 1;
    }
  }
  tk_cli_error("device: could not describe the device: %s", tk_last_error());
  return 1;
}

/* Writes bytes as "48 KiB" / "32 MiB", or "?" when unknown (0). */
static void fmt_bytes(int64_t b, char *buf, size_t len) {
  if (b <= 0)
    snprintf(buf, len, "?");
  else if (b >= ((int64_t)1 << 20) && b % ((int64_t)1 << 20) == 0)
    snprintf(buf, len, "%lld MiB", (long long)(b >> 20));
  else
    snprintf(buf, len, "%lld KiB", (long long)(b >> 10));
}

/* Prints the CUDA part of d: built or not, devices or the reason for none. */
static void print_cuda(const tk_device_info *d) {
  if (!d->cuda_built) {
    printf("%-12s not built (configure with -DTK_CUDA=ON)\n", "cuda");
    return;
  }
  if (d->cuda_device_count == 0) {
    printf("%-12s no device: %s\n", "cuda", d->cuda_status[0] ? d->cuda_status : "none found");
    return;
  }
  printf("%-12s %d device(s), driver %d, runtime %d\n", "cuda", d->cuda_device_count,
         d->cuda_driver_version, d->cuda_runtime_version);
  for (int i = 0; i < d->cuda_device_count && i < TK_MAX_CUDA_DEVICES; i++) {
    const tk_cuda_device *g = &d->cuda[i];
    char mem[32], l2[32], smem[32];
    fmt_bytes(g->total_memory, mem, sizeof mem);
    fmt_bytes(g->l2_bytes, l2, sizeof l2);
    fmt_bytes(g->smem_per_block_optin, smem, sizeof smem);
    printf("  [%d] %s: sm_%d%d, %d SMs, %s memory, L2 %s, shared memory/block %s\n", i, g->name,
           g->cc_major, g->cc_minor, g->sm_count, mem, l2, smem);
  }
}

/* Prints the device as aligned "key  value" lines. */
static void print_text(tk_context *ctx) {
  const tk_device_info *d = &ctx->dev;
  char isa[256], l1[32], l2[32], l3[32], fp[512], cls[512];
  tk_isa_string(d->isa, isa, sizeof isa);
  fmt_bytes(d->l1d_bytes, l1, sizeof l1);
  fmt_bytes(d->l2_bytes, l2, sizeof l2);
  fmt_bytes(d->l3_bytes, l3, sizeof l3);
  tk_device_fingerprint_cpu(d, fp, sizeof fp);
  tk_device_class(fp, cls, sizeof cls);
  printf("%-12s %s\n", "vendor", d->vendor[0] ? d->vendor : "?");
  printf("%-12s %s\n", "brand", d->brand[0] ? d->brand : "?");
  printf("%-12s family %d, model %d, stepping %d\n", "cpu", d->family, d->model, d->stepping);
  printf("%-12s %s\n", "isa", isa[0] ? isa : "(none of avx2/avx-512/amx)");
  printf("%-12s %d physical, %d logical, %d NUMA node(s)\n", "cores", d->physical_cores,
         d->logical_cpus, d->numa_nodes);
  printf("%-12s L1d %s/core, L2 %s/core, L3 %s\n", "caches", l1, l2, l3);
  printf("%-12s identity: %s, topology: %s\n", "sources",
         d->ident_source ? d->ident_source : "?", d->topology_source ? d->topology_source : "?");
  printf("%-12s %d\n", "threads", tk_context_num_threads(ctx));
  printf("%-12s %s\n", "fingerprint", fp);
  printf("%-12s %s (what a tuned pack must match)\n", "class", cls);
  printf("%-12s %s\n", "cache", ctx->cache_path ? ctx->cache_path : "?");
  print_cuda(d);
}

int tk_cmd_device(int argc, char **argv) {
  int json = 0;
  const tk_cli_opt opts[] = {
      {"json", TK_OPT_FLAG, NULL, "print tk_context_describe's JSON instead of text", &json, 0},
  };
  const tk_cli_cmd cmd = {"device", "show what the library detected on this machine", opts, 1,
                          NULL, 0, 0, NULL, NULL};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;

  tk_context *ctx = NULL;
  if (tk_context_create(NULL, &ctx) != TK_OK) {
    tk_cli_error("device: cannot create a context: %s", tk_last_error());
    return 1;
  }
  rc = 0;
  if (json)
    rc = print_json(ctx);
  else
    print_text(ctx);
  tk_context_destroy(ctx);
  return rc;
}
