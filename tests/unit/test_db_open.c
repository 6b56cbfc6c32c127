/* test_db_open.c: db_open from many processes and threads at once on a new
 * file, and on an up-to-date database while another program writes. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "timefmt.h"
#include "t.h"

/* Openers per round and rounds, each round on a new file. */
#define OPENERS 8
#define ROUNDS 25

static char dir[] = "/tmp/nthpi-test-db-open-XXXXXX";

/* Runs one statement that returns a single integer; -1 if none. */
static long long
scalar(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	long long v = -1;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* Opens path with db_open and checks what an opener relies on: the whole
 * schema and its one queue_state row. Returns 0 or -1. */
static int
open_and_check(const char *path)
{
	sqlite3 *db = db_open(path);
	int ok;

	if (db == NULL)
		return -1;
	ok = scalar(db, "PRAGMA user_version") == DB_SCHEMA_VERSION &&
	     scalar(db, "SELECT count(*) FROM queue_state") == 1 &&
	     scalar(db, "SELECT count(*) FROM compute_totals") == 1;
	sqlite3_close(db);
	return ok ? 0 : -1;
}

/*
 * Forks OPENERS processes that wait on a pipe, then all call db_open on a
 * new file at once. Returns how many failed.
 */
static int
processes_round(const char *path)
{
	pid_t pids[OPENERS];
	int gate[2], i, status, failed = 0;

	if (pipe(gate) == -1)
		return OPENERS;
	for (i = 0; i < OPENERS; i++) {
		if ((pids[i] = fork()) == 0) {
			char c;

			close(gate[1]);
			/* Returns 0 (end of file) once the parent closes. */
			if (read(gate[0], &c, 1) == -1)
				_exit(2);
			_exit(open_and_check(path) == 0 ? 0 : 1);
		}
		if (pids[i] == -1)
			failed++;
	}
	close(gate[0]);
	close(gate[1]);
	for (i = 0; i < OPENERS; i++)
		if (pids[i] > 0 &&
		    (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		     WEXITSTATUS(status) != 0))
			failed++;
	return failed;
}

static void
test_processes_open_a_new_database_at_once(void)
{
	char path[256];
	int r, failed = 0, rounds_failed = 0;

	for (r = 0; r < ROUNDS; r++) {
		int n;

		snprintf(path, sizeof(path), "%s/procs-%d.db", dir, r);
		if ((n = processes_round(path)) > 0) {
			failed += n;
			rounds_failed++;
		}
	}
	T_CHECK(failed == 0,
		"%d processes at once open a new database, %d times: all get "
		"the schema (%d openers failed in %d rounds)",
		OPENERS, ROUNDS, failed, rounds_failed);
}

struct opener {
	pthread_barrier_t *start;
	const char *path;
	int rc;
};

static void *
opener_main(void *arg)
{
	struct opener *o = arg;

	pthread_barrier_wait(o->start);
	o->rc = open_and_check(o->path);
	return NULL;
}

static void
test_threads_open_a_new_database_at_once(void)
{
	pthread_barrier_t start;
	pthread_t ids[OPENERS];
	struct opener o[OPENERS];
	char path[256];
	int r, i, failed = 0;

	for (r = 0; r < ROUNDS; r++) {
		snprintf(path, sizeof(path), "%s/threads-%d.db", dir, r);
		pthread_barrier_init(&start, NULL, OPENERS);
		for (i = 0; i < OPENERS; i++) {
			o[i].start = &start;
			o[i].path = path;
			o[i].rc = -1;
			if (pthread_create(&ids[i], NULL, opener_main, &o[i]) !=
			    0) {
				/* The others would wait at the barrier. */
				T_DIAG("pthread_create failed");
				exit(1);
			}
		}
		for (i = 0; i < OPENERS; i++) {
			pthread_join(ids[i], NULL);
			failed += o[i].rc != 0;
		}
		pthread_barrier_destroy(&start);
	}
	T_CHECK(failed == 0,
		"%d threads, each with its own connection, open a new "
		"database at once, %d times: all get the schema (%d failed)",
		OPENERS, ROUNDS, failed);
}

static void
test_up_to_date_database_opens_without_writing(void)
{
	char path[256];
	sqlite3 *writer, *db;
	long long t0, ms;

	snprintf(path, sizeof(path), "%s/current.db", dir);
	if (!T_CHECK((db = db_open(path)) != NULL, "a new database opens"))
		return;
	sqlite3_close(db);
	if (!T_CHECK((writer = db_open(path)) != NULL &&
			 sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL,
				      NULL) == SQLITE_OK,
		     "another connection takes the write lock")) {
		sqlite3_close(writer);
		return;
	}
	/* Any write would wait on the busy timeout (seconds). */
	t0 = time_mono_ms();
	db = db_open(path);
	ms = time_mono_ms() - t0;
	T_CHECK(db != NULL && ms < 1000,
		"an up-to-date database opens at once while another program "
		"holds the write lock: the open writes nothing (%lld ms)",
		ms);
	sqlite3_close(db);
	sqlite3_exec(writer, "ROLLBACK", NULL, NULL, NULL);
	sqlite3_close(writer);
}

int
main(void)
{
	char cmd[256];

	/* Errors only: a retried open is no news here. */
	log_init("test_db_open", LOG_LEVEL_ERR);
	if (mkdtemp(dir) == NULL)
		return 1;
	test_processes_open_a_new_database_at_once();
	test_threads_open_a_new_database_at_once();
	test_up_to_date_database_opens_without_writing();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
