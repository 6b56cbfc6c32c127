/* queue.c: every SQL statement the worker runs against the task queue. */
#include <stdlib.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "queue.h"
#include "timefmt.h"

/*
 * The claimable set is split in two so that each half walks an index:
 * tasks_by_status (status, id) finds the oldest queued task without reading
 * finished rows, and tasks_running_lease finds the running tasks whose lease
 * has passed without reading the live ones. A task whose n is above
 * refuse_above (?4) is claimed regardless of max_n (?3) so that it is
 * refused at once instead of waiting behind a computation.
 */
const char *const queue_sql[QUEUE_STMT__MAX] = {
	[QUEUE_CLAIM] =
	    "UPDATE tasks SET status = 'running', started_at = ?1,"
	    " lease_until = ?2, attempts = attempts + 1, progress = 0,"
	    " elapsed_ms = NULL"
	    " WHERE id = (SELECT min(id) FROM ("
	    "  SELECT min(id) AS id FROM tasks WHERE status = 'queued'"
	    "   AND (n <= ?3 OR n > ?4)"
	    "  UNION ALL"
	    "  SELECT min(id) AS id FROM tasks WHERE status = 'running'"
	    "   AND lease_until < ?1 AND (n <= ?3 OR n > ?4)))"
	    " RETURNING id, n, attempts, cancel_requested",
	/* One statement for every task the worker holds: ?3 is a JSON array
	 * of [id, attempts] pairs, looked up one by one through
	 * tasks_by_status (status, id). */
	[QUEUE_HEARTBEAT] =
	    "UPDATE tasks SET progress = ?1, lease_until = ?2"
	    " WHERE status = 'running' AND (id, attempts) IN"
	    "  (SELECT value ->> 0, value ->> 1 FROM json_each(?3))"
	    " RETURNING id",
	[QUEUE_FINISH] =
	    "UPDATE tasks SET status = 'done', digit = ?1, progress = 1,"
	    " error = NULL, finished_at = ?2, lease_until = NULL,"
	    " elapsed_ms = ?5"
	    " WHERE id = ?3 AND status = 'running' AND attempts = ?4",
	[QUEUE_FAIL] =
	    "UPDATE tasks SET status = 'error', error = ?1, finished_at = ?2,"
	    " lease_until = NULL, elapsed_ms = ?5"
	    " WHERE id = ?3 AND status = 'running' AND attempts = ?4",
	[QUEUE_CANCEL] =
	    "UPDATE tasks SET status = 'cancelled', finished_at = ?1,"
	    " lease_until = NULL, elapsed_ms = ?4"
	    " WHERE id = ?2 AND status = 'running' AND attempts = ?3",
	/* started_at goes too: the task page shows "ran" only for a task a
	 * worker is on, and the next claim sets it again. */
	[QUEUE_REQUEUE] =
	    "UPDATE tasks SET status = 'queued', lease_until = NULL,"
	    " started_at = NULL, progress = 0"
	    " WHERE id = ?1 AND status = 'running' AND attempts = ?2",
	/* Through tasks_cancel_requested, which holds only such rows. */
	[QUEUE_CANCEL_CHECK] =
	    "SELECT id, attempts FROM tasks"
	    " WHERE status = 'running' AND cancel_requested = 1",
	/* Run only by a worker that holds the data directory's lock
	 * (datalock.c): every running task then is a dead worker's. Its
	 * lease ends now, and the claim takes it as it would a lapsed one.
	 * A task claimed QUEUE_ORPHAN_ATTEMPTS times already may be what
	 * kills the worker: it waits for its lease, so that a crash loop
	 * slows down to one every QUEUE_LEASE_MS. */
	[QUEUE_ORPHANS] =
	    "UPDATE tasks SET lease_until = 0"
	    " WHERE status = 'running' AND lease_until > 0 AND attempts < ?1",
	/* No trigger moves queue_state.version for last_seen: a heartbeat
	 * is not a change a long-polling page needs to hear of. Clearing
	 * the publisher's stalled mark is, and its trigger moves it. */
	[QUEUE_SEEN] =
	    "INSERT INTO worker_state (id, last_seen) VALUES (1, ?1)"
	    " ON CONFLICT (id) DO UPDATE SET last_seen = excluded.last_seen,"
	    " stalled = 0",
	/* Through tasks_by_status: the done rows only. Run when the digit
	 * store is found changed, not per task. */
	[QUEUE_MAX_DONE] =
	    "SELECT coalesce(max(n), 0) FROM tasks WHERE status = 'done'",
};

const char *const queue_stmt_names[QUEUE_STMT__MAX] = {
	[QUEUE_CLAIM] = "claim",
	[QUEUE_HEARTBEAT] = "heartbeat",
	[QUEUE_FINISH] = "finish",
	[QUEUE_FAIL] = "fail",
	[QUEUE_CANCEL] = "cancel",
	[QUEUE_REQUEUE] = "requeue",
	[QUEUE_CANCEL_CHECK] = "cancel check",
	[QUEUE_ORPHANS] = "orphans",
	[QUEUE_SEEN] = "seen",
	[QUEUE_MAX_DONE] = "max done",
};

struct queue {
	sqlite3 *db;
	sqlite3_stmt *st[QUEUE_STMT__MAX];
	struct buf held; /* the heartbeat's JSON, reused */
};

struct queue *
queue_open(sqlite3 *db)
{
	struct queue *q;
	int i;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		log_err("queue: out of memory");
		return NULL;
	}
	q->db = db;
	for (i = 0; i < QUEUE_STMT__MAX; i++)
		if ((q->st[i] = db_prepare(db, queue_sql[i])) == NULL)
			goto fail;
	return q;
fail:
	queue_close(q);
	return NULL;
}

void
queue_close(struct queue *q)
{
	int i;

	if (q == NULL)
		return;
	for (i = 0; i < QUEUE_STMT__MAX; i++)
		sqlite3_finalize(q->st[i]);
	buf_free(&q->held);
	free(q);
}

int
queue_begin(struct queue *q)
{
	return db_begin(q->db);
}

int
queue_commit(struct queue *q)
{
	return db_commit(q->db);
}

void
queue_rollback(struct queue *q)
{
	db_rollback(q->db);
}

/* Logs a failed step of statement which. Returns -1. */
static int
queue_step_failed(struct queue *q, enum queue_stmt which)
{
	log_err("queue: %s: %s", queue_stmt_names[which],
		sqlite3_errmsg(q->db));
	return -1;
}

/*
 * Steps an UPDATE that names one task and returns no rows. Returns 1 if it
 * changed the row, 0 if no row matched, -1 on error (logged). Resets the
 * statement on every path so that it holds no read lock afterwards.
 */
static int
queue_update_one(struct queue *q, enum queue_stmt which)
{
	sqlite3_stmt *st = q->st[which];
	int rc;

	rc = sqlite3_step(st) == SQLITE_DONE ? sqlite3_changes(q->db) > 0
					     : queue_step_failed(q, which);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
queue_claim(struct queue *q, long long now, long long max_n,
	    long long refuse_above, struct queue_task *t)
{
	sqlite3_stmt *st = q->st[QUEUE_CLAIM];
	int rc;

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, now + QUEUE_LEASE_MS);
	sqlite3_bind_int64(st, 3, max_n);
	sqlite3_bind_int64(st, 4, refuse_above);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		t->id = sqlite3_column_int64(st, 0);
		t->n = sqlite3_column_int64(st, 1);
		t->attempts = sqlite3_column_int64(st, 2);
		t->cancel_requested = sqlite3_column_int(st, 3);
		t->claimed_ms = time_mono_ms();
		/* RETURNING rows are all computed before the first comes
		 * back, so the update is complete; stepping to DONE is
		 * still required to finish the statement cleanly. */
		rc = sqlite3_step(st) == SQLITE_DONE
			 ? 1
			 : queue_step_failed(q, QUEUE_CLAIM);
		break;
	case SQLITE_DONE:
		rc = 0;
		break;
	default:
		rc = queue_step_failed(q, QUEUE_CLAIM);
		break;
	}
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
queue_heartbeat(struct queue *q, const struct queue_task *const *tasks,
		size_t n, double progress, long long now,
		void (*ours)(void *arg, long long id), void *arg)
{
	sqlite3_stmt *st = q->st[QUEUE_HEARTBEAT];
	int step, rc = 0;
	size_t i;

	if (n == 0)
		return 0;
	buf_reset(&q->held);
	buf_puts(&q->held, "[");
	for (i = 0; i < n; i++)
		buf_printf(&q->held, "%s[%lld,%lld]", i ? "," : "",
			   tasks[i]->id, tasks[i]->attempts);
	buf_puts(&q->held, "]");
	if (q->held.failed) {
		log_err("queue: heartbeat: out of memory");
		return -1;
	}
	/* The schema's CHECK would turn a stray value into an error. */
	if (!(progress >= 0))
		progress = 0;
	if (progress > 1)
		progress = 1;
	sqlite3_bind_double(st, 1, progress);
	sqlite3_bind_int64(st, 2, now + QUEUE_LEASE_MS);
	sqlite3_bind_text(st, 3, q->held.data, (int)q->held.len, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		ours(arg, sqlite3_column_int64(st, 0));
		rc++;
	}
	if (step != SQLITE_DONE)
		rc = queue_step_failed(q, QUEUE_HEARTBEAT);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

/*
 * Binds the time since t was claimed, on the monotonic clock, to parameter
 * i: what "ran for" shows, whatever the wall clock did meanwhile.
 */
static void
queue_bind_elapsed(sqlite3_stmt *st, int i, const struct queue_task *t)
{
	long long ms = time_mono_ms() - t->claimed_ms;

	sqlite3_bind_int64(st, i, ms > 0 ? ms : 0);
}

int
queue_finish(struct queue *q, const struct queue_task *t, int digit,
	     long long now)
{
	sqlite3_stmt *st = q->st[QUEUE_FINISH];

	sqlite3_bind_int(st, 1, digit);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, t->id);
	sqlite3_bind_int64(st, 4, t->attempts);
	queue_bind_elapsed(st, 5, t);
	return queue_update_one(q, QUEUE_FINISH);
}

int
queue_fail(struct queue *q, const struct queue_task *t, const char *message,
	   long long now)
{
	sqlite3_stmt *st = q->st[QUEUE_FAIL];

	sqlite3_bind_text(st, 1, message, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, t->id);
	sqlite3_bind_int64(st, 4, t->attempts);
	queue_bind_elapsed(st, 5, t);
	return queue_update_one(q, QUEUE_FAIL);
}

int
queue_cancel(struct queue *q, const struct queue_task *t, long long now)
{
	sqlite3_stmt *st = q->st[QUEUE_CANCEL];

	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_int64(st, 2, t->id);
	sqlite3_bind_int64(st, 3, t->attempts);
	queue_bind_elapsed(st, 4, t);
	return queue_update_one(q, QUEUE_CANCEL);
}

int
queue_requeue(struct queue *q, const struct queue_task *t)
{
	sqlite3_stmt *st = q->st[QUEUE_REQUEUE];

	sqlite3_bind_int64(st, 1, t->id);
	sqlite3_bind_int64(st, 2, t->attempts);
	return queue_update_one(q, QUEUE_REQUEUE);
}

int
queue_cancel_check(struct queue *q,
		   int (*fn)(void *arg, long long id, long long attempts),
		   void *arg)
{
	sqlite3_stmt *st = q->st[QUEUE_CANCEL_CHECK];
	int rc, step;

	while ((step = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(arg, sqlite3_column_int64(st, 0),
		       sqlite3_column_int64(st, 1)) != 0)
			break;
	rc = step == SQLITE_ROW || step == SQLITE_DONE
		 ? 0
		 : queue_step_failed(q, QUEUE_CANCEL_CHECK);
	sqlite3_reset(st);
	return rc;
}

int
queue_release_orphans(struct queue *q)
{
	sqlite3_stmt *st = q->st[QUEUE_ORPHANS];
	int rc;

	sqlite3_bind_int(st, 1, QUEUE_ORPHAN_ATTEMPTS);
	rc = sqlite3_step(st) == SQLITE_DONE
		 ? sqlite3_changes(q->db)
		 : queue_step_failed(q, QUEUE_ORPHANS);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

int
queue_seen(struct queue *q, long long now)
{
	sqlite3_stmt *st = q->st[QUEUE_SEEN];

	sqlite3_bind_int64(st, 1, now);
	return queue_update_one(q, QUEUE_SEEN) == -1 ? -1 : 0;
}

long long
queue_max_done(struct queue *q)
{
	sqlite3_stmt *st = q->st[QUEUE_MAX_DONE];
	long long n;

	n = sqlite3_step(st) == SQLITE_ROW
		? sqlite3_column_int64(st, 0)
		: queue_step_failed(q, QUEUE_MAX_DONE);
	sqlite3_reset(st);
	return n;
}
