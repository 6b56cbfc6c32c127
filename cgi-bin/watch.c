/* watch.c: one thread per process that learns when the queue changes, and
 * when a client holding a long-poll went away. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "dbwatch.h"
#include "log.h"
#include "queries.h"
#include "watch.h"

/* A waiter's place, so the watcher can poll its connection. */
struct watch_slot {
	int used;
	int fd;       /* the FastCGI connection, or -1 */
	int gone;     /* its peer closed it */
	uint32_t seq; /* tells a reused slot from the one polled */
};

/* The epoll data of the inotify descriptor; a slot's is seq << 32 | index. */
#define WATCH_INOTIFY UINT64_MAX
/* Events taken from epoll per wake. */
#define WATCH_EVENTS 64

struct watch {
	pthread_mutex_t lock;
	pthread_cond_t moved; /* on CLOCK_MONOTONIC, for the deadlines */
	pthread_t thread;
	int started;
	long long version; /* last version read; -1 before the first read */
	int waiters;
	int hold_max; /* most waiters at once */
	int stopping;
	int period_ms;
	int fd; /* dbwatch descriptor, or -1 */
	sqlite3 *db;
	sqlite3_stmt *st; /* Q_VERSION */
	int ep; /* epoll: the inotify descriptor and the waiters' connections */
	struct watch_slot *slots;
	int nslots;
	uint32_t seq;
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

/*
 * Waits up to timeout_ms for an inotify event or a waiter's connection to
 * close. Returns 1 if the database may have changed, 0 if not, -1 if
 * inotify failed. epoll makes this cost nothing per waiter: a connection
 * is added once by its waiter and reported only when it closes.
 */
static int
watch_poll(struct watch *w, int timeout_ms)
{
	struct epoll_event ev[WATCH_EVENTS];
	int n, i, event = 0, gone = 0;

	n = epoll_wait(w->ep, ev, WATCH_EVENTS, timeout_ms);
	if (n == -1)
		return errno == EINTR ? 0 : 1;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64;
		struct watch_slot *s;

		if (d == WATCH_INOTIFY) {
			event = 1;
			continue;
		}
		/* The waiter may have left, and its slot been taken again,
		 * since epoll saw this. */
		s = &w->slots[d & 0xffffffffu];
		if (s->used && s->seq == (uint32_t)(d >> 32)) {
			s->gone = 1;
			gone = 1;
		}
	}
	if (gone)
		pthread_cond_broadcast(&w->moved);
	pthread_mutex_unlock(&w->lock);
	return event ? dbwatch_wait(w->fd, 0) : 0;
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
		event = watch_poll(w, chase > 0 ? chase : w->period_ms);
		if (event == -1) {
			log_warn("watch: reading inotify failed; polling every "
				 "%d ms",
				 w->period_ms);
			epoll_ctl(w->ep, EPOLL_CTL_DEL, w->fd, NULL);
			close(w->fd);
			w->fd = -1;
			event = 0;
		}
	}
	return NULL;
}

struct watch *
watch_start(const char *path, int period_ms, int max_waiters, int hold_max)
{
	struct watch *w = calloc(1, sizeof(*w));
	size_t n = (size_t)(max_waiters > 0 ? max_waiters : 1);
	pthread_condattr_t ca;
	pthread_attr_t ta;

	if (w == NULL) {
		log_err("watch: out of memory");
		return NULL;
	}
	w->fd = -1;
	w->ep = -1;
	w->version = -1;
	w->period_ms = period_ms;
	w->nslots = (int)n;
	w->hold_max = hold_max;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->moved, &ca);
	pthread_condattr_destroy(&ca);
	if ((w->slots = calloc(n, sizeof(*w->slots))) == NULL) {
		log_err("watch: out of memory");
		goto fail;
	}
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_err("watch: epoll_create1: %s", strerror(errno));
		goto fail;
	}
	if ((w->db = db_open(path)) == NULL)
		goto fail;
	if ((w->st = db_prepare(w->db, query_sql[Q_VERSION])) == NULL)
		goto fail;
	/* Without inotify the period alone still finds every change. */
	if ((w->fd = dbwatch_open(path)) != -1) {
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.u64 = WATCH_INOTIFY;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->fd, &ev) == -1) {
			log_warn("watch: epoll_ctl: %s", strerror(errno));
			close(w->fd);
			w->fd = -1;
		}
	}
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

enum watch_result
watch_wait(struct watch *w, long long version, long long deadline, int conn_fd,
	   long long *seen)
{
	struct watch_slot *slot = NULL;
	enum watch_result ret;
	struct timespec ts;
	int i;

	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (deadline % 1000) * 1000000;
	pthread_mutex_lock(&w->lock);
	if (w->waiters >= w->hold_max) {
		*seen = w->version;
		pthread_mutex_unlock(&w->lock);
		return WATCH_FULL;
	}
	w->waiters++;
	/* No free slot (more waiters than threads): wait unwatched. */
	for (i = 0; conn_fd >= 0 && i < w->nslots; i++)
		if (!w->slots[i].used) {
			/* RDHUP, not IN: nginx's empty stdin record may sit
			 * unread. One shot: a closed connection is reported
			 * once, not on every wait. */
			struct epoll_event ev = { .events = EPOLLRDHUP |
							    EPOLLONESHOT };

			slot = &w->slots[i];
			slot->seq = ++w->seq;
			ev.data.u64 = (uint64_t)slot->seq << 32 | (uint64_t)i;
			if (epoll_ctl(w->ep, EPOLL_CTL_ADD, conn_fd, &ev) ==
			    -1) {
				slot = NULL;
				break;
			}
			slot->used = 1;
			slot->fd = conn_fd;
			slot->gone = 0;
			break;
		}
	for (;;) {
		if (w->stopping) {
			ret = WATCH_STOPPING;
			break;
		}
		if (w->version > version) {
			ret = WATCH_MOVED;
			break;
		}
		if (slot != NULL && slot->gone) {
			ret = WATCH_GONE;
			break;
		}
		if (pthread_cond_timedwait(&w->moved, &w->lock, &ts) ==
		    ETIMEDOUT) {
			ret =
			    w->version > version ? WATCH_MOVED : WATCH_DEADLINE;
			break;
		}
	}
	if (slot != NULL) {
		/* Before the request ends and its descriptor is closed and
		 * maybe reused. */
		epoll_ctl(w->ep, EPOLL_CTL_DEL, slot->fd, NULL);
		slot->used = 0;
	}
	*seen = w->version;
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
	if (w->ep != -1)
		close(w->ep);
	pthread_cond_destroy(&w->moved);
	pthread_mutex_destroy(&w->lock);
	free(w->slots);
	free(w);
}
