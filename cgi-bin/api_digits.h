/* api_digits.h: GET /v1/pi, the digits of pi as the Pi Delivery API gives
 * them, from the digit store. */
#ifndef NTHPI_API_DIGITS_H
#define NTHPI_API_DIGITS_H

#include "ctx.h"

/* Default and largest numberOfDigits, as api.pi.delivery has them. */
#define API_DIGITS_DEFAULT 100
#define API_DIGITS_MAX 1000

/*
 * Parses a query value as api.pi.delivery does (Go's strconv.ParseInt): an
 * optional sign and decimal digits. A number beyond 64 bits becomes
 * INT64_MAX or INT64_MIN, as ParseInt's value with ErrRange, so that the
 * bounds then say "out of range" or "negative" of it. Returns 0 and sets
 * *out, or -1 if s is not such a number.
 */
int api_digits_int(const char *s, long long *out);

/*
 * GET /v1/pi?start=S&numberOfDigits=K: {"content": "..."}, the K digits
 * from position S, where position 0 is the "3" and position n decimal n;
 * fewer where the store ends. Bad parameters get 400 with the sentence
 * api.pi.delivery sends, as text/plain ("start is negative", "start out
 * of range", "numberOfDigits is negative", "numberOfDigits is too big").
 * Every answer allows any origin (CORS).
 */
void api_digits_get(struct ctx *ctx);

/* OPTIONS /v1/pi: a CORS preflight answer allowing GET from any origin. */
void api_digits_options(struct ctx *ctx);

#endif
