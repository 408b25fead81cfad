/* fuzz_pack.c: the tuned-pack parser target (cache/pack.h). The input is
 * one pack file's bytes. A refused pack gives "pack: fuzz.pack:LINE:
 * reason" and nothing else; an accepted one has its six header fields, and
 * every entry a known op, non-empty op, key and impl, a finite median >= 0,
 * spreads >= 0 or unknown and a count >= 0, no key twice; parsing it again
 * gives the same; and the same bytes cut short by one are refused (the end
 * marker catches every truncation). */
#include <math.h>
#include <string.h>

#include "cache/pack.h"
#include "tests/fuzz/fuzz.h"

/* 1 if the two parses hold the same header and entries. */
static int same(const tk_pack *a, const tk_pack *b) {
  if (a->n != b->n || strcmp(a->command, b->command) || strcmp(a->fingerprint, b->fingerprint) ||
      strcmp(a->device_class, b->device_class) || strcmp(a->suite, b->suite) ||
      strcmp(a->library, b->library) || strcmp(a->created, b->created))
    return 0;
  for (int i = 0; i < a->n; i++) {
    const tk_pack_entry *x = &a->entries[i], *y = &b->entries[i];
    if (strcmp(x->op, y->op) || strcmp(x->problem_key, y->problem_key) ||
        strcmp(x->impl, y->impl) || strcmp(x->config, y->config) ||
        x->median_ns != y->median_ns || x->reps != y->reps)
      return 0;
  }
  return 1;
}

int tk_fuzz_pack(const uint8_t *data, size_t size) {
  tk_pack *p = NULL;
  tk_status s = tk_pack_parse((const char *)data, size, "fuzz.pack", &p);
  if (s != TK_OK) {
    FZ_REQUIRE(s == TK_ERR_CACHE && !strncmp(tk_last_error(), "pack: fuzz.pack:", 16) && !p,
               "pack: refused without file:line: %s: %s", tk_status_string(s), tk_last_error());
    return 0;
  }
  FZ_REQUIRE(p && p->command && p->library && p->fingerprint && p->device_class && p->suite &&
                 p->created && p->n >= 0,
             "pack: accepted without its header");
  for (int i = 0; i < p->n; i++) {
    const tk_pack_entry *e = &p->entries[i];
    tk_op op;
    FZ_REQUIRE(tk_op_from_name(e->op, &op) == TK_OK && e->problem_key[0] && e->impl[0],
               "pack: entry %d: op '%s', key '%s', impl '%s'", i, e->op, e->problem_key, e->impl);
    FZ_REQUIRE(isfinite(e->median_ns) && e->median_ns >= 0 && !(e->p20_ns < 0) &&
                   !(e->p80_ns < 0) && e->reps >= 0,
               "pack: entry %d: median %g, p20 %g, p80 %g, reps %lld", i, e->median_ns, e->p20_ns,
               e->p80_ns, (long long)e->reps);
    for (int k = 0; k < i; k++)
      FZ_REQUIRE(strcmp(e->op, p->entries[k].op) || strcmp(e->problem_key, p->entries[k].problem_key),
                 "pack: key %s twice", e->problem_key);
  }
  tk_pack *q = NULL;
  FZ_REQUIRE(tk_pack_parse((const char *)data, size, "fuzz.pack", &q) == TK_OK && same(p, q),
             "pack: a second parse differs");
  tk_pack *cut = NULL;
  FZ_REQUIRE(tk_pack_parse((const char *)data, size - 1, "fuzz.pack", &cut) != TK_OK && !cut,
             "pack: accepted cut short by one byte");
  tk_pack_free(q);
  tk_pack_free(p);
  return 0;
}
