/* cache_cli.h: what the cache subcommands (show, export, import, merge,
 * clear) share: finding and opening the tuning cache, and the --device
 * filter. */
#ifndef TK_TOOLS_CACHE_CLI_H
#define TK_TOOLS_CACHE_CLI_H

#include <stddef.h>

#include "cache/cache.h"

/* Opens the cache at db (NULL: the default a context would use) with flags
 * (TK_CACHE_*); prints the error as `name: ...` and returns 0 on failure. */
int cache_cli_open(const char *name, const char *db, int flags, tk_cache **out);

/* The fingerprint --device selects, in *fp: "this" (the default, NULL) or
 * "cpu" is this machine's CPU, "cuda" / "cuda:N" that CUDA device of this
 * machine, "all" is NULL (every device), anything else is taken as a
 * fingerprint. Writes into buf (len bytes) when needed. Prints the error
 * as `name: ...` and returns 0 when the CUDA device is not here. */
int cache_cli_device(const char *name, const char *opt, char *buf, size_t len, const char **fp);

#endif
