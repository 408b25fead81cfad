/* cache_cli.c: opening the cache the way a context finds it. */
#include "tools/cache_cli.h"

#include <string.h>

#include "tools/cli_args.h"
#include "tools/cli_lookup.h"
#include "runtime/context.h"

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

int cache_cli_device(const char *name, const char *opt, char *buf, size_t len, const char **fp) {
  int cuda = -1;
  *fp = opt;
  if (opt && strcmp(opt, "all") == 0) *fp = NULL;
  if (opt && (strcmp(opt, "all") == 0 || (strcmp(opt, "this") != 0 && !tk_cli_parse_device(opt, &cuda))))
    return 1;
  tk_device_info d;
  tk_device_detect(&d);
  if (!tk_cli_device_here(name, &d, cuda)) return 0;
  if (cuda >= 0)
    tk_device_fingerprint_cuda(&d, cuda, buf, len);
  else
    tk_device_fingerprint_cpu(&d, buf, len);
  *fp = buf;
  return 1;
}
