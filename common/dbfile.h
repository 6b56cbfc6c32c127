/* dbfile.h: noticing that the database file was deleted, moved or
 * replaced while in use, and keeping what it held. */
#ifndef NTHPI_DBFILE_H
#define NTHPI_DBFILE_H

#include <sqlite3.h>

/*
 * Why this matters. In WAL mode a connection goes on reading and writing
 * the file it opened after its name is gone: commits land in the -wal file
 * and in a file no name reaches any more, and every answer says they were
 * saved. The next start then made a new, empty database over the old
 * -wal, and every task was gone with no word in any log. So a process
 * that finds its database file gone takes no change from then on (its
 * writers check before each write and after each commit), opens no new
 * connection (it could reach a replacement, mixing two files), keeps the
 * -wal file at close (SQLite would otherwise copy it into the lost file
 * and remove it), saves a copy of what the lost file held, and says
 * once, loudly, what happened and what to do. Reads go on from the open
 * file. It stays so until the process ends.
 */

/*
 * Whether db_open may open path. Returns -1 (logged once, with what
 * happened and what to do; the process then counts its database as gone)
 * if path is missing but its -wal or -shm file is there, so that a new,
 * empty database would be made over what a lost one left; or if path, a
 * path this process (or the master it was forked from) opened before
 * (dbfile_opened), names another file than it did then: a replacement,
 * whose -wal and -shm files would be the old one's. Else 0.
 */
int dbfile_may_open(const char *path);

/* Notes which file path names now, the first time db_open has opened it in
 * this process (a forked child inherits it), so that a replacement is
 * known; the first file so noted is the one whose descriptor is found
 * once its name is gone. */
void dbfile_opened(const char *path);

/*
 * Checks that the file db has open is still the one at its path (one
 * stat(2), SQLITE_FCNTL_HAS_MOVED). Returns 0 if so. Otherwise, and ever
 * after in this process, returns -1; the first time, it also saves a copy
 * of the database (VACUUM INTO, outside a transaction) and logs what
 * happened and what to do.
 */
int dbfile_check(sqlite3 *db);

/* Whether this process has found its database file gone (dbfile_check). */
int dbfile_gone(void);

#endif
