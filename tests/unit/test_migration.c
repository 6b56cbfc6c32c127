/* test_migration.c: a database made by the first schema is brought up to
 * date by db_open, keeps its tasks, and ends with the schema a new database
 * gets. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "log.h"
#include "t.h"

/* sql/schema.sql as it was at version 1, kept beside this test. Tests run
 * from the repository root (tests/run.sh). */
#define SCHEMA_V1_PATH "tests/unit/schema-v1.sql"

static char dir[] = "/tmp/nthpi-test-migration-XXXXXX";

/* Reads a whole file into b (NUL-terminated). Returns 0 or -1. */
static int
read_file(const char *path, struct buf *b)
{
	char chunk[4096];
	size_t n;
	FILE *f = fopen(path, "r");

	if (f == NULL)
		return -1;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(b, chunk, n);
	fclose(f);
	return b->failed || b->len == 0 ? -1 : 0;
}

/* Runs one statement that returns a single integer; -1 if none. */
static long long
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/*
 * Appends sql with its -- comments dropped, runs of white space made one
 * space, and no space next to ( ) , ; so that two spellings of one
 * statement compare equal.
 */
static void
normalize_sql(struct buf *out, const char *sql)
{
	const char *p = sql;
	int space = 0;

	while (*p != '\0') {
		if (p[0] == '-' && p[1] == '-') {
			while (*p != '\0' && *p != '\n')
				p++;
			space = 1;
			continue;
		}
		if (isspace((unsigned char)*p)) {
			space = 1;
			p++;
			continue;
		}
		if (space && out->len > 0 && strchr("(),;", *p) == NULL &&
		    strchr("(,", out->data[out->len - 1]) == NULL)
			buf_append(out, " ", 1);
		space = 0;
		buf_append(out, p, 1);
		p++;
	}
}

/*
 * Appends one line per sqlite_master entry, sorted by type and name:
 * "type name on table: normalized sql".
 */
static void
schema_of(sqlite3 *db, struct buf *out)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db,
			       "SELECT type, name, tbl_name, sql"
			       " FROM sqlite_master ORDER BY type, name",
			       -1, &st, NULL) != SQLITE_OK) {
		buf_puts(out, "(cannot read sqlite_master)");
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *sql = (const char *)sqlite3_column_text(st, 3);

		buf_printf(out, "%s %s on %s: ", sqlite3_column_text(st, 0),
			   sqlite3_column_text(st, 1),
			   sqlite3_column_text(st, 2));
		normalize_sql(out, sql ? sql : "(none)");
		buf_puts(out, "\n");
	}
	sqlite3_finalize(st);
}

static void
test_normalize(void)
{
	struct buf a = { 0 }, b = { 0 };

	normalize_sql(&a, "CREATE TABLE t (\n\t-- the id\n\tid INTEGER ,\n"
			  "\tx  TEXT\n)");
	normalize_sql(&b, "CREATE TABLE t(id INTEGER, x TEXT)");
	T_CHECK(a.data && b.data && strcmp(a.data, b.data) == 0,
		"normalized SQL ignores comments and white space (%s | %s)",
		a.data ? a.data : "", b.data ? b.data : "");
	buf_free(&a);
	buf_free(&b);
}

/* Makes a version 1 database at path with tasks in every status and one
 * deleted task. Returns 0 or -1. */
static int
make_v1(const char *path)
{
	static const char tasks[] =
	    "INSERT INTO tasks (n, status, digit, error, progress, created_at,"
	    " started_at, finished_at, attempts) VALUES"
	    " (5, 'done', 9, NULL, 1, 1000, 1001, 1002, 1),"
	    " (7, 'queued', NULL, NULL, 0, 2000, NULL, NULL, 0),"
	    " (11, 'error', NULL, 'out of memory', 0, 3000, 3001, 3002, 1),"
	    " (13, 'cancelled', NULL, NULL, 0, 4000, NULL, 4001, 0),"
	    " (17, 'running', NULL, NULL, 0.5, 5000, 5001, NULL, 1),"
	    " (19, 'queued', NULL, NULL, 0, 6000, NULL, NULL, 0);"
	    "DELETE FROM tasks WHERE n = 19;";
	struct buf schema = { 0 };
	sqlite3 *db = NULL;
	int rc = -1;

	if (!T_CHECK(read_file(SCHEMA_V1_PATH, &schema) == 0,
		     "the version 1 schema is at %s (run from the repository "
		     "root)",
		     SCHEMA_V1_PATH))
		goto out;
	if (sqlite3_open(path, &db) != SQLITE_OK)
		goto out;
	if (!T_CHECK(sqlite3_exec(db, schema.data, NULL, NULL, NULL) ==
			     SQLITE_OK &&
			 sqlite3_exec(db, tasks, NULL, NULL, NULL) == SQLITE_OK,
		     "a version 1 database is made and filled"))
		T_DIAG("%s", sqlite3_errmsg(db));
	else
		rc = scalar(db, "PRAGMA user_version") == 1 ? 0 : -1;
out:
	sqlite3_close(db);
	buf_free(&schema);
	return rc;
}

static void
test_migrates_and_keeps_tasks(const char *old_path, const char *new_path)
{
	struct buf migrated = { 0 }, fresh = { 0 };
	sqlite3 *db, *db2;
	long long version;

	if (make_v1(old_path) == -1)
		return;
	version = -1;
	if (sqlite3_open(old_path, &db) == SQLITE_OK)
		version = scalar(db, "SELECT version FROM queue_state");
	sqlite3_close(db);

	if (!T_CHECK((db = db_open(old_path)) != NULL,
		     "db_open opens a version 1 database"))
		return;
	T_CHECK(scalar(db, "PRAGMA user_version") == DB_SCHEMA_VERSION,
		"it is at schema version %d afterwards", DB_SCHEMA_VERSION);
	T_CHECK(scalar(db, "SELECT count(*) FROM tasks") == 5,
		"its five tasks are kept");
	T_CHECK(scalar(db, "SELECT count(*) FROM tasks WHERE"
			   " (n = 5 AND status = 'done' AND digit = 9 AND"
			   "  started_at = 1001 AND finished_at = 1002) OR"
			   " (n = 11 AND error = 'out of memory') OR"
			   " (n = 17 AND status = 'running' AND progress = 0.5)"
			   " OR (n IN (7, 13) AND digit IS NULL)") == 5,
		"the tasks keep their columns");
	T_CHECK(scalar(db, "SELECT count(*) FROM deleted_tasks") == 1,
		"the deleted task is still listed");
	T_CHECK(scalar(db, "SELECT version FROM queue_state") == version,
		"the queue version is kept (%lld)", version);
	T_CHECK(sqlite3_exec(db,
			     "INSERT INTO worker_state (id, last_seen)"
			     " VALUES (1, 42)",
			     NULL, NULL, NULL) == SQLITE_OK &&
		    scalar(db, "SELECT last_seen FROM worker_state") == 42,
		"the migrated database has worker_state");
	T_CHECK(
	    sqlite3_exec(db, "INSERT INTO tasks (n, created_at) VALUES (3, 1)",
			 NULL, NULL, NULL) == SQLITE_OK &&
		scalar(db, "SELECT version FROM queue_state") == version + 1,
	    "the triggers still move the version");
	T_CHECK(scalar(db, "SELECT tasks FROM compute_totals") == 1 &&
		    scalar(db, "SELECT sum_ms FROM compute_totals") == 1 &&
		    scalar(db, "SELECT min(tasks) FROM compute_time_buckets") ==
			1,
		"the histogram totals start from the done task (1 ms)");
	T_CHECK(sqlite3_exec(db,
			     "INSERT INTO tasks (n, status, digit, created_at,"
			     " started_at, finished_at, elapsed_ms)"
			     " VALUES (5, 'done', 9, 1, 5000, 10, 2000)",
			     NULL, NULL, NULL) == SQLITE_OK &&
		    scalar(db, "SELECT sum_ms FROM compute_totals") == 2001,
		"a task's elapsed_ms, not its stamps, goes into the histogram");
	version = scalar(db, "SELECT version FROM queue_state");
	T_CHECK(sqlite3_exec(db, "UPDATE worker_state SET stalled = 1", NULL,
			     NULL, NULL) == SQLITE_OK &&
		    scalar(db, "SELECT version FROM queue_state") ==
			version + 1,
		"marking the worker stalled moves the queue version");
	T_CHECK(sqlite3_exec(db,
			     "INSERT INTO request_keys (key, n, task_id,"
			     " created_at) VALUES ('api:k', 5, 1, 1)",
			     NULL, NULL, NULL) == SQLITE_OK,
		"the migrated database has request_keys");
	schema_of(db, &migrated);
	sqlite3_close(db);

	if (T_CHECK((db2 = db_open(new_path)) != NULL,
		    "a new database is created at version %d",
		    DB_SCHEMA_VERSION)) {
		schema_of(db2, &fresh);
		sqlite3_close(db2);
	}
	if (!T_CHECK(migrated.data && fresh.data &&
			 strcmp(migrated.data, fresh.data) == 0,
		     "the migrated schema equals a new database's schema")) {
		T_DIAG("migrated:\n%s", migrated.data ? migrated.data : "");
		T_DIAG("new:\n%s", fresh.data ? fresh.data : "");
	}
	T_CHECK(fresh.data &&
		    strstr(fresh.data, "index deleted_tasks_by_version"
				       " on deleted_tasks") != NULL,
		"the schema has the index deleted_tasks_by_version");

	/* Opening again changes nothing. */
	if ((db = db_open(old_path)) != NULL) {
		T_CHECK(scalar(db, "PRAGMA user_version") ==
				DB_SCHEMA_VERSION &&
			    scalar(db, "SELECT count(*) FROM tasks") == 7,
			"a second open leaves a migrated database as it is");
		sqlite3_close(db);
	}
	buf_free(&migrated);
	buf_free(&fresh);
}

int
main(void)
{
	char old_path[256], new_path[256], cmd[300];

	log_init("test_migration", LOG_LEVEL_WARN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(old_path, sizeof(old_path), "%s/old.db", dir);
	snprintf(new_path, sizeof(new_path), "%s/new.db", dir);
	test_normalize();
	test_migrates_and_keeps_tasks(old_path, new_path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
