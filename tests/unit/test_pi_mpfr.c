/* test_pi_mpfr.c: the pi engine's digits agree with MPFR's mpfr_const_pi,
 * which shares no code with it, for random n. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mpfr.h>

#include "pi.h"
#include "t.h"

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static size_t
rng_below(size_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)((rng_state >> 33) % n);
}

/* Whether s[from .. from+len) is all '9' or all '0': a prefix cut there
 * from an approximation could be off by one. */
static int
uncertain_cut(const char *s, size_t from, size_t len)
{
	size_t i, nines = 0, zeros = 0;

	for (i = from; i < from + len; i++) {
		nines += s[i] == '9';
		zeros += s[i] == '0';
	}
	return nines == len || zeros == len;
}

static void
test_mpfr_random_n(void)
{
	const size_t max = 100000, extra = 40;
	struct pi_params p = { 0, 2, 0 };
	mpfr_t x;
	mpfr_exp_t e;
	char *m, *d;
	size_t i, bad = 0, skipped = 0;

	/* RNDZ twice: below pi by under 10^-(max+extra) in all. */
	mpfr_init2(x, (mpfr_prec_t)((max + extra) * 3.33) + 64);
	mpfr_const_pi(x, MPFR_RNDZ);
	m = mpfr_get_str(NULL, &e, 10, max + extra, x, MPFR_RNDZ);
	mpfr_clear(x);
	for (i = 0; i < 40; i++) {
		p.decimals = 1 + rng_below(max);
		if (uncertain_cut(m, p.decimals + 1, 25)) {
			skipped++;
			continue;
		}
		d = NULL;
		if (pi_compute(&p, NULL, &d) != PI_OK || d == NULL ||
		    strlen(d) != p.decimals ||
		    memcmp(d, m + 1, p.decimals) != 0) {
			T_DIAG("n = %zu differs from mpfr_const_pi",
			       p.decimals);
			bad++;
		}
		free(d);
	}
	if (skipped > 0)
		T_DIAG("%zu cuts skipped as too close to call", skipped);
	T_CHECK(m != NULL && e == 1 && m[0] == '3' && bad == 0,
		"40 random n up to 100000 agree with mpfr_const_pi");
	mpfr_free_str(m);
}

int
main(void)
{
	test_mpfr_random_n();
	return T_EXIT();
}
