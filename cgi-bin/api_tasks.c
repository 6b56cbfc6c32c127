/* api_tasks.c: the JSON API under /api/tasks, long-poll included. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api_tasks.h"
#include "json.h"
#include "jsonread.h"
#include "log.h"
#include "nparse.h"
#include "params.h"
#include "pollcache.h"
#include "timefmt.h"

/* Appends "name": ISO time or null. */
static void
api_time(struct buf *b, const char *name, long long ms)
{
	char iso[32];

	json_raw_unescaped(b, name);
	if (ms < 0) {
		json_raw_unescaped(b, "null");
		return;
	}
	time_iso8601(ms, iso, sizeof(iso));
	json_string(b, iso);
}

void
api_task_json(struct buf *b, const struct task *t)
{
	char digit[2] = { 0, 0 };

	json_raw_unescaped(b, "{\"id\": ");
	json_int(b, t->id);
	json_raw_unescaped(b, ", \"n\": ");
	json_int(b, t->n);
	json_raw_unescaped(b, ", \"status\": ");
	json_string(b, task_status_names[t->status]);
	json_raw_unescaped(b, ", \"progress\": ");
	json_fraction(b, t->progress);
	json_raw_unescaped(b, ", \"digit\": ");
	if (t->status == TASK_DONE && t->digit >= 0 && t->digit <= 9) {
		digit[0] = (char)('0' + t->digit);
		json_string(b, digit);
	} else
		json_raw_unescaped(b, "null");
	json_raw_unescaped(b, ", \"error\": ");
	json_string(b, t->has_error ? t->error : NULL);
	api_time(b, ", \"created_at\": ", t->created_at);
	api_time(b, ", \"started_at\": ", t->started_at);
	api_time(b, ", \"finished_at\": ", t->finished_at);
	json_raw_unescaped(b, ", \"url\": \"/tasks/");
	json_int(b, t->id);
	json_raw_unescaped(b, "\"}");
}

/* Starts a JSON answer. */
static struct buf *
api_begin(struct ctx *ctx, int status)
{
	ctx->resp->status = status;
	ctx->resp->content_type = "application/json";
	return response_new_body(ctx->resp);
}

/* Answers with one task. */
static void
api_answer_task(struct ctx *ctx, int status, const struct task *t)
{
	struct buf *b = api_begin(ctx, status);

	api_task_json(b, t);
	json_raw_unescaped(b, "\n");
}

/* Builds a list answer: tasks go straight into the body. */
struct api_list {
	struct buf *b;
	int count;
};

static int
api_list_task(void *arg, const struct task *t)
{
	struct api_list *l = arg;

	if (l->count++ > 0)
		json_raw_unescaped(l->b, ",\n");
	api_task_json(l->b, t);
	return 0;
}

/* The changes answer collects deleted ids aside, as they come mixed. */
struct api_changes {
	struct buf *b;
	struct buf *deleted;
	int tasks, ndeleted;
};

static int
api_changes_task(void *arg, const struct task *t)
{
	struct api_changes *ch = arg;

	if (ch->tasks++ > 0)
		json_raw_unescaped(ch->b, ",\n");
	api_task_json(ch->b, t);
	return 0;
}

static int
api_changes_deleted(void *arg, long long id)
{
	struct api_changes *ch = arg;

	if (ch->ndeleted++ > 0)
		json_raw_unescaped(ch->deleted, ", ");
	json_int(ch->deleted, id);
	return 0;
}

/*
 * Appends the answer for the changes after since, read on c, to b. Returns
 * TASK_OK, sets *got to 1 if it should go out now (there were changes, or
 * the client's version is not the current one) and *at to the version of
 * the snapshot it was read from.
 */
static enum task_rc
api_changes_body(struct dbconn *c, long long since, struct buf *b, int *got,
		 long long *at)
{
	struct buf tasks = { 0 }, deleted = { 0 };
	struct api_changes ch = { &tasks, &deleted, 0, 0 };
	struct task_changes tc;
	enum task_rc rc;

	rc = task_changes(c, since, api_changes_task, api_changes_deleted, &ch,
			  &tc);
	if (rc != TASK_OK)
		goto out;
	/* The version is known last but goes first, as docs/design.md
	 * shows it. */
	json_raw_unescaped(b, "{\"version\": ");
	json_int(b, tc.version);
	json_raw_unescaped(b, ", \"tasks\": [");
	buf_append(b, tasks.data ? tasks.data : "", tasks.len);
	json_raw_unescaped(b, "], \"deleted\": [");
	buf_append(b, deleted.data ? deleted.data : "", deleted.len);
	json_raw_unescaped(b, "]");
	if (tc.more)
		json_raw_unescaped(b, ", \"more\": true");
	json_raw_unescaped(b, "}\n");
	if (tasks.failed || deleted.failed)
		b->failed = 1;
	/* A since= ahead of the database (it was recreated) is answered at
	 * once with the current version, so the client can start over. */
	*got = tc.count > 0 || tc.version != since;
	*at = tc.current;
out:
	buf_free(&tasks);
	buf_free(&deleted);
	return rc;
}

/* The answer for the changes after since, into the response body. */
static enum task_rc
api_read_changes(struct ctx *ctx, long long since, int *got, long long *at)
{
	struct buf *b = api_begin(ctx, 200);
	struct dbconn *c;

	if ((c = ctx_db(ctx)) == NULL)
		return TASK_UNAVAILABLE;
	return api_changes_body(c, since, b, got, at);
}

/*
 * The answer after a hold: shared through the process's cache with the
 * other requests that woke for the same change (see pollcache.c); the
 * watcher has usually built it already (api_tasks_prepare).
 */
static enum task_rc
api_changes_after_hold(struct ctx *ctx, long long since, long long seen)
{
	struct pollcache *cache = ctx->app->cache;
	unsigned long long ticket = 0;
	struct blob *kept;
	struct buf *b;
	enum task_rc rc;
	long long at = 0;
	int got = 0;

	if (seen < since)
		seen = since;
	if (cache != NULL &&
	    (kept = pollcache_get(cache, since, seen, 0, &ticket)) != NULL) {
		api_begin(ctx, 200);
		response_share_body(ctx->resp, kept);
		blob_unref(kept);
		return TASK_OK;
	}
	rc = api_read_changes(ctx, since, &got, &at);
	if (ticket != 0) {
		b = &ctx->resp->body;
		if (rc == TASK_OK && !b->failed)
			pollcache_put(cache, ticket, at, b->data, b->len);
		else
			pollcache_abandon(cache, ticket);
	}
	return rc;
}

void
api_tasks_prepare(void *arg, struct dbconn *c, long long version,
		  const long long *since, int n)
{
	struct pollcache *cache = arg;
	struct buf b = { 0 };
	long long at;
	int i, got;

	for (i = 0; i < n; i++) {
		unsigned long long ticket;
		struct blob *kept =
		    pollcache_get(cache, since[i], version, 1, &ticket);

		/* Built already, or being built by a request (the watcher
		 * must not wait), or no entry free. */
		blob_unref(kept);
		if (ticket == 0)
			continue;
		buf_reset(&b);
		if (api_changes_body(c, since[i], &b, &got, &at) == TASK_OK &&
		    !b.failed)
			pollcache_put(cache, ticket, at, b.data, b.len);
		else
			pollcache_abandon(cache, ticket);
	}
	buf_free(&b);
}

/* GET /api/tasks?since=V: answer now if V is old, else hold. */
static void
api_long_poll(struct ctx *ctx, long long since)
{
	const struct app *app = ctx->app;
	long long start, deadline, seen = -1, at = 0;
	enum watch_result wr;
	enum task_rc rc;
	int got = 0;

	if ((rc = api_read_changes(ctx, since, &got, &at)) != TASK_OK)
		goto fail;
	if (got || app->watch == NULL)
		return;
	/* Nothing new: hold without a connection, a query or a CPU tick
	 * until the watcher sees the version move. */
	ctx_db_release(ctx);
	start = time_mono_ms();
	deadline = start + (long long)app->cfg->hold_seconds * 1000;
	wr = watch_wait(app->watch, since, deadline, ctx->conn_fd, &seen);
	ctx->wait_ms = time_mono_ms() - start;
	if (wr == WATCH_FULL) {
		/* Holding it would take one of the threads kept for page
		 * loads: answer "nothing new" now, as a hold that ended. The
		 * page script asks again after a pause (MIN_EMPTY_POLL_MS). */
		log_debug("long-poll answered at once: %d are held already",
			  watch_waiters(app->watch));
		return;
	}
	if (wr == WATCH_GONE) {
		/* nginx closed the connection: its client left. */
		ctx->client_gone = 1;
		return;
	}
	if ((rc = api_changes_after_hold(ctx, since, seen)) != TASK_OK)
		goto fail;
	return;
fail:
	ctx_fail_rc(ctx, rc, 0);
}

/*
 * A long poll answers every change after its version, so the list's
 * parameters do not apply to it. Returns 0, or refuses one and returns -1.
 */
static int
api_since_alone(struct ctx *ctx)
{
	static const char *const list_only[] = { "limit", "before", "status" };
	char msg[200];
	size_t i;

	for (i = 0; i < sizeof(list_only) / sizeof(list_only[0]); i++) {
		if (params_get(&ctx->req->query, list_only[i]) == NULL)
			continue;
		snprintf(msg, sizeof(msg),
			 "\"%s\" does not apply with \"since\": a long poll "
			 "answers every change after version V. Give since "
			 "alone, or leave it out for a list.",
			 list_only[i]);
		ctx_fail(ctx, 400, msg);
		return -1;
	}
	return 0;
}

void
api_tasks_list(struct ctx *ctx)
{
	const struct params *q = &ctx->req->query;
	struct task_filter f = { API_LIMIT_DEFAULT, 0, 0, TASK_QUEUED, 0 };
	long long counts[TASK_STATUS__MAX], version = 0, v;
	struct api_list l = { NULL, 0 };
	struct listcache_key key;
	struct blob *kept;
	const char *status;
	struct dbconn *c;
	struct buf *b;
	enum task_rc rc;
	int i;

	if (params_get_int(q, "since", 0, INT64_MAX, &v) == -1) {
		ctx_fail(ctx, 400,
			 "\"since\" must be a version: a whole number such as "
			 "the \"version\" of an earlier answer.");
		return;
	}
	if (params_get(q, "since") != NULL) {
		if (api_since_alone(ctx) == 0)
			api_long_poll(ctx, v);
		return;
	}
	if (params_get_int(q, "limit", 1, API_LIMIT_MAX, &v) == -1) {
		ctx_fail(ctx, 400,
			 "\"limit\" must be a whole number from 1 to 1000.");
		return;
	}
	if (params_get(q, "limit") != NULL)
		f.limit = (int)v;
	if (params_get_int(q, "before", 1, INT64_MAX, &f.before) == -1) {
		ctx_fail(ctx, 400,
			 "\"before\" must be a task id: a whole number from "
			 "1 up.");
		return;
	}
	if ((status = params_get(q, "status")) != NULL) {
		if (task_status_parse(status, &f.status) == -1) {
			ctx_fail(ctx, 400,
				 "\"status\" must be one of queued, running, "
				 "done, error or cancelled.");
			return;
		}
		f.has_status = 1;
	}
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return;
	}
	key.before = f.before;
	key.limit = f.limit;
	key.status = f.has_status ? (int)f.status : -1;
	/* The version as it is now: an answer kept for it is the answer. */
	if (ctx->app->lists != NULL &&
	    task_version(c, &key.version) == TASK_OK &&
	    (kept = listcache_get(ctx->app->lists, &key)) != NULL) {
		api_begin(ctx, 200);
		response_share_body(ctx->resp, kept);
		blob_unref(kept);
		return;
	}
	b = api_begin(ctx, 200);
	l.b = b;
	if ((rc = task_snapshot_begin(c)) != TASK_OK)
		goto fail;
	if ((rc = task_version(c, &version)) != TASK_OK ||
	    (rc = task_counts(c, counts)) != TASK_OK)
		goto fail;
	json_raw_unescaped(b, "{\"version\": ");
	json_int(b, version);
	json_raw_unescaped(b, ", \"tasks\": [");
	if ((rc = task_list(c, &f, api_list_task, &l)) != TASK_OK)
		goto fail;
	task_snapshot_end(c);
	json_raw_unescaped(b, "], \"counts\": {");
	for (i = 0; i < TASK_STATUS__MAX; i++) {
		if (i > 0)
			json_raw_unescaped(b, ", ");
		json_string(b, task_status_names[i]);
		json_raw_unescaped(b, ": ");
		json_int(b, counts[i]);
	}
	json_raw_unescaped(b, "}}\n");
	/* Kept for the version of the snapshot it was read from. */
	key.version = version;
	if (ctx->app->lists != NULL && !b->failed)
		listcache_put(ctx->app->lists, &key, b->data, b->len);
	return;
fail:
	task_snapshot_end(c);
	ctx_fail_rc(ctx, rc, 0);
}

void
api_tasks_create(struct ctx *ctx)
{
	const struct config *cfg = ctx->app->cfg;
	struct jsonread_member want[] = { { "n", JSONREAD_ABSENT, NULL, 0 } };
	char msg[320], location[64];
	enum nparse_err perr;
	struct dbconn *c;
	enum task_rc rc;
	struct task t;
	long long n = 0;
	int len;

	if (jsonread_object(ctx->req->body, ctx->req->body_len, want, 1, msg,
			    sizeof(msg)) == -1) {
		ctx_fail(ctx, 400, msg);
		return;
	}
	if (want[0].type == JSONREAD_STRING) {
		/*
		 * The page script sends what was typed as a string when it is
		 * not plain digits: say what is wrong with the text, as the
		 * form would. Escapes stay as written, which nparse refuses
		 * like any other non-digit.
		 */
		perr =
		    nparse(want[0].text + 1, want[0].len - 2, cfg->n_max, &n);
		if (perr == NPARSE_OK)
			snprintf(msg, sizeof(msg),
				 "Send n as a JSON number, not a string: "
				 "{\"n\": %lld}.",
				 n);
		else
			nparse_message(perr, cfg->n_max, msg, sizeof(msg));
		ctx_fail(ctx, 400, msg);
		return;
	}
	if (want[0].type != JSONREAD_NUMBER) {
		snprintf(msg, sizeof(msg),
			 "%s Send it as a JSON number: {\"n\": 1234}.",
			 want[0].type == JSONREAD_ABSENT
			     ? "The body has no \"n\"."
			     : "\"n\" must be a number, not true, false, null, "
			       "an array or an object.");
		ctx_fail(ctx, 400, msg);
		return;
	}
	perr = nparse(want[0].text, want[0].len, cfg->n_max, &n);
	if (perr != NPARSE_OK) {
		nparse_message(perr, cfg->n_max, msg, sizeof(msg));
		ctx_fail(ctx, 400, msg);
		return;
	}
	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return;
	}
	if ((rc = task_create(c, n, ctx->now, cfg->queue_cap, &t)) != TASK_OK) {
		ctx_fail_rc(ctx, rc, 0);
		return;
	}
	len = snprintf(location, sizeof(location), "/api/tasks/%lld", t.id);
	if (len > 0 && (size_t)len < sizeof(location))
		response_header(ctx->resp, "Location", location);
	log_debug("task %lld: created for n=%lld", t.id, n);
	api_answer_task(ctx, 201, &t);
}

void
api_tasks_get(struct ctx *ctx)
{
	struct dbconn *c;
	enum task_rc rc;
	struct task t;

	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, ctx->id);
		return;
	}
	if ((rc = task_get(c, ctx->id, &t)) != TASK_OK) {
		ctx_fail_rc(ctx, rc, ctx->id);
		return;
	}
	api_answer_task(ctx, 200, &t);
}

/* cancel, retry and delete: do it, or answer why not. */
static void
api_action(struct ctx *ctx, enum task_action action)
{
	struct task t;

	if (ctx_task_action(ctx, action, &t) == -1)
		return;
	if (action == TASK_ACTION_DELETE) {
		struct buf *b = api_begin(ctx, 200);

		json_raw_unescaped(b, "{\"deleted\": ");
		json_int(b, t.id);
		json_raw_unescaped(b, "}\n");
	} else
		api_answer_task(ctx, 200, &t);
}

void
api_tasks_cancel(struct ctx *ctx)
{
	api_action(ctx, TASK_ACTION_CANCEL);
}

void
api_tasks_retry(struct ctx *ctx)
{
	api_action(ctx, TASK_ACTION_RETRY);
}

void
api_tasks_delete(struct ctx *ctx)
{
	api_action(ctx, TASK_ACTION_DELETE);
}
