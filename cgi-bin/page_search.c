/* page_search.c: the search for a string of digits in pi, as pages: the
 * form, GET /search and POST /search/task. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api_search.h"
#include "html.h"
#include "layout.h"
#include "log.h"
#include "page_search.h"
#include "search.h"
#include "store.h"

/* Appends the form's start, through the field and its messages. */
static void
search_form_only(struct buf *b, const char *typed, const char *error)
{
	html_raw_unescaped(b,
			   "<form id=\"search\" method=\"get\" "
			   "action=\"/search\" role=\"search\">\n"
			   "<label for=\"q\">Digits</label>\n"
			   "<input id=\"q\" name=\"q\" inputmode=\"numeric\" "
			   "autocomplete=\"off\" "
			   "aria-describedby=\"q-help q-error\"");
	if (typed != NULL) {
		html_raw_unescaped(b, " value=\"");
		html_attr(b, typed);
		html_raw_unescaped(b, "\"");
	}
	if (error != NULL)
		html_raw_unescaped(b, " aria-invalid=\"true\" autofocus");
	html_raw_unescaped(b, ">\n<button type=\"submit\">Search</button>\n"
			      "<p id=\"q-help\" class=\"field-help\">1 to 20 "
			      "digits, such as 14159, 999999 or a birthday "
			      "like 14031879.</p>\n"
			      "<p id=\"q-error\" class=\"field-error\" "
			      "role=\"alert\">");
	html_text(b, error);
	html_raw_unescaped(b, "</p>\n</form>\n");
}

void
page_search_form(struct buf *b, const char *typed, const char *error)
{
	html_raw_unescaped(b, "<section class=\"search\">\n"
			      "<h2>Find a string of digits in π</h2>\n");
	search_form_only(b, typed, error);
	html_raw_unescaped(b, "<div id=\"search-result\" "
			      "aria-live=\"polite\"></div>\n</section>\n");
}

/* Appends "once", "twice" or "N times". */
static void
search_times(struct buf *b, long long count)
{
	if (count == 1)
		html_raw_unescaped(b, "once");
	else if (count == 2)
		html_raw_unescaped(b, "twice");
	else {
		html_int(b, count);
		html_raw_unescaped(b, " times");
	}
}

/* Appends a link to the search for q from decimal from. */
static void
search_link(struct buf *b, const char *q, long long from, const char *rel,
	    const char *label, const char *tail)
{
	html_raw_unescaped(b, "<a rel=\"");
	html_attr(b, rel);
	html_raw_unescaped(b, "\" href=\"/search?q=");
	html_attr(b, q); /* digits only: nothing to escape in a URL */
	html_raw_unescaped(b, "&amp;from=");
	html_int(b, from);
	html_raw_unescaped(b, "\">");
	html_text(b, label);
	html_int(b, from);
	html_text(b, tail);
	html_raw_unescaped(b, "</a>");
}

/* Appends the answer for q from decimal from: div#search-result. */
static void
search_result(struct buf *b, const char *token, const char *q, long long from,
	      const struct search_answer *a)
{
	html_raw_unescaped(b, "<div id=\"search-result\" aria-live=\"polite\" "
			      "data-q=\"");
	html_attr(b, q);
	html_raw_unescaped(b, "\" data-position=\"");
	html_int(b, a->position);
	html_raw_unescaped(b, "\" data-count=\"");
	html_int(b, a->count);
	html_raw_unescaped(b, "\">\n");
	if (a->searched == 0) {
		html_raw_unescaped(b, "<p class=\"search-absent\">No decimals "
				      "of π have been computed yet, so there "
				      "is nothing to search. Ask for a digit "
				      "first.</p>\n</div>\n");
		return;
	}
	if (a->position == 0) {
		html_raw_unescaped(b, "<p class=\"search-absent\"><strong>");
		html_text(b, q);
		html_raw_unescaped(b, "</strong> does not occur ");
		if (a->count > 0 && from > 1) {
			html_raw_unescaped(b, "from decimal ");
			html_int(b, from);
			html_raw_unescaped(b, " on. It occurs ");
			search_times(b, a->count);
			html_raw_unescaped(b, " in the ");
			html_int(b, a->searched);
			html_raw_unescaped(b, " decimals searched.</p>\n");
		} else {
			html_raw_unescaped(b, "in the first ");
			html_int(b, a->searched);
			html_raw_unescaped(b, " decimals of π: the search went "
					      "through all of them, as far as "
					      "they are computed.</p>\n");
		}
	} else {
		html_raw_unescaped(b, "<p class=\"search-found\"><strong>");
		html_text(b, q);
		html_raw_unescaped(b, "</strong> ");
		if (from > 1) {
			html_raw_unescaped(b, "starts next, from decimal ");
			html_int(b, from);
			html_raw_unescaped(b, " on, at decimal <strong "
					      "class=\"search-position\">");
		} else
			html_raw_unescaped(b, "first starts at decimal <strong "
					      "class=\"search-position\">");
		html_int(b, a->position);
		html_raw_unescaped(b, "</strong>. It occurs ");
		search_times(b, a->count);
		html_raw_unescaped(b, " in the ");
		html_int(b, a->searched);
		html_raw_unescaped(b, " decimals searched.</p>\n"
				      "<p class=\"search-context\">");
		/* Decimal 1 follows the "3.": shown, so that the places
		 * read as they are counted. */
		html_raw_unescaped(b, a->position - SEARCH_CONTEXT <= 1 ? "3."
									: "…");
		html_text(b, a->before);
		html_raw_unescaped(b, "<mark>");
		html_text(b, q);
		html_raw_unescaped(b, "</mark>");
		html_text(b, a->after);
		if (a->position + (long long)strlen(q) - 1 + SEARCH_CONTEXT <
		    a->searched)
			html_raw_unescaped(b, "…");
		html_raw_unescaped(b, "</p>\n");
	}
	if (a->previous > 0 || a->next > 0) {
		html_raw_unescaped(b, "<nav class=\"search-nav\" "
				      "aria-label=\"Occurrences\">\n");
		if (a->previous > 0)
			search_link(b, q, a->previous, "prev",
				    "« The one before, at decimal ", "");
		if (a->next > 0)
			search_link(b, q, a->next, "next",
				    "The next one, at decimal ", " »");
		html_raw_unescaped(b, "\n</nav>\n");
	}
	if (a->position > 0) {
		html_raw_unescaped(b,
				   "<form class=\"search-task\" "
				   "method=\"post\" action=\"/search/task\">\n"
				   "<input type=\"hidden\" name=\"csrf\" "
				   "value=\"");
		html_attr(b, token);
		html_raw_unescaped(b, "\">\n<input type=\"hidden\" name=\"q\" "
				      "value=\"");
		html_attr(b, q);
		html_raw_unescaped(b, "\">\n<input type=\"hidden\" "
				      "name=\"decimal\" value=\"");
		html_int(b, a->position);
		html_raw_unescaped(b, "\">\n<button type=\"submit\">See it on "
				      "a task page</button>\n</form>\n");
	}
	html_raw_unescaped(b, "</div>\n");
}

/* Renders the search page: the form and, unless q is NULL, the answer. */
static void
search_page(struct ctx *ctx, int status, const char *typed, const char *error,
	    const char *q, long long from, const struct search_answer *a)
{
	struct buf *b = &ctx->resp->body;
	const char *token = ctx_csrf_token(ctx);

	if (token == NULL) {
		ctx_fail(ctx, 500,
			 "The server could not make a security token for the "
			 "form. Try again later.");
		return;
	}
	ctx->resp->status = status;
	layout_begin(b,
		     error != NULL ? "Error: the digits were not taken"
				   : "Find a string of digits in π",
		     NULL);
	html_raw_unescaped(b, "<section class=\"search\">\n"
			      "<h1>Find a string of digits in π</h1>\n");
	search_form_only(b, typed, error);
	if (q != NULL && a != NULL)
		search_result(b, token, q, from, a);
	else
		html_raw_unescaped(b, "<div id=\"search-result\" "
				      "aria-live=\"polite\"></div>\n");
	html_raw_unescaped(b, "</section>\n");
	layout_end(b);
}

void
page_search_get(struct ctx *ctx)
{
	const struct params *p = &ctx->req->query;
	const char *typed = params_get(p, "q");
	char q[SEARCH_LEN_MAX + 1], err[256];
	struct search_answer a;
	long long from = 1;

	if (typed == NULL) {
		search_page(ctx, 200, NULL, NULL, NULL, 1, NULL);
		return;
	}
	if (search_parse(typed, q, err, sizeof(err)) == -1) {
		search_page(ctx, 400, typed, err, NULL, 1, NULL);
		return;
	}
	if (params_get_int(p, "from", 1, INT64_MAX, &from) == -1) {
		ctx_fail(ctx, 400,
			 "\"from\" must be a decimal place to search from, a "
			 "whole number from 1 on, such as from=763.");
		return;
	}
	if (api_search_run(ctx, q, from, &a) == -1)
		return;
	search_page(ctx, 200, typed, NULL, q, from, &a);
}

void
page_search_task(struct ctx *ctx)
{
	const struct config *cfg = ctx->app->cfg;
	const struct params *f = &ctx->req->form;
	char q[SEARCH_LEN_MAX + 1], err[256], where[96];
	long long decimal = 0, end, have;
	struct dbconn *c;
	enum task_rc rc;
	struct task t;

	if (search_parse(params_get(f, "q"), q, err, sizeof(err)) == -1 ||
	    params_get_int(f, "decimal", 1, INT64_MAX, &decimal) != 0) {
		ctx_fail(ctx, 400,
			 "This form needs the digits searched for and the "
			 "decimal where they start. Use the button on a "
			 "search's page.");
		return;
	}
	end = decimal + (long long)strlen(q) - 1;
	have = store_decimals(cfg->store_path);
	if (end > have || end > cfg->n_max) {
		ctx_fail(ctx, 400,
			 "That place lies past the decimals computed, so no "
			 "task shows it yet. Search again, and use the button "
			 "under the answer.");
		return;
	}
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return;
	}
	/* A task that shows the place already does: no new one. */
	rc = task_covering(c, end, &t);
	if (rc == TASK_NOT_FOUND) {
		rc = task_create(c, end, ctx->now, cfg->queue_cap, &t);
		if (rc == TASK_OK)
			log_debug("task %lld: created for n=%lld by a search",
				  t.id, end);
	}
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, 0);
		return;
	}
	snprintf(where, sizeof(where), "/tasks/%lld?decimal=%lld#sought", t.id,
		 decimal);
	ctx->resp->status = 303;
	response_header(ctx->resp, "Location", where);
	html_raw_unescaped(&ctx->resp->body,
			   "<!DOCTYPE html>\n<title>See the task</title>\n"
			   "<p><a href=\"");
	html_attr(&ctx->resp->body, where);
	html_raw_unescaped(&ctx->resp->body,
			   "\">See the task that shows it</a>.</p>\n");
}

void
page_search_bad_form(struct ctx *ctx, const char *message)
{
	ctx_fail(ctx, 400, message);
}
