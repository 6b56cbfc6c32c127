/* ctx.h: a request's own state, and how a handler answers or fails with
 * it (ctx.c). */
#ifndef NTHPI_CTX_H
#define NTHPI_CTX_H

#include "app.h"

/* The parts of the site, which answer errors each in its own way. */
enum ctx_area {
	CTX_AREA_PAGE,   /* HTML pages: an error page */
	CTX_AREA_API,    /* /api: {"error": "..."} */
	CTX_AREA_DIGITS, /* /v1: plain text that any origin may read */
	CTX_AREA__MAX
};

/* One request being handled. */
struct ctx {
	const struct app *app;
	struct request *req;
	struct response *resp;
	struct dbconn *db;  /* borrowed from the pool by ctx_db, or NULL */
	long long id;       /* the {id} of the route, or 0 */
	enum ctx_area area; /* how its errors look */
	long long now;      /* time_now_ms() when the request came */
	int conn_fd;        /* the FastCGI connection, or -1 (tests) */
	/* The CSRF token for forms on this page; "" until ctx_csrf_token. */
	char csrf[CSRF_TOKEN_LEN + 1];
};

/*
 * Returns a database connection for this request, taking one from the pool
 * on first use; the transport gives it back after the response. NULL if
 * none could be opened (logged): answer with
 * ctx_fail_rc(ctx, TASK_UNAVAILABLE, id), a 503 with Retry-After.
 */
struct dbconn *ctx_db(struct ctx *ctx);

/* Gives the connection back early (before a wait). */
void ctx_db_release(struct ctx *ctx);

/*
 * Answers with an error: status and a sentence saying what went wrong and
 * what to do, as the request's area has it: {"error": ...} for the API,
 * the sentence as text/plain with Access-Control-Allow-Origin: * for /v1
 * (as the Pi Delivery API answers), or an HTML page.
 */
void ctx_fail(struct ctx *ctx, int status, const char *message);

/* What a refused change says, page and API alike, when the disk is full
 * (TASK_DISK_FULL) or the database file was removed (TASK_DB_GONE). */
#define CTX_DISK_FULL                                                          \
	"The server's disk is full, so it could not save this change, and "    \
	"nothing was changed. Try again in a few minutes."
#define CTX_DB_GONE                                                            \
	"The task database was removed while the server was running, so it "   \
	"cannot take this change until the people who run this site put it "   \
	"back. Try again later; the tasks shown are as they were."
/* The banner of the pages meanwhile: they still show the tasks. */
#define CTX_DB_GONE_BANNER                                                     \
	"The task database was removed while the server was running: the "     \
	"tasks here are as they were then, and no new task, cancel, retry or " \
	"delete is taken until the people who run this site put it back."
/* The Retry-After of those two: they last until someone acts. */
#define CTX_OUTAGE_RETRY_S 60

/*
 * Writes the sentence that fits rc, which is not TASK_OK, into msg (naming
 * task id where it matters), sets the response's Retry-After where the
 * status calls for one, and returns the status: 404, 409, 503 or 500.
 */
int ctx_rc_message(struct ctx *ctx, enum task_rc rc, long long id, char *msg,
		   size_t len);

/* Answers with the status and message that fit rc (ctx_rc_message). */
void ctx_fail_rc(struct ctx *ctx, enum task_rc rc, long long id);

/*
 * Returns the banner sentence a page shows while changes cannot be taken
 * (the database file was removed: checked on the request's connection,
 * taken with ctx_db first), or NULL.
 */
const char *ctx_outage(struct ctx *ctx);

/*
 * Does a cancel, retry or delete of task ctx->id for the page and the API
 * alike. Returns 0 with the task as it is now in *t, or -1 once it has
 * answered why not (409 with a sentence, 404, 503).
 */
int ctx_task_action(struct ctx *ctx, enum task_action action, struct task *t);

/*
 * Returns the token for this page's forms: the nthpi_csrf cookie if it
 * came, else its SameSite=Lax twin nthpi_csrf_lax (a visit from a link on
 * another site brings only that one), else a new random one. Sets
 * whichever of the two cookies did not come to the token, so that both
 * hold it. Returns NULL if no random bytes could be had (logged).
 */
const char *ctx_csrf_token(struct ctx *ctx);

#endif
