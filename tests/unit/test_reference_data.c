/* test_reference_data.c: the reference digits kept in tests/data are pi's,
 * checked against MPFR's mpfr_const_pi, which shares no code with the
 * engine. */
#include <mpfr.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sha256.h"
#include "t.h"

#define DATA_DIR "tests/data"

/*
 * "3" and n decimals of pi, proven: pi lies in [lo, hi) with lo rounded
 * down and hi the next number above it, and both truncate to the same n
 * decimals. Returns a malloc'd string, or NULL if the bounds disagree
 * (then more precision would be needed; it never happens with 64 guard
 * bits for the sizes used here).
 */
static char *
mpfr_pi_decimals(long n)
{
	mpfr_t lo, hi;
	mpfr_exp_t e1, e2;
	char *a, *b, *out = NULL;

	mpfr_inits2((mpfr_prec_t)(n * 3.3219280948873623) + 64, lo, hi,
		    (mpfr_ptr)0);
	mpfr_const_pi(lo, MPFR_RNDD);
	mpfr_set(hi, lo, MPFR_RNDN);
	mpfr_nextabove(hi);
	a = mpfr_get_str(NULL, &e1, 10, (size_t)n + 1, lo, MPFR_RNDZ);
	b = mpfr_get_str(NULL, &e2, 10, (size_t)n + 1, hi, MPFR_RNDZ);
	if (a != NULL && b != NULL && e1 == 1 && e2 == 1 && strcmp(a, b) == 0)
		out = strdup(a);
	if (a != NULL)
		mpfr_free_str(a);
	if (b != NULL)
		mpfr_free_str(b);
	mpfr_clears(lo, hi, (mpfr_ptr)0);
	return out;
}

static void
sha256_hex_of(const char *s, size_t len, char hex[65])
{
	struct sha256 ctx;
	unsigned char d[SHA256_LEN];

	sha256_init(&ctx);
	sha256_update(&ctx, s, len);
	sha256_final(&ctx, d);
	sha256_hex(d, hex);
}

/* The hash listed in pi-prefix.sha256 for n decimals, or -1. */
static int
listed_sha256(long n, char hex[65])
{
	char line[256], h[65];
	long ln;
	FILE *fp = fopen(DATA_DIR "/pi-prefix.sha256", "r");
	int ok = -1;

	if (fp == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (line[0] != '#' && sscanf(line, "%ld %64s", &ln, h) == 2 &&
		    ln == n) {
			memcpy(hex, h, 65);
			ok = 0;
		}
	fclose(fp);
	return ok;
}

static void
test_ten_thousand(void)
{
	char buf[10100], hex[65], want[65];
	FILE *fp = fopen(DATA_DIR "/pi-10000.txt", "r");
	size_t len = 0;
	char *pi;

	if (fp != NULL) {
		len = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	buf[len] = '\0';
	T_CHECK(len == 10001 && strspn(buf, "0123456789") == len,
		"pi-10000.txt is \"3\" and 10000 decimals");
	pi = mpfr_pi_decimals(10000);
	T_CHECK(pi != NULL && strcmp(pi, buf) == 0,
		"pi-10000.txt equals mpfr_const_pi's 10000 decimals");
	sha256_hex_of(buf, len, hex);
	T_CHECK(listed_sha256(10000, want) == 0 && strcmp(hex, want) == 0,
		"pi-prefix.sha256 lists the SHA-256 of pi-10000.txt for 10^4");
	free(pi);
}

/* The listed SHA-256 of n decimals against MPFR's decimals. */
static void
test_listed_hash(long n)
{
	char hex[65] = "", want[65] = "";
	char *pi = mpfr_pi_decimals(n);

	if (pi != NULL)
		sha256_hex_of(pi, strlen(pi), hex);
	T_CHECK(pi != NULL && listed_sha256(n, want) == 0 &&
		    strcmp(hex, want) == 0,
		"pi-prefix.sha256 for %ld decimals equals mpfr_const_pi's", n);
	free(pi);
}

int
main(void)
{
	test_ten_thousand();
	test_listed_hash(1000000);
	test_listed_hash(10000000);
	return T_EXIT();
}
