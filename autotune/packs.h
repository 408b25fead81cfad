/* packs.h: the tuned packs this process finds (cache/pack.h for the file),
 * checked against this build and loaded into a context's tuned map under
 * the user's own cache (docs/autotune.md, "Tuned packs"). */
#ifndef TK_AUTOTUNE_PACKS_H
#define TK_AUTOTUNE_PACKS_H

#include <stddef.h>

#include "autotune/tuned_map.h"
#include "cache/pack.h"

/* The most pack directories searched, and the longest path of one. */
enum { TK_PACK_DIRS_MAX = 16, TK_PACK_PATH_MAX = 2048 };

/* The pack directories, in search order, into dirs (at most max): each
 * entry of $TOKAMAX_PACKS (colon-separated; empty entries skipped), then,
 * unless $TOKAMAX_DEFAULT_PACKS is "off", the install's data directory
 * (share/tokamax/packs beside the library or program that holds this code,
 * then the configured install prefix's) and, for code running from the
 * build tree, the build tree's copy. Each as its real path (symbolic
 * links and ".." resolved); one that does not exist or was listed before
 * is left out. Returns how many. */
int tk_pack_dirs(char dirs[][TK_PACK_PATH_MAX], int max);

/* Called with each usable pack: its file and contents (valid during the
 * call); return nonzero to stop. */
typedef int (*tk_pack_fn)(void *user, const char *path, const tk_pack *pack);
/* Called with why a pack file was skipped. */
typedef void (*tk_pack_warn_fn)(void *user, const char *message);

/* Calls fn for every usable pack of the pack directories: the files named
 * *.pack of each directory in name order, a name met in an earlier
 * directory skipped (so one in $TOKAMAX_PACKS replaces the shipped one of
 * that name). A pack that does not parse (tk_pack_parse), or names an
 * implementation this build lacks for its op or a config that does not
 * parse against that implementation's space, is skipped whole, with the
 * reason to warn (NULL: logged at info level). */
void tk_packs_each(tk_pack_fn fn, tk_pack_warn_fn warn, void *user);

/* 1 if pack applies to the device of fingerprint fp: measured on it, or
 * on one of the same device class (tk_device_class). */
int tk_pack_applies(const tk_pack *pack, const char *fp);

/* Adds to m, for each slot i, the entries of every usable pack that
 * applies to fps[i], under what m holds: a key m has already (from the
 * user's cache, or an earlier pack) is kept. Logs each pack loaded or
 * ignored at info level. 0 when out of memory, else 1. */
int tk_packs_load(tk_tuned_map *m, const char *const *fps, int n_slots);

#endif
