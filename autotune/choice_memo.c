/* choice_memo.c: the memo of tuned-map answers by problem image: a
 * set-associative table (64 sets of 4), each set replaced oldest first. */
#include "autotune/choice_memo.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/op_desc.h"

enum { SETS = 64, WAYS = 4 };

typedef struct {
  tk_problem_image img; /* img.len == 0: empty */
  int slot, found;
  uint64_t key_hash;    /* the tuned map's entry this answer came from */
  tk_choice choice;
} memo_entry;

struct tk_choice_memo {
  memo_entry *e;                /* SETS * WAYS, NULL until the first put */
  unsigned char next[SETS];     /* the way each set replaces next */
};

/* What of a data pointer an image keeps: its alignment (trailing zero
 * bits, capped at 8: 256 bytes), which implementations may require, as a
 * small integer; 9 for NULL (a plan without data). */
static void *alignment_class(const void *data) {
  const uintptr_t a = (uintptr_t)data;
  if (!a) return (void *)(uintptr_t)9;
  const int tz = __builtin_ctzll((unsigned long long)a);
  return (void *)(uintptr_t)(tz < 8 ? tz : 8);
}

static inline uint64_t rotl(uint64_t x, int r) { return x << r | x >> (64 - r); }

/* A well-mixed hash of len bytes (a multiple of 8) and slot: four
 * independent multiply chains, so it costs a few ns per 100 bytes. */
static uint64_t hash_bytes(const unsigned char *b, size_t len, int slot) {
  const uint64_t k = 0x9E3779B97F4A7C15ull;
  uint64_t h0 = k ^ (uint64_t)(unsigned)slot, h1 = 0xC2B2AE3D27D4EB4Full,
           h2 = 0x165667B19E3779F9ull, h3 = 0x27D4EB2F165667C5ull, w[4];
  size_t i = 0;
  for (; i + 32 <= len; i += 32) {
    memcpy(w, b + i, 32);
    h0 = (h0 ^ w[0]) * k;
    h1 = (h1 ^ w[1]) * k;
    h2 = (h2 ^ w[2]) * k;
    h3 = (h3 ^ w[3]) * k;
  }
  for (; i < len; i += 8) {
    memcpy(w, b + i, 8);
    h0 = (h0 ^ w[0]) * k;
  }
  uint64_t x = h0 ^ rotl(h1, 17) ^ rotl(h2, 31) ^ rotl(h3, 47) ^ len;
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  return x;
}

void tk_problem_image_of(const tk_problem *p, int slot, tk_problem_image *out) {
  const tk_op_desc *d = tk_op_desc_of(p->op);
  size_t bytes = d ? d->problem_size : 0;
  out->len = bytes ? offsetof(tk_problem, u) + bytes : 0;
  out->hash = 0;
  if (!out->len) return;
  memcpy(&out->p, p, out->len);
  tk_tensor *t[TK_MAX_INPUTS + TK_MAX_OUTPUTS];
  int n = tk_problem_inputs(&out->p, t);
  n += tk_problem_outputs(&out->p, t + n);
  for (int i = 0; i < n; i++) t[i]->data = alignment_class(t[i]->data);
  out->hash = hash_bytes((const unsigned char *)&out->p, out->len, slot);
}

tk_choice_memo *tk_choice_memo_create(void) { return calloc(1, sizeof(tk_choice_memo)); }

void tk_choice_memo_free(tk_choice_memo *m) {
  if (!m) return;
  free(m->e);
  free(m);
}

/* The first entry of img's set. */
static memo_entry *set_of(const tk_choice_memo *m, const tk_problem_image *img) {
  return &m->e[(img->hash % SETS) * WAYS];
}

/* Whether x holds img on slot. */
static int holds(const memo_entry *x, const tk_problem_image *img, int slot) {
  return x->img.len == img->len && x->img.hash == img->hash && x->slot == slot &&
         memcmp(&x->img.p, &img->p, img->len) == 0;
}

int tk_choice_memo_find(const tk_choice_memo *m, const tk_problem_image *img, int slot,
                        int *found, tk_choice *out) {
  if (!m->e || !img->len) return 0;
  const memo_entry *s = set_of(m, img);
  for (int w = 0; w < WAYS; w++)
    if (holds(&s[w], img, slot)) {
      *found = s[w].found;
      if (s[w].found) *out = s[w].choice;
      return 1;
    }
  return 0;
}

void tk_choice_memo_put(tk_choice_memo *m, const tk_problem_image *img, int slot,
                        uint64_t key_hash, int found, const tk_choice *c) {
  if (!img->len) return;
  if (!m->e && !(m->e = calloc(SETS * WAYS, sizeof *m->e))) return;
  memo_entry *s = set_of(m, img);
  int way = -1;
  for (int w = 0; w < WAYS && way < 0; w++)
    if (holds(&s[w], img, slot)) way = w;
  for (int w = 0; w < WAYS && way < 0; w++)
    if (!s[w].img.len) way = w;
  if (way < 0) {
    size_t set = (size_t)(s - m->e) / WAYS;
    way = m->next[set];
    m->next[set] = (unsigned char)((way + 1) % WAYS);
  }
  memo_entry *x = &s[way];
  memcpy(&x->img.p, &img->p, img->len);
  x->img.len = img->len;
  x->img.hash = img->hash;
  x->slot = slot;
  x->found = found;
  x->key_hash = key_hash;
  x->choice = found ? *c : (tk_choice){0};
}

void tk_choice_memo_forget_key(tk_choice_memo *m, int slot, uint64_t key_hash) {
  if (!m->e) return;
  for (int i = 0; i < SETS * WAYS; i++)
    if (m->e[i].img.len && m->e[i].slot == slot && m->e[i].key_hash == key_hash)
      m->e[i].img.len = 0;
}

void tk_choice_memo_clear(tk_choice_memo *m) {
  if (!m->e) return;
  for (int i = 0; i < SETS * WAYS; i++) m->e[i].img.len = 0;
}

int tk_choice_memo_size(const tk_choice_memo *m) {
  int n = 0;
  for (int i = 0; m->e && i < SETS * WAYS; i++) n += m->e[i].img.len != 0;
  return n;
}
