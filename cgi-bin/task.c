/* task.c: reading and changing tasks in the queue, for the pages and API. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "dbfile.h"
#include "log.h"
#include "task.h"

const char *const task_status_names[TASK_STATUS__MAX] = {
	[TASK_QUEUED] = "queued",       [TASK_RUNNING] = "running",
	[TASK_DONE] = "done",           [TASK_ERROR] = "error",
	[TASK_CANCELLED] = "cancelled",
};

const char *const task_action_names[TASK_ACTION__MAX] = {
	[TASK_ACTION_CANCEL] = "cancel",
	[TASK_ACTION_RETRY] = "retry",
	[TASK_ACTION_DELETE] = "delete",
};

int
task_action_applies(enum task_action action, const struct task *t)
{
	switch (action) {
	case TASK_ACTION_CANCEL:
		return t->status == TASK_QUEUED || t->status == TASK_RUNNING;
	case TASK_ACTION_RETRY:
		return t->status == TASK_ERROR || t->status == TASK_CANCELLED;
	case TASK_ACTION_DELETE:
		return t->status != TASK_RUNNING;
	default:
		return 0;
	}
}

void
task_conflict_message(enum task_action action, const struct task *t, char *out,
		      size_t outlen)
{
	const char *status = task_status_names[t->status];

	switch (action) {
	case TASK_ACTION_CANCEL:
		snprintf(out, outlen,
			 "Task %lld is %s, so there is nothing to cancel. "
			 "Delete it if you no longer want it.",
			 t->id, status);
		break;
	case TASK_ACTION_RETRY:
		snprintf(out, outlen,
			 "Task %lld is %s; only a task that failed (error) "
			 "or was cancelled can be retried.",
			 t->id, status);
		break;
	default:
		snprintf(out, outlen,
			 "Task %lld is running, so it cannot be deleted yet. "
			 "Cancel it first, then delete it.",
			 t->id);
		break;
	}
}

int
task_status_parse(const char *name, enum task_status *out)
{
	int i;

	for (i = 0; i < TASK_STATUS__MAX; i++)
		if (strcmp(name, task_status_names[i]) == 0) {
			*out = (enum task_status)i;
			return 0;
		}
	return -1;
}

/* Turns an SQLite result code into ours, logging real errors once. */
static enum task_rc
task_db_error(struct dbconn *c, int rc, enum query q)
{
	int primary = rc & 0xff;

	if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
		log_warn("database: %s: busy past the timeout", query_names[q]);
		return TASK_BUSY;
	}
	/* SQLite says SQLITE_FULL for a write that found no room; where a
	 * sync or the -shm file's growth finds none, an I/O error whose
	 * cause is ENOSPC. */
	if (primary == SQLITE_FULL || (primary == SQLITE_IOERR &&
				       sqlite3_system_errno(c->db) == ENOSPC)) {
		log_err("database: %s: the disk is full (%s)", query_names[q],
			sqlite3_errmsg(c->db));
		return TASK_DISK_FULL;
	}
	log_err("database: %s: %s", query_names[q], sqlite3_errmsg(c->db));
	return TASK_FAILED;
}

/* Runs a statement that returns no rows, then resets it. */
static enum task_rc
task_exec(struct dbconn *c, enum query q)
{
	sqlite3_stmt *st = c->st[q];
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return task_db_error(c, rc, q);
	return TASK_OK;
}

enum task_rc
task_snapshot_begin(struct dbconn *c)
{
	return task_exec(c, Q_BEGIN);
}

void
task_snapshot_end(struct dbconn *c)
{
	/* A read-only transaction: COMMIT and ROLLBACK both just end it.
	 * ROLLBACK also cleans up after a failed statement. */
	if (!sqlite3_get_autocommit(c->db))
		task_exec(c, Q_ROLLBACK);
}

/* Fills t from the current row of a statement selecting TASK_COLUMNS. */
static void
task_from_row(sqlite3_stmt *st, struct task *t)
{
	const char *status = (const char *)sqlite3_column_text(st, 2);
	const unsigned char *err;

	t->id = sqlite3_column_int64(st, 0);
	t->n = sqlite3_column_int64(st, 1);
	t->status = TASK_QUEUED;
	if (status == NULL || task_status_parse(status, &t->status) == -1)
		log_warn("task %lld: unknown status", t->id);
	t->digit = sqlite3_column_type(st, 3) == SQLITE_NULL
		       ? -1
		       : sqlite3_column_int(st, 3);
	t->has_error = sqlite3_column_type(st, 4) != SQLITE_NULL;
	t->error[0] = '\0';
	if (t->has_error && (err = sqlite3_column_text(st, 4)) != NULL) {
		size_t len = (size_t)sqlite3_column_bytes(st, 4);

		if (len >= sizeof(t->error)) {
			/* Cut on a character boundary, marked as cut. */
			len = sizeof(t->error) - 4;
			while (len > 0 && (err[len] & 0xc0) == 0x80)
				len--;
			memcpy(t->error, err, len);
			memcpy(t->error + len, "...", 4);
		} else {
			memcpy(t->error, err, len);
			t->error[len] = '\0';
		}
	}
	t->progress = sqlite3_column_double(st, 5);
	t->created_at = sqlite3_column_int64(st, 6);
#define TASK_TIME(col)                                                         \
	(sqlite3_column_type(st, col) == SQLITE_NULL                           \
	     ? -1                                                              \
	     : sqlite3_column_int64(st, col))
	t->started_at = TASK_TIME(7);
	t->finished_at = TASK_TIME(8);
	t->elapsed_ms = TASK_TIME(11);
#undef TASK_TIME
	t->version = sqlite3_column_int64(st, 9);
	t->cancel_requested = sqlite3_column_int(st, 10);
}

/* Steps a statement returning one integer. */
static enum task_rc
task_one_int(struct dbconn *c, enum query q, long long *out)
{
	sqlite3_stmt *st = c->st[q];
	enum task_rc ret = TASK_OK;
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	else
		ret = task_db_error(c, rc, q);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_version(struct dbconn *c, long long *version)
{
	return task_one_int(c, Q_VERSION, version);
}

enum task_rc
task_counts(struct dbconn *c, long long counts[TASK_STATUS__MAX])
{
	sqlite3_stmt *st = c->st[Q_COUNTS];
	enum task_rc ret = TASK_OK;
	int rc, i;

	for (i = 0; i < TASK_STATUS__MAX; i++)
		counts[i] = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		enum task_status s;

		if (name != NULL && task_status_parse(name, &s) == 0)
			counts[s] = sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_COUNTS);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_times(struct dbconn *c, struct task_times *out)
{
	sqlite3_stmt *st = c->st[Q_COMPUTE_TOTALS];
	enum task_rc ret = TASK_OK;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		out->count = sqlite3_column_int64(st, 0);
		out->sum_ms = sqlite3_column_int64(st, 1);
	} else if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_COMPUTE_TOTALS);
	sqlite3_reset(st);
	if (ret != TASK_OK)
		return ret;
	st = c->st[Q_COMPUTE_BUCKETS];
	while ((rc = sqlite3_step(st)) == SQLITE_ROW &&
	       out->bounds < TASK_TIME_BOUNDS_MAX) {
		out->le_ms[out->bounds] = sqlite3_column_int64(st, 0);
		out->le[out->bounds++] = sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_COMPUTE_BUCKETS);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_worker_seen(struct dbconn *c, long long *ms)
{
	sqlite3_stmt *st = c->st[Q_WORKER_SEEN];
	enum task_rc ret = TASK_OK;
	int rc = sqlite3_step(st);

	*ms = -1;
	if (rc == SQLITE_ROW)
		*ms = sqlite3_column_int64(st, 0);
	else if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_WORKER_SEEN);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_worker_state(struct dbconn *c, long long *last_seen, int *stalled)
{
	sqlite3_stmt *st = c->st[Q_WORKER_STATE];
	enum task_rc ret = TASK_OK;
	int rc = sqlite3_step(st);

	*last_seen = -1;
	*stalled = 0;
	if (rc == SQLITE_ROW) {
		*last_seen = sqlite3_column_int64(st, 0);
		*stalled = sqlite3_column_int(st, 1) != 0;
	} else if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_WORKER_STATE);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_get(struct dbconn *c, long long id, struct task *t)
{
	sqlite3_stmt *st = c->st[Q_TASK];
	enum task_rc ret = TASK_NOT_FOUND;
	int rc;

	sqlite3_bind_int64(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		task_from_row(st, t);
		ret = TASK_OK;
	} else if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_TASK);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_covering(struct dbconn *c, long long n, struct task *t)
{
	sqlite3_stmt *st = c->st[Q_COVERING];
	enum task_rc ret = TASK_NOT_FOUND;
	int rc;

	sqlite3_bind_int64(st, 1, n);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		task_from_row(st, t);
		ret = TASK_OK;
	} else if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_COVERING);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_list(struct dbconn *c, const struct task_filter *f, task_fn fn, void *arg)
{
	enum query q;
	sqlite3_stmt *st;
	enum task_rc ret = TASK_OK;
	struct task t;
	int rc;
	long long bound = f->after > 0 ? f->after : f->before;

	if (f->has_status)
		q = f->after > 0    ? Q_LIST_STATUS_AFTER
		    : f->before > 0 ? Q_LIST_STATUS_BEFORE
				    : Q_LIST_STATUS;
	else
		q = f->after > 0    ? Q_LIST_AFTER
		    : f->before > 0 ? Q_LIST_BEFORE
				    : Q_LIST;
	st = c->st[q];
	sqlite3_bind_int(st, 1, f->limit);
	if (f->has_status) {
		sqlite3_bind_text(st, 2, task_status_names[f->status], -1,
				  SQLITE_STATIC);
		if (bound > 0)
			sqlite3_bind_int64(st, 3, bound);
	} else if (bound > 0)
		sqlite3_bind_int64(st, 2, bound);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		task_from_row(st, &t);
		if (fn(arg, &t) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, q);
	sqlite3_reset(st);
	return ret;
}

enum task_rc
task_changes(struct dbconn *c, long long since, task_fn on_task,
	     task_deleted_fn on_deleted, void *arg, struct task_changes *ch)
{
	/* Deleted ids are read first (at most one more than an answer
	 * holds) so that they can be merged with the tasks by version. */
	struct {
		long long id, version;
	} del[TASK_CHANGES_MAX + 1];
	sqlite3_stmt *st;
	enum task_rc ret;
	long long current = 0, last = since, seen;
	int ndel = 0, d = 0, rc, tasks_left = 0;
	struct task t;

	ch->count = 0;
	ch->more = 0;
	if ((ret = task_snapshot_begin(c)) != TASK_OK)
		return ret;
	if ((ret = task_version(c, &current)) != TASK_OK)
		goto out;
	st = c->st[Q_DELETED];
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int(st, 2, TASK_CHANGES_MAX + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		del[ndel].id = sqlite3_column_int64(st, 0);
		del[ndel].version = sqlite3_column_int64(st, 1);
		ndel++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		ret = task_db_error(c, rc, Q_DELETED);
		goto out;
	}
	st = c->st[Q_CHANGED];
	sqlite3_bind_int64(st, 1, since);
	sqlite3_bind_int(st, 2, TASK_CHANGES_MAX + 1);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		long long v = sqlite3_column_int64(st, 9);

		while (d < ndel && del[d].version < v &&
		       ch->count < TASK_CHANGES_MAX) {
			on_deleted(arg, del[d].id, del[d].version);
			last = del[d++].version;
			ch->count++;
		}
		if (ch->count == TASK_CHANGES_MAX) {
			tasks_left = 1;
			break;
		}
		task_from_row(st, &t);
		on_task(arg, &t);
		last = v;
		ch->count++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		ret = task_db_error(c, rc, Q_CHANGED);
		goto out;
	}
	while (d < ndel && ch->count < TASK_CHANGES_MAX) {
		on_deleted(arg, del[d].id, del[d].version);
		last = del[d++].version;
		ch->count++;
	}
	/* In the same snapshot, so that the counts are those of version:
	 * a page checks its rows against them. */
	if ((ret = task_counts(c, ch->counts)) != TASK_OK ||
	    (ret = task_worker_state(c, &seen, &ch->worker_stalled)) != TASK_OK)
		goto out;
	ch->current = current;
	ch->more = tasks_left || d < ndel;
	ch->version = ch->more ? last : current;
	ret = TASK_OK;
out:
	task_snapshot_end(c);
	return ret;
}

/*
 * Begins a write transaction, unless the database file is gone: one
 * stat(2), a few microseconds beside a commit's fsync.
 */
static enum task_rc
task_begin_write(struct dbconn *c)
{
	if (dbfile_check(c->db) == -1)
		return TASK_DB_GONE;
	return task_exec(c, Q_BEGIN_IMMEDIATE);
}

/* Reads one row of a write transaction's first step, or rolls back. */
static enum task_rc
task_write_begin(struct dbconn *c, long long id, struct task *t)
{
	enum task_rc ret;

	if ((ret = task_begin_write(c)) != TASK_OK)
		return ret;
	if ((ret = task_get(c, id, t)) != TASK_OK)
		task_exec(c, Q_ROLLBACK);
	return ret;
}

/* Steps an UPDATE, INSERT or DELETE bound by the caller, then resets it. */
static enum task_rc
task_change(struct dbconn *c, enum query q)
{
	enum task_rc ret = task_exec(c, q);

	sqlite3_clear_bindings(c->st[q]);
	return ret;
}

/*
 * Commits, or rolls back if ret is not TASK_OK or the commit fails. A
 * commit into a file that went away during the transaction is
 * TASK_DB_GONE: it would be lost with the file.
 */
static enum task_rc
task_write_end(struct dbconn *c, enum task_rc ret)
{
	if (ret == TASK_OK)
		ret = task_exec(c, Q_COMMIT);
	if (ret != TASK_OK && !sqlite3_get_autocommit(c->db))
		task_exec(c, Q_ROLLBACK);
	if (ret == TASK_OK && dbfile_check(c->db) == -1)
		ret = TASK_DB_GONE;
	return ret;
}

/* TASK_QUEUE_FULL if queued tasks reached cap. */
static enum task_rc
task_check_cap(struct dbconn *c, long long cap)
{
	long long queued = 0;
	enum task_rc ret = task_one_int(c, Q_COUNT_QUEUED, &queued);

	if (ret == TASK_OK && queued >= cap)
		ret = TASK_QUEUE_FULL;
	return ret;
}

enum task_rc
task_create(struct dbconn *c, long long n, long long now, long long queue_cap,
	    struct task *t)
{
	int replayed;

	return task_create_keyed(c, n, now, queue_cap, NULL, t, &replayed);
}

/*
 * Inside a write: forgets the keys past TASK_KEY_KEEP_MS, then looks key
 * up. TASK_OK with *n and *id if it is kept, TASK_NOT_FOUND if not.
 */
static enum task_rc
task_key_get(struct dbconn *c, const char *key, long long now, long long *n,
	     long long *id)
{
	sqlite3_stmt *st = c->st[Q_KEY_GET];
	enum task_rc ret;
	int rc;

	sqlite3_bind_int64(c->st[Q_KEY_FORGET], 1, now - TASK_KEY_KEEP_MS);
	if ((ret = task_change(c, Q_KEY_FORGET)) != TASK_OK)
		return ret;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	ret = TASK_NOT_FOUND;
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		*id = sqlite3_column_int64(st, 1);
		ret = TASK_OK;
	} else if (rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_KEY_GET);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return ret;
}

/* Inside a write: keeps key with the task t it made. */
static enum task_rc
task_key_put(struct dbconn *c, const char *key, const struct task *t,
	     long long now)
{
	sqlite3_stmt *st = c->st[Q_KEY_PUT];

	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, t->n);
	sqlite3_bind_int64(st, 3, t->id);
	sqlite3_bind_int64(st, 4, now);
	return task_change(c, Q_KEY_PUT);
}

enum task_rc
task_create_keyed(struct dbconn *c, long long n, long long now,
		  long long queue_cap, const char *key, struct task *t,
		  int *replayed)
{
	long long kept_n = 0, kept_id = 0;
	enum task_rc ret;

	*replayed = 0;
	if ((ret = task_begin_write(c)) != TASK_OK)
		return ret;
	if (key != NULL) {
		ret = task_key_get(c, key, now, &kept_n, &kept_id);
		if (ret == TASK_OK && kept_n != n) {
			t->n = kept_n;
			ret = TASK_KEY_REUSED;
			goto out;
		}
		if (ret == TASK_OK)
			ret = task_get(c, kept_id, t);
		if (ret == TASK_OK) {
			*replayed = 1;
			goto out;
		}
		/* Not kept, or its task was deleted since: a new one. */
		if (ret != TASK_NOT_FOUND)
			goto out;
	}
	if ((ret = task_check_cap(c, queue_cap)) != TASK_OK)
		goto out;
	sqlite3_bind_int64(c->st[Q_INSERT], 1, n);
	sqlite3_bind_int64(c->st[Q_INSERT], 2, now);
	if ((ret = task_change(c, Q_INSERT)) != TASK_OK)
		goto out;
	ret = task_get(c, sqlite3_last_insert_rowid(c->db), t);
	if (ret == TASK_NOT_FOUND)
		ret = TASK_FAILED;
	if (ret == TASK_OK && key != NULL)
		ret = task_key_put(c, key, t, now);
out:
	return task_write_end(c, ret);
}

enum task_rc
task_cancel(struct dbconn *c, long long id, long long now, struct task *t)
{
	enum task_rc ret;

	if ((ret = task_write_begin(c, id, t)) != TASK_OK)
		return ret;
	if (t->status == TASK_QUEUED) {
		sqlite3_bind_int64(c->st[Q_CANCEL_QUEUED], 1, id);
		sqlite3_bind_int64(c->st[Q_CANCEL_QUEUED], 2, now);
		ret = task_change(c, Q_CANCEL_QUEUED);
	} else if (t->status == TASK_RUNNING) {
		if (!t->cancel_requested) {
			sqlite3_bind_int64(c->st[Q_CANCEL_RUNNING], 1, id);
			ret = task_change(c, Q_CANCEL_RUNNING);
		}
	} else
		ret = TASK_CONFLICT;
	if (ret == TASK_OK)
		ret = task_get(c, id, t);
	return task_write_end(c, ret);
}

enum task_rc
task_retry(struct dbconn *c, long long id, long long queue_cap, struct task *t)
{
	enum task_rc ret;

	if ((ret = task_write_begin(c, id, t)) != TASK_OK)
		return ret;
	if (t->status != TASK_ERROR && t->status != TASK_CANCELLED) {
		ret = TASK_CONFLICT;
		goto out;
	}
	if ((ret = task_check_cap(c, queue_cap)) != TASK_OK)
		goto out;
	sqlite3_bind_int64(c->st[Q_RETRY], 1, id);
	if ((ret = task_change(c, Q_RETRY)) == TASK_OK)
		ret = task_get(c, id, t);
out:
	return task_write_end(c, ret);
}

enum task_rc
task_delete(struct dbconn *c, long long id, struct task *t)
{
	enum task_rc ret;

	if ((ret = task_write_begin(c, id, t)) != TASK_OK)
		return ret;
	if (t->status == TASK_RUNNING) {
		ret = TASK_CONFLICT;
		goto out;
	}
	sqlite3_bind_int64(c->st[Q_DELETE], 1, id);
	ret = task_change(c, Q_DELETE);
out:
	return task_write_end(c, ret);
}

enum task_rc
task_worker_mark_stalled(struct dbconn *c, long long last_seen, int *marked)
{
	enum task_rc ret;

	*marked = 0;
	/* One statement, its own transaction: nothing to roll back. */
	if (dbfile_check(c->db) == -1)
		return TASK_DB_GONE;
	sqlite3_bind_int64(c->st[Q_WORKER_MARK_STALLED], 1, last_seen);
	ret = task_change(c, Q_WORKER_MARK_STALLED);
	if (ret == TASK_OK)
		*marked = sqlite3_changes(c->db) > 0;
	return ret;
}

enum task_rc
task_row_versions(struct dbconn *c, task_deleted_fn fn, void *arg,
		  long long *version)
{
	sqlite3_stmt *st = c->st[Q_ROW_VERSIONS];
	enum task_rc ret;
	int rc;

	if ((ret = task_snapshot_begin(c)) != TASK_OK)
		return ret;
	if ((ret = task_version(c, version)) != TASK_OK)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (fn(arg, sqlite3_column_int64(st, 0),
		       sqlite3_column_int64(st, 1)) != 0)
			break;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		ret = task_db_error(c, rc, Q_ROW_VERSIONS);
	sqlite3_reset(st);
out:
	task_snapshot_end(c);
	return ret;
}
