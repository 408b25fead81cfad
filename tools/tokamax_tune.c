/* tokamax_tune.c: main of the tokamax-tune CLI: dispatches to the
 * subcommand named by the first argument. */
#include <stdio.h>
#include <string.h>

#include "tools/cli_args.h"
#include "tools/commands.h"
#include "tokamax.h"

typedef struct {
  const char *name;
  const char *help;
  int (*run)(int argc, char **argv);
} tk_subcommand;

static const tk_subcommand commands[] = {
    {"device", "show the detected CPU (ISA, cores, caches) and CUDA devices", tk_cmd_device},
    {"check", "run every implementation on a suite and check it against the reference",
     tk_cmd_check},
    {"sweep", "tune a suite (or one problem) into the tuning cache and show the choices", tk_cmd_sweep},
    {"show", "list what the tuning cache holds (best choices or every measurement)", tk_cmd_show},
    {"export", "write the cache (or one device's part) to a portable file", tk_cmd_export},
    {"import", "read portable files into the cache (newer measurements win)", tk_cmd_import},
    {"merge", "join portable files (e.g. a sharded sweep) into one file", tk_cmd_merge},
    {"clear", "delete cached results (all, one device, one op)", tk_cmd_clear},
    {"gate", "numerics and performance regression gate against a baseline run", tk_cmd_gate},
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

/* Prints the top-level usage (the list of subcommands) to f. */
static void usage(FILE *f) {
  fprintf(f, "usage: tokamax-tune <command> [options]\n\ncommands:\n");
  for (int i = 0; i < n_commands; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
  fprintf(f, "  %-10s %s\n", "help", "this list, or `help <command>` for a command's options");
  fprintf(f, "\n`tokamax-tune <command> --help` shows a command's options.\n");
}

/* The subcommand called name, or NULL. */
static const tk_subcommand *find(const char *name) {
  for (int i = 0; i < n_commands; i++)
    if (strcmp(commands[i].name, name) == 0) return &commands[i];
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const char *name = argv[1];
  if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 ||
      (strcmp(name, "help") == 0 && argc == 2)) {
    usage(stdout);
    return 0;
  }
  if (strcmp(name, "--version") == 0) {
    printf("tokamax-tune %s\n", tk_version());
    return 0;
  }
  if (strcmp(name, "help") == 0) {
    const tk_subcommand *c = find(argv[2]);
    if (!c) {
      tk_cli_error("unknown command '%s' (see `tokamax-tune help`)", argv[2]);
      return 2;
    }
    char *help_argv[] = {argv[2], "--help", NULL};
    return c->run(2, help_argv);
  }
  const tk_subcommand *c = find(name);
  if (!c) {
    tk_cli_error("unknown command '%s'", name);
    usage(stderr);
    return 2;
  }
  return c->run(argc - 1, argv + 1);
}
