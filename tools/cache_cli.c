/* cache_cli.c: opening the cache the way a context finds it. */
#include "tools/cache_cli.h"

#include <stdlib.h>
#include <string.h>

#include "tools/cli_args.h"
#include "tools/cli_lookup.h"
#include "runtime/context.h"

int cache_cli_open(const char *name, const char *db, int flags, tk_cache **out) {
  char *path = db ? strdup(db) : NULL;
  if (!db) { /* the default a context resolves */
    tk_context_options o = {NULL, 1, TK_TUNE_OFF, NULL};
    tk_context *ctx;
    if (tk_context_create(&o, &ctx) != TK_OK) {
      tk_cli_error("%s: %s", name, tk_last_error());
      return 0;
    }
    path = strdup(ctx->cache_path);
    tk_context_destroy(ctx); /* clears the thread's error: before the open, never after */
  }
  if (!path) {
    tk_cli_error("%s: out of memory", name);
    return 0;
  }
  tk_status s = tk_cache_open(path, flags, 0, out);
  free(path);
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
