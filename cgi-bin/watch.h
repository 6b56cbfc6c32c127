/* watch.h: one thread per process that learns when the queue changes, and
 * when a client holding a long-poll went away. */
#ifndef NTHPI_WATCH_H
#define NTHPI_WATCH_H

/* What watch_wait came to. */
enum watch_result {
	WATCH_MOVED,    /* the version is above the one waited on */
	WATCH_DEADLINE, /* the deadline passed first */
	WATCH_STOPPING, /* watch_stop: answer now */
	WATCH_GONE,     /* the client's connection closed: answer no one */
	WATCH_FULL      /* hold_max waiters already: answer now */
};

struct watch;
struct dbconn;

/*
 * Called by the watcher when the version moved to version, before any
 * waiter wakes, with the distinct versions waiters wait past (since[0..n),
 * at most a few): builds what they will answer (api_tasks_prepare), so
 * that they find it ready. c is the watcher's own database connection.
 */
typedef void (*watch_prepare_fn)(void *arg, struct dbconn *c, long long version,
				 const long long *since, int n);

/*
 * Starts the watcher thread for the database at path. It waits on inotify
 * (dbwatch) with a fallback re-check every period_ms, reads the queue
 * version once per wake, and wakes every waiter when it moved. It also
 * polls the connections of up to max_waiters waiters, so that one whose
 * client went away is let go at once. At most hold_max threads wait at
 * once. prepare (or NULL) runs with prepare_arg before each wake that
 * moves the version. Returns the watch, or NULL (logged).
 */
struct watch *watch_start(const char *path, int period_ms, int max_waiters,
			  int hold_max, watch_prepare_fn prepare,
			  void *prepare_arg);

/*
 * Blocks the calling thread, using no CPU and no database, until the queue
 * version is above version, until deadline (time_mono_ms) passes, until
 * watch_stop, or until the peer closes conn_fd (a FastCGI connection, or
 * -1 not to watch one). Returns WATCH_FULL at once if hold_max threads
 * wait already. Sets *seen to the last version the watcher read.
 */
enum watch_result watch_wait(struct watch *w, long long version,
			     long long deadline, int conn_fd, long long *seen);

/* How many threads are in watch_wait now. */
int watch_waiters(struct watch *w);

/* Wakes every waiter for good (WATCH_STOPPING) and stops the thread. */
void watch_stop(struct watch *w);

/* Frees a stopped watch. Accepts NULL. */
void watch_free(struct watch *w);

#endif
