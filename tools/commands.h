/* commands.h: the tokamax-tune subcommands. Each takes (argc, argv) with
 * argv[0] its own name and returns the process exit code: 0 success,
 * 1 failure (a failed check, an error), 2 usage error.
 * A new subcommand is a new cmd_<name>.c plus a declaration here and a row
 * in the table of tokamax_tune.c. */
#ifndef TK_TOOLS_COMMANDS_H
#define TK_TOOLS_COMMANDS_H

int tk_cmd_device(int argc, char **argv);
int tk_cmd_check(int argc, char **argv);
int tk_cmd_sweep(int argc, char **argv);
int tk_cmd_show(int argc, char **argv);
int tk_cmd_export(int argc, char **argv);
int tk_cmd_import(int argc, char **argv);
int tk_cmd_merge(int argc, char **argv);
int tk_cmd_clear(int argc, char **argv);
int tk_cmd_gate(int argc, char **argv);

#endif
