/* claim.c: claiming tasks from the queue: answers at once the ones the
 * store covers or that must be refused, and adds the rest to the waiting
 * set. */
#include <limits.h>
#include <stdlib.h>

#include "claim.h"
#include "growth.h"
#include "log.h"
#include "pi.h"
#include "policy.h"
#include "store.h"
#include "timefmt.h"

/* The most tasks that wait for a computation at once. Each is a row the
 * heartbeat rewrites and a page hears of. */
#define CLAIM_MAX_WAITING 256
/* Claims per transaction: enough to drain a burst, short enough to keep
 * the write lock brief. */
#define CLAIM_BATCH 256

int
claim_init(struct claim_batch *b)
{
	b->n = 0;
	b->v = calloc(CLAIM_BATCH, sizeof(*b->v));
	return b->v == NULL ? -1 : 0;
}

void
claim_free(struct claim_batch *b)
{
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

/* Writes the refusal sentence for a task with fate into msg. */
static void
claim_refusal(const struct policy *pol, const struct queue_task *t,
	      enum claim_fate fate, char *msg, size_t len)
{
	unsigned long long need;

	if (fate == CLAIM_FATE_NMAX) {
		policy_sentence(
		    msg, len,
		    "Decimal %lld is beyond the largest this service computes "
		    "now (n_max = %lld). Ask for a smaller n.",
		    t->n, pol->cfg->n_max);
		return;
	}
	/* Counted as growth_fit_max counts: engine, digits, process. */
	need = (pi_memory_estimate((size_t)t->n, pol->cfg->compute_threads) +
		(size_t)t->n + growth_overhead(pol->cfg->compute_threads)) >>
	       20;
	policy_sentence(
	    msg, len,
	    "Computing %lld decimals needs about %llu MiB, more than the "
	    "memory limit of %lld MiB. Ask for fewer digits or raise "
	    "memory_limit_mb.",
	    t->n, need + 1, pol->cfg->memory_limit_mb);
}

/* Transaction body: claims a batch and settles what it can at once. */
static int
claim_tx(struct policy *pol, void *arg)
{
	long long now = time_now_ms(), max_n;
	struct claim_result *c;
	size_t waiting = pol->wait.n;
	char msg[512];
	int *full = arg, rc;

	*full = 0;
	pol->claims.n = 0;
	/* While a computation runs, only tasks it will cover can join it. */
	max_n = compute_active(&pol->comp) ? pol->comp.decimals : LLONG_MAX;
	while (pol->claims.n < CLAIM_BATCH) {
		/* Enough wait already: take only what the store answers (and
		 * what is refused), and leave the rest queued. */
		if (waiting >= CLAIM_MAX_WAITING && max_n > pol->store.have)
			max_n = pol->store.have;
		c = &pol->claims.v[pol->claims.n];
		rc = queue_claim(pol->q, now, max_n, pol->refuse_above, &c->t);
		if (rc != 1)
			return rc;
		pol->claims.n++;
		c->digit = -1;
		if (c->t.cancel_requested)
			c->fate = CLAIM_FATE_CANCEL;
		else if (c->t.n > pol->cfg->n_max)
			c->fate = CLAIM_FATE_NMAX;
		else if (c->t.n <= pol->store.have &&
			 (c->digit =
			      store_digit(pol->cfg->store_path, c->t.n)) >= 0)
			c->fate = CLAIM_FATE_DONE;
		else if (c->t.n > pol->fit_max)
			c->fate = CLAIM_FATE_MEMORY;
		else {
			/* Not covered, or its block was found damaged just
			 * now (then have drops below n, and the rebuild
			 * covers it), or the store could not be read (then
			 * the finish step says so). */
			if (c->t.n <= pol->store.have)
				storestate_lost(pol, c->t.n);
			c->fate = CLAIM_FATE_WAIT;
			waiting++;
		}
		switch (c->fate) {
		case CLAIM_FATE_DONE:
			rc = queue_finish(pol->q, &c->t, c->digit, now);
			break;
		case CLAIM_FATE_CANCEL:
			rc = queue_cancel(pol->q, &c->t, now);
			break;
		case CLAIM_FATE_NMAX:
		case CLAIM_FATE_MEMORY:
			claim_refusal(pol, &c->t, c->fate, msg, sizeof(msg));
			rc = queue_fail(pol->q, &c->t, msg, now);
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
int
claim_tasks(struct policy *pol)
{
	struct claim_result *c;
	char msg[512];
	int full = 0, rc;
	size_t i;

	if (policy_transaction(pol, "claiming tasks", claim_tx, &full) == -1) {
		/* Its tries wrote to the -wal file, whose events would wake
		 * the loop to fail again at once: 7 times a second on a
		 * full disk. The next try comes with the next poll. */
		pol->next_claim = time_mono_ms() + POLICY_POLL_MS;
		return 0;
	}
	for (i = 0; i < pol->claims.n; i++) {
		c = &pol->claims.v[i];
		switch (c->fate) {
		case CLAIM_FATE_DONE:
			log_info("task %lld: decimal %lld is %d (from the "
				 "store)",
				 c->t.id, c->t.n, c->digit);
			break;
		case CLAIM_FATE_CANCEL:
			log_info("task %lld: cancelled", c->t.id);
			break;
		case CLAIM_FATE_NMAX:
		case CLAIM_FATE_MEMORY:
			claim_refusal(pol, &c->t, c->fate, msg, sizeof(msg));
			log_info("task %lld: error: %s", c->t.id, msg);
			break;
		default:
			log_info("task %lld: decimal %lld waits for a "
				 "computation (attempt %lld)",
				 c->t.id, c->t.n, c->t.attempts);
			rc = waitset_add(&pol->wait, &c->t);
			if (rc == -1)
				/* Its lease lapses and a later claim (ours
				 * or another worker's) picks it up again. */
				log_err("task %lld: out of memory; left for "
					"a later claim",
					c->t.id);
			else if (rc == 1)
				/* The next heartbeat shows it the
				 * computation's progress. */
				pol->beat.joined = 1;
			break;
		}
	}
	return full;
}
