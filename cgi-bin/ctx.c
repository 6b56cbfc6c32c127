/* ctx.c: what every handler needs: its database connection, its errors
 * and its CSRF token. */
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "csrf.h"
#include "dbfile.h"
#include "json.h"
#include "layout.h"
#include "log.h"
#include "utf8.h"

struct dbconn *
ctx_db(struct ctx *ctx)
{
	if (ctx->db == NULL)
		ctx->db = dbpool_get(ctx->app->pool);
	return ctx->db;
}

void
ctx_db_release(struct ctx *ctx)
{
	if (ctx->db != NULL) {
		dbpool_put(ctx->app->pool, ctx->db);
		ctx->db = NULL;
	}
}

/*
 * Appends s as plain text: a control byte as '?', ill-formed UTF-8 as
 * U+FFFD, so that a name the client sent, quoted in a message, shows as
 * text in a text/plain; charset=utf-8 answer.
 */
static void
ctx_plain_text(struct buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i, n, len = strlen(s);

	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] < 0x20 || p[i] == 0x7f)
			buf_append(b, "?", 1);
		else if (p[i] < 0x80)
			buf_append(b, s + i, 1);
		else if ((n = utf8_sequence(p + i, len - i)) > 0)
			buf_append(b, s + i, n);
		else {
			n = 1;
			buf_puts(b, UTF8_REPLACEMENT);
		}
	}
}

void
ctx_fail(struct ctx *ctx, int status, const char *message)
{
	struct response *r = ctx->resp;

	r->status = status;
	response_new_body(r);
	switch (ctx->area) {
	case CTX_AREA_API:
		r->content_type = "application/json";
		json_raw_unescaped(&r->body, "{\"error\": ");
		json_string(&r->body, message);
		json_raw_unescaped(&r->body, "}\n");
		break;
	case CTX_AREA_DIGITS:
		/* No newline: the Pi Delivery API's sentences come bare. Its
		 * errors, like its digits, are for pages of any site. */
		r->content_type = "text/plain; charset=utf-8";
		ctx_plain_text(&r->body, message);
		response_header(r, "Access-Control-Allow-Origin", "*");
		break;
	default:
		r->content_type = "text/html; charset=utf-8";
		layout_error_page(&r->body, status, message);
		break;
	}
}

int
ctx_rc_message(struct ctx *ctx, enum task_rc rc, long long id, char *msg,
	       size_t len)
{
	/* dbpool_get opens no connection once the file is gone. */
	if (rc == TASK_UNAVAILABLE && dbfile_gone())
		rc = TASK_DB_GONE;
	switch (rc) {
	case TASK_NOT_FOUND:
		snprintf(msg, len,
			 "There is no task %lld; it may have been deleted. "
			 "See the task list for the tasks there are.",
			 id);
		return 404;
	case TASK_QUEUE_FULL:
		snprintf(msg, len,
			 "The queue is full: %lld tasks are already waiting. "
			 "Try again when some have finished.",
			 ctx->app->cfg->queue_cap);
		/* Room comes as tasks finish: longer than a busy moment. */
		ctx->resp->retry_after = 30;
		return 503;
	case TASK_BUSY:
		snprintf(msg, len,
			 "The task database is busy right now. Try again in a "
			 "few seconds.");
		return 503;
	case TASK_UNAVAILABLE:
		/* dbpool_get could not open a connection: the database
		 * file is missing, unreadable or out of descriptors for a
		 * moment. */
		snprintf(msg, len,
			 "The server cannot open the task database right now. "
			 "Try again in a few seconds; if it keeps happening, "
			 "tell the people who run this site.");
		return 503;
	case TASK_DISK_FULL:
		snprintf(msg, len, "%s", CTX_DISK_FULL);
		/* Space comes back when someone frees it: minutes, not
		 * the moment a busy lock takes. */
		ctx->resp->retry_after = CTX_OUTAGE_RETRY_S;
		return 503;
	case TASK_DB_GONE:
		snprintf(msg, len, "%s", CTX_DB_GONE);
		ctx->resp->retry_after = CTX_OUTAGE_RETRY_S;
		return 503;
	case TASK_KEY_REUSED:
		/* Callers say for which n; this is the fallback. */
		snprintf(msg, len,
			 "This request's key was used in the last 24 hours "
			 "for another request. Send a new key with each new "
			 "request.");
		return 422;
	case TASK_CONFLICT:
		/* Callers say which action did not apply; this is the
		 * fallback. */
		snprintf(msg, len,
			 "That action does not apply to task %lld in its "
			 "current state. Reload to see its status.",
			 id);
		return 409;
	default:
		snprintf(msg, len,
			 "The server could not read or write the task "
			 "database. Try again later; if it keeps happening, "
			 "tell the people who run this site.");
		return 500;
	}
}

void
ctx_fail_rc(struct ctx *ctx, enum task_rc rc, long long id)
{
	char msg[256];
	int status = ctx_rc_message(ctx, rc, id, msg, sizeof(msg));

	ctx_fail(ctx, status, msg);
}

const char *
ctx_outage(struct ctx *ctx)
{
	return ctx->db != NULL && dbfile_check(ctx->db->db) == -1
		   ? CTX_DB_GONE_BANNER
		   : NULL;
}

/* Sets cookie name to the token, with the given SameSite. Returns 0 or -1. */
static int
ctx_csrf_cookie(struct ctx *ctx, const char *name, const char *same_site)
{
	char cookie[160];
	int n;

	n = snprintf(cookie, sizeof(cookie),
		     "%s=%s; Path=/; SameSite=%s; HttpOnly%s", name, ctx->csrf,
		     same_site, ctx->req->https ? "; Secure" : "");
	if (n < 0 || (size_t)n >= sizeof(cookie)) {
		/* Cannot happen: the names and the token are short. */
		log_err("csrf: cookie header truncated");
		return -1;
	}
	return response_header(ctx->resp, "Set-Cookie", cookie);
}

const char *
ctx_csrf_token(struct ctx *ctx)
{
	const struct request *r = ctx->req;

	if (ctx->csrf[0] != '\0')
		return ctx->csrf;
	/*
	 * A link from another site brings the Lax cookie but not the Strict
	 * one, which the browser still holds: a new token here would replace
	 * it and fail the forms of the tabs already open. The Lax one only
	 * keeps the value; the forms' check compares with the Strict one.
	 */
	if (r->csrf_cookie[0] != '\0')
		memcpy(ctx->csrf, r->csrf_cookie, sizeof(ctx->csrf));
	else if (r->csrf_lax_cookie[0] != '\0')
		memcpy(ctx->csrf, r->csrf_lax_cookie, sizeof(ctx->csrf));
	else if (csrf_new_token(ctx->csrf) == -1)
		return NULL;
	/* The same value again where the browser holds it: no change. */
	if ((r->csrf_cookie[0] == '\0' &&
	     ctx_csrf_cookie(ctx, "nthpi_csrf", "Strict") == -1) ||
	    (strcmp(r->csrf_lax_cookie, ctx->csrf) != 0 &&
	     ctx_csrf_cookie(ctx, "nthpi_csrf_lax", "Lax") == -1)) {
		ctx->csrf[0] = '\0';
		return NULL;
	}
	return ctx->csrf;
}

int
ctx_task_action(struct ctx *ctx, enum task_action action, struct task *t)
{
	struct dbconn *c;
	enum task_rc rc;
	char msg[256];

	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, ctx->id);
		return -1;
	}
	switch (action) {
	case TASK_ACTION_CANCEL:
		rc = task_cancel(c, ctx->id, ctx->now, t);
		break;
	case TASK_ACTION_RETRY:
		rc = task_retry(c, ctx->id, ctx->app->cfg->queue_cap, t);
		break;
	default:
		rc = task_delete(c, ctx->id, t);
		break;
	}
	if (rc == TASK_CONFLICT) {
		task_conflict_message(action, t, msg, sizeof(msg));
		ctx_fail(ctx, 409, msg);
		return -1;
	}
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, ctx->id);
		return -1;
	}
	return 0;
}
