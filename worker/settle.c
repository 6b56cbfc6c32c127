/* settle.c: what happens to the waiting tasks' rows: failed, finished from
 * the store, cancelled, and their leases and progress kept by the
 * heartbeat. Each step flags the tasks it acts on (waitset.h) and removes
 * them once its transaction commits. */
#include <math.h>
#include <stdio.h>

#include "log.h"
#include "policy.h"
#include "settle.h"
#include "store.h"
#include "timefmt.h"

/*
 * The waiting tasks get the computation's progress at most every
 * POLICY_HEARTBEAT_MS, and only once it has moved by SETTLE_PROGRESS_STEP:
 * each write moves the queue version once per task and wakes every
 * long-polling page. The step is the least change the API shows (four
 * digits): a coarser one would hold the bar still for seconds where the
 * paced progress (pacer.c) slows near a phase's end. Their leases
 * (QUEUE_LEASE_MS, 10 s) are renewed at least every SETTLE_RENEW_MS all
 * the same.
 */
#define SETTLE_PROGRESS_STEP 0.0001
#define SETTLE_RENEW_MS 3000

/* Which waiting tasks a step removes once its transaction commits. */
static int
settle_is_failing(const struct waitset_task *x)
{
	return x->failing;
}

static int
settle_is_finished(const struct waitset_task *x)
{
	return x->finished;
}

static int
settle_is_cancelling(const struct waitset_task *x)
{
	return x->cancelling;
}

static int
settle_is_gone(const struct waitset_task *x)
{
	return x->gone;
}

/* Transaction body: sets s->fail_msg on every failing task. */
static int
settle_fail_tx(struct policy *pol, void *arg)
{
	long long now = time_now_ms();
	size_t i;

	(void)arg;
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].failing &&
		    queue_fail(pol->q, &pol->wait.v[i].t, pol->fail_msg, now) ==
			-1)
			return -1;
	return 0;
}

/*
 * Fails the failing waiting tasks and forgets them. If the transaction
 * fails they stay ours and failing: settle_run tries again a little
 * later, and no computation starts until they are settled, so that a task
 * whose computation failed does not start it again.
 */
static void
settle_fail_failing(struct policy *pol)
{
	size_t i;

	if (policy_transaction(pol, "failing tasks", settle_fail_tx, NULL) ==
	    -1) {
		pol->next_settle = time_mono_ms() + POLICY_HEARTBEAT_MS;
		return;
	}
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].failing)
			log_info("task %lld: error: %s", pol->wait.v[i].t.id,
				 pol->fail_msg);
	waitset_remove_if(&pol->wait, settle_is_failing);
}

/*
 * Fails the waiting tasks that need digits the store lacks with msg (see
 * settle_fail_failing). The tasks still failing from before, if any, get
 * msg too: there is one sentence for all, and a new failure comes only from
 * a computation, which waits until they are settled.
 */
void
settle_fail_needing(struct policy *pol, const char *msg)
{
	int n;

	waitset_fail_needing(&pol->wait, pol->store.have);
	n = snprintf(pol->fail_msg, sizeof(pol->fail_msg), "%s", msg);
	if (n < 0 || (size_t)n >= sizeof(pol->fail_msg))
		log_warn("worker: message cut short: %s", pol->fail_msg);
	settle_fail_failing(pol);
}

/* Transaction body: finishes every waiting task the store covers. */
static int
settle_finish_tx(struct policy *pol, void *arg)
{
	static const char unreadable[] =
	    "The digit store could not be read after the computation. Check "
	    "the data directory, then retry the task.";
	long long now = time_now_ms();
	struct waitset_task *x;
	size_t i;
	int rc;

	(void)arg;
	for (i = 0; i < pol->wait.n; i++) {
		x = &pol->wait.v[i];
		/* Set afresh on each try: a rollback undoes the last. */
		x->finished = 0;
		if (x->failing || x->t.n > pol->store.have)
			continue;
		x->digit =
		    (signed char)store_digit(pol->cfg->store_path, x->t.n);
		/* Damaged: it waits for the rebuild. */
		if (x->digit < 0 && storestate_lost(pol, x->t.n))
			continue;
		x->finished = 1;
		rc = x->digit >= 0 ? queue_finish(pol->q, &x->t, x->digit, now)
				   : queue_fail(pol->q, &x->t, unreadable, now);
		if (rc == -1)
			return -1;
	}
	return 0;
}

/* Finishes the waiting tasks the store now covers. */
void
settle_finish_covered(struct policy *pol)
{
	size_t i;

	for (i = 0; i < pol->wait.n && (pol->wait.v[i].failing ||
					pol->wait.v[i].t.n > pol->store.have);
	     i++)
		;
	if (i == pol->wait.n)
		return;
	if (policy_transaction(pol, "finishing tasks", settle_finish_tx,
			       NULL) == -1) {
		/* They stay ours; settle_run tries again. */
		pol->next_settle = time_mono_ms() + POLICY_HEARTBEAT_MS;
		return;
	}
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].finished && pol->wait.v[i].digit >= 0)
			log_info("task %lld: decimal %lld is %d",
				 pol->wait.v[i].t.id, pol->wait.v[i].t.n,
				 pol->wait.v[i].digit);
		else if (pol->wait.v[i].finished)
			log_info("task %lld: error: the store could not be "
				 "read",
				 pol->wait.v[i].t.id);
	waitset_remove_if(&pol->wait, settle_is_finished);
}

/*
 * Settles what it can of the waiting tasks: fails the failing ones and
 * finishes the ones the store covers. Runs while a computation runs too.
 * After a failed transaction it waits a little before it tries again.
 */
void
settle_run(struct policy *pol)
{
	if (time_mono_ms() < pol->next_settle)
		return;
	if (waitset_any_failing(&pol->wait))
		settle_fail_failing(pol);
	settle_finish_covered(pol);
}

/* queue_cancel_check callback: flags a waiting task of ours. */
static int
settle_flag_cancel(void *arg, long long id, long long attempts)
{
	struct policy *pol = arg;
	size_t i;

	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].t.id == id &&
		    pol->wait.v[i].t.attempts == attempts)
			pol->wait.v[i].cancelling = 1;
	return 0;
}

/* Transaction body: sets cancelled on the cancelling waiting tasks. */
static int
settle_cancel_tx(struct policy *pol, void *arg)
{
	long long now = time_now_ms();
	size_t i;

	(void)arg;
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].cancelling &&
		    queue_cancel(pol->q, &pol->wait.v[i].t, now) == -1)
			return -1;
	return 0;
}

/*
 * Cancels the waiting tasks someone asked to cancel, and stops the
 * computation once no task waits for it.
 */
void
settle_cancel(struct policy *pol)
{
	size_t i, n = 0;

	for (i = 0; i < pol->wait.n; i++)
		pol->wait.v[i].cancelling = 0;
	if (queue_cancel_check(pol->q, settle_flag_cancel, pol) == -1)
		return;
	for (i = 0; i < pol->wait.n; i++)
		n += pol->wait.v[i].cancelling;
	if (n == 0)
		return;
	if (policy_transaction(pol, "cancelling tasks", settle_cancel_tx,
			       NULL) == -1)
		return;
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].cancelling)
			log_info("task %lld: cancelled", pol->wait.v[i].t.id);
	waitset_remove_if(&pol->wait, settle_is_cancelling);
	policy_stop_if_unwanted(pol);
}

/* queue_heartbeat callback: a waiting task that is still ours. */
static void
settle_still_ours(void *arg, long long id)
{
	struct policy *pol = arg;
	size_t i;

	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].t.id == id)
			pol->wait.v[i].gone = 0;
}

/* Transaction body: renews the leases and sets the progress at arg. */
static int
settle_heartbeat_tx(struct policy *pol, void *arg)
{
	const double *progress = arg;
	size_t i;

	/* Gone unless the heartbeat finds it ours (settle_still_ours). */
	for (i = 0; i < pol->wait.n; i++)
		pol->wait.v[i].gone = 1;
	return queue_heartbeat(pol->q, waitset_held(&pol->wait), pol->wait.n,
			       *progress, time_now_ms(), settle_still_ours,
			       pol) == -1
		   ? -1
		   : 0;
}

/*
 * Copies the computation's progress into the waiting tasks and renews
 * their leases, in one statement, when the progress has moved, tasks have
 * joined or the leases are due; and forgets the tasks that are gone.
 */
void
settle_heartbeat(struct policy *pol)
{
	long long now = time_mono_ms();
	/* 1 means done; a task reaches it only with its digit. */
	double p = pol->comp.progress < 0.999 ? pol->comp.progress : 0.999;
	size_t i;

	if (!pol->beat.joined &&
	    fabs(p - pol->beat.progress) < SETTLE_PROGRESS_STEP &&
	    now - pol->beat.renewed < SETTLE_RENEW_MS)
		return;
	if (policy_transaction(pol, "renewing leases", settle_heartbeat_tx,
			       &p) == -1)
		return;
	pol->beat.renewed = now;
	pol->beat.progress = p;
	pol->beat.joined = 0;
	for (i = 0; i < pol->wait.n; i++)
		if (pol->wait.v[i].gone)
			log_info("task %lld: deleted or taken over; no longer "
				 "ours",
				 pol->wait.v[i].t.id);
	waitset_remove_if(&pol->wait, settle_is_gone);
	policy_stop_if_unwanted(pol);
}
