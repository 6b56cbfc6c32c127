/* storesum.c: the digit store's check file: a CRC-32C for each block of the
 * store, its size and its SHA-256, in a text file beside it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "storesum.h"

#define STORESUM_MAGIC "nthpi digit store check 1"
/* "end " and 8 hex digits and a newline. */
#define STORESUM_END_LEN 13

/* Writes a phrase into why. */
static void
storesum_why(char *why, size_t whylen, const char *what)
{
	snprintf(why, whylen, "%s", what);
}

int
storesum_begin(struct storesum_maker *m, struct storesum *sum, long long bytes,
	       long long block)
{
	memset(m, 0, sizeof(*m));
	memset(sum, 0, sizeof(*sum));
	if (bytes < 1 || block < STORESUM_BLOCK_MIN ||
	    block > STORESUM_BLOCK_MAX || (block & (block - 1)) != 0)
		return -1;
	sum->bytes = bytes;
	sum->block = block;
	sum->nblocks = (bytes + block - 1) / block;
	if ((sum->crc = calloc((size_t)sum->nblocks, sizeof(*sum->crc))) ==
	    NULL) {
		memset(sum, 0, sizeof(*sum));
		return -1;
	}
	m->sum = sum;
	sha256_init(&m->sha);
	return 0;
}

void
storesum_add(struct storesum_maker *m, const void *data, size_t len)
{
	struct storesum *sum = m->sum;
	const char *p = data;
	size_t take;
	long long room;

	sha256_update(&m->sha, data, len);
	while (len > 0 && m->at < sum->bytes) {
		room = sum->block - m->at % sum->block;
		take = (unsigned long long)room < len ? (size_t)room : len;
		m->part = crc32c(m->part, p, take);
		m->at += (long long)take;
		p += take;
		len -= take;
		/* A block is done at its end or at the store's. */
		if (m->at % sum->block == 0 || m->at == sum->bytes) {
			sum->crc[(m->at - 1) / sum->block] = m->part;
			m->part = 0;
		}
	}
	/* Bytes past the size given are counted, so that storesum_end sees
	 * them. */
	m->at += (long long)len;
}

int
storesum_end(struct storesum_maker *m)
{
	sha256_final(&m->sha, m->sum->sha256);
	return m->at == m->sum->bytes ? 0 : -1;
}

int
storesum_format(const struct storesum *sum, struct buf *b)
{
	char hex[SHA256_HEX_LEN + 1];
	size_t start = b->len;
	long long i;

	sha256_hex(sum->sha256, hex);
	buf_printf(b,
		   STORESUM_MAGIC "\nbytes %lld\nblock %lld\nsha256 %s\n"
				  "blocks %lld\n",
		   sum->bytes, sum->block, hex, sum->nblocks);
	for (i = 0; i < sum->nblocks; i++)
		buf_printf(b, "%08x\n", (unsigned)sum->crc[i]);
	if (b->failed)
		return -1;
	return buf_printf(b, "end %08x\n",
			  (unsigned)crc32c(0, b->data + start, b->len - start));
}

/* Reads exactly n hex digits at p into *out. Returns 0 or -1. */
static int
storesum_hex(const char *p, int n, uint32_t *out)
{
	uint32_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		char c = p[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint32_t)(c - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/*
 * Takes the next line from *p (before lim) if it is "key value": points
 * *val at the value and *vlen at its length, and moves *p past the line.
 * With key NULL the whole line is the value. Returns 0 or -1.
 */
static int
storesum_line(const char **p, const char *lim, const char *key,
	      const char **val, size_t *vlen)
{
	const char *nl = memchr(*p, '\n', (size_t)(lim - *p));
	size_t klen = key != NULL ? strlen(key) : 0;

	if (nl == NULL)
		return -1;
	if (key != NULL && ((size_t)(nl - *p) <= klen + 1 ||
			    memcmp(*p, key, klen) != 0 || (*p)[klen] != ' '))
		return -1;
	*val = *p + (key != NULL ? klen + 1 : 0);
	*vlen = (size_t)(nl - *val);
	*p = nl + 1;
	return 0;
}

/* Reads a whole number of at most 18 digits. Returns 0 or -1. */
static int
storesum_number(const char *s, size_t len, long long *out)
{
	long long v = 0;
	size_t i;

	if (len == 0 || len > 18)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

/* Reads the header fields into sum (no CRCs yet). Returns 0 or -1. */
static int
storesum_header(struct storesum *sum, const char **p, const char *lim)
{
	const char *v;
	size_t vl;
	long long blocks;
	uint32_t w;
	int i;

	if (storesum_line(p, lim, NULL, &v, &vl) == -1 ||
	    vl != strlen(STORESUM_MAGIC) || memcmp(v, STORESUM_MAGIC, vl) != 0)
		return -1;
	if (storesum_line(p, lim, "bytes", &v, &vl) == -1 ||
	    storesum_number(v, vl, &sum->bytes) == -1 || sum->bytes < 1)
		return -1;
	if (storesum_line(p, lim, "block", &v, &vl) == -1 ||
	    storesum_number(v, vl, &sum->block) == -1 ||
	    sum->block < STORESUM_BLOCK_MIN ||
	    sum->block > STORESUM_BLOCK_MAX ||
	    (sum->block & (sum->block - 1)) != 0)
		return -1;
	if (storesum_line(p, lim, "sha256", &v, &vl) == -1 ||
	    vl != SHA256_HEX_LEN)
		return -1;
	for (i = 0; i < SHA256_LEN; i++) {
		if (storesum_hex(v + 2 * i, 2, &w) == -1)
			return -1;
		sum->sha256[i] = (unsigned char)w;
	}
	if (storesum_line(p, lim, "blocks", &v, &vl) == -1 ||
	    storesum_number(v, vl, &blocks) == -1 ||
	    blocks != (sum->bytes + sum->block - 1) / sum->block)
		return -1;
	sum->nblocks = blocks;
	return 0;
}

int
storesum_parse(struct storesum *sum, const char *text, size_t len, char *why,
	       size_t whylen)
{
	const char *p = text, *lim, *v;
	size_t vl;
	uint32_t want;
	long long i;

	memset(sum, 0, sizeof(*sum));
	/* The last line first: it says whether the rest is whole. */
	if (len < STORESUM_END_LEN || text[len - 1] != '\n' ||
	    memcmp(text + len - STORESUM_END_LEN, "end ", 4) != 0 ||
	    (len > STORESUM_END_LEN &&
	     text[len - STORESUM_END_LEN - 1] != '\n') ||
	    storesum_hex(text + len - STORESUM_END_LEN + 4, 8, &want) == -1) {
		storesum_why(why, whylen, "it is cut short or is not one");
		return -1;
	}
	lim = text + len - STORESUM_END_LEN;
	if (crc32c(0, text, (size_t)(lim - text)) != want) {
		storesum_why(why, whylen, "its own check does not match");
		return -1;
	}
	if (storesum_header(sum, &p, lim) == -1) {
		storesum_why(why, whylen,
			     "its header is not one this version reads");
		goto bad;
	}
	/* Each CRC line is 9 bytes: check the count before allocating. */
	if ((long long)(lim - p) != sum->nblocks * 9 ||
	    (sum->crc = calloc((size_t)sum->nblocks, sizeof(*sum->crc))) ==
		NULL) {
		storesum_why(why, whylen,
			     "its lines of CRCs do not match its header");
		goto bad;
	}
	for (i = 0; i < sum->nblocks; i++)
		if (storesum_line(&p, lim, NULL, &v, &vl) == -1 || vl != 8 ||
		    storesum_hex(v, 8, &sum->crc[i]) == -1) {
			storesum_why(why, whylen,
				     "a line of its CRCs is not one");
			goto bad;
		}
	return 0;
bad:
	storesum_free(sum);
	return -1;
}

int
storesum_load(struct storesum *sum, const char *path, char *why, size_t whylen)
{
	struct stat st;
	char *text = NULL;
	size_t done = 0;
	ssize_t n = 0;
	int fd, rc = -1;

	memset(sum, 0, sizeof(*sum));
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 1;
		snprintf(why, whylen, "it cannot be opened (%s)",
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(why, whylen, "it cannot be read (%s)",
			 strerror(errno));
		goto out;
	}
	if (st.st_size > STORESUM_FILE_MAX) {
		storesum_why(why, whylen, "it is too large to be one");
		goto out;
	}
	if ((text = malloc((size_t)st.st_size + 1)) == NULL) {
		storesum_why(why, whylen, "there is no memory to read it");
		goto out;
	}
	while (done < (size_t)st.st_size) {
		n = read(fd, text + done, (size_t)st.st_size - done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		done += (size_t)n;
	}
	if (done < (size_t)st.st_size) {
		snprintf(why, whylen, "it cannot be read (%s)",
			 n == 0 ? "it shrank" : strerror(errno));
		goto out;
	}
	rc = storesum_parse(sum, text, done, why, whylen);
out:
	free(text);
	close(fd);
	return rc;
}

void
storesum_block_range(const struct storesum *sum, long long i, long long *off,
		     long long *len)
{
	*off = i * sum->block;
	*len = sum->bytes - *off < sum->block ? sum->bytes - *off : sum->block;
}

void
storesum_free(struct storesum *sum)
{
	free(sum->crc);
	memset(sum, 0, sizeof(*sum));
}
