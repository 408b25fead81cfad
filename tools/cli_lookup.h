/* cli_lookup.h: name lookups the subcommands share. */
#ifndef TK_TOOLS_CLI_LOOKUP_H
#define TK_TOOLS_CLI_LOOKUP_H

/* 1 if impl is an implementation of op (of any op when op < 0). */
int tk_cli_impl_exists(const char *impl, int op);

/* The op named by the first word of a case spec; -1 if none. */
int tk_cli_spec_op(const char *spec);

/* Parses a device name: "cpu" (-1), "cuda" (0) or "cuda:N" (N) into
 * *device; 0 when it is none of these. */
int tk_cli_parse_device(const char *s, int *device);

#endif
