/* cli_args.h: the small option parser every tokamax-tune subcommand uses.
 *
 * Long options only: `--name value`, `--name=value`, and flags `--name`.
 * `--help` / `-h` prints the command's usage. An unknown option, a missing
 * or malformed value, a positional argument the command does not take, or
 * too few/many of them is a usage error (exit 2). */
#ifndef TK_TOOLS_CLI_ARGS_H
#define TK_TOOLS_CLI_ARGS_H

#include <stdio.h>

#include "runtime/status.h"

typedef enum {
  TK_OPT_FLAG,   /* no value; sets *(int *)value to 1 */
  TK_OPT_STRING, /* sets *(const char **)value to the argument */
  TK_OPT_INT     /* sets *(int *)value; must be an integer >= min */
} tk_opt_kind;

typedef struct {
  const char *name;    /* without the leading "--" */
  tk_opt_kind kind;
  const char *metavar; /* shown in usage, e.g. "N" (NULL for flags) */
  const char *help;    /* one line */
  void *value;         /* where the parsed value goes */
  int min;             /* lowest accepted value for TK_OPT_INT */
} tk_cli_opt;

typedef struct {
  const char *name;    /* subcommand name, e.g. "check" */
  const char *summary; /* one line, shown in `tokamax-tune help` too */
  const tk_cli_opt *opts;
  int n_opts;
  /* Positional arguments (files): none unless args_metavar is set. */
  const char *args_metavar; /* shown in usage, e.g. "FILE..." */
  int min_args, max_args;
  char **args;              /* receives them, max_args long */
  int *n_args;
} tk_cli_cmd;

/* Parses argv[1..argc) (argv[0] is the subcommand name) into cmd's option
 * values. Returns -1 when the command should go on; otherwise the exit code
 * to return at once: 0 after printing usage for --help, 2 after printing the
 * error and usage to stderr. */
int tk_cli_parse(const tk_cli_cmd *cmd, int argc, char **argv);

/* Prints cmd's usage and option list to f. */
void tk_cli_usage(const tk_cli_cmd *cmd, FILE *f);

/* Prints "tokamax-tune: <message>\n" to stderr. */
void tk_cli_error(const char *fmt, ...) TK_PRINTF(1, 2);

#endif
