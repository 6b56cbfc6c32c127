/* nparse.h: parsing and validating n, the decimal place a task asks for. */
#ifndef NTHPI_NPARSE_H
#define NTHPI_NPARSE_H

#include <stddef.h>

enum nparse_err {
	NPARSE_OK,
	NPARSE_EMPTY,      /* nothing given */
	NPARSE_NOT_DIGITS, /* a sign, space, point, exponent or other byte */
	NPARSE_ZERO,       /* 0 (or only zeros) */
	NPARSE_TOO_BIG,    /* above n_max */
	NPARSE__MAX
};

/*
 * Parses s[0..len) as n: plain ASCII decimal digits only, 1 <= n <= n_max.
 * The bytes need not be NUL-terminated and may contain NULs (rejected).
 * On NPARSE_OK stores n in *out; otherwise leaves *out alone.
 */
enum nparse_err nparse(const char *s, size_t len, long long n_max,
		       long long *out);

/*
 * Writes a sentence for err that says what is wrong and what to do,
 * mentioning n_max where it matters, into out (always NUL-terminated).
 */
void nparse_message(enum nparse_err err, long long n_max, char *out,
		    size_t outlen);

#endif
