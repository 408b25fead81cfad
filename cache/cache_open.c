/* cache_open.c: opening a cache (folders, read-only decision, pragmas,
 * schema check and migration, statements) within one busy budget, and
 * closing it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* 1 when this process may write the file at path and create files beside
 * it (SQLite's journal, -wal and -shm). */
static int tk_writable(const char *path) {
  char *dir = strdup(path);
  if (!dir) return 0;
  char *slash = strrchr(dir, '/');
  const char *folder = !slash ? "." : slash == dir ? "/" : (*slash = '\0', dir);
  int ok = access(path, W_OK) == 0 && access(folder, W_OK) == 0;
  free(dir);
  return ok;
}

/* Sets the busy handler to what is left of the open's budget (deadline in
 * microseconds), so every step of one open together waits at most busy_ms. */
static void tk_budget(tk_cache *c, int64_t deadline) {
  int64_t left_ms = (deadline - tk_cache_now_us()) / 1000;
  sqlite3_busy_timeout(c->db, left_ms > 0 ? (int)left_ms : 0);
}

static tk_status tk_exec_sql(tk_cache *c, const char *sql, const char *what) {
  return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? TK_OK
                                                                 : tk_cache_fail_sql(c, what);
}

/* Switches a file database to WAL unless it is already. Changing the mode
 * needs every other connection gone, and SQLite reports a conflict there at
 * once rather than through the busy handler, so retry until the deadline. */
static tk_status tk_enable_wal(tk_cache *c, int64_t deadline) {
  for (;;) {
    tk_budget(c, deadline);
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(c->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_step(st);
    int wal = rc == SQLITE_ROW && !sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    if (wal) return tk_exec_sql(c, "PRAGMA synchronous = NORMAL", "setting synchronous");
    if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED) break;
    if (tk_cache_now_us() >= deadline) break;
    sqlite3_sleep(10);
  }
  return tk_cache_fail_sql(c, "enabling WAL mode");
}

/* The URI SQLite opens for the cache: ":memory:", or "file:" and the
 * path with '%', '?' and '#' escaped, plus "?immutable=1" when asked.
 * NULL when out of memory; caller frees with sqlite3_free. */
static char *tk_uri(const tk_cache *c, int immutable) {
  if (tk_is_memory(c->path)) return sqlite3_mprintf("%s", ":memory:");
  sqlite3_str *u = sqlite3_str_new(NULL);
  sqlite3_str_appendall(u, "file:");
  for (const char *p = c->path; *p; p++)
    if (*p == '%' || *p == '?' || *p == '#')
      sqlite3_str_appendf(u, "%%%02X", (unsigned char)*p);
    else
      sqlite3_str_appendchar(u, 1, *p);
  if (immutable) sqlite3_str_appendall(u, "?immutable=1");
  return sqlite3_str_finish(u);
}

/* (Re)opens the connection; immutable (nothing else writes the file, so
 * SQLite needs no -shm) for a read-only WAL file in a folder it cannot
 * write. */
static tk_status tk_connect(tk_cache *c, int readonly, int create, int immutable) {
  sqlite3_close(c->db);
  c->db = NULL;
  int oflags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI |
               (readonly ? SQLITE_OPEN_READONLY
                         : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0));
  char *uri = tk_uri(c, immutable);
  int rc = uri ? sqlite3_open_v2(uri, &c->db, oflags, NULL) : SQLITE_NOMEM;
  sqlite3_free(uri);
  if (!c->db) return tk_fail(TK_ERR_OUT_OF_MEMORY, "cache: out of memory opening %s", c->path);
  sqlite3_extended_result_codes(c->db, 1);
  return rc == SQLITE_OK ? TK_OK : tk_cache_fail_sql(c, "opening");
}

/* The first read, which tells a database from anything else: the schema
 * check. A read-only WAL file in a folder it cannot write fails it with
 * SQLITE_READONLY_*; it is then read as immutable, keeping the first
 * message if that fails too. */
static tk_status tk_first_read(tk_cache *c, int readonly, int64_t deadline, int *version) {
  tk_budget(c, deadline);
  c->sql_code = SQLITE_OK;
  tk_status s = tk_cache_schema_check(c, version);
  int code = c->sql_code;
  if (s == TK_OK || !readonly || tk_is_memory(c->path) ||
      (code != SQLITE_READONLY_CANTINIT && code != SQLITE_READONLY_DIRECTORY &&
       code != SQLITE_CANTOPEN))
    return s;
  char first[512];
  snprintf(first, sizeof first, "%s", tk_last_error());
  s = tk_connect(c, 1, 0, 1);
  if (s == TK_OK) {
    tk_budget(c, deadline);
    s = tk_cache_schema_check(c, version);
  }
  return s == TK_OK ? s : tk_fail(s, "%s (and read as immutable: %s)", first, tk_last_error());
}

/* Everything after the connection: schema, WAL, migration, scratch table,
 * statements, each step within what is left of the budget. */
static tk_status tk_setup(tk_cache *c, int readonly, int busy_ms, int64_t deadline) {
  int v = 0;
  tk_status s = tk_exec_sql(c, "PRAGMA foreign_keys = ON", "enabling foreign keys");
  if (s == TK_OK) s = tk_first_read(c, readonly, deadline, &v);
  if (s == TK_OK && !readonly && !tk_is_memory(c->path)) s = tk_enable_wal(c, deadline);
  if (s == TK_OK) {
    tk_budget(c, deadline);
    s = tk_cache_migrate(c, v, readonly);
  }
  if (s == TK_OK) s = tk_exec_sql(c, tk_cache_temp_schema, "creating the scratch table");
  tk_budget(c, deadline);
  for (int i = 0; s == TK_OK && i < TK_SQL_COUNT; i++)
    if (sqlite3_prepare_v3(c->db, tk_cache_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &c->st[i],
                           NULL) != SQLITE_OK)
      s = tk_cache_fail_sql(c, "preparing a statement");
  sqlite3_busy_timeout(c->db, busy_ms); /* the whole timeout for each later transaction */
  return s;
}

tk_status tk_cache_open(const char *path, int flags, int busy_ms, tk_cache **out) {
  if (!path || !out) return tk_fail(TK_ERR_INVALID_ARGUMENT, "cache: NULL path or out");
  if (busy_ms <= 0) busy_ms = TK_CACHE_DEFAULT_BUSY_MS;
  const int64_t deadline = tk_cache_now_us() + (int64_t)busy_ms * 1000;
  int memory = tk_is_memory(path), readonly = (flags & TK_CACHE_READONLY) != 0;
  int fallback = !readonly && (flags & TK_CACHE_MAY_READ_ONLY) && !memory &&
                 access(path, F_OK) == 0 && !tk_writable(path);
  readonly |= fallback;
  int create = (flags & TK_CACHE_CREATE) && !readonly;
  if (create && !memory) {
    tk_status s = tk_make_parents(path);
    if (s != TK_OK) return s;
  }
  tk_cache *c = calloc(1, sizeof *c);
  if (c) c->path = strdup(path);
  if (!c || !c->path) {
    free(c);
    return tk_fail(TK_ERR_OUT_OF_MEMORY, "cache: out of memory");
  }
  tk_status s = tk_connect(c, readonly, create, 0);
  /* SQLite opens a file it cannot write read-only without a word; a folder
   * it cannot create its journal in fails only at the first write. */
  if (s == TK_OK && !readonly && !memory &&
      (sqlite3_db_readonly(c->db, "main") == 1 || !tk_writable(path)))
    s = tk_fail(TK_ERR_CACHE, "cache: %s is not writable (the file or its folder)", path);
  if (s == TK_OK) s = tk_setup(c, readonly, busy_ms, deadline);
  if (s != TK_OK) {
    tk_cache_close(c);
    return s;
  }
  if (fallback) tk_log(TK_LOG_INFO, "cache: %s is not writable: using it read-only", path);
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
