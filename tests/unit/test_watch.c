/* test_watch.c: the long-poll machinery of a process without nginx: the
 * watcher waking its waiters, its limit, its prepare hook, and the cache
 * of answers the waiters share. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "pollcache.h"
#include "t.h"
#include "timefmt.h"
#include "watch.h"

static char dir[] = "/tmp/nthpi-test-watch-XXXXXX";
static char path[256];

/* What the prepare hook was given. */
static struct {
	pthread_mutex_t lock;
	int calls;
	long long version, since;
	int n;
} hook = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0, 0 };

static void
count_prepare(void *arg, struct dbconn *c, long long version,
	      const long long *since, int n)
{
	(void)arg;
	(void)c;
	pthread_mutex_lock(&hook.lock);
	hook.calls++;
	hook.version = version;
	hook.since = n > 0 ? since[0] : -1;
	hook.n = n;
	pthread_mutex_unlock(&hook.lock);
}

/* One waiter in a thread of its own. */
struct waiter {
	struct watch *w;
	long long since, deadline, seen;
	int fd;
	enum watch_result result;
	pthread_t id;
};

static void *
waiter_main(void *arg)
{
	struct waiter *x = arg;

	x->result = watch_wait(x->w, x->since, x->deadline, x->fd, &x->seen);
	return NULL;
}

static int
run_sql(const char *sql)
{
	sqlite3 *db = db_open(path);
	int rc = db ? sqlite3_exec(db, sql, NULL, NULL, NULL) : SQLITE_ERROR;

	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

/* The queue's version as the database has it. */
static long long
version_now(void)
{
	sqlite3 *db = db_open(path);
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (db != NULL &&
	    sqlite3_prepare_v2(db, "SELECT version FROM queue_state", -1, &st,
			       NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
test_waiters_wake_on_change(void)
{
	struct waiter x[3];
	struct watch *w;
	long long v = version_now(), t0;
	int i, fds[2];

	w = watch_start(path, 50, 8, 3, count_prepare, NULL);
	if (!T_CHECK(w != NULL && v >= 0, "a watch starts on a database"))
		return;
	/* One waiter watches a connection (a socketpair), so the prepare
	 * hook sees its since=. */
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == -1)
		fds[0] = fds[1] = -1;
	for (i = 0; i < 3; i++) {
		x[i].w = w;
		x[i].since = v;
		x[i].deadline = time_mono_ms() + 10000;
		x[i].fd = i == 0 ? fds[0] : -1;
		pthread_create(&x[i].id, NULL, waiter_main, &x[i]);
	}
	t0 = time_mono_ms();
	while (watch_waiters(w) < 3 && time_mono_ms() - t0 < 5000)
		usleep(1000);
	T_CHECK(watch_waiters(w) == 3, "three waiters wait");
	{
		long long seen = 0;

		T_CHECK(
		    watch_wait(w, v, time_mono_ms() + 10000, -1, &seen) ==
			    WATCH_FULL &&
			seen == v,
		    "a fourth past hold_max (3) is told WATCH_FULL at once");
	}
	t0 = time_mono_ms();
	run_sql("INSERT INTO tasks (n, created_at) VALUES (5, 1)");
	for (i = 0; i < 3; i++)
		pthread_join(x[i].id, NULL);
	T_DIAG("woken %lld ms after the insert", time_mono_ms() - t0);
	T_CHECK(x[0].result == WATCH_MOVED && x[1].result == WATCH_MOVED &&
		    x[2].result == WATCH_MOVED && x[0].seen > v &&
		    x[2].seen == x[0].seen && watch_waiters(w) == 0,
		"one change wakes every waiter, with the new version");
	T_CHECK(hook.calls == 1 && hook.version == x[0].seen &&
		    hook.since == v && hook.n == 1,
		"the prepare hook ran once, before the wake, for since=%lld",
		v);
	watch_free(w);
	if (fds[0] != -1) {
		close(fds[0]);
		close(fds[1]);
	}
}

static void
test_gone_deadline_stop(void)
{
	struct waiter x[2];
	struct watch *w = watch_start(path, 50, 8, 8, NULL, NULL);
	long long v = version_now(), t0, seen;
	int fds[2];

	if (!T_CHECK(w != NULL && socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0,
		     "a watch and a connection"))
		return;
	x[0].w = w;
	x[0].since = v;
	x[0].deadline = time_mono_ms() + 10000;
	x[0].fd = fds[0];
	pthread_create(&x[0].id, NULL, waiter_main, &x[0]);
	t0 = time_mono_ms();
	while (watch_waiters(w) < 1 && time_mono_ms() - t0 < 5000)
		usleep(1000);
	close(fds[1]);
	pthread_join(x[0].id, NULL);
	T_CHECK(x[0].result == WATCH_GONE && time_mono_ms() - t0 < 2000,
		"a waiter whose peer closes is let go (WATCH_GONE)");
	close(fds[0]);
	t0 = time_mono_ms();
	T_CHECK(watch_wait(w, v, t0 + 120, -1, &seen) == WATCH_DEADLINE &&
		    time_mono_ms() - t0 >= 120 && time_mono_ms() - t0 < 1000,
		"with no change a waiter returns at its deadline");
	x[1].w = w;
	x[1].since = v;
	x[1].deadline = time_mono_ms() + 10000;
	x[1].fd = -1;
	pthread_create(&x[1].id, NULL, waiter_main, &x[1]);
	while (watch_waiters(w) < 1)
		usleep(1000);
	watch_stop(w);
	pthread_join(x[1].id, NULL);
	T_CHECK(x[1].result == WATCH_STOPPING, "watch_stop lets waiters go");
	watch_free(w);
}

static void
test_pollcache(void)
{
	struct pollcache *c = pollcache_new();
	unsigned long long t1, t2;
	struct blob *b;

	if (!T_CHECK(c != NULL, "a poll cache"))
		return;
	T_CHECK(pollcache_get(c, 7, 8, 0, &t1) == NULL && t1 != 0,
		"a first get for since=7 is told to build, with a ticket");
	T_CHECK(pollcache_get(c, 7, 8, 1, &t2) == NULL && t2 == 0,
		"while it is built, a get that may not wait gets nothing, "
		"and no ticket");
	pollcache_put(c, t1, 9, "{\"x\": 1}", 8);
	b = pollcache_get(c, 7, 8, 0, &t2);
	T_CHECK(b != NULL && t2 == 0 && b->len == 8 &&
		    strcmp(b->data, "{\"x\": 1}") == 0,
		"then the answer built at 9 is shared for at_least 8");
	blob_unref(b);
	T_CHECK(pollcache_get(c, 7, 10, 0, &t1) == NULL && t1 != 0,
		"an answer older than at_least is built again");
	pollcache_abandon(c, t1);
	T_CHECK(pollcache_get(c, 7, 10, 0, &t2) == NULL && t2 != 0 && t2 != t1,
		"after an abandon the next get builds, with a new ticket");
	pollcache_abandon(c, t1);
	pollcache_put(c, t1, 10, "{\"old\"}", 8);
	T_CHECK(pollcache_get(c, 7, 10, 1, &t1) == NULL && t1 == 0,
		"a stale ticket neither abandons nor answers another's claim");
	pollcache_put(c, t2, 10, "{}", 2);
	b = pollcache_get(c, 7, 10, 0, &t1);
	T_CHECK(b != NULL && b->len == 2, "the claim's own put answers");
	blob_unref(b);
	pollcache_free(c);
}

int
main(void)
{
	log_init("test_watch", LOG_LEVEL_ERR);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/nthpi.db", dir);
	if (run_sql("SELECT 1") == 0) {
		test_waiters_wake_on_change();
		test_gone_deadline_stop();
	} else
		T_CHECK(0, "the database is created");
	test_pollcache();
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return T_EXIT();
}
