/* csrf.h: refusing state changes that another site asked for. */
#ifndef NTHPI_CSRF_H
#define NTHPI_CSRF_H

#include <stddef.h>

#include "request.h"

/*
 * Writes a new token of CSRF_TOKEN_LEN lowercase hex digits and a NUL into
 * out (CSRF_TOKEN_LEN + 1 bytes), from getrandom(2). Returns 0 or -1.
 */
int csrf_new_token(char *out);

/*
 * Checks where a state-changing request came from, as docs/design.md says:
 * Sec-Fetch-Site, if sent, must be same-origin or none; Origin, if sent,
 * must be this scheme (REQUEST_SCHEME, else HTTPS) and Host. Returns 0,
 * or -1 with a sentence in err.
 */
int csrf_check_origin(const struct request *r, char *err, size_t errlen);

/*
 * Checks the double-submitted token of a form post: the csrf field must
 * equal the nthpi_csrf cookie. Compares in constant time. Returns 0, or
 * -1 with a sentence in err.
 */
int csrf_check_token(const struct request *r, const char *field, char *err,
		     size_t errlen);

#endif
