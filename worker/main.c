/* main.c: nthpi-worker, the daemon that answers tasks from the queue. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "compute.h"
#include "config.h"
#include "datalock.h"
#include "db.h"
#include "dbfile.h"
#include "dbwatch.h"
#include "growth.h"
#include "log.h"
#include "pi.h"
#include "pi_known.h"
#include "queue.h"
#include "searchbuild.h"
#include "sdnotify.h"
#include "store.h"
#include "timefmt.h"
#include "waitset.h"

/*
 * How tasks flow. The loop never waits for a computation. A claimed task
 * whose n the digit store covers is answered from the store in the same
 * transaction as its claim, so it takes milliseconds even while a large
 * computation runs. A task that needs more digits stays claimed (status
 * running) and joins the computation: the worker renews its lease and
 * copies the computation's progress into it every second. While a
 * computation for D decimals runs, only tasks with n <= D are claimed;
 * larger ones stay queued and start the next, larger computation when this
 * one ends. Each computation at least doubles the store (growth.c), so
 * small tasks never wait behind large ones once the store covers them, and
 * a rising stream of n costs a bounded multiple of the last computation.
 * At most WORKER_MAX_WAITING tasks wait at once; past that only the tasks
 * the store answers are claimed, so a long queue of large n stays queued
 * instead of all turning running.
 */

/* The fallback wake-up when inotify misses a change or a lease lapses. */
#define WORKER_POLL_MS 500
/*
 * The waiting tasks get the computation's progress at most every
 * WORKER_HEARTBEAT_MS, and only once it has moved by WORKER_PROGRESS_STEP:
 * each write moves the queue version once per task and wakes every
 * long-polling page. The step is the least change the API shows (four
 * digits): a coarser one would hold the bar still for seconds where the
 * paced progress (pacer.c) slows near a phase's end. Their leases
 * (QUEUE_LEASE_MS, 10 s) are renewed at least every WORKER_RENEW_MS all
 * the same.
 */
#define WORKER_HEARTBEAT_MS 1000
#define WORKER_PROGRESS_STEP 0.0001
#define WORKER_RENEW_MS 3000
/* The most tasks that wait for a computation at once. Each is a row the
 * heartbeat rewrites and a page hears of. */
#define WORKER_MAX_WAITING 256
/* Claims per transaction: enough to drain a burst, short enough to keep
 * the write lock brief. */
#define WORKER_CLAIM_BATCH 256
/* Tries of a transaction that failed (SQLITE_BUSY and the like). */
#define WORKER_TX_TRIES 3
/* How long one statement waits for another process's write lock. */
#define WORKER_BUSY_MS 1000
/* How soon the loop looks again for a child whose pipe has closed. */
#define WORKER_REAP_MS 10
/* A computation interrupted this often in a row fails its tasks. */
#define WORKER_MAX_INTERRUPTS 3
/* A computation ended this often in a row by a signal nthpi did not send
 * (compute.h: COMPUTE_KILLED) fails its tasks; until then they go back to
 * the queue, as a dead worker's do. */
#define WORKER_MAX_KILLS 3
/* Tries to start a computation, WORKER_START_RETRY_MS apart and doubling,
 * before its tasks fail: fork can fail for a moment (EAGAIN) when a process
 * or memory limit is near. */
#define WORKER_START_TRIES 4
#define WORKER_START_RETRY_MS 250
/* After a failed computation the next one waits WORKER_BACKOFF_MS, doubled
 * for each failure in a row up to WORKER_BACKOFF_MAX_MS, so that one that
 * cannot succeed (a full disk) is not run again for each new task at once. */
#define WORKER_BACKOFF_MS 1000
#define WORKER_BACKOFF_MAX_MS 30000
/* How often the worker records that it is alive (worker_state), busy or
 * idle; the loop wakes at least every WORKER_POLL_MS. The FastCGI app's
 * publisher marks it stalled after 10 s without (cgi-bin/workerwatch.h),
 * five reports missed, and the next report clears the mark. */
#define WORKER_SEEN_MS 2000
/* Rebuilds of the digit store that fail in a row before the worker stops
 * trying (until the store changes or the worker starts again). */
#define WORKER_REBUILD_TRIES 3

static volatile sig_atomic_t worker_quit;
/* The signals that stop the worker (worker_signals): SIGTERM, SIGINT and,
 * unless it was ignored at start, SIGHUP. */
static sigset_t worker_stops;

/* What happened to one claimed task, logged once its transaction commits. */
enum worker_fate {
	WORKER_FATE_WAIT,   /* joins the computation */
	WORKER_FATE_DONE,   /* answered from the store */
	WORKER_FATE_CANCEL, /* cancel was requested before we got it */
	WORKER_FATE_NMAX,   /* n is above n_max */
	WORKER_FATE_MEMORY, /* n cannot be computed within the memory limit */
	WORKER_FATE__MAX
};

struct worker_claimed {
	struct queue_task t;
	enum worker_fate fate;
	int digit;
};

struct worker {
	struct config cfg;
	sqlite3 *db;
	struct queue *q;
	int watch_fd;
	int lock_fd; /* the data directory's lock (datalock.c) */
	struct compute comp;
	struct waitset wait;    /* the tasks that wait for a computation */
	long long have;         /* decimals the store gives */
	long long fit_max;      /* most decimals the memory limit allows */
	long long refuse_above; /* claim tasks above this only to refuse */
	long long next_poll;    /* time_mono_ms of the next queue read */
	long long next_beat;    /* time_mono_ms of the next heartbeat */
	long long renewed;      /* time_mono_ms of the last heartbeat write */
	double beat_progress;   /* the progress that write set */
	int joined;             /* tasks joined since that write */
	long long next_start;   /* no computation starts before this */
	long long next_settle;  /* no settling before this, after a failure */
	long long next_seen;    /* time_mono_ms of the next worker_state */
	/* No claim that a database change wakes before this: one that
	 * failed (a full disk) makes changes of its own. */
	long long next_claim;
	long long watchdog_ms; /* systemd's watchdog interval, or 0 */
	long long next_watchdog;
	long long busy_since; /* time_mono_ms when a lock wait began */
	int exact_next;       /* next computation: just what is needed */
	int interrupts;       /* computations stopped by a signal in a row */
	int kills;            /* computations killed in a row (not by us) */
	int failures;         /* computations failed in a row */
	int said_gone;        /* that the database file went away was said */
	int start_tries;      /* failed starts of the next computation */
	char fail_msg[512];   /* the error the failing tasks get */
	/* The claim transaction's results, reused between batches. */
	struct worker_claimed *claimed;
	size_t nclaimed;

	/* The digit store: have is its intact prefix, checked whole at
	 * store_version; rebuild is what it must hold again with no task
	 * asking (damaged, or shorter than a done task's n), 0 if none. */
	unsigned long store_version;
	long long rebuild;
	int rebuild_failures; /* rebuilds failed in a row */
};

/* A transaction body; returns 0 or -1 to roll back and retry. */
typedef int (*worker_tx_fn)(struct worker *w, void *arg);

/*
 * Formats a sentence for a task or a person into out. A cut sentence is
 * still safe to store, but it is logged so that someone notices.
 */
static void __attribute__((format(printf, 3, 4)))
worker_sentence(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		log_warn("worker: message cut short: %s", out);
}

static void
worker_on_signal(int sig)
{
	(void)sig;
	worker_quit = 1;
}

/* Returns 1 if a stop signal waits to be delivered (they are blocked
 * outside the loop's wait). */
static int
worker_stop_pending(void)
{
	sigset_t pending;

	if (sigpending(&pending) == -1)
		return 0;
	sigandset(&pending, &pending, &worker_stops);
	return !sigisemptyset(&pending);
}

/*
 * Takes a pending stop signal and sets worker_quit. Returns 1 if one
 * was pending. The loop asks each time round because ppoll, the one place
 * the stop signals are unblocked, returns without delivering a pending
 * signal when a descriptor is ready: with a backlog the worker's own
 * commits keep the inotify descriptor ready, so a stop would otherwise wait
 * until the backlog is gone.
 */
static int
worker_take_stop(void)
{
	struct timespec now = { 0, 0 };

	if (sigtimedwait(&worker_stops, NULL, &now) == -1)
		return 0;
	worker_quit = 1;
	return 1;
}

/*
 * SQLite's busy handler for the worker's connection, in place of db_open's
 * 10 s timeout: a lock wait is short and ends at once when a stop signal is
 * pending, so that the worker still stops within 2 s while another process
 * holds the write lock. Returns 1 to wait more, 0 to give up (SQLITE_BUSY).
 */
static int
worker_busy(void *arg, int count)
{
	struct worker *w = arg;
	struct timespec pause = { 0, 2000000L };

	if (count == 0)
		w->busy_since = time_mono_ms();
	if (time_mono_ms() - w->busy_since >= WORKER_BUSY_MS ||
	    worker_stop_pending())
		return 0;
	nanosleep(&pause, NULL);
	return 1;
}

/*
 * Runs fn inside BEGIN IMMEDIATE ... COMMIT, trying again after a short
 * pause if any step fails (a lock held too long, a full disk). fn must
 * change nothing in memory that a rollback would leave wrong. Returns 0, or
 * -1 after logging that the loop will carry on and try later.
 */
static int
worker_transaction(struct worker *w, const char *what, worker_tx_fn fn,
		   void *arg)
{
	struct timespec pause = { 0, 0 };
	int i;

	for (i = 0; i < WORKER_TX_TRIES; i++) {
		/* Nothing more goes into a file that went away; the loop
		 * says so once (worker_db_gone). */
		if (dbfile_check(w->db) == -1)
			return -1;
		if (i > 0) {
			/* A stop puts everything back anyway. */
			if (worker_stop_pending())
				break;
			pause.tv_nsec = 50000000L << (i - 1);
			log_warn("worker: %s failed; trying again", what);
			nanosleep(&pause, NULL);
		}
		if (queue_begin(w->q) == 0 && fn(w, arg) == 0 &&
		    queue_commit(w->q) == 0)
			return 0;
		queue_rollback(w->q);
	}
	log_err("worker: %s failed %d time%s; will try again later", what, i,
		i == 1 ? "" : "s");
	return -1;
}

/* The decimals the next computation must reach: the waiting tasks' and the
 * store's rebuild. */
static long long
worker_need(const struct worker *w)
{
	long long m = waitset_max_needed(&w->wait, w->have);

	return w->rebuild > m ? w->rebuild : m;
}

/*
 * Checks the whole digit store if it changed since it was last checked (or
 * force): at start, after a computation, and when someone changed it. Sets
 * have to its intact prefix, and rebuild to what it must hold again: what
 * it held when written, and at least every done task's n, so that their
 * pi.txt comes back. Logs once per change what is wrong and where.
 */
static void
worker_store_check(struct worker *w, int force)
{
	const char *path = w->cfg.store_path;
	long long done, want, cap;
	struct store_view v;

	if (store_view(path, &v) == -1 ||
	    (!force && v.version == w->store_version))
		return;
	/* Every block: about 25 ms at 10^8 decimals from the page cache. */
	if (store_verify(path, &v) == -1)
		return;
	w->store_version = v.version;
	w->have = v.intact > 1 ? v.intact - 1 : 0;
	/* The search index follows the store: built once it is whole. */
	if (v.state == STORE_SOUND && v.bytes > 1 && v.intact == v.bytes)
		searchbuild_start(path);
	if (v.state == STORE_UNCHECKED || v.state == STORE_DAMAGED)
		log_err("digit store %s: %s; only decimals 1 to %lld are "
			"served until it is rebuilt",
			path, v.why, w->have);
	done = queue_max_done(w->q);
	want = v.held > 1 ? v.held - 1 : 0;
	if (done > want)
		want = done;
	cap = w->cfg.n_max < w->fit_max ? w->cfg.n_max : w->fit_max;
	if (want > cap) {
		log_warn("digit store: %lld decimals are wanted back, more "
			 "than n_max or the memory limit allow; rebuilding "
			 "%lld",
			 want, cap);
		want = cap;
	}
	if (want <= w->have) {
		w->rebuild = 0;
		w->rebuild_failures = 0;
		return;
	}
	if (w->rebuild_failures >= WORKER_REBUILD_TRIES)
		return;
	if (want != w->rebuild)
		log_warn("worker: rebuilding the digit store: computing %lld "
			 "decimals (it gives %lld)",
			 want, w->have);
	w->rebuild = want;
}

/*
 * After a read of decimal n failed: returns 1 if the store no longer gives
 * n (the read found its block damaged, or the store changed), lowering
 * have so that n waits for the rebuild that the next full check starts;
 * 0 if it still covers n and only the read failed. Changes nothing a
 * rollback would leave wrong: have only follows the store.
 */
static int
worker_store_lost(struct worker *w, long long n)
{
	struct store_view v;

	if (store_view(w->cfg.store_path, &v) == -1 || v.intact - 1 >= n)
		return 0;
	w->have = v.intact > 1 ? v.intact - 1 : 0;
	/* The next pass of the loop checks the whole store again. */
	w->store_version = 0;
	return 1;
}

/*
 * Holds the next computation back after a failed one: WORKER_BACKOFF_MS,
 * doubled for each failure in a row, at most WORKER_BACKOFF_MAX_MS.
 */
static void
worker_backoff(struct worker *w)
{
	long long delay = WORKER_BACKOFF_MS;
	int i;

	for (i = 0; i < w->failures && delay < WORKER_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > WORKER_BACKOFF_MAX_MS)
		delay = WORKER_BACKOFF_MAX_MS;
	w->failures++;
	w->next_start = time_mono_ms() + delay;
	log_info("worker: the next computation starts in %lld ms at the "
		 "earliest",
		 delay);
}

/*
 * Stops (or, once it has ended, resets) the computation and reads the
 * store's size again: a child may have replaced the store just before it
 * was killed.
 */
static void
worker_stop_compute(struct worker *w)
{
	compute_stop(&w->comp);
	sdnotify("STATUS=Waiting for tasks");
	worker_store_check(w, 0);
}

/* Stops the computation if no task waits for it any more. */
static void
worker_stop_if_unwanted(struct worker *w)
{
	if (!compute_active(&w->comp) ||
	    waitset_max_needed(&w->wait, w->have) > 0 || w->rebuild > w->have)
		return;
	log_info("worker: no task waits for the computation; stopping it");
	worker_stop_compute(w);
}

/* Writes the refusal sentence for a task with fate into msg. */
static void
worker_refusal(const struct worker *w, const struct queue_task *t,
	       enum worker_fate fate, char *msg, size_t len)
{
	unsigned long long need;

	if (fate == WORKER_FATE_NMAX) {
		worker_sentence(
		    msg, len,
		    "Decimal %lld is beyond the largest this service computes "
		    "now (n_max = %lld). Ask for a smaller n.",
		    t->n, w->cfg.n_max);
		return;
	}
	/* Counted as growth_fit_max counts: engine, digits, process. */
	need = (pi_memory_estimate((size_t)t->n, w->cfg.compute_threads) +
		(size_t)t->n + growth_overhead(w->cfg.compute_threads)) >>
	       20;
	worker_sentence(
	    msg, len,
	    "Computing %lld decimals needs about %llu MiB, more than the "
	    "memory limit of %lld MiB. Ask for fewer digits or raise "
	    "memory_limit_mb.",
	    t->n, need + 1, w->cfg.memory_limit_mb);
}

/* Transaction body: claims a batch and settles what it can at once. */
static int
worker_claim_tx(struct worker *w, void *arg)
{
	long long now = time_now_ms(), max_n;
	struct worker_claimed *c;
	size_t waiting = w->wait.n;
	char msg[512];
	int *full = arg, rc;

	*full = 0;
	w->nclaimed = 0;
	/* While a computation runs, only tasks it will cover can join it. */
	max_n = compute_active(&w->comp) ? w->comp.decimals : LLONG_MAX;
	while (w->nclaimed < WORKER_CLAIM_BATCH) {
		/* Enough wait already: take only what the store answers (and
		 * what is refused), and leave the rest queued. */
		if (waiting >= WORKER_MAX_WAITING && max_n > w->have)
			max_n = w->have;
		c = &w->claimed[w->nclaimed];
		rc = queue_claim(w->q, now, max_n, w->refuse_above, &c->t);
		if (rc != 1)
			return rc;
		w->nclaimed++;
		c->digit = -1;
		if (c->t.cancel_requested)
			c->fate = WORKER_FATE_CANCEL;
		else if (c->t.n > w->cfg.n_max)
			c->fate = WORKER_FATE_NMAX;
		else if (c->t.n <= w->have &&
			 (c->digit = store_digit(w->cfg.store_path, c->t.n)) >=
			     0)
			c->fate = WORKER_FATE_DONE;
		else if (c->t.n > w->fit_max)
			c->fate = WORKER_FATE_MEMORY;
		else {
			/* Not covered, or its block was found damaged just
			 * now (then have drops below n, and the rebuild
			 * covers it), or the store could not be read (then
			 * the finish step says so). */
			if (c->t.n <= w->have)
				worker_store_lost(w, c->t.n);
			c->fate = WORKER_FATE_WAIT;
			waiting++;
		}
		switch (c->fate) {
		case WORKER_FATE_DONE:
			rc = queue_finish(w->q, &c->t, c->digit, now);
			break;
		case WORKER_FATE_CANCEL:
			rc = queue_cancel(w->q, &c->t, now);
			break;
		case WORKER_FATE_NMAX:
		case WORKER_FATE_MEMORY:
			worker_refusal(w, &c->t, c->fate, msg, sizeof(msg));
			rc = queue_fail(w->q, &c->t, msg, now);
			break;
		default:
			rc = 0;
			break;
		}
		if (rc == -1)
			return -1;
	}
	*full = 1;
	return 0;
}

/*
 * Claims every task it can, answering covered ones from the store.
 * Returns 1 if a full batch was claimed (more may be waiting), else 0.
 */
static int
worker_claim(struct worker *w)
{
	struct worker_claimed *c;
	char msg[512];
	int full = 0, rc;
	size_t i;

	if (worker_transaction(w, "claiming tasks", worker_claim_tx, &full) ==
	    -1) {
		/* Its tries wrote to the -wal file, whose events would wake
		 * the loop to fail again at once: 7 times a second on a
		 * full disk. The next try comes with the next poll. */
		w->next_claim = time_mono_ms() + WORKER_POLL_MS;
		return 0;
	}
	for (i = 0; i < w->nclaimed; i++) {
		c = &w->claimed[i];
		switch (c->fate) {
		case WORKER_FATE_DONE:
			log_info("task %lld: decimal %lld is %d (from the "
				 "store)",
				 c->t.id, c->t.n, c->digit);
			break;
		case WORKER_FATE_CANCEL:
			log_info("task %lld: cancelled", c->t.id);
			break;
		case WORKER_FATE_NMAX:
		case WORKER_FATE_MEMORY:
			worker_refusal(w, &c->t, c->fate, msg, sizeof(msg));
			log_info("task %lld: error: %s", c->t.id, msg);
			break;
		default:
			log_info("task %lld: decimal %lld waits for a "
				 "computation (attempt %lld)",
				 c->t.id, c->t.n, c->t.attempts);
			rc = waitset_add(&w->wait, &c->t);
			if (rc == -1)
				/* Its lease lapses and a later claim (ours
				 * or another worker's) picks it up again. */
				log_err("task %lld: out of memory; left for "
					"a later claim",
					c->t.id);
			else if (rc == 1)
				/* The next heartbeat shows it the
				 * computation's progress. */
				w->joined = 1;
			break;
		}
	}
	return full;
}

/* Which waiting tasks a step removes once its transaction commits. */
static int
worker_is_failing(const struct waitset_task *x)
{
	return x->failing;
}

static int
worker_is_finished(const struct waitset_task *x)
{
	return x->finished;
}

static int
worker_is_requeuing(const struct waitset_task *x)
{
	return x->requeuing;
}

static int
worker_is_cancelling(const struct waitset_task *x)
{
	return x->cancelling;
}

static int
worker_is_gone(const struct waitset_task *x)
{
	return x->gone;
}

/* Transaction body: sets w->fail_msg on every failing task. */
static int
worker_fail_tx(struct worker *w, void *arg)
{
	long long now = time_now_ms();
	size_t i;

	(void)arg;
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].failing &&
		    queue_fail(w->q, &w->wait.v[i].t, w->fail_msg, now) == -1)
			return -1;
	return 0;
}

/*
 * Fails the failing waiting tasks and forgets them. If the transaction
 * fails they stay ours and failing: worker_settle tries again a little
 * later, and no computation starts until they are settled, so that a task
 * whose computation failed does not start it again.
 */
static void
worker_fail_failing(struct worker *w)
{
	size_t i;

	if (worker_transaction(w, "failing tasks", worker_fail_tx, NULL) ==
	    -1) {
		w->next_settle = time_mono_ms() + WORKER_HEARTBEAT_MS;
		return;
	}
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].failing)
			log_info("task %lld: error: %s", w->wait.v[i].t.id,
				 w->fail_msg);
	waitset_remove_if(&w->wait, worker_is_failing);
}

/*
 * Fails the waiting tasks that need digits the store lacks with msg (see
 * worker_fail_failing). The tasks still failing from before, if any, get
 * msg too: there is one sentence for all, and a new failure comes only from
 * a computation, which waits until they are settled.
 */
static void
worker_fail_needing(struct worker *w, const char *msg)
{
	int n;

	waitset_fail_needing(&w->wait, w->have);
	n = snprintf(w->fail_msg, sizeof(w->fail_msg), "%s", msg);
	if (n < 0 || (size_t)n >= sizeof(w->fail_msg))
		log_warn("worker: message cut short: %s", w->fail_msg);
	worker_fail_failing(w);
}

/* Transaction body: finishes every waiting task the store covers. */
static int
worker_finish_tx(struct worker *w, void *arg)
{
	static const char unreadable[] =
	    "The digit store could not be read after the computation. Check "
	    "the data directory, then retry the task.";
	long long now = time_now_ms();
	struct waitset_task *x;
	size_t i;
	int rc;

	(void)arg;
	for (i = 0; i < w->wait.n; i++) {
		x = &w->wait.v[i];
		/* Set afresh on each try: a rollback undoes the last. */
		x->finished = 0;
		if (x->failing || x->t.n > w->have)
			continue;
		x->digit = (signed char)store_digit(w->cfg.store_path, x->t.n);
		/* Damaged: it waits for the rebuild. */
		if (x->digit < 0 && worker_store_lost(w, x->t.n))
			continue;
		x->finished = 1;
		rc = x->digit >= 0 ? queue_finish(w->q, &x->t, x->digit, now)
				   : queue_fail(w->q, &x->t, unreadable, now);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Finishes the waiting tasks the store now covers. */
static void
worker_finish_covered(struct worker *w)
{
	size_t i;

	for (i = 0; i < w->wait.n &&
		    (w->wait.v[i].failing || w->wait.v[i].t.n > w->have);
	     i++)
		;
	if (i == w->wait.n)
		return;
	if (worker_transaction(w, "finishing tasks", worker_finish_tx, NULL) ==
	    -1) {
		/* They stay ours; worker_settle tries again. */
		w->next_settle = time_mono_ms() + WORKER_HEARTBEAT_MS;
		return;
	}
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].finished && w->wait.v[i].digit >= 0)
			log_info("task %lld: decimal %lld is %d",
				 w->wait.v[i].t.id, w->wait.v[i].t.n,
				 w->wait.v[i].digit);
		else if (w->wait.v[i].finished)
			log_info("task %lld: error: the store could not be "
				 "read",
				 w->wait.v[i].t.id);
	waitset_remove_if(&w->wait, worker_is_finished);
}

/*
 * Settles what it can of the waiting tasks: fails the failing ones and
 * finishes the ones the store covers. Runs while a computation runs too.
 * After a failed transaction it waits a little before it tries again.
 */
static void
worker_settle(struct worker *w)
{
	if (time_mono_ms() < w->next_settle)
		return;
	if (waitset_any_failing(&w->wait))
		worker_fail_failing(w);
	worker_finish_covered(w);
}

/*
 * Whether a computation should start: a waiting task needs digits the
 * store lacks, or the store must be rebuilt; no failed task waits to be
 * settled, and no back-off holds it (the loop also waits for a backlog to
 * drain first).
 */
static int
worker_should_compute(const struct worker *w)
{
	return (w->wait.n > 0 || w->rebuild > w->have) &&
	       !compute_active(&w->comp) && time_mono_ms() >= w->next_start &&
	       !waitset_any_failing(&w->wait) && worker_need(w) > w->have;
}

/* Starts a computation for the waiting tasks that need one. */
static void
worker_start_compute(struct worker *w)
{
	long long need = worker_need(w), target, delay;
	char msg[512];

	target = w->exact_next
		     ? need
		     : growth_target(need, w->have, w->cfg.n_max, w->fit_max);
	if (compute_start(&w->comp, w->cfg.store_path, target,
			  w->cfg.compute_threads, w->cfg.memory_limit_mb, msg,
			  sizeof(msg)) == -1) {
		if (++w->start_tries < WORKER_START_TRIES) {
			delay = (long long)WORKER_START_RETRY_MS
				<< (w->start_tries - 1);
			log_warn("worker: %s Trying again in %lld ms.", msg,
				 delay);
			w->next_start = time_mono_ms() + delay;
			return;
		}
		log_err("worker: %s Tried %d times; giving up.", msg,
			w->start_tries);
		w->start_tries = 0;
		worker_backoff(w);
		worker_fail_needing(w, msg);
		return;
	}
	w->start_tries = 0;
	w->exact_next = 0;
	/* The first heartbeat right away shows the tasks at 0 %. */
	w->next_beat = time_mono_ms();
	w->joined = 1;
	if (snprintf(msg, sizeof(msg), "STATUS=Computing %lld decimals",
		     target) < (int)sizeof(msg))
		sdnotify(msg);
}

/*
 * Counts a failed computation against the store's rebuild, which stops
 * after WORKER_REBUILD_TRIES in a row: the log says so, and what fails
 * again and again (a full disk, a wrong engine) needs a person.
 */
static void
worker_rebuild_failed(struct worker *w)
{
	if (w->rebuild <= w->have)
		return;
	if (++w->rebuild_failures < WORKER_REBUILD_TRIES)
		return;
	log_err("worker: rebuilding the digit store failed %d times in a "
		"row; it is tried again when the worker restarts or a task "
		"needs those digits",
		w->rebuild_failures);
	w->rebuild = 0;
}

/* Transaction body: puts the requeuing waiting tasks back to queued. */
static int
worker_requeue_killed_tx(struct worker *w, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].requeuing &&
		    queue_requeue(w->q, &w->wait.v[i].t) == -1)
			return -1;
	return 0;
}

/*
 * After a computation was killed (COMPUTE_KILLED): puts the tasks that
 * needed it back in the queue, as a dead worker's would be, so that a
 * claim takes them again (attempts counts it) and the next computation
 * starts after the back-off. If the transaction fails they stay ours and
 * the next computation is theirs all the same.
 */
static void
worker_requeue_killed(struct worker *w, const char *msg)
{
	size_t i, n = 0;

	worker_backoff(w);
	for (i = 0; i < w->wait.n; i++)
		n += w->wait.v[i].requeuing =
		    (unsigned char)waitset_needs_digits(&w->wait.v[i], w->have);
	log_warn("worker: %s Putting %zu task%s back in the queue (%d of %d "
		 "in a row before they fail).",
		 msg, n, n == 1 ? "" : "s", w->kills, WORKER_MAX_KILLS);
	if (n == 0 || worker_transaction(w, "putting tasks back",
					 worker_requeue_killed_tx, NULL) == -1)
		return;
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].requeuing)
			log_info("task %lld: back in the queue",
				 w->wait.v[i].t.id);
	waitset_remove_if(&w->wait, worker_is_requeuing);
}

/* Acts on a computation that has ended on its own. */
static void
worker_computed(struct worker *w)
{
	long long decimals = w->comp.decimals, need = worker_need(w);
	long long took = time_mono_ms() - w->comp.started_ms;
	enum compute_outcome oc;
	char msg[512];

	oc =
	    compute_outcome(&w->comp, w->cfg.memory_limit_mb, msg, sizeof(msg));
	worker_stop_compute(w);
	if (oc == COMPUTE_INTERRUPTED && worker_quit)
		return; /* the shutdown puts the tasks back */
	if (oc == COMPUTE_INTERRUPTED &&
	    ++w->interrupts < WORKER_MAX_INTERRUPTS) {
		log_warn("worker: the computation was stopped by a signal; "
			 "starting it again");
		worker_backoff(w);
		return;
	}
	if (oc == COMPUTE_INTERRUPTED)
		worker_sentence(
		    msg, sizeof(msg),
		    "The computation was stopped by a signal %d times in a "
		    "row. Retry the task.",
		    WORKER_MAX_INTERRUPTS);
	w->interrupts = 0;
	if (oc == COMPUTE_KILLED && ++w->kills < WORKER_MAX_KILLS) {
		worker_requeue_killed(w, msg);
		return;
	}
	if (oc == COMPUTE_KILLED) {
		worker_sentence(msg + strlen(msg), sizeof(msg) - strlen(msg),
				" It happened %d times in a row, so the task "
				"was given up. Retry it; if it fails again, "
				"look in the system's log for what ends the "
				"computation.",
				WORKER_MAX_KILLS);
		oc = COMPUTE_FAILED;
	}
	w->kills = 0;
	/* Growth asked for more than the tasks need, and they passed the
	 * estimate: try once more with just what they need. */
	if (oc == COMPUTE_NOMEM && decimals > need) {
		log_warn("worker: %lld decimals did not fit in memory; "
			 "computing only the %lld needed",
			 decimals, need);
		w->exact_next = 1;
		return;
	}
	if (oc != COMPUTE_OK) {
		log_err("worker: computing %lld decimals failed after %lld ms: "
			"%s",
			decimals, took, msg);
		worker_backoff(w);
		worker_rebuild_failed(w);
		worker_fail_needing(w, msg);
		return;
	}
	w->failures = 0;
	log_info("worker: computed %lld decimals in %lld ms; the store holds "
		 "%lld",
		 decimals, took, w->have);
	if (w->have < decimals) {
		/* Failing them keeps the loop from computing the same thing
		 * forever. */
		worker_backoff(w);
		worker_rebuild_failed(w);
		worker_fail_needing(
		    w,
		    "The computed digits did not reach the digit store. Check "
		    "the data directory, then retry the task.");
	}
	worker_finish_covered(w);
}

/* queue_cancel_check callback: flags a waiting task of ours. */
static int
worker_flag_cancel(void *arg, long long id, long long attempts)
{
	struct worker *w = arg;
	size_t i;

	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].t.id == id &&
		    w->wait.v[i].t.attempts == attempts)
			w->wait.v[i].cancelling = 1;
	return 0;
}

/* Transaction body: sets cancelled on the cancelling waiting tasks. */
static int
worker_cancel_tx(struct worker *w, void *arg)
{
	long long now = time_now_ms();
	size_t i;

	(void)arg;
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].cancelling &&
		    queue_cancel(w->q, &w->wait.v[i].t, now) == -1)
			return -1;
	return 0;
}

/*
 * Cancels the waiting tasks someone asked to cancel, and stops the
 * computation once no task waits for it.
 */
static void
worker_cancel(struct worker *w)
{
	size_t i, n = 0;

	for (i = 0; i < w->wait.n; i++)
		w->wait.v[i].cancelling = 0;
	if (queue_cancel_check(w->q, worker_flag_cancel, w) == -1)
		return;
	for (i = 0; i < w->wait.n; i++)
		n += w->wait.v[i].cancelling;
	if (n == 0)
		return;
	if (worker_transaction(w, "cancelling tasks", worker_cancel_tx, NULL) ==
	    -1)
		return;
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].cancelling)
			log_info("task %lld: cancelled", w->wait.v[i].t.id);
	waitset_remove_if(&w->wait, worker_is_cancelling);
	worker_stop_if_unwanted(w);
}

/* queue_heartbeat callback: a waiting task that is still ours. */
static void
worker_still_ours(void *arg, long long id)
{
	struct worker *w = arg;
	size_t i;

	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].t.id == id)
			w->wait.v[i].gone = 0;
}

/* Transaction body: renews the leases and sets the progress at arg. */
static int
worker_heartbeat_tx(struct worker *w, void *arg)
{
	const double *progress = arg;
	size_t i;

	/* Gone unless the heartbeat finds it ours (worker_still_ours). */
	for (i = 0; i < w->wait.n; i++)
		w->wait.v[i].gone = 1;
	return queue_heartbeat(w->q, waitset_held(&w->wait), w->wait.n,
			       *progress, time_now_ms(), worker_still_ours,
			       w) == -1
		   ? -1
		   : 0;
}

/*
 * Copies the computation's progress into the waiting tasks and renews
 * their leases, in one statement, when the progress has moved, tasks have
 * joined or the leases are due; and forgets the tasks that are gone.
 */
static void
worker_heartbeat(struct worker *w)
{
	long long now = time_mono_ms();
	/* 1 means done; a task reaches it only with its digit. */
	double p = w->comp.progress < 0.999 ? w->comp.progress : 0.999;
	size_t i;

	w->next_beat = now + WORKER_HEARTBEAT_MS;
	if (!w->joined && fabs(p - w->beat_progress) < WORKER_PROGRESS_STEP &&
	    now - w->renewed < WORKER_RENEW_MS)
		return;
	if (worker_transaction(w, "renewing leases", worker_heartbeat_tx, &p) ==
	    -1)
		return;
	w->renewed = now;
	w->beat_progress = p;
	w->joined = 0;
	for (i = 0; i < w->wait.n; i++)
		if (w->wait.v[i].gone)
			log_info("task %lld: deleted or taken over; no longer "
				 "ours",
				 w->wait.v[i].t.id);
	waitset_remove_if(&w->wait, worker_is_gone);
	worker_stop_if_unwanted(w);
}

/* Transaction body: puts every waiting task back to queued. */
static int
worker_requeue_tx(struct worker *w, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < w->wait.n; i++)
		if (queue_requeue(w->q, &w->wait.v[i].t) == -1)
			return -1;
	return 0;
}

/*
 * Waits for a database change, the child's pipe, a signal, or the next
 * timer, at most timeout_ms. The stop signals are blocked except inside
 * ppoll, so one that arrives between the loop's check and the wait still
 * wakes it at once (or, if ppoll finds a descriptor ready first, stays
 * pending for worker_take_stop). Returns 1 if the database changed.
 */
static int
worker_wait(struct worker *w, long long timeout, const sigset_t *unblocked)
{
	struct pollfd pfd[2];
	struct timespec ts;
	long long now = time_mono_ms();
	nfds_t n = 0;
	int watch = -1;

	if (w->next_poll - now < timeout)
		timeout = w->next_poll - now;
	if (w->wait.n > 0 && w->next_beat - now < timeout)
		timeout = w->next_beat - now;
	if (w->watchdog_ms > 0 && w->next_watchdog - now < timeout)
		timeout = w->next_watchdog - now;
	/* Ones in the past hold nothing back any more. */
	if ((w->wait.n > 0 || w->rebuild > 0) && w->next_start > now &&
	    w->next_start - now < timeout)
		timeout = w->next_start - now;
	if (w->wait.n > 0 && w->next_settle > now &&
	    w->next_settle - now < timeout)
		timeout = w->next_settle - now;
	if (timeout < 0)
		timeout = 0;
	if (w->watch_fd != -1) {
		watch = (int)n;
		pfd[n].fd = w->watch_fd;
		pfd[n++].events = POLLIN;
	}
	if (compute_active(&w->comp) && w->comp.fd != -1) {
		pfd[n].fd = w->comp.fd;
		pfd[n++].events = POLLIN;
	} else if (compute_active(&w->comp) && timeout > WORKER_REAP_MS)
		/* Its pipe has closed: compute_read reaps it soon. */
		timeout = WORKER_REAP_MS;
	ts.tv_sec = timeout / 1000;
	ts.tv_nsec = (timeout % 1000) * 1000000L;
	if (ppoll(pfd, n, &ts, unblocked) <= 0 || watch == -1 ||
	    !(pfd[watch].revents & POLLIN))
		return 0;
	/* Drains the events; they may be about the digit store only. */
	return dbwatch_wait(w->watch_fd, 0) == 1;
}

/*
 * Whether the database file has gone away (dbfile.h). Then the worker
 * claims nothing and writes nothing more, so that all it did stays in what
 * the lost file left, and says so once; a computation under way goes on,
 * for the digit store.
 */
static int
worker_db_gone(struct worker *w)
{
	if (dbfile_check(w->db) == 0)
		return 0;
	if (!w->said_gone)
		log_err(
		    "worker: not claiming tasks, and writing nothing to the "
		    "database, until nthpi is restarted: its file went away "
		    "(the error above says what to do)%s",
		    w->wait.n > 0 ? "; the tasks it was computing stay "
				    "running there, and are claimed again "
				    "after the restart"
				  : "");
	w->said_gone = 1;
	return 1;
}

/* Tells systemd's watchdog that the loop goes round, when it is due. */
static void
worker_watchdog(struct worker *w)
{
	if (w->watchdog_ms > 0 && time_mono_ms() >= w->next_watchdog) {
		sdnotify("WATCHDOG=1");
		w->next_watchdog = time_mono_ms() + w->watchdog_ms / 2;
	}
}

/* The daemon loop; returns when asked to stop. */
static void
worker_loop(struct worker *w, const sigset_t *unblocked)
{
	int changed = 1, more = 0;
	long long now;

	while (!worker_quit && !worker_take_stop()) {
		if (compute_read(&w->comp) == 1)
			worker_computed(w);
		if (worker_quit)
			break;
		log_tick();
		if (worker_db_gone(w)) {
			/* Only the computation's pipe, a signal or the
			 * watchdog still has anything to do. */
			w->next_poll = w->next_beat =
			    time_mono_ms() + WORKER_POLL_MS;
			worker_watchdog(w);
			worker_wait(w, WORKER_POLL_MS, unblocked);
			continue;
		}
		/* Cheap unless the store changed: one open and fstat. Not
		 * while a computation runs: its child may be between the
		 * store's rename and its check file's, and the store it
		 * writes replaces this one; worker_stop_compute checks that
		 * one, and a read that finds a block damaged meanwhile lowers
		 * have all the same (worker_store_lost). */
		if (!compute_active(&w->comp))
			worker_store_check(w, 0);
		now = time_mono_ms();
		/* Progress lines from the child wake the loop five times a
		 * second; the queue is read only when it may have changed
		 * or a lease may have lapsed. */
		if ((changed && now >= w->next_claim) || more ||
		    now >= w->next_poll) {
			w->next_poll = now + WORKER_POLL_MS;
			more = worker_claim(w);
			if (w->wait.n > 0)
				worker_cancel(w);
		}
		if (w->wait.n > 0)
			worker_settle(w);
		if (!more && worker_should_compute(w))
			worker_start_compute(w);
		if (w->wait.n > 0 && time_mono_ms() >= w->next_beat)
			worker_heartbeat(w);
		if (time_mono_ms() >= w->next_seen) {
			/* A failure is logged; the next try comes as usual. */
			queue_seen(w->q, time_now_ms());
			w->next_seen = time_mono_ms() + WORKER_SEEN_MS;
		}
		worker_watchdog(w);
		/* With a backlog the wait only lets a stop signal in, if no
		 * descriptor is ready; worker_take_stop catches it otherwise. */
		changed = worker_wait(w, more ? 0 : WORKER_POLL_MS, unblocked);
	}
}

/* Stops the computation and gives its tasks back to the queue. */
static void
worker_shutdown(struct worker *w)
{
	size_t n = w->wait.n;

	sdnotify("STOPPING=1");
	if (compute_active(&w->comp))
		compute_stop(&w->comp);
	if (n == 0)
		return;
	if (dbfile_gone()) {
		log_warn("worker: %zu running task%s left as %s: the database "
			 "file went away",
			 n, n == 1 ? "" : "s", n == 1 ? "it is" : "they are");
		return;
	}
	/* One try only, waiting at most WORKER_BUSY_MS for the lock: a stop
	 * takes at most 2 s, and if the requeue fails the leases lapse and
	 * the tasks are claimed again all the same. */
	if (queue_begin(w->q) == 0 && worker_requeue_tx(w, NULL) == 0 &&
	    queue_commit(w->q) == 0)
		log_info("worker: put %zu running task%s back in the queue", n,
			 n == 1 ? "" : "s");
	else {
		queue_rollback(w->q);
		log_warn("worker: could not put %zu task%s back; their "
			 "leases will lapse and they will be claimed again",
			 n, n == 1 ? "" : "s");
	}
}

/* Writes "3" and `decimals` decimals to path, and its check file: the
 * benchmark mode. */
static int
worker_cli(const struct config *cfg, long long decimals, const char *path)
{
	long long t0 = time_mono_ms();
	char err[512], *out = NULL;
	enum pi_result r;
	struct pi_params params = { (size_t)decimals, cfg->compute_threads,
				    (size_t)cfg->memory_limit_mb << 20 };
	long long wrong;
	int rc = 1;

	log_info("computing %lld decimals with %d thread%s", decimals,
		 cfg->compute_threads, cfg->compute_threads == 1 ? "" : "s");
	r = pi_compute(&params, NULL, &out);
	if (r != PI_OK) {
		log_err("%s", pi_result_message(r));
		goto out;
	}
	log_info("computed %lld decimals in %lld ms", decimals,
		 time_mono_ms() - t0);
	if ((wrong = pi_known_check(out, (size_t)decimals)) > 0) {
		log_err("the first %lld decimals computed do not match the "
			"published SHA-256 of pi's; %s is not written",
			wrong, path);
		goto out;
	}
	if (store_write(path, out, (size_t)decimals, err, sizeof(err)) == -1) {
		log_err("%s: %s", path, err);
		goto out;
	}
	rc = 0;
out:
	free(out);
	return rc;
}

/*
 * Takes --digits and --output (which config_from_args would refuse) out of
 * argv. Returns 0, or -1 with a sentence in err.
 */
static int
worker_strip_cli(int *argc, char **argv, long long *digits, const char **output,
		 char *err, size_t errlen)
{
	int i, j = 1;

	*digits = -1;
	*output = NULL;
	for (i = 1; i < *argc; i++) {
		const char *a = argv[i], *v = NULL;
		int is_digits = 0;

		if (strcmp(a, "--digits") == 0 || strcmp(a, "--output") == 0) {
			if (i + 1 >= *argc) {
				worker_sentence(err, errlen, "%s needs a value",
						a);
				return -1;
			}
			is_digits = a[2] == 'd';
			v = argv[++i];
		} else if (strncmp(a, "--digits=", 9) == 0) {
			is_digits = 1;
			v = a + 9;
		} else if (strncmp(a, "--output=", 9) == 0)
			v = a + 9;
		if (v == NULL) {
			argv[j++] = argv[i];
			continue;
		}
		if (is_digits) {
			char *end;

			errno = 0;
			*digits = strtoll(v, &end, 10);
			if (v[0] < '0' || v[0] > '9' || *end != '\0' ||
			    errno != 0 || *digits < 1) {
				worker_sentence(
				    err, errlen,
				    "--digits: \"%s\" is not a whole number "
				    "of 1 or more",
				    v);
				return -1;
			}
		} else
			*output = v;
	}
	argv[j] = NULL;
	*argc = j;
	if ((*digits == -1) != (*output == NULL)) {
		worker_sentence(err, errlen,
				"--digits and --output go together");
		return -1;
	}
	return 0;
}

/*
 * Sets up signals: SIGTERM, SIGINT and SIGHUP (a closed terminal) stop the
 * worker, through a flag, and are blocked outside ppoll; no SIGPIPE. A
 * SIGHUP ignored when the worker starts stays ignored, as nohup asks, and
 * as scripts/run.sh does, which stops the worker itself on a hangup.
 */
static void
worker_signals(sigset_t *unblocked)
{
	static const int stops[] = { SIGTERM, SIGINT, SIGHUP };
	struct sigaction sa, hup;
	size_t i;

	sigemptyset(&worker_stops);
	sigaddset(&worker_stops, SIGTERM);
	sigaddset(&worker_stops, SIGINT);
	if (sigaction(SIGHUP, NULL, &hup) == -1)
		log_exit(LOG_EXIT_START, "sigaction: %s", strerror(errno));
	if (hup.sa_handler != SIG_IGN)
		sigaddset(&worker_stops, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &worker_stops, unblocked) == -1)
		log_exit(LOG_EXIT_START, "sigprocmask: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
		if (sigismember(&worker_stops, stops[i]) != 1)
			continue;
		/* No SA_RESTART: a stop must interrupt the wait. */
		if (sigaction(stops[i], &sa, NULL) == -1)
			log_exit(LOG_EXIT_START, "sigaction: %s",
				 strerror(errno));
		sigdelset(unblocked, stops[i]);
	}
	signal(SIGPIPE, SIG_IGN);
}

/* Transaction body: ends the leases of a dead worker's tasks. */
static int
worker_orphans_tx(struct worker *w, void *arg)
{
	int *count = arg;

	return (*count = queue_release_orphans(w->q)) == -1 ? -1 : 0;
}

/*
 * Takes the data directory's lock, or exits: two workers on one directory
 * would remove each other's temp files and compute the same digits twice.
 */
static void
worker_lock_data(struct worker *w)
{
	char who[32] = "";
	pid_t holder;

	if ((w->lock_fd = datalock_take(w->cfg.data_dir, &holder)) != -1)
		return;
	if (errno != EAGAIN)
		log_exit(LOG_EXIT_START, "cannot lock %s/%s: %s",
			 w->cfg.data_dir, DATALOCK_NAME, strerror(errno));
	if (holder > 0)
		snprintf(who, sizeof(who), " (pid %ld)", (long)holder);
	log_exit(LOG_EXIT_START,
		 "another nthpi-worker%s already works on %s; one worker per "
		 "data directory: stop that one first",
		 who, w->cfg.data_dir);
}

int
main(int argc, char **argv)
{
	struct worker w;
	sigset_t unblocked;
	const char *output;
	long long digits;
	char errbuf[PATH_MAX + 128];
	int rc = 1, orphans = 0;

	memset(&w, 0, sizeof(w));
	w.watch_fd = -1;
	w.lock_fd = -1;
	compute_init(&w.comp);
	log_init("nthpi-worker", LOG_LEVEL_INFO);
	config_defaults(&w.cfg);
	if (worker_strip_cli(&argc, argv, &digits, &output, errbuf,
			     sizeof(errbuf)) == -1)
		log_exit(LOG_EXIT_USAGE, "%s", errbuf);
	switch (config_from_args(&w.cfg, argc, argv, errbuf, sizeof(errbuf))) {
	case 0:
		break;
	case 1:
		config_usage(
		    "nthpi-worker",
		    "Takes tasks from the queue and computes the digits of "
		    "pi.\n"
		    "With --digits N --output FILE, writes \"3\" and N "
		    "decimals to FILE and exits.");
		return 0;
	default:
		log_exit(LOG_EXIT_USAGE, "%s", errbuf);
	}
	log_init("nthpi-worker",
		 w.cfg.log_debug ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO);
	if (output != NULL)
		return worker_cli(&w.cfg, digits, output);

	if (mkdir(w.cfg.data_dir, 0750) == -1 && errno != EEXIST)
		log_exit(LOG_EXIT_START, "%s: %s", w.cfg.data_dir,
			 strerror(errno));
	worker_lock_data(&w);
	worker_signals(&unblocked);
	/* db_open has logged why, with the path and what to do. */
	if ((w.db = db_open(w.cfg.db_path)) == NULL)
		return LOG_EXIT_START;
	sqlite3_busy_handler(w.db, worker_busy, &w);
	if ((w.q = queue_open(w.db)) == NULL)
		log_exit(LOG_EXIT_START, "cannot prepare the queue statements");
	if ((w.claimed = calloc(WORKER_CLAIM_BATCH, sizeof(*w.claimed))) ==
	    NULL)
		log_exit(LOG_EXIT_START, "out of memory");
	w.watch_fd = dbwatch_open(w.cfg.db_path);
	/* We hold the data directory's lock and no computation of ours runs
	 * yet: any temp file there and any running task is a dead worker's.
	 * Its tasks are claimed again now rather than when their leases
	 * lapse. */
	compute_remove_temps(w.cfg.store_path);
	if (store_check_path(w.cfg.store_path, errbuf, sizeof(errbuf)) == 0)
		compute_remove_temps(errbuf);
	if (worker_transaction(&w, "releasing a dead worker's tasks",
			       worker_orphans_tx, &orphans) == 0 &&
	    orphans > 0)
		log_info("worker: %d running task%s of a stopped worker taken "
			 "up again",
			 orphans, orphans == 1 ? "" : "s");
	w.fit_max = growth_fit_max((size_t)w.cfg.memory_limit_mb << 20,
				   w.cfg.compute_threads, w.cfg.n_max,
				   pi_memory_estimate);
	w.refuse_above = w.fit_max < w.cfg.n_max ? w.fit_max : w.cfg.n_max;
	/* Before any task is answered from it. */
	worker_store_check(&w, 1);
	w.watchdog_ms = sdnotify_watchdog_ms();
	w.next_watchdog = time_mono_ms();
	log_info("worker: ready; data %s, store holds %lld decimals, n_max "
		 "%lld, memory limit %lld MiB fits %lld decimals, %d compute "
		 "thread%s",
		 w.cfg.data_dir, w.have, w.cfg.n_max, w.cfg.memory_limit_mb,
		 w.fit_max, w.cfg.compute_threads,
		 w.cfg.compute_threads == 1 ? "" : "s");
	sdnotify("READY=1\nSTATUS=Waiting for tasks");

	worker_loop(&w, &unblocked);

	log_info("worker: stopping");
	worker_shutdown(&w);
	rc = 0;
	if (w.watch_fd != -1)
		close(w.watch_fd);
	queue_close(w.q);
	db_close(w.db);
	free(w.claimed);
	waitset_free(&w.wait);
	/* Last: a new worker may start once this one has let go of all. */
	if (w.lock_fd != -1)
		close(w.lock_fd);
	return rc;
}
