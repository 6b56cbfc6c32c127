/* db.c: opening the task database, applying the schema and migrations. */
#include <stdio.h>

#include "db.h"
#include "log.h"

/* Generated from sql/ by scripts/embed-sql.sh. */
extern const char db_schema_sql[];
extern const char *const db_migrations[];
extern const int db_migration_count;

/* Long enough to ride out a burst of writers; short enough that a stuck
 * lock turns into an error a person sees. */
#define DB_BUSY_TIMEOUT_MS 10000

/* Runs sql that returns no rows. Returns 0 or -1 (logged). */
static int
db_exec(sqlite3 *db, const char *sql, const char *what)
{
	char *msg = NULL;

	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_err("database: %s: %s", what,
			msg ? msg : sqlite3_errmsg(db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Reads PRAGMA user_version. Returns it, or -1 (logged). */
static int
db_user_version(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	if ((st = db_prepare(db, "PRAGMA user_version")) == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		log_err("database: reading user_version: %s",
			sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return v;
}

/* Brings the schema to DB_SCHEMA_VERSION. Returns 0 or -1 (logged). */
static int
db_migrate(sqlite3 *db)
{
	int v;

	if (DB_SCHEMA_VERSION != db_migration_count + 1) {
		log_err("database: built with %d migrations for schema "
			"version %d",
			db_migration_count, DB_SCHEMA_VERSION);
		return -1;
	}
	/* Cheap check first, so that an up-to-date database takes no write
	 * lock on open. */
	if ((v = db_user_version(db)) == -1)
		return -1;
	if (v == DB_SCHEMA_VERSION)
		return 0;
	if (db_begin(db) == -1)
		return -1;
	/* Another process may have migrated while we waited for the lock. */
	if ((v = db_user_version(db)) == -1)
		goto fail;
	if (v > DB_SCHEMA_VERSION) {
		log_err("database: schema version %d is newer than this "
			"program's %d; upgrade nthpi",
			v, DB_SCHEMA_VERSION);
		goto fail;
	}
	if (v == 0) {
		if (db_exec(db, db_schema_sql, "creating the schema") == -1)
			goto fail;
		v = DB_SCHEMA_VERSION;
	}
	for (; v < DB_SCHEMA_VERSION; v++) {
		char what[64];

		snprintf(what, sizeof(what), "migrating to version %d", v + 1);
		if (db_exec(db, db_migrations[v], what) == -1)
			goto fail;
		log_info("database: migrated to schema version %d", v + 1);
	}
	return db_commit(db);
fail:
	db_rollback(db);
	return -1;
}

sqlite3 *
db_open(const char *path)
{
	sqlite3 *db = NULL;

	if (sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    NULL) != SQLITE_OK) {
		log_err("database: cannot open %s: %s", path,
			db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	/* WAL lets the page read while the worker writes; synchronous=FULL
	 * makes every acknowledged commit survive a power cut too. */
	if (db_exec(db, "PRAGMA journal_mode=WAL", "enabling WAL") == -1 ||
	    db_exec(db, "PRAGMA synchronous=FULL", "setting synchronous") ==
		-1 ||
	    db_exec(db, "PRAGMA foreign_keys=ON", "enabling foreign keys") ==
		-1)
		goto fail;
	if (db_migrate(db) == -1)
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

sqlite3_stmt *
db_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		log_err("database: cannot prepare \"%s\": %s", sql,
			sqlite3_errmsg(db));
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

int
db_queue_version(sqlite3 *db, long long *version)
{
	sqlite3_stmt *st;
	int rc = -1;

	st = db_prepare(db, "SELECT version FROM queue_state WHERE id = 1");
	if (st == NULL)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*version = sqlite3_column_int64(st, 0);
		rc = 0;
	} else
		log_err("database: reading the queue version: %s",
			sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return rc;
}

int
db_begin(sqlite3 *db)
{
	return db_exec(db, "BEGIN IMMEDIATE", "beginning a transaction");
}

int
db_commit(sqlite3 *db)
{
	return db_exec(db, "COMMIT", "committing");
}

void
db_rollback(sqlite3 *db)
{
	/* Fails harmlessly when SQLite already rolled back on an error. */
	if (sqlite3_get_autocommit(db) == 0)
		db_exec(db, "ROLLBACK", "rolling back");
}
