/* api_live.h: the live side of the JSON API: long polls and event streams,
 * answered from the database when it has news, else handed to nginx. */
#ifndef NTHPI_API_LIVE_H
#define NTHPI_API_LIVE_H

#include "ctx.h"

/*
 * How long a long poll waits for the publisher to catch up with the
 * database (it is usually a few milliseconds behind) before it is
 * answered 503.
 */
#define API_LIVE_CATCH_UP_MS 2000

/*
 * GET /api/tasks?since=V (id 0) or /api/tasks/{id}?since=V: if something
 * changed after V (for id, that task), answers at once from the database
 * with the message of livemsg.h. Otherwise hands the request to nginx
 * (X-Accel-Redirect to /internal/poll), whose Nchan module holds it on
 * the channel the next change will be published to, and on the tick
 * channel of the second its hold ends (publisher.c); no thread or
 * connection of the app stays with it.
 */
void api_live_poll(struct ctx *ctx, long long id, long long since);

/* 1 if the request asks for an event stream (Accept: text/event-stream). */
int api_live_wants_stream(const struct ctx *ctx);

/*
 * Hands the request to nginx's event-stream subscriber on the list's
 * stream channel (id 0) or the task's; 404 for a task that does not
 * exist.
 */
void api_live_stream(struct ctx *ctx, long long id);

#endif
