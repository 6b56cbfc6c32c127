/* test_range.c: the Range header of GET /tasks/{id}/pi.txt, at the
 * edges of a body. */
#include <stdio.h>
#include <string.h>

#include "range.h"
#include "t.h"

static void
test_ranges(void)
{
	static const struct {
		const char *header;
		long long length;
		enum range_result want;
		long long first, last;
	} cases[] = {
		{ NULL, 10, RANGE_NONE, 0, 0 },
		{ "bytes=0-0", 10, RANGE_OK, 0, 0 },
		{ "bytes=0-9", 10, RANGE_OK, 0, 9 },
		{ "bytes=0-99", 10, RANGE_OK, 0, 9 },
		{ "bytes=2-5", 10, RANGE_OK, 2, 5 },
		{ "bytes=9-9", 10, RANGE_OK, 9, 9 },
		{ "bytes=9-", 10, RANGE_OK, 9, 9 },
		{ "bytes=0-", 10, RANGE_OK, 0, 9 },
		{ "bytes=10-", 10, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=10-20", 10, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=99999999999999999999-", 10, RANGE_UNSATISFIABLE, 0,
		  0 },
		{ "bytes=-1", 10, RANGE_OK, 9, 9 },
		{ "bytes=-3", 10, RANGE_OK, 7, 9 },
		{ "bytes=-10", 10, RANGE_OK, 0, 9 },
		{ "bytes=-11", 10, RANGE_OK, 0, 9 },
		{ "bytes=-99999999999999999999", 10, RANGE_OK, 0, 9 },
		{ "bytes=-0", 10, RANGE_UNSATISFIABLE, 0, 0 },
		{ "BYTES=1-2", 10, RANGE_OK, 1, 2 },
		{ "bytes= 1-2 ", 10, RANGE_OK, 1, 2 },
		{ "bytes=5-4", 10, RANGE_NONE, 0, 0 },
		{ "bytes=0-1,3-4", 10, RANGE_NONE, 0, 0 },
		{ "bytes=0-1, 3-4", 10, RANGE_NONE, 0, 0 },
		{ "items=0-1", 10, RANGE_NONE, 0, 0 },
		{ "bytes=", 10, RANGE_NONE, 0, 0 },
		{ "bytes=-", 10, RANGE_NONE, 0, 0 },
		{ "bytes=a-b", 10, RANGE_NONE, 0, 0 },
		{ "bytes=1-2x", 10, RANGE_NONE, 0, 0 },
		{ "bytes=1", 10, RANGE_NONE, 0, 0 },
		{ "bytes=+1-2", 10, RANGE_NONE, 0, 0 },
		{ "bytes=1--2", 10, RANGE_NONE, 0, 0 },
		{ "bytes 1-2", 10, RANGE_NONE, 0, 0 },
		{ "bytes=0-0", 0, RANGE_UNSATISFIABLE, 0, 0 },
		{ "bytes=-5", 0, RANGE_UNSATISFIABLE, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long first = -7, last = -7;
		enum range_result r = range_parse(
		    cases[i].header, cases[i].length, &first, &last);
		int ok = r == cases[i].want;

		if (ok && r == RANGE_OK)
			ok = first == cases[i].first && last == cases[i].last;
		if (cases[i].want == RANGE_OK)
			T_CHECK(ok,
				"Range \"%s\" of %lld bytes: bytes %lld-%lld",
				cases[i].header, cases[i].length,
				cases[i].first, cases[i].last);
		else
			T_CHECK(ok, "Range \"%s\" of %lld bytes: %s",
				cases[i].header ? cases[i].header : "(none)",
				cases[i].length,
				cases[i].want == RANGE_NONE ? "the whole body"
							    : "unsatisfiable");
		if (!ok)
			T_DIAG("got %d %lld-%lld", (int)r, first, last);
	}
}

/* If-None-Match: a list of tags, weak ones too, or "*". */
static void
test_etag_lists(void)
{
	static const struct {
		const char *header;
		int want;
	} cases[] = {
		{ NULL, 0 },
		{ "", 0 },
		{ "\"pi-5\"", 1 },
		{ "W/\"pi-5\"", 1 },
		{ "*", 1 },
		{ "\"pi-50\"", 0 },
		{ "\"pi-\"", 0 },
		{ "pi-5", 0 },
		{ "\"a\", \"pi-5\"", 1 },
		{ "\"a\",W/\"b\" ,\t\"pi-5\"", 1 },
		{ "\"a\", \"b\"", 0 },
		{ "\"pi-5", 0 },
		{ "\"a\" junk \"pi-5\"", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		T_CHECK(range_etag_listed(cases[i].header, "\"pi-5\"") ==
			    cases[i].want,
			"If-None-Match %s %s \"pi-5\"",
			cases[i].header ? cases[i].header : "(none)",
			cases[i].want ? "names" : "does not name");
}

int
main(void)
{
	test_ranges();
	test_etag_lists();
	return T_EXIT();
}
