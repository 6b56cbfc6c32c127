/* utf8.h: recognising well-formed UTF-8 sequences for the escaping writers. */
#ifndef NTHPI_UTF8_H
#define NTHPI_UTF8_H

#include <stddef.h>

/* The replacement character U+FFFD, written for each ill-formed byte. */
#define UTF8_REPLACEMENT "\xef\xbf\xbd"

/*
 * Looks at the multi-byte sequence starting at s (s[0] >= 0x80), with avail
 * bytes available. Returns its length (2 to 4) if it is well-formed UTF-8
 * (no overlongs, no surrogates, nothing above U+10FFFF), or 0.
 */
size_t utf8_sequence(const unsigned char *s, size_t avail);

#endif
