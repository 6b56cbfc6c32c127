/* test_dbfile.c: a database file deleted or moved while open, and a start
 * over what a lost one left. Each case that loses a file runs in a child
 * process: the loss, once found, lasts for the process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include <dirent.h>

#include "db.h"
#include "dbfile.h"
#include "log.h"
#include "t.h"

static char dir[] = "/tmp/nthpi-test-dbfile-XXXXXX";

/* Whether path exists. */
static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Makes an empty file at path. */
static void
touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd != -1)
		close(fd);
}

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

/* How many tasks the database at path holds, read with plain SQLite; -1
 * if it cannot be read. */
static long long
tasks_in(const char *path)
{
	sqlite3 *db = NULL;
	long long n = -1;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK)
		n = scalar(db, "SELECT count(*) FROM tasks");
	sqlite3_close(db);
	return n;
}

/* Adds a task. Returns 0 or -1. */
static int
add_task(sqlite3 *db)
{
	return sqlite3_exec(db,
			    "INSERT INTO tasks (n, created_at) VALUES (5, 1)",
			    NULL, NULL, NULL) == SQLITE_OK
		   ? 0
		   : -1;
}

/* The name of the first path.rescued-* file in dir into out, or "". */
static void
rescued(const char *base, char *out, size_t len)
{
	char prefix[128];
	struct dirent *e;
	DIR *d = opendir(dir);

	out[0] = '\0';
	snprintf(prefix, sizeof(prefix), "%s.rescued-", base);
	while (d != NULL && (e = readdir(d)) != NULL)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(out, len, "%s/%s", dir, e->d_name);
	if (d != NULL)
		closedir(d);
}

/* Waits for a child that exits with the number of checks that failed. */
static int
child_failures(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return 1;
	return WEXITSTATUS(status);
}

/* In a child: what a start finds. Returns failures. */
static int
refuses_over_lost_files(void)
{
	char path[256], wal[300], shm[300];
	int failed = 0;
	sqlite3 *db;

	snprintf(path, sizeof(path), "%s/lost.db", dir);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	snprintf(shm, sizeof(shm), "%s-shm", path);
	failed += !T_CHECK(dbfile_may_open(path) == 0,
			   "dbfile: no database and no -wal or -shm file: a "
			   "new database may be made");
	if ((db = db_open(path)) != NULL)
		db_close(db);
	touch(wal);
	failed += !T_CHECK(db != NULL && dbfile_may_open(path) == 0,
			   "dbfile: a database and its -wal file: opened as "
			   "usual");
	unlink(path);
	failed += !T_CHECK(dbfile_may_open(path) == -1 && !exists(path),
			   "dbfile: a -wal file without its database: "
			   "refused");
	unlink(wal);
	touch(shm);
	failed += !T_CHECK(dbfile_may_open(path) == -1,
			   "dbfile: a -shm file without its database: "
			   "refused");
	failed += !T_CHECK(db_open(path) == NULL && !exists(path),
			   "dbfile: db_open makes no new database there");
	return failed;
}

/* In a child: the database deleted while open. Returns failures. */
static int
deleted_while_open(const char *path)
{
	char wal[300], saved[300];
	sqlite3 *db;
	int failed = 0;

	snprintf(wal, sizeof(wal), "%s-wal", path);
	if ((db = db_open(path)) == NULL || add_task(db) == -1)
		return 1;
	failed += !T_CHECK(dbfile_check(db) == 0 && !dbfile_gone(),
			   "dbfile: a database in place checks fine");
	/* The second write is in the -wal file only. */
	add_task(db);
	unlink(path);
	failed += !T_CHECK(dbfile_check(db) == -1 && dbfile_gone(),
			   "dbfile: deleted while open: found");
	rescued("deleted.db", saved, sizeof(saved));
	failed += !T_CHECK(saved[0] != '\0' && tasks_in(saved) == 2,
			   "dbfile: a whole copy of it is saved as "
			   "deleted.db.rescued-INODE, both tasks in it (%lld)",
			   saved[0] ? tasks_in(saved) : -1);
	failed += !T_CHECK(scalar(db, "SELECT count(*) FROM tasks") == 2,
			   "dbfile: reads go on from the open file");
	failed += !T_CHECK(db_open(path) == NULL && !exists(path),
			   "dbfile: no new connection is opened afterwards, "
			   "and no new file made");
	db_close(db);
	failed += !T_CHECK(exists(wal),
			   "dbfile: closing keeps the -wal file (it is not "
			   "copied into the lost file and removed)");
	failed += !T_CHECK(dbfile_may_open(path) == -1,
			   "dbfile: and a start over it is refused");
	return failed;
}

/* In a child: the database moved while open. Returns failures. */
static int
moved_while_open(const char *path, const char *moved)
{
	char saved[300];
	sqlite3 *db;
	int failed = 0;

	if ((db = db_open(path)) == NULL || add_task(db) == -1)
		return 1;
	rename(path, moved);
	failed +=
	    !T_CHECK(dbfile_check(db) == -1, "dbfile: moved while open: found");
	rescued("moved.db", saved, sizeof(saved));
	failed += !T_CHECK(saved[0] == '\0',
			   "dbfile: no copy is saved: the file is still there "
			   "to move back");
	db_close(db);
	return failed;
}

static void
test_refuses_a_new_database_over_a_lost_ones_files(void)
{
	pid_t pid;

	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(refuses_over_lost_files());
	t_failed += child_failures(pid);
}

/* In a child: a new connection after the file was replaced. Returns
 * failures. */
static int
replaced_then_opened(const char *path, const char *other)
{
	sqlite3 *db, *again;
	int failed = 0;

	if ((db = db_open(path)) == NULL || (again = db_open(other)) == NULL)
		return 1;
	db_close(again);
	rename(other, path);
	failed += !T_CHECK(db_open(path) == NULL && dbfile_gone(),
			   "dbfile: a file put in the place of the one this "
			   "process opened is not opened");
	db_close(db);
	return failed;
}

static void
test_replaced_then_opened(void)
{
	char path[256], other[256];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/replaced.db", dir);
	snprintf(other, sizeof(other), "%s/replacement.db", dir);
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(replaced_then_opened(path, other));
	t_failed += child_failures(pid);
}

static void
test_deleted_while_open(void)
{
	char path[256];
	pid_t pid;

	snprintf(path, sizeof(path), "%s/deleted.db", dir);
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(deleted_while_open(path));
	t_failed += child_failures(pid);
}

static void
test_moved_while_open(void)
{
	char path[256], moved[256];
	sqlite3 *db;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/moved.db", dir);
	snprintf(moved, sizeof(moved), "%s/moved-away.db", dir);
	fflush(stdout);
	if ((pid = fork()) == 0)
		_exit(moved_while_open(path, moved));
	t_failed += child_failures(pid);
	rename(moved, path);
	db = db_open(path);
	T_CHECK(db != NULL && scalar(db, "SELECT count(*) FROM tasks") == 1,
		"dbfile: moved back, it opens with the write made before the "
		"move (kept in the -wal file)");
	db_close(db);
}

int
main(void)
{
	char cmd[256];

	/* The errors these cases cause are what they test. */
	log_init("test_dbfile", LOG_LEVEL_ERR + 1);
	if (mkdtemp(dir) == NULL)
		return 1;
	test_refuses_a_new_database_over_a_lost_ones_files();
	test_deleted_while_open();
	test_moved_while_open();
	test_replaced_then_opened();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
