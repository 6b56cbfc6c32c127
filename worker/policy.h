/* policy.h: the worker's scheduling policy: which tasks it claims, when a
 * computation starts, and what its end means for the waiting tasks. */
#ifndef NTHPI_POLICY_H
#define NTHPI_POLICY_H

#include <sqlite3.h>

#include "claim.h"
#include "compute.h"
#include "config.h"
#include "queue.h"
#include "storestate.h"
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
 * At most CLAIM_MAX_WAITING tasks wait at once; past that only the tasks
 * the store answers are claimed, so a long queue of large n stays queued
 * instead of all turning running.
 */

/* The fallback wake-up when inotify misses a change or a lease lapses. */
#define POLICY_POLL_MS 500
/* How often the waiting tasks get the computation's progress at most
 * (settle_heartbeat), and how soon a failed settling is tried again. */
#define POLICY_HEARTBEAT_MS 1000
/* How long one statement waits for another process's write lock. */
#define POLICY_BUSY_MS 1000

/* What the heartbeat last wrote (settle_heartbeat). */
struct policy_beat {
	long long renewed; /* time_mono_ms of the last heartbeat write */
	double progress;   /* the progress that write set */
	int joined;        /* tasks joined since that write */
};

struct policy {
	const struct config *cfg;
	sqlite3 *db;
	struct queue *q;
	struct compute comp;
	struct waitset wait;     /* the tasks that wait for a computation */
	struct storestate store; /* what the digit store gives */
	struct claim_batch claims;
	struct policy_beat beat;
	long long fit_max;      /* most decimals the memory limit allows */
	long long refuse_above; /* claim tasks above this only to refuse */
	long long next_start;   /* no computation starts before this */
	long long next_settle;  /* no settling before this, after a failure */
	/* No claim that a database change wakes before this: one that
	 * failed (a full disk) makes changes of its own. */
	long long next_claim;
	long long busy_since; /* time_mono_ms when a lock wait began */
	int exact_next;       /* next computation: just what is needed */
	int interrupts;       /* computations stopped by a signal in a row */
	int kills;            /* computations killed in a row (not by us) */
	int failures;         /* computations failed in a row */
	int start_tries;      /* failed starts of the next computation */
	int said_gone;        /* that the database file went away was said */
	char fail_msg[512];   /* the error the failing tasks get */
};

/* A transaction body; returns 0 or -1 to roll back and retry. */
typedef int (*policy_tx_fn)(struct policy *pol, void *arg);

/*
 * Sets s up for cfg, db and q (which stay the caller's), with fit_max and
 * refuse_above from cfg, and installs its busy handler on db. Returns 0,
 * or -1 if out of memory. Free with policy_free.
 */
int policy_init(struct policy *pol, const struct config *cfg, sqlite3 *db,
		struct queue *q);

/* Frees what s holds (not cfg, db or q). */
void policy_free(struct policy *pol);

/* Formats a sentence for a task or a person into out; logs it if cut. */
void policy_sentence(char *out, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Runs fn inside BEGIN IMMEDIATE ... COMMIT, trying again after a short
 * pause if any step fails. fn must change nothing in memory that a
 * rollback would leave wrong. Returns 0, or -1 after logging.
 */
int policy_transaction(struct policy *pol, const char *what, policy_tx_fn fn,
		       void *arg);

/* The decimals the next computation must reach. */
long long policy_need(const struct policy *pol);

/* Stops (or resets) the computation and reads the store's size again. */
void policy_stop_compute(struct policy *pol);

/* Stops the computation if no task waits for it any more. */
void policy_stop_if_unwanted(struct policy *pol);

/* Whether a computation should start now. */
int policy_should_compute(const struct policy *pol);

/* Starts a computation for the waiting tasks that need one. Returns 1 if
 * one started, else 0 (a retry is set, or the tasks failed). */
int policy_start_compute(struct policy *pol);

/* Acts on a computation that has ended on its own (compute_read). */
void policy_computed(struct policy *pol);

/* Whether the database file has gone away; says so once. */
int policy_db_gone(struct policy *pol);

/* Returns timeout (ms from now), lowered to the policy's next timer. */
long long policy_wake_timeout(const struct policy *pol, long long now,
			      long long timeout);

#endif
