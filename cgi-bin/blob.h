/* blob.h: immutable bytes that threads share, freed with their last user. */
#ifndef NTHPI_BLOB_H
#define NTHPI_BLOB_H

#include <stdatomic.h>
#include <stddef.h>

struct blob {
	atomic_int refs;
	size_t len;
	char data[]; /* len bytes and a NUL */
};

/* Copies len bytes of p into a new blob with one reference. Returns NULL if
 * memory ran out. */
struct blob *blob_new(const void *p, size_t len);

/* Takes one more reference to b and returns b. */
struct blob *blob_ref(struct blob *b);

/* Drops one reference; the last frees b. Accepts NULL. */
void blob_unref(struct blob *b);

#endif
