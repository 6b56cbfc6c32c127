/* queries.h: every SQL statement nthpi-fcgi runs, prepared per connection. */
#ifndef NTHPI_QUERIES_H
#define NTHPI_QUERIES_H

#include <sqlite3.h>

enum query {
	Q_BEGIN,           /* a read snapshot */
	Q_BEGIN_IMMEDIATE, /* a write that first reads */
	Q_COMMIT,
	Q_ROLLBACK,
	Q_VERSION,      /* queue_state.version */
	Q_COUNTS,       /* tasks per status */
	Q_COUNT_QUEUED, /* for the queue cap */
	Q_TASK,         /* one task by id */
	Q_LIST,         /* newest first */
	Q_LIST_BEFORE,  /* newest first, id < ? */
	Q_LIST_STATUS,  /* newest first, one status */
	Q_LIST_STATUS_BEFORE,
	Q_LIST_AFTER, /* oldest first, id > ?: the page of newer tasks */
	Q_LIST_STATUS_AFTER,
	Q_COMPUTE_TOTALS,  /* /metrics: tasks done so far, their time */
	Q_COMPUTE_BUCKETS, /* /metrics: the histogram's buckets */
	Q_WORKER_SEEN,     /* /metrics: when the worker last reported in */
	Q_CHANGED,         /* tasks changed after a version, oldest first */
	Q_DELETED,         /* tasks deleted after a version, oldest first */
	Q_ROW_VERSIONS,    /* every task's id and row version */
	Q_INSERT,
	Q_CANCEL_QUEUED,  /* queued -> cancelled */
	Q_CANCEL_RUNNING, /* running: ask the worker to stop */
	Q_RETRY,          /* error or cancelled -> queued */
	Q_DELETE,
	Q_WORKER_STATE,        /* worker_state: last_seen, stalled */
	Q_WORKER_MARK_STALLED, /* the publisher: the worker is not seen */
	Q_KEY_FORGET,          /* request keys past their 24 h */
	Q_KEY_GET,             /* a request key's n and task */
	Q_KEY_PUT,             /* a request key and the task it made */
	Q_COVERING, /* the task with the smallest n >= ? that is or will be
		       done: a search's link to a place */
	Q__MAX
};

/* The SQL of each statement, for the test that prepares them all. */
extern const char *const query_sql[Q__MAX];
/* A short name for each statement, for logs and tests. */
extern const char *const query_names[Q__MAX];

/* One database connection with every statement prepared on it. */
struct dbconn {
	sqlite3 *db;
	sqlite3_stmt *st[Q__MAX];
	struct dbconn *next; /* free list of the pool */
};

/*
 * Opens the database at path (db_open: WAL, busy timeout, schema) and
 * prepares every statement. Returns the connection, freed with
 * queries_close, or NULL (logged).
 */
struct dbconn *queries_open(const char *path);

/* Finalizes the statements and closes the connection. Accepts NULL. */
void queries_close(struct dbconn *c);

#endif
