/* fuzz_seeded.c: the fuzz targets without libFuzzer, for ctest on any
 * machine: each target runs its seed corpus (tests/fuzz/corpus/<target>/),
 * then inputs made by mutating those seeds with a seeded random stream, so
 * a run is reproducible from its seed. A broken contract aborts, naming
 * the target, seed and run. Files given on the command line are run as
 * they are (to replay what libFuzzer found).
 *
 *   fuzz_seeded [--target NAME] [--runs N] [--seed S] [--corpus DIR] [FILE...]
 *
 * Targets: op_<op> for every op of the op table, suite, import, cache_open,
 * pack. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/fuzz/fuzz.h"

#define MAX_TARGETS (TK_OP_COUNT + 4)
#define MAX_SEEDS 4096
#define FZ_MAX_INPUT (64 << 10)

typedef struct {
  char name[64];
  tk_op op; /* for op targets */
  int (*fn)(const uint8_t *, size_t);
} target;

static int run_target(const target *t, const uint8_t *data, size_t size) {
  return t->fn ? t->fn(data, size) : tk_fuzz_op(t->op, data, size);
}

static int n_targets;
static target targets[MAX_TARGETS];

static void add_targets(void) {
  for (int op = 0; op < TK_OP_COUNT; op++) {
    target *t = &targets[n_targets++];
    snprintf(t->name, sizeof t->name, "op_%s", tk_op_name((tk_op)op));
    t->op = (tk_op)op;
  }
  targets[n_targets++] = (target){"suite", TK_OP_COUNT, tk_fuzz_suite};
  targets[n_targets++] = (target){"import", TK_OP_COUNT, tk_fuzz_import};
  targets[n_targets++] = (target){"cache_open", TK_OP_COUNT, tk_fuzz_cache_open};
  targets[n_targets++] = (target){"pack", TK_OP_COUNT, tk_fuzz_pack};
}

typedef struct {
  uint8_t *data;
  size_t size;
} blob;

/* The whole file at path (NULL data when unreadable). */
static blob read_blob(const char *path) {
  blob b = {NULL, 0};
  FILE *f = fopen(path, "rb");
  if (!f) return b;
  size_t cap = 0;
  for (;;) {
    if (b.size == cap && !(b.data = realloc(b.data, cap = cap ? 2 * cap : 4096))) break;
    size_t got = fread(b.data + b.size, 1, cap - b.size, f);
    if (!got) break;
    b.size += got;
  }
  fclose(f);
  return b;
}

static int by_name(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The seed files of a target, sorted by name; returns how many. */
static int load_seeds(const char *corpus, const char *name, blob *seeds) {
  char dir[1024], path[2048];
  snprintf(dir, sizeof dir, "%s/%s", corpus, name);
  DIR *d = opendir(dir);
  if (!d) return 0;
  char *names[MAX_SEEDS];
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)) && n < MAX_SEEDS)
    if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
  closedir(d);
  qsort(names, (size_t)n, sizeof names[0], by_name);
  int k = 0;
  for (int i = 0; i < n; i++) {
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    blob b = read_blob(path);
    if (b.data) seeds[k++] = b;
    free(names[i]);
  }
  return k;
}

/* A mutated copy of a random seed (or of nothing) into out; its size. */
static size_t mutate(uint64_t *rng, const blob *seeds, int n, uint8_t *out) {
  static const uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, '\n', '\t', '\r', '\\', '%'};
  size_t size = 0;
  if (n && fz_mix(rng) % 8) {
    const blob *s = &seeds[fz_mix(rng) % (uint64_t)n];
    size = s->size < FZ_MAX_INPUT ? s->size : FZ_MAX_INPUT;
    memcpy(out, s->data, size);
  }
  int edits = 1 + (int)(fz_mix(rng) % 4);
  for (int e = 0; e < edits; e++) {
    uint64_t r = fz_mix(rng), at = size ? fz_mix(rng) % size : 0;
    switch (r % 7) {
      case 0:
        if (size) out[at] ^= (uint8_t)(1u << (r >> 8) % 8);
        break;
      case 1:
        if (size) out[at] = (uint8_t)(r >> 16);
        break;
      case 2:
        if (size) out[at] = interesting[(r >> 16) % sizeof interesting];
        break;
      case 3: { /* insert random bytes */
        size_t k = 1 + (r >> 16) % 8;
        if (size + k > FZ_MAX_INPUT) break;
        memmove(out + at + k, out + at, size - at);
        for (size_t i = 0; i < k; i++) out[at + i] = (uint8_t)fz_mix(rng);
        size += k;
        break;
      }
      case 4: { /* delete a range */
        size_t k = size ? 1 + (r >> 16) % (size - at < 16 ? size - at : 16) : 0;
        memmove(out + at, out + at + k, size - at - k);
        size -= k;
        break;
      }
      case 5:
        size = size ? at : 0; /* truncate */
        break;
      default: { /* splice in a chunk of another seed */
        if (!n) break;
        const blob *s = &seeds[(r >> 8) % (uint64_t)n];
        if (!s->size) break;
        size_t from = fz_mix(rng) % s->size, k = 1 + fz_mix(rng) % 64;
        if (k > s->size - from) k = s->size - from;
        if (at + k > FZ_MAX_INPUT) break;
        memcpy(out + at, s->data + from, k);
        if (at + k > size) size = at + k;
      }
    }
  }
  return size;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  const char *only = NULL, *corpus = TK_SOURCE_DIR "/tests/fuzz/corpus";
  long runs = 300;
  uint64_t seed = 17;
  int first_file = argc;
  add_targets();
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--target") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atol(argv[++i]);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc) seed = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--corpus") && i + 1 < argc) corpus = argv[++i];
    else if (argv[i][0] == '-') {
      fprintf(stderr, "usage: %s [--target NAME] [--runs N] [--seed S] [--corpus DIR] [FILE...]\n",
              argv[0]);
      return 2;
    } else {
      first_file = i;
      break;
    }
  }
  static uint8_t input[FZ_MAX_INPUT];
  static blob seeds[MAX_SEEDS];
  char what[2048];
  int ran = 0;
  for (int t = 0; t < n_targets; t++) {
    if (only && strcmp(only, targets[t].name)) continue;
    ran++;
    double t0 = now();
    if (first_file < argc) { /* replay files */
      for (int i = first_file; i < argc; i++) {
        blob b = read_blob(argv[i]);
        if (!b.data && b.size == 0) b.data = malloc(1);
        snprintf(what, sizeof what, "%s: file %s", targets[t].name, argv[i]);
        tk_fuzz_note_input(what);
        run_target(&targets[t], b.data, b.size);
        free(b.data);
      }
      printf("%s: %d files replayed\n", targets[t].name, argc - first_file);
      continue;
    }
    int n = load_seeds(corpus, targets[t].name, seeds);
    for (int i = 0; i < n; i++) {
      snprintf(what, sizeof what, "%s: seed file %d of %s/%s", targets[t].name, i, corpus,
               targets[t].name);
      tk_fuzz_note_input(what);
      run_target(&targets[t], seeds[i].data, seeds[i].size);
    }
    uint64_t rng = seed ^ ((uint64_t)t << 32);
    for (long r = 0; r < runs; r++) {
      size_t size = mutate(&rng, seeds, n, input);
      snprintf(what, sizeof what, "%s: run %ld of --seed %llu", targets[t].name, r,
               (unsigned long long)seed);
      tk_fuzz_note_input(what);
      run_target(&targets[t], input, size);
    }
    for (int i = 0; i < n; i++) free(seeds[i].data);
    printf("%s: %d seeds + %ld mutated inputs in %.2f s", targets[t].name, n, runs, now() - t0);
    if (!targets[t].fn) {
      long vok, ir, uok, uf;
      tk_fuzz_op_counts(&vok, &ir, &uok, &uf);
      printf(" (valid and TK_OK: %ld, broken and refused: %ld, unknown: %ld TK_OK, %ld refused)",
             vok, ir, uok, uf);
    }
    printf("\n");
  }
  tk_fuzz_note_input(NULL);
  if (!ran) {
    fprintf(stderr, "no target named %s\n", only ? only : "");
    return 2;
  }
  return 0;
}
