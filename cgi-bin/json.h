/* json.h: writing JSON, with one escaping function for strings. */
#ifndef NTHPI_JSON_H
#define NTHPI_JSON_H

#include <stddef.h>

#include "buf.h"

/*
 * Appends s as a JSON string, quotes included. Escapes " \ and control
 * characters, and < > & U+2028 U+2029 so the text is also safe inside
 * HTML; ill-formed UTF-8 becomes U+FFFD. NULL appends null.
 */
void json_string(struct buf *b, const char *s);

/* As json_string for the len bytes at s (NULs become \u0000). */
void json_string_len(struct buf *b, const char *s, size_t len);

/* Appends a whole number. */
void json_int(struct buf *b, long long v);

/* Appends a finite number with up to 4 significant digits; else 0. */
void json_fraction(struct buf *b, double v);

/*
 * Appends JSON text exactly as given. Only for literals written in this
 * program ("{", "\"tasks\":[", "null"), never for data.
 */
void json_raw_unescaped(struct buf *b, const char *text);

#endif
