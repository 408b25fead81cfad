/* pack.h: the tuned pack, a versioned, human-readable text file of one
 * device's tuned choices, each with its measured median and spread, that
 * ships with the library (format in docs/cache.md). Written from a cache
 * by tk_cache_export_pack; parsed all or nothing by tk_pack_parse (whether
 * its impls and configs exist in this build is the loader's business,
 * autotune/packs.h). */
#ifndef TK_CACHE_PACK_H
#define TK_CACHE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "cache/cache.h"

/* The version of the pack format (first line "tokamax-pack<TAB>1"). */
#define TK_PACK_FORMAT_VERSION 1

/* One tuned choice. Times in ns; p20/p80 NAN when unknown. */
typedef struct {
  const char *op, *problem_key, *impl, *config;
  double median_ns, p20_ns, p80_ns;
  int64_t reps;
} tk_pack_entry;

/* A parsed pack: its header and entries. The strings live in the pack. */
typedef struct {
  const char *command;      /* the command that produced the measurements */
  const char *library;      /* the library version that measured them, "0.1.0" */
  const char *fingerprint;  /* the device they were measured on */
  const char *device_class; /* tk_device_class of it: where else the pack applies */
  const char *suite;        /* the suite swept */
  const char *created;      /* when the pack was written, ISO 8601 UTC */
  const tk_pack_entry *entries;
  int n;
} tk_pack;

/* What the header of a new pack says (command, device_class and suite may
 * not be NULL; the library version and time are filled in). */
typedef struct {
  const char *fingerprint, *device_class, *suite, *command;
} tk_pack_header;

/* Writes the pack of device h->fingerprint at path: one entry per best row
 * of that device, with the median, p20, p80 and repetitions of its
 * measurement (NAN and 0 when the cache has only the best row), from one
 * read snapshot, complete or not at all (written beside it and renamed).
 * Fails with TK_ERR_CACHE when the device has nothing tuned (no file
 * written). *entries (may be NULL) = entries written. */
tk_status tk_cache_export_pack(tk_cache *c, const char *path, const tk_pack_header *h,
                               int64_t *entries);

/* Parses the len bytes of a pack (name names it in messages) into *out:
 * all or nothing. Fails with TK_ERR_CACHE "pack: NAME:LINE: reason" for a
 * missing or newer header ("pack format version N is newer than this
 * library's 1"), a header field missing or out of order, a truncated file
 * (a line without its newline, no end marker), a checksum or row-count
 * mismatch, a CR or NUL byte, a bad escape, an unknown op, an empty name,
 * a time that is not a finite plain decimal >= 0, a negative count, a key
 * listed twice, or anything after the end marker. *out is set only on
 * success; free it with tk_pack_free. */
tk_status tk_pack_parse(const char *bytes, size_t len, const char *name, tk_pack **out);

/* tk_pack_parse of the file at path (at most 64 MiB). */
tk_status tk_pack_read(const char *path, tk_pack **out);

/* NULL is a no-op. */
void tk_pack_free(tk_pack *p);

#endif
