/* page_search.h: the search for a string of digits in pi, as pages: the
 * form, GET /search and POST /search/task. */
#ifndef NTHPI_PAGE_SEARCH_H
#define NTHPI_PAGE_SEARCH_H

#include "ctx.h"

/*
 * Appends the search form (form#search, GET /search, field #q) with typed
 * in its field and error beside it (#q-error) if the last try failed,
 * then div#search-result, empty: the main page's, which the page script
 * fills in place.
 */
void page_search_form(struct buf *b, const char *typed, const char *error);

/*
 * GET /search?q=DIGITS[&from=D]: the form, and where q first starts at or
 * after decimal D (1 if not given), how often it occurs, the decimals
 * around it, links to the occurrences before and after, and a button to
 * see it on a task page. No q: the form alone. A bad q: 400, the form
 * keeping what was typed, the sentence in #q-error.
 */
void page_search_get(struct ctx *ctx);

/*
 * POST /search/task (csrf, q, decimal): answers 303 to the page of a task
 * that shows decimals decimal..decimal+len(q)-1: the queued, running or
 * done task with the smallest n that reaches them, or a new one for that
 * n (the store covers it, so it is done at once). 400 if the place is not
 * one the store covers.
 */
void page_search_task(struct ctx *ctx);

/* POST /search/task with a form that cannot be parsed or has a field it
 * does not take: 400 with the message. */
void page_search_bad_form(struct ctx *ctx, const char *message);

#endif
