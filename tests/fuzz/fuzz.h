/* fuzz.h: the fuzz targets of tests/fuzz/ (docs/reliability.md) and what
 * they share. Each target takes arbitrary bytes, drives one part of the
 * library with them and checks a contract oracle; a violation prints what
 * was wrong and aborts, which libFuzzer reports as a crash and the seeded
 * driver (fuzz_seeded.c, in ctest) as a failed test. */
#ifndef TK_TESTS_FUZZ_H
#define TK_TESTS_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"
#include "tokamax.h"

/* The targets: one per op (argument validation and a call on small real
 * buffers), the suite and case-spec parser, the export-file importer, the
 * cache opener and the tuned-pack parser on arbitrary file bytes. Each
 * returns 0. */
int tk_fuzz_op(tk_op op, const uint8_t *data, size_t size);
int tk_fuzz_suite(const uint8_t *data, size_t size);
int tk_fuzz_import(const uint8_t *data, size_t size);
int tk_fuzz_cache_open(const uint8_t *data, size_t size);
int tk_fuzz_pack(const uint8_t *data, size_t size);

/* What the op targets' calls since the last query were: valid ones that
 * succeeded (the others, valid but unsupported by a forced "cpu", are not
 * counted), broken ones refused, ones of unknown validity that succeeded
 * or failed. Resets the counts. */
void tk_fuzz_op_counts(long *valid_ok, long *invalid_refused, long *unknown_ok,
                       long *unknown_failed);

/* A folder for the targets' scratch files, made once per process (under
 * $TMPDIR, else /dev/shm, else /tmp) and removed at exit. */
const char *tk_fuzz_dir(void);

/* Names the input being run (the seeded driver: its seed and iteration),
 * for tk_fuzz_fail's report; NULL: nothing to name. */
void tk_fuzz_note_input(const char *what);

/* Reports a broken contract: prints "fuzz oracle: <message>" (and the
 * noted input) to stderr and aborts. */
void tk_fuzz_fail(const char *fmt, ...) TK_PRINTF(1, 2) __attribute__((noreturn));

/* Checks cond, else tk_fuzz_fail with the message. */
#define FZ_REQUIRE(cond, ...)              \
  do {                                     \
    if (!(cond)) tk_fuzz_fail(__VA_ARGS__); \
  } while (0)

/* The input bytes, read front to back; once they run out every read
 * gives 0 (so a short input means the smallest choices). */
typedef struct {
  const uint8_t *p;
  size_t n, i;
} fz_in;

/* The next byte, 0 past the end. */
static inline unsigned fz_byte(fz_in *in) { return in->i < in->n ? in->p[in->i++] : 0u; }

/* An integer in [lo, hi] (hi - lo < 2^32) from the next bytes. */
int64_t fz_range(fz_in *in, int64_t lo, int64_t hi);

/* 1 with probability about 1/n (n >= 2); 0 once the input ran out. */
static inline int fz_one_in(fz_in *in, unsigned n) { return fz_byte(in) % n == n - 1; }

/* 64 bits of a splitmix64 stream (for values that need not come from the
 * input: data contents, gap bytes). */
static inline uint64_t fz_mix(uint64_t *state) {
  uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

#endif
