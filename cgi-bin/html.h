/* html.h: writing HTML, with one escaping function per output context. */
#ifndef NTHPI_HTML_H
#define NTHPI_HTML_H

#include <stddef.h>

#include "buf.h"

/*
 * Appends s as HTML text content: & < > " ' become character references,
 * control characters and ill-formed UTF-8 become U+FFFD. NULL appends
 * nothing.
 */
void html_text(struct buf *b, const char *s);

/* As html_text for the len bytes at s, which may hold NULs (replaced). */
void html_text_len(struct buf *b, const char *s, size_t len);

/*
 * Appends s for use inside a double-quoted attribute value: as html_text,
 * and tabs and line breaks become character references too.
 */
void html_attr(struct buf *b, const char *s);

/* Appends a whole number; digits and '-' need no escaping anywhere. */
void html_int(struct buf *b, long long v);

/*
 * Appends markup exactly as given. Only for string literals written in
 * this program, never for data.
 */
void html_raw_unescaped(struct buf *b, const char *markup);

#endif
