/* packs.c: finding the usable tuned packs and loading those of this
 * machine's devices into a tuned map (packs.h). */
#include "autotune/packs.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autotune/config.h"
#include "runtime/device.h"
#include "runtime/status.h"

/* NULL when every entry names an implementation of its op in this build
 * and a config that parses against its space; else why not (in why). */
static const char *unusable(const tk_pack *p, char *why, size_t len) {
  for (int i = 0; i < p->n; i++) {
    const tk_pack_entry *e = &p->entries[i];
    tk_op op;
    tk_op_from_name(e->op, &op); /* the parser checked the name */
    const tk_impl *impl = tk_registry_find(op, e->impl);
    tk_config cfg = {{0}};
    if (!impl)
      snprintf(why, len, "%s: this build has no %s implementation '%s'", e->problem_key, e->op,
               e->impl);
    else if (tk_config_parse(impl->space, NULL, e->config, &cfg) != TK_OK)
      snprintf(why, len, "%s: config '%s' of %s: %s", e->problem_key, e->config, e->impl,
               tk_last_error());
    else
      continue;
    return why;
  }
  return NULL;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The *.pack names of dir, sorted (caller frees each and the array); *n
 * how many. NULL with *n = 0 when none or out of memory. */
static char **pack_names(const char *dir, int *n) {
  *n = 0;
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char **names = NULL;
  int cap = 0;
  for (struct dirent *e; (e = readdir(d));) {
    size_t len = strlen(e->d_name);
    if (len <= 5 || strcmp(e->d_name + len - 5, ".pack") != 0) continue;
    if (*n == cap) {
      char **grown = realloc(names, (size_t)(cap = 2 * cap + 8) * sizeof *grown);
      if (!grown) break;
      names = grown;
    }
    if (!(names[*n] = strdup(e->d_name))) break;
    (*n)++;
  }
  closedir(d);
  if (names) qsort(names, (size_t)*n, sizeof *names, by_name);
  return names;
}

static void warn_or_log(tk_pack_warn_fn warn, void *user, const char *msg) {
  if (warn)
    warn(user, msg);
  else
    tk_log(TK_LOG_INFO, "%s", msg);
}

/* One file: parsed, checked, handed to fn. 1 when fn asked to stop. */
static int visit(const char *path, tk_pack_fn fn, tk_pack_warn_fn warn, void *user) {
  tk_pack *p = NULL;
  char msg[6144], why[1024];
  const char *bad;
  if (tk_pack_read(path, &p) != TK_OK) {
    snprintf(msg, sizeof msg, "tuned pack skipped: %s", tk_last_error());
    warn_or_log(warn, user, msg);
    return 0;
  }
  int stop = 0;
  if ((bad = unusable(p, why, sizeof why))) {
    snprintf(msg, sizeof msg, "tuned pack %s skipped (none of it loaded): %s", path, bad);
    warn_or_log(warn, user, msg);
  } else {
    stop = fn(user, path, p);
  }
  tk_pack_free(p);
  return stop;
}

void tk_packs_each(tk_pack_fn fn, tk_pack_warn_fn warn, void *user) {
  char(*dirs)[TK_PACK_PATH_MAX] = malloc(TK_PACK_DIRS_MAX * sizeof *dirs);
  char **seen = NULL;
  int n_seen = 0, stop = 0;
  int n_dirs = dirs ? tk_pack_dirs(dirs, TK_PACK_DIRS_MAX) : 0;
  for (int d = 0; d < n_dirs && !stop; d++) {
    int n = 0;
    char **names = pack_names(dirs[d], &n);
    for (int i = 0; i < n; i++) {
      int dup = 0;
      for (int k = 0; k < n_seen && !dup; k++) dup = strcmp(seen[k], names[i]) == 0;
      char **grown = dup ? NULL : realloc(seen, (size_t)(n_seen + 1) * sizeof *seen);
      if (!dup && grown) {
        seen = grown;
        seen[n_seen++] = names[i];
        names[i] = NULL;
        char path[2 * TK_PACK_PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dirs[d], seen[n_seen - 1]);
        if (!stop) stop = visit(path, fn, warn, user);
      }
      free(names[i]);
    }
    free(names);
  }
  free(dirs);
  for (int k = 0; k < n_seen; k++) free(seen[k]);
  free(seen);
}

int tk_pack_applies(const tk_pack *pack, const char *fp) {
  char cls[512];
  if (strcmp(pack->fingerprint, fp) == 0) return 1;
  tk_device_class(fp, cls, sizeof cls);
  return strcmp(pack->device_class, cls) == 0;
}

typedef struct {
  tk_tuned_map *m;
  const char *const *fps;
  int n_slots, oom;
} load_job;

static int load_pack(void *user, const char *path, const tk_pack *p) {
  load_job *j = user;
  int used = 0;
  for (int slot = 0; slot < j->n_slots; slot++) {
    if (!tk_pack_applies(p, j->fps[slot])) continue;
    int added = 0;
    for (int i = 0; i < p->n; i++) {
      int r = tk_tuned_map_put_pack(j->m, slot, p->entries[i].problem_key, p->entries[i].impl,
                                    p->entries[i].config);
      if (r < 0) {
        j->oom = 1;
        return 1;
      }
      added += r;
    }
    used = 1;
    tk_log(TK_LOG_INFO, "tuned pack %s (%s, measured on %s): %d of %d choices loaded for %s",
           path, p->suite, p->fingerprint, added, p->n, j->fps[slot]);
  }
  if (!used)
    tk_log(TK_LOG_INFO, "tuned pack %s ignored: for device class %s, not this machine's", path,
           p->device_class);
  return 0;
}

int tk_packs_load(tk_tuned_map *m, const char *const *fps, int n_slots) {
  load_job j = {m, fps, n_slots, 0};
  tk_packs_each(load_pack, NULL, &j);
  return !j.oom;
}
