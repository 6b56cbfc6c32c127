/* child.h: one pre-forked FastCGI process: its threads and its shutdown. */
#ifndef NTHPI_CHILD_H
#define NTHPI_CHILD_H

#include "config.h"

/* Database connections each child shares among its threads. */
#define CHILD_DB_POOL 8
/* Stack of each request thread: requests need little, and hundreds of
 * threads wait on long-polls. */
#define CHILD_STACK_BYTES (256 * 1024)
/* How often the watcher re-reads the version without an inotify event. */
#define CHILD_WATCH_PERIOD_MS 250
/* Soft limit on descriptors: see child_limit_descriptors in child.c. */
#define CHILD_NOFILE 1024

/*
 * Runs a child on the inherited listening socket: cfg->threads request
 * threads and one watcher thread. Once they run it writes one byte to
 * ready_fd (then closes it), so the master can tell systemd it is ready.
 * Returns only when it should exit: after
 * SIGTERM or SIGINT it stops accepting, lets requests in progress finish
 * (long-polls answer at once) for up to about 1.5 s, and returns 0; it
 * returns 1 if it could not start.
 */
int child_run(const struct config *cfg, int listen_fd, int ready_fd);

#endif
