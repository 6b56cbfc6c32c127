/* searchidx.h: the search index beside the digit store: where every string
 * of k digits starts, so that a string of digits is found without a scan. */
#ifndef NTHPI_SEARCHIDX_H
#define NTHPI_SEARCHIDX_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

/*
 * The file (PATH.idx beside the store at PATH.txt: pi-digits.idx), in the
 * machine's own byte order, since the programs that read it run where it
 * was written:
 *
 *   header, SEARCHIDX_HEADER bytes   struct searchidx_header, zero padded
 *   starts[10^k + 1]   uint32_t     starts[v]: where the positions of the
 *                                   k-digit value v begin; starts[10^k] is
 *                                   the number of positions
 *   positions[]        uint32_t     every decimal p from 1 to n - k + 1,
 *                                   grouped by the value of decimals
 *                                   p..p+k-1, ascending within a group
 *
 * k is the number of digits of n less 2, from 1 to 7: the starts then take
 * at most 0.4 bytes a decimal and the positions 4, 4.4 bytes a decimal in
 * all. Beside it, PATH.idx.check, in the store's check file format
 * (common/storesum.h), covers every byte of it; the header names the store
 * it was built from by size and SHA-256, so an index is only used with
 * that store.
 */

#define SEARCHIDX_MAGIC "nthpi search 1\n"
#define SEARCHIDX_HEADER 4096
#define SEARCHIDX_K_MAX 7
/* Positions are 32 bits: 4.29 * 10^9 decimals, past n_max's 10^9. */
#define SEARCHIDX_DECIMALS_MAX 4000000000LL

struct searchidx_header {
	char magic[16];
	uint32_t k;
	uint32_t zero;
	uint64_t decimals;    /* n: the store's decimals */
	uint64_t store_bytes; /* n + 1 */
	unsigned char store_sha256[SHA256_LEN];
};

/* The k an index of n decimals uses. */
int searchidx_k(long long decimals);

/* 10^k. */
uint32_t searchidx_values(int k);

/* The index file's size for n decimals. */
long long searchidx_file_bytes(long long decimals);

/*
 * Writes the index's path for the store at store_path into out ("X.txt"
 * gives "X.idx", anything else "X.idx" after the whole name), and if check
 * is not NULL its check file's path. Returns 0, or -1 if they do not fit.
 */
int searchidx_paths(const char *store_path, char *out, size_t len, char *check,
		    size_t checklen);

/*
 * Returns 1 if the index at store_path's index path was built from the
 * store as its check file describes it now (sizes and SHA-256 agree, and
 * the index's check file covers the whole index); 0 if not, or if either
 * is missing. Reads the two headers and the two check files, no more.
 */
int searchidx_fresh(const char *store_path);

/*
 * Builds the index of the store at store_path and writes it beside it,
 * with its check file, each to a temp file (PATH.tmp.PID) that is flushed
 * and renamed, the index first. Every block of the store is checked first;
 * only a whole, sound store is indexed. Memory: 4 * 10^k bytes for the
 * counts, and the positions are written in passes of at most 256 MiB
 * through a shared mapping of the file, so the index need not fit in RAM.
 * Returns 0, or -1 with a sentence in err (the temp files are removed).
 */
int searchidx_build(const char *store_path, char *err, size_t errlen);

#endif
