/* test_queue.c: claim, lease, finish, cancel and requeue on a temp DB, and
 * how the worker hears from, reaps and cleans up after its compute child.
 * The data directory's lock is test_datalock.c; the store's growth,
 * test_growth.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asan.h"
#include "compute.h"
#include "db.h"
#include "log.h"
#include "queue.h"
#include "t.h"
#include "timefmt.h"

#define NOW 1800000000000LL /* a fixed "now" keeps the lease maths exact */
#define NONE LLONG_MAX      /* no max_n / refuse_above limit */

/* compute.c sets no RLIMIT_AS under AddressSanitizer (see there). */
#define ASAN NTHPI_ASAN

static char test_dir[] = "/tmp/nthpi-test-queue-XXXXXX";

struct fixture {
	sqlite3 *db;
	struct queue *q;
};

/* Opens a new database for one test. Returns 0 or -1. */
static int
fixture_open(struct fixture *f, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.db", test_dir, name);
	f->q = NULL;
	if ((f->db = db_open(path)) == NULL)
		return -1;
	if ((f->q = queue_open(f->db)) == NULL)
		return -1;
	return 0;
}

static void
fixture_close(struct fixture *f)
{
	queue_close(f->q);
	sqlite3_close(f->db);
}

/* Inserts a queued task and returns its id. */
static long long
insert(struct fixture *f, long long n)
{
	sqlite3_stmt *st = db_prepare(
	    f->db, "INSERT INTO tasks (n, created_at) VALUES (?, ?)");
	long long id = -1;

	sqlite3_bind_int64(st, 1, n);
	sqlite3_bind_int64(st, 2, NOW - 1000);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = sqlite3_last_insert_rowid(f->db);
	sqlite3_finalize(st);
	return id;
}

/* Reads one integer column of task id (-1 for NULL or no row). */
static long long
column(struct fixture *f, long long id, const char *col)
{
	char sql[128];
	sqlite3_stmt *st;
	long long v = -1;

	snprintf(sql, sizeof(sql), "SELECT %s FROM tasks WHERE id = ?", col);
	st = db_prepare(f->db, sql);
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Reads the status (or error) text of task id into out. */
static const char *
text(struct fixture *f, long long id, const char *col, char *out, size_t len)
{
	char sql[128];
	sqlite3_stmt *st;

	snprintf(sql, sizeof(sql), "SELECT %s FROM tasks WHERE id = ?", col);
	st = db_prepare(f->db, sql);
	sqlite3_bind_int64(st, 1, id);
	out[0] = '\0';
	if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
		snprintf(out, len, "%s", sqlite3_column_text(st, 0));
	sqlite3_finalize(st);
	return out;
}

static int
is_status(struct fixture *f, long long id, const char *status)
{
	char s[32];

	return strcmp(text(f, id, "status", s, sizeof(s)), status) == 0;
}

static void
test_claim_takes_oldest_queued(void)
{
	struct fixture f;
	struct queue_task t = { 0 };
	long long a, b;

	if (!T_CHECK(fixture_open(&f, "oldest") == 0, "claim: fixture opens"))
		return;
	a = insert(&f, 500);
	b = insert(&f, 5);
	T_CHECK(queue_claim(f.q, NOW, NONE, NONE, &t) == 1 && t.id == a &&
		    t.n == 500 && t.attempts == 1,
		"claim takes the oldest queued task, not the smallest n");
	T_CHECK(is_status(&f, a, "running") &&
		    column(&f, a, "started_at") == NOW &&
		    column(&f, a, "lease_until") == NOW + QUEUE_LEASE_MS &&
		    column(&f, a, "attempts") == 1,
		"claim sets running, started_at, lease_until and attempts");
	T_CHECK(queue_claim(f.q, NOW, NONE, NONE, &t) == 1 && t.id == b,
		"the next claim takes the next task");
	T_CHECK(queue_claim(f.q, NOW, NONE, NONE, &t) == 0,
		"claim returns 0 when nothing is claimable");
	fixture_close(&f);
}

static void
test_claim_respects_lease(void)
{
	struct fixture f;
	struct queue_task t = { 0 };
	long long a, b;

	if (!T_CHECK(fixture_open(&f, "lease") == 0, "lease: fixture opens"))
		return;
	a = insert(&f, 10);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	T_CHECK(queue_claim(f.q, NOW + QUEUE_LEASE_MS - 1, NONE, NONE, &t) == 0,
		"a running task with a live lease is not claimed");
	b = insert(&f, 20);
	T_CHECK(queue_claim(f.q, NOW + QUEUE_LEASE_MS + 1, NONE, NONE, &t) ==
			1 &&
		    t.id == a && t.attempts == 2,
		"an expired lease is reclaimed before a newer queued task");
	T_CHECK(column(&f, a, "lease_until") == NOW + 2 * QUEUE_LEASE_MS + 1,
		"the reclaim sets a new lease");
	T_CHECK(queue_claim(f.q, NOW + QUEUE_LEASE_MS + 1, NONE, NONE, &t) ==
			1 &&
		    t.id == b,
		"then the queued task is claimed");
	fixture_close(&f);
}

static void
test_claim_limits_n(void)
{
	struct fixture f;
	struct queue_task t = { 0 };
	long long big, huge, small;

	if (!T_CHECK(fixture_open(&f, "limit") == 0, "limit: fixture opens"))
		return;
	big = insert(&f, 5000);
	huge = insert(&f, 900000);
	small = insert(&f, 40);
	T_CHECK(queue_claim(f.q, NOW, 1000, 100000, &t) == 1 && t.id == huge,
		"a task above refuse_above is claimed (to be refused) although "
		"an older one waits");
	T_CHECK(queue_claim(f.q, NOW, 1000, 100000, &t) == 1 && t.id == small,
		"a task within max_n is claimed past a bigger older one");
	T_CHECK(queue_claim(f.q, NOW, 1000, 100000, &t) == 0 &&
		    is_status(&f, big, "queued"),
		"a task above max_n stays queued");
	fixture_close(&f);
}

static void
test_finish_fail_cancel(void)
{
	struct fixture f;
	struct queue_task t = { 0 }, stale;
	char s[256];
	long long a;

	if (!T_CHECK(fixture_open(&f, "finish") == 0, "finish: fixture opens"))
		return;
	a = insert(&f, 7);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	stale = t;
	stale.attempts = 0;
	T_CHECK(queue_finish(f.q, &stale, 6, NOW + 5) == 0 &&
		    is_status(&f, a, "running"),
		"finish with a stale claim token changes nothing");
	T_CHECK(queue_finish(f.q, &t, 6, NOW + 5) == 1 &&
		    is_status(&f, a, "done") && column(&f, a, "digit") == 6 &&
		    column(&f, a, "finished_at") == NOW + 5 &&
		    column(&f, a, "lease_until") == -1,
		"finish sets done, digit, finished_at and clears the lease");
	T_CHECK(column(&f, a, "progress") == 1, "finish sets progress 1");
	T_CHECK(queue_finish(f.q, &t, 6, NOW + 6) == 0,
		"a finished task cannot be finished again");

	a = insert(&f, 8);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	T_CHECK(queue_fail(f.q, &t, "Something failed. Retry.", NOW + 7) == 1 &&
		    is_status(&f, a, "error") &&
		    strcmp(text(&f, a, "error", s, sizeof(s)),
			   "Something failed. Retry.") == 0 &&
		    column(&f, a, "finished_at") == NOW + 7,
		"fail sets error with the sentence and finished_at");

	a = insert(&f, 9);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	T_CHECK(queue_cancel(f.q, &t, NOW + 8) == 1 &&
		    is_status(&f, a, "cancelled") &&
		    column(&f, a, "finished_at") == NOW + 8,
		"cancel sets cancelled and finished_at");
	fixture_close(&f);
}

/* queue_cancel_check callback: records the ids it sees. */
static int
collect(void *arg, long long id, long long attempts)
{
	long long *ids = arg;

	(void)attempts;
	ids[ids[0] + 1] = id;
	ids[0]++;
	return ids[0] >= 3;
}

/* queue_heartbeat callback: records the ids still ours. */
static void
note_ours(void *arg, long long id)
{
	long long *ids = arg;

	if (ids[0] < 4)
		ids[++ids[0]] = id;
}

/* The queue version. */
static long long
version(struct fixture *f)
{
	sqlite3_stmt *st = db_prepare(f->db, "SELECT version FROM queue_state");
	long long v = -1;

	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_heartbeat_and_cancel_request(void)
{
	struct fixture f;
	struct queue_task t = { 0 }, other = { 0 }, third = { 0 }, stale;
	const struct queue_task *held[2] = { &t, &other };
	long long a, b, c, v, ids[5] = { 0 };

	if (!T_CHECK(fixture_open(&f, "beat") == 0, "beat: fixture opens"))
		return;
	a = insert(&f, 70);
	b = insert(&f, 80);
	c = insert(&f, 90);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	queue_claim(f.q, NOW, NONE, NONE, &other);
	queue_claim(f.q, NOW, NONE, NONE, &third);
	v = version(&f);
	T_CHECK(queue_heartbeat(f.q, held, 2, 0.25, NOW + 1000, note_ours,
				ids) == 2 &&
		    ids[0] == 2 && ids[1] == a && ids[2] == b,
		"one heartbeat renews every task named and reports each as "
		"ours");
	T_CHECK(column(&f, a, "lease_until") == NOW + 1000 + QUEUE_LEASE_MS &&
		    column(&f, b, "lease_until") == NOW + 1000 + QUEUE_LEASE_MS,
		"heartbeat renews the leases");
	T_CHECK(column(&f, a, "CAST(progress * 100 AS INTEGER)") == 25 &&
		    column(&f, b, "CAST(progress * 100 AS INTEGER)") == 25,
		"heartbeat stores the progress");
	T_CHECK(column(&f, c, "lease_until") == NOW + QUEUE_LEASE_MS &&
		    column(&f, c, "progress") == 0 && version(&f) == v + 2,
		"a task not named is left alone (the version moves once per "
		"task renewed)");
	ids[0] = 0;
	T_CHECK(queue_heartbeat(f.q, held, 2, 7.0, NOW + 1000, note_ours,
				ids) == 2 &&
		    column(&f, a, "progress") == 1,
		"heartbeat clamps progress to 1");
	sqlite3_exec(f.db, "UPDATE tasks SET cancel_requested = 1 WHERE n = 70",
		     NULL, NULL, NULL);
	ids[0] = 0;
	T_CHECK(queue_cancel_check(f.q, collect, ids) == 0 && ids[0] == 1 &&
		    ids[1] == a,
		"cancel check lists the running task with cancel_requested");
	sqlite3_exec(f.db, "DELETE FROM tasks WHERE n = 80", NULL, NULL, NULL);
	ids[0] = 0;
	T_CHECK(queue_heartbeat(f.q, held, 2, 0.5, NOW + 2000, note_ours,
				ids) == 1 &&
		    ids[0] == 1 && ids[1] == a,
		"heartbeat leaves out a deleted task");
	stale = third;
	stale.attempts--;
	held[0] = &stale;
	ids[0] = 0;
	T_CHECK(queue_heartbeat(f.q, held, 1, 0.5, NOW + 3000, note_ours,
				ids) == 0 &&
		    ids[0] == 0 &&
		    column(&f, c, "lease_until") == NOW + QUEUE_LEASE_MS,
		"heartbeat leaves out a task claimed again since (another "
		"claim token)");
	T_CHECK(
	    queue_heartbeat(f.q, held, 0, 0.5, NOW + 3000, note_ours, ids) == 0,
	    "a heartbeat of no task does nothing");
	fixture_close(&f);
}

/* A dead worker's running tasks: claimable at once, the rest untouched. */
static void
test_release_orphans(void)
{
	struct fixture f;
	struct queue_task t = { 0 }, u = { 0 };
	long long a, b, c;

	if (!T_CHECK(fixture_open(&f, "orphans") == 0,
		     "orphans: fixture opens"))
		return;
	a = insert(&f, 11);
	b = insert(&f, 12);
	c = insert(&f, 13);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	queue_claim(f.q, NOW, NONE, NONE, &u);
	T_CHECK(queue_claim(f.q, NOW + 1, 12, NONE, &t) == 0,
		"orphans: a running task is not claimed while its lease runs");
	T_CHECK(queue_begin(f.q) == 0 && queue_release_orphans(f.q) == 2 &&
		    queue_commit(f.q) == 0,
		"queue_release_orphans ends the leases of the 2 running tasks");
	T_CHECK(is_status(&f, a, "running") && is_status(&f, b, "running") &&
		    is_status(&f, c, "queued") &&
		    column(&f, c, "lease_until") == -1,
		"they stay running until claimed; a queued task is untouched");
	T_CHECK(queue_claim(f.q, NOW + 1, 12, NONE, &t) == 1 && t.id == a &&
		    t.attempts == 2 &&
		    queue_claim(f.q, NOW + 1, 12, NONE, &t) == 1 && t.id == b &&
		    t.attempts == 2,
		"both are claimed again at once, as a lapsed lease would be");
	T_CHECK(column(&f, a, "lease_until") == NOW + 1 + QUEUE_LEASE_MS &&
		    column(&f, c, "lease_until") == -1,
		"the new claims hold new leases");
	T_CHECK(queue_release_orphans(f.q) == 2 &&
		    queue_claim(f.q, NOW + 2, 12, NONE, &t) == 1 &&
		    t.attempts == 3 &&
		    queue_claim(f.q, NOW + 2, 12, NONE, &u) == 1 &&
		    u.attempts == 3 && queue_release_orphans(f.q) == 0 &&
		    queue_claim(f.q, NOW + 2, 12, NONE, &t) == 0,
		"a task claimed %d times waits for its lease instead (a crash "
		"loop slows down)",
		QUEUE_ORPHAN_ATTEMPTS);
	fixture_close(&f);
}

static void
test_requeue(void)
{
	struct fixture f;
	struct queue_task t = { 0 };
	long long a;

	if (!T_CHECK(fixture_open(&f, "requeue") == 0,
		     "requeue: fixture opens"))
		return;
	a = insert(&f, 11);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	T_CHECK(queue_begin(f.q) == 0 && queue_requeue(f.q, &t) == 1 &&
		    queue_commit(f.q) == 0,
		"requeue succeeds in a transaction");
	T_CHECK(is_status(&f, a, "queued") &&
		    column(&f, a, "lease_until") == -1 &&
		    column(&f, a, "started_at") == -1,
		"requeue sets queued and clears the lease");
	T_CHECK(queue_claim(f.q, NOW + 1, NONE, NONE, &t) == 1 && t.id == a &&
		    t.attempts == 2,
		"a requeued task is claimed again at once");
	fixture_close(&f);
}

static void
test_rollback_undoes_claim(void)
{
	struct fixture f;
	struct queue_task t = { 0 };
	long long a;

	if (!T_CHECK(fixture_open(&f, "rollback") == 0,
		     "rollback: fixture opens"))
		return;
	a = insert(&f, 12);
	queue_begin(f.q);
	queue_claim(f.q, NOW, NONE, NONE, &t);
	queue_finish(f.q, &t, 1, NOW);
	queue_rollback(f.q);
	T_CHECK(is_status(&f, a, "queued") && column(&f, a, "attempts") == 0,
		"a rolled-back claim leaves the task queued");
	fixture_close(&f);
}

/* Whether path exists. */
static int
exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Creates path with a few bytes. Returns 0 or -1. */
static int
touch(const char *path)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		return -1;
	fputs("31415", f);
	return fclose(f) == 0 ? 0 : -1;
}

static void
test_remove_temps(void)
{
	char store[256], a[300], b[300], other[300], kept[300];

	snprintf(store, sizeof(store), "%s/pi-digits.txt", test_dir);
	snprintf(a, sizeof(a), "%s.tmp.123", store);
	snprintf(b, sizeof(b), "%s.tmp.4567", store);
	snprintf(other, sizeof(other), "%s.tmp.x1", store);
	snprintf(kept, sizeof(kept), "%s/nthpi.db.tmp.5", test_dir);
	if (!T_CHECK(touch(store) == 0 && touch(a) == 0 && touch(b) == 0 &&
			 touch(other) == 0 && touch(kept) == 0,
		     "temps: fixture files made"))
		return;
	T_CHECK(compute_remove_temps(store) == 2 && !exists(a) && !exists(b),
		"the stale temp files of the store (PATH.tmp.PID) are removed");
	T_CHECK(exists(store) && exists(other) && exists(kept),
		"the store and files of other names stay");
	unlink(store);
	unlink(other);
	unlink(kept);
}

/*
 * Sets c up as compute_start does, with a child that runs body(fd) on the
 * write end of its pipe and then exits 0. Its temp file would be
 * test_dir/pi-digits.txt.tmp.PID. Returns 0 or -1.
 */
static int
fake_child(struct compute *c, void (*body)(int fd))
{
	struct rlimit none = { 0, 0 };
	int p[2];

	compute_init(c);
	if (pipe2(p, O_CLOEXEC) == -1)
		return -1;
	if ((c->pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (c->pid == 0) {
		/* The aborts below would leave cores otherwise. */
		setrlimit(RLIMIT_CORE, &none);
		close(p[0]);
		body(p[1]);
		_exit(0);
	}
	close(p[1]);
	fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
	c->fd = p[0];
	c->started_ms = time_mono_ms();
	snprintf(c->temp_path, sizeof(c->temp_path), "%s/pi-digits.txt.tmp.%ld",
		 test_dir, (long)c->pid);
	return 0;
}

/* Calls compute_read until the child is reaped or ms pass. Returns 1 if
 * it was reaped. */
static int
read_until_reaped(struct compute *c, long long ms)
{
	long long end = time_mono_ms() + ms;

	while (compute_read(c) == 0) {
		if (time_mono_ms() > end)
			return 0;
		usleep(2000);
	}
	return 1;
}

static void
child_nomem(int fd)
{
	if (write(fd, "p 0.5\nm\n", 8) != 8)
		_exit(9);
	abort();
}

static void
child_assert(int fd)
{
	if (write(fd, "p 0.5\n", 6) != 6)
		_exit(9);
	abort();
}

static void
child_says_then_waits(int fd)
{
	if (write(fd, "p 0.5\n", 6) == 6)
		pause();
}

static void
child_closes_and_hangs(int fd)
{
	close(fd);
	pause();
}

static void
child_writes_temp(int fd)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/pi-digits.txt.tmp.%ld", test_dir,
		 (long)getpid());
	if (touch(path) == 0 && write(fd, "p 1\n", 4) == 4)
		pause();
}

static void
test_compute_abort_causes(void)
{
	struct compute c;
	char msg[512];

	if (!T_CHECK(fake_child(&c, child_nomem) == 0, "abort: child starts"))
		return;
	T_CHECK(read_until_reaped(&c, 5000) &&
		    compute_outcome(&c, 64, msg, sizeof(msg)) ==
			COMPUTE_NOMEM &&
		    strstr(msg, "ran out of memory (limit 64 MiB)") != NULL,
		"an abort after the child said a GMP allocation failed is out "
		"of memory (%s)",
		msg);
	T_CHECK(c.progress == 0.5, "the progress before it is read");
	compute_stop(&c);

	if (!T_CHECK(fake_child(&c, child_assert) == 0, "abort: child starts"))
		return;
	T_CHECK(read_until_reaped(&c, 5000) &&
		    compute_outcome(&c, 64, msg, sizeof(msg)) ==
			COMPUTE_KILLED &&
		    strstr(msg, "ended by SIGABRT (Aborted)") != NULL,
		"any other abort (an assertion) is a death that names its "
		"signal, not out of memory (%s)",
		msg);
	compute_stop(&c);

	/* A SIGKILL nthpi did not send (a person, the OOM killer acting for
	 * another process): no proof of the memory limit. */
	if (!T_CHECK(fake_child(&c, child_says_then_waits) == 0,
		     "kill: child starts"))
		return;
	while (c.progress != 0.5 && compute_read(&c) == 0)
		usleep(2000);
	kill(c.pid, SIGKILL);
	T_CHECK(read_until_reaped(&c, 5000) &&
		    compute_outcome(&c, 64, msg, sizeof(msg)) ==
			COMPUTE_KILLED &&
		    strstr(msg, "ended by SIGKILL (Killed)") != NULL,
		"a SIGKILL nthpi did not send is a death that names its "
		"signal, not out of memory (%s)",
		msg);
	compute_stop(&c);
}

/* A real computation far past its memory limit: GMP's allocation fails. */
static void
test_compute_gmp_nomem(void)
{
	struct compute c;
	char store[256], msg[512];

	if (ASAN) {
		printf(
		    "ok - a computation past its memory limit ends as out of "
		    "memory # SKIP no memory limit under AddressSanitizer\n");
		return;
	}
	snprintf(store, sizeof(store), "%s/pi-digits.txt", test_dir);
	if (!T_CHECK(
		compute_start(&c, store, 3000000, 1, 12, msg, sizeof(msg)) == 0,
		"nomem: the computation starts"))
		return;
	T_CHECK(read_until_reaped(&c, 60000) &&
		    compute_outcome(&c, 12, msg, sizeof(msg)) == COMPUTE_NOMEM,
		"a computation past its memory limit ends as out of memory "
		"(%s)",
		msg);
	T_DIAG("it ended %s", c.nomem ? "in a GMP allocation (abort)"
				      : "with the engine's own error");
	compute_stop(&c);
	T_CHECK(!exists(store), "... and leaves no store behind");
}

static void
test_compute_never_waits(void)
{
	struct compute c;
	long long t0, took;
	char msg[512];
	int rc;

	if (!T_CHECK(fake_child(&c, child_closes_and_hangs) == 0,
		     "hang: child starts"))
		return;
	usleep(100000);
	t0 = time_mono_ms();
	rc = compute_read(&c);
	took = time_mono_ms() - t0;
	T_CHECK(rc == 0 && took < 100 && c.fd == -1,
		"compute_read does not wait for a child that closed its pipe "
		"but runs on (%lld ms)",
		took);
	T_CHECK(read_until_reaped(&c, 10000) && c.killed &&
		    compute_outcome(&c, 64, msg, sizeof(msg)) ==
			COMPUTE_FAILED &&
		    strstr(msg, "lost touch") != NULL,
		"such a child is killed after a few seconds and its tasks told "
		"why (%s)",
		msg);
	compute_stop(&c);
}

static void
test_compute_stop_removes_temp(void)
{
	struct compute c;
	char temp[PATH_MAX];

	if (!T_CHECK(fake_child(&c, child_writes_temp) == 0,
		     "temp: child starts"))
		return;
	/* It says "p 1" once its temp file is there. */
	while (c.progress < 1 && time_mono_ms() - c.started_ms < 5000)
		if (compute_read(&c) == 0)
			usleep(2000);
	snprintf(temp, sizeof(temp), "%s", c.temp_path);
	if (!T_CHECK(exists(temp), "the child made its temp file"))
		return;
	compute_stop(&c);
	T_CHECK(!exists(temp) && !compute_active(&c),
		"compute_stop removes the temp file of the child it killed");
}

int
main(void)
{
	char cmd[256];

	log_init("test_queue", LOG_LEVEL_WARN);
	if (mkdtemp(test_dir) == NULL)
		return 1;
	test_claim_takes_oldest_queued();
	test_claim_respects_lease();
	test_claim_limits_n();
	test_finish_fail_cancel();
	test_heartbeat_and_cancel_request();
	test_requeue();
	test_release_orphans();
	test_rollback_undoes_claim();
	test_remove_temps();
	test_compute_abort_causes();
	test_compute_gmp_nomem();
	test_compute_never_waits();
	test_compute_stop_removes_temp();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", test_dir);
	return T_EXIT();
}
