/* page_task.c: one task's page, its digits as text, and its action forms. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "layout.h"
#include "log.h"
#include "page_task.h"
#include "params.h"
#include "range.h"
#include "store.h"
#include "taskview.h"

/* Decimals per group and groups per line of the digit display. */
#define DIGITS_GROUP 10
#define DIGITS_LINE 100
/* Bytes per read and write when streaming pi.txt. */
#define TEXT_CHUNK (256 * 1024)

/*
 * Appends decimals first..first+count-1 (digits holds them) in groups of
 * 10, lines of 100, aligned as if counted from decimal 1; the n-th is
 * marked. Line starts other than the first are indented by two spaces so
 * the groups line up under those after "3.". Decimal sought (0: none),
 * which a reader asked for by number, is marked too.
 */
static void
page_task_digits(struct buf *b, const char *digits, long long first,
		 long long count, long long n, long long sought)
{
	long long i;

	for (i = 0; i < count; i++) {
		long long pos = first + i;
		long long col = (pos - 1) % DIGITS_LINE;

		if (i == 0) {
			/* A window that starts mid-line is padded to its
			 * column so the groups line up. */
			long long pad = col + col / DIGITS_GROUP;

			if (pos != 1)
				html_raw_unescaped(b, "  ");
			while (pad-- > 0)
				html_raw_unescaped(b, " ");
		} else if (col == 0)
			html_raw_unescaped(b, "\n  ");
		else if (col % DIGITS_GROUP == 0)
			html_raw_unescaped(b, " ");
		if (pos == n) {
			html_raw_unescaped(b, "<mark id=\"nth\">");
			html_text_len(b, digits + i, 1);
			html_raw_unescaped(b, "</mark>");
		} else if (pos == sought) {
			html_raw_unescaped(b, "<mark id=\"sought\">");
			html_text_len(b, digits + i, 1);
			html_raw_unescaped(b, "</mark>");
		} else
			html_text_len(b, digits + i, 1);
	}
}

/* Reads decimals first..first+count-1 and appends them as a <pre>. */
static int
page_task_digit_block(struct ctx *ctx, const char *id_attr, long long first,
		      long long count, long long n, long long sought)
{
	struct buf *b = &ctx->resp->body;
	char *digits = malloc((size_t)count);
	int rc = -1;

	if (digits == NULL)
		goto out;
	if (store_read(ctx->app->cfg->store_path, first, (size_t)count,
		       digits) == -1)
		goto out;
	html_raw_unescaped(b, "<pre class=\"digits\" id=\"");
	html_attr(b, id_attr);
	html_raw_unescaped(b, "\">");
	if (first == 1)
		html_raw_unescaped(b, "3.");
	page_task_digits(b, digits, first, count, n, sought);
	html_raw_unescaped(b, "</pre>\n");
	rc = 0;
out:
	free(digits);
	return rc;
}

/*
 * A value typed into a jump form (page or decimal) that could not be
 * followed: the overview says why beside its field, which keeps it.
 */
struct page_task_jump {
	const char *field; /* "page" or "decimal"; NULL: none */
	const char *typed; /* as sent */
	char message[200];
};

/* How many pages of PAGE_TASK_PAGE decimals n has; 0 up to
 * PAGE_TASK_FULL_MAX, where the page shows them all. */
static long long
page_task_pages(long long n)
{
	return n <= PAGE_TASK_FULL_MAX
		   ? 0
		   : (n + PAGE_TASK_PAGE - 1) / PAGE_TASK_PAGE;
}

/* Appends a link to page p of task id's decimals; 0 is the overview. */
static void
page_task_page_link(struct buf *b, long long id, long long p, const char *rel,
		    const char *label)
{
	html_raw_unescaped(b, "<a href=\"/tasks/");
	html_int(b, id);
	if (p > 0) {
		html_raw_unescaped(b, "?page=");
		html_int(b, p);
	}
	html_raw_unescaped(b, "\"");
	if (rel != NULL) {
		html_raw_unescaped(b, " rel=\"");
		html_attr(b, rel);
		html_raw_unescaped(b, "\"");
	}
	html_raw_unescaped(b, ">");
	html_text(b, label);
	html_raw_unescaped(b, "</a>\n");
}

/*
 * Appends the rest of a jump form's input after its value: if jump names
 * field, marks it invalid and points it to its message, id
 * prefix-where-error.
 */
static void
page_task_jump_input_end(struct buf *b, const struct page_task_jump *jump,
			 const char *field, const char *prefix,
			 const char *where)
{
	if (jump == NULL || jump->field == NULL ||
	    strcmp(jump->field, field) != 0) {
		html_raw_unescaped(b, "\">");
		return;
	}
	/* Back with an error: the field is where to go on. */
	html_raw_unescaped(b, "\" aria-invalid=\"true\" autofocus "
			      "aria-describedby=\"");
	html_attr(b, prefix);
	html_attr(b, where);
	html_raw_unescaped(b, "-error\">");
}

/* Appends the message of a jump form's field, if jump names it. */
static void
page_task_jump_message(struct buf *b, const struct page_task_jump *jump,
		       const char *field, const char *prefix, const char *where)
{
	if (jump == NULL || jump->field == NULL ||
	    strcmp(jump->field, field) != 0)
		return;
	html_raw_unescaped(b, "<p id=\"");
	html_attr(b, prefix);
	html_attr(b, where);
	html_raw_unescaped(b, "-error\" class=\"field-error\" role=\"alert\">");
	html_text(b, jump->message);
	html_raw_unescaped(b, "</p>");
}

/* Appends what a jump form's field shows: what was typed if it was
 * refused, else value (NULL: nothing). */
static void
page_task_jump_value(struct buf *b, const struct page_task_jump *jump,
		     const char *field, const char *value)
{
	if (jump != NULL && jump->field != NULL &&
	    strcmp(jump->field, field) == 0)
		html_attr(b, jump->typed);
	else if (value != NULL)
		html_attr(b, value);
}

/*
 * Appends the links between the pages of decimals, with page page shown
 * (0: the overview), and a form that goes to any page without a script.
 * A page has a pager above its digits and one below: where ("top",
 * "bottom") keeps the ids of their page boxes apart. jump, if not NULL,
 * is a value typed into one of the forms that could not be followed.
 */
static void
page_task_pager(struct buf *b, const struct task *t, long long page,
		const char *where, const struct page_task_jump *jump)
{
	char shown[24];

	long long pages = page_task_pages(t->n);

	html_raw_unescaped(b, "<nav class=\"pages digit-pages\" "
			      "aria-label=\"Pages of decimals\">\n");
	if (page > 0)
		page_task_page_link(b, t->id, 0, NULL, "Overview");
	if (page > 1) {
		page_task_page_link(b, t->id, 1, NULL, "« First");
		page_task_page_link(b, t->id, page - 1, "prev", "‹ Previous");
	}
	if (page > 0) {
		html_raw_unescaped(b, "<span class=\"page-of\">Page ");
		html_int(b, page);
		html_raw_unescaped(b, " of ");
		html_int(b, pages);
		html_raw_unescaped(b, "</span>\n");
	} else
		page_task_page_link(b, t->id, 1, NULL, "Page 1");
	if (page < pages) {
		if (page > 0)
			page_task_page_link(b, t->id, page + 1, "next",
					    "Next ›");
		/* The last page ends with decimal n, marked. */
		page_task_page_link(b, t->id, pages, NULL,
				    "Last, with decimal n »");
	}
	html_raw_unescaped(b, "<form class=\"page-jump\" method=\"get\" "
			      "action=\"/tasks/");
	html_int(b, t->id);
	html_raw_unescaped(b, "\"><label for=\"page-number-");
	html_attr(b, where);
	html_raw_unescaped(b, "\">Page</label> <input id=\"page-number-");
	html_attr(b, where);
	html_raw_unescaped(b, "\" name=\"page\" inputmode=\"numeric\" "
			      "size=\"6\" autocomplete=\"off\" value=\"");
	snprintf(shown, sizeof(shown), "%lld", page > 0 ? page : 1);
	page_task_jump_value(b, jump, "page", shown);
	page_task_jump_input_end(b, jump, "page", "page-number-", where);
	html_raw_unescaped(b, " of ");
	html_int(b, pages);
	html_raw_unescaped(b, " <button type=\"submit\">Go</button>");
	page_task_jump_message(b, jump, "page", "page-number-", where);
	html_raw_unescaped(b, "</form>\n");
	/* Or straight to the page that holds a given decimal, scrolled to
	 * it (a GET form keeps the action's fragment). */
	html_raw_unescaped(b, "<form class=\"page-jump\" method=\"get\" "
			      "action=\"/tasks/");
	html_int(b, t->id);
	html_raw_unescaped(b, "#sought\"><label for=\"decimal-");
	html_attr(b, where);
	html_raw_unescaped(b, "\">Decimal</label> <input id=\"decimal-");
	html_attr(b, where);
	html_raw_unescaped(b, "\" name=\"decimal\" inputmode=\"numeric\" "
			      "size=\"10\" autocomplete=\"off\" value=\"");
	page_task_jump_value(b, jump, "decimal", NULL);
	page_task_jump_input_end(b, jump, "decimal", "decimal-", where);
	html_raw_unescaped(b, " <button type=\"submit\">Show</button>");
	page_task_jump_message(b, jump, "decimal", "decimal-", where);
	html_raw_unescaped(b, "</form>\n</nav>\n");
}

/* Appends the note that the store could not be read just now. */
static void
page_task_digits_failed(struct buf *b)
{
	html_raw_unescaped(b, "<p class=\"error-message\">The digit "
			      "store cannot show these decimals right "
			      "now: it is being replaced, or recomputed "
			      "after it was found damaged. Reload the "
			      "page in a moment.</p>\n");
}

/* Appends page page (1 up, checked) of a done task's decimals, decimal
 * sought marked if it is there. */
static void
page_task_digits_page(struct ctx *ctx, const struct task *t, long long page,
		      long long sought)
{
	struct buf *b = &ctx->resp->body;
	long long first = (page - 1) * PAGE_TASK_PAGE + 1;
	long long last = first + PAGE_TASK_PAGE - 1 < t->n
			     ? first + PAGE_TASK_PAGE - 1
			     : t->n;

	page_task_pager(b, t, page, "top", NULL);
	html_raw_unescaped(b, "<p id=\"page-range\">Decimals ");
	html_int(b, first);
	html_raw_unescaped(b, " to ");
	html_int(b, last);
	if (sought >= first && sought <= last && sought != t->n) {
		html_raw_unescaped(b, ", decimal ");
		html_int(b, sought);
		html_raw_unescaped(b, " marked");
	}
	if (last == t->n)
		html_raw_unescaped(b, ", decimal n marked");
	html_raw_unescaped(b, ":</p>\n");
	if (page_task_digit_block(ctx, "digits-page", first, last - first + 1,
				  t->n, sought) == -1)
		page_task_digits_failed(b);
	page_task_pager(b, t, page, "bottom", NULL);
}

/* Appends the digits section of a done task: page page of its decimals,
 * or with page 0 all of a small n and the overview of a large one;
 * decimal sought (0: none) marked where it shows; jump, a refused value
 * of the overview's forms, beside its field. */
static void
page_task_digits_section(struct ctx *ctx, const struct task *t, long long page,
			 long long sought, const struct page_task_jump *jump)
{
	struct buf *b = &ctx->resp->body;
	int failed = 0;

	html_raw_unescaped(b, "<section class=\"digits-section\">\n"
			      "<h2>The digits</h2>\n");
	if (page > 0)
		page_task_digits_page(ctx, t, page, sought);
	else if (t->n <= PAGE_TASK_FULL_MAX) {
		html_raw_unescaped(b, "<p>π to ");
		html_int(b, t->n);
		html_raw_unescaped(
		    b, t->n == 1 ? " decimal place"
				 : " decimal places, in groups of ten");
		html_raw_unescaped(b, "; decimal ");
		html_int(b, t->n);
		html_raw_unescaped(b, " is marked.</p>\n");
		failed =
		    page_task_digit_block(ctx, "digits", 1, t->n, t->n, sought);
	} else {
		long long line = (t->n - 1) / DIGITS_LINE;
		long long first =
		    (line - (PAGE_TASK_WINDOW_LINES - 1)) * DIGITS_LINE + 1;

		if (first <= PAGE_TASK_HEAD)
			first = PAGE_TASK_HEAD + 1;
		html_raw_unescaped(b, "<p>The first ");
		html_int(b, PAGE_TASK_HEAD);
		html_raw_unescaped(b, " decimals:</p>\n");
		failed = page_task_digit_block(ctx, "digits", 1, PAGE_TASK_HEAD,
					       t->n, 0);
		if (!failed) {
			html_raw_unescaped(b, "<p>…and decimals ");
			html_int(b, first);
			html_raw_unescaped(b, " to ");
			html_int(b, t->n);
			html_raw_unescaped(b, ", decimal ");
			html_int(b, t->n);
			html_raw_unescaped(b, " marked:</p>\n");
			failed =
			    page_task_digit_block(ctx, "digits-window", first,
						  t->n - first + 1, t->n, 0);
		}
		html_raw_unescaped(b, "<p>All the decimals, ");
		html_int(b, PAGE_TASK_PAGE);
		html_raw_unescaped(b, " a page:</p>\n");
		page_task_pager(b, t, 0, "top", jump);
	}
	if (failed)
		page_task_digits_failed(b);
	html_raw_unescaped(b, "<p><a href=\"/tasks/");
	html_int(b, t->id);
	html_raw_unescaped(b, "/pi.txt\" download>All ");
	html_int(b, t->n);
	html_raw_unescaped(b, t->n == 1
				  ? " decimal as text (pi.txt)</a></p>\n"
				  : " decimals as text (pi.txt)</a></p>\n");
	html_raw_unescaped(b, "</section>\n");
}

/* Appends one <dt>/<dd> pair whose value is a time or a dash. */
static void
page_task_fact_time(struct buf *b, const char *label, long long ms)
{
	html_raw_unescaped(b, "<dt>");
	html_text(b, label);
	html_raw_unescaped(b, "</dt><dd>");
	if (ms >= 0)
		taskview_time(b, ms);
	else
		html_raw_unescaped(b, "—");
	html_raw_unescaped(b, "</dd>\n");
}

/* A sentence about where a task that is not done stands. */
static const char *
page_task_explain(const struct task *t)
{
	switch (t->status) {
	case TASK_QUEUED:
		return "This task waits in the queue for the worker.";
	case TASK_RUNNING:
		return t->cancel_requested
			   ? "The worker was asked to stop this task."
			   : "The worker is computing this task.";
	case TASK_ERROR:
		return "This task failed. Retry it, or delete it.";
	case TASK_CANCELLED:
		return "This task was cancelled. Retry it, or delete it.";
	default:
		return "";
	}
}

/*
 * Checks ?page=*page of a done task: page 1 of a small n is the whole
 * page (*page becomes 0). A page that does not exist is refused: beside
 * the page form (jump, returns 1) where the task has one, else by a 404
 * page (returns -1). Returns 0 if the page exists.
 */
static int
page_task_page_missing(struct ctx *ctx, const struct task *t, long long *page,
		       struct page_task_jump *jump)
{
	long long pages = page_task_pages(t->n);

	if (pages == 0 && *page == 1) {
		*page = 0;
		return 0;
	}
	if (*page <= pages)
		return 0;
	if (pages == 0) {
		snprintf(jump->message, sizeof(jump->message),
			 "Task %lld shows all its %lld decimals on one page; "
			 "there is no page %lld.",
			 t->id, t->n, *page);
		ctx_fail(ctx, 404, jump->message);
		return -1;
	}
	snprintf(jump->message, sizeof(jump->message),
		 "Task %lld has %lld pages of decimals; there is no page %lld.",
		 t->id, pages, *page);
	jump->field = "page";
	jump->typed = params_get(&ctx->req->query, "page");
	return 1;
}

/*
 * Reads ?name= of a jump form as a whole number from 1 up, the white space
 * a paste brings around it left out, into *out. A value that is not one is
 * noted in jump (the first only), with message.
 */
static void
page_task_jump_read(const struct params *q, const char *name,
		    const char *message, long long *out,
		    struct page_task_jump *jump)
{
	const char *v = params_get(q, name), *s;
	size_t len;

	if (v == NULL)
		return;
	len = strlen(v);
	s = params_trim(v, &len);
	if (parse_whole(s, len, 1, INT64_MAX, out) == 0 || jump->field != NULL)
		return;
	*out = 0;
	jump->field = name;
	jump->typed = v;
	snprintf(jump->message, sizeof(jump->message), "%s", message);
}

void
page_task_get(struct ctx *ctx)
{
	const struct params *q = &ctx->req->query;
	struct buf *b = &ctx->resp->body;
	struct page_task_jump jump = { NULL, NULL, "" };
	struct dbconn *c;
	const char *token, *outage;
	enum task_rc rc;
	char title[64];
	struct task t;
	long long page = 0, sought = 0;
	int status = 200;

	if (params_get(q, "page") != NULL && params_get(q, "decimal") != NULL) {
		ctx_fail(ctx, 400,
			 "Give page or decimal, not both: a decimal shows the "
			 "page that holds it.");
		return;
	}
	page_task_jump_read(
	    q, "page",
	    "The page must be a page number: a whole number from 1 "
	    "up, such as 2.",
	    &page, &jump);
	page_task_jump_read(
	    q, "decimal",
	    "The decimal must be a decimal place: a whole number "
	    "from 1 up, such as 12345.",
	    &sought, &jump);
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, ctx->id);
		return;
	}
	if ((rc = task_get(c, ctx->id, &t)) != TASK_OK) {
		ctx_fail_rc(ctx, rc, ctx->id);
		return;
	}
	outage = ctx_outage(ctx);
	ctx_db_release(ctx);
	if (jump.field != NULL) {
		/* No form to say it beside (a task not done, or one page):
		 * the address was made by hand. */
		if (t.status != TASK_DONE || page_task_pages(t.n) == 0) {
			ctx_fail(ctx, 400, jump.message);
			return;
		}
		status = 400;
	}
	/* ?decimal=D shows the page that holds decimal D, D marked. */
	if (sought > 0 && t.status == TASK_DONE) {
		if (sought > t.n) {
			snprintf(jump.message, sizeof(jump.message),
				 "Task %lld has %lld decimals; there is no "
				 "decimal %lld.",
				 t.id, t.n, sought);
			if (page_task_pages(t.n) == 0) {
				ctx_fail(ctx, 404, jump.message);
				return;
			}
			jump.field = "decimal";
			jump.typed = params_get(q, "decimal");
			status = 404;
			sought = 0;
		} else
			page = page_task_pages(t.n) == 0
				   ? 0
				   : (sought - 1) / PAGE_TASK_PAGE + 1;
	}
	if (page > 0 && t.status == TASK_DONE && jump.field == NULL) {
		int missing = page_task_page_missing(ctx, &t, &page, &jump);

		if (missing == -1)
			return;
		if (missing == 1)
			status = 404;
	}
	/* A refused value: the overview, which has the forms. */
	if (jump.field != NULL) {
		page = 0;
		sought = 0;
	}
	if ((token = ctx_csrf_token(ctx)) == NULL) {
		ctx_fail(ctx, 500,
			 "The server could not make a security token for the "
			 "forms. Try again later.");
		return;
	}
	snprintf(title, sizeof(title), "%sTask %lld",
		 jump.field != NULL ? "Error: " : "", t.id);
	ctx->resp->status = status;
	layout_begin(b, title, NULL);
	if (outage != NULL)
		layout_outage(b, outage);
	html_raw_unescaped(b, "<section id=\"task\" class=\"task\" "
			      "data-id=\"");
	html_int(b, t.id);
	html_raw_unescaped(b, "\" data-status=\"");
	html_attr(b, task_status_names[t.status]);
	html_raw_unescaped(b, "\" data-version=\"");
	html_int(b, t.version);
	html_raw_unescaped(b, "\">\n<h1>Task ");
	html_int(b, t.id);
	html_raw_unescaped(b, ": decimal ");
	html_int(b, t.n);
	html_raw_unescaped(b, " of π</h1>\n<dl class=\"facts\">\n"
			      "<dt>n</dt><dd class=\"n\">");
	html_int(b, t.n);
	html_raw_unescaped(b, "</dd>\n<dt>Status</dt><dd class=\"status\">");
	taskview_status(b, &t);
	html_raw_unescaped(b, "</dd>\n<dt>Digit</dt><dd class=\"digit\">");
	if (t.status == TASK_DONE && t.digit >= 0)
		html_int(b, t.digit);
	else
		html_raw_unescaped(b, "—");
	html_raw_unescaped(b, "</dd>\n");
	page_task_fact_time(b, "Created (UTC)", t.created_at);
	page_task_fact_time(b, "Started (UTC)", t.started_at);
	page_task_fact_time(b, "Finished (UTC)", t.finished_at);
	html_raw_unescaped(b, "<dt>Ran for</dt><dd class=\"ran\">");
	if (t.started_at >= 0)
		taskview_ran(b, &t, ctx->now);
	else
		html_raw_unescaped(b, "—");
	html_raw_unescaped(b, "</dd>\n</dl>\n");
	if (t.status != TASK_DONE) {
		html_raw_unescaped(b, "<p class=\"explain\">");
		html_text(b, page_task_explain(&t));
		html_raw_unescaped(b, "</p>\n");
	}
	html_raw_unescaped(b, "<div class=\"actions\">");
	taskview_actions(b, &t, token, 1);
	html_raw_unescaped(b, "</div>\n");
	if (t.status == TASK_DONE)
		page_task_digits_section(ctx, &t, page, sought, &jump);
	html_raw_unescaped(b, "<p><a href=\"/\">Back to the task list</a></p>\n"
			      "</section>\n");
	layout_end(b);
}

/*
 * Streams bytes first..last of pi.txt ("3." then decimals 1..n: byte 0 is
 * the 3, byte i >= 2 decimal i - 1). The headers went out already, so a
 * failure can only cut the body short, which the client sees as an error.
 */
static void
page_task_text_body(struct ctx *ctx, const struct task *t, long long first,
		    long long last)
{
	static const char head[] = "3.";
	const char *store = ctx->app->cfg->store_path;
	struct response *r = ctx->resp;
	long long pos, end;
	char *chunk;

	if (first < 2 && response_stream_write(
			     r, &head[first],
			     (size_t)((last < 1 ? last : 1) - first + 1)) == -1)
		return;
	if (last < 2 || r->head_only)
		return;
	if ((chunk = malloc(TEXT_CHUNK)) == NULL) {
		log_err("task %lld: pi.txt: out of memory", t->id);
		r->stream_failed = 1;
		return;
	}
	end = last - 1;
	for (pos = (first < 2 ? 2 : first) - 1; pos <= end; pos += TEXT_CHUNK) {
		size_t len = (size_t)(end - pos + 1 < TEXT_CHUNK ? end - pos + 1
								 : TEXT_CHUNK);

		if (store_read(store, pos, len, chunk) == -1) {
			log_err("task %lld: pi.txt: the digit store failed "
				"at decimal %lld",
				t->id, pos);
			r->stream_failed = 1;
			break;
		}
		if (response_stream_write(r, chunk, len) == -1)
			break;
	}
	free(chunk);
}

void
page_task_text(struct ctx *ctx)
{
	const struct request *req = ctx->req;
	struct response *r = ctx->resp;
	char msg[256], etag[48], head[96];
	long long length, first, last, have;
	enum range_result range = RANGE_NONE;
	struct dbconn *c;
	enum task_rc rc;
	struct task t;

	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, ctx->id);
		return;
	}
	rc = task_get(c, ctx->id, &t);
	ctx_db_release(ctx);
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, ctx->id);
		return;
	}
	if (t.status != TASK_DONE) {
		if (t.status == TASK_QUEUED || t.status == TASK_RUNNING)
			snprintf(msg, sizeof(msg),
				 "Task %lld is %s; its digits can be "
				 "downloaded once it is done.",
				 t.id, task_status_names[t.status]);
		else
			snprintf(msg, sizeof(msg),
				 "Task %lld %s, so it has no digits. Retry it "
				 "to compute them.",
				 t.id,
				 t.status == TASK_ERROR ? "failed"
							: "was cancelled");
		ctx_fail(ctx, 409, msg);
		return;
	}
	/* Every block of the answer is checked before the headers go out,
	 * so that a damaged one is a 503 rather than a body cut short (the
	 * first time in this process: about 40 ms at 10^8 decimals). */
	if ((have = store_check_prefix(ctx->app->cfg->store_path, t.n + 1)) ==
	    -1) {
		ctx_fail(ctx, 503,
			 "The digit store cannot be read right now. Try again "
			 "in a moment.");
		return;
	}
	if (have < t.n + 1) {
		snprintf(msg, sizeof(msg),
			 "The digits of task %lld are being recomputed: the "
			 "digit store was found damaged or cut short before "
			 "decimal %lld, and the worker is rebuilding it. Try "
			 "again in a little while.",
			 t.id, t.n);
		ctx_fail(ctx, 503, msg);
		return;
	}
	length = t.n + 2;
	first = 0;
	last = length - 1;
	/* The body depends on n alone, so n makes a strong validator: a
	 * download resumed with If-Range gets the rest only if it asked
	 * for the same digits. */
	snprintf(etag, sizeof(etag), "\"pi-%lld\"", t.n);
	/* The digits of n never change: a browser may keep them, asking
	 * each time (If-None-Match) whether they still hold. */
	r->cache_control = "no-cache";
	/* A client that holds these digits already gets no body again. */
	if (range_etag_listed(req->if_none_match, etag)) {
		r->status = 304;
		response_header(r, "ETag", etag);
		return;
	}
	if (req->if_range == NULL || strcmp(req->if_range, etag) == 0)
		range = range_parse(req->range, length, &first, &last);
	response_header(r, "Accept-Ranges", "bytes");
	if (range == RANGE_UNSATISFIABLE) {
		snprintf(msg, sizeof(msg),
			 "The range asked for lies outside pi.txt of task "
			 "%lld, which has %lld bytes.",
			 t.id, length);
		ctx_fail(ctx, 416, msg);
		snprintf(head, sizeof(head), "bytes */%lld", length);
		response_header(r, "Content-Range", head);
		return;
	}
	r->content_type = "text/plain; charset=utf-8";
	response_header(r, "ETag", etag);
	snprintf(head, sizeof(head), "inline; filename=\"pi-%lld.txt\"", t.n);
	response_header(r, "Content-Disposition", head);
	if (range == RANGE_OK) {
		r->status = 206;
		snprintf(head, sizeof(head), "bytes %lld-%lld/%lld", first,
			 last, length);
		response_header(r, "Content-Range", head);
	}
	/* Sent as it is read, never held whole. */
	if (response_stream_begin(r, last - first + 1) == 0)
		page_task_text_body(ctx, &t, first, last);
}

/*
 * The form actions: do it, then 303 to the task list, or back to the task
 * page that asked (back=task; a deleted task has none), or answer why not.
 */
static void
page_task_form_action(struct ctx *ctx, enum task_action action)
{
	const char *back = params_get(&ctx->req->form, "back");
	char where[64];
	struct task t;

	if (ctx_task_action(ctx, action, &t) == -1)
		return;
	if (back != NULL && strcmp(back, "task") == 0 &&
	    action != TASK_ACTION_DELETE)
		snprintf(where, sizeof(where), "/tasks/%lld", ctx->id);
	else
		snprintf(where, sizeof(where), "/");
	ctx->resp->status = 303;
	response_header(ctx->resp, "Location", where);
	html_raw_unescaped(
	    &ctx->resp->body,
	    "<!DOCTYPE html>\n<title>Done</title>\n"
	    "<p>Done. <a href=\"/\">See the task list</a>.</p>\n");
}

void
page_task_cancel(struct ctx *ctx)
{
	page_task_form_action(ctx, TASK_ACTION_CANCEL);
}

void
page_task_retry(struct ctx *ctx)
{
	page_task_form_action(ctx, TASK_ACTION_RETRY);
}

void
page_task_delete(struct ctx *ctx)
{
	page_task_form_action(ctx, TASK_ACTION_DELETE);
}
