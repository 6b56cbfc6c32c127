/* stops.c: the signals that stop the worker, as a flag the loop reads. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "stops.h"

static volatile sig_atomic_t stops_quit;
/* The signals that stop the worker (stops_install): SIGTERM, SIGINT and,
 * unless it was ignored at start, SIGHUP. */
static sigset_t stops_set;

static void
stops_on_signal(int sig)
{
	(void)sig;
	stops_quit = 1;
}

/* Returns 1 if a stop signal waits to be delivered (they are blocked
 * outside the loop's wait). */
int
stops_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) == -1)
		return 0;
	sigandset(&pending, &pending, &stops_set);
	return !sigisemptyset(&pending);
}

/*
 * Takes a pending stop signal and sets the stop flag. Returns 1 if one
 * was pending. The loop asks each time round because ppoll, the one place
 * the stop signals are unblocked, returns without delivering a pending
 * signal when a descriptor is ready: with a backlog the worker's own
 * commits keep the inotify descriptor ready, so a stop would otherwise wait
 * until the backlog is gone.
 */
int
stops_take(void)
{
	struct timespec now = { 0, 0 };

	if (sigtimedwait(&stops_set, NULL, &now) == -1)
		return 0;
	stops_quit = 1;
	return 1;
}

/*
 * Sets up signals: SIGTERM, SIGINT and SIGHUP (a closed terminal) stop the
 * worker, through a flag, and are blocked outside ppoll; no SIGPIPE. A
 * SIGHUP ignored when the worker starts stays ignored, as nohup asks, and
 * as scripts/run.sh does, which stops the worker itself on a hangup.
 */
void
stops_install(sigset_t *unblocked)
{
	static const int stops[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa, hup;
	size_t i;

	sigemptyset(&stops_set);
	sigaddset(&stops_set, SIGTERM);
	sigaddset(&stops_set, SIGINT);
	if (sigaction(SIGHUP, NULL, &hup) == -1)
		log_exit(LOG_EXIT_START, "sigaction: %s", strerror(errno));
	if (hup.sa_handler != SIG_IGN)
		sigaddset(&stops_set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &stops_set, unblocked) == -1)
		log_exit(LOG_EXIT_START, "sigprocmask: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = stops_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		if (sigismember(&stops_set, stops[i]) != 1)
			continue;
		/* No SA_RESTART: a stop must interrupt the wait. */
		if (sigaction(stops[i], &sa, NULL) == -1)
			log_exit(LOG_EXIT_START, "sigaction: %s",
				 strerror(errno));
		sigdelset(unblocked, stops[i]);
	}
	signal(SIGPIPE, SIG_IGN);
}

int
stops_requested(void)
{
	return stops_quit;
}
