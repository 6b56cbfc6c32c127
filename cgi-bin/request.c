/* request.c: one HTTP request as nginx hands it over FastCGI, checked. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "request.h"

const char *const http_method_names[HTTP_METHOD__MAX] = {
	[HTTP_GET] = "GET",         [HTTP_HEAD] = "HEAD",
	[HTTP_POST] = "POST",       [HTTP_DELETE] = "DELETE",
	[HTTP_OPTIONS] = "OPTIONS", [HTTP_OTHER] = "OTHER",
};

/* Returns 1 if s is CSRF_TOKEN_LEN lowercase hex digits. */
static int
request_token_ok(const char *s, long len)
{
	long i;

	if (len != CSRF_TOKEN_LEN)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		      (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

long
request_cookie(const char *header, const char *name, char *out, size_t outlen)
{
	size_t nlen = strlen(name);
	const char *p = header;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, ';'), *val;
		size_t plen, vlen;

		while (*p == ' ' || *p == '\t')
			p++;
		plen = end ? (size_t)(end - p) : strlen(p);
		if (plen > nlen && strncmp(p, name, nlen) == 0 &&
		    p[nlen] == '=') {
			val = p + nlen + 1;
			vlen = plen - nlen - 1;
			while (vlen > 0 &&
			       (val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
				vlen--;
			if (vlen + 1 > outlen)
				return -1;
			memcpy(out, val, vlen);
			out[vlen] = '\0';
			return (long)vlen;
		}
		p = end ? end + 1 : NULL;
	}
	return -1;
}

/* Splits the raw request target into path and query and checks both. */
static int
request_parse_target(struct request *r, const char *uri, const char *query,
		     char *err, size_t errlen)
{
	const char *q;
	size_t plen, qlen;

	q = strchr(uri, '?');
	plen = q ? (size_t)(q - uri) : strlen(uri);
	/* nginx passes QUERY_STRING; fall back on the request target. */
	if (query == NULL)
		query = q ? q + 1 : "";
	qlen = strlen(query);
	if (plen > REQUEST_PATH_MAX) {
		/* Kept raw, only so the error can tell the API's from a
		 * page's. */
		memcpy(r->path, uri, REQUEST_PATH_MAX);
		r->path[REQUEST_PATH_MAX] = '\0';
		snprintf(err, errlen,
			 "The address is too long: its path may have at most "
			 "%d bytes.",
			 REQUEST_PATH_MAX);
		return 414;
	}
	if (plen == 0 || uri[0] != '/') {
		snprintf(err, errlen, "The address must start with '/'.");
		return 400;
	}
	if (percent_decode_path(uri, plen, r->path, sizeof(r->path)) < 0) {
		/* The decoder stopped midway and left no NUL: keep the raw
		 * path instead, as for 414, for the log and route_area. */
		memcpy(r->path, uri, plen);
		r->path[plen] = '\0';
		snprintf(err, errlen,
			 "The address has a bad percent-escape (a %% must be "
			 "followed by two hex digits, and %%00 is not "
			 "allowed).");
		return 400;
	}
	if (qlen > REQUEST_QUERY_MAX) {
		snprintf(err, errlen,
			 "The address is too long: its query string may have "
			 "at most %d bytes.",
			 REQUEST_QUERY_MAX);
		return 414;
	}
	if (params_parse(&r->query, query, qlen, err, errlen) == -1)
		return 400;
	return 0;
}

int
request_parse(struct request *r, request_getter get, void *arg, char *err,
	      size_t errlen)
{
	const char *m, *uri, *len, *cookie, *https;
	char token[CSRF_TOKEN_LEN + 1];
	int rc;

	r->method = HTTP_OTHER;
	r->path[0] = '\0';
	r->query.count = 0;
	r->form.count = 0;
	r->body[0] = '\0';
	r->body_len = 0;
	r->content_length = 0;
	r->csrf_cookie[0] = '\0';
	r->csrf_lax_cookie[0] = '\0';
	m = get(arg, "REQUEST_METHOD");
	r->method_name = m ? m : "?";
	for (int i = 0; m != NULL && i < HTTP_OTHER; i++)
		if (strcmp(m, http_method_names[i]) == 0)
			r->method = (enum http_method)i;
	r->content_type = get(arg, "CONTENT_TYPE");
	if (r->content_type != NULL && r->content_type[0] == '\0')
		r->content_type = NULL;
	r->origin = get(arg, "HTTP_ORIGIN");
	r->fetch_site = get(arg, "HTTP_SEC_FETCH_SITE");
	r->host = get(arg, "HTTP_HOST");
	r->server_port = get(arg, "SERVER_PORT");
	r->range = get(arg, "HTTP_RANGE");
	r->if_range = get(arg, "HTTP_IF_RANGE");
	r->if_none_match = get(arg, "HTTP_IF_NONE_MATCH");
	r->accept = get(arg, "HTTP_ACCEPT");
	r->idempotency_key = get(arg, "HTTP_IDEMPOTENCY_KEY");
	https = get(arg, "HTTPS");
	r->https = https != NULL && strcasecmp(https, "on") == 0;
	r->scheme = get(arg, "REQUEST_SCHEME");
	if ((cookie = get(arg, "HTTP_COOKIE")) != NULL) {
		long n =
		    request_cookie(cookie, "nthpi_csrf", token, sizeof(token));

		if (n > 0 && request_token_ok(token, n))
			memcpy(r->csrf_cookie, token, sizeof(token));
		n = request_cookie(cookie, "nthpi_csrf_lax", token,
				   sizeof(token));
		if (n > 0 && request_token_ok(token, n))
			memcpy(r->csrf_lax_cookie, token, sizeof(token));
	}
	if ((uri = get(arg, "REQUEST_URI")) == NULL &&
	    (uri = get(arg, "DOCUMENT_URI")) == NULL) {
		snprintf(err, errlen, "The request has no address.");
		return 400;
	}
	if ((rc = request_parse_target(r, uri, get(arg, "QUERY_STRING"), err,
				       errlen)) != 0)
		return rc;
	r->content_length = 0;
	if ((len = get(arg, "CONTENT_LENGTH")) != NULL && len[0] != '\0') {
		/* The body limit decides before any byte is read. */
		if (parse_whole(len, strlen(len), 0, 999999999999LL,
				&r->content_length) == -1) {
			snprintf(err, errlen,
				 "The Content-Length header is not a whole "
				 "number.");
			return 400;
		}
		if (r->content_length > REQUEST_BODY_MAX) {
			snprintf(err, errlen,
				 "The request body is too large: at most %d "
				 "bytes are accepted.",
				 REQUEST_BODY_MAX);
			return 413;
		}
	}
	return 0;
}

int
request_read_body(struct request *r, request_reader read, void *arg, char *err,
		  size_t errlen)
{
	size_t want = (size_t)r->content_length;

	r->body_len = 0;
	while (r->body_len < want) {
		long n = read(arg, r->body + r->body_len, want - r->body_len);

		if (n <= 0) {
			snprintf(err, errlen,
				 "The request body ended after %zu of %zu "
				 "bytes; send it again.",
				 r->body_len, want);
			r->body[r->body_len] = '\0';
			return 400;
		}
		r->body_len += (size_t)n;
	}
	r->body[r->body_len] = '\0';
	return 0;
}

int
request_content_type_is(const struct request *r, const char *mime)
{
	size_t n = strlen(mime);
	const char *rest;

	if (r->content_type == NULL ||
	    strncasecmp(r->content_type, mime, n) != 0)
		return 0;
	rest = r->content_type + n;
	while (*rest == ' ' || *rest == '\t')
		rest++;
	return *rest == '\0' || *rest == ';';
}

int
request_key_valid(const char *key)
{
	size_t len =
	    strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstu"
			"vwxyz0123456789-_");

	return key[len] == '\0' && len >= REQUEST_KEY_MIN &&
	       len <= REQUEST_KEY_MAX;
}
