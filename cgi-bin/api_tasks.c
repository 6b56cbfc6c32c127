/* api_tasks.c: the JSON API under /api/tasks (long polls: api_live.c). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api_tasks.h"
#include "json.h"
#include "jsonread.h"
#include "log.h"
#include "nparse.h"
#include "params.h"
#include "api_live.h"
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
api_task_json_open(struct buf *b, const struct task *t)
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
	json_raw_unescaped(b, ", \"cancel_requested\": ");
	json_raw_unescaped(b, t->cancel_requested ? "true" : "false");
	json_raw_unescaped(b, ", \"url\": \"/tasks/");
	json_int(b, t->id);
	json_raw_unescaped(b, "\"");
}

void
api_task_json(struct buf *b, const struct task *t)
{
	api_task_json_open(b, t);
	json_raw_unescaped(b, "}");
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
	long long counts[TASK_STATUS__MAX], version = 0, v, seen;
	struct api_list l = { NULL, 0 };
	struct listcache_key key;
	struct blob *kept;
	const char *status;
	struct dbconn *c;
	struct buf *b;
	enum task_rc rc;
	int i, stalled = 0;

	if (params_get_int(q, "since", 0, INT64_MAX, &v) == -1) {
		ctx_fail(ctx, 400,
			 "\"since\" must be a version: a whole number such as "
			 "the \"version\" of an earlier answer.");
		return;
	}
	if (api_live_wants_stream(ctx)) {
		api_live_stream(ctx, 0);
		return;
	}
	if (params_get(q, "since") != NULL) {
		if (api_since_alone(ctx) == 0)
			api_live_poll(ctx, 0, v);
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
	    (rc = task_counts(c, counts)) != TASK_OK ||
	    (rc = task_worker_state(c, &seen, &stalled)) != TASK_OK)
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
	/* The mark moves the version: the answer kept for it stays true. */
	json_raw_unescaped(b, "}, \"worker\": ");
	json_string(b, stalled ? "stalled" : "ok");
	json_raw_unescaped(b, "}\n");
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
	const char *key = ctx->req->idempotency_key;
	char msg[320], location[64], kept[REQUEST_KEY_MAX + 8];
	enum nparse_err perr;
	struct dbconn *c;
	enum task_rc rc;
	struct task t;
	long long n = 0;
	int len, replayed = 0;

	/* First: a client that sends a key counts on it, and must hear at
	 * once that it does not work, not after a task was made without. */
	if (key != NULL && !request_key_valid(key)) {
		ctx_fail(ctx, 400,
			 "The Idempotency-Key header must be 16 to 128 "
			 "characters of letters, digits, '-' and '_': a random "
			 "value, new for each request and the same when it is "
			 "sent again.");
		return;
	}
	/* Valid keys are shorter than kept; the prefix keeps them apart
	 * from the form's. */
	if (key != NULL)
		snprintf(kept, sizeof(kept), "api:%s", key);
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
	rc = task_create_keyed(c, n, ctx->now, cfg->queue_cap,
			       key != NULL ? kept : NULL, &t, &replayed);
	if (rc == TASK_KEY_REUSED) {
		snprintf(msg, sizeof(msg),
			 "This Idempotency-Key was used in the last 24 hours "
			 "for n = %lld, not %lld. Send a new key with each new "
			 "request, and the same key only to send a request "
			 "again.",
			 t.n, n);
		ctx_fail(ctx, 422, msg);
		return;
	}
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, 0);
		return;
	}
	len = snprintf(location, sizeof(location), "/api/tasks/%lld", t.id);
	if (len > 0 && (size_t)len < sizeof(location))
		response_header(ctx->resp, "Location", location);
	if (replayed) {
		/* The request was made before: its task, as it is now. */
		response_header(ctx->resp, "Idempotent-Replayed", "true");
		log_debug("task %lld: sent again with its key", t.id);
		api_answer_task(ctx, 200, &t);
		return;
	}
	log_debug("task %lld: created for n=%lld", t.id, n);
	api_answer_task(ctx, 201, &t);
}

void
api_tasks_get(struct ctx *ctx)
{
	const struct params *q = &ctx->req->query;
	struct dbconn *c;
	enum task_rc rc;
	struct task t;
	long long since;

	if (params_get_int(q, "since", 0, INT64_MAX, &since) == -1) {
		ctx_fail(ctx, 400,
			 "\"since\" must be a version: a whole number such as "
			 "the \"version\" of an earlier answer.");
		return;
	}
	if (api_live_wants_stream(ctx)) {
		api_live_stream(ctx, ctx->id);
		return;
	}
	if (params_get(q, "since") != NULL) {
		api_live_poll(ctx, ctx->id, since);
		return;
	}
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
