/* watch.h: one thread per process that learns when the queue changes. */
#ifndef NTHPI_WATCH_H
#define NTHPI_WATCH_H

struct watch;

/*
 * Starts the watcher thread for the database at path. It waits on inotify
 * (dbwatch) with a fallback re-check every period_ms, reads the queue
 * version once per wake, and wakes every waiter when it moved. Returns
 * the watch, or NULL (logged).
 */
struct watch *watch_start(const char *path, int period_ms);

/*
 * Blocks the calling thread, using no CPU and no database, until the queue
 * version is above version, until deadline (time_mono_ms) passes, or until
 * watch_stop. Returns 1 if the version moved, 0 on the deadline, -1 when
 * stopping.
 */
int watch_wait(struct watch *w, long long version, long long deadline);

/* How many threads are in watch_wait now. */
int watch_waiters(struct watch *w);

/* Wakes every waiter for good (they return -1) and stops the thread. */
void watch_stop(struct watch *w);

/* Frees a stopped watch. Accepts NULL. */
void watch_free(struct watch *w);

#endif
