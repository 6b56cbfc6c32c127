/* test_cgi_sql.c: every SQL statement of nthpi-fcgi prepares against the
 * schema, and the task operations built on them behave as docs/design.md
 * says. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "queries.h"
#include "t.h"
#include "task.h"

static char dir[] = "/tmp/nthpi-test-cgi-sql-XXXXXX";
static char path[256];

/* Runs sql on c's connection; returns 0 or -1. */
static int
exec(struct dbconn *c, const char *sql)
{
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

static void
test_every_statement_prepares(void)
{
	sqlite3 *db = db_open(path);
	int i;

	if (!T_CHECK(db != NULL, "the schema is created"))
		return;
	for (i = 0; i < Q__MAX; i++) {
		sqlite3_stmt *st = NULL;
		int rc = sqlite3_prepare_v2(db, query_sql[i], -1, &st, NULL);

		T_CHECK(rc == SQLITE_OK && st != NULL,
			"statement \"%s\" prepares", query_names[i]);
		if (rc != SQLITE_OK)
			T_DIAG("%s: %s", query_sql[i], sqlite3_errmsg(db));
		sqlite3_finalize(st);
	}
	sqlite3_close(db);
}

/* Plans of the statements that must walk an index, not the table. */
static void
test_lists_use_indexes(void)
{
	static const enum query qs[] = { Q_LIST_STATUS, Q_LIST_STATUS_BEFORE,
					 Q_CHANGED, Q_COUNT_QUEUED };
	sqlite3 *db = db_open(path);
	size_t i;

	for (i = 0; db != NULL && i < sizeof(qs) / sizeof(qs[0]); i++) {
		char sql[1024], plan[1024] = "";
		sqlite3_stmt *st = NULL;

		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
			 query_sql[qs[i]]);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
			while (sqlite3_step(st) == SQLITE_ROW) {
				strncat(
				    plan,
				    (const char *)sqlite3_column_text(st, 3),
				    sizeof(plan) - strlen(plan) - 2);
				strcat(plan, ";");
			}
		sqlite3_finalize(st);
		T_CHECK(strstr(plan, "USING") != NULL &&
			    strstr(plan, "TEMP B-TREE") == NULL,
			"statement \"%s\" walks an index in order",
			query_names[qs[i]]);
		if (strstr(plan, "USING") == NULL)
			T_DIAG("plan: %s", plan);
	}
	sqlite3_close(db);
}

static void
test_create_and_get(struct dbconn *c)
{
	struct task t, u;
	long long v0 = -1, v1 = -1;

	task_version(c, &v0);
	T_CHECK(task_create(c, 1234, 1000, 10, &t) == TASK_OK && t.id > 0 &&
		    t.n == 1234 && t.status == TASK_QUEUED &&
		    t.created_at == 1000 && t.started_at == -1 &&
		    t.digit == -1 && !t.has_error,
		"a created task is queued, with its n and time");
	task_version(c, &v1);
	T_CHECK(v1 == v0 + 1 && t.version == v1,
		"creating a task moves the version by one");
	T_CHECK(task_get(c, t.id, &u) == TASK_OK && u.id == t.id,
		"a task can be read back");
	T_CHECK(task_get(c, t.id + 1000, &u) == TASK_NOT_FOUND,
		"an unknown id is not found");
}

static void
test_queue_cap(struct dbconn *c)
{
	struct task t;
	long long counts[TASK_STATUS__MAX];

	exec(c, "DELETE FROM tasks");
	task_create(c, 1, 1, 2, &t);
	T_CHECK(task_create(c, 2, 1, 2, &t) == TASK_OK,
		"below the cap a task is added");
	T_CHECK(task_create(c, 3, 1, 2, &t) == TASK_QUEUE_FULL,
		"at the cap the queue is full");
	task_counts(c, counts);
	T_CHECK(counts[TASK_QUEUED] == 2, "a refused task is not added");
	T_CHECK(task_cancel(c, t.id, 5, &t) == TASK_OK &&
		    t.status == TASK_CANCELLED,
		"a queued task is cancelled at once");
	T_CHECK(task_retry(c, t.id, 1, &t) == TASK_QUEUE_FULL,
		"a retry is refused when the queue is full");
	T_CHECK(task_retry(c, t.id, 2, &t) == TASK_OK &&
		    t.status == TASK_QUEUED && t.finished_at == -1,
		"a retry below the cap queues the task again");
}

static void
test_actions(struct dbconn *c)
{
	struct task t, r;
	char sql[256], msg[256];

	exec(c, "DELETE FROM tasks");
	task_create(c, 50, 100, 10, &t);
	T_CHECK(task_cancel(c, t.id, 200, &t) == TASK_OK &&
		    t.status == TASK_CANCELLED && t.finished_at == 200,
		"cancel of a queued task sets cancelled and finished_at");
	T_CHECK(task_cancel(c, t.id, 300, &t) == TASK_CONFLICT &&
		    t.status == TASK_CANCELLED,
		"cancel of a cancelled task is a conflict");
	task_conflict_message(TASK_ACTION_CANCEL, &t, msg, sizeof(msg));
	T_CHECK(strstr(msg, "cancelled") != NULL,
		"the conflict message names the status");
	T_CHECK(task_retry(c, t.id, 10, &t) == TASK_OK &&
		    t.status == TASK_QUEUED,
		"retry of a cancelled task queues it");
	T_CHECK(task_retry(c, t.id, 10, &t) == TASK_CONFLICT,
		"retry of a queued task is a conflict");

	/* Play the worker: running, then failed. */
	snprintf(sql, sizeof(sql),
		 "UPDATE tasks SET status = 'running', started_at = 150,"
		 " attempts = 1, progress = 0.5 WHERE id = %lld",
		 t.id);
	exec(c, sql);
	T_CHECK(task_cancel(c, t.id, 400, &t) == TASK_OK &&
		    t.status == TASK_RUNNING && t.cancel_requested == 1,
		"cancel of a running task asks the worker to stop");
	T_CHECK(task_cancel(c, t.id, 401, &r) == TASK_OK &&
		    r.version == t.version,
		"asking twice changes nothing");
	T_CHECK(task_delete(c, t.id, &r) == TASK_CONFLICT,
		"a running task cannot be deleted");
	snprintf(sql, sizeof(sql),
		 "UPDATE tasks SET status = 'error', error = 'out of memory',"
		 " finished_at = 500 WHERE id = %lld",
		 t.id);
	exec(c, sql);
	T_CHECK(task_get(c, t.id, &t) == TASK_OK && t.has_error &&
		    strcmp(t.error, "out of memory") == 0,
		"a failed task has its error");
	T_CHECK(task_retry(c, t.id, 10, &t) == TASK_OK &&
		    t.status == TASK_QUEUED && !t.has_error &&
		    t.started_at == -1 && t.finished_at == -1 &&
		    t.progress == 0 && t.cancel_requested == 0 &&
		    t.created_at == 100,
		"retry clears the error, the times and the progress, not "
		"created_at");
	T_CHECK(task_delete(c, t.id, &r) == TASK_OK &&
		    task_get(c, t.id, &r) == TASK_NOT_FOUND,
		"a queued task can be deleted");
	T_CHECK(task_delete(c, t.id, &r) == TASK_NOT_FOUND &&
		    task_cancel(c, t.id, 1, &r) == TASK_NOT_FOUND &&
		    task_retry(c, t.id, 10, &r) == TASK_NOT_FOUND,
		"actions on a deleted task find nothing");
}

static void
test_long_error_is_cut(struct dbconn *c)
{
	char sql[TASK_ERROR_MAX * 3];
	struct task t;

	task_create(c, 5, 1, 100, &t);
	snprintf(sql, sizeof(sql),
		 "UPDATE tasks SET status = 'error', error = printf('%%.*c',"
		 " %d, 'x') || 'é' WHERE id = %lld",
		 TASK_ERROR_MAX * 2, t.id);
	exec(c, sql);
	T_CHECK(task_get(c, t.id, &t) == TASK_OK &&
		    strlen(t.error) < TASK_ERROR_MAX &&
		    strcmp(t.error + strlen(t.error) - 3, "...") == 0,
		"a very long error is cut and marked as cut");
}

/* Collects what task_list and task_changes give. */
struct seen {
	long long ids[1200];
	int n;
	long long deleted[1200];
	int ndeleted;
};

static int
seen_task(void *arg, const struct task *t)
{
	struct seen *s = arg;

	if (s->n < 1200)
		s->ids[s->n++] = t->id;
	return 0;
}

static int
seen_deleted(void *arg, long long id, long long version)
{
	struct seen *s = arg;

	(void)version;
	if (s->ndeleted < 1200)
		s->deleted[s->ndeleted++] = id;
	return 0;
}

static void
test_lists(struct dbconn *c)
{
	struct task_filter f = { 3, 0, 0, TASK_QUEUED, 0 };
	struct seen s = { .n = 0 };
	struct task t;
	long long first = 0;
	int i;

	exec(c, "DELETE FROM tasks");
	for (i = 0; i < 6; i++) {
		task_create(c, i + 1, i, 100, &t);
		if (i == 0)
			first = t.id;
	}
	task_cancel(c, first + 1, 10, &t);
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 3 && s.ids[0] == first + 5 && s.ids[2] == first + 3,
		"a list is newest first and stops at the limit");
	s.n = 0;
	f.before = first + 3;
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 3 && s.ids[0] == first + 2 && s.ids[2] == first,
		"before= lists older tasks only");
	s.n = 0;
	f.before = 0;
	f.has_status = 1;
	f.status = TASK_CANCELLED;
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 1 && s.ids[0] == first + 1,
		"status= lists that status only");
}

static void
test_changes(struct dbconn *c)
{
	struct task_changes ch;
	struct seen s = { .n = 0 };
	struct task t;
	long long v0, a, b;
	int i;

	exec(c, "DELETE FROM tasks");
	task_version(c, &v0);
	T_CHECK(task_changes(c, v0, seen_task, seen_deleted, &s, &ch) ==
			TASK_OK &&
		    ch.count == 0 && ch.version == v0 && !ch.more,
		"no change since the current version gives nothing");
	task_create(c, 1, 1, 1000, &t);
	a = t.id;
	task_create(c, 2, 1, 1000, &t);
	b = t.id;
	task_delete(c, a, &t);
	task_cancel(c, b, 2, &t);
	task_changes(c, v0, seen_task, seen_deleted, &s, &ch);
	T_CHECK(ch.count == 2 && s.n == 1 && s.ids[0] == b && s.ndeleted == 1 &&
		    s.deleted[0] == a && !ch.more && ch.version == t.version,
		"changes give each changed task once and the deleted ids");
	T_CHECK(ch.counts[TASK_QUEUED] == 0 && ch.counts[TASK_CANCELLED] == 1,
		"changes count the tasks per status at their version");

	for (i = 0; i < 600; i++)
		task_create(c, 3, 1, 1000000, &t);
	s.n = s.ndeleted = 0;
	task_changes(c, v0, seen_task, seen_deleted, &s, &ch);
	T_CHECK(ch.count == TASK_CHANGES_MAX && ch.more &&
		    s.n + s.ndeleted == TASK_CHANGES_MAX,
		"more than 500 changes are cut at 500 with more");
	T_CHECK(s.ndeleted == 1 && s.deleted[0] == a && s.ids[0] == b,
		"changes come oldest first, deletes merged by version");
	v0 = ch.version;
	s.n = s.ndeleted = 0;
	task_changes(c, v0, seen_task, seen_deleted, &s, &ch);
	T_CHECK(ch.count == 102 && !ch.more && s.ids[s.n - 1] == t.id,
		"asking again from the given version continues");
	T_CHECK(task_changes(c, ch.version + 100, seen_task, seen_deleted, &s,
			     &ch) == TASK_OK &&
		    ch.version < v0 + 200,
		"a version ahead of the database gives the current one");
}

static void
test_busy_is_reported(struct dbconn *c)
{
	sqlite3 *other = db_open(path);
	struct task t;

	sqlite3_busy_timeout(c->db, 50);
	exec(c, "DELETE FROM tasks");
	sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL);
	T_CHECK(task_create(c, 1, 1, 10, &t) == TASK_BUSY,
		"a locked database gives TASK_BUSY, not an error");
	T_CHECK(sqlite3_get_autocommit(c->db),
		"no transaction is left open after TASK_BUSY");
	sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL);
	T_CHECK(task_create(c, 1, 1, 10, &t) == TASK_OK,
		"once the lock is gone the write goes through");
	sqlite3_close(other);
}

int
main(void)
{
	struct dbconn *c;

	log_init("test_cgi_sql", LOG_LEVEL_ERR);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/nthpi.db", dir);
	test_every_statement_prepares();
	test_lists_use_indexes();
	c = queries_open(path);
	if (T_CHECK(c != NULL, "a connection opens with every statement")) {
		test_create_and_get(c);
		test_queue_cap(c);
		test_actions(c);
		test_long_error_is_cut(c);
		test_lists(c);
		test_changes(c);
		test_busy_is_reported(c);
		queries_close(c);
	}
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return T_EXIT();
}
