/* cache.h: the SQLite tuning-cache store. It knows devices (by fingerprint),
 * problem keys, implementation names and config text only as strings; what
 * they mean (and whether a stored config is valid) is the caller's business.
 *
 * Every function returns TK_OK or TK_ERR_CACHE (TK_ERR_INVALID_ARGUMENT for
 * NULL arguments) with tk_last_error() naming the database path and what
 * SQLite said. Nothing here prints. Data is only ever bound as statement
 * parameters, so any text (quotes, "DROP TABLE", newlines) is stored and
 * returned verbatim. A tk_cache is one SQLite connection: use it from one
 * thread at a time; several processes may open the same file at once. */
#ifndef TK_CACHE_CACHE_H
#define TK_CACHE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tokamax.h"

/* The schema version this code writes (PRAGMA user_version). */
#define TK_CACHE_SCHEMA_VERSION 2
/* The version of the export file format (first line "tokamax-cache\t2");
 * format 2 ends with "E<TAB>rows<TAB>checksum", format 1 had no marker. */
#define TK_CACHE_FORMAT_VERSION 2
/* Busy timeout used when tk_cache_open is given busy_ms <= 0. */
#define TK_CACHE_DEFAULT_BUSY_MS 5000

enum {
  TK_CACHE_READONLY = 1 << 0, /* never write; fails on a missing or outdated db */
  TK_CACHE_CREATE = 1 << 1,   /* create the file (and its parent folders) if missing */
  TK_CACHE_MAY_READ_ONLY = 1 << 2 /* an existing file this process cannot write (the file
                                     or its folder) is opened read-only, with one info log
                                     line, instead of failing */
};

typedef struct tk_cache tk_cache;

/* How a timed candidate came out. */
typedef enum {
  TK_CACHE_RESULT_OK = 0,    /* ran and matched the reference: its time counts */
  TK_CACHE_RESULT_WRONG = 1, /* ran but its output was wrong */
  TK_CACHE_RESULT_FAILED = 2 /* did not run (error, unsupported, crashed) */
} tk_cache_result;

/* "ok", "wrong", "failed". */
const char *tk_cache_result_name(tk_cache_result r);

/* One measured candidate. Times are nanoseconds; NAN (stored as NULL) where
 * unknown, e.g. for a failed candidate. measured_us is microseconds since
 * the Unix epoch (set by tk_cache_record, read back by the iterators). */
typedef struct {
  const char *op, *problem_key, *impl, *config;
  tk_cache_result result;
  const char *reason; /* why wrong/failed; "" for ok (NULL reads as "") */
  double median_ns, p20_ns, p80_ns;
  int64_t reps;
  double max_err; /* largest error against the reference, NAN unknown */
  int64_t measured_us;
} tk_cache_measurement;

/* The chosen (fastest) candidate of one (device, op, problem key). */
typedef struct {
  const char *op, *problem_key, *impl, *config;
  double median_ns;
  int64_t updated_us; /* microseconds since the Unix epoch */
} tk_cache_best;

/* Selects rows for the iterators and tk_cache_export; a NULL field matches
 * everything. key_contains matches problem keys containing it as a plain
 * substring (case-sensitive; no wildcards). */
typedef struct {
  const char *fingerprint, *op, *impl, *key_contains;
} tk_cache_filter;

/* Iteration callbacks: the strings are valid during the call only; return
 * nonzero to stop. They must not call back into the same tk_cache. */
typedef int (*tk_cache_measurement_fn)(void *user, const char *fingerprint,
                                       const tk_cache_measurement *m);
typedef int (*tk_cache_best_fn)(void *user, const char *fingerprint, const tk_cache_best *b);

/* Opens (flags TK_CACHE_CREATE: creating, with parent folders) the database
 * at path; ":memory:" is a private in-memory database. First reads the
 * schema version and checks the file's tables are a tokamax schema of that
 * version, writing nothing; then sets WAL mode (files only, not read-only),
 * synchronous=NORMAL and foreign keys, migrates the schema from its
 * user_version up to TK_CACHE_SCHEMA_VERSION in one transaction (so two
 * processes opening a new file at once are safe), and prepares every
 * statement. All steps together wait at most busy_ms (<= 0:
 * TK_CACHE_DEFAULT_BUSY_MS) for other connections' locks; each later
 * transaction gets busy_ms again. A read-only connection to a WAL file in a
 * folder it cannot write reads it as immutable. Fails with TK_ERR_CACHE,
 * and the first real reason, for a file that is not a database (SQLite's
 * message), one locked past the timeout, one whose schema version is newer
 * than this code ("cache: <path> has schema version N, newer than this
 * library's M"), one that is not a tokamax cache (a negative version, or
 * tables that are not ours: "cache: <path> is not a tokamax cache: ..."),
 * one this process cannot write (without TK_CACHE_READONLY or
 * TK_CACHE_MAY_READ_ONLY), or read-only on an outdated schema; a newer or
 * foreign file is left byte for byte as it was. *out is set only on
 * success. */
tk_status tk_cache_open(const char *path, int flags, int busy_ms, tk_cache **out);

/* Finalizes everything and closes; NULL is a no-op. */
void tk_cache_close(tk_cache *c);

/* The path the cache was opened with. */
const char *tk_cache_path(const tk_cache *c);

/* The id of the device with this fingerprint, adding it if new. A non-NULL
 * description (JSON text) replaces the stored one; NULL keeps it ("{}" for
 * a new device). */
tk_status tk_cache_device_id(tk_cache *c, const char *fingerprint, const char *description,
                             int64_t *id);

/* Stores one measurement of (device, m->op, m->problem_key, m->impl,
 * m->config), replacing an earlier one of the same candidate, stamped with
 * the current time (m->measured_us is ignored). One transaction: once this
 * returns TK_OK the row survives a crash of the process. */
tk_status tk_cache_record(tk_cache *c, int64_t device, const tk_cache_measurement *m);

/* *found = 1 if that candidate has a measurement (of any result), else 0;
 * what a resumed sweep uses to skip done work. */
tk_status tk_cache_has_measurement(tk_cache *c, int64_t device, const char *op,
                                   const char *problem_key, const char *impl, const char *config,
                                   int *found);

/* Makes (impl, config, median_ns) the best of (device, op, problem_key),
 * stamped now. */
tk_status tk_cache_set_best(tk_cache *c, int64_t device, const char *op, const char *problem_key,
                            const char *impl, const char *config, double median_ns);

/* Calls fn once (with a NULL fingerprint) with the best of (device, op,
 * problem_key) if there is one (*found = 1), else not (*found = 0). found
 * may be NULL. */
tk_status tk_cache_get_best(tk_cache *c, int64_t device, const char *op, const char *problem_key,
                            tk_cache_best_fn fn, void *user, int *found);

/* Sets the best of (device, op, problem_key) to its fastest "ok"
 * measurement (ties: smallest impl, then config name), ignoring wrong and
 * failed ones; removes the best when no ok measurement exists. An unchanged
 * best keeps its timestamp. One transaction. *found (may be NULL) = 1 if a
 * best exists afterwards. */
tk_status tk_cache_recompute_best(tk_cache *c, int64_t device, const char *op,
                                  const char *problem_key, int *found);

/* Calls fn for every measurement / best row matching f (NULL: all), in
 * (fingerprint, op, key, impl, config) order, inside one read snapshot.
 * Loading the dispatcher's map at context creation is
 * tk_cache_each_best(c, &(tk_cache_filter){.fingerprint = fp}, ...). */
tk_status tk_cache_each_measurement(tk_cache *c, const tk_cache_filter *f,
                                    tk_cache_measurement_fn fn, void *user);
tk_status tk_cache_each_best(tk_cache *c, const tk_cache_filter *f, tk_cache_best_fn fn,
                             void *user);

/* Deletes the measurements and best rows of one device (fingerprint, NULL:
 * all) and one op (NULL: all), then every device left with no rows. One
 * transaction. *deleted (may be NULL) = measurements + best rows removed. */
tk_status tk_cache_clear(tk_cache *c, const char *fingerprint, const char *op, int64_t *deleted);

/* Writes the devices, measurements and best rows of one device (fingerprint,
 * NULL: all) to a portable text file (format in docs/cache.md), from one
 * read snapshot. The file appears complete or not at all (written beside it
 * and renamed). */
tk_status tk_cache_export(tk_cache *c, const char *path, const char *fingerprint);

/* Imports the files (several: a merge, e.g. of a sharded sweep) in one
 * transaction: devices are added; the measurements of all files are
 * gathered first, per device fingerprint, where a candidate read twice
 * with different results is a conflict (tk_cache_each_import_conflict:
 * the faster ok median is kept); each gathered measurement then replaces
 * the stored one of the same candidate only when newer, best rows
 * likewise, and the best of every (device, op, key) that got a measurement
 * is recomputed from that device's measurements only. A malformed
 * file fails with "cache: <file>:<line>: <reason>" and nothing of any file
 * is imported: a missing, wrong or misplaced end marker (a truncated or
 * edited file), a carriage return (CRLF line endings), an unknown record,
 * status or op, a number that is not plain decimal or not finite, or a
 * negative count, time or timestamp, or a header of a newer format
 * ("export format version N is newer than this library's M ..."). A
 * format-1 file (no end marker)
 * imports if its last line is complete, with a warning. *imported (may be
 * NULL) = measurement lines read. */
tk_status tk_cache_import(tk_cache *c, const char *const *paths, int n, int64_t *imported);

/* A candidate the last tk_cache_import read twice on one device (two files
 * of a merge, or twice in one file) with different results: kept is the
 * reading stored (of two ok ones the faster median; when either is wrong
 * or failed, the newer), dropped the other. Times in ns, NAN unknown. */
typedef struct {
  const char *fingerprint, *op, *problem_key, *impl, *config;
  double kept_ns, dropped_ns;
  const char *kept_file, *dropped_file;
} tk_cache_conflict;

typedef int (*tk_cache_conflict_fn)(void *user, const tk_cache_conflict *x);

/* Calls fn (may be NULL: only count) for each conflict of the last
 * tk_cache_import on c, in the order they were met; *count (may be NULL)
 * = how many. Readings of different fingerprints never conflict: each
 * device keeps its own. Valid until the next import. */
tk_status tk_cache_each_import_conflict(tk_cache *c, tk_cache_conflict_fn fn, void *user,
                                        int64_t *count);

/* The warning of the last tk_cache_import on c ("" when none), e.g. that
 * a format-1 file cannot be checked for truncation. Valid until the next
 * import or close. */
const char *tk_cache_import_warning(const tk_cache *c);

/* ---- The regression gate's history (schema version 2) ---- */

/* One gate run. */
typedef struct {
  int64_t id;
  const char *fingerprint, *suite, *mode, *git_rev;
  double anchor_copy_ns; /* the run's anchors: a memory copy and an FMA loop */
  double anchor_fma_ns;  /* (NAN: not measured) */
  int baseline;          /* 1: the baseline of its suite */
  int64_t started_us;
} tk_history_run;

/* One (case, impl) of a run. samples: the timed durations in ns, as text
 * ("" when not timed); times NAN when unknown. */
typedef struct {
  const char *spec, *impl, *config, *status, *reason;
  double max_err, tol, median_ns;
  const char *samples;
} tk_history_result;

typedef int (*tk_history_run_fn)(void *user, const tk_history_run *r);
typedef int (*tk_history_result_fn)(void *user, const tk_history_result *r);

/* Starts a run of suite on device (an id from tk_cache_device_id); *run
 * gets its id. One transaction. */
tk_status tk_history_add_run(tk_cache *c, int64_t device, const char *suite, const char *mode,
                             const char *git_rev, double anchor_copy_ns, double anchor_fma_ns,
                             int64_t *run);

/* Stores (or replaces) one result of run. One transaction. */
tk_status tk_history_add_result(tk_cache *c, int64_t run, const tk_history_result *r);

/* Makes run the only baseline of its suite. One transaction. */
tk_status tk_history_set_baseline(tk_cache *c, int64_t run);

/* Calls fn for the runs of suite (NULL: all) with id run (< 0: any) and
 * baseline flag (< 0: any), oldest first, in one read snapshot. */
tk_status tk_history_each_run(tk_cache *c, const char *suite, int64_t run, int baseline,
                              tk_history_run_fn fn, void *user);

/* Calls fn for every result of run, ordered by (spec, impl). */
tk_status tk_history_each_result(tk_cache *c, int64_t run, tk_history_result_fn fn, void *user);

#endif
