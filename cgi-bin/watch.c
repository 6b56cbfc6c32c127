/* watch.c: one thread per process that learns when the queue changes, and
 * when a client holding a long-poll went away. */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "dbwatch.h"
#include "log.h"
#include "queries.h"
#include "timefmt.h"
#include "watch.h"

/*
 * Why no mutex and no condition variable: when the queue moves, every
 * waiter of the process wakes at once (hundreds of threads). With a
 * condition variable each of them must take its mutex again on the way
 * out, one after the other, and on two cores that queue of context
 * switches spread the answers of one child over 50 ms. Here the waiters
 * sleep on a futex word that the watcher bumps, read everything they need
 * from atomics, and leave without waiting for each other.
 */

/* A waiter's place, so the watcher can poll its connection. */
struct watch_slot {
	/* 0: free; else seq << 1, | 1 once its peer closed the connection.
	 * The watcher marks "gone" with a compare-and-swap on the seq it
	 * polled, so a slot freed and taken again is never marked. */
	_Atomic uint64_t state;
	_Atomic long long since; /* the version its waiter waits past */
	int fd;                  /* the FastCGI connection */
};

/* The epoll data of the inotify descriptor; a slot's is seq << 32 | index. */
#define WATCH_INOTIFY UINT64_MAX
/* Events taken from epoll per wake. */
#define WATCH_EVENTS 64
/* Distinct since= values whose answers are prepared before a wake. */
#define WATCH_PREPARE_MAX 4

struct watch {
	pthread_t thread;
	int started;
	_Atomic long long version; /* last read; -1 before the first read */
	atomic_uint gen;           /* futex word: bumped to wake the waiters */
	atomic_int waiters;
	atomic_int stopping;
	atomic_uint seq;
	int hold_max; /* most waiters at once */
	int period_ms;
	int fd; /* dbwatch descriptor, or -1 */
	struct dbconn *db;
	int ep; /* epoll: the inotify descriptor and the waiters' connections */
	struct watch_slot *slots;
	int nslots;
	watch_prepare_fn prepare;
	void *prepare_arg;
};

/* Sleeps while *word is expected, until deadline (time_mono_ms) at most. */
static void
watch_futex_wait(atomic_uint *word, unsigned expected, long long deadline)
{
	struct timespec ts;

	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (deadline % 1000) * 1000000;
	/* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. A wake,
	 * a change of *word, a signal or the time all just return. */
	syscall(SYS_futex, (unsigned *)word, FUTEX_WAIT_BITSET_PRIVATE,
		expected, &ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

/* Wakes every waiter: they look again at what they wait for. */
static void
watch_wake_all(struct watch *w)
{
	atomic_fetch_add(&w->gen, 1);
	syscall(SYS_futex, (unsigned *)&w->gen, FUTEX_WAKE_PRIVATE, INT_MAX,
		NULL, NULL, 0);
}

/*
 * Hands the distinct since= values of the waiters (up to
 * WATCH_PREPARE_MAX) to the prepare hook, so that their answers for
 * version are built before the waiters wake.
 */
static void
watch_prepare(struct watch *w, long long version)
{
	long long since[WATCH_PREPARE_MAX];
	int i, j, n = 0;

	for (i = 0; i < w->nslots && n < WATCH_PREPARE_MAX; i++) {
		long long s;

		if (atomic_load(&w->slots[i].state) == 0)
			continue;
		s = atomic_load(&w->slots[i].since);
		if (s >= version)
			continue;
		for (j = 0; j < n && since[j] != s; j++)
			;
		if (j == n)
			since[n++] = s;
	}
	if (n > 0)
		w->prepare(w->prepare_arg, w->db, version, since, n);
}

/* Reads the version and wakes everyone if it moved. */
static void
watch_check(struct watch *w)
{
	sqlite3_stmt *st = w->db->st[Q_VERSION];
	long long v, old;
	int rc = sqlite3_step(st);

	if (rc != SQLITE_ROW) {
		/* Busy or failing: the next wake tries again. */
		sqlite3_reset(st);
		log_debug("watch: reading the version: %s",
			  sqlite3_errmsg(w->db->db));
		return;
	}
	v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	old = atomic_load(&w->version);
	if (v == old)
		return;
	/* Before the version is published, so that waiters find them. */
	if (w->prepare != NULL && v > old && old >= 0)
		watch_prepare(w, v);
	atomic_store(&w->version, v);
	watch_wake_all(w);
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
	for (i = 0; i < n; i++) {
		uint64_t d = ev[i].data.u64, seen;
		uint32_t idx = (uint32_t)(d & 0xffffffffu);

		if (d == WATCH_INOTIFY) {
			event = 1;
			continue;
		}
		if (idx >= (uint32_t)w->nslots)
			continue;
		/* The waiter may have left, and its slot been taken again,
		 * since epoll saw this: mark only the seq that was polled. */
		seen = (d >> 32) << 1;
		if (atomic_compare_exchange_strong(&w->slots[idx].state, &seen,
						   seen | 1))
			gone = 1;
	}
	if (gone)
		watch_wake_all(w);
	return event ? dbwatch_wait(w->fd, 0) : 0;
}

static void *
watch_main(void *arg)
{
	struct watch *w = arg;
	int event = 0, chase = 0;

	while (!atomic_load(&w->stopping)) {
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
watch_start(const char *path, int period_ms, int max_waiters, int hold_max,
	    watch_prepare_fn prepare, void *prepare_arg)
{
	struct watch *w = calloc(1, sizeof(*w));
	size_t n = (size_t)(max_waiters > 0 ? max_waiters : 1);
	pthread_attr_t ta;

	if (w == NULL) {
		log_err("watch: out of memory");
		return NULL;
	}
	w->fd = -1;
	w->ep = -1;
	atomic_init(&w->version, -1);
	w->period_ms = period_ms;
	w->nslots = (int)n;
	w->hold_max = hold_max;
	w->prepare = prepare;
	w->prepare_arg = prepare_arg;
	if ((w->slots = calloc(n, sizeof(*w->slots))) == NULL) {
		log_err("watch: out of memory");
		goto fail;
	}
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		log_err("watch: epoll_create1: %s", strerror(errno));
		goto fail;
	}
	if ((w->db = queries_open(path)) == NULL)
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

/*
 * Takes a free slot for a waiter on conn_fd and has epoll report when its
 * peer closes. Returns the slot, or NULL (no free slot, or epoll refused):
 * the waiter then waits unwatched.
 */
static struct watch_slot *
watch_slot_take(struct watch *w, int conn_fd, long long since)
{
	/* RDHUP, not IN: nginx's empty stdin record may sit unread. One
	 * shot: a closed connection is reported once, not on every wait. */
	struct epoll_event ev = { .events = EPOLLRDHUP | EPOLLONESHOT };
	uint32_t seq;
	int i;

	do
		seq = atomic_fetch_add(&w->seq, 1) + 1;
	while (seq == 0);
	for (i = 0; i < w->nslots; i++) {
		struct watch_slot *s = &w->slots[i];
		uint64_t empty = 0;

		if (atomic_load(&s->state) != 0 ||
		    !atomic_compare_exchange_strong(&s->state, &empty,
						    (uint64_t)seq << 1))
			continue;
		s->fd = conn_fd;
		atomic_store(&s->since, since);
		ev.data.u64 = (uint64_t)seq << 32 | (uint64_t)i;
		if (epoll_ctl(w->ep, EPOLL_CTL_ADD, conn_fd, &ev) == -1) {
			atomic_store(&s->state, 0);
			return NULL;
		}
		return s;
	}
	return NULL;
}

enum watch_result
watch_wait(struct watch *w, long long version, long long deadline, int conn_fd,
	   long long *seen)
{
	struct watch_slot *slot = NULL;
	enum watch_result ret;

	if (atomic_fetch_add(&w->waiters, 1) >= w->hold_max) {
		atomic_fetch_sub(&w->waiters, 1);
		*seen = atomic_load(&w->version);
		return WATCH_FULL;
	}
	if (conn_fd >= 0)
		slot = watch_slot_take(w, conn_fd, version);
	for (;;) {
		/* Read before the checks: a wake after them changes it, and
		 * the futex then does not sleep. */
		unsigned gen = atomic_load(&w->gen);

		if (atomic_load(&w->stopping)) {
			ret = WATCH_STOPPING;
			break;
		}
		if (atomic_load(&w->version) > version) {
			ret = WATCH_MOVED;
			break;
		}
		if (slot != NULL && (atomic_load(&slot->state) & 1)) {
			ret = WATCH_GONE;
			break;
		}
		if (time_mono_ms() >= deadline) {
			ret = WATCH_DEADLINE;
			break;
		}
		watch_futex_wait(&w->gen, gen, deadline);
	}
	if (slot != NULL) {
		/* Before the request ends and its descriptor is closed and
		 * maybe reused; then the slot may be taken again. */
		epoll_ctl(w->ep, EPOLL_CTL_DEL, slot->fd, NULL);
		atomic_store(&slot->state, 0);
	}
	*seen = atomic_load(&w->version);
	atomic_fetch_sub(&w->waiters, 1);
	return ret;
}

int
watch_waiters(struct watch *w)
{
	return atomic_load(&w->waiters);
}

void
watch_stop(struct watch *w)
{
	if (w == NULL)
		return;
	atomic_store(&w->stopping, 1);
	watch_wake_all(w);
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
	queries_close(w->db);
	if (w->fd != -1)
		close(w->fd);
	if (w->ep != -1)
		close(w->ep);
	free(w->slots);
	free(w);
}
