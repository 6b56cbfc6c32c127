/* app.h: the process's shared state, which every request handler is
 * given (ctx.h has the request's own). */
#ifndef NTHPI_APP_H
#define NTHPI_APP_H

#include "config.h"
#include "dbpool.h"
#include "request.h"
#include "response.h"
#include "task.h"
#include "listcache.h"
#include "liveboard.h"

/* Shared by every thread of a process; read-only after start. */
struct app {
	const struct config *cfg;
	struct dbpool *pool;
	/* How far the publisher got; NULL: long polls answer at once
	 * (unit tests). */
	const struct liveboard *live;
	struct listcache *lists; /* GET /api/tasks answers; NULL: none */
	int handoff_delay_ms;    /* a test's pause before nginx holds a poll */
};

#endif
