/* pack_dirs.c: where tuned packs are searched (packs.h, tk_pack_dirs). The
 * build passes TK_PACKS_INSTALL_DIR (the configured prefix's
 * share/tokamax/packs), TK_PACKS_FROM_LIBDIR and TK_PACKS_FROM_BINDIR (that
 * directory relative to the library's and the programs' install
 * directories, so a prefix moved by `cmake --install --prefix` still
 * resolves), TK_BUILD_DIR and TK_PACKS_BUILD_DIR (the build tree's copy). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/packs.h"

#ifndef TK_PACKS_INSTALL_DIR
#define TK_PACKS_INSTALL_DIR ""
#endif
#ifndef TK_PACKS_FROM_LIBDIR
#define TK_PACKS_FROM_LIBDIR ""
#endif
#ifndef TK_PACKS_FROM_BINDIR
#define TK_PACKS_FROM_BINDIR ""
#endif
#ifndef TK_BUILD_DIR
#define TK_BUILD_DIR ""
#endif
#ifndef TK_PACKS_BUILD_DIR
#define TK_PACKS_BUILD_DIR ""
#endif

typedef struct {
  char (*dirs)[TK_PACK_PATH_MAX];
  char *real[TK_PACK_DIRS_MAX]; /* the same, allocated, to tell repeats */
  int n, max;
} dir_list;

/* Adds dir (len bytes of it) when it exists and is not listed yet. */
static void add(dir_list *l, const char *dir, size_t len) {
  char path[TK_PACK_PATH_MAX];
  if (!len || len >= sizeof path || l->n >= l->max || l->n >= TK_PACK_DIRS_MAX) return;
  memcpy(path, dir, len);
  path[len] = '\0';
  char *real = realpath(path, NULL);
  if (!real) return;
  for (int i = 0; i < l->n; i++)
    if (strcmp(l->real[i], real) == 0) {
      free(real);
      return;
    }
  if (strlen(real) >= TK_PACK_PATH_MAX) {
    free(real);
    return;
  }
  l->real[l->n] = real;
  strcpy(l->dirs[l->n++], real); /* "prefix/bin/../share/..." shown as "prefix/share/..." */
}

/* The directory of the file (library or program) holding this code, or
 * "" when unknown. */
static void own_dir(char *buf, size_t len) {
  Dl_info info;
  buf[0] = '\0';
  if (!dladdr((void *)&tk_pack_dirs, &info) || !info.dli_fname) return;
  char *real = realpath(info.dli_fname, NULL);
  if (!real) return;
  char *slash = strrchr(real, '/');
  if (slash) *slash = '\0';
  snprintf(buf, len, "%s", real);
  free(real);
}

/* Adds own/rel when rel is set. */
static void add_relative(dir_list *l, const char *own, const char *rel) {
  char path[TK_PACK_PATH_MAX];
  if (!own[0] || !rel[0]) return;
  int n = snprintf(path, sizeof path, "%s/%s", own, rel);
  if (n > 0 && (size_t)n < sizeof path) add(l, path, (size_t)n);
}

/* Fills l in search order (tk_pack_dirs). */
static void search_order(dir_list *l) {
  const char *env = getenv("TOKAMAX_PACKS");
  for (const char *p = env; p && *p;) {
    const char *colon = strchr(p, ':');
    size_t len = colon ? (size_t)(colon - p) : strlen(p);
    add(l, p, len);
    p += len + (colon != NULL);
  }
  const char *defaults = getenv("TOKAMAX_DEFAULT_PACKS");
  if (defaults && strcmp(defaults, "off") == 0) return;
  char own[TK_PACK_PATH_MAX];
  own_dir(own, sizeof own);
  add_relative(l, own, TK_PACKS_FROM_LIBDIR);
  add_relative(l, own, TK_PACKS_FROM_BINDIR);
  add(l, TK_PACKS_INSTALL_DIR, strlen(TK_PACKS_INSTALL_DIR));
  /* The build tree's copy, only for code running from the build tree: an
   * installed library never reads a build folder left behind. */
  size_t nb = strlen(TK_BUILD_DIR);
  if (nb && strncmp(own, TK_BUILD_DIR, nb) == 0 && (own[nb] == '/' || own[nb] == '\0'))
    add(l, TK_PACKS_BUILD_DIR, strlen(TK_PACKS_BUILD_DIR));
}

int tk_pack_dirs(char dirs[][TK_PACK_PATH_MAX], int max) {
  dir_list l = {.dirs = dirs, .n = 0, .max = max};
  search_order(&l);
  for (int i = 0; i < l.n; i++) free(l.real[i]);
  return l.n;
}
