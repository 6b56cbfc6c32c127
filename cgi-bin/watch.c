/* watch.c: one thread per process that learns when the queue changes, and
 * when a client holding a long-poll went away. */
#include <errno.h>
#include <poll.h>
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

/* A waiter's place, so the watcher can poll its connection. */
struct watch_slot {
	int used;
	int fd;            /* the FastCGI connection, or -1 */
	int gone;          /* its peer closed it */
	unsigned long seq; /* tells a reused slot from the one polled */
};

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
	struct watch_slot *slots;
	int nslots;
	unsigned long seq;
	/* The watcher's own copies, used outside the lock. */
	struct pollfd *pfd;
	int *pfd_slot;
	unsigned long *pfd_seq;
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
 * inotify failed; stops early (0) when stopping.
 */
static int
watch_poll(struct watch *w, int timeout_ms)
{
	int n = 0, i, rc, event = 0, gone = 0;

	pthread_mutex_lock(&w->lock);
	if (w->stopping) {
		pthread_mutex_unlock(&w->lock);
		return 0;
	}
	if (w->fd != -1) {
		w->pfd[n].fd = w->fd;
		w->pfd[n].events = POLLIN;
		w->pfd_slot[n++] = -1;
	}
	for (i = 0; i < w->nslots; i++) {
		struct watch_slot *s = &w->slots[i];

		if (!s->used || s->fd < 0 || s->gone)
			continue;
		/* POLLRDHUP, not POLLIN: nginx's empty stdin record may sit
		 * unread, and must not make every poll return at once. */
		w->pfd[n].fd = s->fd;
		w->pfd[n].events = POLLRDHUP;
		w->pfd_slot[n] = i;
		w->pfd_seq[n++] = s->seq;
	}
	pthread_mutex_unlock(&w->lock);
	rc = poll(w->pfd, (nfds_t)n, timeout_ms);
	if (rc == -1)
		return errno == EINTR ? 0 : 1;
	if (rc == 0)
		return 0;
	pthread_mutex_lock(&w->lock);
	for (i = 0; i < n; i++) {
		struct watch_slot *s;

		if (w->pfd[i].revents == 0)
			continue;
		if (w->pfd_slot[i] == -1) {
			event = 1;
			continue;
		}
		/* The waiter may have left, and its slot been taken again,
		 * while we polled. */
		s = &w->slots[w->pfd_slot[i]];
		if (s->used && s->seq == w->pfd_seq[i]) {
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
			pthread_mutex_lock(&w->lock);
			close(w->fd);
			w->fd = -1;
			pthread_mutex_unlock(&w->lock);
			event = 0;
		}
	}
	return NULL;
}

struct watch *
watch_start(const char *path, int period_ms, int max_waiters)
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
	w->version = -1;
	w->period_ms = period_ms;
	w->nslots = (int)n;
	pthread_mutex_init(&w->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&w->moved, &ca);
	pthread_condattr_destroy(&ca);
	w->slots = calloc(n, sizeof(*w->slots));
	w->pfd = calloc(n + 1, sizeof(*w->pfd));
	w->pfd_slot = calloc(n + 1, sizeof(*w->pfd_slot));
	w->pfd_seq = calloc(n + 1, sizeof(*w->pfd_seq));
	if (w->slots == NULL || w->pfd == NULL || w->pfd_slot == NULL ||
	    w->pfd_seq == NULL) {
		log_err("watch: out of memory");
		goto fail;
	}
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

enum watch_result
watch_wait(struct watch *w, long long version, long long deadline, int conn_fd)
{
	struct watch_slot *slot = NULL;
	enum watch_result ret;
	struct timespec ts;
	int i;

	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (deadline % 1000) * 1000000;
	pthread_mutex_lock(&w->lock);
	w->waiters++;
	/* No free slot (more waiters than threads): wait unwatched. */
	for (i = 0; conn_fd >= 0 && i < w->nslots; i++)
		if (!w->slots[i].used) {
			slot = &w->slots[i];
			slot->used = 1;
			slot->fd = conn_fd;
			slot->gone = 0;
			slot->seq = ++w->seq;
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
	if (slot != NULL)
		slot->used = 0;
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
	free(w->slots);
	free(w->pfd);
	free(w->pfd_slot);
	free(w->pfd_seq);
	free(w);
}
