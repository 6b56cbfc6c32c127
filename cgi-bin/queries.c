/* queries.c: every SQL statement nthpi-fcgi runs, prepared per connection. */
#include <stdlib.h>

#include "db.h"
#include "log.h"
#include "queries.h"

/* The columns task_from_row (task.c) reads, in this order. */
#define TASK_COLUMNS                                                           \
	"id, n, status, digit, error, progress, created_at, started_at,"       \
	" finished_at, version, cancel_requested, elapsed_ms"

const char *const query_sql[Q__MAX] = {
	[Q_BEGIN] = "BEGIN",
	[Q_BEGIN_IMMEDIATE] = "BEGIN IMMEDIATE",
	[Q_COMMIT] = "COMMIT",
	[Q_ROLLBACK] = "ROLLBACK",
	[Q_VERSION] = "SELECT version FROM queue_state WHERE id = 1",
	/* Walks the (status, id) index only. */
	[Q_COUNTS] = "SELECT status, count(*) FROM tasks GROUP BY status",
	[Q_COUNT_QUEUED] = "SELECT count(*) FROM tasks WHERE status = 'queued'",
	[Q_TASK] = "SELECT " TASK_COLUMNS " FROM tasks WHERE id = ?1",
	[Q_COVERING] =
	    "SELECT " TASK_COLUMNS " FROM tasks"
	    " WHERE n >= ?1 AND status IN ('queued', 'running', 'done')"
	    " ORDER BY n, id LIMIT 1",
	/* Four list statements rather than one with "?2 IS NULL OR ...", so
	 * that each walks an index in order and stops at the limit. */
	[Q_LIST] = "SELECT " TASK_COLUMNS " FROM tasks"
		   " ORDER BY id DESC LIMIT ?1",
	[Q_LIST_BEFORE] = "SELECT " TASK_COLUMNS " FROM tasks"
			  " WHERE id < ?2 ORDER BY id DESC LIMIT ?1",
	[Q_LIST_STATUS] = "SELECT " TASK_COLUMNS " FROM tasks"
			  " WHERE status = ?2 ORDER BY id DESC LIMIT ?1",
	[Q_LIST_STATUS_BEFORE] = "SELECT " TASK_COLUMNS " FROM tasks"
				 " WHERE status = ?2 AND id < ?3"
				 " ORDER BY id DESC LIMIT ?1",
	[Q_LIST_AFTER] = "SELECT " TASK_COLUMNS " FROM tasks"
			 " WHERE id > ?2 ORDER BY id LIMIT ?1",
	[Q_LIST_STATUS_AFTER] = "SELECT " TASK_COLUMNS " FROM tasks"
				" WHERE status = ?2 AND id > ?3"
				" ORDER BY id LIMIT ?1",
	/* The histogram of /metrics, kept up by triggers (sql/schema.sql):
	 * no scan of the tasks. */
	[Q_COMPUTE_TOTALS] = "SELECT tasks, sum_ms FROM compute_totals"
			     " WHERE id = 1",
	[Q_COMPUTE_BUCKETS] = "SELECT le_ms, tasks FROM compute_time_buckets"
			      " ORDER BY le_ms",
	[Q_WORKER_SEEN] = "SELECT last_seen FROM worker_state WHERE id = 1",
	[Q_CHANGED] = "SELECT " TASK_COLUMNS " FROM tasks"
		      " WHERE version > ?1 ORDER BY version LIMIT ?2",
	[Q_DELETED] = "SELECT id, version FROM deleted_tasks"
		      " WHERE version > ?1 ORDER BY version LIMIT ?2",
	[Q_ROW_VERSIONS] = "SELECT id, version FROM tasks",
	[Q_INSERT] = "INSERT INTO tasks (n, created_at) VALUES (?1, ?2)",
	[Q_CANCEL_QUEUED] = "UPDATE tasks SET status = 'cancelled',"
			    " finished_at = ?2"
			    " WHERE id = ?1 AND status = 'queued'",
	[Q_CANCEL_RUNNING] = "UPDATE tasks SET cancel_requested = 1"
			     " WHERE id = ?1 AND status = 'running'"
			     " AND cancel_requested = 0",
	/* attempts stays: the worker uses it as its claim token. */
	[Q_RETRY] = "UPDATE tasks SET status = 'queued', digit = NULL,"
		    " error = NULL, progress = 0, started_at = NULL,"
		    " finished_at = NULL, lease_until = NULL,"
		    " cancel_requested = 0, elapsed_ms = NULL"
		    " WHERE id = ?1 AND status IN ('error', 'cancelled')",
	[Q_DELETE] = "DELETE FROM tasks WHERE id = ?1 AND status <> 'running'",
	[Q_WORKER_STATE] = "SELECT last_seen, stalled FROM worker_state"
			   " WHERE id = 1",
	/* Only if the worker has not reported in since the publisher read
	 * ?1; the trigger moves the queue version. */
	[Q_WORKER_MARK_STALLED] = "UPDATE worker_state SET stalled = 1"
				  " WHERE id = 1 AND stalled = 0"
				  " AND last_seen = ?1",
	/* Through request_keys_by_time. */
	[Q_KEY_FORGET] = "DELETE FROM request_keys WHERE created_at < ?1",
	[Q_KEY_GET] = "SELECT n, task_id FROM request_keys WHERE key = ?1",
	/* REPLACE: a key whose task was deleted makes a new one. */
	[Q_KEY_PUT] = "INSERT OR REPLACE INTO request_keys"
		      " (key, n, task_id, created_at) VALUES (?1, ?2, ?3, ?4)",
};

const char *const query_names[Q__MAX] = {
	[Q_BEGIN] = "begin",
	[Q_BEGIN_IMMEDIATE] = "begin immediate",
	[Q_COMMIT] = "commit",
	[Q_ROLLBACK] = "rollback",
	[Q_VERSION] = "version",
	[Q_COUNTS] = "counts",
	[Q_COUNT_QUEUED] = "count queued",
	[Q_TASK] = "task",
	[Q_COVERING] = "covering",
	[Q_LIST] = "list",
	[Q_LIST_BEFORE] = "list before",
	[Q_LIST_STATUS] = "list status",
	[Q_LIST_STATUS_BEFORE] = "list status before",
	[Q_LIST_AFTER] = "list after",
	[Q_LIST_STATUS_AFTER] = "list status after",
	[Q_COMPUTE_TOTALS] = "compute totals",
	[Q_COMPUTE_BUCKETS] = "compute buckets",
	[Q_WORKER_SEEN] = "worker seen",
	[Q_CHANGED] = "changed",
	[Q_DELETED] = "deleted",
	[Q_ROW_VERSIONS] = "row versions",
	[Q_INSERT] = "insert",
	[Q_CANCEL_QUEUED] = "cancel queued",
	[Q_CANCEL_RUNNING] = "cancel running",
	[Q_RETRY] = "retry",
	[Q_DELETE] = "delete",
	[Q_WORKER_STATE] = "worker state",
	[Q_WORKER_MARK_STALLED] = "worker mark stalled",
	[Q_KEY_FORGET] = "key forget",
	[Q_KEY_GET] = "key get",
	[Q_KEY_PUT] = "key put",
};

struct dbconn *
queries_open(const char *path)
{
	struct dbconn *c;
	int i;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		log_err("database: out of memory");
		return NULL;
	}
	if ((c->db = db_open(path)) == NULL)
		goto fail;
	for (i = 0; i < Q__MAX; i++)
		if ((c->st[i] = db_prepare(c->db, query_sql[i])) == NULL)
			goto fail;
	return c;
fail:
	queries_close(c);
	return NULL;
}

void
queries_close(struct dbconn *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < Q__MAX; i++)
		sqlite3_finalize(c->st[i]);
	db_close(c->db);
	free(c);
}
