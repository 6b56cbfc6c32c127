/* storesum.h: the digit store's check file: a CRC-32C for each block of the
 * store, its size and its SHA-256, in a text file beside it. */
#ifndef NTHPI_STORESUM_H
#define NTHPI_STORESUM_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sha256.h"

/*
 * The file (PATH.check beside the store at PATH) is text, one field a line:
 *
 *   nthpi digit store check 1
 *   bytes 1000001                 the store's size: "3" and 10^6 decimals
 *   block 65536                   bytes a block; the last may be shorter
 *   sha256 <64 hex digits>        of the whole store, as sha256sum gives it
 *   blocks 16                     how many lines of CRCs follow
 *   <8 hex digits>                CRC-32C of block 0 (bytes 0..65535)
 *   ...                           one line a block, in order
 *   end <8 hex digits>            CRC-32C of every byte above this line
 *
 * The last line lets a reader tell a whole check file from a damaged or cut
 * one. The programs check the store block by block against the CRCs, which
 * cover every byte; the SHA-256 ties the pair together for a person or a
 * tool (sha256sum), and at 10^k decimals equals the published hash.
 */

/* The block size store_write uses: 1,526 blocks at 10^8 decimals. */
#define STORESUM_BLOCK 65536
/* The block sizes a reader takes (powers of two). */
#define STORESUM_BLOCK_MIN 4096
#define STORESUM_BLOCK_MAX (16 << 20)
/* The largest check file a reader takes: 10^9 decimals in blocks of 4 KiB
 * need about 2.2 MB. */
#define STORESUM_FILE_MAX (8 << 20)

struct storesum {
	long long bytes;   /* the store's size */
	long long block;   /* bytes a block */
	long long nblocks; /* (bytes + block - 1) / block */
	unsigned char sha256[SHA256_LEN];
	uint32_t *crc; /* nblocks of them; owned, freed by storesum_free */
};

/* Making one from the store's bytes as they are written, in order. */
struct storesum_maker {
	struct storesum *sum;
	struct sha256 sha;
	long long at;  /* bytes added so far */
	uint32_t part; /* CRC of the block being filled so far */
};

/*
 * Starts a check of a store of bytes bytes in blocks of block bytes,
 * made in sum by storesum_add and storesum_end. Returns 0, or -1 if
 * memory ran out or the sizes are out of range (sum is then empty).
 */
int storesum_begin(struct storesum_maker *m, struct storesum *sum,
		   long long bytes, long long block);

/* Adds the next len bytes of the store. */
void storesum_add(struct storesum_maker *m, const void *data, size_t len);

/* Ends the check. Returns 0, or -1 if the bytes added were not the number
 * storesum_begin was given. */
int storesum_end(struct storesum_maker *m);

/* Appends the check file's text to b. Returns 0, or -1 if memory ran out. */
int storesum_format(const struct storesum *sum, struct buf *b);

/*
 * Reads a check file's text into sum. Returns 0, or -1 with a phrase in why
 * that says what is wrong with it ("it is cut short", "its own check does
 * not match"); sum is then empty.
 */
int storesum_parse(struct storesum *sum, const char *text, size_t len,
		   char *why, size_t whylen);

/*
 * Reads the check file at path into sum. Returns 0; 1 if there is none;
 * -1 with a phrase in why if it cannot be read or is not a whole check
 * file (sum is then empty).
 */
int storesum_load(struct storesum *sum, const char *path, char *why,
		  size_t whylen);

/* Sets *off and *len to the bytes of block i (0 <= i < nblocks). */
void storesum_block_range(const struct storesum *sum, long long i,
			  long long *off, long long *len);

/* Frees sum's CRCs and empties it. Accepts an empty one. */
void storesum_free(struct storesum *sum);

#endif
