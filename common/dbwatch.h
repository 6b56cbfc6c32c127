/* dbwatch.h: waking up when another process writes the task database. */
#ifndef NTHPI_DBWATCH_H
#define NTHPI_DBWATCH_H

/*
 * Watches the database's directory with inotify for writes to the database
 * and its WAL, so that a process learns of a commit at once instead of
 * polling. Returns a descriptor for dbwatch_wait and close(2), or -1 (logged;
 * callers then fall back to their timeout alone).
 */
int dbwatch_open(const char *db_path);

/*
 * Waits until the database may have changed or timeout_ms passes (-1: no
 * timeout). Returns 1 on a change; 0 on timeout, a signal or an unrelated
 * event in the directory (callers just wait again); -1 on error. With
 * fd -1 it just sleeps for the timeout.
 */
int dbwatch_wait(int fd, int timeout_ms);

#endif
