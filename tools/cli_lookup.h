/* cli_lookup.h: name lookups the subcommands share. */
#ifndef TK_TOOLS_CLI_LOOKUP_H
#define TK_TOOLS_CLI_LOOKUP_H

#include "runtime/device.h"

/* 1 if impl is an implementation of op (of any op when op < 0). */
int tk_cli_impl_exists(const char *impl, int op);

/* The op named by the first word of a case spec; -1 if none. */
int tk_cli_spec_op(const char *spec);

/* Parses a device name: "cpu" (-1), "cuda" (0) or "cuda:N" (N) into
 * *device; 0 when it is none of these. */
int tk_cli_parse_device(const char *s, int *device);

/* 1 if `device` (-1: the CPU) is on the machine d describes; else prints
 * `name: --device cuda:N: why` (no CUDA in this build, or too few devices)
 * and returns 0. */
int tk_cli_device_here(const char *name, const tk_device_info *d, int device);

#endif
