/* nchan.h: publishing messages to nginx's Nchan module, over a unix
 * socket. */
#ifndef NTHPI_NCHAN_H
#define NTHPI_NCHAN_H

#include <limits.h>
#include <stddef.h>

/* A keep-alive HTTP/1.1 connection to nginx's publisher server. */
struct nchan {
	char path[PATH_MAX]; /* the unix socket nginx listens on */
	int fd;              /* -1 while not connected */
};

/* How long one publish may take before the connection is dropped. */
#define NCHAN_TIMEOUT_MS 2000

/* Sets n up for the socket at path; it connects on first use. Returns 0,
 * or -1 if the path is too long. */
int nchan_init(struct nchan *n, const char *path);

/*
 * Publishes body (len bytes of JSON) as one message to the channels that
 * path names under the publisher server (for example "/pub/once/l57"),
 * connecting first if need be. Returns 0 once nginx has taken it, or -1
 * (the connection is closed; the caller tries again later). Failures are
 * logged at debug only: the caller says once that publishing stopped.
 */
int nchan_publish(struct nchan *n, const char *path, const char *body,
		  size_t len);

/* Closes the connection, if any. */
void nchan_close(struct nchan *n);

#endif
