/* test_pi_engine.c: the pi engine's digits against references and other
 * algorithms; it links libnthpi-pi.a and GMP alone. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <gmp.h>

#include "pi.h"
#include "pi_tune.h"
#include "t.h"

/* "3" followed by REF_DECIMALS decimals, from tests/data/pi-10000.txt. */
#define REF_DECIMALS 10000
static char ref[REF_DECIMALS + 2];

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A small deterministic generator, so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static size_t
rng_below(size_t n)
{
	rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
	return (size_t)((rng_state >> 33) % n);
}

/* The reference digits are kept in the repository: tests run from its root. */
static const char *
reference_dir(void)
{
	return "tests/data";
}

static int
load_reference(void)
{
	char path[4096];
	FILE *fp;
	size_t n;

	if (snprintf(path, sizeof(path), "%s/pi-10000.txt", reference_dir()) >=
	    (int)sizeof(path))
		return -1;
	fp = fopen(path, "r");
	if (fp == NULL)
		return -1;
	n = fread(ref, 1, REF_DECIMALS + 1, fp);
	fclose(fp);
	ref[n] = '\0';
	return n == REF_DECIMALS + 1 ? 0 : -1;
}

/* The engine's decimals, or NULL (with a diagnostic). */
static char *
engine(size_t n, int threads)
{
	struct pi_params p = { n, threads, 0 };
	char *out = NULL;
	enum pi_result r = pi_compute(&p, NULL, &out);

	if (r != PI_OK) {
		T_DIAG("pi_compute(%zu, %d): %s", n, threads,
		       pi_result_message(r));
		return NULL;
	}
	return out;
}

static void
test_reference_10000(void)
{
	char *d;
	int t;

	for (t = 1; t <= 2; t++) {
		d = engine(REF_DECIMALS, t);
		T_CHECK(d != NULL && strlen(d) == REF_DECIMALS &&
			    memcmp(d, ref + 1, REF_DECIMALS) == 0,
			"10000 decimals match pi-10000.txt (%d thread%s)", t,
			t > 1 ? "s" : "");
		free(d);
	}
}

static void
test_known_digits(void)
{
	static const struct {
		size_t n;
		char digit;
	} known[] = { { 1, '1' },   { 2, '4' },   { 3, '1' },   { 5, '9' },
		      { 32, '0' },  { 761, '4' }, { 762, '9' }, { 763, '9' },
		      { 764, '9' }, { 765, '9' }, { 766, '9' }, { 767, '9' },
		      { 768, '8' } };
	size_t i;
	char *d;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		d = engine(known[i].n, 2);
		T_CHECK(d != NULL && strlen(d) == known[i].n &&
			    d[known[i].n - 1] == known[i].digit,
			"decimal %zu is %c", known[i].n, known[i].digit);
		free(d);
	}
}

static void
test_small_n_prefixes(void)
{
	size_t n, bad = 0;
	char *d;

	for (n = 1; n <= 120; n++) {
		d = engine(n, n % 2 + 1);
		if (d == NULL || strlen(d) != n || memcmp(d, ref + 1, n) != 0) {
			T_DIAG("n = %zu differs", n);
			bad++;
		}
		free(d);
	}
	T_CHECK(bad == 0, "every n from 1 to 120 gives the reference prefix");
}

static void
test_run_of_nines_each_end(void)
{
	size_t n, bad = 0;
	char *d;

	/* Decimals 762-767 are 999999: every cut through the run. */
	for (n = 755; n <= 775; n++) {
		d = engine(n, 1);
		if (d == NULL || memcmp(d, ref + 1, n) != 0 || d[n] != '\0')
			bad++;
		free(d);
	}
	T_CHECK(bad == 0, "every n through the 999999 at 762 truncates right");
}

static void
test_zero_decimals(void)
{
	struct pi_params p = { 0, 2, 0 };
	char *d = NULL;
	enum pi_result r = pi_compute(&p, NULL, &d);

	T_CHECK(r == PI_OK && d != NULL && d[0] == '\0',
		"0 decimals is an empty string");
	free(d);
}

static void
test_too_big(void)
{
	struct pi_params p = { (size_t)1 << 40, 2, 0 };
	char *d = (char *)1;
	enum pi_result r = pi_compute(&p, NULL, &d);

	T_CHECK(r == PI_TOO_BIG && d == NULL, "2^40 decimals is refused");
}

static void
test_memory_limit(void)
{
	struct pi_params p = { 100000, 2, pi_memory_estimate(100000, 2) - 1 };
	char *d = (char *)1;
	enum pi_result r = pi_compute(&p, NULL, &d);

	T_CHECK(
	    r == PI_OVER_LIMIT && d == NULL,
	    "a limit below the memory estimate is refused before it starts");
	p.memory_limit++;
	r = pi_compute(&p, NULL, &d);
	T_CHECK(r == PI_OK && d != NULL &&
		    memcmp(d, ref + 1, REF_DECIMALS) == 0,
		"a limit at the memory estimate lets the computation run");
	free(d);
}

static void
test_threads_agree(void)
{
	char *d1 = engine(300000, 1), *d2 = engine(300000, 2);
	char *d4 = engine(300000, 4);

	T_CHECK(d1 != NULL && d2 != NULL && d4 != NULL &&
		    memcmp(d1, d2, 300000) == 0 && memcmp(d1, d4, 300000) == 0,
		"1, 2 and 4 threads give the same 300000 decimals");
	free(d1);
	free(d2);
	free(d4);
}

/* Sets r = floor(scale / x) arctan(1/x) by its series, error < 2 terms. */
static unsigned long
machin_arctan(mpz_t r, unsigned long x, const mpz_t scale)
{
	mpz_t term, t;
	unsigned long k;

	mpz_init(t);
	mpz_init(term);
	mpz_tdiv_q_ui(term, scale, x);
	mpz_set(r, term);
	for (k = 1; mpz_sgn(term) != 0; k++) {
		mpz_tdiv_q_ui(term, term, x * x);
		mpz_tdiv_q_ui(t, term, 2 * k + 1);
		if (k % 2)
			mpz_sub(r, r, t);
		else
			mpz_add(r, r, t);
	}
	mpz_clear(t);
	mpz_clear(term);
	return k;
}

/* "3" and about `decimals` decimals by Machin's formula, error < 10^-(d-9). */
static char *
machin_digits(size_t decimals)
{
	mpz_t scale, a, b;
	char *s;

	mpz_inits(scale, a, b, NULL);
	mpz_ui_pow_ui(scale, 10, decimals);
	/* pi = 16 arctan(1/5) - 4 arctan(1/239) */
	machin_arctan(a, 5, scale);
	machin_arctan(b, 239, scale);
	mpz_mul_ui(a, a, 16);
	mpz_submul_ui(a, b, 4);
	s = mpz_get_str(NULL, 10, a);
	mpz_clears(scale, a, b, NULL);
	return s;
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
test_machin_random_n(void)
{
	const size_t max = 20000;
	char *m = machin_digits(max + 40), *d;
	size_t i, n, bad = 0, skipped = 0;

	for (i = 0; i < 150; i++) {
		n = 1 + rng_below(max);
		if (uncertain_cut(m, n + 1, 25)) {
			skipped++;
			continue;
		}
		d = engine(n, 1 + (int)(i % 2));
		if (d == NULL || strlen(d) != n || memcmp(d, m + 1, n) != 0) {
			T_DIAG("n = %zu differs from Machin", n);
			bad++;
		}
		free(d);
	}
	if (skipped > 0)
		T_DIAG("%zu cuts skipped as too close to call", skipped);
	T_CHECK(m != NULL && m[0] == '3' && bad == 0,
		"150 random n up to 20000 agree with Machin's formula");
	T_CHECK(memcmp(m, ref, REF_DECIMALS + 1) == 0,
		"Machin's formula itself agrees with pi-10000.txt");
	free(m);
}

static void
test_retry_with_more_guard_bits(void)
{
	struct pi_params p = { REF_DECIMALS, 2, 0 };
	struct pi_tune tune = { 0 };
	char *d = NULL;
	enum pi_result r;

	/* One guard bit cannot prove the digits, so it must retry. */
	tune.guard = 1;
	r = pi_compute_tuned(&p, NULL, &tune, &d);
	T_CHECK(r == PI_OK && tune.attempts > 1 && d != NULL &&
		    memcmp(d, ref + 1, REF_DECIMALS) == 0,
		"too few guard bits retry and still give the right digits");
	T_DIAG("attempts: %d", tune.attempts);
	free(d);
	tune.guard = 3;
	p.decimals = 767;
	p.threads = 1;
	r = pi_compute_tuned(&p, NULL, &tune, &d);
	T_CHECK(r == PI_OK && d != NULL && memcmp(d, ref + 1, 767) == 0,
		"a cut inside 999999 with few guard bits comes out right");
	free(d);
}

struct cancel_state {
	double start;
	double after;
	int polls;
};

static int
cancel_after(void *arg)
{
	struct cancel_state *c = arg;

	c->polls++;
	return now() - c->start >= c->after;
}

static void
test_cancel_stops_quickly(void)
{
	static const double afters[] = { 0, 0.2, 0.6 };
	struct cancel_state cs;
	struct pi_hooks hooks = { NULL, cancel_after, &cs };
	/* 10^7 takes seconds: every cancel comes well before the end. */
	struct pi_params p = { 10000000, 2, 0 };
	char *d;
	enum pi_result r;
	double took;
	size_t i;

	for (i = 0; i < sizeof(afters) / sizeof(afters[0]); i++) {
		cs.start = now();
		cs.after = afters[i];
		cs.polls = 0;
		d = (char *)1;
		r = pi_compute(&p, &hooks, &d);
		took = now() - cs.start - cs.after;
		T_CHECK(r == PI_CANCELLED && d == NULL && took < 0.3,
			"a cancel %.1f s in stops within 0.3 s", cs.after);
		T_DIAG("%s %.3f s after the cancel, %d polls",
		       r == PI_CANCELLED ? "stopped" : "finished", took,
		       cs.polls);
		if (r != PI_CANCELLED)
			free(d);
	}
}

struct progress_state {
	double last;
	int calls, backwards, bad_phase, bad_start;
	enum pi_phase phase;
};

static void
progress_record(void *arg, enum pi_phase phase, double f)
{
	struct progress_state *p = arg;

	if (f < p->last || f > 1)
		p->backwards++;
	if (phase < p->phase || phase >= PI_PHASE__MAX)
		p->bad_phase++;
	/* A phase's first report comes as it starts: where the one before
	 * it ends (a float's rounding apart). */
	else if (phase > p->phase && (f < pi_phase_end(phase - 1) - 1e-9 ||
				      f > pi_phase_end(phase - 1) + 1e-9))
		p->bad_start++;
	p->last = f;
	p->phase = phase;
	p->calls++;
}

static void
test_progress_monotone_to_one(void)
{
	struct progress_state ps = { 0, 0, 0, 0, 0, PI_PHASE_SERIES };
	struct pi_hooks hooks = { progress_record, NULL, &ps };
	struct pi_params p = { 2000000, 2, 0 };
	char *d = NULL;

	T_CHECK(pi_compute(&p, &hooks, &d) == PI_OK,
		"a run with a progress hook succeeds");
	T_CHECK(ps.backwards == 0 && ps.bad_phase == 0 && ps.calls >= 5 &&
		    ps.last == 1 && ps.phase == PI_PHASE_CONVERT,
		"progress never moves back and ends at 1");
	T_CHECK(
	    ps.bad_start == 0 && pi_phase_end(PI_PHASE_CONVERT) == 1,
	    "each phase starts where pi_phase_end says the one before ends");
	T_DIAG("%d progress calls, last %.4f", ps.calls, ps.last);
	free(d);
}

static void
test_peak_memory_under_estimate(void)
{
#if T_ASAN
	T_DIAG("skipped under AddressSanitizer, which inflates memory");
#else
	struct rusage ru;
	char *d = engine(2000000, 2);
	size_t peak;

	getrusage(RUSAGE_SELF, &ru);
	peak = (size_t)ru.ru_maxrss * 1024;
	T_CHECK(d != NULL && peak < pi_memory_estimate(2000000, 2),
		"peak RSS so far stays under pi_memory_estimate(2e6, 2)");
	T_DIAG("peak %zu KiB, estimate %zu KiB", peak / 1024,
	       pi_memory_estimate(2000000, 2) / 1024);
	free(d);
#endif
}

static void
test_messages_and_estimate(void)
{
	int r, ok = 1;

	for (r = 0; r < PI_RESULT__MAX; r++)
		ok = ok && pi_result_message((enum pi_result)r) != NULL &&
		     strlen(pi_result_message((enum pi_result)r)) > 0;
	T_CHECK(ok, "every result has a message");
	T_CHECK(pi_memory_estimate(1000, 2) < pi_memory_estimate(10000000, 2) &&
		    pi_memory_estimate(100000000, 2) > (size_t)100000000,
		"the memory estimate grows with the decimals");
}

int
main(void)
{
	double t0 = now();

	if (!T_CHECK(load_reference() == 0, "pi-10000.txt loads from %s",
		     reference_dir()))
		return T_EXIT();
	test_reference_10000();
	test_known_digits();
	test_small_n_prefixes();
	test_run_of_nines_each_end();
	test_zero_decimals();
	test_too_big();
	test_memory_limit();
	test_threads_agree();
	test_machin_random_n();
	test_retry_with_more_guard_bits();
	test_cancel_stops_quickly();
	test_progress_monotone_to_one();
	test_messages_and_estimate();
	test_peak_memory_under_estimate();
	T_DIAG("%.1f s", now() - t0);
	return T_EXIT();
}
