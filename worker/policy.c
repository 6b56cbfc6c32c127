/* policy.c: the worker's scheduling policy: transactions, when a
 * computation starts, and what its end means for the waiting tasks. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbfile.h"
#include "growth.h"
#include "log.h"
#include "pi.h"
#include "policy.h"
#include "sdnotify.h"
#include "settle.h"
#include "stops.h"
#include "timefmt.h"

/* Tries of a transaction that failed (SQLITE_BUSY and the like). */
#define POLICY_TX_TRIES 3
/* A computation interrupted this often in a row fails its tasks. */
#define POLICY_MAX_INTERRUPTS 3
/* A computation ended this often in a row by a signal nthpi did not send
 * (compute.h: COMPUTE_KILLED) fails its tasks; until then they go back to
 * the queue, as a dead worker's do. */
#define POLICY_MAX_KILLS 3
/* Tries to start a computation, POLICY_START_RETRY_MS apart and doubling,
 * before its tasks fail: fork can fail for a moment (EAGAIN) when a process
 * or memory limit is near. */
#define POLICY_START_TRIES 4
#define POLICY_START_RETRY_MS 250
/* After a failed computation the next one waits POLICY_BACKOFF_MS, doubled
 * for each failure in a row up to POLICY_BACKOFF_MAX_MS, so that one that
 * cannot succeed (a full disk) is not run again for each new task at once. */
#define POLICY_BACKOFF_MS 1000
#define POLICY_BACKOFF_MAX_MS 30000

/*
 * Formats a sentence for a task or a person into out. A cut sentence is
 * still safe to store, but it is logged so that someone notices.
 */
void
policy_sentence(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		log_warn("worker: message cut short: %s", out);
}

/*
 * SQLite's busy handler for the worker's connection, in place of db_open's
 * 10 s timeout: a lock wait is short and ends at once when a stop signal is
 * pending, so that the worker still stops within 2 s while another process
 * holds the write lock. Returns 1 to wait more, 0 to give up (SQLITE_BUSY).
 */
static int
policy_busy(void *arg, int count)
{
	struct policy *pol = arg;
	struct timespec pause = { 0, 2000000L };

	if (count == 0)
		pol->busy_since = time_mono_ms();
	if (time_mono_ms() - pol->busy_since >= POLICY_BUSY_MS ||
	    stops_pending())
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
int
policy_transaction(struct policy *pol, const char *what, policy_tx_fn fn,
		   void *arg)
{
	struct timespec pause = { 0, 0 };
	int i;

	for (i = 0; i < POLICY_TX_TRIES; i++) {
		/* Nothing more goes into a file that went away; the loop
		 * says so once (policy_db_gone). */
		if (dbfile_check(pol->db) == -1)
			return -1;
		if (i > 0) {
			/* A stop puts everything back anyway. */
			if (stops_pending())
				break;
			pause.tv_nsec = 50000000L << (i - 1);
			log_warn("worker: %s failed; trying again", what);
			nanosleep(&pause, NULL);
		}
		if (queue_begin(pol->q) == 0 && fn(pol, arg) == 0 &&
		    queue_commit(pol->q) == 0)
			return 0;
		queue_rollback(pol->q);
	}
	log_err("worker: %s failed %d time%s; will try again later", what, i,
		i == 1 ? "" : "s");
	return -1;
}

/* The decimals the next computation must reach: the waiting tasks' and the
 * store's rebuild. */
long long
policy_need(const struct policy *pol)
{
	long long m = waitset_max_needed(&pol->wait, pol->store.have);

	return pol->store.rebuild > m ? pol->store.rebuild : m;
}

/*
 * Holds the next computation back after a failed one: POLICY_BACKOFF_MS,
 * doubled for each failure in a row, at most POLICY_BACKOFF_MAX_MS.
 */
static void
policy_backoff(struct policy *pol)
{
	long long delay = POLICY_BACKOFF_MS;
	int i;

	for (i = 0; i < pol->failures && delay < POLICY_BACKOFF_MAX_MS; i++)
		delay *= 2;
	if (delay > POLICY_BACKOFF_MAX_MS)
		delay = POLICY_BACKOFF_MAX_MS;
	pol->failures++;
	pol->next_start = time_mono_ms() + delay;
	log_info("worker: the next computation starts in %lld ms at the "
		 "earliest",
		 delay);
}

/*
 * Stops (or, once it has ended, resets) the computation and reads the
 * store's size again: a child may have replaced the store just before it
 * was killed.
 */
void
policy_stop_compute(struct policy *pol)
{
	compute_stop(&pol->comp);
	sdnotify("STATUS=Waiting for tasks");
	storestate_check(pol, 0);
}

/* Stops the computation if no task waits for it any more. */
void
policy_stop_if_unwanted(struct policy *pol)
{
	if (!compute_active(&pol->comp) ||
	    waitset_max_needed(&pol->wait, pol->store.have) > 0 ||
	    pol->store.rebuild > pol->store.have)
		return;
	log_info("worker: no task waits for the computation; stopping it");
	policy_stop_compute(pol);
}

/*
 * Whether a computation should start: a waiting task needs digits the
 * store lacks, or the store must be rebuilt; no failed task waits to be
 * settled, and no back-off holds it (the loop also waits for a backlog to
 * drain first).
 */
int
policy_should_compute(const struct policy *pol)
{
	return (pol->wait.n > 0 || pol->store.rebuild > pol->store.have) &&
	       !compute_active(&pol->comp) &&
	       time_mono_ms() >= pol->next_start &&
	       !waitset_any_failing(&pol->wait) &&
	       policy_need(pol) > pol->store.have;
}

/* Starts a computation for the waiting tasks that need one. */
int
policy_start_compute(struct policy *pol)
{
	long long need = policy_need(pol), target, delay;
	char msg[512];

	target = pol->exact_next ? need
				 : growth_target(need, pol->store.have,
						 pol->cfg->n_max, pol->fit_max);
	if (compute_start(&pol->comp, pol->cfg->store_path, target,
			  pol->cfg->compute_threads, pol->cfg->memory_limit_mb,
			  msg, sizeof(msg)) == -1) {
		if (++pol->start_tries < POLICY_START_TRIES) {
			delay = (long long)POLICY_START_RETRY_MS
				<< (pol->start_tries - 1);
			log_warn("worker: %s Trying again in %lld ms.", msg,
				 delay);
			pol->next_start = time_mono_ms() + delay;
			return 0;
		}
		log_err("worker: %s Tried %d times; giving up.", msg,
			pol->start_tries);
		pol->start_tries = 0;
		policy_backoff(pol);
		settle_fail_needing(pol, msg);
		return 0;
	}
	pol->start_tries = 0;
	pol->exact_next = 0;
	pol->beat.joined = 1;
	if (snprintf(msg, sizeof(msg), "STATUS=Computing %lld decimals",
		     target) < (int)sizeof(msg))
		sdnotify(msg);
	return 1;
}

/* Which waiting tasks policy_requeue_killed removes once it commits. */
static int
policy_is_requeuing(const struct waitset_task *x)
{
	return x->requeuing;
}

/* Transaction body: puts the requeuing waiting tasks back to queued. */
static int
policy_requeue_killed_tx(struct policy *pol, void *arg)
{
	size_t i;

	(void)arg;
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].requeuing &&
		    queue_requeue(pol->q, &pol->wait.v[i].t) == -1)
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
policy_requeue_killed(struct policy *pol, const char *msg)
{
	size_t i, n = 0;

	policy_backoff(pol);
	for (i = 0; i < pol->wait.n; i++)
		n += pol->wait.v[i].requeuing =
		    (unsigned char)waitset_needs_digits(&pol->wait.v[i],
							pol->store.have);
	log_warn("worker: %s Putting %zu task%s back in the queue (%d of %d "
		 "in a row before they fail).",
		 msg, n, n == 1 ? "" : "s", pol->kills, POLICY_MAX_KILLS);
	if (n == 0 || policy_transaction(pol, "putting tasks back",
					 policy_requeue_killed_tx, NULL) == -1)
		return;
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].requeuing)
			log_info("task %lld: back in the queue",
				 pol->wait.v[i].t.id);
	waitset_remove_if(&pol->wait, policy_is_requeuing);
}

/* Acts on a computation that has ended on its own. */
void
policy_computed(struct policy *pol)
{
	long long decimals = pol->comp.decimals, need = policy_need(pol);
	long long took = time_mono_ms() - pol->comp.started_ms;
	enum compute_outcome oc;
	char msg[512];

	oc = compute_outcome(&pol->comp, pol->cfg->memory_limit_mb, msg,
			     sizeof(msg));
	policy_stop_compute(pol);
	if (oc == COMPUTE_INTERRUPTED && stops_requested())
		return; /* the shutdown puts the tasks back */
	if (oc == COMPUTE_INTERRUPTED &&
	    ++pol->interrupts < POLICY_MAX_INTERRUPTS) {
		log_warn("worker: the computation was stopped by a signal; "
			 "starting it again");
		policy_backoff(pol);
		return;
	}
	if (oc == COMPUTE_INTERRUPTED)
		policy_sentence(
		    msg, sizeof(msg),
		    "The computation was stopped by a signal %d times in a "
		    "row. Retry the task.",
		    POLICY_MAX_INTERRUPTS);
	pol->interrupts = 0;
	if (oc == COMPUTE_KILLED && ++pol->kills < POLICY_MAX_KILLS) {
		policy_requeue_killed(pol, msg);
		return;
	}
	if (oc == COMPUTE_KILLED) {
		policy_sentence(msg + strlen(msg), sizeof(msg) - strlen(msg),
				" It happened %d times in a row, so the task "
				"was given up. Retry it; if it fails again, "
				"look in the system's log for what ends the "
				"computation.",
				POLICY_MAX_KILLS);
		oc = COMPUTE_FAILED;
	}
	pol->kills = 0;
	/* Growth asked for more than the tasks need, and they passed the
	 * estimate: try once more with just what they need. */
	if (oc == COMPUTE_NOMEM && decimals > need) {
		log_warn("worker: %lld decimals did not fit in memory; "
			 "computing only the %lld needed",
			 decimals, need);
		pol->exact_next = 1;
		return;
	}
	if (oc != COMPUTE_OK) {
		log_err("worker: computing %lld decimals failed after %lld ms: "
			"%s",
			decimals, took, msg);
		policy_backoff(pol);
		storestate_rebuild_failed(pol);
		settle_fail_needing(pol, msg);
		return;
	}
	pol->failures = 0;
	log_info("worker: computed %lld decimals in %lld ms; the store holds "
		 "%lld",
		 decimals, took, pol->store.have);
	if (pol->store.have < decimals) {
		/* Failing them keeps the loop from computing the same thing
		 * forever. */
		policy_backoff(pol);
		storestate_rebuild_failed(pol);
		settle_fail_needing(
		    pol,
		    "The computed digits did not reach the digit store. Check "
		    "the data directory, then retry the task.");
	}
	settle_finish_covered(pol);
}

/*
 * Whether the database file has gone away (dbfile.h). Then the worker
 * claims nothing and writes nothing more, so that all it did stays in what
 * the lost file left, and says so once; a computation under way goes on,
 * for the digit store.
 */
int
policy_db_gone(struct policy *pol)
{
	if (dbfile_check(pol->db) == 0)
		return 0;
	if (!pol->said_gone)
		log_err(
		    "worker: not claiming tasks, and writing nothing to the "
		    "database, until nthpi is restarted: its file went away "
		    "(the error above says what to do)%s",
		    pol->wait.n > 0 ? "; the tasks it was computing stay "
				      "running there, and are claimed again "
				      "after the restart"
				    : "");
	pol->said_gone = 1;
	return 1;
}

int
policy_init(struct policy *pol, const struct config *cfg, sqlite3 *db,
	    struct queue *q)
{
	memset(pol, 0, sizeof(*pol));
	pol->cfg = cfg;
	pol->db = db;
	pol->q = q;
	compute_init(&pol->comp);
	if (claim_init(&pol->claims) == -1)
		return -1;
	sqlite3_busy_handler(db, policy_busy, pol);
	pol->fit_max = growth_fit_max((size_t)cfg->memory_limit_mb << 20,
				      cfg->compute_threads, cfg->n_max,
				      pi_memory_estimate);
	pol->refuse_above =
	    pol->fit_max < cfg->n_max ? pol->fit_max : cfg->n_max;
	return 0;
}

void
policy_free(struct policy *pol)
{
	claim_free(&pol->claims);
	waitset_free(&pol->wait);
}

long long
policy_wake_timeout(const struct policy *pol, long long now, long long timeout)
{
	/* Ones in the past hold nothing back any more. */
	if ((pol->wait.n > 0 || pol->store.rebuild > 0) &&
	    pol->next_start > now && pol->next_start - now < timeout)
		timeout = pol->next_start - now;
	if (pol->wait.n > 0 && pol->next_settle > now &&
	    pol->next_settle - now < timeout)
		timeout = pol->next_settle - now;
	return timeout;
}
