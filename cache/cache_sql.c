/* cache_sql.c: the schema migrations and the text of every statement. All
 * data goes in through ?N parameters. */
#include "cache/cache_db.h"

/* Version 1: devices, measurements, best. The primary keys of measurements
 * and best begin with (device, op, problem_key): that is the lookup index. */
const char *const tk_cache_migrations[TK_CACHE_SCHEMA_VERSION] = {
    "CREATE TABLE devices("
    "  id INTEGER PRIMARY KEY,"
    "  fingerprint TEXT NOT NULL UNIQUE,"
    "  description TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL);"
    "CREATE TABLE measurements("
    "  device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    "  op TEXT NOT NULL,"
    "  problem_key TEXT NOT NULL,"
    "  impl TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  status TEXT NOT NULL CHECK(status IN ('ok', 'wrong', 'failed')),"
    "  reason TEXT NOT NULL,"
    "  median_ns REAL, p20_ns REAL, p80_ns REAL,"
    "  reps INTEGER NOT NULL,"
    "  max_err REAL,"
    "  measured_us INTEGER NOT NULL,"
    "  PRIMARY KEY(device, op, problem_key, impl, config)) WITHOUT ROWID;"
    "CREATE TABLE best("
    "  device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
    "  op TEXT NOT NULL,"
    "  problem_key TEXT NOT NULL,"
    "  impl TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  median_ns REAL,"
    "  updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY(device, op, problem_key)) WITHOUT ROWID;",
    /* Version 2: the regression gate's history: one row per gate run and
     * one per (run, case, impl) with its timing samples as text. */
    "CREATE TABLE gate_runs("
    "  id INTEGER PRIMARY KEY,"
    "  device INTEGER NOT NULL REFERENCES devices(id),"
    "  suite TEXT NOT NULL,"
    "  mode TEXT NOT NULL,"
    "  git_rev TEXT NOT NULL,"
    "  anchor_copy_ns REAL, anchor_fma_ns REAL,"
    "  baseline INTEGER NOT NULL DEFAULT 0,"
    "  started_us INTEGER NOT NULL);"
    "CREATE TABLE gate_results("
    "  run INTEGER NOT NULL REFERENCES gate_runs(id) ON DELETE CASCADE,"
    "  spec TEXT NOT NULL,"
    "  impl TEXT NOT NULL,"
    "  config TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  reason TEXT NOT NULL,"
    "  max_err REAL, tol REAL, median_ns REAL,"
    "  samples TEXT NOT NULL,"
    "  PRIMARY KEY(run, spec, impl)) WITHOUT ROWID;"
    "CREATE INDEX gate_runs_suite ON gate_runs(suite, id);",
};

const char *const tk_cache_temp_schema =
    "CREATE TEMP TABLE IF NOT EXISTS touched("
    "  device INTEGER NOT NULL, op TEXT NOT NULL, problem_key TEXT NOT NULL,"
    "  PRIMARY KEY(device, op, problem_key));"
    /* One import's measurements, before they meet the database: a
     * candidate read twice (from two files, or twice in one) is a conflict
     * resolved here (cache_merge.c). */
    "CREATE TEMP TABLE IF NOT EXISTS staged("
    "  device INTEGER NOT NULL, op TEXT NOT NULL, problem_key TEXT NOT NULL,"
    "  impl TEXT NOT NULL, config TEXT NOT NULL, status TEXT NOT NULL, reason TEXT NOT NULL,"
    "  median_ns REAL, p20_ns REAL, p80_ns REAL, reps INTEGER NOT NULL, max_err REAL,"
    "  measured_us INTEGER NOT NULL, file TEXT NOT NULL,"
    "  PRIMARY KEY(device, op, problem_key, impl, config));"
    /* The conflicts of the last import, in the order they were met. */
    "CREATE TEMP TABLE IF NOT EXISTS conflicts("
    "  fingerprint TEXT NOT NULL, op TEXT NOT NULL, problem_key TEXT NOT NULL,"
    "  impl TEXT NOT NULL, config TEXT NOT NULL, kept_ns REAL, kept_file TEXT NOT NULL,"
    "  dropped_ns REAL, dropped_file TEXT NOT NULL);";

#define TK_FILTER_DEVICE "(?1 IS NULL OR d.fingerprint = ?1)"
/* clang-format off */
#define TK_FILTER_ROWS(t)                                  \
  " AND (?2 IS NULL OR " t ".op = ?2)"                     \
  " AND (?3 IS NULL OR " t ".impl = ?3)"                   \
  " AND (?4 IS NULL OR instr(" t ".problem_key, ?4) > 0)"
/* clang-format on */

const char *const tk_cache_sql[TK_SQL_COUNT] = {
    [TK_SQL_BEGIN_READ] = "BEGIN",
    [TK_SQL_BEGIN_WRITE] = "BEGIN IMMEDIATE",
    [TK_SQL_COMMIT] = "COMMIT",
    [TK_SQL_ROLLBACK] = "ROLLBACK",
    [TK_SQL_DEVICE_UPSERT] =
        "INSERT INTO devices(fingerprint, description, created_us)"
        " VALUES(?1, coalesce(?2, '{}'), ?3)"
        " ON CONFLICT(fingerprint) DO UPDATE SET description = coalesce(?2, description)"
        " RETURNING id",
    [TK_SQL_DEVICE_EACH] =
        "SELECT fingerprint, description, created_us FROM devices d"
        " WHERE " TK_FILTER_DEVICE " ORDER BY fingerprint",
    [TK_SQL_RECORD] =
        "INSERT INTO measurements(device, op, problem_key, impl, config, status, reason,"
        " median_ns, p20_ns, p80_ns, reps, max_err, measured_us)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
        " ON CONFLICT(device, op, problem_key, impl, config) DO UPDATE SET"
        " status = excluded.status, reason = excluded.reason, median_ns = excluded.median_ns,"
        " p20_ns = excluded.p20_ns, p80_ns = excluded.p80_ns, reps = excluded.reps,"
        " max_err = excluded.max_err, measured_us = excluded.measured_us"
        " WHERE ?14 OR excluded.measured_us > measurements.measured_us",
    [TK_SQL_HAS] =
        "SELECT 1 FROM measurements WHERE device = ?1 AND op = ?2 AND problem_key = ?3"
        " AND impl = ?4 AND config = ?5",
    [TK_SQL_BEST_SET] =
        "INSERT INTO best(device, op, problem_key, impl, config, median_ns, updated_us)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
        " ON CONFLICT(device, op, problem_key) DO UPDATE SET"
        " impl = excluded.impl, config = excluded.config, median_ns = excluded.median_ns,"
        " updated_us = excluded.updated_us"
        " WHERE ?8 OR excluded.updated_us > best.updated_us",
    [TK_SQL_BEST_GET] =
        "SELECT op, problem_key, impl, config, median_ns, updated_us FROM best"
        " WHERE device = ?1 AND op = ?2 AND problem_key = ?3",
    [TK_SQL_BEST_DELETE] = "DELETE FROM best WHERE device = ?1 AND op = ?2 AND problem_key = ?3",
    [TK_SQL_FASTEST] =
        "SELECT impl, config, median_ns FROM measurements"
        " WHERE device = ?1 AND op = ?2 AND problem_key = ?3 AND status = 'ok'"
        " AND median_ns IS NOT NULL ORDER BY median_ns, impl, config LIMIT 1",
    [TK_SQL_MEASUREMENT_EACH] =
        "SELECT d.fingerprint, m.op, m.problem_key, m.impl, m.config, m.status, m.reason,"
        " m.median_ns, m.p20_ns, m.p80_ns, m.reps, m.max_err, m.measured_us"
        " FROM measurements m JOIN devices d ON d.id = m.device"
        " WHERE " TK_FILTER_DEVICE TK_FILTER_ROWS(
            "m") " ORDER BY d.fingerprint, m.op, m.problem_key, m.impl, m.config",
    [TK_SQL_BEST_EACH] =
        "SELECT d.fingerprint, b.op, b.problem_key, b.impl, b.config, b.median_ns, b.updated_us"
        " FROM best b JOIN devices d ON d.id = b.device"
        " WHERE " TK_FILTER_DEVICE TK_FILTER_ROWS(
            "b") " ORDER BY d.fingerprint, b.op, b.problem_key",
    [TK_SQL_CLEAR_MEASUREMENTS] =
        "DELETE FROM measurements WHERE (?2 IS NULL OR op = ?2) AND (?1 IS NULL OR device IN"
        " (SELECT id FROM devices WHERE fingerprint = ?1))",
    [TK_SQL_CLEAR_BEST] =
        "DELETE FROM best WHERE (?2 IS NULL OR op = ?2) AND (?1 IS NULL OR device IN"
        " (SELECT id FROM devices WHERE fingerprint = ?1))",
    [TK_SQL_CLEAR_DEVICES] =
        "DELETE FROM devices WHERE id NOT IN (SELECT device FROM measurements)"
        " AND id NOT IN (SELECT device FROM best) AND id NOT IN (SELECT device FROM gate_runs)",
    [TK_SQL_TOUCHED_EACH] = "SELECT device, op, problem_key FROM temp.touched",
    [TK_SQL_TOUCHED_CLEAR] = "DELETE FROM temp.touched",
    [TK_SQL_STAGE_GET] =
        "SELECT status, median_ns, p20_ns, p80_ns, reps, max_err, measured_us, reason, file"
        " FROM temp.staged WHERE device = ?1 AND op = ?2 AND problem_key = ?3 AND impl = ?4"
        " AND config = ?5",
    [TK_SQL_STAGE_PUT] =
        "INSERT OR REPLACE INTO temp.staged(device, op, problem_key, impl, config, status,"
        " reason, median_ns, p20_ns, p80_ns, reps, max_err, measured_us, file)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    [TK_SQL_STAGE_APPLY] =
        "INSERT INTO measurements(device, op, problem_key, impl, config, status, reason,"
        " median_ns, p20_ns, p80_ns, reps, max_err, measured_us)"
        " SELECT device, op, problem_key, impl, config, status, reason, median_ns, p20_ns,"
        " p80_ns, reps, max_err, measured_us FROM temp.staged WHERE true"
        " ON CONFLICT(device, op, problem_key, impl, config) DO UPDATE SET"
        " status = excluded.status, reason = excluded.reason, median_ns = excluded.median_ns,"
        " p20_ns = excluded.p20_ns, p80_ns = excluded.p80_ns, reps = excluded.reps,"
        " max_err = excluded.max_err, measured_us = excluded.measured_us"
        " WHERE excluded.measured_us > measurements.measured_us",
    [TK_SQL_STAGE_TOUCH] =
        "INSERT OR IGNORE INTO temp.touched(device, op, problem_key)"
        " SELECT DISTINCT device, op, problem_key FROM temp.staged",
    [TK_SQL_STAGE_CLEAR] = "DELETE FROM temp.staged",
    [TK_SQL_CONFLICT_ADD] =
        "INSERT INTO temp.conflicts(fingerprint, op, problem_key, impl, config, kept_ns,"
        " kept_file, dropped_ns, dropped_file) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [TK_SQL_CONFLICT_EACH] =
        "SELECT fingerprint, op, problem_key, impl, config, kept_ns, kept_file, dropped_ns,"
        " dropped_file FROM temp.conflicts ORDER BY rowid",
    [TK_SQL_CONFLICT_CLEAR] = "DELETE FROM temp.conflicts",
    [TK_SQL_RUN_INSERT] =
        "INSERT INTO gate_runs(device, suite, mode, git_rev, anchor_copy_ns, anchor_fma_ns,"
        " started_us) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    [TK_SQL_RESULT_INSERT] =
        "INSERT OR REPLACE INTO gate_results(run, spec, impl, config, status, reason, max_err,"
        " tol, median_ns, samples) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [TK_SQL_BASELINE_CLEAR] =
        "UPDATE gate_runs SET baseline = 0 WHERE suite = (SELECT suite FROM gate_runs WHERE id = ?1)",
    [TK_SQL_BASELINE_SET] = "UPDATE gate_runs SET baseline = 1 WHERE id = ?1",
    [TK_SQL_RUN_EACH] =
        "SELECT r.id, d.fingerprint, r.suite, r.mode, r.git_rev, r.anchor_copy_ns,"
        " r.anchor_fma_ns, r.baseline, r.started_us FROM gate_runs r JOIN devices d ON d.id = r.device"
        " WHERE (?1 IS NULL OR r.suite = ?1) AND (?2 IS NULL OR r.id = ?2)"
        " AND (?3 IS NULL OR r.baseline = ?3) ORDER BY r.id",
    [TK_SQL_RESULT_EACH] =
        "SELECT spec, impl, config, status, reason, max_err, tol, median_ns, samples"
        " FROM gate_results WHERE run = ?1 ORDER BY spec, impl",
};
