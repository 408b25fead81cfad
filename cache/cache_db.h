/* cache_db.h: what a tk_cache holds, its prepared statements and the small
 * helpers the files of cache/ share. Not for use outside cache/. */
#ifndef TK_CACHE_DB_H
#define TK_CACHE_DB_H

#include <sqlite3.h>

#include "cache/cache.h"
#include "cache/cache_text.h"

/* Every statement the store runs; prepared once at open (cache_sql.c). */
typedef enum {
  TK_SQL_BEGIN_READ,
  TK_SQL_BEGIN_WRITE,
  TK_SQL_COMMIT,
  TK_SQL_ROLLBACK,
  TK_SQL_DEVICE_UPSERT,
  TK_SQL_DEVICE_EACH,
  TK_SQL_RECORD,
  TK_SQL_HAS,
  TK_SQL_BEST_SET,
  TK_SQL_BEST_GET,
  TK_SQL_BEST_DELETE,
  TK_SQL_FASTEST,
  TK_SQL_MEASUREMENT_EACH,
  TK_SQL_BEST_EACH,
  TK_SQL_CLEAR_MEASUREMENTS,
  TK_SQL_CLEAR_BEST,
  TK_SQL_CLEAR_DEVICES,
  TK_SQL_TOUCHED_EACH,
  TK_SQL_TOUCHED_CLEAR,
  TK_SQL_STAGE_GET,
  TK_SQL_STAGE_PUT,
  TK_SQL_STAGE_APPLY,
  TK_SQL_STAGE_TOUCH,
  TK_SQL_STAGE_CLEAR,
  TK_SQL_CONFLICT_ADD,
  TK_SQL_CONFLICT_EACH,
  TK_SQL_CONFLICT_CLEAR,
  TK_SQL_RUN_INSERT,
  TK_SQL_RESULT_INSERT,
  TK_SQL_BASELINE_CLEAR,
  TK_SQL_BASELINE_SET,
  TK_SQL_RUN_EACH,
  TK_SQL_RESULT_EACH,
  TK_SQL_COUNT
} tk_sql_id;

/* The text of statement id. */
extern const char *const tk_cache_sql[TK_SQL_COUNT];

/* Migration i (0-based) takes the schema from user_version i to i + 1. */
extern const char *const tk_cache_migrations[TK_CACHE_SCHEMA_VERSION];

/* The connection-local scratch tables import uses (created at open):
 * touched keys, staged measurements, the last import's conflicts. */
extern const char *const tk_cache_temp_schema;

struct tk_cache {
  sqlite3 *db;
  char *path;
  sqlite3_stmt *st[TK_SQL_COUNT];
  char import_warning[1024]; /* tk_cache_import_warning */
  int sql_code;              /* SQLite's extended code of the last tk_cache_fail_sql */
};

/* Reads the schema version into *version and checks the file holds a
 * tokamax schema of that version (cache_schema.c): a newer version, a
 * negative one, or tables that are not exactly those the migrations make
 * for it fail with TK_ERR_CACHE, having only read the file. */
tk_status tk_cache_schema_check(tk_cache *c, int *version);

/* Brings the schema from version v (checked, not newer) to
 * TK_CACHE_SCHEMA_VERSION in one write transaction, checking the version
 * and tables again under the lock (concurrent openers migrate once); a
 * read-only connection on an older version fails. */
tk_status tk_cache_migrate(tk_cache *c, int v, int readonly);

/* TK_ERR_CACHE with "cache: <path>: <what>: <sqlite's message>"; notes
 * SQLite's extended code in c->sql_code. */
tk_status tk_cache_fail_sql(tk_cache *c, const char *what);

/* Binds s as text, or NULL when s is NULL. Returns sqlite's code. */
int tk_cache_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Binds m's candidate (device, op, key, impl, config) as ?1..?5. */
void tk_cache_bind_candidate(sqlite3_stmt *st, int64_t device, const tk_cache_measurement *m);

/* Binds m's candidate as ?1..?5 and its reading (result, reason, median,
 * p20, p80, reps, max_err, measured_us) as ?6..?13. */
void tk_cache_bind_measurement(sqlite3_stmt *st, int64_t device, const tk_cache_measurement *m);

/* Steps st once. SQLITE_ROW leaves it positioned for reading; SQLITE_DONE
 * and errors reset it and clear its bindings. An error returns
 * tk_cache_fail_sql(c, what) in *status (TK_OK otherwise). */
int tk_cache_step(tk_cache *c, sqlite3_stmt *st, const char *what, tk_status *status);

/* Resets st and clears its bindings (after reading rows). */
void tk_cache_done(sqlite3_stmt *st);

/* Runs statement id (already bound) to completion, ignoring rows. */
tk_status tk_cache_run(tk_cache *c, tk_sql_id id, const char *what);

/* BEGIN IMMEDIATE (write) or BEGIN (read snapshot); COMMIT; ROLLBACK. The
 * rollback never fails the caller: it returns s, the error being handled. */
tk_status tk_cache_begin(tk_cache *c, int write);
tk_status tk_cache_commit(tk_cache *c);
tk_status tk_cache_rollback(tk_cache *c, tk_status s);

/* Microseconds since the Unix epoch. */
int64_t tk_cache_now_us(void);

/* The text of column i, "" for NULL; the double of column i, NAN for NULL. */
const char *tk_cache_col_text(sqlite3_stmt *st, int i);
double tk_cache_col_double(sqlite3_stmt *st, int i);

/* The result named s ("ok", "wrong", "failed"); -1 for anything else. */
int tk_cache_result_parse(const char *s);

/* Upsert of a device with its creation time; the id in *id. */
tk_status tk_cache_device_upsert(tk_cache *c, const char *fingerprint, const char *description,
                                 int64_t created_us, int64_t *id);

/* Stores m for device: always when force, else only if m->measured_us is
 * newer than the stored row's. Runs in the caller's transaction (or its
 * own, outside one). */
tk_status tk_cache_put_measurement(tk_cache *c, int64_t device, const tk_cache_measurement *m,
                                   int force);

/* Stores b as the best of (device, b->op, b->problem_key): always when
 * force, else only if b->updated_us is newer. */
tk_status tk_cache_put_best(tk_cache *c, int64_t device, const tk_cache_best *b, int force);

/* Called per device: fingerprint, description JSON, creation time. */
typedef int (*tk_cache_device_fn)(void *user, const char *fingerprint, const char *description,
                                  int64_t created_us);

/* The iterators of cache.h without their own transaction (the caller
 * holds one); tk_cache_iter_devices visits one device (NULL: all). */
tk_status tk_cache_iter_measurements(tk_cache *c, const tk_cache_filter *f,
                                     tk_cache_measurement_fn fn, void *user);
tk_status tk_cache_iter_best(tk_cache *c, const tk_cache_filter *f, tk_cache_best_fn fn,
                             void *user);
tk_status tk_cache_iter_devices(tk_cache *c, const char *fingerprint, tk_cache_device_fn fn,
                                void *user);

/* Stages m, read from file for device (fingerprint fp), for the import in
 * the caller's transaction (cache_merge.c): the first reading of a
 * candidate is staged; a second, identical one is dropped; a different
 * one is a conflict, noted for tk_cache_each_import_conflict: of two ok
 * readings the faster median is kept; when either is wrong or failed, the
 * newer. */
tk_status tk_cache_stage_measurement(tk_cache *c, int64_t device, const char *fp,
                                     const tk_cache_measurement *m, const char *file);

/* Stores every staged measurement where the database has none of that
 * candidate or an older one (by measured_us), marks their keys for
 * recompute, and empties the stage. */
tk_status tk_cache_apply_staged(tk_cache *c);

/* Empties the stage and the conflict list (the start of an import). */
tk_status tk_cache_stage_reset(tk_cache *c);

/* tk_cache_recompute_best inside the caller's transaction. */
tk_status tk_cache_recompute_in_tx(tk_cache *c, int64_t device, const char *op,
                                   const char *problem_key, int *found);

#endif
