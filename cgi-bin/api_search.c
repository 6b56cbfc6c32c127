/* api_search.c: GET /api/search, a string of digits in pi: where, how
 * often, and around it. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "api_search.h"
#include "json.h"
#include "log.h"
#include "store.h"

/* How long a client waits for an index being built: a few seconds at
 * 10^8 decimals. */
#define API_SEARCH_RETRY_S 5

int
api_search_run(struct ctx *ctx, const char *q, long long from,
	       struct search_answer *a)
{
	const char *store = ctx->app->cfg->store_path;
	enum search_rc rc = search_find(store, q, from, a);

	if (rc == SEARCH_OK)
		return 0;
	/* No digits yet: nothing to search, which is an answer. */
	if (rc == SEARCH_NOT_READY && store_decimals(store) == 0) {
		memset(a, 0, sizeof(*a));
		return 0;
	}
	ctx->resp->retry_after = API_SEARCH_RETRY_S;
	if (rc == SEARCH_NOT_READY)
		ctx_fail(ctx, 503,
			 "The search index for the digits computed last is "
			 "being built. Try again in a few seconds.");
	else
		ctx_fail(ctx, 503,
			 "The search index or the digit store does not match "
			 "its check just now, so nothing can be searched. The "
			 "worker rebuilds them; try again in a few minutes.");
	return -1;
}

/* Appends "name": v, or null if v is 0. */
static void
api_search_place(struct buf *b, const char *name, long long v)
{
	json_raw_unescaped(b, name);
	if (v > 0)
		json_int(b, v);
	else
		json_raw_unescaped(b, "null");
}

void
api_search_get(struct ctx *ctx)
{
	const struct params *p = &ctx->req->query;
	char q[SEARCH_LEN_MAX + 1], err[256];
	struct search_answer a;
	long long from = 1;
	struct buf *b;

	if (search_parse(params_get(p, "q"), q, err, sizeof(err)) == -1) {
		ctx_fail(ctx, 400, err);
		return;
	}
	if (params_get_int(p, "from", 1, INT64_MAX, &from) == -1) {
		ctx_fail(ctx, 400,
			 "\"from\" must be a decimal place to search from, a "
			 "whole number from 1 on, such as from=763.");
		return;
	}
	if (api_search_run(ctx, q, from, &a) == -1)
		return;
	b = &ctx->resp->body;
	ctx->resp->content_type = "application/json";
	buf_reset(b);
	json_raw_unescaped(b, "{\"q\":");
	json_string(b, q);
	api_search_place(b, ",\"position\":", a.position);
	json_raw_unescaped(b, ",\"count\":");
	json_int(b, a.count);
	json_raw_unescaped(b, ",\"searched\":");
	json_int(b, a.searched);
	json_raw_unescaped(b, ",\"before\":");
	json_string(b, a.position > 0 ? a.before : NULL);
	json_raw_unescaped(b, ",\"after\":");
	json_string(b, a.position > 0 ? a.after : NULL);
	api_search_place(b, ",\"previous\":", a.previous);
	api_search_place(b, ",\"next\":", a.next);
	json_raw_unescaped(b, "}\n");
}
