/* livemsg.h: one change message, as a long poll, a stream and the
 * publisher send it: the tasks changed after a version, each with its row
 * as the page renders it, and the ids deleted. */
#ifndef NTHPI_LIVEMSG_H
#define NTHPI_LIVEMSG_H

#include "buf.h"
#include "task.h"

/*
 * The message is {"from": F, "version": V, "tasks": [...], "deleted":
 * [...], "counts": {...}, "worker": "ok", "more": true} and a newline: it
 * covers the changes after version F up to V, oldest first; "counts"
 * (tasks per status at V), "worker" ("stalled" while the worker is marked
 * not seen, workerwatch.h, else "ok") and "more" (more changes follow V)
 * are there only where known. Each task is the object of api_task_json with "row", the <tr>
 * the main page shows for it. Messages go to every viewer, so the row
 * holds nothing of one person's: its forms carry no CSRF token (the page
 * script sends actions through the JSON API).
 */
struct livemsg {
	struct buf tasks;   /* the tasks' objects, comma-separated */
	struct buf deleted; /* the deleted ids, comma-separated */
	struct buf scratch; /* a row while it is rendered */
	int ntasks, ndeleted;
	long long now; /* the time the rows show "ran for" at */
	int worker;    /* 1 stalled, 0 ok, -1 not known (left out) */
};

/* Starts an empty message whose rows are rendered at time now (ms). */
void livemsg_init(struct livemsg *m, long long now);

/* Empties m for the next message, keeping its buffers. */
void livemsg_reset(struct livemsg *m, long long now);

/* Frees m's buffers. */
void livemsg_free(struct livemsg *m);

/* Adds a changed task. */
void livemsg_add_task(struct livemsg *m, const struct task *t);

/* Sets the worker's state at the message's version: 1 stalled, 0 ok. */
void livemsg_set_worker(struct livemsg *m, int stalled);

/* Adds a deleted task's id. */
void livemsg_add_deleted(struct livemsg *m, long long id);

/*
 * Appends the whole message to out. counts is NULL or the tasks per
 * status; more is 1 if more changes follow version.
 */
void livemsg_write(const struct livemsg *m, struct buf *out, long long from,
		   long long version, const long long *counts, int more);

/* Whether any buffer of m ran out of memory. */
int livemsg_failed(const struct livemsg *m);

/*
 * Appends one task's object with its "row" to b, rendered at time now,
 * using scratch for the row.
 */
void livemsg_task_json(struct buf *b, struct buf *scratch, const struct task *t,
		       long long now);

/*
 * Reads the changes after since on c (at most TASK_CHANGES_MAX, oldest
 * first) and appends their message to out, with the counts unless it
 * was cut short (more). Sets *changed to how many changes it holds and
 * *version to the version it covers up to. Returns TASK_OK or the
 * database's error.
 */
enum task_rc livemsg_read_changes(struct dbconn *c, long long since,
				  long long now, struct buf *out, int *changed,
				  long long *version);

#endif
