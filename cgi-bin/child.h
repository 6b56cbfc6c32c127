/* child.h: one pre-forked FastCGI process: its threads and its shutdown. */
#ifndef NTHPI_CHILD_H
#define NTHPI_CHILD_H

#include <limits.h>
#include <stdatomic.h>

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
/* How long a new FastCGI connection may take to send its request (and a
 * request its body) before it is dropped and its thread freed. nginx sends
 * both at once. */
#define CHILD_READ_TIMEOUT_S 10
/* How long requests in progress get to finish at shutdown. */
#define CHILD_STOP_MS 1500
/* Threads of a child never held by long-polls, for page loads and the
 * API: max(CHILD_RESERVE_MIN, threads / CHILD_RESERVE_DIV), but at most
 * half of them. */
#define CHILD_RESERVE_MIN 4
#define CHILD_RESERVE_DIV 10
/* A child with this many busy threads more than the least busy child
 * lets the others accept first (child_balance). */
#define CHILD_BALANCE_SLACK 2
/* For at most this long per accept; a child at its limit while another
 * is not, for at most CHILD_FULL_WAIT_US. */
#define CHILD_BALANCE_US 2000
#define CHILD_FULL_WAIT_US 20000

/*
 * The busy threads of each child (serving a request, a held long-poll
 * included), in memory the master shares with its children, so that a
 * child can see whether it is busier than the others. A slot whose child
 * is not running holds CHILD_BOARD_GONE.
 */
struct child_board {
	int n;
	atomic_int busy[];
};
#define CHILD_BOARD_GONE INT_MAX

/* Maps a board for n children, all slots CHILD_BOARD_GONE. Returns NULL if
 * mmap failed (logged). */
struct child_board *child_board_new(int n);

/* Unmaps it. Accepts NULL. */
void child_board_free(struct child_board *b);

/*
 * Runs a child on the inherited listening socket: cfg->threads request
 * threads and one watcher thread. Once they run it writes one byte to
 * ready_fd (then closes it), so the master can tell systemd it is ready.
 * After SIGTERM, SIGINT or SIGHUP it stops accepting, lets requests in
 * progress finish (long-polls answer at once) for up to CHILD_STOP_MS and
 * ends the process with status 0 (_exit: it does not return, as threads
 * may still use its memory). Returns 1 only if it could not start.
 * The caller (the master, after fork) sets PR_SET_PDEATHSIG first. The
 * child keeps the number of its busy threads in board->busy[index].
 */
int child_run(const struct config *cfg, int listen_fd, int ready_fd,
	      struct child_board *board, int index);

#endif
