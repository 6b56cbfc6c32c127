/* store.c: the digit store, one file of pi's digits shared by all tasks. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "store.h"
#include "storecheck.h"
#include "storesum.h"

/* How often a read starts over when the store changes under it. */
#define STORE_TRIES 3

int
store_check_path(const char *path, char *out, size_t len)
{
	int n = snprintf(out, len, "%s.check", path);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Opens the store, lets the record check up to len bytes from first, and
 * fills v. Returns 0, or -1 if the store cannot be opened (logged).
 */
static int
store_look(const char *path, long long first, long long len,
	   struct store_view *v)
{
	struct storecheck_file f;
	int i;

	for (i = 0; i < STORE_TRIES; i++) {
		if (storecheck_open(&f, path) == -1)
			return -1;
		if (len > 0)
			storecheck_servable(&f, first, len);
		storecheck_view(v);
		if (storecheck_close(&f))
			break;
	}
	return 0;
}

int
store_view(const char *path, struct store_view *v)
{
	return store_look(path, 0, 0, v);
}

int
store_verify(const char *path, struct store_view *v)
{
	return store_look(path, 0, LLONG_MAX, v);
}

/* Microseconds of CLOCK_MONOTONIC, to say how long the start took. */
static long long
store_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int
store_check_start(const char *path, struct store_view *v)
{
	long long t0 = store_now_us();

	if (store_view(path, v) == -1)
		return -1;
	switch (v->state) {
	case STORE_NONE:
		log_info("digit store %s: none yet", path);
		break;
	case STORE_SOUND:
		log_info("digit store %s: %lld decimals; its check file "
			 "matches (checked in %lld us; each block is checked "
			 "when first read)",
			 path, v->bytes - 1, store_now_us() - t0);
		break;
	default:
		log_warn("digit store %s: %s; no decimal past %lld is served "
			 "until the worker has rebuilt it",
			 path, v->why, v->intact > 1 ? v->intact - 1 : 0);
		break;
	}
	return 0;
}

long long
store_check_prefix(const char *path, long long bytes)
{
	struct storecheck_file f;
	long long got = 0;
	int i;

	for (i = 0; i < STORE_TRIES; i++) {
		if (storecheck_open(&f, path) == -1)
			return -1;
		got = storecheck_servable(&f, 0, bytes);
		if (storecheck_close(&f))
			break;
	}
	return got;
}

long long
store_decimals(const char *path)
{
	struct store_view v;

	if (store_view(path, &v) == -1)
		return -1;
	return v.intact > 0 ? v.intact - 1 : 0;
}

/* Reads len bytes at off from fd into out. Returns 0, or -1 (logged). */
static int
store_pread(int fd, const char *path, char *out, size_t len, long long off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, out + done, len - done, (off_t)off + (off_t)done);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("digit store: reading %s: %s", path,
				n == 0 ? "file shrank" : strerror(errno));
			return -1;
		}
		done += (size_t)n;
	}
	return 0;
}

/*
 * Reads up to max bytes from byte offset, as far as they may be served,
 * into out; sets *size to the file's size. Reads again from a fresh open
 * if the store changed meanwhile. Returns how many bytes, or -1 (logged).
 */
static long long
store_read_checked(const char *path, long long offset, size_t max, char *out,
		   long long *size)
{
	struct storecheck_file f;
	long long got = -1;
	int i;

	*size = 0;
	for (i = 0; i < STORE_TRIES; i++) {
		if (storecheck_open(&f, path) == -1)
			return -1;
		*size = f.fd != -1 ? (long long)f.st.st_size : 0;
		got = offset < 0
			  ? 0
			  : storecheck_servable(&f, offset, (long long)max);
		if (got > 0 &&
		    store_pread(f.fd, path, out, (size_t)got, offset) == -1)
			got = -1;
		if (storecheck_close(&f))
			return got;
	}
	log_warn("digit store: %s changed %d times while it was read", path,
		 STORE_TRIES);
	return -1;
}

int
store_read(const char *path, long long first, size_t count, char *out)
{
	long long size;

	if (first < 1)
		return -1;
	return store_read_checked(path, first, count, out, &size) ==
		       (long long)count
		   ? 0
		   : -1;
}

long long
store_read_at(const char *path, long long offset, size_t max, char *out,
	      long long *size)
{
	return store_read_checked(path, offset, max, out, size);
}

int
store_digit(const char *path, long long n)
{
	char c;

	if (store_read(path, n, 1, &c) == -1 || c < '0' || c > '9')
		return -1;
	return c - '0';
}

/* Writes all of p[0..len) to fd. Returns 0 or -1 with errno set. */
static int
store_write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len > (1 << 24) ? (1 << 24) : len);

		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Says what a failed write means for a person running the service. */
static void
store_explain(int e, const char *what, char *err, size_t errlen)
{
	const char *hint = "";

	if (e == ENOSPC || e == EDQUOT)
		hint = " Free disk space, then retry the task.";
	else if (e == EFBIG)
		hint = " A file size limit on the worker or its file system "
		       "is too small for the digits; raise it, then retry "
		       "the task.";
	else if (e == EACCES || e == EPERM || e == EROFS)
		hint = " Check that the worker may write to its data "
		       "directory, then retry the task.";
	snprintf(err, errlen, "Could not save the digits (%s: %s).%s", what,
		 strerror(e), hint);
}

/*
 * Writes a then b to a new file tmp and flushes it to disk. Returns 0, or
 * -1 with a sentence in err (tmp may be left; the caller removes it).
 */
static int
store_write_file(const char *tmp, const char *a, size_t alen, const char *b,
		 size_t blen, char *err, size_t errlen)
{
	int fd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		store_explain(errno, "creating a temporary file", err, errlen);
		return -1;
	}
	if (store_write_all(fd, a, alen) == -1 ||
	    store_write_all(fd, b, blen) == -1) {
		store_explain(errno, "writing", err, errlen);
		close(fd);
		return -1;
	}
	if (fsync(fd) == -1) {
		store_explain(errno, "flushing to disk", err, errlen);
		close(fd);
		return -1;
	}
	if (close(fd) == -1) {
		store_explain(errno, "closing", err, errlen);
		return -1;
	}
	return 0;
}

/* Makes the check file's text for "3" and decimals[0..count) in text.
 * Returns 0, or -1 if memory ran out. */
static int
store_make_check(const char *decimals, size_t count, struct buf *text)
{
	struct storesum_maker m;
	struct storesum sum;
	int rc = -1;

	if (storesum_begin(&m, &sum, (long long)count + 1, STORESUM_BLOCK) ==
	    -1)
		return -1;
	storesum_add(&m, "3", 1);
	storesum_add(&m, decimals, count);
	if (storesum_end(&m) == 0 && storesum_format(&sum, text) == 0)
		rc = 0;
	storesum_free(&sum);
	return rc;
}

int
store_write(const char *path, const char *decimals, size_t count, char *err,
	    size_t errlen)
{
	char tmp[PATH_MAX], check[PATH_MAX], checktmp[PATH_MAX], dir[PATH_MAX];
	struct buf text = { 0 };
	const char *d;
	int dfd = -1, rc = -1, n, renamed = 0;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp) ||
	    store_check_path(path, check, sizeof(check)) == -1 ||
	    snprintf(checktmp, sizeof(checktmp), "%s.tmp.%ld", check,
		     (long)getpid()) >= (int)sizeof(checktmp) ||
	    snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen,
			 "Could not save the digits: the path "
			 "of the digit store is too long.");
		return -1;
	}
	/* The check is made from the digits in memory, the very bytes that
	 * are written: about 0.45 s at 10^8 decimals, most of it the
	 * SHA-256. */
	if (store_make_check(decimals, count, &text) == -1) {
		snprintf(err, errlen,
			 "Could not save the digits: out of memory making "
			 "their check.");
		goto out;
	}
	if (store_write_file(tmp, "3", 1, decimals, count, err, errlen) == -1 ||
	    store_write_file(checktmp, text.data, text.len, "", 0, err,
			     errlen) == -1)
		goto out;
	/*
	 * The store first: if the check file's rename then fails, or the
	 * process dies between the two, the new store is read against the
	 * old check file, which covers its first blocks (the digits of pi
	 * do not change), and the worker rebuilds the pair. The other order
	 * would leave a failed write (an immutable store) with a check file
	 * for digits the store does not have.
	 */
	if (rename(tmp, path) == -1) {
		store_explain(errno, "replacing the store", err, errlen);
		goto out;
	}
	renamed = 1;
	if (rename(checktmp, check) == -1) {
		store_explain(errno, "replacing the store's check file", err,
			      errlen);
		goto out;
	}
	/* The renames are only durable once the directory is on disk; the
	 * new store is in place either way, so a failure here is only
	 * logged. */
	d = dirname(dir);
	if ((dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		log_warn("digit store: opening %s to flush the rename: %s", d,
			 strerror(errno));
	else {
		if (fsync(dfd) == -1)
			log_warn("digit store: fsync of %s: %s", d,
				 strerror(errno));
		close(dfd);
	}
	rc = 0;
out:
	if (rc == -1) {
		if (!renamed)
			unlink(tmp);
		unlink(checktmp);
	}
	buf_free(&text);
	return rc;
}
