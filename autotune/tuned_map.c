/* tuned_map.c: an open-addressing hash map of (device slot, problem key)
 * -> cached (impl, config) text, with the text resolved against the
 * registry and memoised on first use; in front of it a memo by problem
 * image (choice_memo.h), so a repeated problem skips its key text. Each
 * entry of the cache keeps the timings of its shape's measured candidates,
 * read when a nearest answer is first looked for on its device: the
 * evidence the nearest rule weighs (TK_NEAREST_MIN_GAIN). */
#include "autotune/tuned_map.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "runtime/status.h"
#include "autotune/choice_memo.h"
#include "autotune/config.h"
#include "autotune/key_distance.h"

enum { UNRESOLVED = 0, USABLE = 1, UNUSABLE = 2 };

/* One measured candidate of a tuned shape: impl and config, the 20th and
 * 80th percentiles of its times, and when it was recorded. */
typedef struct {
  char *impl, *config;
  double p20_ns, p80_ns;
  int64_t measured_us;
} measured;

typedef struct {
  char *key, *impl, *config; /* key NULL: empty slot; impl NULL: memoised miss */
  measured *ms;              /* the shape's ok measurements (none: a pack's, ...) */
  int n_ms, cap_ms;
  int slot;
  uint64_t hash;
  int loaded;                /* from the cache (a nearest candidate), not a memo */
  int pack;                  /* loaded from a tuned pack (tk_tuned_map_put_pack) */
  int state;
  tk_choice choice;
} entry;

struct tk_tuned_map {
  pthread_rwlock_t lock;
  entry *e;
  size_t cap, n;
  /* Answers of settled entries (state != UNRESOLVED) by problem image; an
   * answer is dropped whenever its entry is replaced or unresolved. */
  tk_choice_memo *memo;
  /* Whether the context's cache was read for the measurements of a slot's
   * entries (once per slot: a context that never needs a nearest answer
   * never reads them). */
  int n_slots;
  unsigned char *evidence_read;
};

static uint64_t hash_of(int slot, const char *key) {
  uint64_t h = 1469598103934665603ull ^ (uint64_t)slot;
  for (const unsigned char *s = (const unsigned char *)key; *s; s++) h = (h ^ *s) * 1099511628211ull;
  return h;
}

/* The entry of (slot, key) or the empty one where it would go. */
static entry *probe(entry *e, size_t cap, int slot, const char *key, uint64_t h) {
  for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1))
    if (!e[i].key || (e[i].hash == h && e[i].slot == slot && strcmp(e[i].key, key) == 0))
      return &e[i];
}

static int grow(tk_tuned_map *m) {
  size_t cap = m->cap ? 2 * m->cap : 64;
  entry *e = calloc(cap, sizeof *e);
  if (!e) return 0;
  for (size_t i = 0; i < m->cap; i++)
    if (m->e[i].key) *probe(e, cap, m->e[i].slot, m->e[i].key, m->e[i].hash) = m->e[i];
  free(m->e);
  m->e = e;
  m->cap = cap;
  return 1;
}

static void free_entry(entry *x) {
  free(x->key);
  free(x->impl);
  free(x->config);
  for (int i = 0; i < x->n_ms; i++) {
    free(x->ms[i].impl);
    free(x->ms[i].config);
  }
  free(x->ms);
}

/* Inserts or replaces; caller holds the write lock. impl NULL: a memoised
 * "nothing usable". */
static entry *put_locked(tk_tuned_map *m, int slot, const char *key, const char *impl,
                         const char *config, int loaded) {
  if ((m->n + 1) * 2 > m->cap && !grow(m)) return NULL;
  uint64_t h = hash_of(slot, key);
  entry *x = probe(m->e, m->cap, slot, key, h);
  entry fresh = {strdup(key), impl ? strdup(impl) : NULL, config ? strdup(config) : NULL,
                 NULL, 0, 0, slot, h, loaded, 0, impl ? UNRESOLVED : UNUSABLE, {0}};
  if (!fresh.key || (impl && !fresh.impl) || (config && !fresh.config)) {
    free_entry(&fresh);
    return NULL;
  }
  tk_choice_memo_forget_key(m->memo, slot, h);
  if (x->key) free_entry(x);
  else m->n++;
  *x = fresh;
  return x;
}

typedef struct {
  tk_tuned_map *m;
  int slot, failed;
} load_ctx;

static int load_row(void *user, const char *fp, const tk_cache_best *b) {
  (void)fp;
  load_ctx *l = user;
  if (!put_locked(l->m, l->slot, b->problem_key, b->impl, b->config, 1)) l->failed = 1;
  return l->failed;
}

/* Keeps an ok measurement of a loaded shape with its entry. */
static int load_measurement(void *user, const char *fp, const tk_cache_measurement *m) {
  (void)fp;
  load_ctx *l = user;
  tk_tuned_map *map = l->m;
  if (m->result != TK_CACHE_RESULT_OK || !(m->p20_ns > 0) || !(m->p80_ns > 0) || !map->cap)
    return 0;
  entry *x = probe(map->e, map->cap, l->slot, m->problem_key, hash_of(l->slot, m->problem_key));
  if (!x->key || !x->loaded || x->pack) return 0;
  if (x->n_ms == x->cap_ms) {
    int cap = x->cap_ms ? 2 * x->cap_ms : 16;
    measured *ms = realloc(x->ms, (size_t)cap * sizeof *ms);
    if (!ms) return l->failed = 1;
    x->ms = ms;
    x->cap_ms = cap;
  }
  measured y = {strdup(m->impl), strdup(m->config), m->p20_ns, m->p80_ns, m->measured_us};
  if (!y.impl || !y.config) {
    free(y.impl);
    free(y.config);
    return l->failed = 1;
  }
  x->ms[x->n_ms++] = y;
  return 0;
}

/* Reads, once per slot (p's), the measurements ctx's cache holds of the
 * slot's entries into them; caller holds the write lock. Logs when they
 * cannot be read (those entries are then judged by distance alone). */
static void read_evidence(tk_tuned_map *m, tk_context *ctx, const tk_problem *p, int slot) {
  if (slot < 0 || slot >= m->n_slots || m->evidence_read[slot]) return;
  m->evidence_read[slot] = 1;
  const char *path = ctx->cache_path;
  if (!path || strcmp(path, ":memory:") == 0) return;
  char fp[512];
  tk_problem_device_slot(ctx, p, fp, sizeof fp);
  tk_cache *c;
  load_ctx l = {m, slot, 0};
  tk_cache_filter flt = {fp, NULL, NULL, NULL};
  if (tk_cache_open(path, TK_CACHE_READONLY, 0, &c) != TK_OK) {
    tk_log(TK_LOG_INFO, "tuning cache: measurements not read (%s); nearest entries judged by "
           "distance alone", tk_last_error());
    return;
  }
  if (tk_cache_each_measurement(c, &flt, load_measurement, &l) != TK_OK || l.failed)
    tk_log(TK_LOG_INFO, "tuning cache: measurements partly read (%s)",
           l.failed ? "out of memory" : tk_last_error());
  tk_cache_close(c);
}

tk_tuned_map *tk_tuned_map_load(const char *path, const char *const *fps, int n_slots) {
  tk_tuned_map *m = calloc(1, sizeof *m);
  if (!m) return NULL;
  if (!(m->memo = tk_choice_memo_create())) {
    free(m);
    return NULL;
  }
  if (!(m->evidence_read = calloc((size_t)(n_slots > 0 ? n_slots : 1), 1))) {
    tk_choice_memo_free(m->memo);
    free(m);
    return NULL;
  }
  m->n_slots = n_slots;
  pthread_rwlock_init(&m->lock, NULL);
  if (!path || strcmp(path, ":memory:") == 0) return m;
  FILE *f = fopen(path, "rb");
  if (!f) return m; /* no cache yet: nothing tuned */
  fclose(f);
  tk_cache *c;
  /* One open (one busy wait, the real reason on failure): read-write so an
   * older schema is migrated, read-only when the file cannot be written. */
  if (tk_cache_open(path, TK_CACHE_MAY_READ_ONLY, 0, &c) != TK_OK) {
    tk_log(TK_LOG_INFO, "tuning cache not used: %s", tk_last_error());
    return m;
  }
  for (int i = 0; i < n_slots; i++) {
    load_ctx l = {m, i, 0};
    tk_cache_filter flt = {fps[i], NULL, NULL, NULL};
    if (tk_cache_each_best(c, &flt, load_row, &l) != TK_OK)
      tk_log(TK_LOG_INFO, "tuning cache partly read: %s", tk_last_error());
    if (l.failed) {
      tk_cache_close(c);
      tk_tuned_map_free(m);
      return NULL;
    }
  }
  tk_cache_close(c);
  tk_log(TK_LOG_INFO, "tuning cache %s: %zu tuned shapes for this machine", path, m->n);
  return m;
}

void tk_tuned_map_free(tk_tuned_map *m) {
  if (!m) return;
  for (size_t i = 0; i < m->cap; i++)
    if (m->e[i].key) free_entry(&m->e[i]);
  free(m->e);
  tk_choice_memo_free(m->memo);
  free(m->evidence_read);
  pthread_rwlock_destroy(&m->lock);
  free(m);
}

int tk_tuned_map_size(tk_tuned_map *m) {
  pthread_rwlock_rdlock(&m->lock);
  int n = 0;
  for (size_t i = 0; i < m->cap; i++) n += m->e[i].key && m->e[i].loaded && !m->e[i].pack;
  pthread_rwlock_unlock(&m->lock);
  return n;
}

int tk_tuned_map_pack_size(tk_tuned_map *m) {
  pthread_rwlock_rdlock(&m->lock);
  int n = 0;
  for (size_t i = 0; i < m->cap; i++) n += m->e[i].key && m->e[i].loaded && m->e[i].pack;
  pthread_rwlock_unlock(&m->lock);
  return n;
}

/* Resolves x's text against the registry for p; caller holds the write
 * lock. Logs why an entry is unusable (once: the state is kept). */
static void resolve(entry *x, tk_context *ctx, const tk_problem *p, tk_choice_source src) {
  x->state = UNUSABLE;
  const tk_impl *impl = tk_registry_find(p->op, x->impl);
  char why[256] = "";
  if (!impl) {
    tk_log(TK_LOG_INFO, "tuning cache: %s: impl '%s' does not exist; ignored", x->key, x->impl);
    return;
  }
  if (!tk_impl_can_run(ctx, impl, p, why, sizeof why)) {
    tk_log(TK_LOG_INFO, "tuning cache: %s: impl %s cannot run it (%s); ignored", x->key, x->impl, why);
    return;
  }
  tk_config cfg;
  tk_config_heuristic(impl, p, &ctx->dev, &cfg);
  if (tk_config_parse(impl->space, p, x->config, &cfg) != TK_OK) {
    tk_log(TK_LOG_INFO, "tuning cache: %s: config '%s' of %s is invalid (%s); ignored", x->key,
           x->config, x->impl, tk_last_error());
    return;
  }
  x->choice = (tk_choice){impl, cfg, src};
  x->state = USABLE;
}

#define MAX_NEAREST_TRIES 8

/* The measurement of (impl, config) among x's, or NULL. */
static const measured *measurement_of(const entry *x, const char *impl, const char *config) {
  for (int i = 0; i < x->n_ms; i++)
    if (strcmp(x->ms[i].impl, impl) == 0 && strcmp(x->ms[i].config, config) == 0) return &x->ms[i];
  return NULL;
}

/* Whether tuned shape x's measurements show its choice clearly beating
 * the config the heuristic runs for p (the choice p gets without x): both
 * timed together (recorded within TK_NEAREST_TOGETHER_US, as the sweep's
 * interleaved confirmation records them) and the heuristic's 20th
 * percentile there at least TK_NEAREST_MIN_GAIN times the choice's 80th.
 * 1 when they do, when that config is x's own, or when x has no
 * measurements (a pack's entry, say: its distance alone decides); 0,
 * logged, otherwise. */
static int wins_clearly(const entry *x, tk_context *ctx, const char *key, const tk_problem *p) {
  if (x->n_ms == 0) return 1;
  tk_choice h;
  if (tk_choose_untuned(ctx, p, &h) != TK_OK) return 1;
  const char *hi = h.impl->name;
  char hc[512];
  tk_config_format(h.impl->space, &h.cfg, hc, sizeof hc);
  if (strcmp(hi, x->impl) == 0 && strcmp(hc, x->config) == 0) return 1;
  const measured *hm = measurement_of(x, hi, hc), *bm = measurement_of(x, x->impl, x->config);
  int together = hm && bm && llabs(hm->measured_us - bm->measured_us) <= TK_NEAREST_TOGETHER_US;
  if (together && hm->p20_ns >= TK_NEAREST_MIN_GAIN * bm->p80_ns) return 1;
  if (!hm || !bm)
    tk_log(TK_LOG_INFO, "tuning cache: %s: nearest tuned shape %s has no measurement of %s %s; "
           "not used", key, x->key, hm ? x->impl : hi, hm ? x->config : hc);
  else if (!together)
    tk_log(TK_LOG_INFO, "tuning cache: %s: nearest tuned shape %s: its %s %s and the heuristic's "
           "%s %s were not timed together (%.1f s apart); not used", key, x->key, x->impl,
           x->config, hi, hc, (double)llabs(hm->measured_us - bm->measured_us) / 1e6);
  else
    tk_log(TK_LOG_INFO, "tuning cache: %s: nearest tuned shape %s: the heuristic's %s %s was at "
           "%.2fx its %s %s there (p20 over p80), under %.2fx; not used", key, x->key, hi, hc,
           hm->p20_ns / bm->p80_ns, x->impl, x->config, TK_NEAREST_MIN_GAIN);
  return 0;
}

/* The nearest loaded entry of p's family within reach of p
 * (tk_key_within_reach) that resolves for p, memoised under key, or NULL;
 * NULL too when that entry's measurements do not show a clear win over
 * p's heuristic (wins_clearly). Caller holds the write lock. Logs when the
 * family has tuned shapes but none within reach. */
static entry *nearest(tk_tuned_map *m, tk_context *ctx, int slot, const char *key,
                      const tk_problem *p) {
  tk_key_shape want, have;
  if (!tk_key_shape_of(key, &want)) return NULL;
  const entry *tried[MAX_NEAREST_TRIES];
  int out_of_reach = 0;
  for (int n_tried = 0; n_tried < MAX_NEAREST_TRIES; n_tried++) {
    entry *best = NULL;
    double best_d = 0;
    for (size_t i = 0; i < m->cap; i++) {
      entry *x = &m->e[i];
      int skip = !x->key || !x->loaded || x->slot != slot || x->state == UNUSABLE;
      for (int t = 0; t < n_tried && !skip; t++) skip = tried[t] == x;
      if (skip || !tk_key_shape_of(x->key, &have)) continue;
      double d = tk_key_distance(&want, &have);
      if (d < 0) continue;
      if (!tk_key_within_reach(&want, &have)) {
        out_of_reach++;
        continue;
      }
      if (!best || d < best_d || (d == best_d && strcmp(x->key, best->key) < 0)) {
        best = x;
        best_d = d;
      }
    }
    if (!best) {
      if (n_tried == 0 && out_of_reach)
        tk_log(TK_LOG_INFO,
               "tuning cache: %s: %d tuned shape(s) of this family, none within %gx in every "
               "size and regime; not used",
               key, out_of_reach, TK_KEY_MAX_FACTOR);
      return NULL;
    }
    entry trial = *best;
    resolve(&trial, ctx, p, TK_CHOICE_NEAREST);
    if (trial.state == USABLE) {
      read_evidence(m, ctx, p, slot);
      if (!wins_clearly(best, ctx, key, p)) return NULL;
      entry *memo = put_locked(m, slot, key, trial.impl, trial.config, 0);
      if (!memo) return NULL;
      memo->choice = trial.choice;
      memo->state = USABLE;
      return memo;
    }
    tried[n_tried] = best;
  }
  return NULL;
}

/* Whether c, settled for p's key, also runs p itself: an entry is resolved
 * against the first problem of its key, and a later one may differ in what
 * the key leaves out (its buffers' alignment). Logs when it does not. */
static int runs_this_problem(tk_context *ctx, const char *key, const tk_choice *c,
                             const tk_problem *p) {
  char why[256];
  if (tk_impl_can_run(ctx, c->impl, p, why, sizeof why) &&
      tk_config_valid(c->impl->space, p, &c->cfg, why, sizeof why))
    return 1;
  tk_log(TK_LOG_INFO, "tuning cache: %s: %s cannot run these buffers (%s); not used for them", key,
         c->impl->name, why);
  return 0;
}

/* The settled answer of (slot, key): the memoised one under the read lock,
 * else resolved (exact entry, then nearest, else a memoised miss) under
 * the write lock. 1 with *out filled, 0 when nothing usable is tuned. */
static int settled_choice(tk_tuned_map *m, tk_context *ctx, int slot, const char *key,
                          const tk_problem *p, tk_choice *out) {
  uint64_t h = hash_of(slot, key);
  int found = 0;
  pthread_rwlock_rdlock(&m->lock);
  if (m->cap) {
    entry *x = probe(m->e, m->cap, slot, key, h);
    if (x->key && x->state != UNRESOLVED) {
      found = x->state == USABLE ? 1 : -1;
      if (found == 1) *out = x->choice;
    }
  }
  pthread_rwlock_unlock(&m->lock);
  if (found) return found == 1;

  pthread_rwlock_wrlock(&m->lock);
  entry *x = m->cap ? probe(m->e, m->cap, slot, key, h) : NULL;
  if (x && x->key && x->loaded && x->state == UNRESOLVED)
    resolve(x, ctx, p, x->pack ? TK_CHOICE_PACK : TK_CHOICE_CACHE);
  if (!(x && x->key && x->loaded && x->state == USABLE)) {
    x = nearest(m, ctx, slot, key, p);
    if (!x) put_locked(m, slot, key, NULL, NULL, 0); /* memoised miss */
  }
  if (x && x->state == USABLE) {
    *out = x->choice;
    found = 1;
  }
  pthread_rwlock_unlock(&m->lock);
  return found;
}

int tk_tuned_map_find(tk_tuned_map *m, tk_context *ctx, int slot, const char *key,
                      const tk_problem *p, tk_choice *out) {
  if (settled_choice(m, ctx, slot, key, p, out) && runs_this_problem(ctx, key, out, p)) return 1;
  *out = (tk_choice){0};
  return 0;
}

int tk_tuned_map_put(tk_tuned_map *m, int slot, const char *key, const char *impl,
                     const char *config) {
  pthread_rwlock_wrlock(&m->lock);
  /* Memos of the nearest rule (and of misses) may now be stale. */
  for (size_t i = 0; i < m->cap; i++)
    if (m->e[i].key && !m->e[i].loaded) m->e[i].state = UNRESOLVED;
  tk_choice_memo_clear(m->memo);
  entry *x = put_locked(m, slot, key, impl, config, 1);
  pthread_rwlock_unlock(&m->lock);
  return x != NULL;
}

int tk_tuned_map_put_pack(tk_tuned_map *m, int slot, const char *key, const char *impl,
                          const char *config) {
  pthread_rwlock_wrlock(&m->lock);
  int added = 0;
  if (m->cap) {
    const entry *x = probe(m->e, m->cap, slot, key, hash_of(slot, key));
    if (x->key && x->loaded) added = -1; /* the user's cache or an earlier pack has it */
  }
  if (added == 0) {
    entry *x = put_locked(m, slot, key, impl, config, 1);
    if (x) x->pack = 1;
    added = x ? 1 : -2;
  }
  pthread_rwlock_unlock(&m->lock);
  return added == -2 ? -1 : added == 1;
}

/* Memoises, for img on slot, what tk_tuned_map_find answered (found, c)
 * for a problem of that image, once (slot, key)'s entry is settled: the
 * answer then depends on nothing the image leaves out. Caller holds the
 * write lock. */
static void memoise_locked(tk_tuned_map *m, const tk_problem_image *img, int slot,
                           const char *key, int found, const tk_choice *c) {
  if (!m->cap) return;
  uint64_t h = hash_of(slot, key);
  const entry *x = probe(m->e, m->cap, slot, key, h);
  if (x->key && x->state != UNRESOLVED) tk_choice_memo_put(m->memo, img, slot, h, found, c);
}

int tk_tuned_map_lookup(tk_tuned_map *m, tk_context *ctx, int slot, const tk_problem *p,
                        tk_choice *out) {
  tk_problem_image img;
  tk_problem_image_of(p, slot, &img);
  int found, memoised;
  pthread_rwlock_rdlock(&m->lock);
  memoised = tk_choice_memo_find(m->memo, &img, slot, &found, out);
  pthread_rwlock_unlock(&m->lock);
  if (memoised) return found;
  char key[TK_TUNED_KEY_MAX];
  if (tk_problem_key(p, key, sizeof key) >= (int)sizeof key) return -1;
  found = tk_tuned_map_find(m, ctx, slot, key, p, out);
  pthread_rwlock_wrlock(&m->lock);
  memoise_locked(m, &img, slot, key, found, out);
  pthread_rwlock_unlock(&m->lock);
  return found;
}

int tk_tuned_map_memo_size(tk_tuned_map *m) {
  pthread_rwlock_rdlock(&m->lock);
  int n = tk_choice_memo_size(m->memo);
  pthread_rwlock_unlock(&m->lock);
  return n;
}
