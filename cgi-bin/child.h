/* child.h: one pre-forked FastCGI process: its threads and its shutdown. */
#ifndef NTHPI_CHILD_H
#define NTHPI_CHILD_H

#include "config.h"
#include "liveboard.h"

/* Database connections each child shares among its threads. */
#define CHILD_DB_POOL 8
/* Stack of each request thread: requests need little. */
#define CHILD_STACK_BYTES (256 * 1024)
/* Soft limit on descriptors: see child_limit_descriptors in child.c. */
#define CHILD_NOFILE 1024
/* How long a new FastCGI connection may take to send its request (and a
 * request its body) before it is dropped and its thread freed. nginx sends
 * both at once. */
#define CHILD_READ_TIMEOUT_S 10
/* How long requests in progress get to finish at shutdown. */
#define CHILD_STOP_MS 1500

/*
 * Runs a child on the inherited listening socket: cfg->threads request
 * threads. Once they run it writes one byte to ready_fd (then closes it),
 * so the master can tell systemd it is ready. After SIGTERM, SIGINT or
 * SIGHUP it stops accepting, lets requests in progress finish for up to
 * CHILD_STOP_MS and ends the process with status 0 (_exit: it does not
 * return, as threads may still use its memory). Returns 1 only if it
 * could not start. The caller (the master, after fork) sets
 * PR_SET_PDEATHSIG first. live is where the publisher says how far it
 * got (NULL: long polls are answered at once, as in unit tests).
 */
int child_run(const struct config *cfg, int listen_fd, int ready_fd,
	      const struct liveboard *live);

#endif
