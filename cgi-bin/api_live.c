/* api_live.c: the live side of the JSON API: long polls and event streams,
 * answered from the database when it has news, else handed to nginx. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api_live.h"
#include "livemsg.h"
#include "log.h"
#include "timefmt.h"

/* Starts a JSON answer. */
static struct buf *
api_live_begin(struct ctx *ctx)
{
	ctx->resp->status = 200;
	ctx->resp->content_type = "application/json";
	return response_new_body(ctx->resp);
}

/*
 * Waits until the publisher has published version v (or more). Returns
 * what it has published, or -1 if it did not get there in time.
 */
static long long
api_live_wait_published(const struct liveboard *live, long long v)
{
	long long deadline = time_mono_ms() + API_LIVE_CATCH_UP_MS, p;
	struct timespec pause = { 0, 1000000 };

	while ((p = liveboard_published(live)) < v) {
		if (time_mono_ms() >= deadline)
			return -1;
		nanosleep(&pause, NULL);
		/* Short first (it is usually a millisecond or two away),
		 * then no busier than it needs to be. */
		if (pause.tv_nsec < 20000000)
			pause.tv_nsec *= 2;
	}
	return p;
}

/*
 * Hands the request over: nginx holds it on the channel named chan until
 * a message comes, or until the tick of the second its hold ends.
 */
static void
api_live_hand_over(struct ctx *ctx, const char *chan)
{
	const struct app *app = ctx->app;
	long long slot =
	    (ctx->now + app->cfg->hold_seconds * 1000LL + 999) / 1000;
	char uri[128];
	int n;

	if (app->handoff_delay_ms > 0) {
		struct timespec d = { app->handoff_delay_ms / 1000,
				      app->handoff_delay_ms % 1000 * 1000000L };

		nanosleep(&d, NULL);
	}
	n = snprintf(uri, sizeof(uri), "/internal/poll?c=%s&t=t%lld", chan,
		     slot);
	if (n < 0 || (size_t)n >= sizeof(uri) ||
	    response_header(ctx->resp, "X-Accel-Redirect", uri) == -1) {
		ctx_fail(ctx, 500,
			 "The server could not hold this request. "
			 "Ask again.");
		return;
	}
	response_new_body(ctx->resp);
	ctx->resp->status = 200;
}

/* Answers that live updates cannot be held right now. */
static void
api_live_behind(struct ctx *ctx)
{
	log_warn("long poll: the publisher is more than %d ms behind the "
		 "database; is nginx's publisher socket (%s) up?",
		 API_LIVE_CATCH_UP_MS, ctx->app->cfg->publish_path);
	ctx_fail(ctx, 503,
		 "Live updates are behind right now. Ask again in a few "
		 "seconds.");
}

/*
 * Answers with the changes after since if there are any (or since is not
 * a version this database had: it starts the client over). Returns 1 if
 * it answered (or failed), 0 if nothing changed after since, which is
 * then the current version.
 */
static int
api_live_list_now(struct ctx *ctx, long long since)
{
	struct buf *b = api_live_begin(ctx);
	struct dbconn *c;
	long long version = 0;
	enum task_rc rc;
	int changed = 0;

	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return 1;
	}
	rc = livemsg_read_changes(c, since, ctx->now, b, &changed, &version);
	ctx_db_release(ctx);
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, 0);
		return 1;
	}
	return changed > 0 || version != since || ctx->app->live == NULL;
}

/*
 * The same for one task: answers if it changed after since, or was
 * deleted (404). Returns 0 and sets *row_version to its row's version
 * if it did not change.
 */
static int
api_live_task_now(struct ctx *ctx, long long since, long long *row_version)
{
	struct dbconn *c;
	struct livemsg m;
	enum task_rc rc;
	struct task t;

	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, ctx->id);
		return 1;
	}
	rc = task_get(c, ctx->id, &t);
	ctx_db_release(ctx);
	if (rc != TASK_OK) {
		ctx_fail_rc(ctx, rc, ctx->id);
		return 1;
	}
	*row_version = t.version;
	if (t.version <= since && ctx->app->live != NULL)
		return 0;
	livemsg_init(&m, ctx->now);
	livemsg_add_task(&m, &t);
	livemsg_write(&m, api_live_begin(ctx), since, t.version, NULL, 0);
	livemsg_free(&m);
	return 1;
}

void
api_live_poll(struct ctx *ctx, long long id, long long since)
{
	long long row = 0, want, p;
	char chan[64];

	if (id == 0 ? api_live_list_now(ctx, since)
		    : api_live_task_now(ctx, since, &row))
		return;
	/*
	 * Nothing new. Once the publisher has published all that the
	 * database held, the next change goes out on the channel named for
	 * where this client is, and nginx keeps a message that comes before
	 * the client does: no change can slip between this look and the
	 * hold. For the list that is "l" and the version; for a task, "x",
	 * its id and its row's version (the publisher sends each task's
	 * change to where it last left it).
	 */
	want = id == 0 ? since : row;
	if ((p = api_live_wait_published(ctx->app->live, want)) == -1) {
		api_live_behind(ctx);
		return;
	}
	/* It moved on meanwhile: that change is in the database now. */
	if (p > want && (id == 0 ? api_live_list_now(ctx, since)
				 : api_live_task_now(ctx, since, &row)))
		return;
	if (id == 0)
		snprintf(chan, sizeof(chan), "l%lld", since);
	else
		snprintf(chan, sizeof(chan), "x%lld_%lld", id, row);
	api_live_hand_over(ctx, chan);
}

int
api_live_wants_stream(const struct ctx *ctx)
{
	const char *a = ctx->req->accept;

	return a != NULL && strstr(a, "text/event-stream") != NULL;
}

void
api_live_stream(struct ctx *ctx, long long id)
{
	char uri[96];
	struct dbconn *c;
	enum task_rc rc;
	struct task t;

	if (id != 0) {
		if ((c = ctx_db(ctx)) == NULL) {
			ctx_fail_rc(ctx, TASK_UNAVAILABLE, id);
			return;
		}
		rc = task_get(c, id, &t);
		ctx_db_release(ctx);
		if (rc != TASK_OK) {
			ctx_fail_rc(ctx, rc, id);
			return;
		}
		snprintf(uri, sizeof(uri), "/internal/stream?c=task%lld", id);
	} else
		snprintf(uri, sizeof(uri), "/internal/stream?c=tasks");
	response_new_body(ctx->resp);
	ctx->resp->status = 200;
	if (response_header(ctx->resp, "X-Accel-Redirect", uri) == -1)
		ctx_fail(ctx, 500,
			 "The server could not start the stream. "
			 "Ask again.");
}
