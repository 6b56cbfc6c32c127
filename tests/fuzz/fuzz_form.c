/* fuzz_form.c: libFuzzer target for params_parse on a form body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nparse.h"
#include "params.h"
#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ref_param ref[PARAMS_MAX];

/* Returns 1 if p lies inside the arena of ps. */
static int
in_arena(const struct params *ps, const char *p)
{
	return p >= ps->arena && p < ps->arena + sizeof(ps->arena);
}

/*
 * The input is the body bytes as route_check_change hands them over: not
 * NUL-terminated, any byte. The params go in a heap block of their own
 * size, so writing past the arena is an ASan report.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	struct params *p = malloc(sizeof(*p));
	char err[320];
	int rc, nref, i;

	if (p == NULL)
		return 0;
	err[0] = '\0';
	rc = params_parse(p, s, size, err, sizeof(err));
	nref = ref_params(s, size, ref);

	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(p->count >= 0 && p->count <= PARAMS_MAX);
	FUZZ_CHECK((rc == 0) == (nref >= 0));
	FUZZ_CHECK(rc == 0 || (err[0] != '\0' && strlen(err) < sizeof(err)));
	for (i = 0; i < p->count; i++) {
		const struct param *q = &p->p[i];

		/* Even a refused form leaves usable, NUL-terminated params. */
		FUZZ_CHECK(in_arena(p, q->name) && in_arena(p, q->value));
		FUZZ_CHECK(q->name[0] != '\0');
		FUZZ_CHECK(strlen(q->value) == q->value_len);
		FUZZ_CHECK(in_arena(p, q->value + q->value_len));
	}
	if (rc == 0) {
		FUZZ_CHECK(p->count == nref);
		for (i = 0; i < p->count; i++) {
			const struct param *q = &p->p[i];

			FUZZ_CHECK(strlen(q->name) == ref[i].name_len);
			FUZZ_CHECK(
			    memcmp(q->name, ref[i].name, ref[i].name_len) == 0);
			FUZZ_CHECK(q->value_len == ref[i].value_len);
			FUZZ_CHECK(
			    memcmp(q->value, ref[i].value, q->value_len) == 0);
			/* Names are unique, so the lookup finds this one. */
			FUZZ_CHECK(params_get(p, q->name) == q->value);
		}
	}

	/* What page_index_post does with the form's n. */
	if (rc == 0) {
		const char *typed = params_get(p, "n");
		size_t tlen = typed ? strlen(typed) : 0;
		long long n = -1, w = -1, v = -1;
		enum nparse_err e = nparse(typed, tlen, 10000000LL, &n);
		int g;

		FUZZ_CHECK(e == ref_nparse(typed, tlen, 10000000LL, &w));
		FUZZ_CHECK(e != NPARSE_OK ||
			   (n == w && n >= 1 && n <= 10000000LL));
		g = params_get_int(p, "n", 1, 10000000LL, &v);
		FUZZ_CHECK(typed != NULL || g == 1);
		FUZZ_CHECK(g != 0 || (e == NPARSE_OK && v == n));
		FUZZ_CHECK(g == 0 || e != NPARSE_OK || tlen > 19);
	}
	free(p);
	return 0;
}
