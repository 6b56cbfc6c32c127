/* test_dashboard_sql.c: the statements behind the paged task list and
 * /metrics: newer pages (after=), the compute-time histogram, the worker's
 * last report, and that each walks an index. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "queries.h"
#include "t.h"
#include "task.h"

static int
exec(struct dbconn *c, const char *sql)
{
	return sqlite3_exec(c->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

struct seen {
	long long ids[16];
	int n;
};

static int
seen_task(void *arg, const struct task *t)
{
	struct seen *s = arg;

	if (s->n < 16)
		s->ids[s->n++] = t->id;
	return 0;
}

static void
test_list_after(struct dbconn *c)
{
	struct task_filter f = { 3, 0, 0, TASK_QUEUED, 0 };
	struct seen s = { .n = 0 };
	struct task t;
	long long first = 0;
	int i;

	exec(c, "DELETE FROM tasks");
	for (i = 0; i < 8; i++) {
		task_create(c, i + 1, i, 100, &t);
		if (i == 0)
			first = t.id;
	}
	task_cancel(c, first + 3, 10, &t);
	task_cancel(c, first + 6, 10, &t);
	f.after = first + 1;
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 3 && s.ids[0] == first + 2 && s.ids[2] == first + 4,
		"after= lists the next newer tasks, oldest first");
	s.n = 0;
	f.before = first + 3; /* after wins */
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 3 && s.ids[0] == first + 2,
		"after= takes precedence over before=");
	s.n = 0;
	f.before = 0;
	f.after = first;
	f.has_status = 1;
	f.status = TASK_CANCELLED;
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 2 && s.ids[0] == first + 3 && s.ids[1] == first + 6,
		"after= with a status lists that status only");
	s.n = 0;
	f.after = first + 6;
	task_list(c, &f, seen_task, &s);
	T_CHECK(s.n == 0, "after= the newest of a status lists nothing");
}

/*
 * The histogram of computation times: running totals kept by triggers,
 * for tasks inserted done and tasks set done; a delete leaves them.
 */
static void
test_times(struct dbconn *c)
{
	struct task_times tt, base;

	exec(c, "DELETE FROM tasks");
	if (!T_CHECK(task_times(c, &base) == TASK_OK && base.bounds == 7 &&
			 base.le_ms[0] == 10 && base.le_ms[6] == 3600000,
		     "the histogram has the schema's 7 bounds, 10 ms to 1 h"))
		return;
	exec(c, "INSERT INTO tasks (n, status, digit, created_at, started_at,"
		" finished_at) VALUES"
		" (1, 'done', 1, 0, 1000, 1005)," /* 5 ms */
		" (2, 'done', 4, 0, 1000, 1010)," /* 10 ms: on the bound */
		" (4, 'done', 5, 0, 0, 7200000)," /* 2 h: only +Inf */
		" (5, 'error', NULL, 0, 1000, 9000),"
		" (6, 'running', NULL, 0, 1000, NULL),"
		" (7, 'done', 9, 0, NULL, NULL)");
	/* Set done as the worker does: 2 s. */
	exec(c, "UPDATE tasks SET status = 'done', digit = 1,"
		" finished_at = 3000 WHERE n = 6");
	/* Not done, and done again: neither counts. */
	exec(c, "UPDATE tasks SET status = 'cancelled' WHERE n = 5");
	exec(c, "UPDATE tasks SET digit = 2 WHERE n = 6");
	if (!T_CHECK(task_times(c, &tt) == TASK_OK, "the histogram query runs"))
		return;
	T_CHECK(tt.count - base.count == 4 &&
		    tt.sum_ms - base.sum_ms == 5 + 10 + 2000 + 7200000,
		"it counts and sums the tasks done with both times, inserted "
		"done or set done (%lld, %lld)",
		tt.count - base.count, tt.sum_ms - base.sum_ms);
	T_CHECK(tt.le[0] - base.le[0] == 2 && tt.le[1] - base.le[1] == 2 &&
		    tt.le[2] - base.le[2] == 2 && tt.le[3] - base.le[3] == 3 &&
		    tt.le[6] - base.le[6] == 3,
		"its buckets are cumulative, the bound included (%lld %lld "
		"%lld %lld)",
		tt.le[0] - base.le[0], tt.le[2] - base.le[2],
		tt.le[3] - base.le[3], tt.le[6] - base.le[6]);
	/* A wall clock stepped back: counts as 0 ms, never lowers the sum. */
	base = tt;
	exec(c, "INSERT INTO tasks (n, status, digit, created_at, started_at,"
		" finished_at) VALUES (8, 'done', 1, 0, 5000, 4000)");
	T_CHECK(task_times(c, &tt) == TASK_OK && tt.count == base.count + 1 &&
		    tt.sum_ms == base.sum_ms && tt.le[0] == base.le[0] + 1,
		"a task that ended before it started counts as 0 ms");
	exec(c, "DELETE FROM tasks");
	base = tt;
	T_CHECK(task_times(c, &tt) == TASK_OK && tt.count == base.count &&
		    tt.sum_ms == base.sum_ms && tt.le[6] == base.le[6],
		"deleting the tasks leaves the totals (a counter never goes "
		"down)");
}

static void
test_worker_seen(struct dbconn *c)
{
	long long ms = 0;

	exec(c, "DELETE FROM worker_state");
	T_CHECK(task_worker_seen(c, &ms) == TASK_OK && ms == -1,
		"a worker that never reported in is -1");
	exec(c, "INSERT INTO worker_state (id, last_seen) VALUES (1, 1234)");
	T_CHECK(task_worker_seen(c, &ms) == TASK_OK && ms == 1234,
		"the worker's last report is read");
}

/* The plan of q, as one string of its details. */
static void
plan_of(sqlite3 *db, enum query q, char *plan, size_t len)
{
	char sql[1024];
	sqlite3_stmt *st = NULL;

	plan[0] = '\0';
	snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s", query_sql[q]);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK)
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *d =
			    (const char *)sqlite3_column_text(st, 3);
			size_t used = strlen(plan);

			snprintf(plan + used, len - used, "%s;", d ? d : "");
		}
	sqlite3_finalize(st);
}

static void
test_plans(struct dbconn *c)
{
	static const enum query ordered[] = { Q_LIST_AFTER,
					      Q_LIST_STATUS_AFTER };
	char plan[2048];
	size_t i;

	for (i = 0; i < sizeof(ordered) / sizeof(ordered[0]); i++) {
		plan_of(c->db, ordered[i], plan, sizeof(plan));
		if (!T_CHECK(strstr(plan, "USING") != NULL &&
				 strstr(plan, "TEMP B-TREE") == NULL,
			     "statement \"%s\" walks an index in order",
			     query_names[ordered[i]]))
			T_DIAG("plan: %s", plan);
	}
	plan_of(c->db, Q_COUNTS, plan, sizeof(plan));
	if (!T_CHECK(strstr(plan, "COVERING INDEX tasks_by_status") != NULL &&
			 strstr(plan, "TEMP B-TREE") == NULL,
		     "the counts read the status index only"))
		T_DIAG("plan: %s", plan);
	plan_of(c->db, Q_COMPUTE_BUCKETS, plan, sizeof(plan));
	if (!T_CHECK(strstr(plan, "compute_time_buckets") != NULL,
		     "the histogram reads its buckets, not the tasks"))
		T_DIAG("plan: %s", plan);
}

int
main(void)
{
	char dir[] = "/tmp/nthpi-test-dash-sql-XXXXXX", path[256], cmd[300];
	struct dbconn *c;

	log_init("test_dashboard_sql", LOG_LEVEL_WARN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/nthpi.db", dir);
	if (T_CHECK((c = queries_open(path)) != NULL,
		    "a database opens with every statement prepared")) {
		test_list_after(c);
		test_times(c);
		test_worker_seen(c);
		test_plans(c);
	}
	queries_close(c);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
