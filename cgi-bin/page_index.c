/* page_index.c: the main page, GET / and its form, POST /tasks. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "layout.h"
#include "log.h"
#include "nparse.h"
#include "page_index.h"
#include "params.h"
#include "taskview.h"

/* What the row callback needs. */
struct index_rows {
	struct buf *b;
	long long now;
	const char *token;
	int count;
	long long last_id;
};

static int
index_row(void *arg, const struct task *t)
{
	struct index_rows *rows = arg;

	taskview_row(rows->b, t, rows->now, rows->token);
	rows->count++;
	rows->last_id = t->id;
	return 0;
}

/* Appends the new-task form, with typed and error if the last try failed. */
static void
index_form(struct buf *b, const struct config *cfg, const char *token,
	   const char *typed, const char *error)
{
	char help[160];

	snprintf(help, sizeof(help),
		 "A whole number from 1 to %lld: 1 asks for the first digit "
		 "after “3.”.",
		 cfg->n_max);
	html_raw_unescaped(b, "<section class=\"new-task\">\n"
			      "<h1>Find a decimal digit of π</h1>\n"
			      "<form id=\"new-task\" method=\"post\" "
			      "action=\"/tasks\">\n"
			      "<input type=\"hidden\" name=\"csrf\" value=\"");
	html_attr(b, token);
	html_raw_unescaped(b, "\">\n<label for=\"n\">Decimal place n</label>\n"
			      "<input id=\"n\" name=\"n\" "
			      "inputmode=\"numeric\" autocomplete=\"off\" "
			      "aria-describedby=\"n-help n-error\"");
	if (typed != NULL) {
		html_raw_unescaped(b, " value=\"");
		html_attr(b, typed);
		html_raw_unescaped(b, "\"");
	}
	if (error != NULL)
		html_raw_unescaped(b, " aria-invalid=\"true\"");
	html_raw_unescaped(b, ">\n<button type=\"submit\">Compute</button>\n"
			      "<p id=\"n-help\" class=\"field-help\">");
	html_text(b, help);
	html_raw_unescaped(b, "</p>\n<p id=\"n-error\" class=\"field-error\" "
			      "role=\"alert\">");
	html_text(b, error);
	html_raw_unescaped(b, "</p>\n</form>\n</section>\n");
}

/*
 * Renders the whole main page into the response body with the given
 * status; typed and error refill the form after a failed POST.
 */
static void
index_render(struct ctx *ctx, int status, long long before, const char *typed,
	     const char *error)
{
	struct buf *b = &ctx->resp->body;
	long long counts[TASK_STATUS__MAX], version = 0, total = 0;
	struct task_filter f = { PAGE_INDEX_ROWS, before, 0, TASK_QUEUED };
	struct index_rows rows = { b, ctx->now, NULL, 0, 0 };
	struct dbconn *c;
	enum task_rc rc;
	int i;

	if ((rows.token = ctx_csrf_token(ctx)) == NULL) {
		ctx_fail(ctx, 500,
			 "The server could not make a security token for the "
			 "form. Try again later.");
		return;
	}
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_FAILED, 0);
		return;
	}
	/* One snapshot, so the counts, the version and the rows agree. */
	if ((rc = task_snapshot_begin(c)) != TASK_OK)
		goto fail;
	if ((rc = task_version(c, &version)) != TASK_OK ||
	    (rc = task_counts(c, counts)) != TASK_OK)
		goto fail;
	for (i = 0; i < TASK_STATUS__MAX; i++)
		total += counts[i];
	ctx->resp->status = status;
	layout_begin(b, "Tasks", counts);
	index_form(b, ctx->app->cfg, rows.token, typed, error);
	html_raw_unescaped(b, "<section class=\"task-list\">\n"
			      "<h2>Tasks</h2>\n"
			      "<p id=\"no-tasks\" class=\"empty\"");
	if (total > 0)
		html_raw_unescaped(b, " hidden");
	html_raw_unescaped(b, ">No tasks yet. Enter n above to compute a "
			      "digit.</p>\n"
			      "<table id=\"tasks\" data-version=\"");
	html_int(b, version);
	html_raw_unescaped(b, "\">\n<thead><tr>"
			      "<th scope=\"col\" class=\"id\">Task</th>"
			      "<th scope=\"col\" class=\"n\">n</th>"
			      "<th scope=\"col\" class=\"status\">Status</th>"
			      "<th scope=\"col\" class=\"digit\">Digit</th>"
			      "<th scope=\"col\" class=\"created\">Created "
			      "(UTC)</th>"
			      "<th scope=\"col\" class=\"ran\">Ran for</th>"
			      "<th scope=\"col\" class=\"actions\">Actions</th>"
			      "</tr></thead>\n<tbody>\n");
	if ((rc = task_list(c, &f, index_row, &rows)) != TASK_OK)
		goto fail;
	task_snapshot_end(c);
	html_raw_unescaped(b, "</tbody>\n</table>\n");
	if (before > 0 || rows.count == PAGE_INDEX_ROWS) {
		html_raw_unescaped(b, "<nav class=\"pages\">");
		if (before > 0)
			html_raw_unescaped(b,
					   "<a href=\"/\">Newest tasks</a> ");
		if (rows.count == PAGE_INDEX_ROWS) {
			html_raw_unescaped(b, "<a href=\"/?before=");
			html_int(b, rows.last_id);
			html_raw_unescaped(b, "\">Older tasks</a>");
		}
		html_raw_unescaped(b, "</nav>\n");
	}
	html_raw_unescaped(b, "</section>\n");
	layout_end(b);
	return;
fail:
	task_snapshot_end(c);
	ctx_fail_rc(ctx, rc, 0);
}

void
page_index_get(struct ctx *ctx)
{
	long long before = 0;

	if (params_get_int(&ctx->req->query, "before", 1, INT64_MAX, &before) ==
	    -1) {
		ctx_fail(ctx, 400,
			 "\"before\" must be a task number, such as "
			 "/?before=120.");
		return;
	}
	index_render(ctx, 200, before, NULL, NULL);
}

void
page_index_post(struct ctx *ctx)
{
	const struct config *cfg = ctx->app->cfg;
	const char *typed = params_get(&ctx->req->form, "n");
	char msg[256];
	struct dbconn *c;
	enum nparse_err perr;
	enum task_rc rc;
	struct task t;
	long long n = 0;

	perr = nparse(typed, typed ? strlen(typed) : 0, cfg->n_max, &n);
	if (perr != NPARSE_OK) {
		nparse_message(perr, cfg->n_max, msg, sizeof(msg));
		index_render(ctx, 400, 0, typed, msg);
		return;
	}
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_FAILED, 0);
		return;
	}
	rc = task_create(c, n, ctx->now, cfg->queue_cap, &t);
	if (rc == TASK_QUEUE_FULL) {
		snprintf(msg, sizeof(msg),
			 "The queue is full: %lld tasks are already waiting. "
			 "Try again when some have finished.",
			 cfg->queue_cap);
		response_header(ctx->resp, "Retry-After", "30");
		index_render(ctx, 503, 0, typed, msg);
		return;
	}
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, 0);
		return;
	}
	log_debug("task %lld: created for n=%lld", t.id, n);
	ctx->resp->status = 303;
	response_header(ctx->resp, "Location", "/");
	html_raw_unescaped(&ctx->resp->body,
			   "<!DOCTYPE html>\n<title>Task added</title>\n"
			   "<p>Task added. <a href=\"/\">See the task "
			   "list</a>.</p>\n");
}

void
page_index_bad_form(struct ctx *ctx, const char *message)
{
	index_render(ctx, 400, 0, NULL, message);
}
