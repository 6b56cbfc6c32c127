/* page_index.h: the main page, GET / and its form, POST /tasks. */
#ifndef NTHPI_PAGE_INDEX_H
#define NTHPI_PAGE_INDEX_H

#include "ctx.h"

/* Task rows a page of the main page shows; older ones are a link away. */
#define PAGE_INDEX_ROWS 50

/*
 * GET /: the counts (each a link to its filter), the new-task form and a
 * page of tasks, newest first: the newest, ?before=ID (older than ID) or
 * ?after=ID (the page just newer than ID), of all tasks or of
 * ?status=S, with links to the newer and older pages that keep the
 * filter. A bad parameter answers 400.
 */
void page_index_get(struct ctx *ctx);

/*
 * POST /tasks: adds a task for the form's n (white space around it left
 * out) and answers 303 to /; on a bad n answers 400 with the main page, the field keeping what was typed and
 * #n-error saying what is wrong (503 likewise when the queue is full).
 */
void page_index_post(struct ctx *ctx);

/*
 * POST /tasks whose body could not be parsed (a NUL or a bad escape):
 * 400 with the main page and message in #n-error.
 */
void page_index_bad_form(struct ctx *ctx, const char *message);

#endif
