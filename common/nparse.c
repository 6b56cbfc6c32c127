/* nparse.c: parsing and validating n, the decimal place a task asks for. */
#include <stdio.h>

#include "nparse.h"

enum nparse_err
nparse(const char *s, size_t len, long long n_max, long long *out)
{
	unsigned long long v = 0;
	size_t i;
	int too_big = 0;

	if (s == NULL || len == 0)
		return NPARSE_EMPTY;
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return NPARSE_NOT_DIGITS;
	for (i = 0; i < len; i++) {
		/* Keep scanning once past the limit: "99999…" of any
		 * length is too big, not an overflow. */
		if (too_big)
			continue;
		/* Checked before multiplying: with n_max near LLONG_MAX,
		 * v * 10 would wrap and let a huge n through as a small one. */
		if (v > (unsigned long long)n_max / 10) {
			too_big = 1;
			continue;
		}
		v = v * 10 + (unsigned long long)(s[i] - '0');
		if (v > (unsigned long long)n_max)
			too_big = 1;
	}
	if (too_big)
		return NPARSE_TOO_BIG;
	if (v == 0)
		return NPARSE_ZERO;
	*out = (long long)v;
	return NPARSE_OK;
}

void
nparse_message(enum nparse_err err, long long n_max, char *out, size_t outlen)
{
	switch (err) {
	case NPARSE_OK:
		snprintf(out, outlen, "n is valid.");
		break;
	case NPARSE_EMPTY:
		snprintf(out, outlen,
			 "Please enter n, a whole number from 1 to %lld.",
			 n_max);
		break;
	case NPARSE_NOT_DIGITS:
		snprintf(out, outlen,
			 "n must be a whole number written with the digits 0-9 "
			 "only (no sign, spaces, decimal point or exponent), "
			 "from 1 to %lld.",
			 n_max);
		break;
	case NPARSE_ZERO:
		snprintf(out, outlen,
			 "n counts decimal places and starts at 1 (the 1 in "
			 "3.14…); enter a number from 1 to %lld.",
			 n_max);
		break;
	case NPARSE_TOO_BIG:
		snprintf(
		    out, outlen,
		    "n is too large: this server computes up to %lld decimal "
		    "places. Enter a number from 1 to %lld.",
		    n_max, n_max);
		break;
	default:
		snprintf(out, outlen, "n is not valid.");
		break;
	}
}
