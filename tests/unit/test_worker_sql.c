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

/* The claim runs on every wake-up; it must not read every finished task. */
static void
test_claim_uses_status_index(sqlite3 *db)
{
	sqlite3_stmt *st;
	char sql[4096];
	int scans = 0, uses_index = 0, n;

	n = snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		     queue_sql[QUEUE_CLAIM]);
	st = n > 0 && (size_t)n < sizeof(sql) ? db_prepare(db, sql) : NULL;
	while (st != NULL && sqlite3_step(st) == SQLITE_ROW) {
		const char *d = (const char *)sqlite3_column_text(st, 3);

		if (d == NULL)
			continue;
		T_DIAG("plan: %s", d);
		if (strncmp(d, "SCAN tasks", 10) == 0)
			scans++;
		if (strstr(d, "tasks_by_status") != NULL)
			uses_index++;
	}
	T_CHECK(st != NULL && scans == 0 && uses_index == 2,
		"the claim walks tasks_by_status and scans no table");
	sqlite3_finalize(st);
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
		test_claim_uses_status_index(db);
		test_seen_records_the_time(db);
	}
	sqlite3_close(db);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
