/* taskview.h: the HTML pieces that show a task, shared by the pages. */
#ifndef NTHPI_TASKVIEW_H
#define NTHPI_TASKVIEW_H

#include "buf.h"
#include "task.h"

/*
 * Appends the status badge, then a <progress> while running, "stopping"
 * once a cancel was asked for, or the error sentence of a failed task.
 */
void taskview_status(struct buf *b, const struct task *t);

/*
 * Appends <time datetime="ISO">YYYY-MM-DD HH:MM:SS</time> (UTC) for ms, or
 * nothing if ms is -1.
 */
void taskview_time(struct buf *b, long long ms);

/* Appends how long the task ran (or has run, at now), or nothing. */
void taskview_ran(struct buf *b, const struct task *t, long long now);

/*
 * Appends one POST form per action that applies to t (cancel, retry,
 * delete), each with the hidden csrf field holding token (none if NULL).
 * back: the task page's own, whose cancel and retry come back to it (a
 * hidden back=task field).
 */
void taskview_actions(struct buf *b, const struct task *t, const char *token,
		      int back);

/*
 * Appends the table row of docs/design.md for t: <tr id="task-ID" ...>
 * with the id, n, status, digit, created, ran and actions cells; its forms
 * carry token, or none if it is NULL (a row published to everyone).
 */
void taskview_row(struct buf *b, const struct task *t, long long now,
		  const char *token);

#endif
