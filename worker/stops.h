/* stops.h: the signals that stop the worker (SIGTERM, SIGINT, SIGHUP): a
 * handler sets a flag, and they are blocked outside the loop's wait. */
#ifndef NTHPI_STOPS_H
#define NTHPI_STOPS_H

#include <signal.h>

/*
 * Sets up signals: SIGTERM, SIGINT and SIGHUP (a closed terminal) stop the
 * worker, through a flag, and are blocked outside the loop's wait; no
 * SIGPIPE. A SIGHUP ignored at start stays ignored, as nohup asks. Sets
 * unblocked to the mask for that wait. Exits on failure (start-up only).
 */
void stops_install(sigset_t *unblocked);

/* Returns 1 if a stop signal waits to be delivered. */
int stops_pending(void);

/* Takes a pending stop signal and sets the flag; returns 1 if one was
 * pending. */
int stops_take(void);

/* Returns 1 once a stop signal came. */
int stops_requested(void);

#endif
