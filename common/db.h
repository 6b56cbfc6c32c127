/* db.h: opening the task database, applying the schema and migrations. */
#ifndef NTHPI_DB_H
#define NTHPI_DB_H

#include <sqlite3.h>

/* The schema version that sql/schema.sql creates. */
#define DB_SCHEMA_VERSION 7

/*
 * Opens (creating if needed) the database at path in WAL mode with a busy
 * timeout, and brings its schema up to DB_SCHEMA_VERSION inside one
 * BEGIN IMMEDIATE transaction; one already at that version is only read.
 * Safe while other processes open the same file: where SQLite answers
 * "busy" without waiting, it starts over after a pause, for up to 20 s.
 * Refuses, returning NULL, to make a new database where a lost one left
 * its -wal or -shm file, and to open any once this process found its
 * database file gone (dbfile.h). Returns the handle, which the caller
 * closes with db_close, or NULL after logging why (once, with the path
 * and what to do).
 */
sqlite3 *db_open(const char *path);

/*
 * Closes db (accepts NULL). If its file is gone (dbfile_check), the -wal
 * file stays as it is, for the saved copy or the moved file to go on
 * from, instead of being copied into the lost file and removed.
 */
void db_close(sqlite3 *db);

/*
 * Prepares sql, logging the SQLite error with the statement on failure.
 * Returns the statement, which the caller finalizes, or NULL.
 */
sqlite3_stmt *db_prepare(sqlite3 *db, const char *sql);

/* Reads queue_state.version into *version. Returns 0 or -1 (logged). */
int db_queue_version(sqlite3 *db, long long *version);

/* Runs BEGIN IMMEDIATE, COMMIT or ROLLBACK. Returns 0 or -1 (logged). */
int db_begin(sqlite3 *db);
int db_commit(sqlite3 *db);
void db_rollback(sqlite3 *db);

#endif
