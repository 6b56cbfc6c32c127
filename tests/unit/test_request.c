/* test_request.c: the request parsers (query string, form body, JSON body,
 * headers), the CSRF checks and the routing table. */
#include <stdio.h>
#include <string.h>

#include "csrf.h"
#include "jsonread.h"
#include "params.h"
#include "request.h"
#include "route.h"
#include "t.h"

/* ---- params: query strings and form bodies ---------------------------- */

/* Parses s; returns params_parse's result. */
static int
parse(struct params *p, const char *s, char *err, size_t errlen)
{
	return params_parse(p, s, strlen(s), err, errlen);
}

static void
test_params_basic(void)
{
	struct params p;
	char err[256];

	T_CHECK(parse(&p, "n=12&csrf=ab%2Fc+d", err, sizeof(err)) == 0 &&
		    p.count == 2 && strcmp(params_get(&p, "n"), "12") == 0 &&
		    strcmp(params_get(&p, "csrf"), "ab/c d") == 0,
		"params decode %%XX and + in values");
	T_CHECK(parse(&p, "", err, sizeof(err)) == 0 && p.count == 0,
		"an empty query has no parameters");
	T_CHECK(
	    parse(&p, "a&b=&&c=1", err, sizeof(err)) == 0 && p.count == 3 &&
		strcmp(params_get(&p, "a"), "") == 0 &&
		strcmp(params_get(&p, "b"), "") == 0,
	    "a name without = has an empty value; empty pieces are skipped");
	T_CHECK(params_get(&p, "zz") == NULL,
		"params_get of an absent name is NULL");
	T_CHECK(parse(&p, "%6e=5", err, sizeof(err)) == 0 &&
		    strcmp(params_get(&p, "n"), "5") == 0,
		"names are decoded too");
}

static void
test_params_refused(void)
{
	static const struct {
		const char *in, *what;
	} bad[] = {
		{ "n=%4", "a cut-short escape" },
		{ "n=%", "a lone %" },
		{ "n=%zz", "non-hex escape digits" },
		{ "n=5%00", "an escaped NUL" },
		{ "n=1&n=2", "a duplicate parameter" },
		{ "n=1&%6e=2", "a duplicate spelled differently" },
		{ "=5", "a parameter without a name" },
	};
	struct params p;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		T_CHECK(parse(&p, bad[i].in, err, sizeof(err)) == -1 &&
			    strlen(err) > 10,
			"params refuse %s, saying why", bad[i].what);
	}
	T_CHECK(params_parse(&p, "n=1\0", 4, err, sizeof(err)) == -1,
		"params refuse a raw NUL byte");
}

static void
test_params_limits(void)
{
	char s[PARAMS_TEXT_MAX + 16], err[256];
	struct params p;
	int i, len = 0;

	for (i = 0; i < PARAMS_MAX; i++)
		len += snprintf(s + len, sizeof(s) - (size_t)len, "%sp%d=%d",
				i ? "&" : "", i, i);
	T_CHECK(parse(&p, s, err, sizeof(err)) == 0 && p.count == PARAMS_MAX,
		"16 parameters are accepted");
	snprintf(s + len, sizeof(s) - (size_t)len, "&p16=16");
	T_CHECK(parse(&p, s, err, sizeof(err)) == -1 &&
		    strstr(err, "16") != NULL,
		"a 17th parameter is refused");
	memset(s, 'a', sizeof(s));
	s[0] = 'n';
	s[1] = '=';
	T_CHECK(params_parse(&p, s, PARAMS_TEXT_MAX, err, sizeof(err)) == 0 &&
		    strlen(params_get(&p, "n")) == PARAMS_TEXT_MAX - 2,
		"a 4096-byte form is accepted");
	T_CHECK(params_parse(&p, s, PARAMS_TEXT_MAX + 1, err, sizeof(err)) ==
		    -1,
		"a 4097-byte form is refused");
}

static void
test_params_int(void)
{
	struct params p;
	char err[64];
	long long v = -1;

	parse(&p, "limit=50&before=0&x=12a&big=99999999999999999999&e=", err,
	      sizeof(err));
	T_CHECK(params_get_int(&p, "limit", 1, 1000, &v) == 0 && v == 50,
		"params_get_int reads a number in range");
	T_CHECK(params_get_int(&p, "before", 1, 1000, &v) == -1,
		"params_get_int refuses a number below the range");
	T_CHECK(params_get_int(&p, "x", 0, 1000, &v) == -1 &&
		    params_get_int(&p, "e", 0, 1000, &v) == -1 &&
		    params_get_int(&p, "big", 0, 1LL << 62, &v) == -1,
		"params_get_int refuses junk, empty and overlong numbers");
	T_CHECK(params_get_int(&p, "none", 0, 10, &v) == 1,
		"params_get_int says when a parameter is absent");
}

/* ---- request_parse: the FastCGI parameters ----------------------------- */

/* A fake FastCGI environment: NULL-terminated name, value pairs. */
static const char *
env_get(void *arg, const char *name)
{
	const char **kv = arg;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static struct request req;

/* Parses a request from name/value pairs; returns its status. */
static int
parse_env(const char **env, char *err, size_t errlen)
{
	err[0] = '\0';
	return request_parse(&req, env_get, env, err, errlen);
}

static void
test_params_trim(void)
{
	static const struct {
		const char *what, *in, *out;
	} cases[] = {
		{ "a bare number", "42", "42" },
		{ "spaces around", " 42 ", "42" },
		{ "tab, CR, LF and FF around", "\t\r\n\f42 \n", "42" },
		{ "a space inside", "4 2", "4 2" },
		{ "only spaces", "   ", "" },
		{ "nothing", "", "" },
		{ "a vertical tab (not HTML's white space)", "\v42", "\v42" },
		{ "a no-break space (not ASCII)",
		  "\xc2\xa0"
		  "42",
		  "\xc2\xa0"
		  "42" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = strlen(cases[i].in);
		const char *s = params_trim(cases[i].in, &len);

		T_CHECK(len == strlen(cases[i].out) &&
			    memcmp(s, cases[i].out, len) == 0,
			"params_trim: %s", cases[i].what);
	}
}

static void
test_request_basic(void)
{
	const char *env[] = {
		"REQUEST_METHOD",
		"POST",
		"REQUEST_URI",
		"/tasks/%31%32/cancel?x=1",
		"QUERY_STRING",
		"x=1",
		"CONTENT_TYPE",
		"application/x-www-form-urlencoded",
		"CONTENT_LENGTH",
		"38",
		"HTTP_COOKIE",
		"a=b; nthpi_csrf_lax=fedcba9876543210fedcba9876543210; "
		"nthpi_csrf=0123456789abcdef0123456789abcdef; c=d",
		"HTTP_HOST",
		"localhost:8080",
		NULL
	};
	char err[256];

	T_CHECK(parse_env(env, err, sizeof(err)) == 0, "a request parses");
	T_CHECK(req.method == HTTP_POST, "the method is read");
	T_CHECK(strcmp(req.path, "/tasks/12/cancel") == 0,
		"the path is percent-decoded and cut at '?'");
	T_CHECK(req.query.count == 1 &&
		    strcmp(params_get(&req.query, "x"), "1") == 0,
		"the query string is parsed");
	T_CHECK(req.content_length == 38, "Content-Length is read");
	T_CHECK(strcmp(req.csrf_cookie, "0123456789abcdef0123456789abcdef") ==
		    0,
		"the nthpi_csrf cookie is found among others");
	T_CHECK(strcmp(req.csrf_lax_cookie,
		       "fedcba9876543210fedcba9876543210") == 0,
		"its Lax twin, whose name starts the same, is told apart");
	T_CHECK(
	    request_content_type_is(&req, "application/x-www-form-urlencoded"),
	    "the content type is recognised");
}

static void
test_request_cookie_and_type(void)
{
	const char *env[] = { "REQUEST_METHOD",
			      "GET",
			      "REQUEST_URI",
			      "/",
			      "HTTP_COOKIE",
			      "nthpi_csrf=<script>",
			      "CONTENT_TYPE",
			      "Application/JSON ; charset=utf-8",
			      NULL };
	char err[256], out[8];

	T_CHECK(parse_env(env, err, sizeof(err)) == 0 &&
		    req.csrf_cookie[0] == '\0' &&
		    req.csrf_lax_cookie[0] == '\0',
		"a malformed csrf cookie is ignored");
	T_CHECK(request_content_type_is(&req, "application/json"),
		"a content type matches with any case and parameters");
	env[7] = "application/jsonp";
	parse_env(env, err, sizeof(err));
	T_CHECK(!request_content_type_is(&req, "application/json"),
		"application/jsonp is not application/json");
	T_CHECK(request_cookie("x=1; y=22", "y", out, sizeof(out)) == 2 &&
		    strcmp(out, "22") == 0 &&
		    request_cookie("xy=1", "y", out, sizeof(out)) == -1 &&
		    request_cookie("y=123456789", "y", out, sizeof(out)) == -1,
		"request_cookie finds a cookie by its whole name and checks "
		"room");
}

static void
test_request_limits(void)
{
	static char path[REQUEST_PATH_MAX + 2], query[REQUEST_QUERY_MAX + 2];
	const char *env[] = { "REQUEST_METHOD",
			      "GET",
			      "REQUEST_URI",
			      path,
			      "QUERY_STRING",
			      query,
			      "CONTENT_LENGTH",
			      "0",
			      NULL };
	char err[256];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[REQUEST_PATH_MAX] = '\0';
	T_CHECK(parse_env(env, err, sizeof(err)) == 0,
		"a 1024-byte path is accepted");
	path[REQUEST_PATH_MAX] = 'a';
	T_CHECK(parse_env(env, err, sizeof(err)) == 414 && err[0] != '\0',
		"a 1025-byte path is refused with 414");
	memcpy(path, "/api/", 5);
	T_CHECK(parse_env(env, err, sizeof(err)) == 414 &&
		    route_area(req.path) == CTX_AREA_API,
		"an overlong API path is still known as the API's");
	path[1] = '\0';
	memset(query, 'q', REQUEST_QUERY_MAX);
	query[REQUEST_QUERY_MAX] = '\0';
	T_CHECK(parse_env(env, err, sizeof(err)) == 0,
		"a 2048-byte query is accepted");
	query[REQUEST_QUERY_MAX] = 'q';
	T_CHECK(parse_env(env, err, sizeof(err)) == 414,
		"a 2049-byte query is refused with 414");
	query[0] = '\0';
	env[7] = "4097";
	T_CHECK(parse_env(env, err, sizeof(err)) == 413 && err[0] != '\0',
		"a body over 4096 bytes is refused with 413 before reading");
	env[7] = "4096";
	T_CHECK(parse_env(env, err, sizeof(err)) == 0,
		"a 4096-byte body is accepted");
	env[7] = "12x";
	T_CHECK(parse_env(env, err, sizeof(err)) == 400,
		"a malformed Content-Length is refused with 400");
	env[7] = "0";
	strcpy(path, "/tasks/%zz");
	T_CHECK(parse_env(env, err, sizeof(err)) == 400,
		"a bad escape in the path is refused with 400");
	strcpy(path, "/tasks/%00");
	T_CHECK(parse_env(env, err, sizeof(err)) == 400,
		"a NUL in the path is refused with 400");
	/* The struct is reused per thread: fill it as an earlier request
	 * would, then check the refused path is a string of its own. */
	memset(req.path, 'x', sizeof(req.path));
	strcpy(path, "/api/a%zz");
	T_CHECK(parse_env(env, err, sizeof(err)) == 400 &&
		    memchr(req.path, '\0', sizeof(req.path)) != NULL &&
		    strcmp(req.path, "/api/a%zz") == 0 &&
		    route_area(req.path) == CTX_AREA_API,
		"after a bad escape the path is the raw path, terminated");
	memset(req.path, 'x', sizeof(req.path));
	strcpy(path, "/a%00");
	T_CHECK(parse_env(env, err, sizeof(err)) == 400 &&
		    strcmp(req.path, "/a%00") == 0,
		"after an escaped NUL the path is the raw path, terminated");
	strcpy(path, "/");
	strcpy(query, "a=1&a=2");
	T_CHECK(parse_env(env, err, sizeof(err)) == 400 &&
		    strstr(err, "twice") != NULL,
		"a duplicate query parameter is refused with 400");
}

/* Serves the bytes of a string as a body, a few at a time. */
struct slow_body {
	const char *s;
	size_t pos, len;
};

static long
slow_read(void *arg, char *p, size_t want)
{
	struct slow_body *b = arg;
	size_t n = b->len - b->pos;

	if (n > 3)
		n = 3;
	if (n > want)
		n = want;
	memcpy(p, b->s + b->pos, n);
	b->pos += n;
	return (long)n;
}

static void
test_request_body(void)
{
	struct slow_body body = { "{\"n\": 1234}", 0, 11 };
	char err[256];

	req.content_length = 11;
	T_CHECK(
	    request_read_body(&req, slow_read, &body, err, sizeof(err)) == 0 &&
		req.body_len == 11 && strcmp(req.body, "{\"n\": 1234}") == 0,
	    "the body is read whole from short reads");
	body.pos = 0;
	req.content_length = 20;
	T_CHECK(request_read_body(&req, slow_read, &body, err, sizeof(err)) ==
		    400,
		"a body shorter than its Content-Length is refused with 400");
}

/* ---- JSON bodies -------------------------------------------------------- */

/* Parses s for member "n"; returns jsonread_object's result. */
static int
json_n(const char *s, struct jsonread_member *m, char *err, size_t errlen)
{
	m->name = "n";
	err[0] = '\0';
	return jsonread_object(s, strlen(s), m, 1, err, errlen);
}

static void
test_json_body_accepted(void)
{
	struct jsonread_member m;
	char err[256];

	T_CHECK(json_n("{\"n\": 1234}", &m, err, sizeof(err)) == 0 &&
		    m.type == JSONREAD_NUMBER && m.len == 4 &&
		    memcmp(m.text, "1234", 4) == 0,
		"{\"n\": 1234} gives n as a number token");
	T_CHECK(json_n(" \r\n\t{ \"x\" : [1, {\"n\": 2}, \"\\u00e9\\n\"],"
		       " \"n\" : 7 , \"y\": null } \n",
		       &m, err, sizeof(err)) == 0 &&
		    m.type == JSONREAD_NUMBER && m.text[0] == '7',
		"n is taken from the top level only, other members ignored");
	T_CHECK(json_n("{\"\\u006e\": 5}", &m, err, sizeof(err)) == 0 &&
		    m.type == JSONREAD_NUMBER,
		"an escaped member name matches");
	T_CHECK(json_n("{\"n\": \"5\"}", &m, err, sizeof(err)) == 0 &&
		    m.type == JSONREAD_STRING,
		"a string n is reported as a string");
	T_CHECK(json_n("{}", &m, err, sizeof(err)) == 0 &&
		    m.type == JSONREAD_ABSENT,
		"a missing n is reported absent");
	T_CHECK(json_n("{\"n\": -1.5e+3}", &m, err, sizeof(err)) == 0 &&
		    m.len == 7,
		"any JSON number is one token");
}

static void
test_json_body_refused(void)
{
	static const struct {
		const char *in, *what;
	} bad[] = {
		{ "", "an empty body" },
		{ "   ", "a blank body" },
		{ "[1]", "an array" },
		{ "1234", "a bare number" },
		{ "{\"n\": 1", "an unclosed object" },
		{ "{\"n\": 1,}", "a trailing comma" },
		{ "{\"n\": 1} x", "text after the object" },
		{ "{\"n\": 1}{}", "two objects" },
		{ "{n: 1}", "an unquoted name" },
		{ "{'n': 1}", "single quotes" },
		{ "{\"n\": 01}", "a leading zero" },
		{ "{\"n\": 1.}", "a point without digits" },
		{ "{\"n\": 1e}", "an empty exponent" },
		{ "{\"n\": +1}", "a plus sign" },
		{ "{\"n\": NaN}", "NaN" },
		{ "{\"n\": tru}", "a cut-short literal" },
		{ "{\"a\": \"x\ty\"}", "a raw tab in a string" },
		{ "{\"a\": \"\\x\"}", "an unknown escape" },
		{ "{\"a\": \"\\u12g4\"}", "a bad \\u escape" },
		{ "{\"a\": \"\xff\"}", "ill-formed UTF-8" },
		{ "{\"a\": \"abc}", "an unclosed string" },
		{ "{\"n\": 1, \"n\": 2}", "n given twice" },
		{ "\xef\xbb\xbf{\"n\": 1}", "a byte order mark" },
	};
	struct jsonread_member m;
	char err[256], deep[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		T_CHECK(json_n(bad[i].in, &m, err, sizeof(err)) == -1 &&
			    strlen(err) > 10,
			"a JSON body with %s is refused, saying why",
			bad[i].what);
	T_CHECK(jsonread_object("{\"n\": 1\0}", 9, &m, 1, err, sizeof(err)) ==
		    -1,
		"a JSON body with a NUL byte is refused");
	memset(deep, 0, sizeof(deep));
	deep[0] = '{';
	strcat(deep, "\"a\":");
	for (i = 0; i < JSONREAD_DEPTH_MAX; i++)
		strcat(deep, "[");
	for (i = 0; i < JSONREAD_DEPTH_MAX; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	T_CHECK(json_n(deep, &m, err, sizeof(err)) == -1 &&
		    strstr(err, "deep") != NULL,
		"JSON nested deeper than 32 is refused");
}

/* ---- CSRF --------------------------------------------------------------- */

static void
test_csrf_origin(void)
{
	struct request r;
	char err[256];

	memset(&r, 0, sizeof(r));
	r.host = "example.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"a request without Origin or Sec-Fetch-Site passes");
	r.fetch_site = "same-origin";
	r.origin = "http://example.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"same-origin with a matching Origin passes");
	r.origin = "HTTP://EXAMPLE.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"Origin matches Host whatever the case");
	r.origin = "https://example.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"an https Origin is refused by an http request");
	r.scheme = "http";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"... as REQUEST_SCHEME http says");
	r.scheme = "https";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"an https Origin passes with REQUEST_SCHEME https");
	r.origin = "http://example.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"an http Origin is refused by an https request");
	r.scheme = NULL;
	r.https = 1;
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"without REQUEST_SCHEME, HTTPS=on makes the request https");
	r.https = 0;
	r.origin = "ftp://example.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"another scheme is refused");
	r.fetch_site = "none";
	r.origin = NULL;
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"Sec-Fetch-Site: none passes");
	r.fetch_site = "cross-site";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1 &&
		    strstr(err, "another site") != NULL,
		"Sec-Fetch-Site: cross-site is refused, saying why");
	r.fetch_site = "same-site";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"Sec-Fetch-Site: same-site is refused");
	r.fetch_site = NULL;
	r.origin = "http://evil.example";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"an Origin other than Host is refused");
	r.origin = "null";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"Origin: null is refused");
	r.origin = "http://example.org:8080.evil";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"an Origin that only starts with Host is refused");
	r.host = "example.org";
	r.server_port = "8080";
	r.origin = "http://example.org:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"a Host without its port (Debian's $host) matches on "
		"SERVER_PORT");
	r.origin = "https://example.org";
	r.scheme = "https";
	r.server_port = "443";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"an Origin without a port matches on its scheme's port");
	r.scheme = NULL;
	r.server_port = "8080";
	r.origin = "http://example.org:9999";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"an Origin on another port is refused");
	r.host = "[::1]:8080";
	r.origin = "http://[::1]:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == 0,
		"IPv6 hosts compare with their brackets and port");
	r.origin = "http://[::2]:8080";
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"another IPv6 host is refused");
	r.origin = "http://example.org";
	r.host = NULL;
	T_CHECK(csrf_check_origin(&r, err, sizeof(err)) == -1,
		"an Origin without a Host is refused");
}

static void
test_csrf_token(void)
{
	struct request r;
	char err[256], tok[CSRF_TOKEN_LEN + 1], tok2[CSRF_TOKEN_LEN + 1];
	size_t i;
	int hex = 1;

	memset(&r, 0, sizeof(r));
	T_CHECK(csrf_new_token(tok) == 0 && strlen(tok) == CSRF_TOKEN_LEN,
		"a new token has 32 characters");
	for (i = 0; i < CSRF_TOKEN_LEN; i++)
		hex &= (tok[i] >= '0' && tok[i] <= '9') ||
		       (tok[i] >= 'a' && tok[i] <= 'f');
	csrf_new_token(tok2);
	T_CHECK(hex && strcmp(tok, tok2) != 0,
		"tokens are lowercase hex and differ");
	T_CHECK(csrf_check_token(&r, tok, err, sizeof(err)) == -1 &&
		    strstr(err, "cookie") != NULL,
		"a form without the cookie is refused");
	memcpy(r.csrf_cookie, tok, sizeof(tok));
	T_CHECK(csrf_check_token(&r, tok, err, sizeof(err)) == 0,
		"a form whose token matches the cookie passes");
	T_CHECK(csrf_check_token(&r, tok2, err, sizeof(err)) == -1,
		"a form whose token differs is refused");
	T_CHECK(csrf_check_token(&r, NULL, err, sizeof(err)) == -1 &&
		    csrf_check_token(&r, "abc", err, sizeof(err)) == -1,
		"a form without a token, or a short one, is refused");
}

/* ---- routing -------------------------------------------------------------- */

static void
test_routes(void)
{
	static const struct {
		const char *path;
		const char *pattern; /* NULL: no route */
		long long id;
	} cases[] = {
		{ "/", "/", 0 },
		{ "/tasks", "/tasks", 0 },
		{ "/tasks/12", "/tasks/{id}", 12 },
		{ "/tasks/12/pi.txt", "/tasks/{id}/pi.txt", 12 },
		{ "/tasks/7/cancel", "/tasks/{id}/cancel", 7 },
		{ "/tasks/7/retry", "/tasks/{id}/retry", 7 },
		{ "/tasks/7/delete", "/tasks/{id}/delete", 7 },
		{ "/api/tasks", "/api/tasks", 0 },
		{ "/api/tasks/123456789012345678", "/api/tasks/{id}",
		  123456789012345678LL },
		{ "/api/tasks/3/cancel", "/api/tasks/{id}/cancel", 3 },
		{ "/api/tasks/3/retry", "/api/tasks/{id}/retry", 3 },
		{ "/tasks/", NULL, 0 },
		{ "/tasks/012", NULL, 0 },
		{ "/tasks/0", NULL, 0 },
		{ "/tasks/-1", NULL, 0 },
		{ "/tasks/1x", NULL, 0 },
		{ "/tasks/12/", NULL, 0 },
		{ "/tasks/12/pi.txt/x", NULL, 0 },
		{ "/api/tasks/1234567890123456789", NULL, 0 },
		{ "/api/tasks/3/delete", NULL, 0 },
		{ "//", NULL, 0 },
		{ "/index.html", NULL, 0 },
		{ "/api/tasks/", NULL, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long id = 0;
		const struct route *r = route_match(cases[i].path, &id);

		if (cases[i].pattern == NULL)
			T_CHECK(r == NULL, "%s has no route", cases[i].path);
		else
			T_CHECK(r != NULL &&
				    strcmp(r->pattern, cases[i].pattern) == 0 &&
				    (cases[i].id == 0 || id == cases[i].id),
				"%s routes to %s", cases[i].path,
				cases[i].pattern);
	}
}

static void
test_route_allow(void)
{
	char allow[64];
	long long id;

	route_allow(route_match("/api/tasks/1", &id), allow, sizeof(allow));
	T_CHECK(strcmp(allow, "GET, HEAD, DELETE") == 0,
		"Allow for /api/tasks/{id} is GET, HEAD, DELETE");
	route_allow(route_match("/api/tasks", &id), allow, sizeof(allow));
	T_CHECK(strcmp(allow, "GET, HEAD, POST") == 0,
		"Allow for /api/tasks is GET, HEAD, POST");
	route_allow(route_match("/tasks/1/cancel", &id), allow, sizeof(allow));
	T_CHECK(strcmp(allow, "POST") == 0,
		"Allow for /tasks/{id}/cancel is POST");
	T_CHECK(route_area("/api/tasks/x") == CTX_AREA_API &&
		    route_area("/api") == CTX_AREA_API &&
		    route_area("/apix") == CTX_AREA_PAGE &&
		    route_area("/tasks") == CTX_AREA_PAGE,
		"paths under /api/ are the API");
}

/* ---- dispatch, for the answers that need no database ------------------- */

static void
test_dispatch_refusals(void)
{
	static struct response resp;
	struct config cfg;
	struct app app = { .cfg = &cfg };
	struct ctx ctx;
	char err[64];
	const char *env[] = { "REQUEST_METHOD", "PUT",        "REQUEST_URI",
			      "/api/tasks/5",   "HTTP_HOST",  "h",
			      "CONTENT_TYPE",   "text/plain", NULL };

	config_defaults(&cfg);
#define DISPATCH()                                                             \
	do {                                                                   \
		memset(&ctx, 0, sizeof(ctx));                                  \
		ctx.app = &app;                                                \
		ctx.req = &req;                                                \
		ctx.resp = &resp;                                              \
		response_reset(&resp);                                         \
		parse_env(env, err, sizeof(err));                              \
		route_dispatch(&ctx);                                          \
	} while (0)
	DISPATCH();
	T_CHECK(resp.status == 405 &&
		    strstr(resp.headers.data, "Allow: GET, HEAD, DELETE\r\n") &&
		    strstr(resp.body.data, "{\"error\": ") == resp.body.data,
		"a wrong method gets 405, Allow and a JSON error in the API");
	env[1] = "GET";
	env[3] = "/nowhere";
	DISPATCH();
	T_CHECK(resp.status == 404 &&
		    strstr(resp.content_type, "text/html") != NULL,
		"an unknown page gets a 404 page");
	env[3] = "/api/nowhere";
	DISPATCH();
	T_CHECK(resp.status == 404 &&
		    strcmp(resp.content_type, "application/json") == 0,
		"an unknown API address gets a JSON 404");
	env[1] = "POST";
	env[3] = "/api/tasks";
	DISPATCH();
	T_CHECK(resp.status == 415,
		"a JSON POST without application/json gets 415");
	env[7] = "application/json";
	env[4] = "HTTP_SEC_FETCH_SITE";
	env[5] = "cross-site";
	DISPATCH();
	T_CHECK(resp.status == 403 && strstr(resp.body.data, "another site"),
		"a cross-site JSON POST gets 403 with a message");
	env[1] = "DELETE";
	env[3] = "/api/tasks/3";
	DISPATCH();
	T_CHECK(resp.status == 403, "a cross-site DELETE gets 403");
	env[1] = "POST";
	env[3] = "/tasks/3/cancel";
	env[5] = "same-origin";
	env[7] = "application/x-www-form-urlencoded";
	DISPATCH();
	T_CHECK(resp.status == 403 && strstr(resp.body.data, "cookie"),
		"a form POST without the csrf cookie gets 403");
	env[7] = "multipart/form-data; boundary=x";
	DISPATCH();
	T_CHECK(resp.status == 415, "a multipart form POST gets 415");
	env[1] = "DELETE";
	env[3] = "/api/tasks/5?verbose=1";
	DISPATCH();
	T_CHECK(resp.status == 400 &&
		    strstr(resp.body.data, "\\\"verbose\\\"") != NULL &&
		    strstr(resp.body.data, "takes nothing in its address") !=
			NULL,
		"a parameter the route does not take gets 400 naming it (%s)",
		resp.body.data);
	env[1] = "GET";
	env[3] = "/?page=2";
	DISPATCH();
	T_CHECK(resp.status == 400 &&
		    strstr(resp.content_type, "text/html") != NULL &&
		    strstr(resp.body.data, "before, after or status") != NULL,
		"a page names the parameters it takes");
	env[1] = "POST";
	env[3] = "/api/tasks?n=5";
	env[5] = "same-origin";
	env[7] = "application/json";
	DISPATCH();
	T_CHECK(resp.status == 400 &&
		    strstr(resp.body.data, "nothing in its address") != NULL,
		"a POST with a parameter in its address gets 400");
#undef DISPATCH
	buf_free(&resp.headers);
	buf_free(&resp.body);
}

static void
test_request_key(void)
{
	char longest[REQUEST_KEY_MAX + 2];

	memset(longest, 'a', REQUEST_KEY_MAX);
	longest[REQUEST_KEY_MAX] = '\0';
	T_CHECK(request_key_valid("0123456789abcdef") &&
		    request_key_valid("Key_with-dashes_0123") &&
		    request_key_valid(longest),
		"keys of 16 to 128 letters, digits, '-' and '_' are taken");
	longest[REQUEST_KEY_MAX] = 'a';
	longest[REQUEST_KEY_MAX + 1] = '\0';
	T_CHECK(!request_key_valid("0123456789abcde") &&
		    !request_key_valid(longest) && !request_key_valid("") &&
		    !request_key_valid("0123456789abcdef ") &&
		    !request_key_valid("0123456789abcdef:") &&
		    !request_key_valid("0123456789abcd\xc3\xa9"
				       "f"),
		"shorter, longer, or another character: refused");
}

int
main(void)
{
	test_params_basic();
	test_params_refused();
	test_params_limits();
	test_params_int();
	test_params_trim();
	test_request_basic();
	test_request_cookie_and_type();
	test_request_limits();
	test_request_body();
	test_json_body_accepted();
	test_json_body_refused();
	test_csrf_origin();
	test_csrf_token();
	test_routes();
	test_route_allow();
	test_dispatch_refusals();
	test_request_key();
	return T_EXIT();
}
