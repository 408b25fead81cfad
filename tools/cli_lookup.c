/* cli_lookup.c: implementation and op lookups through the public API. */
#include "tools/cli_lookup.h"

#include <stdio.h>
#include <string.h>

#include "tools/cli_args.h"
#include "tokamax.h"

int tk_cli_impl_exists(const char *impl, int op) {
  for (int o = 0; o < TK_OP_COUNT; o++) {
    if (op >= 0 && o != op) continue;
    const char *names[16];
    int n = 0;
    if (tk_impl_list((tk_op)o, names, 16, &n) != TK_OK) continue;
    for (int i = 0; i < n && i < 16; i++)
      if (strcmp(names[i], impl) == 0) return 1;
  }
  return 0;
}

int tk_cli_spec_op(const char *spec) {
  char word[64];
  tk_op op;
  if (sscanf(spec, "%63s", word) != 1 || tk_op_from_name(word, &op) != TK_OK) return -1;
  return (int)op;
}

int tk_cli_parse_device(const char *s, int *device) {
  char tail;
  *device = -1;
  if (strcmp(s, "cpu") == 0) return 1;
  if (strcmp(s, "cuda") == 0) {
    *device = 0;
    return 1;
  }
  return sscanf(s, "cuda:%d%c", device, &tail) == 1 && *device >= 0;
}

int tk_cli_device_here(const char *name, const tk_device_info *d, int device) {
  if (device < 0) return 1;
  if (!d->cuda_built)
    tk_cli_error("%s: --device cuda:%d: no CUDA device: this build has no CUDA (configure with "
                 "-DTK_CUDA=ON)", name, device);
  else if (device >= d->cuda_device_count)
    tk_cli_error("%s: --device cuda:%d: %d CUDA device%s here%s%s", name, device,
                 d->cuda_device_count, d->cuda_device_count == 1 ? "" : "s",
                 d->cuda_status[0] ? ": " : "", d->cuda_status);
  return d->cuda_built && device < d->cuda_device_count;
}
