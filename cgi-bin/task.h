/* task.h: reading and changing tasks in the queue, for the pages and API. */
#ifndef NTHPI_TASK_H
#define NTHPI_TASK_H

#include <stddef.h>

#include "queries.h"

enum task_status {
	TASK_QUEUED,
	TASK_RUNNING,
	TASK_DONE,
	TASK_ERROR,
	TASK_CANCELLED,
	TASK_STATUS__MAX
};

/* "queued", "running", ... as stored and as shown. */
extern const char *const task_status_names[TASK_STATUS__MAX];

/* Finds a status by name. Returns 0 and sets *out, or -1. */
int task_status_parse(const char *name, enum task_status *out);

/* Longest error sentence kept; a longer one is cut and ends in "...". */
#define TASK_ERROR_MAX 1024

struct task {
	long long id;
	long long n;
	enum task_status status;
	int digit;       /* 0-9 once done, else -1 */
	double progress; /* 0 to 1 */
	long long created_at, started_at, finished_at; /* ms; -1 if NULL */
	/* How long it ran, as its worker measured (monotonic); -1 if NULL:
	 * not ended, or ended before the worker measured it. */
	long long elapsed_ms;
	long long version;
	int cancel_requested;
	int has_error;
	char error[TASK_ERROR_MAX]; /* a sentence if has_error */
};

/* What a call came to. Every value has a message (task_rc_message). */
enum task_rc {
	TASK_OK,
	TASK_NOT_FOUND,
	TASK_CONFLICT,    /* the action does not apply to the task's status */
	TASK_QUEUE_FULL,  /* queued tasks reached queue_cap */
	TASK_BUSY,        /* the database stayed locked past the busy timeout */
	TASK_FAILED,      /* any other database error (logged) */
	TASK_UNAVAILABLE, /* no connection to the database could be opened */
	TASK_DISK_FULL,   /* the disk is full: the change was not saved */
	TASK_DB_GONE,     /* the database file was removed (dbfile.h) */
	TASK_KEY_REUSED,  /* a request key sent again for another n */
	TASK_RC__MAX
};

/* Called for each task of a list, in order; non-zero stops the walk. */
typedef int (*task_fn)(void *arg, const struct task *t);

/* Called with a task's id and a version (of its deletion, or of its row). */
typedef int (*task_deleted_fn)(void *arg, long long id, long long version);

/*
 * A read snapshot: everything read between begin and end sees one state
 * of the queue. task_snapshot_end always ends it, also after an error.
 */
enum task_rc task_snapshot_begin(struct dbconn *c);
void task_snapshot_end(struct dbconn *c);

/* Reads queue_state.version. */
enum task_rc task_version(struct dbconn *c, long long *version);

/* Fills counts[status] with how many tasks have each status. */
enum task_rc task_counts(struct dbconn *c, long long counts[TASK_STATUS__MAX]);

/* The most histogram buckets read; the schema has 7. */
#define TASK_TIME_BOUNDS_MAX 16

/*
 * How long the tasks done so far took, from started_at to finished_at:
 * running totals that deleting a task leaves as they are.
 */
struct task_times {
	long long count;                       /* tasks done with both times */
	long long sum_ms;                      /* their total time */
	int bounds;                            /* buckets below */
	long long le_ms[TASK_TIME_BOUNDS_MAX]; /* bucket bounds, ascending */
	long long le[TASK_TIME_BOUNDS_MAX];    /* how many took at most le_ms */
};

/* Fills *out from the totals the schema's triggers keep. */
enum task_rc task_times(struct dbconn *c, struct task_times *out);

/* Reads worker_state.last_seen (ms) into *ms, or -1 if the worker never
 * reported in. */
enum task_rc task_worker_seen(struct dbconn *c, long long *ms);

/*
 * Reads worker_state: *last_seen (ms, -1 if the worker never reported in)
 * and *stalled (1 while the publisher has marked it not seen for
 * WORKER_STALL_MS, workerwatch.h; 0 otherwise).
 */
enum task_rc task_worker_state(struct dbconn *c, long long *last_seen,
			       int *stalled);

/*
 * Marks the worker stalled, if it is still at last_seen (it has not
 * reported in since) and not marked yet; the mark moves the queue
 * version. Sets *marked to 1 if it did. TASK_DB_GONE, without writing, if
 * the database file is gone.
 */
enum task_rc task_worker_mark_stalled(struct dbconn *c, long long last_seen,
				      int *marked);

/* Reads one task. TASK_NOT_FOUND if there is none with that id. */
enum task_rc task_get(struct dbconn *c, long long id, struct task *t);

/* What task_list lists: newest first, or oldest first with after. */
struct task_filter {
	int limit;        /* 1 or more */
	long long before; /* only ids below this; 0 for no bound */
	int has_status;
	enum task_status status;
	long long after; /* only ids above this, oldest first; 0: none */
};

/* Calls fn for each task the filter selects (before or after, not both:
 * after wins). */
enum task_rc task_list(struct dbconn *c, const struct task_filter *f,
		       task_fn fn, void *arg);

/* Most changes one long-poll answer carries. */
#define TASK_CHANGES_MAX 500

/* The result of task_changes. */
struct task_changes {
	long long version; /* the version the answer brings a client to */
	int more;          /* 1 if changes after version were left out */
	int count;         /* tasks plus deleted ids given */
	long long current; /* queue_state.version in the snapshot */
	/* Tasks per status in the snapshot: what the list holds at version
	 * when more is 0. */
	long long counts[TASK_STATUS__MAX];
	int worker_stalled; /* task_worker_state's, in the snapshot */
};

/*
 * Calls on_task for each task changed after since and on_deleted for each
 * task deleted after since, oldest change first, at most TASK_CHANGES_MAX
 * in all. If more remain, ch->more is 1 and ch->version is the version of
 * the last change given, so that asking again from there continues;
 * otherwise ch->version is the current version. Runs in its own snapshot,
 * which ch->counts counts too.
 */
enum task_rc task_changes(struct dbconn *c, long long since, task_fn on_task,
			  task_deleted_fn on_deleted, void *arg,
			  struct task_changes *ch);

/*
 * Calls fn with the id and row version of every task, in one snapshot
 * whose queue version goes to *version (the publisher's starting point).
 * Non-zero from fn stops the walk.
 */
enum task_rc task_row_versions(struct dbconn *c, task_deleted_fn fn, void *arg,
			       long long *version);

/*
 * The writes below (create, cancel, retry, delete) each run in one
 * transaction. Each answers TASK_DB_GONE, without writing, if the
 * database file is gone before it begins, and also after its commit if the
 * file went away meanwhile: a change is never reported saved into a file
 * no name reaches. A full disk (SQLITE_FULL, or an I/O error whose cause
 * is ENOSPC) is TASK_DISK_FULL, and nothing is changed.
 */

/*
 * Finds the task whose digits will show decimal n (n or more of them) with
 * the smallest n, among the queued, running and done ones. TASK_NOT_FOUND
 * if there is none.
 */
enum task_rc task_covering(struct dbconn *c, long long n, struct task *t);

/*
 * Adds a queued task for n, created now, unless queue_cap tasks are
 * queued already (TASK_QUEUE_FULL). Fills *t with the new task.
 */
enum task_rc task_create(struct dbconn *c, long long n, long long now,
			 long long queue_cap, struct task *t);

/* How long a request key is kept: a resend within this finds its task. */
#define TASK_KEY_KEEP_MS (24LL * 3600 * 1000)

/*
 * As task_create, for a request that may be sent again: key (NULL for
 * none) names it ("api:" and an Idempotency-Key, "form:" and a form's
 * one-time field). A key kept from the last TASK_KEY_KEEP_MS with the same
 * n gives its task instead of a new one, with *replayed set to 1; with
 * another n, TASK_KEY_REUSED, and t->n is the n it was used for. A key
 * whose task was deleted since makes a new task. Keys older than
 * TASK_KEY_KEEP_MS are forgotten in the same transaction.
 */
enum task_rc task_create_keyed(struct dbconn *c, long long n, long long now,
			       long long queue_cap, const char *key,
			       struct task *t, int *replayed);

/*
 * Cancels a task: a queued one at once, a running one by asking its worker
 * (cancel_requested; asking twice is fine). TASK_CONFLICT if it has ended.
 * Fills *t with the task after the change.
 */
enum task_rc task_cancel(struct dbconn *c, long long id, long long now,
			 struct task *t);

/*
 * Queues an error or cancelled task again (TASK_CONFLICT otherwise;
 * TASK_QUEUE_FULL past queue_cap). Fills *t with the task after the change.
 */
enum task_rc task_retry(struct dbconn *c, long long id, long long queue_cap,
			struct task *t);

/*
 * Deletes a task that is not running (TASK_CONFLICT if it is: cancel it
 * first). Fills *t with the task as it was.
 */
enum task_rc task_delete(struct dbconn *c, long long id, struct task *t);

/* The actions a person can take on a task. */
enum task_action {
	TASK_ACTION_CANCEL,
	TASK_ACTION_RETRY,
	TASK_ACTION_DELETE,
	TASK_ACTION__MAX
};

/* "cancel", "retry", "delete": the last part of their URLs. */
extern const char *const task_action_names[TASK_ACTION__MAX];

/* Returns 1 if action applies to a task in t's state, else 0. */
int task_action_applies(enum task_action action, const struct task *t);

/*
 * Writes a sentence saying why action does not apply to t and what to do
 * instead, for a 409 answer.
 */
void task_conflict_message(enum task_action action, const struct task *t,
			   char *out, size_t outlen);

#endif
