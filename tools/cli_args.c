/* cli_args.c: long-option parsing and usage text for tokamax-tune. */
#include "tools/cli_args.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void tk_cli_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("tokamax-tune: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

void tk_cli_usage(const tk_cli_cmd *cmd, FILE *f) {
  fprintf(f, "usage: tokamax-tune %s [options]%s%s\n  %s\n", cmd->name,
          cmd->args_metavar ? " " : "", cmd->args_metavar ? cmd->args_metavar : "", cmd->summary);
  fprintf(f, "options:\n");
  for (int i = 0; i < cmd->n_opts; i++) {
    const tk_cli_opt *o = &cmd->opts[i];
    char left[64];
    if (o->kind == TK_OPT_FLAG)
      snprintf(left, sizeof left, "--%s", o->name);
    else
      snprintf(left, sizeof left, "--%s %s", o->name, o->metavar ? o->metavar : "VALUE");
    fprintf(f, "  %-24s %s\n", left, o->help);
  }
  fprintf(f, "  %-24s %s\n", "--help", "show this help");
}

/* The option called name (length len), or NULL. */
static const tk_cli_opt *find_opt(const tk_cli_cmd *cmd, const char *name, size_t len) {
  for (int i = 0; i < cmd->n_opts; i++)
    if (strlen(cmd->opts[i].name) == len && strncmp(cmd->opts[i].name, name, len) == 0)
      return &cmd->opts[i];
  return NULL;
}

/* Stores text into o's value; 0 on success, else prints why and returns -1. */
static int set_value(const tk_cli_cmd *cmd, const tk_cli_opt *o, const char *text) {
  if (o->kind == TK_OPT_STRING) {
    *(const char **)o->value = text;
    return 0;
  }
  char *end = NULL;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end != '\0' || v < o->min || v > INT_MAX) {
    tk_cli_error("%s: --%s wants an integer >= %d, got '%s'", cmd->name, o->name, o->min, text);
    return -1;
  }
  *(int *)o->value = (int)v;
  return 0;
}

/* Prints the usage error already reported and returns the usage exit code. */
static int usage_error(const tk_cli_cmd *cmd) {
  tk_cli_usage(cmd, stderr);
  return 2;
}

int tk_cli_parse(const tk_cli_cmd *cmd, int argc, char **argv) {
  int n_pos = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      tk_cli_usage(cmd, stdout);
      return 0;
    }
    if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
      if (cmd->args_metavar && n_pos < cmd->max_args) {
        cmd->args[n_pos++] = argv[i];
        continue;
      }
      tk_cli_error("%s: unexpected argument '%s'", cmd->name, a);
      return usage_error(cmd);
    }
    const char *name = a + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const tk_cli_opt *o = find_opt(cmd, name, len);
    if (!o) {
      tk_cli_error("%s: unknown option '--%.*s'", cmd->name, (int)len, name);
      return usage_error(cmd);
    }
    if (o->kind == TK_OPT_FLAG) {
      if (eq) {
        tk_cli_error("%s: --%s takes no value", cmd->name, o->name);
        return usage_error(cmd);
      }
      *(int *)o->value = 1;
      continue;
    }
    const char *text = eq ? eq + 1 : NULL;
    if (!text) {
      if (i + 1 >= argc) {
        tk_cli_error("%s: --%s needs a value", cmd->name, o->name);
        return usage_error(cmd);
      }
      text = argv[++i];
    }
    if (set_value(cmd, o, text) != 0) return usage_error(cmd);
  }
  if (cmd->args_metavar) {
    if (n_pos < cmd->min_args) {
      tk_cli_error("%s: needs %s", cmd->name, cmd->args_metavar);
      return usage_error(cmd);
    }
    *cmd->n_args = n_pos;
  }
  return -1;
}
