/* queue.h: every SQL statement the worker runs against the task queue. */
#ifndef NTHPI_QUEUE_H
#define NTHPI_QUEUE_H

#include <stddef.h>

#include <sqlite3.h>

/* How long a claim or a heartbeat keeps a running task ours. */
#define QUEUE_LEASE_MS 10000
/* A dead worker's task claimed this often waits for its lease all the
 * same (queue_release_orphans). */
#define QUEUE_ORPHAN_ATTEMPTS 3

enum queue_stmt {
	QUEUE_CLAIM,        /* take the oldest claimable task */
	QUEUE_HEARTBEAT,    /* progress + lease renewal of the tasks we hold */
	QUEUE_FINISH,       /* done with a digit */
	QUEUE_FAIL,         /* error with a sentence */
	QUEUE_CANCEL,       /* cancelled after cancel_requested */
	QUEUE_REQUEUE,      /* back to queued when the worker stops */
	QUEUE_CANCEL_CHECK, /* running tasks someone asked to cancel */
	QUEUE_ORPHANS,      /* end the leases of a dead worker's tasks */
	QUEUE_SEEN,         /* worker_state.last_seen: the worker is alive */
	QUEUE_MAX_DONE,     /* the largest n of a done task */
	QUEUE_STMT__MAX
};

/* The SQL text of each statement, for the test that prepares them all. */
extern const char *const queue_sql[QUEUE_STMT__MAX];
/* A short name for each statement, for logs and tests. */
extern const char *const queue_stmt_names[QUEUE_STMT__MAX];

/*
 * A task this worker holds. attempts is the claim token: every update the
 * worker makes requires status running and the same attempts, so a task
 * that another claim took over (after our lease lapsed) is never touched.
 */
struct queue_task {
	long long id;
	long long n;
	long long attempts;
	int cancel_requested;
	/* time_mono_ms() at the claim: the end states store the time since
	 * as elapsed_ms, which a wall clock stepped meanwhile leaves right. */
	long long claimed_ms;
};

struct queue;

/*
 * Prepares every statement on db, which stays owned by the caller and must
 * outlive the queue. Returns the queue, freed with queue_close, or NULL
 * (logged).
 */
struct queue *queue_open(sqlite3 *db);

/* Finalizes the statements and frees q. Accepts NULL. */
void queue_close(struct queue *q);

/*
 * Transactions around the calls below: BEGIN IMMEDIATE, COMMIT, ROLLBACK.
 * queue_begin and queue_commit return 0 or -1 (logged); after -1 the caller
 * rolls back and may try again.
 */
int queue_begin(struct queue *q);
int queue_commit(struct queue *q);
void queue_rollback(struct queue *q);

/*
 * Claims the oldest task that is queued, or running with a lease that
 * passed before now, and whose n is at most max_n or above refuse_above
 * (such a task is claimed only to be refused at once). Sets it running,
 * started_at = now, lease_until = now + QUEUE_LEASE_MS, attempts + 1,
 * progress 0. Returns 1 with *t filled, 0 if none, -1 on error (logged).
 */
int queue_claim(struct queue *q, long long now, long long max_n,
		long long refuse_above, struct queue_task *t);

/*
 * Sets progress (clamped to 0..1) and lease_until = now + QUEUE_LEASE_MS on
 * the n tasks tasks[0..n) that are still ours, in one statement, and calls
 * ours(arg, id) for each of them. A task it is not called for is gone
 * (deleted, or claimed by someone else after its lease lapsed). Returns how
 * many are still ours, or -1 on error (logged; roll back: some may have been
 * renewed).
 */
int queue_heartbeat(struct queue *q, const struct queue_task *const *tasks,
		    size_t n, double progress, long long now,
		    void (*ours)(void *arg, long long id), void *arg);

/*
 * The end states of a task we hold, with elapsed_ms the time since its
 * claim on the monotonic clock. Each returns 1 if the row changed, 0
 * if the task was no longer ours, -1 on error (logged). message is a
 * sentence a person can read.
 */
int queue_finish(struct queue *q, const struct queue_task *t, int digit,
		 long long now);
int queue_fail(struct queue *q, const struct queue_task *t, const char *message,
	       long long now);
int queue_cancel(struct queue *q, const struct queue_task *t, long long now);

/*
 * Puts a task we hold back to queued with no lease, for a clean shutdown.
 * Returns as queue_finish.
 */
int queue_requeue(struct queue *q, const struct queue_task *t);

/*
 * Calls fn for every running task with cancel_requested set, stopping
 * early if fn returns non-zero. Returns 0 or -1 (logged).
 */
int queue_cancel_check(struct queue *q,
		       int (*fn)(void *arg, long long id, long long attempts),
		       void *arg);

/*
 * Ends the lease of every running task claimed fewer than
 * QUEUE_ORPHAN_ATTEMPTS times, so that the next claims take them at once
 * instead of after QUEUE_LEASE_MS. Only for a worker that holds the data
 * directory's lock and holds no task yet: the tasks are a dead worker's.
 * Returns how many, or -1 on error (logged).
 */
int queue_release_orphans(struct queue *q);

/*
 * Records now (ms since the epoch) as the time the worker last reported in
 * (worker_state.last_seen, read by /metrics). Runs on its own, outside a
 * transaction. Returns 0 or -1 (logged).
 */
int queue_seen(struct queue *q, long long now);

/*
 * Returns the largest n of a done task (0 if none), the decimals the digit
 * store must hold for every done task's pi.txt, or -1 on error (logged).
 * Runs on its own, outside a transaction.
 */
long long queue_max_done(struct queue *q);

#endif
