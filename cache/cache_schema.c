/* cache_schema.c: what schema an opened file holds (its version, and
 * whether its tables are a tokamax schema of that version at all) and
 * migrating it to this library's version. Classifying only reads, so a
 * file that is not ours is never modified. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

/* The database's PRAGMA user_version into *v. */
static tk_status tk_user_version(tk_cache *c, int *v) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(c->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
    return tk_cache_fail_sql(c, "reading the schema version");
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) *v = sqlite3_column_int(st, 0);
  tk_status s = rc == SQLITE_ROW ? TK_OK : tk_cache_fail_sql(c, "reading the schema version");
  sqlite3_finalize(st);
  return s;
}

/* The tables of db's main schema with their columns, as text
 * "name(col,col);..." ordered by table then column position; NULL on an
 * error (SQLite's message is then db's). Caller frees with sqlite3_free. */
static char *tk_signature(sqlite3 *db) {
  static const char *const q =
      "SELECT m.name, p.name FROM sqlite_master AS m, pragma_table_info(m.name) AS p"
      " WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
      " ORDER BY m.name, p.cid";
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK) return NULL;
  sqlite3_str *out = sqlite3_str_new(db);
  char *table = NULL; /* the table whose columns are being listed */
  int rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(st, 0);
    const char *col = (const char *)sqlite3_column_text(st, 1);
    if (!t || !col) continue;
    if (table && strcmp(t, table) == 0) {
      sqlite3_str_appendf(out, ",%s", col);
      continue;
    }
    sqlite3_str_appendf(out, "%s%s(%s", table ? ");" : "", t, col);
    sqlite3_free(table);
    table = sqlite3_mprintf("%s", t);
  }
  if (table) sqlite3_str_appendall(out, ")");
  sqlite3_free(table);
  sqlite3_finalize(st);
  char *text = sqlite3_str_finish(out);
  if (rc != SQLITE_DONE) {
    sqlite3_free(text);
    return NULL;
  }
  return text ? text : sqlite3_mprintf("%s", "");
}

/* The signature of every schema version 0..TK_CACHE_SCHEMA_VERSION, made
 * once by running the migrations on an in-memory database (so the rule
 * "these are our tables" is the migrations themselves). */
static char *tk_expected[TK_CACHE_SCHEMA_VERSION + 1];
static pthread_once_t tk_expected_once = PTHREAD_ONCE_INIT;

static void tk_make_expected(void) {
  sqlite3 *db = NULL;
  if (sqlite3_open(":memory:", &db) != SQLITE_OK) {
    sqlite3_close(db);
    return;
  }
  for (int v = 0; v <= TK_CACHE_SCHEMA_VERSION; v++) {
    tk_expected[v] = tk_signature(db);
    if (!tk_expected[v] ||
        (v < TK_CACHE_SCHEMA_VERSION &&
         sqlite3_exec(db, tk_cache_migrations[v], NULL, NULL, NULL) != SQLITE_OK))
      break;
  }
  sqlite3_close(db);
}

/* TK_OK when the file's tables are exactly those of schema version v. */
static tk_status tk_check_tables(tk_cache *c, int v) {
  pthread_once(&tk_expected_once, tk_make_expected);
  if (!tk_expected[v])
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "cache: out of memory describing schema version %d", v);
  char *have = tk_signature(c->db);
  if (!have) return tk_cache_fail_sql(c, "reading the schema");
  int same = strcmp(have, tk_expected[v]) == 0;
  sqlite3_free(have);
  if (same) return TK_OK;
  return tk_fail(TK_ERR_CACHE,
                 "cache: %s is not a tokamax cache: schema version %d, but its tables are not "
                 "those of version %d; left untouched",
                 c->path, v, v);
}

/* Reads the version and classifies it: newer than this code, negative
 * (no tokamax library writes one), or tables that are not ours all fail
 * with the file untouched. Inside the caller's transaction. */
static tk_status tk_classify(tk_cache *c, int *version) {
  int v = 0;
  tk_status s = tk_user_version(c, &v);
  if (s != TK_OK) return s;
  if (v > TK_CACHE_SCHEMA_VERSION)
    return tk_fail(TK_ERR_CACHE, "cache: %s has schema version %d, newer than this library's %d",
                   c->path, v, TK_CACHE_SCHEMA_VERSION);
  if (v < 0)
    return tk_fail(TK_ERR_CACHE,
                   "cache: %s is not a tokamax cache: schema version %d (negative); left untouched",
                   c->path, v);
  s = tk_check_tables(c, v);
  if (s == TK_OK) *version = v;
  return s;
}

static tk_status tk_exec(tk_cache *c, const char *sql, const char *what) {
  return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? TK_OK
                                                                 : tk_cache_fail_sql(c, what);
}

/* The version and the tables are read in one snapshot: between two reads
 * another process may migrate a new file (version 0, then tables). */
tk_status tk_cache_schema_check(tk_cache *c, int *version) {
  int own = sqlite3_get_autocommit(c->db);
  tk_status s = own ? tk_exec(c, "BEGIN", "starting to read the schema") : TK_OK;
  if (s == TK_OK) s = tk_classify(c, version);
  if (own) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL); /* it only read */
  return s;
}

tk_status tk_cache_migrate(tk_cache *c, int v, int readonly) {
  if (v == TK_CACHE_SCHEMA_VERSION) return TK_OK;
  if (readonly)
    return tk_fail(TK_ERR_CACHE,
                   "cache: %s has schema version %d, older than this library's %d, and is "
                   "opened read-only",
                   c->path, v, TK_CACHE_SCHEMA_VERSION);
  tk_status s = tk_exec(c, "BEGIN IMMEDIATE", "locking for migration");
  if (s != TK_OK) return s;
  /* Again under the lock: another process may have migrated meanwhile. */
  s = tk_cache_schema_check(c, &v);
  for (; s == TK_OK && v < TK_CACHE_SCHEMA_VERSION; v++)
    s = tk_exec(c, tk_cache_migrations[v], "migrating the schema");
  if (s == TK_OK) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", TK_CACHE_SCHEMA_VERSION);
    s = tk_exec(c, sql, "setting the schema version");
  }
  if (s == TK_OK) s = tk_exec(c, "COMMIT", "committing the migration");
  if (s != TK_OK) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return s;
}
