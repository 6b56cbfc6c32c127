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

/*
 * Splits "host[:port]" or "[v6]:port" at s[0..len) into its host part and
 * port text (NULL if none). Returns 0, or -1 if it is malformed.
 */
static int
csrf_split_host(const char *s, size_t len, const char **host, size_t *hostlen,
		const char **port, size_t *portlen)
{
	const char *colon = NULL;
	size_t i;

	if (len == 0)
		return -1;
	if (s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (end == NULL)
			return -1;
		if ((size_t)(end - s) + 1 < len) {
			if (end[1] != ':')
				return -1;
			colon = end + 1;
		}
	} else
		for (i = 0; i < len; i++)
			if (s[i] == ':')
				colon = s + i;
	*host = s;
	*hostlen = colon ? (size_t)(colon - s) : len;
	*port = colon ? colon + 1 : NULL;
	*portlen = colon ? len - *hostlen - 1 : 0;
	return *hostlen > 0 ? 0 : -1;
}

/*
 * Returns 1 if origin ("scheme://host[:port]") names the scheme, host and
 * port this request came to. The port of a Host without one (Debian's
 * fastcgi_params passes $host, which drops it) is SERVER_PORT, and the
 * port of an Origin without one is its scheme's.
 */
static int
csrf_origin_matches(const struct request *r, const char *origin)
{
	const char *rest, *oh, *op, *hh, *hp, *def, *scheme;
	size_t ohl, opl, hhl, hpl;

	/* A page served over http is another origin than the same host over
	 * https: it may be a network attacker's, injected into plain text. */
	scheme = r->scheme != NULL && r->scheme[0] != '\0'
		     ? r->scheme
		     : (r->https ? "https" : "http");
	if (strcasecmp(scheme, "https") == 0 &&
	    strncasecmp(origin, "https://", 8) == 0) {
		rest = origin + 8;
		def = "443";
	} else if (strcasecmp(scheme, "http") == 0 &&
		   strncasecmp(origin, "http://", 7) == 0) {
		rest = origin + 7;
		def = "80";
	} else
		return 0;
	if (csrf_split_host(rest, strlen(rest), &oh, &ohl, &op, &opl) == -1 ||
	    csrf_split_host(r->host, strlen(r->host), &hh, &hhl, &hp, &hpl) ==
		-1)
		return 0;
	if (ohl != hhl || strncasecmp(oh, hh, ohl) != 0)
		return 0;
	if (op == NULL) {
		op = def;
		opl = strlen(def);
	}
	if (hp != NULL)
		return opl == hpl && memcmp(op, hp, opl) == 0;
	/* Host came without a port: the one nginx listened on, or the
	 * scheme's default. */
	if (r->server_port != NULL && opl == strlen(r->server_port) &&
	    memcmp(op, r->server_port, opl) == 0)
		return 1;
	return opl == strlen(def) && memcmp(op, def, opl) == 0;
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
	    (r->host == NULL || !csrf_origin_matches(r, r->origin))) {
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
