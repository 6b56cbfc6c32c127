/* test_api_digits.c: GET /v1/pi without nginx: the number parser, the
 * answers from a digit store in a temp dir, and the CORS preflight. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_digits.h"
#include "log.h"
#include "route.h"
#include "store.h"
#include "t.h"

static void
test_int_parser(void)
{
	static const struct {
		const char *s;
		int ok;
		long long v;
	} cases[] = {
		{ "0", 1, 0 },
		{ "42", 1, 42 },
		{ "+5", 1, 5 },
		{ "-1", 1, -1 },
		{ "-0", 1, 0 },
		{ "007", 1, 7 },
		{ "9223372036854775807", 1, INT64_MAX },
		{ "-9223372036854775808", 1, INT64_MIN },
		{ "000000000000000000000001", 1, 1 },
		{ "9223372036854775808", 1, INT64_MAX },
		{ "-9223372036854775809", 1, INT64_MIN },
		{ "99999999999999999999", 1, INT64_MAX },
		{ "+99999999999999999999", 1, INT64_MAX },
		{ "-99999999999999999999", 1, INT64_MIN },
		{ "99999999999999999999x", 0, 0 },
		{ "", 0, 0 },
		{ "+", 0, 0 },
		{ "-", 0, 0 },
		{ " 1", 0, 0 },
		{ "1 ", 0, 0 },
		{ "1.5", 0, 0 },
		{ "1e3", 0, 0 },
		{ "0x10", 0, 0 },
		{ "--1", 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long v = 12345;
		int rc = api_digits_int(cases[i].s, &v);

		if (cases[i].ok)
			T_CHECK(rc == 0 && v == cases[i].v,
				"\"%s\" is read as %lld", cases[i].s,
				cases[i].v);
		else
			T_CHECK(rc == -1 && v == 12345,
				"\"%s\" is refused and leaves the value",
				cases[i].s);
	}
}

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
static struct response resp;
static struct config cfg;

/* Dispatches method uri as nthpi-fcgi would, without a database. */
static void
dispatch(const char *method, const char *uri)
{
	struct app app = { .cfg = &cfg };
	const char *env[] = { "REQUEST_METHOD", method, "REQUEST_URI", uri,
			      NULL };
	struct ctx ctx;
	char err[256];

	memset(&ctx, 0, sizeof(ctx));
	ctx.app = &app;
	ctx.req = &req;
	ctx.resp = &resp;
	response_reset(&resp);
	if (request_parse(&req, env_get, env, err, sizeof(err)) != 0) {
		T_DIAG("%s %s does not parse: %s", method, uri, err);
		resp.status = -1;
		return;
	}
	route_dispatch(&ctx);
}

static const char *
body(void)
{
	return resp.body.data ? resp.body.data : "";
}

static int
has_header(const char *line)
{
	return resp.headers.data != NULL && strstr(resp.headers.data, line);
}

static void
test_answers(const char *dir)
{
	char err[256];

	snprintf(cfg.store_path, sizeof(cfg.store_path), "%s/pi-digits.txt",
		 dir);
	dispatch("GET", "/v1/pi?start=1&numberOfDigits=3");
	T_CHECK(resp.status == 400 && strcmp(body(), "start out of range") == 0,
		"without a store, start=1 is out of range");
	dispatch("GET", "/v1/pi?numberOfDigits=3");
	T_CHECK(resp.status == 200 &&
		    strcmp(body(), "{\"content\":\"3\"}\n") == 0,
		"without a store, start=0 gives the 3");
	if (!T_CHECK(store_write(cfg.store_path, "14159265358979", 14, err,
				 sizeof(err)) == 0,
		     "a store of 14 decimals is written"))
		return;
	dispatch("GET", "/v1/pi");
	T_CHECK(resp.status == 200 &&
		    strcmp(body(), "{\"content\":\"314159265358979\"}\n") ==
			0 &&
		    strcmp(resp.content_type, "application/json") == 0,
		"the defaults give up to 100 digits from the 3 (%s)", body());
	T_CHECK(has_header("Access-Control-Allow-Origin: *\r\n"),
		"the answer allows any origin");
	dispatch("GET", "/v1/pi?start=14&numberOfDigits=5");
	T_CHECK(resp.status == 200 &&
		    strcmp(body(), "{\"content\":\"9\"}\n") == 0,
		"start = the number of decimals gives the last one");
	dispatch("GET", "/v1/pi?start=15");
	T_CHECK(resp.status == 400 && strcmp(body(), "start out of range") == 0,
		"start past the last decimal is out of range");
	dispatch("GET", "/v1/pi?start=-3&numberOfDigits=x");
	T_CHECK(resp.status == 400 &&
		    strcmp(body(), "start is negative") == 0 &&
		    strncmp(resp.content_type, "text/plain", 10) == 0 &&
		    has_header("Access-Control-Allow-Origin: *\r\n"),
		"start is checked before numberOfDigits, and errors are "
		"plain text with CORS");
	dispatch("GET", "/v1/pi?numberOfDigits=-1");
	T_CHECK(resp.status == 400 &&
		    strcmp(body(), "numberOfDigits is negative") == 0,
		"a negative numberOfDigits is refused");
	dispatch("GET", "/v1/pi?numberOfDigits=1001");
	T_CHECK(resp.status == 400 &&
		    strcmp(body(), "numberOfDigits is too big") == 0,
		"numberOfDigits=1001 is too big");
	dispatch("GET", "/v1/pi?numberOfDigits=1000");
	T_CHECK(resp.status == 200, "numberOfDigits=1000 is allowed");
	dispatch("GET", "/v1/pi?start=99999999999999999999");
	T_CHECK(resp.status == 400 && strcmp(body(), "start out of range") == 0,
		"a start beyond 64 bits is out of range");
	dispatch("GET", "/v1/pi?start=-99999999999999999999");
	T_CHECK(resp.status == 400 && strcmp(body(), "start is negative") == 0,
		"a start below -2^63 is negative");
	dispatch("GET", "/v1/pi?numberOfDigits=99999999999999999999");
	T_CHECK(resp.status == 400 &&
		    strcmp(body(), "numberOfDigits is too big") == 0,
		"a numberOfDigits beyond 64 bits is too big");
}

/* Each refusal of the /v1 area: plain text that any origin may read. */
static void
test_area_refusals(void)
{
	static const struct {
		const char *method, *uri;
		int status;
	} cases[] = {
		{ "POST", "/v1/pi", 405 },
		{ "DELETE", "/v1/pi", 405 },
		{ "GET", "/v1/nothing", 404 },
		{ "GET", "/v1", 404 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		dispatch(cases[i].method, cases[i].uri);
		T_CHECK(resp.status == cases[i].status &&
			    strncmp(resp.content_type, "text/plain", 10) == 0 &&
			    has_header("Access-Control-Allow-Origin: *\r\n") &&
			    strlen(body()) > 20 && body()[0] != '{',
			"%s %s answers %d in plain text with CORS (%s)",
			cases[i].method, cases[i].uri, cases[i].status, body());
	}
	dispatch("GET", "/api/nothing");
	T_CHECK(resp.status == 404 && body()[0] == '{' &&
		    !has_header("Access-Control-Allow-Origin"),
		"under /api/ a 404 stays JSON without CORS");
	T_CHECK(route_area("/v1") == CTX_AREA_DIGITS &&
		    route_area("/v1/x") == CTX_AREA_DIGITS &&
		    route_area("/v1x") == CTX_AREA_PAGE &&
		    route_area("/v2/pi") == CTX_AREA_PAGE,
		"/v1 and the paths under /v1/ are the digits' area");
}

static void
test_preflight(void)
{
	char allow[64];
	long long id;

	dispatch("OPTIONS", "/v1/pi");
	T_CHECK(resp.status == 204 &&
		    has_header("Access-Control-Allow-Origin: *\r\n") &&
		    has_header("Access-Control-Allow-Methods: GET, HEAD, "
			       "OPTIONS\r\n"),
		"OPTIONS /v1/pi answers a preflight");
	dispatch("OPTIONS", "/api/tasks");
	T_CHECK(resp.status == 405 &&
		    !has_header("Access-Control-Allow-Origin") &&
		    has_header("Allow: GET, HEAD, POST\r\n"),
		"OPTIONS elsewhere is a 405 without CORS");
	route_allow(route_match("/v1/pi", &id), allow, sizeof(allow));
	T_CHECK(strcmp(allow, "GET, HEAD, OPTIONS") == 0,
		"Allow for /v1/pi is GET, HEAD, OPTIONS (%s)", allow);
}

int
main(void)
{
	char dir[] = "/tmp/nthpi-test-digits-XXXXXX", cmd[300];

	log_init("test_api_digits", LOG_LEVEL_ERR + 1);
	config_defaults(&cfg);
	test_int_parser();
	if (mkdtemp(dir) != NULL) {
		test_answers(dir);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			T_DIAG("could not remove %s", dir);
	}
	test_preflight();
	test_area_refusals();
	buf_free(&resp.headers);
	buf_free(&resp.body);
	return T_EXIT();
}
