/* csrf.c: refusing state changes that another site asked for. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "csrf.h"
#include "log.h"

int
csrf_new_token(char *out)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char raw[CSRF_TOKEN_LEN / 2];
	size_t got = 0;
	int i;

	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);

		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_err("csrf: getrandom: %s", strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	for (i = 0; i < (int)sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[CSRF_TOKEN_LEN] = '\0';
	return 0;
}

/* Returns 1 if origin is "http://HOST" or "https://HOST" for host. */
static int
csrf_origin_matches(const char *origin, const char *host)
{
	const char *rest;

	if (strncasecmp(origin, "https://", 8) == 0)
		rest = origin + 8;
	else if (strncasecmp(origin, "http://", 7) == 0)
		rest = origin + 7;
	else
		return 0;
	return strcasecmp(rest, host) == 0;
}

int
csrf_check_origin(const struct request *r, char *err, size_t errlen)
{
	if (r->fetch_site != NULL &&
	    strcmp(r->fetch_site, "same-origin") != 0 &&
	    strcmp(r->fetch_site, "none") != 0) {
		snprintf(err, errlen,
			 "This request came from another site "
			 "(Sec-Fetch-Site: %.20s), so it was refused. Use the "
			 "nthpi page itself to change tasks.",
			 r->fetch_site);
		return -1;
	}
	if (r->origin != NULL &&
	    (r->host == NULL || !csrf_origin_matches(r->origin, r->host))) {
		snprintf(err, errlen,
			 "This request came from another origin (%.80s), so "
			 "it was refused. Use the nthpi page itself to "
			 "change tasks.",
			 r->origin);
		return -1;
	}
	return 0;
}

int
csrf_check_token(const struct request *r, const char *field, char *err,
		 size_t errlen)
{
	unsigned char diff = 0;
	size_t i;

	if (r->csrf_cookie[0] == '\0') {
		snprintf(err, errlen,
			 "Your browser did not send the nthpi_csrf cookie "
			 "that protects this form; cookies may be blocked or "
			 "the page is old. Allow cookies for this site, "
			 "reload the page and try again.");
		return -1;
	}
	if (field == NULL || strlen(field) != CSRF_TOKEN_LEN) {
		snprintf(err, errlen,
			 "The form came without its security token. Reload "
			 "the page and try again.");
		return -1;
	}
	/* Constant time, so the comparison leaks nothing of the cookie. */
	for (i = 0; i < CSRF_TOKEN_LEN; i++)
		diff |= (unsigned char)(field[i] ^ r->csrf_cookie[i]);
	if (diff != 0) {
		snprintf(err, errlen,
			 "The form's security token does not match your "
			 "cookie; the page may be from an older session. "
			 "Reload the page and try again.");
		return -1;
	}
	return 0;
}
