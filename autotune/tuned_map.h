/* tuned_map.h: the in-memory map of tuned choices a context dispatches by,
 * loaded once from the SQLite cache at context creation so a call on a
 * tuned shape costs a hash lookup, never a query. Safe for concurrent use. */
#ifndef TK_AUTOTUNE_TUNED_MAP_H
#define TK_AUTOTUNE_TUNED_MAP_H

#include "autotune/choose.h"

typedef struct tk_tuned_map tk_tuned_map;

/* A map holding, for each device fingerprint fps[slot], the best choices
 * the cache at path has for it. A missing file or ":memory:" gives an empty
 * map; an unreadable or corrupt cache gives an empty map and a warning in
 * the log. NULL only when out of memory. */
tk_tuned_map *tk_tuned_map_load(const char *path, const char *const *fps, int n_slots);
void tk_tuned_map_free(tk_tuned_map *m);

/* Entries loaded from the cache or added (tuned on a miss). */
int tk_tuned_map_size(tk_tuned_map *m);

/* Entries from tuned packs (tk_tuned_map_put_pack). */
int tk_tuned_map_pack_size(tk_tuned_map *m);

/* The tuned choice for problem p (whose key is key) on device slot: the
 * exact key's entry (source TK_CHOICE_CACHE, or TK_CHOICE_PACK for a tuned
 * pack's), else the nearest tuned shape
 * of the same op and parameters (key_distance.h; TK_CHOICE_NEAREST) where
 * its measurements, read from the cache the first time a nearest
 * candidate is found on the slot, show a clear win over p's heuristic. An
 * entry whose impl is unknown or cannot run p, or whose config does not
 * parse or is invalid for p, is skipped with one log line. Results are
 * memoised per key, but a memoised choice is used only if it also runs p
 * itself (a later problem of the key may have less aligned buffers; logged).
 * 1 with *out filled, 0 when nothing usable is tuned. */
int tk_tuned_map_find(tk_tuned_map *m, tk_context *ctx, int slot, const char *key,
                      const tk_problem *p, tk_choice *out);

/* The longest problem key (with its NUL) dispatch looks up by. */
#define TK_TUNED_KEY_MAX 1024

/* tk_tuned_map_find for validated problem p, with its key formatted here
 * only when needed: a problem met before (same bytes but for the data
 * pointers, whose alignment only counts; same slot) gets the answer
 * tk_tuned_map_find gave for it from a memo of at most 256 problems,
 * without its key text. 1 with *out filled or 0, as tk_tuned_map_find; -1
 * (nothing looked up) when p's key needs more than TK_TUNED_KEY_MAX bytes. */
int tk_tuned_map_lookup(tk_tuned_map *m, tk_context *ctx, int slot, const tk_problem *p,
                        tk_choice *out);

/* Problems held by the memo of tk_tuned_map_lookup (for tests). */
int tk_tuned_map_memo_size(tk_tuned_map *m);

/* Adds (or replaces) the tuned choice of (slot, key); 0 when out of memory.
 * Empties the memo of tk_tuned_map_lookup, since the nearest-shape answers
 * of other keys may change. */
int tk_tuned_map_put(tk_tuned_map *m, int slot, const char *key, const char *impl,
                     const char *config);

/* Adds a tuned pack's choice of (slot, key) unless the map has an entry of
 * that key already (the user's cache, loaded first, wins; so does an
 * earlier pack). Its exact hits report TK_CHOICE_PACK; it is a nearest
 * candidate like any other. 1 added, 0 kept the existing entry, -1 out of
 * memory. Called while loading, before the map is used. */
int tk_tuned_map_put_pack(tk_tuned_map *m, int slot, const char *key, const char *impl,
                          const char *config);

#endif
