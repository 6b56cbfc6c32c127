/* watch.c: one thread per process that learns when the queue changes. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dbwatch.h"
#include "log.h"
#include "queries.h"
#include "watch.h"

struct watch {
	pthread_mutex_t lock;
	pthread_cond_t moved; /* on CLOCK_MONOTONIC, for the deadlines */
	pthread_t thread;
	int started;
	long long version; /* last version read; -1 before the first read */
	int waiters;
	int stopping;
	int period_ms;
	int fd; /* dbwatch descriptor, or -1 */
	sqlite3 *db;
	sqlite3_stmt *st; /* Q_VERSION */
};

/* Reads the version and wakes everyone if it moved. */
static void
watch_check(struct watch *w)
{
	long long v;
	int rc = sqlite3_step(w->st);

	if (rc != SQLITE_ROW) {
		/* Busy or failing: the next wake tries again. */
		sqlite3_reset(w->st);
		log_debug("watch: reading the version: %s",
			  sqlite3_errmsg(w->db));
		return;
	}
	v = sqlite3_column_int64(w->st, 0);
	sqlite3_reset(w->st);
	pthread_mutex_lock(&w->lock);
	if (v != w->version) {
		w->version = v;
		pthread_cond_broadcast(&w->moved);
	}
	pthread_mutex_unlock(&w->lock);
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	int event = 0, chase = 0;

	for (;;) {
		int stopping;

		pthread_mutex_lock(&w->lock);
		stopping = w->stopping;
		pthread_mutex_unlock(&w->lock);
		if (stopping)
			break;
		/* One query per wake, whether inotify or the timeout woke us,
		 * however many requests wait. */
		watch_check(w);
		/*
		 * inotify fires as the writer writes its WAL frames, before
		 * its fsync and before it publishes the commit in the -shm
		 * index (a memory write, which raises no event). A read that
		 * early still sees the old version, so after an event look
		 * again soon, backing off (2, 4, 8 ms...) to the period,
		 * rather than wait a whole period.
		 */
		if (event == 1)
			chase = 2;
		else if (chase > 0)
			chase *= 2;
		if (chase >= w->period_ms)
			chase = 0;
		event = dbwatch_wait(w->fd, chase > 0 ? chase : w->period_ms);
		if (event == -1) {
			log_warn("watch: dbwatch_wait failed; polling every "
				 "%d ms",
				 w->period_ms);
			close(w->fd);
			w->fd = -1;
			event = 0;
		}
	}
	return NULL;
}

struct watch *
watch_start(const char *path, int period_ms)
{
	struct watch *w = calloc(1, sizeof(*w));
	pthread_condattr_t ca;
	pthread_attr_t ta;

	if (w == NULL) {
		log_err("watch: out of memory");
		return NULL;
	}
	w->fd = -1;
	w->version = -1;
	w->period_ms = period_ms;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->moved, &ca);
	pthread_condattr_destroy(&ca);
	if ((w->db = db_open(path)) == NULL)
		goto fail;
	if ((w->st = db_prepare(w->db, query_sql[Q_VERSION])) == NULL)
		goto fail;
	/* Without inotify the period alone still finds every change. */
	w->fd = dbwatch_open(path);
	watch_check(w);
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, 256 * 1024);
	if (pthread_create(&w->thread, &ta, watch_main, w) != 0) {
		pthread_attr_destroy(&ta);
		log_err("watch: cannot start its thread");
		goto fail;
	}
	pthread_attr_destroy(&ta);
	w->started = 1;
	return w;
fail:
	watch_free(w);
	return NULL;
}

int
watch_wait(struct watch *w, long long version, long long deadline)
{
	struct timespec ts;
	int ret = 0;

	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (deadline % 1000) * 1000000;
	pthread_mutex_lock(&w->lock);
	w->waiters++;
	for (;;) {
		if (w->stopping) {
			ret = -1;
			break;
		}
		if (w->version > version) {
			ret = 1;
			break;
		}
		if (pthread_cond_timedwait(&w->moved, &w->lock, &ts) ==
		    ETIMEDOUT) {
			ret = w->version > version ? 1 : 0;
			break;
		}
	}
	w->waiters--;
	pthread_mutex_unlock(&w->lock);
	return ret;
}

int
watch_waiters(struct watch *w)
{
	int n;

	pthread_mutex_lock(&w->lock);
	n = w->waiters;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void
watch_stop(struct watch *w)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = 1;
	pthread_cond_broadcast(&w->moved);
	pthread_mutex_unlock(&w->lock);
	if (w->started) {
		/* The thread notices within one period. */
		pthread_join(w->thread, NULL);
		w->started = 0;
	}
}

void
watch_free(struct watch *w)
{
	if (w == NULL)
		return;
	watch_stop(w);
	sqlite3_finalize(w->st);
	sqlite3_close(w->db);
	if (w->fd != -1)
		close(w->fd);
	pthread_cond_destroy(&w->moved);
	pthread_mutex_destroy(&w->lock);
	free(w);
}
