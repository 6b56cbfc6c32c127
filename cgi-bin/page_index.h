/* page_index.h: the main page, GET / and its form, POST /tasks. */
#ifndef NTHPI_PAGE_INDEX_H
#define NTHPI_PAGE_INDEX_H

#include "app.h"

/* Most task rows the main page shows; older ones are a link away. */
#define PAGE_INDEX_ROWS 1000

/* GET /: the counts, the new-task form and the newest tasks. */
void page_index_get(struct ctx *ctx);

/*
 * POST /tasks: adds a task for the form's n and answers 303 to /; on a bad
 * n answers 400 with the main page, the field keeping what was typed and
 * #n-error saying what is wrong (503 likewise when the queue is full).
 */
void page_index_post(struct ctx *ctx);

/*
 * POST /tasks whose body could not be parsed (a NUL or a bad escape):
 * 400 with the main page and message in #n-error.
 */
void page_index_bad_form(struct ctx *ctx, const char *message);

#endif
