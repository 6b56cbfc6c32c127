/* test_nparse.c: parsing and validating n. */
#include <string.h>

#include "nparse.h"
#include "t.h"

#define NMAX 10000000LL

/* Parses a NUL-terminated string; returns the error, n in *out. */
static enum nparse_err
parse(const char *s, long long *out)
{
	return nparse(s, strlen(s), NMAX, out);
}

static void
test_accepts_plain_digits(void)
{
	long long n = 0;

	T_CHECK(parse("1", &n) == NPARSE_OK && n == 1, "n=1 is accepted");
	T_CHECK(parse("762", &n) == NPARSE_OK && n == 762, "n=762 is accepted");
	T_CHECK(parse("10000000", &n) == NPARSE_OK && n == NMAX,
		"n=n_max is accepted");
	T_CHECK(parse("007", &n) == NPARSE_OK && n == 7,
		"leading zeros are plain digits");
}

static void
test_rejects_bad_input(void)
{
	static const struct {
		const char *in;
		enum nparse_err want;
	} cases[] = {
		{ "", NPARSE_EMPTY },
		{ "0", NPARSE_ZERO },
		{ "000", NPARSE_ZERO },
		{ "-1", NPARSE_NOT_DIGITS },
		{ "+5", NPARSE_NOT_DIGITS },
		{ "1.5", NPARSE_NOT_DIGITS },
		{ "1e3", NPARSE_NOT_DIGITS },
		{ " 7", NPARSE_NOT_DIGITS },
		{ "7 ", NPARSE_NOT_DIGITS },
		{ "abc", NPARSE_NOT_DIGITS },
		{ "0x10", NPARSE_NOT_DIGITS },
		{ "１", NPARSE_NOT_DIGITS },
		{ "10000001", NPARSE_TOO_BIG },
		{ "99999999999999999999", NPARSE_TOO_BIG },
		{ "184467440737095516160000", NPARSE_TOO_BIG },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long long n = -42;
		enum nparse_err e = parse(cases[i].in, &n);

		T_CHECK(e == cases[i].want && n == -42,
			"\"%s\" is rejected with error %d", cases[i].in,
			(int)cases[i].want);
	}
}

static void
test_rejects_embedded_nul(void)
{
	long long n = -42;

	T_CHECK(nparse("12\0"
		       "3",
		       4, NMAX, &n) == NPARSE_NOT_DIGITS &&
		    n == -42,
		"a NUL byte inside n is rejected");
	T_CHECK(nparse(NULL, 0, NMAX, &n) == NPARSE_EMPTY,
		"a missing n is empty");
}

static void
test_messages_say_what_to_do(void)
{
	char msg[256];
	enum nparse_err e;

	for (e = NPARSE_EMPTY; e < NPARSE__MAX; e++) {
		nparse_message(e, NMAX, msg, sizeof(msg));
		T_CHECK(strstr(msg, "10000000") != NULL,
			"message for error %d names the limit: %s", (int)e,
			msg);
	}
}

int
main(void)
{
	test_accepts_plain_digits();
	test_rejects_bad_input();
	test_rejects_embedded_nul();
	test_messages_say_what_to_do();
	return T_EXIT();
}
