/* searchidx.c: builds the search index beside the digit store, and tells
 * whether the one there fits the store. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "searchidx.h"
#include "store.h"
#include "storesum.h"

/* The positions written in one pass over the store: bounds the memory the
 * pass dirties, whatever the store's size. */
#define SEARCHIDX_PASS_BYTES (256LL << 20)

int
searchidx_k(long long decimals)
{
	int d = 0;

	for (; decimals > 0; decimals /= 10)
		d++;
	d -= 2;
	if (d < 1)
		return 1;
	return d > SEARCHIDX_K_MAX ? SEARCHIDX_K_MAX : d;
}

uint32_t
searchidx_values(int k)
{
	uint32_t v = 1;

	while (k-- > 0)
		v *= 10;
	return v;
}

long long
searchidx_file_bytes(long long decimals)
{
	int k = searchidx_k(decimals);
	long long npos = decimals >= k ? decimals - k + 1 : 0;

	return SEARCHIDX_HEADER + 4LL * ((long long)searchidx_values(k) + 1) +
	       4LL * npos;
}

int
searchidx_paths(const char *store_path, char *out, size_t len, char *check,
		size_t checklen)
{
	size_t n = strlen(store_path);
	int w;

	if (n > 4 && strcmp(store_path + n - 4, ".txt") == 0)
		n -= 4;
	w = snprintf(out, len, "%.*s.idx", (int)n, store_path);
	if (w < 0 || (size_t)w >= len)
		return -1;
	if (check == NULL)
		return 0;
	w = snprintf(check, checklen, "%s.check", out);
	return w < 0 || (size_t)w >= checklen ? -1 : 0;
}

/* Reads the header of the index at path into h. Returns 0 or -1. */
static int
searchidx_read_header(const char *path, struct searchidx_header *h,
		      long long *size)
{
	struct stat st;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == 0 &&
	    pread(fd, h, sizeof(*h), 0) == (ssize_t)sizeof(*h)) {
		*size = (long long)st.st_size;
		rc = 0;
	}
	close(fd);
	return rc;
}

int
searchidx_fresh(const char *store_path)
{
	char idx[PATH_MAX], idxcheck[PATH_MAX], storecheck[PATH_MAX], why[200];
	struct storesum store = { 0 }, index = { 0 };
	struct searchidx_header h;
	long long size = 0;
	int fresh = 0;

	if (searchidx_paths(store_path, idx, sizeof(idx), idxcheck,
			    sizeof(idxcheck)) == -1 ||
	    store_check_path(store_path, storecheck, sizeof(storecheck)) == -1)
		return 0;
	if (searchidx_read_header(idx, &h, &size) == -1 ||
	    memcmp(h.magic, SEARCHIDX_MAGIC, sizeof(SEARCHIDX_MAGIC)) != 0)
		return 0;
	if (storesum_load(&store, storecheck, why, sizeof(why)) != 0 ||
	    storesum_load(&index, idxcheck, why, sizeof(why)) != 0)
		goto out;
	fresh = store.bytes == (long long)h.store_bytes &&
		memcmp(store.sha256, h.store_sha256, SHA256_LEN) == 0 &&
		index.bytes == size &&
		size == searchidx_file_bytes((long long)h.decimals);
out:
	storesum_free(&store);
	storesum_free(&index);
	return fresh;
}

/* Says what a failed write means, as the store's writer does. */
static void
searchidx_explain(int e, const char *what, char *err, size_t errlen)
{
	snprintf(err, errlen, "Could not build the search index (%s: %s).%s",
		 what, strerror(e),
		 e == ENOSPC || e == EDQUOT
		     ? " Free disk space; it is built again when the worker "
		       "starts."
		     : "");
}

/* Counts each k-digit value's positions in d (d[1..n] the decimals) into
 * counts[0..10^k). */
static void
searchidx_count(const char *d, long long n, int k, uint32_t *counts)
{
	uint32_t top = searchidx_values(k - 1), v = 0;
	long long p;

	for (p = 1; p < k; p++)
		v = v * 10 + (uint32_t)(d[p] - '0');
	/* v holds decimals p..p+k-2; each step adds one and drops one, with
	 * no division. */
	for (p = 1; p + k - 1 <= n; p++) {
		v = v * 10 + (uint32_t)(d[p + k - 1] - '0');
		counts[v]++;
		v -= (uint32_t)(d[p] - '0') * top;
	}
}

/*
 * Writes the positions of values [lo, hi) into pos, each at cursor[v],
 * which it moves on.
 */
static void
searchidx_place(const char *d, long long n, int k, uint32_t lo, uint32_t hi,
		uint32_t *cursor, uint32_t *pos)
{
	uint32_t top = searchidx_values(k - 1), v = 0;
	long long p;

	for (p = 1; p < k; p++)
		v = v * 10 + (uint32_t)(d[p] - '0');
	for (p = 1; p + k - 1 <= n; p++) {
		v = v * 10 + (uint32_t)(d[p + k - 1] - '0');
		if (v >= lo && v < hi)
			pos[cursor[v]++] = (uint32_t)p;
		v -= (uint32_t)(d[p] - '0') * top;
	}
}

/*
 * Fills the mapped index file at m (size bytes) for the store's bytes d
 * (d[0] the "3"). Returns 0, or -1 if memory ran out.
 */
static int
searchidx_fill(unsigned char *m, const char *d, long long n, int k)
{
	uint32_t nv = searchidx_values(k), *starts, *pos, *cursor, lo, hi;
	long long i;

	starts = (uint32_t *)(m + SEARCHIDX_HEADER);
	pos = starts + nv + 1;
	if ((cursor = calloc((size_t)nv + 1, sizeof(*cursor))) == NULL)
		return -1;
	if (n >= k)
		searchidx_count(d, n, k, cursor);
	starts[0] = 0;
	for (i = 0; i < nv; i++) {
		starts[i + 1] = starts[i] + cursor[i];
		cursor[i] = starts[i];
	}
	/* A pass takes the values whose positions fit in its share, then
	 * lets the kernel write them out, so that the dirty pages stay
	 * bounded even when the index is larger than RAM. */
	for (lo = 0; lo < nv && n >= k; lo = hi) {
		uint64_t begin = starts[lo];
		long long off, len;

		for (hi = lo + 1; hi < nv && (uint64_t)starts[hi + 1] - begin <=
						 SEARCHIDX_PASS_BYTES / 4;
		     hi++)
			;
		searchidx_place(d, n, k, lo, hi, cursor, pos);
		off = (long long)((unsigned char *)(pos + begin) - m) & ~4095LL;
		len =
		    (long long)((unsigned char *)(pos + starts[hi]) - m) - off;
		if (msync(m + off, (size_t)len, MS_SYNC) == 0)
			madvise(m + off, (size_t)len, MADV_DONTNEED);
	}
	free(cursor);
	return 0;
}

/* Writes text to a new file tmp and flushes it. Returns 0 or -1, errno
 * set. */
static int
searchidx_write_text(const char *tmp, const struct buf *text)
{
	size_t at = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd == -1)
		return -1;
	while (at < text->len) {
		ssize_t w = write(fd, text->data + at, text->len - at);

		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			int e = errno;

			close(fd);
			errno = e;
			return -1;
		}
		at += (size_t)w;
	}
	if (fsync(fd) == -1) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return close(fd);
}

/* Flushes the directory of path, so the renames in it last. */
static void
searchidx_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	int dfd;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return;
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) ==
	    -1)
		return;
	if (fsync(dfd) == -1)
		log_warn("search index: fsync of its directory: %s",
			 strerror(errno));
	close(dfd);
}

int
searchidx_build(const char *store_path, char *err, size_t errlen)
{
	char idx[PATH_MAX], idxcheck[PATH_MAX], storecheck[PATH_MAX];
	char tmp[PATH_MAX], checktmp[PATH_MAX], why[200];
	struct storesum store = { 0 }, sum = { 0 };
	struct storesum_maker mk;
	struct searchidx_header *h;
	struct buf text = { 0 };
	unsigned char *m = MAP_FAILED;
	const char *d = MAP_FAILED;
	long long n, size = 0;
	struct stat st;
	int sfd = -1, fd = -1, rc = -1, k, made = 0;

	if (searchidx_paths(store_path, idx, sizeof(idx), idxcheck,
			    sizeof(idxcheck)) == -1 ||
	    store_check_path(store_path, storecheck, sizeof(storecheck)) ==
		-1 ||
	    snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", idx, (long)getpid()) >=
		(int)sizeof(tmp) ||
	    snprintf(checktmp, sizeof(checktmp), "%s.tmp.%ld", idxcheck,
		     (long)getpid()) >= (int)sizeof(checktmp)) {
		snprintf(err, errlen,
			 "Could not build the search index: the path of the "
			 "digit store is too long.");
		return -1;
	}
	if (storesum_load(&store, storecheck, why, sizeof(why)) != 0) {
		snprintf(err, errlen,
			 "Could not build the search index: the digit store's "
			 "check file cannot be used (%s).",
			 store.bytes == 0 && why[0] ? why : "there is none");
		goto out;
	}
	if ((sfd = open(store_path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    fstat(sfd, &st) == -1) {
		searchidx_explain(errno, "opening the digit store", err,
				  errlen);
		goto out;
	}
	n = (long long)st.st_size - 1;
	/* Only a store that its check file covers whole, every block
	 * matching, is indexed: the index answers for every decimal. */
	if (n < 1 || (long long)st.st_size != store.bytes ||
	    n > SEARCHIDX_DECIMALS_MAX ||
	    store_check_prefix(store_path, store.bytes) != store.bytes) {
		snprintf(err, errlen,
			 "Could not build the search index: the digit store "
			 "is not whole and sound just now; it is built once "
			 "the store is.");
		goto out;
	}
	d = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, sfd, 0);
	if (d == MAP_FAILED) {
		searchidx_explain(errno, "mapping the digit store", err,
				  errlen);
		goto out;
	}
	madvise((void *)d, (size_t)st.st_size, MADV_SEQUENTIAL);
	k = searchidx_k(n);
	size = searchidx_file_bytes(n);
	fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		searchidx_explain(errno, "creating a temporary file", err,
				  errlen);
		goto out;
	}
	made = 1;
	/* posix_fallocate, not ftruncate: a full disk shows here, not as a
	 * SIGBUS while the mapping is written. */
	if ((errno = posix_fallocate(fd, 0, (off_t)size)) != 0) {
		searchidx_explain(errno, "making room for it", err, errlen);
		goto out;
	}
	m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED) {
		searchidx_explain(errno, "mapping it", err, errlen);
		goto out;
	}
	h = (struct searchidx_header *)m;
	memset(m, 0, SEARCHIDX_HEADER);
	memcpy(h->magic, SEARCHIDX_MAGIC, sizeof(SEARCHIDX_MAGIC));
	h->k = (uint32_t)k;
	h->decimals = (uint64_t)n;
	h->store_bytes = (uint64_t)store.bytes;
	memcpy(h->store_sha256, store.sha256, SHA256_LEN);
	if (searchidx_fill(m, d, n, k) == -1 ||
	    storesum_begin(&mk, &sum, size, STORESUM_BLOCK) == -1) {
		snprintf(err, errlen,
			 "Could not build the search index: out of memory.");
		goto out;
	}
	storesum_add(&mk, m, (size_t)size);
	if (storesum_end(&mk) == -1 || storesum_format(&sum, &text) == -1) {
		snprintf(err, errlen,
			 "Could not build the search index: out of memory.");
		goto out;
	}
	if (msync(m, (size_t)size, MS_SYNC) == -1 || fsync(fd) == -1) {
		searchidx_explain(errno, "flushing it to disk", err, errlen);
		goto out;
	}
	if (searchidx_write_text(checktmp, &text) == -1) {
		searchidx_explain(errno, "writing its check file", err, errlen);
		goto out;
	}
	/* The index first, as the store: with the old check file a new
	 * index is not taken (the sizes differ), never the other way. */
	if (rename(tmp, idx) == -1) {
		searchidx_explain(errno, "putting it in place", err, errlen);
		goto out;
	}
	made = 0;
	if (rename(checktmp, idxcheck) == -1) {
		searchidx_explain(errno, "putting its check file in place", err,
				  errlen);
		goto out;
	}
	searchidx_sync_dir(idx);
	rc = 0;
out:
	if (m != MAP_FAILED)
		munmap(m, (size_t)size);
	if (d != MAP_FAILED)
		munmap((void *)d, (size_t)st.st_size);
	if (fd != -1)
		close(fd);
	if (sfd != -1)
		close(sfd);
	if (made)
		unlink(tmp);
	if (rc == -1)
		unlink(checktmp);
	storesum_free(&store);
	storesum_free(&sum);
	buf_free(&text);
	return rc;
}
