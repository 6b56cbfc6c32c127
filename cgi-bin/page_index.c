/* page_index.c: the main page, GET / and its form, POST /tasks. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "csrf.h"
#include "html.h"
#include "layout.h"
#include "log.h"
#include "nparse.h"
#include "page_index.h"
#include "page_search.h"
#include "params.h"
#include "taskview.h"

/* Which page of the task list: a keyset page of PAGE_INDEX_ROWS rows,
 * newest first, maybe of one status only. */
struct index_view {
	long long before; /* ids below this; 0: the newest page */
	long long after;  /* the page just above this id; 0: none */
	int has_status;
	enum task_status status;
};

/* The newest page of all tasks, which a failed POST shows again. */
static const struct index_view index_newest = { 0, 0, 0, TASK_QUEUED };

/* What the row callback needs. */
struct index_rows {
	struct buf *b;
	long long now;
	const char *token;
	int count;          /* rows seen, the one past the page included */
	long long first_id; /* the newest row shown */
	long long last_id;  /* the oldest row shown */
};

/* Renders a page's rows; a row past PAGE_INDEX_ROWS only says there are
 * older ones. */
static int
index_row(void *arg, const struct task *t)
{
	struct index_rows *rows = arg;

	if (++rows->count > PAGE_INDEX_ROWS)
		return 1;
	taskview_row(rows->b, t, rows->now, rows->token);
	if (rows->count == 1)
		rows->first_id = t->id;
	rows->last_id = t->id;
	return 0;
}

/* Counts rows and keeps the id of the PAGE_INDEX_ROWS-th (oldest first). */
static int
index_count(void *arg, const struct task *t)
{
	struct index_rows *rows = arg;

	if (++rows->count == PAGE_INDEX_ROWS)
		rows->last_id = t->id;
	return 0;
}

/* Appends a link to the list with the view's status and one bound. */
static void
index_link(struct buf *b, const struct index_view *v, const char *bound,
	   long long id, const char *rel, const char *label)
{
	html_raw_unescaped(b, "<a href=\"/");
	if (v->has_status) {
		html_raw_unescaped(b, "?status=");
		html_attr(b, task_status_names[v->status]);
	}
	if (bound != NULL) {
		html_raw_unescaped(b, v->has_status ? "&amp;" : "?");
		html_attr(b, bound);
		html_raw_unescaped(b, "=");
		html_int(b, id);
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
 * Appends the new-task form, with typed and error if the last try failed.
 * Each form carries a new one-time value ("once"): the same form sent
 * twice (a reload after a lost answer, a double click) makes one task.
 */
static void
index_form(struct buf *b, const struct config *cfg, const char *token,
	   const char *typed, const char *error)
{
	char help[160], once[CSRF_TOKEN_LEN + 1];

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
	/* Without randomness the form still works, unprotected. */
	if (csrf_new_token(once) == 0) {
		html_raw_unescaped(b, "\">\n<input type=\"hidden\" "
				      "name=\"once\" value=\"");
		html_attr(b, once);
	}
	html_raw_unescaped(b, "\">\n<label for=\"n\">Decimal place n</label>\n"
			      "<input id=\"n\" name=\"n\" "
			      "inputmode=\"numeric\" autocomplete=\"off\" "
			      "aria-describedby=\"n-help n-error\"");
	if (typed != NULL) {
		html_raw_unescaped(b, " value=\"");
		html_attr(b, typed);
		html_raw_unescaped(b, "\"");
	}
	/* Back with an error (no script): the field is where to go on. */
	if (error != NULL)
		html_raw_unescaped(b, " aria-invalid=\"true\" autofocus");
	html_raw_unescaped(b, ">\n<button type=\"submit\">Compute</button>\n"
			      "<p id=\"n-help\" class=\"field-help\">");
	html_text(b, help);
	html_raw_unescaped(b, "</p>\n<p id=\"n-error\" class=\"field-error\" "
			      "role=\"alert\">");
	html_text(b, error);
	html_raw_unescaped(b, "</p>\n</form>\n</section>\n");
}

/*
 * Turns ?after=ID into the page it means: the PAGE_INDEX_ROWS tasks just
 * above ID, shown newest first as a before= page; if fewer are left
 * above, the newest page. Returns TASK_OK.
 */
static enum task_rc
index_resolve_after(struct dbconn *c, struct index_view *v)
{
	struct task_filter f = { PAGE_INDEX_ROWS + 1, 0, v->has_status,
				 v->status, v->after };
	struct index_rows rows = { NULL, 0, NULL, 0, 0, 0 };
	enum task_rc rc = task_list(c, &f, index_count, &rows);

	v->before = rows.count > PAGE_INDEX_ROWS ? rows.last_id + 1 : 0;
	v->after = 0;
	return rc;
}

/* Sets *any to 1 if a task of the view's status has an id above id. */
static enum task_rc
index_any_newer(struct dbconn *c, const struct index_view *v, long long id,
		int *any)
{
	struct task_filter f = { 1, 0, v->has_status, v->status, id };
	struct index_rows rows = { NULL, 0, NULL, 0, 0, 0 };
	enum task_rc rc = task_list(c, &f, index_count, &rows);

	*any = rows.count > 0;
	return rc;
}

/* Appends the links to the newer and older pages, if there are any. */
static void
index_nav(struct buf *b, const struct index_view *v,
	  const struct index_rows *rows, int newer)
{
	int older = rows->count > PAGE_INDEX_ROWS;

	if (!newer && !older)
		return;
	html_raw_unescaped(b, "<nav class=\"pages\" aria-label=\"Pages of "
			      "tasks\">\n");
	if (newer) {
		index_link(b, v, NULL, 0, NULL, "« Newest tasks");
		/* An empty page (past the oldest task) has no row to count
		 * from; the newest page is the way back. */
		if (rows->count > 0)
			index_link(b, v, "after", rows->first_id, "prev",
				   "‹ Newer tasks");
	}
	if (older)
		index_link(b, v, "before", rows->last_id, "next",
			   "Older tasks ›");
	html_raw_unescaped(b, "</nav>\n");
}

/*
 * Renders the whole main page into the response body with the given
 * status: the page of tasks v asks for; typed and error refill the form
 * after a failed POST.
 */
static void
index_render(struct ctx *ctx, int status, struct index_view v,
	     const char *typed, const char *error)
{
	struct buf *b = &ctx->resp->body;
	long long counts[TASK_STATUS__MAX], version = 0, total = 0, seen;
	struct index_rows rows = { b, ctx->now, NULL, 0, 0, 0 };
	struct task_filter f;
	struct dbconn *c;
	const char *outage;
	enum task_rc rc;
	int i, newer = 0, stalled = 0;

	if ((rows.token = ctx_csrf_token(ctx)) == NULL) {
		ctx_fail(ctx, 500,
			 "The server could not make a security token for the "
			 "form. Try again later.");
		return;
	}
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return;
	}
	outage = ctx_outage(ctx);
	/* One snapshot, so the counts, the version and the rows agree. */
	if ((rc = task_snapshot_begin(c)) != TASK_OK)
		goto fail;
	if ((rc = task_version(c, &version)) != TASK_OK ||
	    (rc = task_counts(c, counts)) != TASK_OK ||
	    (rc = task_worker_state(c, &seen, &stalled)) != TASK_OK)
		goto fail;
	if (v.after > 0 && (rc = index_resolve_after(c, &v)) != TASK_OK)
		goto fail;
	for (i = 0; i < TASK_STATUS__MAX; i++)
		total += counts[i];
	ctx->resp->status = status;
	/* A refused n says so first in the title too: it is what a screen
	 * reader reads when the page loads. */
	layout_begin_filtered(
	    b, error != NULL ? "Error: n was not taken" : "Tasks", counts,
	    v.has_status ? (int)v.status : -1);
	layout_worker_banner(b, stalled);
	if (outage != NULL)
		layout_outage(b, outage);
	index_form(b, ctx->app->cfg, rows.token, typed, error);
	page_search_form(b, NULL, NULL);
	html_raw_unescaped(b, "<section class=\"task-list\">\n<h2>");
	if (v.has_status) {
		html_raw_unescaped(b, "Tasks that are ");
		html_text(b, task_status_names[v.status]);
		html_raw_unescaped(b, " <a class=\"filter-clear\" "
				      "href=\"/\">(show all)</a>");
	} else
		html_raw_unescaped(b, "Tasks");
	html_raw_unescaped(b, "</h2>\n<p id=\"no-tasks\" class=\"empty\"");
	if (total > 0)
		html_raw_unescaped(b, " hidden");
	html_raw_unescaped(b, ">No tasks yet. Enter n above to compute a "
			      "digit.</p>\n"
			      "<table id=\"tasks\" data-version=\"");
	html_int(b, version);
	/* What the page script needs to keep live updates to this page:
	 * rows of another status, or outside an older page, do not
	 * belong. */
	html_raw_unescaped(b, "\" data-page=\"");
	html_raw_unescaped(b, v.before > 0 ? "older" : "newest");
	/* An older page holds the tasks below this id, however its address
	 * named it (?after= is resolved to it above). */
	if (v.before > 0) {
		html_raw_unescaped(b, "\" data-before=\"");
		html_int(b, v.before);
	}
	html_raw_unescaped(b, "\" data-page-size=\"");
	html_int(b, PAGE_INDEX_ROWS);
	html_raw_unescaped(b, "\"");
	if (v.has_status) {
		html_raw_unescaped(b, " data-filter=\"");
		html_attr(b, task_status_names[v.status]);
		html_raw_unescaped(b, "\"");
	}
	html_raw_unescaped(b, ">\n<thead><tr>"
			      "<th scope=\"col\" class=\"id\">Task</th>"
			      "<th scope=\"col\" class=\"n\">n</th>"
			      "<th scope=\"col\" class=\"status\">Status</th>"
			      "<th scope=\"col\" class=\"digit\">Digit</th>"
			      "<th scope=\"col\" class=\"created\">Created "
			      "(UTC)</th>"
			      "<th scope=\"col\" class=\"ran\">Ran for</th>"
			      "<th scope=\"col\" class=\"actions\">Actions</th>"
			      "</tr></thead>\n<tbody>\n");
	f.limit = PAGE_INDEX_ROWS + 1;
	f.before = v.before;
	f.has_status = v.has_status;
	f.status = v.status;
	f.after = 0;
	if ((rc = task_list(c, &f, index_row, &rows)) != TASK_OK)
		goto fail;
	if (v.before > 0 &&
	    (rc = index_any_newer(c, &v,
				  rows.count > 0 ? rows.first_id : v.before - 1,
				  &newer)) != TASK_OK)
		goto fail;
	task_snapshot_end(c);
	html_raw_unescaped(b, "</tbody>\n</table>\n");
	/* Always there, hidden while it does not apply, so that the page
	 * script shows it (and hides it) without writing the sentence. */
	html_raw_unescaped(b, "<p id=\"no-page-tasks\" class=\"empty\"");
	if (rows.count > 0 || total == 0)
		html_raw_unescaped(b, " hidden");
	html_raw_unescaped(b, ">No tasks on this page.</p>\n");
	index_nav(b, &v, &rows, newer);
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
	const struct params *q = &ctx->req->query;
	struct index_view v = { 0, 0, 0, TASK_QUEUED };
	const char *status;

	if (params_get_int(q, "before", 1, INT64_MAX, &v.before) == -1) {
		ctx_fail(ctx, 400,
			 "\"before\" must be a task number, such as "
			 "/?before=120.");
		return;
	}
	if (params_get_int(q, "after", 1, INT64_MAX, &v.after) == -1) {
		ctx_fail(ctx, 400,
			 "\"after\" must be a task number, such as "
			 "/?after=120.");
		return;
	}
	if (v.before > 0 && v.after > 0) {
		ctx_fail(ctx, 400,
			 "Give \"before\" or \"after\", not both: one page "
			 "of tasks is older than a task, or newer.");
		return;
	}
	if ((status = params_get(q, "status")) != NULL && status[0] != '\0') {
		if (task_status_parse(status, &v.status) == -1) {
			ctx_fail(ctx, 400,
				 "\"status\" must be one of queued, running, "
				 "done, error or cancelled.");
			return;
		}
		v.has_status = 1;
	}
	index_render(ctx, 200, v, NULL, NULL);
}

void
page_index_post(struct ctx *ctx)
{
	const struct config *cfg = ctx->app->cfg;
	const char *typed = params_get(&ctx->req->form, "n"), *digits;
	const char *once = params_get(&ctx->req->form, "once");
	size_t len = typed != NULL ? strlen(typed) : 0;
	char msg[256], key[REQUEST_KEY_MAX + 8];
	struct dbconn *c;
	enum nparse_err perr;
	enum task_rc rc;
	struct task t;
	long long n = 0;
	int replayed = 0;

	/* A number pasted with spaces around it is still that number; the
	 * field keeps what was typed if it is refused all the same. */
	digits = typed != NULL ? params_trim(typed, &len) : NULL;
	perr = nparse(digits, len, cfg->n_max, &n);
	if (perr != NPARSE_OK) {
		nparse_message(perr, cfg->n_max, msg, sizeof(msg));
		index_render(ctx, 400, index_newest, typed, msg);
		return;
	}
	if (once != NULL && !request_key_valid(once)) {
		index_render(ctx, 400, index_newest, typed,
			     "This form's one-time field was changed. Send the "
			     "form again from here.");
		return;
	}
	/* The prefix keeps them apart from the API's keys. */
	if (once != NULL)
		snprintf(key, sizeof(key), "form:%s", once);
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return;
	}
	rc = task_create_keyed(c, n, ctx->now, cfg->queue_cap,
			       once != NULL ? key : NULL, &t, &replayed);
	if (rc == TASK_KEY_REUSED) {
		/* An old page's form sent again with another n: the page
		 * comes back with a new one-time value, ready to send. */
		snprintf(msg, sizeof(msg),
			 "This form was sent before, for n = %lld. To ask for "
			 "%lld as well, send it again from here.",
			 t.n, n);
		index_render(ctx, 422, index_newest, typed, msg);
		return;
	}
	if (rc != TASK_OK) {
		int status = ctx_rc_message(ctx, rc, 0, msg, sizeof(msg));

		/* What passes (a full queue or disk, a busy or lost
		 * database): the form again, with n as typed and why beside
		 * it, to send again later. */
		if (status == 503)
			index_render(ctx, 503, index_newest, typed, msg);
		else
			ctx_fail(ctx, status, msg);
		return;
	}
	/* Sent again: as the first time, and still one task. */
	log_debug("task %lld: %s for n=%lld", t.id,
		  replayed ? "sent again with its form" : "created", n);
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
	index_render(ctx, 400, index_newest, NULL, message);
}
