/* cache_text.h: the text rules the portable files share (the export file
 * of cache_export.c / cache_import.c and the tuned pack of pack_write.c /
 * pack_read.c): tab-separated fields with \\ \t \n \r escaped, plain
 * decimal numbers, a running row count and FNV-1a checksum over the record
 * lines, and a file that appears complete or not at all. Not for use
 * outside cache/. */
#ifndef TK_CACHE_TEXT_H
#define TK_CACHE_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "runtime/status.h"

/* The 64-bit FNV-1a checksum of the record lines, newlines included; fold
 * n more bytes into h (start from TK_CACHE_FNV_BASIS). */
#define TK_CACHE_FNV_BASIS 0xcbf29ce484222325ull
static inline uint64_t tk_cache_fnv1a(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
  return h;
}

/* A file being written: every byte of the record lines goes through it,
 * which counts the lines and keeps their checksum for the end marker. */
typedef struct {
  FILE *f;
  int64_t rows;
  uint64_t hash;
} tk_cache_out;

void tk_cache_out_bytes(tk_cache_out *o, const char *s, size_t n);
void tk_cache_out_str(tk_cache_out *o, const char *s);
/* Formatted text of at most 63 bytes (numbers). */
void tk_cache_out_printf(tk_cache_out *o, const char *fmt, ...)
    TK_PRINTF(2, 3);
/* Starts a record line of type t (a letter or a word), counting it. */
void tk_cache_out_record(tk_cache_out *o, const char *t);
/* A tab and s with backslash, tab, newline and CR escaped. */
void tk_cache_out_field(tk_cache_out *o, const char *s);
/* A tab and x exactly (17 significant digits), "nan" for unknown. */
void tk_cache_out_double(tk_cache_out *o, double x);
/* The end marker "E<TAB>rows<TAB>checksum" (not itself counted). */
void tk_cache_out_end(tk_cache_out *o);

/* Writes path through write(f, user) into path.tmp.PID, then renames it,
 * so the file appears complete or not at all; a failed write removes the
 * temporary file. what names the operation in messages ("export"). */
tk_status tk_cache_write_file(const char *path, const char *what,
                              tk_status (*write)(FILE *f, void *user), void *user);

/* Undoes the field escapes in place; 0 on a bad escape (known: \\ \t \n \r). */
int tk_cache_unescape(char *s);

/* Splits line at tabs into f (at most max fields) and unescapes each in
 * place: the number of fields, -1 for more than max, -2 for a bad escape. */
int tk_cache_split_fields(char *line, char **f, int max);

/* An integer as the writer writes it (-?[0-9]+, no '+', no spaces). */
int tk_cache_parse_i64(const char *s, int64_t *v);

/* A finite plain decimal (-?d[.d][e[+-]d]), or "nan" (NAN) when nan_ok. */
int tk_cache_parse_double(const char *s, int nan_ok, double *v);

#endif
