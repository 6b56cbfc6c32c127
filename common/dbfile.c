/* dbfile.c: noticing that the database file was deleted, moved or
 * replaced while in use, and keeping what it held. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dbfile.h"
#include "log.h"

/* What a saved copy is called: the database's name, this, its inode. */
#define DBFILE_SAVED ".rescued-"

/* Set once the database file is found gone; never cleared. */
static atomic_int dbfile_lost;
/* Guards what follows, and makes one thread find and tell the loss. */
static pthread_mutex_t dbfile_lock = PTHREAD_MUTEX_INITIALIZER;
/* The file the first db_open of this process opened: the one to save. */
static int dbfile_known;
static dev_t dbfile_dev;
static ino_t dbfile_ino;
/*
 * Each path opened, with the file it named then: only the same path can
 * name a replacement. nthpi's programs open one database; a test opens
 * several in one process, and paths past the table go unchecked.
 */
#define DBFILE_PATHS 8
static struct dbfile_seen {
	char path[PATH_MAX];
	dev_t dev;
	ino_t ino;
} dbfile_seen[DBFILE_PATHS];
static int dbfile_nseen;

int
dbfile_gone(void)
{
	return atomic_load(&dbfile_lost);
}

/* Writes "DIR/NAME" into out. Returns 0, or -1 if it does not fit. */
static int
dbfile_name(char *out, size_t len, const char *path, const char *suffix)
{
	int n = snprintf(out, len, "%s%s", path, suffix);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Splits path into its directory (at most len bytes) and its last name.
 * Returns 0, or -1 if the directory does not fit. */
static int
dbfile_split(const char *path, char *dir, size_t len, const char **base)
{
	const char *slash = strrchr(path, '/');
	int n;

	*base = slash ? slash + 1 : path;
	if (slash == NULL)
		n = snprintf(dir, len, ".");
	else if (slash == path)
		n = snprintf(dir, len, "/");
	else
		n = snprintf(dir, len, "%.*s", (int)(slash - path), path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/*
 * Finds the newest copy saved of path (path.rescued-*) and puts its last
 * name into out, or leaves out empty.
 */
static void
dbfile_find_saved(const char *path, char *out, size_t len)
{
	char dir[PATH_MAX], prefix[NAME_MAX + 1], full[PATH_MAX];
	const char *base;
	struct dirent *e;
	struct stat st;
	time_t newest = 0;
	DIR *d;
	int n;

	out[0] = '\0';
	if (dbfile_split(path, dir, sizeof(dir), &base) == -1 ||
	    dbfile_name(prefix, sizeof(prefix), base, DBFILE_SAVED) == -1 ||
	    (d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
			continue;
		n = snprintf(full, sizeof(full), "%s/%s", dir, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(full) ||
		    stat(full, &st) == -1 || st.st_size == 0 ||
		    st.st_mtime < newest)
			continue;
		newest = st.st_mtime;
		snprintf(out, len, "%s", e->d_name);
	}
	closedir(d);
}

/*
 * Whether path names another file than the one this process (or the
 * master it was forked from) opened first: a replacement. Logs it once.
 */
static int
dbfile_replaced(const char *path)
{
	struct stat st;
	int i, other = 0;

	pthread_mutex_lock(&dbfile_lock);
	for (i = 0; i < dbfile_nseen; i++)
		if (strcmp(path, dbfile_seen[i].path) == 0)
			other = stat(path, &st) == 0 &&
				(st.st_dev != dbfile_seen[i].dev ||
				 st.st_ino != dbfile_seen[i].ino);
	pthread_mutex_unlock(&dbfile_lock);
	if (!other)
		return 0;
	if (!atomic_exchange(&dbfile_lost, 1))
		log_err(
		    "database: %s is another file than the one nthpi "
		    "opened when it started: it was replaced while nthpi "
		    "ran. Not opened: its -wal and -shm files belong to the "
		    "old one, and a connection to both would mix them. Stop "
		    "nthpi; to use the new file, remove %s-wal and %s-shm "
		    "first; then start it again.",
		    path, path, path);
	return 1;
}

int
dbfile_may_open(const char *path)
{
	char wal[PATH_MAX], shm[PATH_MAX], dir[PATH_MAX], saved[NAME_MAX + 1];
	char also[PATH_MAX + 3 * NAME_MAX + 160] = "";
	const char *base;
	struct stat st;
	int has_wal, has_shm;

	if (dbfile_replaced(path))
		return -1;
	if (dbfile_name(wal, sizeof(wal), path, "-wal") == -1 ||
	    dbfile_name(shm, sizeof(shm), path, "-shm") == -1 ||
	    dbfile_split(path, dir, sizeof(dir), &base) == -1)
		return 0;
	/*
	 * The -wal and -shm files first, the database last: an opener makes
	 * the database before them, so one missing after them was there and
	 * is gone, not about to be made by a program starting beside us.
	 */
	has_wal = lstat(wal, &st) == 0;
	has_shm = lstat(shm, &st) == 0;
	if (!has_wal && !has_shm)
		return 0;
	if (lstat(path, &st) == 0 || errno != ENOENT)
		return 0;
	atomic_store(&dbfile_lost, 1);
	dbfile_find_saved(path, saved, sizeof(saved));
	if (saved[0] != '\0')
		snprintf(also, sizeof(also),
			 "To go on from the copy saved when it went missing: "
			 "cd %s && mv %s %s && rm -f %s-wal %s-shm; then start "
			 "again. ",
			 dir, saved, base, base, base);
	log_err("database: %s is missing from %s, but %s%s%s%s%s %s still "
		"there: the database was deleted or moved while nthpi used "
		"it, and nthpi will not make a new, empty database over what "
		"it left. %sIf you moved it, move it back to %s and start "
		"again, keeping %s-wal: it holds its latest changes. To start "
		"over with no tasks: cd %s && rm -f %s-wal %s-shm.",
		base, dir, has_wal ? base : "", has_wal ? "-wal" : "",
		has_wal && has_shm ? " and " : "", has_shm ? base : "",
		has_shm ? "-shm" : "", has_wal && has_shm ? "are" : "is", also,
		path, base, dir, base, base);
	return -1;
}

void
dbfile_opened(const char *path)
{
	struct dbfile_seen *seen;
	struct stat st;
	int i;

	pthread_mutex_lock(&dbfile_lock);
	for (i = 0; i < dbfile_nseen; i++)
		if (strcmp(path, dbfile_seen[i].path) == 0)
			break;
	if (i == dbfile_nseen && i < DBFILE_PATHS &&
	    strlen(path) < sizeof(seen->path) && stat(path, &st) == 0) {
		seen = &dbfile_seen[dbfile_nseen++];
		snprintf(seen->path, sizeof(seen->path), "%s", path);
		seen->dev = st.st_dev;
		seen->ino = st.st_ino;
		if (!dbfile_known) {
			dbfile_dev = st.st_dev;
			dbfile_ino = st.st_ino;
			dbfile_known = 1;
		}
	}
	pthread_mutex_unlock(&dbfile_lock);
}

/*
 * Finds the descriptor of the opened file among this process's. Returns
 * it, with its name now in where ("… (deleted)" once it has none) and
 * *linked 1 if a name still reaches it, or -1.
 */
static int
dbfile_find_fd(char *where, size_t len, int *linked)
{
	char link[32 + NAME_MAX];
	struct dirent *e;
	struct stat st;
	DIR *d;
	int fd = -1;
	ssize_t n;

	where[0] = '\0';
	*linked = 0;
	if (!dbfile_known || (d = opendir("/proc/self/fd")) == NULL)
		return -1;
	while (fd == -1 && (e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%s", e->d_name);
		/* stat follows the link to the file, named or not. */
		if (stat(link, &st) == -1 || !S_ISREG(st.st_mode) ||
		    st.st_dev != dbfile_dev || st.st_ino != dbfile_ino)
			continue;
		fd = atoi(e->d_name);
		*linked = st.st_nlink > 0;
		if ((n = readlink(link, where, len - 1)) < 0)
			n = 0;
		where[n] = '\0';
	}
	closedir(d);
	return fd;
}

/*
 * Saves what db holds as path.rescued-INODE, its last name put in saved,
 * made here so that of several processes that find the loss, one writes
 * it. Returns 0 once written, 1 if another process writes it, or -1 with
 * why in err.
 */
static int
dbfile_save(sqlite3 *db, const char *path, char *saved, size_t len, char *err,
	    size_t errlen)
{
	char full[PATH_MAX], dir[PATH_MAX];
	const char *base;
	sqlite3_stmt *st = NULL;
	int fd, rc;

	saved[0] = '\0';
	if (dbfile_split(path, dir, sizeof(dir), &base) == -1 ||
	    snprintf(saved, len, "%s" DBFILE_SAVED "%llu", base,
		     (unsigned long long)dbfile_ino) >= (int)len ||
	    snprintf(full, sizeof(full), "%s/%s", dir, saved) >=
		(int)sizeof(full)) {
		saved[0] = '\0';
		snprintf(err, errlen, "its path is too long");
		return -1;
	}
	if (!sqlite3_get_autocommit(db)) {
		snprintf(err, errlen, "it went inside a transaction");
		return -1;
	}
	fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd == -1 && errno == EEXIST)
		return 1;
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", full, strerror(errno));
		return -1;
	}
	close(fd);
	/* A database of its own, whole, with what the -wal file held: it
	 * needs none of the files the lost one left. VACUUM INTO takes the
	 * empty file made above. */
	if ((rc = sqlite3_prepare_v2(db, "VACUUM INTO ?1", -1, &st, NULL)) ==
		SQLITE_OK &&
	    (rc = sqlite3_bind_text(st, 1, full, -1, SQLITE_STATIC)) ==
		SQLITE_OK)
		rc = sqlite3_step(st);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "writing %s: %s", full,
			 sqlite3_errmsg(db));
		unlink(full);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* Tells, once, that the file db had open is gone, and saves a copy. */
static void
dbfile_went(sqlite3 *db)
{
	const char *path = sqlite3_db_filename(db, "main"), *base;
	char where[PATH_MAX], dir[PATH_MAX], saved[NAME_MAX + 1];
	char err[PATH_MAX + 128], what[PATH_MAX + 96];
	char next[2 * PATH_MAX + 4 * NAME_MAX + 320];
	struct stat st;
	int fd, linked, replaced;

	if (path == NULL || dbfile_split(path, dir, sizeof(dir), &base) == -1)
		return;
	pthread_mutex_lock(&dbfile_lock);
	if (atomic_exchange(&dbfile_lost, 1)) {
		pthread_mutex_unlock(&dbfile_lock);
		return;
	}
	fd = dbfile_find_fd(where, sizeof(where), &linked);
	replaced = stat(path, &st) == 0;
	if (linked)
		snprintf(what, sizeof(what), "was moved to %s%s", where,
			 replaced ? ", and another file put in its place" : "");
	else
		snprintf(what, sizeof(what), "was %s",
			 replaced ? "replaced by another file" : "deleted");
	if (linked)
		snprintf(next, sizeof(next),
			 "To go on: stop nthpi, move %s back to %s (keep "
			 "%s-wal: it holds its latest changes), and start it "
			 "again.",
			 where, path, base);
	else
		switch (dbfile_save(db, path, saved, sizeof(saved), err,
				    sizeof(err))) {
		case 0:
			snprintf(next, sizeof(next),
				 "A copy of the database as it was is saved "
				 "as %s in %s. To go on from it, stop nthpi, "
				 "then: cd %s && mv %s %s && rm -f %s-wal "
				 "%s-shm; and start it again.",
				 saved, dir, dir, saved, base, base, base);
			break;
		case 1:
			snprintf(next, sizeof(next),
				 "Another nthpi process saves a copy as %s "
				 "in %s, and its log says what to do.",
				 saved, dir);
			break;
		default:
			if (fd != -1 && saved[0] != '\0')
				snprintf(next, sizeof(next),
					 "No copy could be saved (%s). Make "
					 "one now, before nthpi stops: cp "
					 "/proc/%ld/fd/%d %s/%s; then stop "
					 "nthpi, move it to %s (keep %s-wal: "
					 "it holds the latest changes) and "
					 "start it again.",
					 err, (long)getpid(), fd, dir, saved,
					 path, base);
			else
				snprintf(next, sizeof(next),
					 "No copy could be saved (%s).", err);
			break;
		}
	log_err("database: %s %s while this process used it: it takes no "
		"change from now on (503) and writes nothing more; reads go "
		"on from the file it has open. %s%s",
		path, what, next,
		replaced ? " To start with the file now there instead, remove "
			   "the -wal and -shm files first: they belong to the "
			   "old one."
			 : "");
	pthread_mutex_unlock(&dbfile_lock);
}

int
dbfile_check(sqlite3 *db)
{
	int moved = 0;

	if (atomic_load(&dbfile_lost))
		return -1;
	/* One stat(2) of the path, compared with the inode SQLite has
	 * open: gone, or another file, both count. */
	if (sqlite3_file_control(db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) !=
		SQLITE_OK ||
	    !moved)
		return 0;
	dbfile_went(db);
	return -1;
}
