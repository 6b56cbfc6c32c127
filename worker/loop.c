/* loop.c: the worker's event loop: waits, with timeouts, for a database
 * change, the compute child's pipe or a stop signal, and runs the policy's
 * steps (policy.h) when their time comes. */
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "claim.h"
#include "dbwatch.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "queue.h"
#include "sdnotify.h"
#include "settle.h"
#include "stops.h"
#include "storestate.h"
#include "timefmt.h"

/* How soon the loop looks again for a child whose pipe has closed. */
#define LOOP_REAP_MS 10
/* How often the worker records that it is alive (worker_state), busy or
 * idle; the loop wakes at least every POLICY_POLL_MS. The FastCGI app's
 * publisher marks it stalled after 10 s without (cgi-bin/workerwatch.h),
 * five reports missed, and the next report clears the mark. */
#define LOOP_SEEN_MS 2000

void
loop_open(struct loop *l, struct policy *pol, const char *db_path,
	  const sigset_t *unblocked)
{
	l->pol = pol;
	l->unblocked = unblocked;
	l->watch_fd = dbwatch_open(db_path);
	l->next_poll = l->next_beat = l->next_seen = 0;
	l->watchdog_ms = sdnotify_watchdog_ms();
	l->next_watchdog = time_mono_ms();
}

void
loop_close(struct loop *l)
{
	if (l->watch_fd != -1)
		close(l->watch_fd);
	l->watch_fd = -1;
}

/*
 * Waits for a database change, the child's pipe, a signal, or the next
 * timer, at most timeout_ms. The stop signals are blocked except inside
 * ppoll, so one that arrives between the loop's check and the wait still
 * wakes it at once (or, if ppoll finds a descriptor ready first, stays
 * pending for stops_take). Returns 1 if the database changed.
 */
static int
loop_wait(struct loop *l, long long timeout)
{
	struct policy *pol = l->pol;
	struct pollfd pfd[2];
	struct timespec ts;
	long long now = time_mono_ms();
	nfds_t n = 0;
	int watch = -1;

	if (l->next_poll - now < timeout)
		timeout = l->next_poll - now;
	if (pol->wait.n > 0 && l->next_beat - now < timeout)
		timeout = l->next_beat - now;
	if (l->watchdog_ms > 0 && l->next_watchdog - now < timeout)
		timeout = l->next_watchdog - now;
	timeout = policy_wake_timeout(pol, now, timeout);
	if (timeout < 0)
		timeout = 0;
	if (l->watch_fd != -1) {
		watch = (int)n;
		pfd[n].fd = l->watch_fd;
		pfd[n++].events = POLLIN;
	}
	if (compute_active(&pol->comp) && pol->comp.fd != -1) {
		pfd[n].fd = pol->comp.fd;
		pfd[n++].events = POLLIN;
	} else if (compute_active(&pol->comp) && timeout > LOOP_REAP_MS)
		/* Its pipe has closed: compute_read reaps it soon. */
		timeout = LOOP_REAP_MS;
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (timeout % 1000) * 1000000L;
	if (ppoll(pfd, n, &ts, l->unblocked) <= 0 || watch == -1 ||
	    !(pfd[watch].revents & POLLIN))
		return 0;
	/* Drains the events; they may be about the digit store only. */
	return dbwatch_wait(l->watch_fd, 0) == 1;
}

/* Tells systemd's watchdog that the loop goes round, when it is due. */
static void
loop_watchdog(struct loop *l)
{
	if (l->watchdog_ms > 0 && time_mono_ms() >= l->next_watchdog) {
		sdnotify("WATCHDOG=1");
		l->next_watchdog = time_mono_ms() + l->watchdog_ms / 2;
	}
}

void
loop_run(struct loop *l)
{
	struct policy *pol = l->pol;
	int changed = 1, more = 0;
	long long now;

	while (!stops_requested() && !stops_take()) {
		if (compute_read(&pol->comp) == 1)
			policy_computed(pol);
		if (stops_requested())
			break;
		log_tick();
		if (policy_db_gone(pol)) {
			/* Only the computation's pipe, a signal or the
			 * watchdog still has anything to do. */
			l->next_poll = l->next_beat =
			    time_mono_ms() + POLICY_POLL_MS;
			loop_watchdog(l);
			loop_wait(l, POLICY_POLL_MS);
			continue;
		}
		/* Cheap unless the store changed: one open and fstat. Not
		 * while a computation runs: its child may be between the
		 * store's rename and its check file's, and the store it
		 * writes replaces this one; policy_stop_compute checks that
		 * one, and a read that finds a block damaged meanwhile lowers
		 * have all the same (storestate_lost). */
		if (!compute_active(&pol->comp))
			storestate_check(pol, 0);
		now = time_mono_ms();
		/* Progress lines from the child wake the loop five times a
		 * second; the queue is read only when it may have changed
		 * or a lease may have lapsed. */
		if ((changed && now >= pol->next_claim) || more ||
		    now >= l->next_poll) {
			l->next_poll = now + POLICY_POLL_MS;
			more = claim_tasks(pol);
			if (pol->wait.n > 0)
				settle_cancel(pol);
		}
		if (pol->wait.n > 0)
			settle_run(pol);
		/* The first heartbeat right away shows the tasks at 0 %. */
		if (!more && policy_should_compute(pol) &&
		    policy_start_compute(pol))
			l->next_beat = time_mono_ms();
		if (pol->wait.n > 0 && time_mono_ms() >= l->next_beat) {
			l->next_beat = time_mono_ms() + POLICY_HEARTBEAT_MS;
			settle_heartbeat(pol);
		}
		if (time_mono_ms() >= l->next_seen) {
			/* A failure is logged; the next try comes as usual. */
			queue_seen(pol->q, time_now_ms());
			l->next_seen = time_mono_ms() + LOOP_SEEN_MS;
		}
		loop_watchdog(l);
		/* With a backlog the wait only lets a stop signal in, if no
		 * descriptor is ready; stops_take catches it otherwise. */
		changed = loop_wait(l, more ? 0 : POLICY_POLL_MS);
	}
}
