/* store.c: the digit store, one file of pi's digits shared by all tasks. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"

long long
store_decimals(const char *path)
{
	struct stat st;

	if (stat(path, &st) == -1) {
		if (errno == ENOENT)
			return 0;
		log_err("digit store: %s: %s", path, strerror(errno));
		return -1;
	}
	return st.st_size > 0 ? (long long)st.st_size - 1 : 0;
}

int
store_read(const char *path, long long first, size_t count, char *out)
{
	struct stat st;
	size_t done = 0;
	int fd, rc = -1;

	if (first < 1)
		return -1;
	/* Opened afresh each time: the worker replaces the file by rename,
	 * and a new open sees the new one. */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			log_err("digit store: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 ||
	    (unsigned long long)first + count > (unsigned long long)st.st_size)
		goto out;
	while (done < count) {
		ssize_t n = pread(fd, out + done, count - done,
				  (off_t)first + (off_t)done);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("digit store: reading %s: %s", path,
				n == 0 ? "file shrank" : strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

long long
store_read_at(const char *path, long long offset, size_t max, char *out,
	      long long *size)
{
	struct stat st;
	size_t want, done = 0;
	int fd;

	*size = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		log_err("digit store: %s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		log_err("digit store: %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	*size = (long long)st.st_size;
	want = offset < 0 || offset >= *size ? 0
	       : (unsigned long long)(*size - offset) < max
		   ? (size_t)(*size - offset)
		   : max;
	while (done < want) {
		ssize_t n = pread(fd, out + done, want - done,
				  (off_t)offset + (off_t)done);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("digit store: reading %s: %s", path,
				n == 0 ? "file shrank" : strerror(errno));
			close(fd);
			return -1;
		}
		done += (size_t)n;
	}
	close(fd);
	return (long long)done;
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

int
store_write(const char *path, const char *decimals, size_t count, char *err,
	    size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *d;
	int fd = -1, dfd = -1, rc = -1, n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen,
			 "Could not save the digits: the path "
			 "of the digit store is too long.");
		return -1;
	}
	n = snprintf(dir, sizeof(dir), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(dir)) {
		snprintf(err, errlen,
			 "Could not save the digits: the path "
			 "of the digit store is too long.");
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1) {
		store_explain(errno, "creating a temporary file", err, errlen);
		return -1;
	}
	if (store_write_all(fd, "3", 1) == -1 ||
	    store_write_all(fd, decimals, count) == -1) {
		store_explain(errno, "writing", err, errlen);
		goto out;
	}
	if (fsync(fd) == -1) {
		store_explain(errno, "flushing to disk", err, errlen);
		goto out;
	}
	if (close(fd) == -1) {
		fd = -1;
		store_explain(errno, "closing", err, errlen);
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) == -1) {
		store_explain(errno, "replacing the store", err, errlen);
		goto out;
	}
	/* The rename is only durable once the directory is on disk; the new
	 * store is in place either way, so a failure here is only logged. */
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
	if (fd != -1)
		close(fd);
	if (rc == -1)
		unlink(tmp);
	return rc;
}
