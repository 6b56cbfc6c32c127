/* page_task.h: one task's page, its digits as text, and its action forms. */
#ifndef NTHPI_PAGE_TASK_H
#define NTHPI_PAGE_TASK_H

#include "ctx.h"

/* Up to this n the task page shows every decimal; above, a sample. */
#define PAGE_TASK_FULL_MAX 10000
/* Above PAGE_TASK_FULL_MAX: the first decimals shown. */
#define PAGE_TASK_HEAD 1000
/* Above PAGE_TASK_FULL_MAX: lines of 100 shown before the n-th decimal. */
#define PAGE_TASK_WINDOW_LINES 3
/* Above PAGE_TASK_FULL_MAX: decimals per page of ?page=P. */
#define PAGE_TASK_PAGE 10000

/*
 * GET /tasks/{id}: the task's facts and actions; once done, "3." and the
 * decimals in groups of 10, ten groups a line, the n-th in <mark id="nth">.
 * Above PAGE_TASK_FULL_MAX it shows the first decimals and the lines up to
 * the n-th, and ?page=P (1 up) shows decimals (P-1)*PAGE_TASK_PAGE+1 on,
 * PAGE_TASK_PAGE of them, with links and a form to the other pages;
 * ?decimal=D the page that holds decimal D, D marked. White space around
 * P or D is left out. A value that is not a number (400), or a page or
 * decimal that does not exist (404), gets the overview with the reason
 * beside its form's field, which keeps what was typed; a task without
 * those forms answers the plain error page.
 */
void page_task_get(struct ctx *ctx);

/*
 * GET /tasks/{id}/pi.txt: "3." and the n decimals as text, streamed, with
 * Content-Disposition pi-N.txt; one byte range (Range: bytes=...) gets
 * 206 with Content-Range, a range past the end 416.
 */
void page_task_text(struct ctx *ctx);

/* POST /tasks/{id}/cancel, /retry, /delete: 303 to /, or 404 or 409. */
void page_task_cancel(struct ctx *ctx);
void page_task_retry(struct ctx *ctx);
void page_task_delete(struct ctx *ctx);

#endif
