/* route.h: the table of every URL nthpi-fcgi answers, and dispatch. */
#ifndef NTHPI_ROUTE_H
#define NTHPI_ROUTE_H

#include "ctx.h"

typedef void (*route_handler)(struct ctx *ctx);

struct route {
	const char *pattern; /* "/tasks/{id}/cancel": {id} is a task id */
	enum ctx_area area;  /* how its errors look */
	route_handler get;   /* also serves HEAD */
	route_handler post;
	route_handler del;
	/* Answers a form post whose body cannot be parsed, given why; NULL
	 * for the plain error page. */
	void (*bad_form)(struct ctx *ctx, const char *message);
	/* Answers OPTIONS (a CORS preflight); NULL: 405 like any method
	 * the route does not take. */
	route_handler options;
	/* The query parameters GET and HEAD take, NULL-terminated; NULL:
	 * none. A last name "*" lets any other through, unused. POST and
	 * DELETE take none in the address. */
	const char *const *query;
	/* The fields a form POST takes, NULL-terminated; NULL for the API,
	 * whose bodies are JSON. */
	const char *const *form;
};

/*
 * Finds the route whose pattern matches path exactly. {id} matches a
 * task id: 1 to 18 digits without a leading zero, stored in *id. Returns
 * the route or NULL.
 */
const struct route *route_match(const char *path, long long *id);

/*
 * Writes the methods route answers ("GET, HEAD, DELETE") into out, for an
 * Allow header.
 */
void route_allow(const struct route *route, char *out, size_t outlen);

/*
 * Returns the area of path, route or not: CTX_AREA_API for /api and under
 * /api/, CTX_AREA_DIGITS for /v1 and under /v1/, else CTX_AREA_PAGE.
 */
enum ctx_area route_area(const char *path);

/*
 * Handles ctx->req completely into ctx->resp: finds the route (404), the
 * method (405 with Allow), checks a state-changing request's origin (403),
 * its content type (415) and, for a form, its body and CSRF token (400,
 * 403), refuses a parameter or form field the route does not take (400,
 * naming it and what the route takes), then calls the handler. The body
 * must have been read.
 */
void route_dispatch(struct ctx *ctx);

#endif
