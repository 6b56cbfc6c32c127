/* page_task.h: one task's page, its digits as text, and its action forms. */
#ifndef NTHPI_PAGE_TASK_H
#define NTHPI_PAGE_TASK_H

#include "app.h"

/* Up to this n the task page shows every decimal; above, a sample. */
#define PAGE_TASK_FULL_MAX 10000
/* Above PAGE_TASK_FULL_MAX: the first decimals shown. */
#define PAGE_TASK_HEAD 1000
/* Above PAGE_TASK_FULL_MAX: lines of 100 shown before the n-th decimal. */
#define PAGE_TASK_WINDOW_LINES 3

/*
 * GET /tasks/{id}: the task's facts and actions; once done, "3." and the
 * decimals in groups of 10, ten groups a line, the n-th in <mark id="nth">.
 */
void page_task_get(struct ctx *ctx);

/* GET /tasks/{id}/pi.txt: "3." and the n decimals as text, streamed. */
void page_task_text(struct ctx *ctx);

/* POST /tasks/{id}/cancel, /retry, /delete: 303 to /, or 404 or 409. */
void page_task_cancel(struct ctx *ctx);
void page_task_retry(struct ctx *ctx);
void page_task_delete(struct ctx *ctx);

#endif
