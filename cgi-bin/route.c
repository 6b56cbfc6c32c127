/* route.c: the table of every URL nthpi-fcgi answers, and dispatch. */
#include <stdio.h>
#include <string.h>

#include "api_digits.h"
#include "api_tasks.h"
#include "csrf.h"
#include "metrics.h"
#include "page_index.h"
#include "page_task.h"
#include "route.h"

static const struct route routes[] = {
	{ "/", CTX_AREA_PAGE, page_index_get, NULL, NULL, NULL, NULL },
	{ "/tasks", CTX_AREA_PAGE, NULL, page_index_post, NULL,
	  page_index_bad_form, NULL },
	{ "/tasks/{id}", CTX_AREA_PAGE, page_task_get, NULL, NULL, NULL, NULL },
	{ "/tasks/{id}/pi.txt", CTX_AREA_PAGE, page_task_text, NULL, NULL, NULL,
	  NULL },
	{ "/tasks/{id}/cancel", CTX_AREA_PAGE, NULL, page_task_cancel, NULL,
	  NULL, NULL },
	{ "/tasks/{id}/retry", CTX_AREA_PAGE, NULL, page_task_retry, NULL, NULL,
	  NULL },
	{ "/tasks/{id}/delete", CTX_AREA_PAGE, NULL, page_task_delete, NULL,
	  NULL, NULL },
	{ "/api/tasks", CTX_AREA_API, api_tasks_list, api_tasks_create, NULL,
	  NULL, NULL },
	{ "/api/tasks/{id}", CTX_AREA_API, api_tasks_get, NULL,
	  api_tasks_delete, NULL, NULL },
	{ "/api/tasks/{id}/cancel", CTX_AREA_API, NULL, api_tasks_cancel, NULL,
	  NULL, NULL },
	{ "/api/tasks/{id}/retry", CTX_AREA_API, NULL, api_tasks_retry, NULL,
	  NULL, NULL },
	{ "/v1/pi", CTX_AREA_DIGITS, api_digits_get, NULL, NULL, NULL,
	  api_digits_options },
	{ "/metrics", CTX_AREA_PAGE, metrics_get, NULL, NULL, NULL, NULL },
};

#define ROUTES_COUNT (sizeof(routes) / sizeof(routes[0]))

/* The 404 of each area, naming where to go instead. */
static const char *const route_not_found[CTX_AREA__MAX] = {
	[CTX_AREA_PAGE] = "There is no page at this address. Start from the "
			  "task list.",
	[CTX_AREA_API] = "There is no such API address. The API's addresses "
			 "are /api/tasks, /api/tasks/ID and its /cancel and "
			 "/retry.",
	[CTX_AREA_DIGITS] = "There is no such address. The digits are at "
			    "/v1/pi?start=S&numberOfDigits=K.",
};

/* Matches one {id} segment s[0..len). Returns 0 and sets *id, or -1. */
static int
route_id(const char *s, size_t len, long long *id)
{
	long long v = 0;
	size_t i;

	/* One spelling per task, so /tasks/012 is not /tasks/12. */
	if (len == 0 || len > 18 || s[0] == '0')
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*id = v;
	return 0;
}

/* Returns 1 if path matches pattern, setting *id for {id}. */
static int
route_matches(const char *pattern, const char *path, long long *id)
{
	const char *p = pattern, *s = path;

	while (*p != '\0') {
		if (strncmp(p, "{id}", 4) == 0) {
			size_t len = strcspn(s, "/");

			if (route_id(s, len, id) == -1)
				return 0;
			p += 4;
			s += len;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *s == '\0';
}

const struct route *
route_match(const char *path, long long *id)
{
	size_t i;

	for (i = 0; i < ROUTES_COUNT; i++)
		if (route_matches(routes[i].pattern, path, id))
			return &routes[i];
	return NULL;
}

void
route_allow(const struct route *route, char *out, size_t outlen)
{
	int n = snprintf(
	    out, outlen, "%s%s%s%s", route->get ? "GET, HEAD" : "",
	    route->post ? (route->get ? ", POST" : "POST") : "",
	    route->del ? (route->get || route->post ? ", DELETE" : "DELETE")
		       : "",
	    route->options
		? (route->get || route->post || route->del ? ", OPTIONS"
							   : "OPTIONS")
		: "");

	/* The longest, "GET, HEAD, POST, DELETE, OPTIONS", fits every
	 * caller's buffer; an empty string is safer than a cut one. */
	if (n < 0 || (size_t)n >= outlen)
		out[0] = '\0';
}

enum ctx_area
route_area(const char *path)
{
	if (strncmp(path, "/api", 4) == 0 &&
	    (path[4] == '/' || path[4] == '\0'))
		return CTX_AREA_API;
	if (strncmp(path, "/v1", 3) == 0 && (path[3] == '/' || path[3] == '\0'))
		return CTX_AREA_DIGITS;
	return CTX_AREA_PAGE;
}

/*
 * The checks every state-changing request passes before its handler.
 * Returns 0, or answers and returns -1.
 */
static int
route_check_change(struct ctx *ctx, const struct route *route)
{
	struct request *r = ctx->req;
	char err[320];

	if (csrf_check_origin(r, err, sizeof(err)) == -1) {
		ctx_fail(ctx, 403, err);
		return -1;
	}
	if (r->method != HTTP_POST)
		return 0;
	if (ctx->area == CTX_AREA_API) {
		/* A cross-site page cannot send this content type without
		 * a CORS preflight, which nothing here grants. */
		if (!request_content_type_is(r, "application/json")) {
			ctx_fail(ctx, 415,
				 "Send the request with Content-Type: "
				 "application/json.");
			return -1;
		}
		return 0;
	}
	if (!request_content_type_is(r, "application/x-www-form-urlencoded")) {
		ctx_fail(ctx, 415,
			 "The form must be sent as "
			 "application/x-www-form-urlencoded. Use the form on "
			 "the nthpi page.");
		return -1;
	}
	if (params_parse(&r->form, r->body, r->body_len, err, sizeof(err)) ==
	    -1) {
		/* Refused all the same; the page may say so beside the
		 * field, as nothing changes. */
		if (route->bad_form != NULL)
			route->bad_form(ctx, err);
		else
			ctx_fail(ctx, 400, err);
		return -1;
	}
	if (csrf_check_token(r, params_get(&r->form, "csrf"), err,
			     sizeof(err)) == -1) {
		ctx_fail(ctx, 403, err);
		return -1;
	}
	return 0;
}

void
route_dispatch(struct ctx *ctx)
{
	struct request *r = ctx->req;
	const struct route *route;
	route_handler h = NULL;
	char allow[64], msg[160];

	ctx->area = route_area(r->path);
	if ((route = route_match(r->path, &ctx->id)) == NULL) {
		ctx_fail(ctx, 404, route_not_found[ctx->area]);
		return;
	}
	ctx->area = route->area;
	switch (r->method) {
	case HTTP_GET:
		h = route->get;
		break;
	case HTTP_HEAD:
		h = route->get;
		ctx->resp->head_only = 1;
		break;
	case HTTP_POST:
		h = route->post;
		break;
	case HTTP_DELETE:
		h = route->del;
		break;
	case HTTP_OPTIONS:
		h = route->options;
		break;
	default:
		break;
	}
	if (h == NULL) {
		route_allow(route, allow, sizeof(allow));
		snprintf(msg, sizeof(msg),
			 "This address does not take %.16s requests; it takes "
			 "%s.",
			 r->method_name, allow);
		ctx_fail(ctx, 405, msg);
		response_header(ctx->resp, "Allow", allow);
		return;
	}
	if ((r->method == HTTP_POST || r->method == HTTP_DELETE) &&
	    route_check_change(ctx, route) == -1)
		return;
	h(ctx);
}
