/* sha256.h: SHA-256 (FIPS 180-4), to check digits against published facts. */
#ifndef NTHPI_SHA256_H
#define NTHPI_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_HEX_LEN 64

struct sha256 {
	uint32_t h[8];
	uint64_t total; /* bytes hashed so far */
	unsigned char block[64];
	size_t fill; /* bytes waiting in block */
};

/* Starts a new digest in s. */
void sha256_init(struct sha256 *s);

/* Adds len bytes of data to the digest. */
void sha256_update(struct sha256 *s, const void *data, size_t len);

/* Ends the digest and writes its 32 bytes to out; s must be started again
 * before it is used once more. */
void sha256_final(struct sha256 *s, unsigned char out[SHA256_LEN]);

/* Writes the digest as 64 lower-case hex digits and a NUL to hex. */
void sha256_hex(const unsigned char digest[SHA256_LEN],
		char hex[SHA256_HEX_LEN + 1]);

#endif
