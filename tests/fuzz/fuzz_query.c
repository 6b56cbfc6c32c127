/* fuzz_query.c: libFuzzer target for request_parse on the query string,
 * the Cookie header, Content-Length and Content-Type. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "params.h"
#include "ref.h"
#include "request.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum field { F_QUERY, F_COOKIE, F_LENGTH, F_TYPE, F__MAX };

/* The FastCGI parameters of one run, each in a heap block of its size. */
struct env {
	char *uri;
	char *query_string; /* NULL: nginx left it out */
	char *field[F__MAX];
};

static struct ref_param ref[PARAMS_MAX];

static const char *
env_get(void *arg, const char *name)
{
	const struct env *e = arg;

	if (strcmp(name, "REQUEST_METHOD") == 0)
		return "GET";
	if (strcmp(name, "REQUEST_URI") == 0)
		return e->uri;
	if (strcmp(name, "QUERY_STRING") == 0)
		return e->query_string;
	if (strcmp(name, "HTTP_COOKIE") == 0)
		return e->field[F_COOKIE];
	if (strcmp(name, "CONTENT_LENGTH") == 0)
		return e->field[F_LENGTH];
	if (strcmp(name, "CONTENT_TYPE") == 0)
		return e->field[F_TYPE];
	return NULL;
}

/* Copies s[0..len) up to its first NUL into a block of its own. */
static char *
dup_field(const uint8_t *s, size_t len)
{
	size_t n = strnlen((const char *)s, len);
	char *p = malloc(n + 1);

	if (p != NULL) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* The csrf cookie request_parse must keep from header h, or "". */
static void
ref_csrf_cookie(const char *h, char *out)
{
	const char *name = "nthpi_csrf=";
	size_t i, vlen;

	out[0] = '\0';
	while (h != NULL) {
		const char *end = strchr(h, ';');
		size_t plen;

		h += strspn(h, " \t");
		plen = end ? (size_t)(end - h) : strlen(h);
		if (plen >= strlen(name) &&
		    strncmp(h, name, strlen(name)) == 0) {
			const char *v = h + strlen(name);

			vlen = plen - strlen(name);
			while (vlen > 0 && strchr(" \t", v[vlen - 1]) != NULL)
				vlen--;
			if (vlen != CSRF_TOKEN_LEN)
				return;
			for (i = 0; i < vlen; i++)
				if (strchr("0123456789abcdef", v[i]) == NULL)
					return;
			memcpy(out, v, vlen);
			out[vlen] = '\0';
			return;
		}
		h = end ? end + 1 : NULL;
	}
}

/* The Content-Length request_parse must read from s, or -1 if none. */
static long long
ref_content_length(const char *s)
{
	long long v = 0;
	size_t len;
	enum nparse_err e;

	if (s == NULL || s[0] == '\0')
		return 0;
	len = strlen(s);
	if (len > 19)
		return -1;
	e = ref_nparse(s, len, 999999999999LL, &v);
	return e == NPARSE_OK ? v : e == NPARSE_ZERO ? 0 : -1;
}

/* Checks params_get_int against the reference for one name. */
static void
check_int(const struct params *q, const char *name, long long min,
	  long long max)
{
	const char *v = params_get(q, name);
	long long got = -7, want = 0;
	int rc = params_get_int(q, name, min, max, &got);
	enum nparse_err e;

	if (v == NULL) {
		FUZZ_CHECK(rc == 1 && got == -7);
		return;
	}
	e = ref_nparse(v, strlen(v), max, &want);
	if (e == NPARSE_ZERO)
		want = 0;
	if (strlen(v) > 19 || want < min ||
	    (e != NPARSE_OK && e != NPARSE_ZERO)) {
		FUZZ_CHECK(rc == -1 && got == -7);
		return;
	}
	FUZZ_CHECK(rc == 0 && got == want);
}

/*
 * Byte 0: bit 0 set, the query goes in QUERY_STRING; clear, only in
 * REQUEST_URI after '?'. The rest is split on '\n' into the query string,
 * the Cookie header, Content-Length and Content-Type (a missing line is a
 * missing parameter; a NUL ends a line's value).
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct env e = { NULL, NULL, { NULL } };
	struct request *r = NULL;
	char err[320], csrf[CSRF_TOKEN_LEN + 1];
	const uint8_t *p, *end;
	const char *q, *ct;
	size_t qlen;
	long long cl;
	int rc, f, nref, i, want_rc;

	if (size < 1)
		return 0;
	p = data + 1;
	end = data + size;
	for (f = 0; f < F__MAX && p <= end; f++) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if ((e.field[f] = dup_field(p, n)) == NULL)
			goto out;
		p += n + 1;
	}
	q = e.field[F_QUERY] ? e.field[F_QUERY] : "";
	qlen = strlen(q);
	if ((e.uri = malloc(sizeof("/api/tasks?") + qlen)) == NULL)
		goto out;
	if (data[0] & 1) {
		strcpy(e.uri, "/api/tasks");
		e.query_string = e.field[F_QUERY];
	} else {
		strcpy(e.uri, "/api/tasks?");
		strcat(e.uri, q);
	}
	if ((r = malloc(sizeof(*r))) == NULL)
		goto out;

	err[0] = '\0';
	rc = request_parse(r, env_get, &e, err, sizeof(err));
	nref = qlen > REQUEST_QUERY_MAX ? -1 : ref_params(q, qlen, ref);
	cl = ref_content_length(e.field[F_LENGTH]);
	want_rc = qlen > REQUEST_QUERY_MAX ? 414
		  : nref < 0               ? 400
		  : cl < 0                 ? 400
		  : cl > REQUEST_BODY_MAX  ? 413
					   : 0;
	FUZZ_CHECK(rc == want_rc);
	FUZZ_CHECK(rc == 0 || (err[0] != '\0' && strlen(err) < sizeof(err)));
	FUZZ_CHECK(r->query.count >= 0 && r->query.count <= PARAMS_MAX);
	FUZZ_CHECK(strcmp(r->path, "/api/tasks") == 0);

	ref_csrf_cookie(e.field[F_COOKIE], csrf);
	FUZZ_CHECK(strcmp(r->csrf_cookie, csrf) == 0);

	if (rc == 0) {
		FUZZ_CHECK(r->content_length == cl);
		FUZZ_CHECK(r->query.count == nref);
		for (i = 0; i < nref; i++) {
			const struct param *pp = &r->query.p[i];

			FUZZ_CHECK(strlen(pp->name) == ref[i].name_len &&
				   memcmp(pp->name, ref[i].name,
					  ref[i].name_len) == 0);
			FUZZ_CHECK(pp->value_len == ref[i].value_len &&
				   memcmp(pp->value, ref[i].value,
					  pp->value_len) == 0);
		}
		/* The list API's parameters (api_tasks_list). */
		check_int(&r->query, "since", 0, INT64_MAX);
		check_int(&r->query, "limit", 1, 1000);
		check_int(&r->query, "before", 1, INT64_MAX);
	}

	ct = e.field[F_TYPE] && e.field[F_TYPE][0] ? e.field[F_TYPE] : NULL;
	FUZZ_CHECK(r->content_type == ct);
	if (ct != NULL) {
		const char *mime = "application/json";
		size_t n = strlen(mime), k;
		int want = strncasecmp(ct, mime, n) == 0;

		k = want ? n + strspn(ct + n, " \t") : 0;
		want = want && (ct[k] == '\0' || ct[k] == ';');
		FUZZ_CHECK(request_content_type_is(r, mime) == want);
	}
out:
	free(r);
	free(e.uri);
	for (f = 0; f < F__MAX; f++)
		free(e.field[f]);
	return 0;
}
