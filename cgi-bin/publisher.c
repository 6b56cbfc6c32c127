/* publisher.c: the process that sends each change of the task list to
 * nginx once, for nginx to hand to every viewer waiting for it. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dbwatch.h"
#include "livemsg.h"
#include "log.h"
#include "nchan.h"
#include "publisher.h"
#include "pubmap.h"
#include "queries.h"
#include "task.h"
#include "timefmt.h"
#include "workerwatch.h"

/* Without an inotify event the database is looked at this often anyway. */
#define PUBLISHER_RECHECK_MS 250
/* After a failed publish, waits from the first to the last, doubling. */
#define PUBLISHER_RETRY_FIRST_MS 50
#define PUBLISHER_RETRY_MAX_MS 2000
/* Failing to publish for this long is worth a warning. */
#define PUBLISHER_QUIET_MS 5000

static volatile sig_atomic_t publisher_stop;

static void
publisher_on_signal(int sig)
{
	(void)sig;
	publisher_stop = 1;
}

/* One change read from the database, in version order. */
struct publisher_change {
	long long id, version;
	int task; /* index in tasks, or -1 for a deletion */
};

struct publisher {
	const struct config *cfg;
	struct liveboard *live;
	struct dbconn *db;
	struct nchan nchan;
	struct pubmap rows;  /* where each task was last published */
	long long published; /* the queue version published so far */
	long long ticked;    /* the last Unix second ticked */
	long long failing;   /* since when publishing fails (0: it works) */
	int said;            /* that it fails was logged */
	/* The changes of one batch. */
	struct task *tasks;
	int ntasks;
	struct publisher_change *changes;
	int nchanges;
	struct livemsg msg; /* the list's message being built */
	struct livemsg one; /* one task's message */
	struct buf out;
	struct workerwatch worker; /* marks a worker not seen as stalled */
	long long next_watch;      /* time_mono_ms of its next look */
};

static int
publisher_on_task(void *arg, const struct task *t)
{
	struct publisher *p = arg;
	struct publisher_change *c = &p->changes[p->nchanges++];

	p->tasks[p->ntasks] = *t;
	c->id = t->id;
	c->version = t->version;
	c->task = p->ntasks++;
	return 0;
}

static int
publisher_on_deleted(void *arg, long long id, long long version)
{
	struct publisher *p = arg;
	struct publisher_change *c = &p->changes[p->nchanges++];

	c->id = id;
	c->version = version;
	c->task = -1;
	return 0;
}

static int
publisher_on_row(void *arg, long long id, long long version)
{
	struct publisher *p = arg;

	return pubmap_put(&p->rows, id, version);
}

/*
 * Sends out (the message built) to path. Returns 0 or -1. A stream's
 * event ends where its data does: the newline that ends a long poll's
 * answer would be one more, empty, data line.
 */
static int
publisher_send(struct publisher *p, const char *path)
{
	size_t len = p->out.len;

	if (p->out.failed) {
		log_err("publish %s: out of memory building the message", path);
		return -1;
	}
	if (strncmp(path, "/pub/stream/", 12) == 0 && len > 0 &&
	    p->out.data[len - 1] == '\n')
		len--;
	return nchan_publish(&p->nchan, path, p->out.data, len);
}

/* Publishes change c of the batch to its task's channels. */
static int
publisher_send_task(struct publisher *p, const struct publisher_change *c)
{
	long long prev = pubmap_get(&p->rows, c->id);
	char path[96];

	livemsg_reset(&p->one, time_now_ms());
	if (c->task >= 0)
		livemsg_add_task(&p->one, &p->tasks[c->task]);
	else
		livemsg_add_deleted(&p->one, c->id);
	buf_reset(&p->out);
	livemsg_write(&p->one, &p->out, prev >= 0 ? prev : 0, c->version, NULL,
		      0);
	/* A page waits where the task was last published; a task that is
	 * new to it has no such page yet, and one already published at this
	 * version (just after a start) must not wake its pages again. */
	if (prev >= 0 && prev < c->version) {
		snprintf(path, sizeof(path), "/pub/once/x%lld_%lld", c->id,
			 prev);
		if (publisher_send(p, path) == -1)
			return -1;
	}
	snprintf(path, sizeof(path), "/pub/stream/task%lld", c->id);
	return publisher_send(p, path);
}

/*
 * Publishes the list message built in p->msg, covering the versions after
 * from up to version, and empties it. counts (and worker, 1 if stalled)
 * are those at version, or NULL (and -1) for a message cut short. Returns
 * 0 or -1.
 */
static int
publisher_send_list(struct publisher *p, long long from, long long version,
		    const long long *counts, int worker, int more)
{
	char path[64];

	if (worker >= 0)
		livemsg_set_worker(&p->msg, worker);
	buf_reset(&p->out);
	livemsg_write(&p->msg, &p->out, from, version, counts, more);
	livemsg_reset(&p->msg, time_now_ms());
	snprintf(path, sizeof(path), "/pub/once/l%lld", from);
	if (publisher_send(p, path) == -1 ||
	    publisher_send(p, "/pub/stream/tasks") == -1)
		return -1;
	return 0;
}

/*
 * Publishes the changes after p->published, one batch (at most
 * TASK_CHANGES_MAX changes) at a time. Returns 1 if all are out, 0 if a
 * publish failed (nothing of the failed batch counts as published; it is
 * sent again), -1 on a database error.
 */
static int
publisher_catch_up(struct publisher *p)
{
	long long counts[TASK_STATUS__MAX], from;
	struct task_changes tc;
	enum task_rc rc;
	int i;

	for (;;) {
		p->ntasks = 0;
		p->nchanges = 0;
		rc = task_changes(p->db, p->published, publisher_on_task,
				  publisher_on_deleted, p, &tc);
		if (rc == TASK_OK)
			rc = task_counts(p->db, counts);
		if (rc != TASK_OK)
			return -1;
		if (tc.version < p->published && tc.count == 0) {
			/* The database is behind what was published (it was
			 * made anew): start over from it. */
			log_warn("publisher: the database is at version %lld, "
				 "behind the %lld published; going on from it",
				 tc.version, p->published);
			p->published = tc.version;
			liveboard_set_published(p->live, p->published);
		}
		if (tc.version <= p->published)
			return 1;
		/* Each task's own channels first: their map entries change
		 * only once the whole batch is out. */
		for (i = 0; i < p->nchanges; i++)
			if (publisher_send_task(p, &p->changes[i]) == -1)
				return 0;
		/* The list, cut after a task once a message is large. */
		from = p->published;
		livemsg_reset(&p->msg, time_now_ms());
		for (i = 0; i < p->nchanges; i++) {
			const struct publisher_change *c = &p->changes[i];

			if (c->task < 0) {
				livemsg_add_deleted(&p->msg, c->id);
				continue;
			}
			livemsg_add_task(&p->msg, &p->tasks[c->task]);
			if (i == p->nchanges - 1 ||
			    p->msg.tasks.len < PUBLISHER_CHUNK_BYTES)
				continue;
			if (publisher_send_list(p, from, c->version, NULL, -1,
						1) == -1)
				return 0;
			from = c->version;
		}
		if (publisher_send_list(
			p, from, tc.version, tc.more ? NULL : counts,
			tc.more ? -1 : tc.worker_stalled, tc.more) == -1)
			return 0;
		for (i = 0; i < p->nchanges; i++) {
			const struct publisher_change *c = &p->changes[i];

			if (c->task < 0)
				pubmap_del(&p->rows, c->id);
			else if (pubmap_put(&p->rows, c->id, c->version) == -1)
				log_err("publisher: out of memory");
		}
		p->published = tc.version;
		liveboard_set_published(p->live, p->published);
	}
}

/*
 * Publishes the ticks of the seconds that began since the last one: the
 * long polls whose hold ends then are told "nothing new" at the version
 * published. Returns 0 or -1.
 */
static int
publisher_tick(struct publisher *p)
{
	long long now = time_now_ms() / 1000, s;
	char path[64];

	/* Missed seconds (a stall) are ticked too, but never more than a
	 * hold's worth: older ones have no poll left. */
	if (p->ticked < now - p->cfg->hold_seconds - 1)
		p->ticked = now - p->cfg->hold_seconds - 1;
	for (s = p->ticked + 1; s <= now; s++) {
		livemsg_reset(&p->one, 0);
		buf_reset(&p->out);
		livemsg_write(&p->one, &p->out, p->published, p->published,
			      NULL, 0);
		snprintf(path, sizeof(path), "/pub/tick/t%lld", s);
		if (publisher_send(p, path) == -1)
			return -1;
		p->ticked = s;
	}
	return 0;
}

/*
 * Says once that publishing stopped working, and once that it works again.
 * Not at once: nginx starts after the app, or restarts in a second.
 */
static void
publisher_note(struct publisher *p, int ok)
{
	long long now = time_mono_ms();

	if (ok) {
		if (p->said)
			log_info("live updates: publishing to nginx again");
		p->failing = 0;
		p->said = 0;
		return;
	}
	if (p->failing == 0)
		p->failing = now;
	if (!p->said && now - p->failing >= PUBLISHER_QUIET_MS) {
		log_warn("live updates: cannot publish to nginx at %s for %lld "
			 "s; pages and long polls wait until it is back "
			 "(trying again)",
			 p->nchan.path, (now - p->failing) / 1000);
		p->said = 1;
	}
}

/* Loads where every task is, and where to start. Returns 0 or -1. */
static int
publisher_start(struct publisher *p)
{
	long long current = 0, before = liveboard_published(p->live);

	if (task_row_versions(p->db, publisher_on_row, p, &current) !=
	    TASK_OK) {
		log_err("publisher: cannot read the tasks to start from");
		return -1;
	}
	/*
	 * A publisher that came back after a crash goes on from where the
	 * last one stopped, so that the polls waiting there get the changes
	 * they missed. Its tasks' channels start from now: a page left
	 * waiting on an older one hears from its tick instead.
	 */
	p->published = before >= 0 && before <= current ? before : current;
	liveboard_set_published(p->live, p->published);
	p->ticked = time_now_ms() / 1000;
	workerwatch_init(&p->worker, time_mono_ms());
	log_debug("publisher: %zu tasks, starting after version %lld",
		  p->rows.used, p->published);
	return 0;
}

int
publisher_run(const struct config *cfg, struct liveboard *live)
{
	struct publisher p;
	struct sigaction sa;
	sigset_t none;
	long long retry_ms = PUBLISHER_RETRY_FIRST_MS, next_try = 0, chase = 0;
	int watch = -1, rc = 1;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg;
	p.live = live;
	livemsg_init(&p.msg, 0);
	livemsg_init(&p.one, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = publisher_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (nchan_init(&p.nchan, cfg->publish_path) == -1) {
		log_err("publisher: the socket path %s is too long",
			cfg->publish_path);
		goto out;
	}
	p.tasks = calloc(TASK_CHANGES_MAX, sizeof(*p.tasks));
	p.changes = calloc(TASK_CHANGES_MAX, sizeof(*p.changes));
	if (p.tasks == NULL || p.changes == NULL) {
		log_err("publisher: out of memory");
		goto out;
	}
	if ((p.db = queries_open(cfg->db_path)) == NULL ||
	    publisher_start(&p) == -1)
		goto out;
	watch = dbwatch_open(cfg->db_path);
	while (!publisher_stop) {
		long long now = time_mono_ms(), wait;
		int ok = 1, event;

		if (now >= next_try) {
			int r = publisher_catch_up(&p);

			ok = r != 0 && publisher_tick(&p) == 0;
			if (r == -1)
				log_warn("publisher: cannot read the changes; "
					 "trying again");
			publisher_note(&p, ok);
			if (ok)
				retry_ms = PUBLISHER_RETRY_FIRST_MS;
			else {
				nchan_close(&p.nchan);
				next_try = now + retry_ms;
				if (retry_ms < PUBLISHER_RETRY_MAX_MS)
					retry_ms *= 2;
			}
		}
		/* A mark it sets moves the version: the next catch-up
		 * publishes it. */
		if (now >= p.next_watch) {
			if (workerwatch_check(&p.worker, p.db, now) == -1)
				log_warn("publisher: cannot read or mark the "
					 "worker's state; trying again");
			p.next_watch = now + WORKER_WATCH_MS;
		}
		/* Until the next second starts, a change, or a retry. */
		wait = PUBLISHER_TICK_MS - time_now_ms() % PUBLISHER_TICK_MS;
		if (wait > PUBLISHER_RECHECK_MS)
			wait = PUBLISHER_RECHECK_MS;
		if (chase > 0 && chase < wait)
			wait = chase;
		if (!ok && next_try - time_mono_ms() < wait)
			wait = next_try - time_mono_ms();
		event = wait > 0 ? dbwatch_wait(watch, (int)wait) : 0;
		/*
		 * inotify fires as a writer writes its WAL frames, before its
		 * fsync and before it publishes the commit in the -shm index
		 * (a memory write, which raises no event): a read that early
		 * still sees the old version. So after an event look again
		 * soon, backing off (2, 4, 8 ms...) to the recheck period.
		 */
		if (event == 1)
			chase = 2;
		else if (chase > 0 && (chase *= 2) >= PUBLISHER_RECHECK_MS)
			chase = 0;
	}
	rc = 0;
out:
	if (watch != -1)
		close(watch);
	nchan_close(&p.nchan);
	queries_close(p.db);
	pubmap_free(&p.rows);
	livemsg_free(&p.msg);
	livemsg_free(&p.one);
	buf_free(&p.out);
	free(p.tasks);
	free(p.changes);
	return rc;
}
