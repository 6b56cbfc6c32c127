/* buf.h: a growable byte buffer for building output before one write. */
#ifndef NTHPI_BUF_H
#define NTHPI_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated when len > 0 or after any append */
	size_t len;
	size_t cap;
	int failed; /* set once an allocation failed; later appends do nothing */
};

/* Appends len bytes. Returns 0, or -1 if memory ran out (buf->failed). */
int buf_append(struct buf *b, const void *p, size_t len);

/* Appends a NUL-terminated string. Returns as buf_append. */
int buf_puts(struct buf *b, const char *s);

/* Appends formatted text. Returns as buf_append. */
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Empties the buffer but keeps its memory. */
void buf_reset(struct buf *b);

/* Frees the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

#endif
