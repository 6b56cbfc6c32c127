/* layout.h: the frame every HTML page shares, and the error page. */
#ifndef NTHPI_LAYOUT_H
#define NTHPI_LAYOUT_H

#include "buf.h"
#include "task.h"

/*
 * Appends the start of a page: doctype, head (title, /style.css, /app.js
 * deferred; no inline script or style, as the CSP forbids them), and the
 * site header with the app name and, if counts is not NULL, how many
 * tasks have each status. Opens <main>.
 */
void layout_begin(struct buf *b, const char *title,
		  const long long counts[TASK_STATUS__MAX]);

/*
 * As layout_begin, and each count links to the main page filtered by its
 * status (/?status=done); the one of filter (a task_status, or -1 for
 * none) is marked as the current page, and "all" links to the whole list.
 */
void layout_begin_filtered(struct buf *b, const char *title,
			   const long long counts[TASK_STATUS__MAX],
			   int filter);

/*
 * Appends the banner of an outage that a page's reader should know of
 * before using its forms: <p id="outage" class="outage" role="alert">
 * with the sentence. Goes right after layout_begin.
 */
void layout_outage(struct buf *b, const char *sentence);

/*
 * Appends the banner that says the worker is stalled or gone:
 * <p id="worker-banner" class="outage" role="alert">, hidden unless
 * stalled, so that the page script shows and hides it as the live updates
 * say without writing the sentence. Goes first in <main>.
 */
void layout_worker_banner(struct buf *b, int stalled);

/* Closes <main> and the page. */
void layout_end(struct buf *b);

/*
 * Appends a whole error page: a heading for status, the message, and a
 * link back to the task list.
 */
void layout_error_page(struct buf *b, int status, const char *message);

#endif
