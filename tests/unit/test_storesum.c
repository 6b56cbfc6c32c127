/* test_storesum.c: the digit store's check file (format, made and read) and
 * the CRC-32C it holds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "crc32c.h"
#include "storesum.h"
#include "t.h"

/* The check value of CRC-32C (RFC 3720, B.4): "123456789". */
static void
test_crc32c_known_values(void)
{
	unsigned char zeros[32] = { 0 }, ones[32];

	memset(ones, 0xff, sizeof(ones));
	T_CHECK(crc32c(0, "123456789", 9) == 0xe3069283u,
		"CRC-32C of \"123456789\" is e3069283");
	T_CHECK(crc32c_portable(0, "123456789", 9) == 0xe3069283u,
		"... by the table too");
	/* RFC 3720, B.4: 32 bytes of zeros, 32 of ones. */
	T_CHECK(crc32c(0, zeros, 32) == 0x8a9136aau &&
		    crc32c(0, ones, 32) == 0x62a8ab43u,
		"CRC-32C of 32 zeros and of 32 0xff bytes are RFC 3720's");
	T_CHECK(crc32c(0, "", 0) == 0, "CRC-32C of nothing is 0");
	T_DIAG("crc32c uses the %s",
	       crc32c_hardware() ? "CPU's instruction" : "table");
}

/* Both ways agree at every length and alignment, and a CRC continues. */
static void
test_crc32c_ways_agree(void)
{
	unsigned char data[1100];
	int ok = 1, cont = 1;
	size_t i, off, len;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (unsigned char)(i * 131 + 7);
	for (off = 0; off < 9; off++)
		for (len = 0; len + off <= sizeof(data); len += 37) {
			uint32_t a = crc32c(0, data + off, len);

			ok &= a == crc32c_portable(0, data + off, len);
			cont &=
			    a == crc32c(crc32c(0, data + off, len / 3),
					data + off + len / 3, len - len / 3);
		}
	T_CHECK(ok, "the instruction and the table give the same CRCs");
	T_CHECK(cont, "a CRC continued over two parts is the CRC of both");
}

/* Makes a check of "3" and n decimals (made up) in blocks of block. */
static int
make(struct storesum *sum, const char *digits, long long bytes, long long block)
{
	struct storesum_maker m;

	if (storesum_begin(&m, sum, bytes, block) == -1)
		return -1;
	/* In uneven pieces, as a writer may add them. */
	storesum_add(&m, digits, 1);
	storesum_add(&m, digits + 1, 5000);
	storesum_add(&m, digits + 5001, (size_t)(bytes - 5001));
	return storesum_end(&m);
}

static void
test_made_check(const char *digits, long long bytes)
{
	struct storesum sum;
	long long off, len;
	int ok = 1, i;

	if (!T_CHECK(make(&sum, digits, bytes, 4096) == 0,
		     "a check of %lld bytes in blocks of 4096 is made", bytes))
		return;
	T_CHECK(sum.nblocks == (bytes + 4095) / 4096 && sum.bytes == bytes,
		"it has one CRC a block (%lld)", sum.nblocks);
	for (i = 0; i < sum.nblocks; i++) {
		storesum_block_range(&sum, i, &off, &len);
		ok &= sum.crc[i] == crc32c(0, digits + off, (size_t)len);
	}
	T_CHECK(ok, "each block's CRC is the CRC-32C of its bytes");
	storesum_block_range(&sum, sum.nblocks - 1, &off, &len);
	T_CHECK(off + len == bytes && len == bytes % 4096,
		"the last block ends with the store (%lld bytes)", len);
	storesum_free(&sum);
	{
		struct storesum_maker m;

		storesum_begin(&m, &sum, bytes, 4096);
		storesum_add(&m, digits, (size_t)bytes - 1);
		T_CHECK(storesum_end(&m) == -1,
			"a check given fewer bytes than it was begun with "
			"fails");
		storesum_free(&sum);
	}
	T_CHECK(storesum_begin(&(struct storesum_maker){ 0 }, &sum, bytes,
			       3000) == -1,
		"a block size that is not a power of two is refused");
}

/* Writes the last line of the check file t[0..len) again for what is above
 * it, as a writer that meant the change would. */
static void
reseal(char *t, size_t len)
{
	char end[16];

	snprintf(end, sizeof(end), "end %08x\n",
		 (unsigned)crc32c(0, t, len - 13));
	memcpy(t + len - 13, end, 13);
}

/* Formats, parses back, and damages the text in the ways a file can be. */
static void
test_text(const char *digits, long long bytes)
{
	struct storesum sum, back;
	struct buf b = { 0 };
	char why[128], *t;
	int same;

	if (make(&sum, digits, bytes, 4096) == -1 ||
	    !T_CHECK(storesum_format(&sum, &b) == 0, "a check formats"))
		return;
	T_CHECK(strncmp(b.data,
			"nthpi digit store check 1\nbytes 10001\n"
			"block 4096\nsha256 ",
			56) == 0,
		"its text starts with the version, size, block and SHA-256");
	T_CHECK(strstr(b.data, "\nblocks 3\n") != NULL &&
		    strncmp(b.data + b.len - 13, "end ", 4) == 0,
		"... then the count of blocks, and ends with its own CRC");
	same = storesum_parse(&back, b.data, b.len, why, sizeof(why)) == 0 &&
	       back.bytes == sum.bytes && back.block == sum.block &&
	       back.nblocks == sum.nblocks &&
	       memcmp(back.sha256, sum.sha256, SHA256_LEN) == 0 &&
	       memcmp(back.crc, sum.crc, 3 * sizeof(*sum.crc)) == 0;
	T_CHECK(same, "it parses back to the same check");
	storesum_free(&back);

	t = malloc(b.len + 1);
	memcpy(t, b.data, b.len);
	T_CHECK(storesum_parse(&back, t, b.len - 20, why, sizeof(why)) == -1,
		"a check file cut short is refused: %s", why);
	t[b.len - 20] ^= 1;
	T_CHECK(storesum_parse(&back, t, b.len, why, sizeof(why)) == -1 &&
		    strstr(why, "own check") != NULL,
		"a changed CRC line is refused by the file's own check: %s",
		why);
	memcpy(t, b.data, b.len);
	t[32] = '9'; /* bytes 10001 -> 90001, sealed again */
	reseal(t, b.len);
	T_CHECK(storesum_parse(&back, t, b.len, why, sizeof(why)) == -1 &&
		    strstr(why, "header") != NULL,
		"a whole file whose size does not fit its count of blocks is "
		"refused: %s",
		why);
	memcpy(t, b.data, b.len);
	memcpy(t + 44, "2048", 4); /* block 4096 -> 2048, sealed again */
	reseal(t, b.len);
	T_CHECK(storesum_parse(&back, t, b.len, why, sizeof(why)) == -1,
		"a block size below 4096 is refused");
	T_CHECK(storesum_parse(&back, "end 00000000\n", 13, why, sizeof(why)) ==
		    -1,
		"a file of its last line alone is refused: %s", why);
	T_CHECK(storesum_parse(&back, "", 0, why, sizeof(why)) == -1,
		"an empty file is refused");
	free(t);
	buf_free(&b);
	storesum_free(&sum);
}

int
main(void)
{
	char *digits = malloc(10001);
	long long i;

	digits[0] = '3';
	for (i = 1; i < 10001; i++)
		digits[i] = (char)('0' + (i * 7 + i / 13) % 10);
	test_crc32c_known_values();
	test_crc32c_ways_agree();
	test_made_check(digits, 10001);
	test_text(digits, 10001);
	free(digits);
	return T_EXIT();
}
