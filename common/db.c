/* db.c: opening the task database, applying the schema and migrations. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "dbfile.h"
#include "log.h"
#include "timefmt.h"

/* Generated from sql/ by scripts/embed-sql.sh. */
extern const char db_schema_sql[];
extern const char *const db_migrations[];
extern const int db_migration_count;

/* Long enough to ride out a burst of writers; short enough that a stuck
 * lock turns into an error a person sees. */
#define DB_BUSY_TIMEOUT_MS 10000

/*
 * SQLite answers SQLITE_BUSY at once, without calling the busy handler,
 * where waiting could deadlock: when two connections that read a new
 * database both want to write it (the switch to WAL does that), or when
 * one reads a database another is creating. db_open then starts over on a
 * new connection after a pause that grows from DB_RETRY_FIRST_MS to
 * DB_RETRY_MAX_MS, for at most DB_OPEN_PATIENCE_MS in all, the busy
 * handler's waits included: room for another program's migration.
 */
#define DB_OPEN_PATIENCE_MS 20000
#define DB_RETRY_FIRST_MS 2
#define DB_RETRY_MAX_MS 100

/* Why one try at opening failed, kept until db_open decides to log it. */
struct db_fail {
	int rc;        /* SQLite result code (extended) */
	char what[64]; /* the step, as in "enabling WAL" */
	char msg[256]; /* sqlite3_errmsg or our own sentence */
};

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

/* Records a failed step in f. Returns -1, for the caller to return. */
static int
db_fail(struct db_fail *f, int rc, const char *what, const char *msg)
{
	f->rc = rc;
	snprintf(f->what, sizeof(f->what), "%s", what);
	snprintf(f->msg, sizeof(f->msg), "%s", msg);
	return -1;
}

/* Whether rc is a lock that another connection holds for a moment, so
 * that a new try may succeed. SQLITE_PROTOCOL is SQLite's own retries
 * of a race between two openers of a WAL database running out. */
static int
db_retryable(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ||
	       rc == SQLITE_PROTOCOL;
}

/* Runs sql that returns no rows, for a try. Returns 0, or -1 with f set. */
static int
db_try_exec(sqlite3 *db, const char *sql, const char *what, struct db_fail *f)
{
	char *msg = NULL;
	int rc;

	if ((rc = sqlite3_exec(db, sql, NULL, NULL, &msg)) == SQLITE_OK)
		return 0;
	db_fail(f, rc, what, msg ? msg : sqlite3_errmsg(db));
	sqlite3_free(msg);
	return -1;
}

/*
 * Prepares sql and steps it to its first row, for a try. Returns the
 * statement, which the caller finalizes, or NULL with f set.
 */
static sqlite3_stmt *
db_try_row(sqlite3 *db, const char *sql, const char *what, struct db_fail *f)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK &&
	    (rc = sqlite3_step(st)) == SQLITE_ROW)
		return st;
	db_fail(f, rc, what, rc == SQLITE_DONE ? "no row" : sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return NULL;
}

/* Switches the database to WAL. Returns 0, or -1 with f set. */
static int
db_try_wal(sqlite3 *db, struct db_fail *f)
{
	sqlite3_stmt *st;
	const char *mode;
	char msg[128];
	int rc = 0;

	/* On a database in WAL already this only reads: no write lock. */
	st = db_try_row(db, "PRAGMA journal_mode=WAL", "enabling WAL", f);
	if (st == NULL)
		return -1;
	mode = (const char *)sqlite3_column_text(st, 0);
	/* SQLite keeps the old mode, without an error, where WAL cannot
	 * work: no shared memory for the -shm file. */
	if (mode == NULL || strcmp(mode, "wal") != 0) {
		snprintf(msg, sizeof(msg),
			 "the journal mode stays %s; WAL needs a local file "
			 "system (not NFS)",
			 mode ? mode : "unknown");
		rc = db_fail(f, SQLITE_ERROR, "enabling WAL", msg);
	}
	sqlite3_finalize(st);
	return rc;
}

/* Reads PRAGMA user_version into *v. Returns 0, or -1 with f set (also
 * when the schema is newer than this program knows). */
static int
db_try_version(sqlite3 *db, int *v, struct db_fail *f)
{
	sqlite3_stmt *st;
	char msg[128];

	st = db_try_row(db, "PRAGMA user_version", "reading the schema version",
			f);
	if (st == NULL)
		return -1;
	*v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (*v > DB_SCHEMA_VERSION) {
		snprintf(msg, sizeof(msg),
			 "schema version %d is newer than this program's %d; "
			 "upgrade nthpi",
			 *v, DB_SCHEMA_VERSION);
		return db_fail(f, SQLITE_ERROR, "reading the schema version",
			       msg);
	}
	return 0;
}

/*
 * Brings the schema to DB_SCHEMA_VERSION in one BEGIN IMMEDIATE
 * transaction, so that of two programs only one creates or migrates and
 * the other then finds the result. Returns 0, or -1 with f set.
 */
static int
db_try_migrate(sqlite3 *db, struct db_fail *f)
{
	char msg[128];
	int from, v;

	if (DB_SCHEMA_VERSION != db_migration_count + 1) {
		snprintf(msg, sizeof(msg),
			 "built with %d migrations for schema version %d",
			 db_migration_count, DB_SCHEMA_VERSION);
		return db_fail(f, SQLITE_ERROR, "checking the migrations", msg);
	}
	/* Read first, so that an up-to-date database is not written. */
	if (db_try_version(db, &from, f) == -1)
		return -1;
	if (from == DB_SCHEMA_VERSION)
		return 0;
	if (db_try_exec(db, "BEGIN IMMEDIATE",
			"beginning the schema's transaction", f) == -1)
		return -1;
	/* Another program may have done it while we waited for the lock. */
	if (db_try_version(db, &from, f) == -1)
		goto fail;
	v = from;
	if (v == 0) {
		if (db_try_exec(db, db_schema_sql, "creating the schema", f) ==
		    -1)
			goto fail;
		v = DB_SCHEMA_VERSION;
	}
	for (; v < DB_SCHEMA_VERSION; v++) {
		char what[64];

		snprintf(what, sizeof(what), "migrating to version %d", v + 1);
		if (db_try_exec(db, db_migrations[v], what, f) == -1)
			goto fail;
	}
	if (db_try_exec(db, "COMMIT", "committing the schema", f) == -1)
		goto fail;
	/* Logged once committed: a try that fails is tried again. */
	if (from == 0)
		log_info("database: created the schema (version %d) in a new, "
			 "empty database: there was none at %s",
			 DB_SCHEMA_VERSION, sqlite3_db_filename(db, "main"));
	else if (from < DB_SCHEMA_VERSION)
		log_info("database: migrated from schema version %d to %d",
			 from, DB_SCHEMA_VERSION);
	return 0;
fail:
	/* Unlogged: f holds the error that matters, and the connection is
	 * closed next, which rolls back anyway. */
	if (sqlite3_get_autocommit(db) == 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * One try at db_open, on a new connection whose busy handler waits at most
 * busy_ms. Returns the handle, or NULL with f set (the connection closed).
 */
static sqlite3 *
db_open_try(const char *path, int busy_ms, struct db_fail *f)
{
	sqlite3 *db = NULL;
	int rc;

	rc = sqlite3_open_v2(path, &db,
			     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		db_fail(f, rc, "opening",
			db ? sqlite3_errmsg(db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(db, busy_ms);
	sqlite3_extended_result_codes(db, 1);
	/* WAL lets the page read while the worker writes; synchronous=FULL
	 * makes every acknowledged commit survive a power cut too. The
	 * last select loads the schema, which the callers' prepares would
	 * otherwise read outside these tries. */
	if (db_try_wal(db, f) == -1 ||
	    db_try_exec(db, "PRAGMA synchronous=FULL", "setting synchronous",
			f) == -1 ||
	    db_try_exec(db, "PRAGMA foreign_keys=ON", "enabling foreign keys",
			f) == -1 ||
	    db_try_migrate(db, f) == -1 ||
	    db_try_exec(db, "SELECT count(*) FROM sqlite_master",
			"reading the schema", f) == -1)
		goto fail;
	return db;
fail:
	sqlite3_close(db);
	return NULL;
}

sqlite3 *
db_open(const char *path)
{
	struct db_fail f;
	struct timespec pause;
	long long start = time_mono_ms(), spent = 0;
	int pause_ms = DB_RETRY_FIRST_MS, tries = 0;
	sqlite3 *db = NULL;

	/* A new connection could reach another file than the lost one, or
	 * make an empty database over what the lost one left. */
	if (dbfile_gone()) {
		log_warn("database: %s: not opened again: its file went away "
			 "while in use (see the error logged then)",
			 path);
		return NULL;
	}
	if (dbfile_may_open(path) == -1)
		return NULL;
	for (;;) {
		/* At least 1: 0 would turn the busy handler off. */
		long long left = DB_OPEN_PATIENCE_MS - spent;

		tries++;
		db = db_open_try(path, left > 1 ? (int)left : 1, &f);
		spent = time_mono_ms() - start;
		if (db != NULL || !db_retryable(f.rc))
			break;
		if (spent + pause_ms >= DB_OPEN_PATIENCE_MS)
			break;
		pause.tv_sec = 0;
		pause.tv_nsec = pause_ms * 1000000L;
		nanosleep(&pause, NULL);
		spent = time_mono_ms() - start;
		pause_ms = pause_ms * 2 < DB_RETRY_MAX_MS ? pause_ms * 2
							  : DB_RETRY_MAX_MS;
	}
	if (db != NULL) {
		/* The tries' timeout was what was left of the patience. */
		sqlite3_busy_timeout(db, DB_BUSY_TIMEOUT_MS);
		dbfile_opened(path);
		if (tries > 1)
			log_debug("database: %s opened at try %d, %lld ms "
				  "after the first (the last try stopped at "
				  "%s: another program held a lock)",
				  path, tries, spent, f.what);
	} else if (db_retryable(f.rc))
		log_err("database: %s: %s: %s (gave up after %lld s, %d %s). "
			"Another program holds a lock on it: find it with "
			"\"fuser %s\", stop it or let it finish, then start "
			"this one again",
			path, f.what, f.msg, (spent + 500) / 1000, tries,
			tries == 1 ? "try" : "tries", path);
	else
		log_err("database: %s: %s: %s", path, f.what, f.msg);
	return db;
}

void
db_close(sqlite3 *db)
{
	if (db == NULL)
		return;
	/* The last connection to close copies the -wal file into the
	 * database and removes it: into a lost file, that would leave only
	 * a copy no name reaches, and a restart nothing to refuse over. */
	if (dbfile_check(db) == -1)
		sqlite3_db_config(db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
				  (int *)NULL);
	sqlite3_close(db);
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
