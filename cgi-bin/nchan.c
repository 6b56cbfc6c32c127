/* nchan.c: publishing messages to nginx's Nchan module, over a unix
 * socket. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "nchan.h"
#include "timefmt.h"

/* nginx's answer to a publish is a few lines of channel statistics. */
#define NCHAN_ANSWER_MAX 4096

int
nchan_init(struct nchan *n, const char *path)
{
	int len = snprintf(n->path, sizeof(n->path), "%s", path);

	n->fd = -1;
	if (len < 0 ||
	    (size_t)len >= sizeof(struct sockaddr_un) -
			       offsetof(struct sockaddr_un, sun_path))
		return -1;
	return 0;
}

void
nchan_close(struct nchan *n)
{
	if (n->fd >= 0)
		close(n->fd);
	n->fd = -1;
}

static int
nchan_connect(struct nchan *n)
{
	struct sockaddr_un sa;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, n->path, strlen(n->path) + 1);
	n->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (n->fd == -1) {
		log_debug("publish: socket: %s", strerror(errno));
		return -1;
	}
	if (connect(n->fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_debug("publish: connect %s: %s", n->path, strerror(errno));
		nchan_close(n);
		return -1;
	}
	return 0;
}

/* Waits until fd is ready for events or the deadline passes. Returns 0 or
 * -1. */
static int
nchan_wait(int fd, short events, long long deadline)
{
	struct pollfd p = { fd, events, 0 };
	long long left;
	int r;

	do {
		left = deadline - time_mono_ms();
		if (left <= 0)
			return -1;
		r = poll(&p, 1, (int)left);
	} while (r == -1 && errno == EINTR);
	return r == 1 ? 0 : -1;
}

/* Writes all of p. Returns 0 or -1. */
static int
nchan_write_all(int fd, const char *p, size_t len, long long deadline)
{
	while (len > 0) {
		ssize_t w;

		if (nchan_wait(fd, POLLOUT, deadline) == -1)
			return -1;
		w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * Reads one answer: the head up to the blank line, then Content-Length
 * bytes of body. Returns its status, or -1.
 */
static int
nchan_read_answer(int fd, long long deadline)
{
	char buf[NCHAN_ANSWER_MAX + 1], *end, *cl;
	size_t have = 0, head, body = 0;
	int status;

	for (;;) {
		ssize_t r;

		buf[have] = '\0';
		if ((end = strstr(buf, "\r\n\r\n")) != NULL) {
			head = (size_t)(end - buf) + 4;
			if ((cl = strcasestr(buf, "\r\nContent-Length:")) !=
				NULL &&
			    cl < end)
				body = strtoul(cl + 17, NULL, 10);
			if (have >= head + body)
				break;
		}
		if (have == NCHAN_ANSWER_MAX ||
		    nchan_wait(fd, POLLIN, deadline) == -1)
			return -1;
		r = recv(fd, buf + have, NCHAN_ANSWER_MAX - have, MSG_DONTWAIT);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			return -1;
		have += (size_t)r;
	}
	if (sscanf(buf, "HTTP/1.%*c %d", &status) != 1)
		return -1;
	return status;
}

int
nchan_publish(struct nchan *n, const char *path, const char *body, size_t len)
{
	long long deadline = time_mono_ms() + NCHAN_TIMEOUT_MS;
	char head[512];
	int hlen, status, attempt;

	hlen = snprintf(head, sizeof(head),
			"POST %s HTTP/1.1\r\nHost: nthpi\r\n"
			"Content-Type: application/json\r\n"
			"Content-Length: %zu\r\n\r\n",
			path, len);
	if (hlen < 0 || (size_t)hlen >= sizeof(head))
		return -1;
	/* A kept connection that nginx closed meanwhile fails on first use:
	 * one more try on a new one. */
	for (attempt = 0; attempt < 2; attempt++) {
		int fresh = n->fd < 0;

		if (fresh && nchan_connect(n) == -1)
			return -1;
		if (nchan_write_all(n->fd, head, (size_t)hlen, deadline) == 0 &&
		    nchan_write_all(n->fd, body, len, deadline) == 0 &&
		    (status = nchan_read_answer(n->fd, deadline)) != -1) {
			if (status >= 200 && status < 300)
				return 0;
			log_debug("publish %s: nginx answered %d", path,
				  status);
			nchan_close(n);
			return -1;
		}
		nchan_close(n);
		if (fresh)
			break;
	}
	log_debug("publish %s: the connection to %s failed", path, n->path);
	return -1;
}
