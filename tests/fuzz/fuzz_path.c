/* fuzz_path.c: libFuzzer target for the request target's path: the split at
 * '?', percent_decode_path, route_match, route_is_api and route_allow. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "ref.h"
#include "request.h"
#include "route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ref_param ref[PARAMS_MAX];
static char decoded[REQUEST_PATH_MAX + 1];

static const char *
uri_get(void *arg, const char *name)
{
	if (strcmp(name, "REQUEST_METHOD") == 0)
		return "GET";
	if (strcmp(name, "REQUEST_URI") == 0)
		return arg;
	return NULL;
}

/*
 * Checks a matched route: its pattern with {id} spelt as the id is the
 * path, byte for byte; its area (page, API, digits) is its path's; the Allow
 * list fits and is never cut.
 */
static void
check_route(const struct route *rt, const char *path, long long id)
{
	char want[REQUEST_PATH_MAX + 64], allow[64], *small;
	const char *p = rt->pattern, *brace;
	size_t n, k;

	want[0] = '\0';
	while ((brace = strstr(p, "{id}")) != NULL) {
		FUZZ_CHECK(id >= 1 && id <= 999999999999999999LL);
		n = strlen(want);
		snprintf(want + n, sizeof(want) - n, "%.*s%lld",
			 (int)(brace - p), p, id);
		p = brace + 4;
	}
	n = strlen(want);
	snprintf(want + n, sizeof(want) - n, "%s", p);
	FUZZ_CHECK(strcmp(want, path) == 0);
	FUZZ_CHECK(rt->area == route_area(path));

	route_allow(rt, allow, sizeof(allow));
	FUZZ_CHECK(allow[0] != '\0');
	FUZZ_CHECK((rt->get != NULL) == (strstr(allow, "GET, HEAD") != NULL));
	FUZZ_CHECK((rt->post != NULL) == (strstr(allow, "POST") != NULL));
	FUZZ_CHECK((rt->del != NULL) == (strstr(allow, "DELETE") != NULL));
	/* Too small a buffer gets "" rather than a cut list. */
	for (k = 1; k <= strlen(allow); k++) {
		if ((small = malloc(k)) == NULL)
			return;
		route_allow(rt, small, k);
		FUZZ_CHECK(small[0] == '\0');
		free(small);
	}
}

/* percent_decode_path alone: exact buffers, one byte short, and the
 * round trip of a re-encoded path. */
static void
check_decode(const char *s, size_t len, int upper)
{
	char *out = malloc(len + 1), *enc = NULL, *back = NULL;
	long n, w;
	size_t i;

	if (out == NULL)
		return;
	n = percent_decode_path(s, len, out, len + 1);
	w = ref_percent_decode(s, len, 0, decoded);
	FUZZ_CHECK(n == w);
	FUZZ_CHECK(percent_decode_path(s, len, out, len) == -1);
	if (n < 0)
		goto out;
	FUZZ_CHECK(memcmp(out, decoded, (size_t)n + 1) == 0);
	enc = malloc((size_t)n * 3);
	/* percent_decode_path wants room for the encoded length. */
	back = malloc((size_t)n * 3 + 1);
	if (enc == NULL || back == NULL)
		goto out;
	for (i = 0; i < (size_t)n; i++) {
		char hex[4];

		snprintf(hex, sizeof(hex), upper ? "%%%02X" : "%%%02x",
			 (unsigned char)out[i]);
		memcpy(enc + 3 * i, hex, 3);
	}
	FUZZ_CHECK(percent_decode_path(enc, (size_t)n * 3, back,
				       (size_t)n * 3 + 1) == n);
	FUZZ_CHECK(memcmp(back, out, (size_t)n + 1) == 0);
out:
	free(back);
	free(enc);
	free(out);
}

/* The input, up to a NUL, is REQUEST_URI (no QUERY_STRING). */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t len = strnlen((const char *)data, size), plen, qlen;
	char *uri = malloc(len + 1), err[320];
	struct request *r = malloc(sizeof(struct request));
	const struct route *rt;
	const char *qm;
	long long id = -1;
	int rc, want;

	if (uri == NULL || r == NULL)
		goto out;
	memcpy(uri, data, len);
	uri[len] = '\0';
	qm = strchr(uri, '?');
	plen = qm ? (size_t)(qm - uri) : len;
	qlen = qm ? len - plen - 1 : 0;

	if (plen <= REQUEST_PATH_MAX)
		check_decode(uri, plen, size > 0 && (data[size - 1] & 1));

	/* serve.c reuses one request per thread: the last one's bytes stay. */
	memset(r, 'x', sizeof(*r));
	err[0] = '\0';
	rc = request_parse(r, uri_get, uri, err, sizeof(err));
	want = plen > REQUEST_PATH_MAX                         ? 414
	       : plen == 0 || uri[0] != '/'                    ? 400
	       : ref_percent_decode(uri, plen, 0, decoded) < 0 ? 400
	       : qlen > REQUEST_QUERY_MAX                      ? 414
	       : ref_params(qm ? qm + 1 : "", qlen, ref) < 0 ? 400
							     : 0;
	FUZZ_CHECK(rc == want);
	FUZZ_CHECK(rc == 0 || (err[0] != '\0' && strlen(err) < sizeof(err)));
	/*
	 * serve_request logs r->path and asks route_is_api of it after a
	 * failure too, so it must be a string, also after a bad
	 * percent-escape in the path (crashes/path/bad-escape-leaves-path-
	 * unterminated).
	 */
	FUZZ_CHECK(memchr(r->path, '\0', sizeof(r->path)) != NULL);
	if (plen > REQUEST_PATH_MAX)
		FUZZ_CHECK(memcmp(r->path, uri, REQUEST_PATH_MAX) == 0);
	if (rc != 0)
		goto out;
	ref_percent_decode(uri, plen, 0, decoded);
	FUZZ_CHECK(strcmp(r->path, decoded) == 0);
	FUZZ_CHECK(r->path[0] == '/');

	if ((rt = route_match(r->path, &id)) != NULL)
		check_route(rt, r->path, id);
out:
	free(r);
	free(uri);
	return 0;
}
