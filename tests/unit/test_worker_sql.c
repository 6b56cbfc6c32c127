/* test_worker_sql.c: every worker statement prepares against the schema. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "queue.h"
#include "t.h"

static void
test_every_statement_prepares(sqlite3 *db)
{
	sqlite3_stmt *st;
	int i, rc;

	for (i = 0; i < QUEUE_STMT__MAX; i++) {
		st = NULL;
		rc = sqlite3_prepare_v2(db, queue_sql[i], -1, &st, NULL);
		if (!T_CHECK(rc == SQLITE_OK, "the %s statement prepares",
			     queue_stmt_names[i]))
			T_DIAG("%s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
}

static void
test_queue_open_prepares_all(sqlite3 *db)
{
	struct queue *q = queue_open(db);

	T_CHECK(q != NULL, "queue_open prepares every statement");
	queue_close(q);
}

/*
 * Writes sql's query plan into out, one "; "-separated step per line of
 * EXPLAIN QUERY PLAN, and prints it. Returns out ("" if it cannot be read).
 */
static const char *
plan_of(sqlite3 *db, const char *sql, char *out, size_t len)
{
	sqlite3_stmt *st;
	char q[4096];
	size_t used = 0;
	int n;

	out[0] = '\0';
	n = snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	st = n > 0 && (size_t)n < sizeof(q) ? db_prepare(db, q) : NULL;
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		n = snprintf(out + used, len - used, "%s; ", d ? d : "");
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	sqlite3_finalize(st);
	T_DIAG("plan: %s", out);
	return out;
}

/*
 * The claim runs on every wake-up; it must read neither the finished tasks
 * nor every running one to find the few whose lease has passed.
 */
static void
test_claim_uses_indexes(sqlite3 *db)
{
	char plan[2048];

	plan_of(db, queue_sql[QUEUE_CLAIM], plan, sizeof(plan));
	T_CHECK(strstr(plan, "SCAN tasks") == NULL &&
		    strstr(plan, "USING INDEX tasks_by_status (status=?)") !=
			NULL,
		"the claim finds the oldest queued task through "
		"tasks_by_status and scans no table");
	T_CHECK(strstr(plan, "USING INDEX tasks_running_lease (status=? AND "
			     "lease_until<?)") != NULL,
		"the claim finds running tasks whose lease has passed through "
		"tasks_running_lease, by the lease");
}

/* The cancel check runs each time the queue changes. */
static void
test_cancel_check_uses_index(sqlite3 *db)
{
	char plan[2048];

	plan_of(db, queue_sql[QUEUE_CANCEL_CHECK], plan, sizeof(plan));
	T_CHECK(strstr(plan, "SCAN tasks") == NULL &&
		    strstr(plan, "USING INDEX tasks_cancel_requested") != NULL,
		"the cancel check reads tasks_cancel_requested only");
}

/* The heartbeat runs every second or so for up to a few hundred tasks. */
static void
test_heartbeat_uses_keys(sqlite3 *db)
{
	char plan[2048];

	plan_of(db, queue_sql[QUEUE_HEARTBEAT], plan, sizeof(plan));
	T_CHECK(strstr(plan, "SCAN tasks") == NULL &&
		    strstr(plan, "USING INDEX tasks_by_status (status=? AND "
				 "id=?") != NULL,
		"the heartbeat looks each task up by its id and scans no "
		"table");
}

/* Reads one integer; -1 if there is no row. */
static long long
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = db_prepare(db, sql);
	long long v = -1;

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* The worker's heartbeat: one row, rewritten, and no queue change. */
static void
test_seen_records_the_time(sqlite3 *db)
{
	struct queue *q = queue_open(db);
	long long version;

	if (!T_CHECK(q != NULL, "queue_open for the heartbeat"))
		return;
	version = scalar(db, "SELECT version FROM queue_state");
	T_CHECK(queue_seen(q, 1234) == 0 &&
		    scalar(db, "SELECT last_seen FROM worker_state") == 1234,
		"queue_seen records the time in worker_state");
	T_CHECK(queue_seen(q, 5678) == 0 &&
		    scalar(db, "SELECT last_seen FROM worker_state") == 5678 &&
		    scalar(db, "SELECT count(*) FROM worker_state") == 1,
		"queue_seen again rewrites the one row");
	T_CHECK(scalar(db, "SELECT version FROM queue_state") == version,
		"queue_seen does not move the queue version (no long-poll "
		"wakes for it)");
	queue_close(q);
}

int
main(void)
{
	char dir[] = "/tmp/nthpi-test-wsql-XXXXXX", path[256];
	sqlite3 *db;

	log_init("test_worker_sql", LOG_LEVEL_WARN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/nthpi.db", dir);
	db = db_open(path);
	if (T_CHECK(db != NULL, "a new database opens with the schema")) {
		test_every_statement_prepares(db);
		test_queue_open_prepares_all(db);
		test_claim_uses_indexes(db);
		test_cancel_check_uses_index(db);
		test_heartbeat_uses_keys(db);
		test_seen_records_the_time(db);
	}
	sqlite3_close(db);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
