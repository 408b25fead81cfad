/* make_seeds.c: writes the hand-made part of the seed corpora of
 * tests/fuzz/corpus/ (docs/reliability.md): for each op target zeros and
 * random bytes; for the suite parser suites with includes, comments and a
 * NUL; for the importer exports of format 1 and 2; for the pack parser a
 * pack written from a cache and small edge cases; for the cache opener
 * real caches (WAL and rollback journal, schema 1 and 2) and the hostile
 * files of issue 17 (empty, foreign, newer, negative version), each after
 * its flag byte. The rest of each corpus is what libFuzzer found and
 * `-merge=1` kept.
 *
 *   fuzz_make_seeds CORPUS_DIR */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache/cache.h"
#include "cache/cache_db.h"
#include "cache/pack.h"
#include "tests/fuzz/fuzz.h"

static const char *root;

static void put(const char *target, const char *name, const void *data, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root, target);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/%s/%s", root, target, name);
  FILE *f = fopen(path, "wb");
  if (!f || fwrite(data, 1, n, f) != n) {
    perror(path);
    exit(1);
  }
  fclose(f);
}

static void put_text(const char *target, const char *name, const char *text) {
  put(target, name, text, strlen(text));
}

static void op_seeds(void) {
  uint64_t rng = 17;
  for (int op = 0; op < TK_OP_COUNT; op++) {
    char target[64], name[32];
    uint8_t bytes[192] = {0};
    snprintf(target, sizeof target, "op_%s", tk_op_name((tk_op)op));
    put(target, "zeros", bytes, 64);
    for (int i = 0; i < 12; i++) {
      size_t n = 32 + fz_mix(&rng) % 160;
      for (size_t j = 0; j < n; j++) bytes[j] = (uint8_t)fz_mix(&rng);
      snprintf(name, sizeof name, "random%02d", i);
      put(target, name, bytes, n);
    }
  }
}

static void suite_seeds(void) {
  put_text("suite", "one", "attention dtype=f32 B=1 Tq=8 Tk=8 Hq=2 Hkv=1 D=16 causal=1\n");
  put_text("suite", "keys",
           "# every op\n"
           "attention dtype=bf16 B=2 Tq=64 Tk=96 Hq=8 Hkv=2 D=64 Dv=32 causal=1 wl=16 wr=-1 "
           "softcap=30 scale=0.125 lse=1 varlen=1 strided=1\n"
           "grouped_gemm dtype=f16 out=same layout=tn M=128 K=64 N=32 G=4 sizes=zipf empty=1 "
           "unused=8 strided=1\n"
           "moe_permute dtype=f32 T=64 H=32 k=2 E=8 align=16 skew=1 empty=2\n"
           "moe_unpermute dtype=bf16 T=64 H=32 k=4 E=8 align=4 weights=0\n"
           "paged_attention dtype=f16 Hq=8 Hkv=2 D=64 Dv=64 page=16 decode=3 prefill=2 qlen=8 "
           "kvmax=100 window=32 softcap=20\n");
  put_text("suite", "includes",
           "include s1\nattention B=1\n  # comment\n\tinclude s2 \n%%\ninclude s0\n"
           "grouped_gemm M=8 G=2\n%%\ninclude s3\nmoe_permute T=4\n%%\ninclude s1\n"
           "paged_attention decode=1 prefill=0\n");
  put("suite", "nul", "attention B=1\0 Tq=nope\nmoe_permute T=4\n", 39);
  put_text("suite", "bad", "attention Hq=6 Hkv=4\n");
  put_text("suite", "missing", "include no_such_suite\n");
}

static void import_seeds(void) {
  put_text("import", "format1",
           "tokamax-cache\t1\nD\tcpu:old\t{\"a\":\"tab\\there\"}\t5\n"
           "M\tcpu:old\tattention\tk\tcpu\tb=1\tok\t\t10\t9\t11\t5\t0.001\t7\n"
           "M\tcpu:old\tattention\tk\tcpu\tb=2\tfailed\tno\\nmemory\tnan\tnan\tnan\t0\tnan\t8\n"
           "B\tcpu:old\tattention\tk\tcpu\tb=1\t10\t7\n");
  tk_cache *c = NULL;
  int64_t dev = 0;
  if (tk_cache_open(":memory:", TK_CACHE_CREATE, 0, &c) != TK_OK ||
      tk_cache_device_id(c, "cpu:x86:zen4", "{\"cores\":16}", &dev) != TK_OK) {
    fprintf(stderr, "%s\n", tk_last_error());
    exit(1);
  }
  const char *keys[] = {"grouped_gemm:M=128\tN=64", "grouped_gemm:x'); DROP TABLE best;--"};
  for (int k = 0; k < 2; k++)
    for (int i = 0; i < 3; i++) {
      char cfg[32];
      snprintf(cfg, sizeof cfg, "tm=%d,tn=64", 32 << i);
      tk_cache_measurement m = {"grouped_gemm", keys[k], "cpu", cfg, TK_CACHE_RESULT_OK, "",
                                1000.0 + i, 990.0, 1010.0, 20, 1e-5, 0};
      if (i == 2) m.result = TK_CACHE_RESULT_WRONG, m.reason = "max error\t0.5\\n";
      tk_cache_record(c, dev, &m);
      tk_cache_recompute_best(c, dev, "grouped_gemm", keys[k], NULL);
    }
  char path[1024];
  snprintf(path, sizeof path, "%s/import/format2", root);
  if (tk_cache_export(c, path, NULL) != TK_OK) {
    fprintf(stderr, "%s\n", tk_last_error());
    exit(1);
  }
  tk_cache_close(c);
  put_text("import", "empty2", "tokamax-cache\t2\nE\t0\tcbf29ce484222325\n");
}

static void pack_seeds(void) {
  tk_cache *c = NULL;
  int64_t dev = 0;
  const char *fp = "cpu:AuthenticAMD:25:1:avx2+fma+f16c:cores=2:l1d=32K:l2=512K:l3=32768K";
  if (tk_cache_open(":memory:", TK_CACHE_CREATE, 0, &c) != TK_OK ||
      tk_cache_device_id(c, fp, NULL, &dev) != TK_OK) {
    fprintf(stderr, "%s\n", tk_last_error());
    exit(1);
  }
  const char *keys[] = {"grouped_gemm:dtype=f32,out=f32,layout=nn,M=64,K=64,N=48,G=4,strides=contig",
                        "grouped_gemm:x\t'); DROP TABLE best;--"};
  for (int k = 0; k < 2; k++) {
    tk_cache_measurement m = {"grouped_gemm", keys[k], "reference", k ? "" : "parallel=0",
                              TK_CACHE_RESULT_OK, "", 1234.5 + k, 1200.0, 1300.25, 20, 0, 0};
    tk_cache_record(c, dev, &m);
    tk_cache_recompute_best(c, dev, "grouped_gemm", keys[k], NULL);
  }
  char path[1024];
  snprintf(path, sizeof path, "%s/pack", root);
  mkdir(path, 0755);
  snprintf(path, sizeof path, "%s/pack/two", root);
  tk_pack_header h = {fp, "cpu:AuthenticAMD:25:1:avx2+fma+f16c", "quick", "make_seeds"};
  if (tk_cache_export_pack(c, path, &h, NULL) != TK_OK) {
    fprintf(stderr, "%s\n", tk_last_error());
    exit(1);
  }
  tk_cache_close(c);
  const char *header = "command\tx\nlibrary\t0.1.0\nfingerprint\tcpu:a\nclass\tcpu:a\n"
                       "suite\tquick\ncreated\t2026-01-01T00:00:00Z\n";
  char text[512];
  snprintf(text, sizeof text, "tokamax-pack\t1\n%sE\t6\t%016llx\n", header,
           (unsigned long long)tk_cache_fnv1a(TK_CACHE_FNV_BASIS, header, strlen(header)));
  put_text("pack", "header_only", text);
  put_text("pack", "newer", "tokamax-pack\t2\n");
}

/* Writes flag byte + the bytes of the file at path as seed name. */
static void put_file(const char *name, uint8_t flag, const char *path) {
  FILE *f = fopen(path, "rb");
  static uint8_t buf[1 << 20];
  buf[0] = flag;
  size_t n = f ? fread(buf + 1, 1, sizeof buf - 1, f) : 0;
  if (f) fclose(f);
  put("cache_open", name, buf, n + 1);
}

/* A small-paged SQLite file at path after sql. */
static void make_db(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  unlink(path);
  if (sqlite3_open(path, &db) != SQLITE_OK ||
      sqlite3_exec(db, "PRAGMA page_size = 512; PRAGMA user_version = 0", NULL, NULL, NULL) !=
          SQLITE_OK ||
      (sql && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)) {
    fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_close(db);
}

/* Runs sql on the file at path. */
static void exec_on(const char *path, const char *sql) {
  sqlite3 *db = NULL;
  if (sqlite3_open(path, &db) != SQLITE_OK || sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", path, sqlite3_errmsg(db));
    exit(1);
  }
  sqlite3_close(db);
}

static void cache_seeds(void) {
  char path[1024], sql[256];
  snprintf(path, sizeof path, "%s/seed.db", tk_fuzz_dir());
  put("cache_open", "empty", "\1", 1);
  make_db(path, "CREATE TABLE notes(x); PRAGMA user_version = 2");
  put_file("foreign2", 0, path);
  make_db(path, tk_cache_migrations[0]); /* schema 1: the first migration only */
  exec_on(path, "PRAGMA user_version = 1");
  put_file("schema1", 0, path);
  for (int wal = 0; wal < 2; wal++) {
    make_db(path, NULL);
    tk_cache *c = NULL;
    int64_t dev = 0;
    tk_cache_measurement m = {"attention", "attention:k", "cpu", "block_q=64", TK_CACHE_RESULT_OK,
                              "", 5000.0, 4900.0, 5100.0, 9, 1e-4, 0};
    if (tk_cache_open(path, TK_CACHE_CREATE, 0, &c) != TK_OK ||
        tk_cache_device_id(c, "cpu:seed", NULL, &dev) != TK_OK ||
        tk_cache_record(c, dev, &m) != TK_OK ||
        tk_cache_recompute_best(c, dev, m.op, m.problem_key, NULL) != TK_OK) {
      fprintf(stderr, "%s\n", tk_last_error());
      exit(1);
    }
    tk_cache_close(c);
    if (!wal) exec_on(path, "PRAGMA journal_mode = DELETE");
    put_file(wal ? "schema2_wal" : "schema2_journal", wal ? 1 : 3, path);
    put_file(wal ? "schema2_wal_ro" : "schema2_journal_ro", 2, path);
    static const int versions[] = {99, -2, -2147483647 - 1};
    for (int v = 0; wal && v < 3; v++) {
      char name[32];
      snprintf(sql, sizeof sql, "PRAGMA user_version = %d", versions[v]);
      exec_on(path, sql);
      snprintf(name, sizeof name, "version%d", versions[v]);
      put_file(name, (uint8_t)v, path);
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  root = argv[1];
  mkdir(root, 0755);
  op_seeds();
  suite_seeds();
  import_seeds();
  pack_seeds();
  cache_seeds();
  return 0;
}
