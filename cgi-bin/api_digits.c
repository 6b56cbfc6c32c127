/* api_digits.c: GET /v1/pi, the digits of pi as the Pi Delivery API gives
 * them, from the digit store. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_digits.h"
#include "json.h"
#include "log.h"
#include "store.h"

int
api_digits_int(const char *s, long long *out)
{
	unsigned long long v = 0, limit = (unsigned long long)INT64_MAX;
	const char *p;
	int neg = 0;

	if (*s == '+' || *s == '-') {
		neg = *s == '-';
		limit += neg; /* -2^63 fits, 2^63 does not */
		s++;
	}
	if (*s == '\0')
		return -1;
	for (p = s; *p != '\0'; p++)
		if (*p < '0' || *p > '9')
			return -1;
	for (; *s != '\0'; s++) {
		if (v > (limit - (unsigned long long)(*s - '0')) / 10) {
			/* As strconv.ParseInt gives with ErrRange. */
			*out = neg ? INT64_MIN : INT64_MAX;
			return 0;
		}
		v = v * 10 + (unsigned long long)(*s - '0');
	}
	if (neg)
		*out = v == (unsigned long long)INT64_MAX + 1 ? INT64_MIN
							      : -(long long)v;
	else
		*out = (long long)v;
	return 0;
}

/*
 * Every answer of /v1/pi may be read by a page of any site: it is public.
 * (Its refusals say so through ctx_fail, as the area's errors do.)
 */
static void
api_digits_cors(struct ctx *ctx)
{
	response_header(ctx->resp, "Access-Control-Allow-Origin", "*");
}

/*
 * Reads parameter name as api_digits_int does; an absent or empty one is
 * def, as api.pi.delivery takes it. Returns 0, or refuses and returns -1.
 */
static int
api_digits_param(struct ctx *ctx, const char *name, long long def,
		 const char *invalid, long long *out)
{
	const char *v = params_get(&ctx->req->query, name);

	*out = def;
	if (v == NULL || v[0] == '\0')
		return 0;
	if (api_digits_int(v, out) == -1) {
		ctx_fail(ctx, 400, invalid);
		return -1;
	}
	return 0;
}

/* Refuses a position the store held but does not give now: damaged or cut
 * short, it is being rebuilt (the worker starts that by itself). */
static void
api_digits_rebuilding(struct ctx *ctx, long long start)
{
	char msg[256];

	snprintf(msg, sizeof(msg),
		 "The digits from position %lld on are being recomputed: the "
		 "digit store was found damaged or cut short. Try again in a "
		 "little while.",
		 start);
	ctx_fail(ctx, 503, msg);
}

void
api_digits_get(struct ctx *ctx)
{
	const char *store = ctx->app->cfg->store_path;
	long long radix, start, count, last, got, size = 0;
	char digits[API_DIGITS_MAX];
	struct store_view v;
	struct buf *b;

	/* The checks in api.pi.delivery's order, so that a request with
	 * several faults hears of the same one. */
	if (api_digits_param(ctx, "radix", 10,
			     "invalid request: radix must be 10", &radix) == -1)
		return;
	if (radix != 10) {
		ctx_fail(ctx, 400,
			 "radix must be 10: this service holds the decimal "
			 "digits of pi only");
		return;
	}
	if (api_digits_param(ctx, "start", 0,
			     "invalid request: start must be a whole number",
			     &start) == -1)
		return;
	if (start < 0) {
		ctx_fail(ctx, 400, "start is negative");
		return;
	}
	if (store_view(store, &v) == -1) {
		ctx_fail(ctx, 503,
			 "The digit store cannot be read right now. Try again "
			 "in a moment.");
		return;
	}
	/* Position 0 is the "3" and position n decimal n, so the last
	 * position is the number of decimals the store gives: its intact
	 * prefix. Past it but within what the store held, the digits are
	 * being recomputed, which a client should wait for. */
	last = v.intact > 1 ? v.intact - 1 : 0;
	if (start > last && start < v.held) {
		api_digits_rebuilding(ctx, start);
		return;
	}
	if (start > last) {
		ctx_fail(ctx, 400, "start out of range");
		return;
	}
	if (api_digits_param(ctx, "numberOfDigits", API_DIGITS_DEFAULT,
			     "invalid request: numberOfDigits must be a whole "
			     "number",
			     &count) == -1)
		return;
	if (count < 0) {
		ctx_fail(ctx, 400, "numberOfDigits is negative");
		return;
	}
	if (count > API_DIGITS_MAX) {
		ctx_fail(ctx, 400, "numberOfDigits is too big");
		return;
	}
	got = store_read_at(store, start, (size_t)count, digits, &size);
	if (got == -1) {
		ctx_fail(ctx, 503,
			 "The digit store cannot be read right now. Try again "
			 "in a moment.");
		return;
	}
	if (got == 0 && start == 0 && count > 0) {
		/* No store yet, or none that may be served: pi still starts
		 * with 3. */
		digits[0] = '3';
		got = 1;
	}
	if (got == 0 && start > 0 && count > 0) {
		/* Its block was found damaged by this very read. */
		api_digits_rebuilding(ctx, start);
		return;
	}
	api_digits_cors(ctx);
	b = &ctx->resp->body;
	ctx->resp->content_type = "application/json";
	buf_reset(b);
	json_raw_unescaped(b, "{\"content\":");
	json_string_len(b, digits, (size_t)got);
	json_raw_unescaped(b, "}\n");
}

void
api_digits_options(struct ctx *ctx)
{
	struct response *r = ctx->resp;

	api_digits_cors(ctx);
	response_header(r, "Access-Control-Allow-Methods",
			"GET, HEAD, OPTIONS");
	/* Any header a simple GET may carry; no credentials are involved,
	 * which is what makes "*" valid here. */
	response_header(r, "Access-Control-Allow-Headers", "*");
	response_header(r, "Access-Control-Max-Age", "86400");
	r->status = 204;
	r->content_type = "text/plain; charset=utf-8";
	buf_reset(&r->body);
}
