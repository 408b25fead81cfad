/* cache_cli.c: opening the cache the way a context finds it. */
#include "cache_cli.h"

#include <string.h>

#include "cli_args.h"
#include "kernels/runtime/context.h"

int cache_cli_open(const char *name, const char *db, int flags, tk_cache **out) {
  tk_context_options o = {db, 1, TK_TUNE_OFF, NULL};
  tk_context *ctx;
  if (tk_context_create(&o, &ctx) != TK_OK) {
    tk_cli_error("%s: %s", name, tk_last_error());
    return 0;
  }
  tk_status s = tk_cache_open(ctx->cache_path, flags, 0, out);
  tk_context_destroy(ctx);
  if (s != TK_OK) {
    tk_cli_error("%s: %s", name, tk_last_error());
    return 0;
  }
  return 1;
}

const char *cache_cli_device(const char *opt, char *buf, size_t len) {
  if (opt && strcmp(opt, "all") == 0) return NULL;
  if (opt && strcmp(opt, "this") != 0) return opt;
  tk_device_info d;
  tk_device_detect(&d);
  tk_device_fingerprint_cpu(&d, buf, len);
  return buf;
}
