/* choice_memo.h: a bounded memo from a validated problem and device slot to
 * what the tuned map answered for it, so that a repeated call finds its
 * choice without formatting its key text. A problem is matched by its
 * image: its bytes with each tensor's data pointer replaced by its
 * alignment, compared in full, so two problems match only when every field
 * the key is made from, and the alignment of every buffer, is equal. Not
 * locked: the tuned map calls it under its own lock. */
#ifndef TK_AUTOTUNE_CHOICE_MEMO_H
#define TK_AUTOTUNE_CHOICE_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "autotune/choose.h"

/* What a problem is memoised by. */
typedef struct {
  tk_problem p;   /* the problem, data pointers as alignment; the first len bytes count */
  size_t len;     /* header + the op's struct; 0: not memoisable (unknown op) */
  uint64_t hash;  /* of those bytes and the slot */
} tk_problem_image;

typedef struct tk_choice_memo tk_choice_memo;

/* The image of validated problem p on device slot. */
void tk_problem_image_of(const tk_problem *p, int slot, tk_problem_image *out);

/* An empty memo (its table is allocated on the first put); NULL when out
 * of memory. */
tk_choice_memo *tk_choice_memo_create(void);
void tk_choice_memo_free(tk_choice_memo *m);

/* 1 when img on slot is memoised: *found is what the map answered (1: a
 * choice, copied to *out; 0: nothing tuned). 0 when it is not memoised. */
int tk_choice_memo_find(const tk_choice_memo *m, const tk_problem_image *img, int slot,
                        int *found, tk_choice *out);

/* Remembers the answer for img on slot, which came from the map's entry of
 * key_hash (c is read only when found). At most 256 problems are kept; a
 * full set of the table drops its oldest. Nothing happens when out of
 * memory or img is not memoisable. */
void tk_choice_memo_put(tk_choice_memo *m, const tk_problem_image *img, int slot,
                        uint64_t key_hash, int found, const tk_choice *c);

/* Forgets every answer that came from the map's entry (slot, key_hash). */
void tk_choice_memo_forget_key(tk_choice_memo *m, int slot, uint64_t key_hash);

/* Forgets everything. */
void tk_choice_memo_clear(tk_choice_memo *m);

/* Problems memoised. */
int tk_choice_memo_size(const tk_choice_memo *m);

#endif
