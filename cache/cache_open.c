/* cache_open.c: opening a cache (folders, pragmas, migrations, statements)
 * and closing it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cache/cache_db.h"
#include "runtime/status.h"

static int tk_is_memory(const char *path) { return path[0] == '\0' || !strcmp(path, ":memory:"); }

/* Creates every missing folder above the file at path (like mkdir -p of
 * its dirname). */
static tk_status tk_make_parents(const char *path) {
  char *dir = strdup(path);
  if (!dir) return tk_fail(TK_ERR_OUT_OF_MEMORY, "cache: out of memory");
  tk_status s = TK_OK;
  for (char *p = strchr(dir + 1, '/'); p && s == TK_OK; p = strchr(p + 1, '/')) {
    *p = '\0';
    struct stat sb;
    if (stat(dir, &sb) != 0 && mkdir(dir, 0777) != 0 && errno != EEXIST)
      s = tk_fail(TK_ERR_CACHE, "cache: cannot create folder %s for %s: %s", dir, path,
                  strerror(errno));
    *p = '/';
  }
  free(dir);
  return s;
}

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

static tk_status tk_exec_sql(tk_cache *c, const char *sql, const char *what) {
  return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? TK_OK
                                                                 : tk_cache_fail_sql(c, what);
}

/* Switches a file database to WAL unless it is already. Changing the mode
 * needs every other connection gone, and SQLite reports a conflict there at
 * once rather than through the busy handler, so retry until busy_ms. */
static tk_status tk_enable_wal(tk_cache *c, int busy_ms) {
  for (int waited = 0;; waited += 10) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    int wal = rc == SQLITE_ROW && !sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    if (wal) return tk_exec_sql(c, "PRAGMA synchronous = NORMAL", "setting synchronous");
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) break;
    if (waited >= busy_ms) break;
    sqlite3_sleep(10);
  }
  return tk_cache_fail_sql(c, "enabling WAL mode");
}

static tk_status tk_newer(tk_cache *c, int v) {
  return tk_fail(TK_ERR_CACHE, "cache: %s has schema version %d, newer than this library's %d",
                 c->path, v, TK_CACHE_SCHEMA_VERSION);
}

/* Brings the schema from version v (read before, not newer than this
 * code's) to TK_CACHE_SCHEMA_VERSION inside one write
 * transaction, re-reading the version under the lock so that concurrent
 * openers migrate once. */
static tk_status tk_migrate(tk_cache *c, int v, int readonly) {
  tk_status s;
  if (v == TK_CACHE_SCHEMA_VERSION) return TK_OK;
  if (readonly)
    return tk_fail(TK_ERR_CACHE,
                   "cache: %s has schema version %d, older than this library's %d, and is "
                   "opened read-only",
                   c->path, v, TK_CACHE_SCHEMA_VERSION);
  if ((s = tk_exec_sql(c, "BEGIN IMMEDIATE", "locking for migration")) != TK_OK) return s;
  if ((s = tk_user_version(c, &v)) == TK_OK && v > TK_CACHE_SCHEMA_VERSION) s = tk_newer(c, v);
  for (; s == TK_OK && v < TK_CACHE_SCHEMA_VERSION; v++)
    s = tk_exec_sql(c, tk_cache_migrations[v], "migrating the schema");
  if (s == TK_OK) {
    char sql[64];
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", TK_CACHE_SCHEMA_VERSION);
    s = tk_exec_sql(c, sql, "setting the schema version");
  }
  if (s == TK_OK) s = tk_exec_sql(c, "COMMIT", "committing the migration");
  if (s != TK_OK) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
  return s;
}

/* Pragmas, schema, scratch table and statements of a freshly opened db. */
static tk_status tk_setup(tk_cache *c, int flags, int busy_ms) {
  int readonly = (flags & TK_CACHE_READONLY) != 0;
  if (busy_ms <= 0) busy_ms = TK_CACHE_DEFAULT_BUSY_MS;
  sqlite3_busy_timeout(c->db, busy_ms);
  sqlite3_extended_result_codes(c->db, 1);
  tk_status s = tk_exec_sql(c, "PRAGMA foreign_keys = ON", "enabling foreign keys");
  int v = 0;
  /* The first read: a file that is not a database fails here. */
  if (s == TK_OK) s = tk_user_version(c, &v);
  if (s == TK_OK && v > TK_CACHE_SCHEMA_VERSION) s = tk_newer(c, v);
  if (s == TK_OK && !readonly && !tk_is_memory(c->path)) s = tk_enable_wal(c, busy_ms);
  if (s == TK_OK) s = tk_migrate(c, v, readonly);
  if (s == TK_OK) s = tk_exec_sql(c, tk_cache_temp_schema, "creating the scratch table");
  for (int i = 0; s == TK_OK && i < TK_SQL_COUNT; i++)
    if (sqlite3_prepare_v3(c->db, tk_cache_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i],
                           NULL) != SQLITE_OK)
      s = tk_cache_fail_sql(c, "preparing a statement");
  return s;
}

tk_status tk_cache_open(const char *path, int flags, int busy_ms, tk_cache **out) {
  if (!path || !out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: NULL path or out");
  int readonly = (flags & TK_CACHE_READONLY) != 0;
  int create = (flags & TK_CACHE_CREATE) && !readonly;
  if (create && !tk_is_memory(path)) {
    tk_status s = tk_make_parents(path);
    if (s != TK_OK) return s;
  }
  tk_cache *c = calloc(1, sizeof *c);
  if (c) c->path = strdup(path);
  if (!c || !c->path) {
    free(c);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "cache: out of memory");
  }
  int oflags =
      readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
  tk_status s = TK_OK;
  if (sqlite3_open_v2(path, &c->db, oflags | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
    s = c->db ? tk_cache_fail_sql(c, "opening")
              : tk_fail(TK_ERR_OUT_OF_MEMORY, "cache: out of memory opening %s", path);
  if (s == TK_OK) s = tk_setup(c, flags, busy_ms);
  if (s != TK_OK) {
    tk_cache_close(c);
    return s;
  }
  *out = c;
  return TK_OK;
}

void tk_cache_close(tk_cache *c) {
  if (!c) return;
  for (int i = 0; i < TK_SQL_COUNT; i++) sqlite3_finalize(c->st[i]);
  sqlite3_close(c->db);
  free(c->path);
  free(c);
}

const char *tk_cache_path(const tk_cache *c) { return c->path; }
