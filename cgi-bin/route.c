/* route.c: the table of every URL nthpi-fcgi answers, and dispatch. */
#include <stdio.h>
#include <string.h>

#include "api_digits.h"
#include "api_search.h"
#include "api_tasks.h"
#include "csrf.h"
#include "metrics.h"
#include "page_index.h"
#include "page_search.h"
#include "page_task.h"
#include "route.h"

/* What each route takes besides its address (route.h). */
static const char *const route_q_index[] = { "before", "after", "status",
					     NULL };
static const char *const route_q_task[] = { "page", "decimal", NULL };
static const char *const route_q_tasks[] = { "limit", "before", "status",
					     "since", NULL };
static const char *const route_q_one_task[] = { "since", NULL };
/* The Pi Delivery API ignores what it does not know (a page's cache-busting
 * "_=", say); a route compatible with it does too. */
static const char *const route_q_digits[] = { "start", "numberOfDigits",
					      "radix", "*", NULL };
static const char *const route_q_search[] = { "q", "from", NULL };
static const char *const route_f_search_task[] = { "q", "decimal", "csrf",
						   NULL };
static const char *const route_f_new[] = { "n", "csrf", "once", NULL };
static const char *const route_f_action[] = { "csrf", "back", NULL };
static const char *const route_f_delete[] = { "csrf", NULL };

static const struct route routes[] = {
	{ .pattern = "/",
	  .area = CTX_AREA_PAGE,
	  .get = page_index_get,
	  .query = route_q_index },
	{ .pattern = "/tasks",
	  .area = CTX_AREA_PAGE,
	  .post = page_index_post,
	  .bad_form = page_index_bad_form,
	  .form = route_f_new },
	{ .pattern = "/tasks/{id}",
	  .area = CTX_AREA_PAGE,
	  .get = page_task_get,
	  .query = route_q_task },
	{ .pattern = "/tasks/{id}/pi.txt",
	  .area = CTX_AREA_PAGE,
	  .get = page_task_text },
	{ .pattern = "/tasks/{id}/cancel",
	  .area = CTX_AREA_PAGE,
	  .post = page_task_cancel,
	  .form = route_f_action },
	{ .pattern = "/tasks/{id}/retry",
	  .area = CTX_AREA_PAGE,
	  .post = page_task_retry,
	  .form = route_f_action },
	{ .pattern = "/tasks/{id}/delete",
	  .area = CTX_AREA_PAGE,
	  .post = page_task_delete,
	  .form = route_f_delete },
	{ .pattern = "/api/tasks",
	  .area = CTX_AREA_API,
	  .get = api_tasks_list,
	  .post = api_tasks_create,
	  .query = route_q_tasks },
	{ .pattern = "/api/tasks/{id}",
	  .area = CTX_AREA_API,
	  .get = api_tasks_get,
	  .del = api_tasks_delete,
	  .query = route_q_one_task },
	{ .pattern = "/api/tasks/{id}/cancel",
	  .area = CTX_AREA_API,
	  .post = api_tasks_cancel },
	{ .pattern = "/api/tasks/{id}/retry",
	  .area = CTX_AREA_API,
	  .post = api_tasks_retry },
	{ .pattern = "/v1/pi",
	  .area = CTX_AREA_DIGITS,
	  .get = api_digits_get,
	  .options = api_digits_options,
	  .query = route_q_digits },
	{ .pattern = "/metrics", .area = CTX_AREA_PAGE, .get = metrics_get },
	{ .pattern = "/search",
	  .area = CTX_AREA_PAGE,
	  .get = page_search_get,
	  .query = route_q_search },
	{ .pattern = "/search/task",
	  .area = CTX_AREA_PAGE,
	  .post = page_search_task,
	  .bad_form = page_search_bad_form,
	  .form = route_f_search_task },
	{ .pattern = "/api/search",
	  .area = CTX_AREA_API,
	  .get = api_search_get,
	  .query = route_q_search },
};

#define ROUTES_COUNT (sizeof(routes) / sizeof(routes[0]))

/* The 404 of each area, naming where to go instead. */
static const char *const route_not_found[CTX_AREA__MAX] = {
	[CTX_AREA_PAGE] = "There is no page at this address. Start from the "
			  "task list.",
	[CTX_AREA_API] = "There is no such API address. The API's addresses "
			 "are /api/tasks, /api/tasks/ID and its /cancel and "
			 "/retry, and /api/search?q=DIGITS.",
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

/* Returns 1 if name is in the NULL-terminated list (NULL: empty), or the
 * list ends in "*". */
static int
route_listed(const char *const *list, const char *name)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, name) == 0 || strcmp(*list, "*") == 0)
			return 1;
	return 0;
}

/* Writes list as "a, b or c" (or "no parameters") into out. */
static void
route_list_text(const char *const *list, char *out, size_t outlen)
{
	size_t used = 0;
	int n;

	out[0] = '\0';
	if (list == NULL || list[0] == NULL) {
		snprintf(out, outlen, "no parameters");
		return;
	}
	for (; *list != NULL; list++) {
		n = snprintf(out + used, outlen - used, "%s%s",
			     used == 0 ? "" : (list[1] == NULL ? " or " : ", "),
			     *list);
		if (n < 0 || (size_t)n >= outlen - used)
			return; /* cut: the lists here are short */
		used += (size_t)n;
	}
}

/*
 * Copies a parameter's name for a message: printable ASCII as it is, any
 * other byte as '?', at most 40 bytes. It was sent by the client, and a
 * message goes out in plain text too.
 */
static void
route_name_text(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < outlen && i < 40; i++)
		out[i] = in[i] > 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
}

/*
 * Refuses a query parameter or form field the route does not take, with a
 * sentence naming it and what the route takes; a form's through its
 * bad_form, as for a form that cannot be parsed. Returns 0, or answers
 * and returns -1.
 */
static int
route_check_params(struct ctx *ctx, const struct route *route)
{
	const struct request *r = ctx->req;
	const char *where =
	    ctx->area == CTX_AREA_PAGE ? "this page" : route->pattern;
	char name[48], takes[96], msg[320];
	int i;

	for (i = 0; i < r->query.count; i++) {
		if (r->method != HTTP_POST && r->method != HTTP_DELETE &&
		    route_listed(route->query, r->query.p[i].name))
			continue;
		route_name_text(r->query.p[i].name, name, sizeof(name));
		if (r->method == HTTP_POST || r->method == HTTP_DELETE)
			snprintf(msg, sizeof(msg),
				 "The parameter \"%s\" does not apply: a %s "
				 "request takes nothing in its address%s.",
				 name, r->method_name,
				 route->form != NULL ? "; the form sends its "
						       "fields in the body"
						     : "");
		else {
			route_list_text(route->query, takes, sizeof(takes));
			snprintf(msg, sizeof(msg),
				 "The parameter \"%s\" does not apply to %s, "
				 "which takes %s.",
				 name, where, takes);
		}
		ctx_fail(ctx, 400, msg);
		return -1;
	}
	if (r->method != HTTP_POST || route->form == NULL)
		return 0;
	for (i = 0; i < r->form.count; i++) {
		if (route_listed(route->form, r->form.p[i].name))
			continue;
		route_name_text(r->form.p[i].name, name, sizeof(name));
		route_list_text(route->form, takes, sizeof(takes));
		snprintf(msg, sizeof(msg),
			 "The form field \"%s\" does not apply here: this "
			 "form sends %s. Use the form on the nthpi page.",
			 name, takes);
		if (route->bad_form != NULL)
			route->bad_form(ctx, msg);
		else
			ctx_fail(ctx, 400, msg);
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
	/* A preflight repeats the address of the request it asks about:
	 * that request is checked when it comes. */
	if (r->method != HTTP_OPTIONS && route_check_params(ctx, route) == -1)
		return;
	h(ctx);
}
