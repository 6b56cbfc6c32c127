/* fuzz_nparse.c: libFuzzer target for nparse, the n parser, and parse_whole. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nparse.h"
#include "params.h"
#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Limits worth a look: the default, the config's ceiling, the edges of
 * one digit, and those where ten times n_max no longer fits. */
static const long long limits[] = {
	10000000LL,
	1000000000LL,
	1,
	9,
	10,
	99,
	1844674407370955161LL,
	1844674407370955162LL,
	922337203685477580LL,
	LLONG_MAX,
};

#define LIMITS_COUNT (sizeof(limits) / sizeof(limits[0]))
#define SENTINEL (-12345LL)

/*
 * The first byte picks n_max: below 0xf0 from the table; from 0xf0 on, the
 * next 8 bytes are n_max (made positive). The rest is the text of n.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	long long n_max, got = SENTINEL, want = SENTINEL, w = SENTINEL;
	enum nparse_err err, ref;
	const char *s;
	size_t len, outlen;
	char *msg;

	if (size < 1)
		return 0;
	if (data[0] >= 0xf0 && size >= 9) {
		uint64_t v;

		memcpy(&v, data + 1, sizeof(v));
		n_max = (long long)(v & (uint64_t)LLONG_MAX);
		if (n_max == 0)
			n_max = 1;
		s = (const char *)data + 9;
		len = size - 9;
	} else {
		n_max = limits[data[0] % LIMITS_COUNT];
		s = (const char *)data + 1;
		len = size - 1;
	}

	err = nparse(s, len, n_max, &got);
	ref = ref_nparse(s, len, n_max, &want);
	FUZZ_CHECK(err == ref);
	if (err == NPARSE_OK) {
		/* Accepted: 1..n_max, and the value is what the digits say. */
		FUZZ_CHECK(got >= 1 && got <= n_max);
		FUZZ_CHECK(got == want);
	} else {
		FUZZ_CHECK(got == SENTINEL);
	}
	FUZZ_CHECK(nparse(NULL, len, n_max, &got) == NPARSE_EMPTY);

	/* parse_whole takes at most 19 digits; within them it must agree. */
	if (len <= 19) {
		int rc = parse_whole(s, len, 1, n_max, &w);

		FUZZ_CHECK((rc == 0) == (err == NPARSE_OK));
		FUZZ_CHECK(rc == 0 ? w == got : w == SENTINEL);
	}

	/* The message fits any buffer, NUL-terminated, never past its end. */
	outlen = 1 + (len > 0 ? (unsigned char)s[0] % 300 : 0);
	msg = malloc(outlen);
	if (msg == NULL)
		return 0;
	for (int e = 0; e <= NPARSE__MAX; e++) {
		nparse_message((enum nparse_err)e, n_max, msg, outlen);
		FUZZ_CHECK(strlen(msg) < outlen);
	}
	free(msg);
	return 0;
}
