/* cmd_cache_files.c: `tokamax-tune export` (also of tuned packs),
 * `import`, `merge` and `clear`: moving tuning results between machines as
 * portable files (formats in docs/cache.md) and deleting them. */
#include <stdio.h>
#include <string.h>

#include "cache/pack.h"
#include "runtime/device.h"
#include "tools/cache_cli.h"
#include "tools/cli_args.h"
#include "tools/commands.h"

#define MAX_FILES 256

/* Prints what the last import on c warned of (format-1 files), if any. */
static void print_import_warning(const char *name, const tk_cache *c) {
  const char *w = tk_cache_import_warning(c);
  if (w[0]) fprintf(stderr, "tokamax-tune: %s: warning: %s\n", name, w);
}

/* One conflict line on stderr: the candidate, both readings, which was kept. */
static int print_conflict(void *user, const tk_cache_conflict *x) {
  fprintf(stderr,
          "tokamax-tune: %s: conflict: %s measured twice on %s (%s %s): %.6g us in %s, %.6g us "
          "in %s; kept %s\n",
          (const char *)user, x->problem_key, x->fingerprint, x->impl, x->config,
          x->kept_ns / 1e3, x->kept_file, x->dropped_ns / 1e3, x->dropped_file, x->kept_file);
  return 0;
}

/* Prints the conflicts of the last import on c; their number. */
static int64_t print_conflicts(const char *name, tk_cache *c) {
  int64_t n = 0;
  if (tk_cache_each_import_conflict(c, print_conflict, (void *)name, &n) != TK_OK)
    tk_cli_error("%s: %s", name, tk_last_error());
  return n;
}

/* " (N conflicts, see above)" or "" (buf holds it). */
static const char *conflict_note(int64_t n, char *buf, size_t len) {
  if (n == 0) return "";
  snprintf(buf, len, " (%lld conflict%s, see above)", (long long)n, n == 1 ? "" : "s");
  return buf;
}

/* The pack of one device (--pack): its class from its fingerprint, the
 * command written in the header (--command, else this export's own). */
static int export_pack(tk_cache *c, const char *path, const char *fp, const char *suite,
                       const char *command, int argc, char **argv) {
  char cls[512], self[4096] = "tokamax-tune";
  tk_device_class(fp, cls, sizeof cls);
  for (int i = 0; !command && i < argc; i++) {
    size_t used = strlen(self);
    snprintf(self + used, sizeof self - used, " %s", argv[i]);
  }
  tk_pack_header h = {fp, cls, suite ? suite : "-", command ? command : self};
  int64_t n = 0;
  if (tk_cache_export_pack(c, path, &h, &n) != TK_OK) {
    tk_cli_error("export: %s", tk_last_error());
    return 1;
  }
  fprintf(stderr, "wrote a tuned pack of %lld choices for %s (class %s) to %s\n", (long long)n,
          fp, cls, path);
  return 0;
}

int tk_cmd_export(int argc, char **argv) {
  const char *db = NULL, *device = NULL, *pack = NULL, *suite = NULL, *command = NULL;
  char *file[1];
  int n = 0;
  const tk_cli_opt opts[] = {
      {"db", TK_OPT_STRING, "PATH", "tuning cache (default: the one contexts use)", &db, 0},
      {"device", TK_OPT_STRING, "this|cpu|cuda[:N]|all|FP", "whose results (default: all; with --pack: this)", &device, 0},
      {"pack", TK_OPT_STRING, "FILE", "write a tuned pack of one device's choices instead (docs/autotune.md)", &pack, 0},
      {"suite", TK_OPT_STRING, "NAME", "with --pack: the suite swept, for the pack's header", &suite, 0},
      {"command", TK_OPT_STRING, "TEXT", "with --pack: the command that produced the results (default: this one)", &command, 0},
  };
  const tk_cli_cmd cmd = {"export", "write the tuning cache to a portable file (or a tuned pack)",
                          opts, 5, "FILE", 0, 1, file, &n};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  if ((n == 1) == (pack != NULL)) {
    tk_cli_error("export: give either FILE or --pack FILE");
    return 2;
  }
  if (!pack && (suite || command)) {
    tk_cli_error("export: --suite and --command go with --pack");
    return 2;
  }
  char fp[512];
  const char *dev;
  if (!cache_cli_device("export", device ? device : pack ? "this" : "all", fp, sizeof fp, &dev))
    return 1;
  if (pack && !dev) {
    tk_cli_error("export: a pack holds one device's choices: --device all does not go with --pack");
    return 2;
  }
  tk_cache *c;
  if (!cache_cli_open("export", db, TK_CACHE_CREATE | TK_CACHE_MAY_READ_ONLY, &c)) return 1;
  int ret = 0;
  if (pack) {
    ret = export_pack(c, pack, dev, suite, command, argc, argv);
  } else if (tk_cache_export(c, file[0], dev) != TK_OK) {
    tk_cli_error("export: %s", tk_last_error());
    ret = 1;
  }
  tk_cache_close(c);
  return ret;
}

int tk_cmd_import(int argc, char **argv) {
  const char *db = NULL;
  char *files[MAX_FILES];
  int n = 0;
  const tk_cli_opt opts[] = {
      {"db", TK_OPT_STRING, "PATH", "tuning cache (default: the one contexts use)", &db, 0},
  };
  const tk_cli_cmd cmd = {"import", "read portable files into the tuning cache (all or nothing)",
                          opts, 1, "FILE...", 1, MAX_FILES, files, &n};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  tk_cache *c;
  if (!cache_cli_open("import", db, TK_CACHE_CREATE, &c)) return 1;
  int64_t count = 0;
  tk_status s = tk_cache_import(c, (const char *const *)files, n, &count);
  if (s != TK_OK) tk_cli_error("import: %s", tk_last_error());
  else print_import_warning("import", c);
  char note[64];
  if (s == TK_OK)
    fprintf(stderr, "imported %lld measurements from %d file%s into %s%s\n", (long long)count, n,
            n == 1 ? "" : "s", tk_cache_path(c),
            conflict_note(print_conflicts("import", c), note, sizeof note));
  tk_cache_close(c);
  return s == TK_OK ? 0 : 1;
}

int tk_cmd_merge(int argc, char **argv) {
  const char *out = NULL;
  char *files[MAX_FILES];
  int n = 0;
  const tk_cli_opt opts[] = {
      {"out", TK_OPT_STRING, "FILE", "the merged portable file to write (required)", &out, 0},
  };
  const tk_cli_cmd cmd = {"merge", "join portable files (e.g. the shards of a sweep) into one",
                          opts, 1, "FILE...", 1, MAX_FILES, files, &n};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  if (!out) {
    tk_cli_error("merge: --out FILE is required");
    return 2;
  }
  tk_cache *c;
  if (tk_cache_open(":memory:", TK_CACHE_CREATE, 0, &c) != TK_OK) {
    tk_cli_error("merge: %s", tk_last_error());
    return 1;
  }
  int64_t count = 0;
  tk_status s = tk_cache_import(c, (const char *const *)files, n, &count);
  if (s == TK_OK) print_import_warning("merge", c);
  int64_t conflicts = s == TK_OK ? print_conflicts("merge", c) : 0;
  if (s == TK_OK) s = tk_cache_export(c, out, NULL);
  char note[64];
  if (s != TK_OK) tk_cli_error("merge: %s", tk_last_error());
  else fprintf(stderr, "merged %lld measurements from %d files into %s%s\n", (long long)count, n,
               out, conflict_note(conflicts, note, sizeof note));
  tk_cache_close(c);
  return s == TK_OK ? 0 : 1;
}

int tk_cmd_clear(int argc, char **argv) {
  const char *db = NULL, *device = NULL, *op = NULL;
  const tk_cli_opt opts[] = {
      {"db", TK_OPT_STRING, "PATH", "tuning cache (default: the one contexts use)", &db, 0},
      {"device", TK_OPT_STRING, "this|cpu|cuda[:N]|all|FP", "whose results (default: all)", &device, 0},
      {"op", TK_OPT_STRING, "OP", "only this op's results", &op, 0},
  };
  const tk_cli_cmd cmd = {"clear", "delete cached results", opts, 3, NULL, 0, 0, NULL, NULL};
  int rc = tk_cli_parse(&cmd, argc, argv);
  if (rc >= 0) return rc;
  tk_op v;
  if (op && tk_op_from_name(op, &v) != TK_OK) {
    tk_cli_error("clear: unknown op '%s'", op);
    return 2;
  }
  char fp[512];
  const char *dev;
  if (!cache_cli_device("clear", device ? device : "all", fp, sizeof fp, &dev)) return 1;
  tk_cache *c;
  if (!cache_cli_open("clear", db, TK_CACHE_CREATE, &c)) return 1;
  int64_t deleted = 0;
  tk_status s = tk_cache_clear(c, dev, op, &deleted);
  if (s != TK_OK) tk_cli_error("clear: %s", tk_last_error());
  else fprintf(stderr, "deleted %lld rows from %s\n", (long long)deleted, tk_cache_path(c));
  tk_cache_close(c);
  return s == TK_OK ? 0 : 1;
}
