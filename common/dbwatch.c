/* dbwatch.c: waking up when another process writes the task database. */
#include <errno.h>
#include <limits.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "dbwatch.h"
#include "log.h"

int
dbwatch_open(const char *db_path)
{
	char dir[PATH_MAX];
	int fd, n;

	n = snprintf(dir, sizeof(dir), "%s", db_path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -1;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("dbwatch: inotify_init1: %s", strerror(errno));
		return -1;
	}
	/* The directory, not the files: the WAL comes and goes, and a commit
	 * in WAL mode writes only the -wal file. */
	if (inotify_add_watch(fd, dirname(dir),
			      IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO |
				  IN_CREATE) == -1) {
		log_warn("dbwatch: watching %s: %s", dir, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads every pending event; returns 1 if any was about the database. */
static int
dbwatch_drain(int fd)
{
	char ev[4096]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	int changed = 0;

	for (;;) {
		ssize_t len = read(fd, ev, sizeof(ev));
		char *p;

		if (len <= 0)
			break;
		for (p = ev; p < ev + len;) {
			const struct inotify_event *e = (void *)p;

			/* The digit store and temp files live here too;
			 * anything named nthpi.db* counts. */
			if (e->len == 0 || strncmp(e->name, "nthpi.db", 8) == 0)
				changed = 1;
			p += sizeof(*e) + e->len;
		}
	}
	return changed;
}

int
dbwatch_wait(int fd, int timeout_ms)
{
	struct pollfd pfd;
	int rc;

	if (fd == -1) {
		if (timeout_ms > 0)
			poll(NULL, 0, timeout_ms);
		return 0;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	rc = poll(&pfd, 1, timeout_ms);
	if (rc == -1)
		return errno == EINTR ? 0 : -1;
	if (rc == 0)
		return 0;
	return dbwatch_drain(fd);
}
