/* loop.h: the worker's event loop, which waits on the database watch, the
 * compute pipe and the stop signals, and keeps the loop's own timers. */
#ifndef NTHPI_LOOP_H
#define NTHPI_LOOP_H

#include <signal.h>

struct policy;

struct loop {
	struct policy *pol;        /* the policy the loop drives */
	const sigset_t *unblocked; /* the mask inside the wait (stops.h) */
	int watch_fd;              /* the database watch, or -1 */
	long long next_poll;       /* time_mono_ms of the next queue read */
	long long next_beat;       /* time_mono_ms of the next heartbeat */
	long long next_seen;       /* time_mono_ms of the next worker_state */
	long long watchdog_ms;     /* systemd's watchdog interval, or 0 */
	long long next_watchdog;   /* time_mono_ms of the next WATCHDOG=1 */
};

/* Sets l up to drive s, watching db_path (without a watch if that fails:
 * the loop then polls). Free with loop_close. */
void loop_open(struct loop *l, struct policy *pol, const char *db_path,
	       const sigset_t *unblocked);

/* Runs the loop; returns when a stop signal came. */
void loop_run(struct loop *l);

/* Closes the database watch. */
void loop_close(struct loop *l);

#endif
