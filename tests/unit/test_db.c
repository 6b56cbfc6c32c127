/* test_db.c: schema creation, WAL mode and the version counter. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "t.h"

/* Runs one statement that returns a single integer. */
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

static void
test_new_database_gets_schema(const char *path)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st;
	char mode[16] = "";

	if (!T_CHECK(db != NULL, "a new database opens"))
		return;
	T_CHECK(scalar(db, "PRAGMA user_version") == DB_SCHEMA_VERSION,
		"the schema version is %d", DB_SCHEMA_VERSION);
	st = db_prepare(db, "PRAGMA journal_mode");
	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		snprintf(mode, sizeof(mode), "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	T_CHECK(strcmp(mode, "wal") == 0, "the journal mode is WAL (%s)", mode);
	sqlite3_close(db);
}

static void
test_version_moves_with_every_change(const char *path)
{
	sqlite3 *db = db_open(path);
	long long v0 = -1, v1 = -1, v2 = -1, v3 = -1;

	if (!T_CHECK(db != NULL, "the database reopens"))
		return;
	db_queue_version(db, &v0);
	sqlite3_exec(db, "INSERT INTO tasks (n, created_at) VALUES (5, 1000)",
		     NULL, NULL, NULL);
	db_queue_version(db, &v1);
	T_CHECK(v1 == v0 + 1, "an insert moves the version (%lld -> %lld)", v0,
		v1);
	T_CHECK(scalar(db, "SELECT version FROM tasks WHERE n = 5") == v1,
		"the new row records the version");
	sqlite3_exec(db, "UPDATE tasks SET progress = 0.5 WHERE n = 5", NULL,
		     NULL, NULL);
	db_queue_version(db, &v2);
	T_CHECK(v2 == v1 + 1 &&
		    scalar(db, "SELECT version FROM tasks WHERE n = 5") == v2,
		"an update moves the version and records it on the row");
	sqlite3_exec(db, "DELETE FROM tasks WHERE n = 5", NULL, NULL, NULL);
	db_queue_version(db, &v3);
	T_CHECK(v3 == v2 + 1 &&
		    scalar(db, "SELECT version FROM deleted_tasks") == v3,
		"a delete moves the version and is listed in deleted_tasks");
	T_CHECK(sqlite3_exec(db,
			     "INSERT INTO tasks (n, created_at, status) "
			     "VALUES (5, 1, 'bogus')",
			     NULL, NULL, NULL) != SQLITE_OK,
		"the schema rejects an unknown status");
	T_CHECK(sqlite3_exec(db,
			     "INSERT INTO tasks (n, created_at) VALUES (0, 1)",
			     NULL, NULL, NULL) != SQLITE_OK,
		"the schema rejects n = 0");
	sqlite3_close(db);
}

int
main(void)
{
	char dir[] = "/tmp/nthpi-test-db-XXXXXX", path[256];

	log_init("test_db", LOG_LEVEL_WARN);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/nthpi.db", dir);
	test_new_database_gets_schema(path);
	test_version_moves_with_every_change(path);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
