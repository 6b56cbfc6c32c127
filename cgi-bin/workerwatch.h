/* workerwatch.h: the publisher's watch on the worker, which marks it
 * stalled in the database when it has not reported in for a while. */
#ifndef NTHPI_WORKERWATCH_H
#define NTHPI_WORKERWATCH_H

#include "queries.h"

/* A worker not seen for this long is marked stalled. It reports in every
 * 2 s (worker/loop.c), so this is five reports missed. */
#define WORKER_STALL_MS 10000
/* How often the publisher looks: a report is noticed this late at most,
 * so the mark comes 10 to 11 s after the last one. One indexed read. */
#define WORKER_WATCH_MS 500

/*
 * What the watch knows. It judges by its own monotonic clock how long
 * worker_state.last_seen has stayed the same, not by the difference of two
 * wall clocks, so that a clock stepped in either process does not pass
 * for a stall.
 */
struct workerwatch {
	long long last_seen;  /* the value read last; -1 for no row */
	long long changed_at; /* time_mono_ms when it was last seen to change */
	int stalled;          /* the mark as read last */
};

/* Starts watching at time_mono_ms() now: the worker has WORKER_STALL_MS
 * from now to report in. */
void workerwatch_init(struct workerwatch *w, long long now);

/*
 * Reads worker_state on c and marks the worker stalled once last_seen has
 * not changed for WORKER_STALL_MS (the worker clears the mark with its next
 * report). A worker that never reported in (no row, a new database) is not
 * marked: nothing says that one should be running yet. Logs a change of
 * the mark once. Call every WORKER_WATCH_MS. Returns 0, or -1 on a database
 * error (logged).
 */
int workerwatch_check(struct workerwatch *w, struct dbconn *c, long long now);

#endif
