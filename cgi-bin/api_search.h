/* api_search.h: GET /api/search, a string of digits in pi: where, how
 * often, and around it. */
#ifndef NTHPI_API_SEARCH_H
#define NTHPI_API_SEARCH_H

#include "ctx.h"
#include "search.h"

/*
 * Searches the store for q (parsed by search_parse) from decimal from, for
 * the API and the page alike. Returns 0 with the answer in *a; or answers
 * 503 with a sentence and Retry-After (the index is being built, or the
 * store or index was found damaged) and returns -1.
 */
int api_search_run(struct ctx *ctx, const char *q, long long from,
		   struct search_answer *a);

/*
 * GET /api/search?q=DIGITS[&from=D]: {"q", "position", "count",
 * "searched", "before", "after", "previous", "next"}; position, previous
 * and next are decimals or null, before and after the up to 40 decimals
 * on each side of the string at position (null without one). 400 with a
 * sentence for a bad q or from.
 */
void api_search_get(struct ctx *ctx);

#endif
