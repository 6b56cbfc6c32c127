/* pi_engine.c: exact decimal digits of pi, proven by rigorous error bounds. */
#include "pi_engine.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

#include <gmp.h>

#include "pi_convert.h"
#include "pi_ctl.h"
#include "pi_par.h"
#include "pi_series.h"
#include "pi_tune.h"

/*
  * Chudnovsky: pi = 426880 sqrt(10005) / S with S the series summed by
 * pi_series_sum, S = T/Q + tail, Q = Q' 2^qs. We form Y, an integer with
 * |Y - pi 2^W| <= ENGINE_ERR, where W is decimals log2(10) plus guard
 * bits, then pi_convert turns frac(Y / 2^W) into decimals, proving each
 * digit against that bound.
 *
 * The error of Y: every approximation below is relative and at most
 * 2^-(W+10) (series tail 2^-(W+16) since S > 1; cutting Q and T to W+16
 * bits, 2^-(W+15); the quotient Z >= 2^(W+10), so its floor 2^-(W+10);
 * the root s >= 2^(W+16), 2^-(W+16)); together under 2^-(W+9), which on
 * pi 2^W < 2^(W+2) is under 1/128 unit; the final floor adds under one.
 */
#define ENGINE_ERR 2

/* Beyond this the numbers outgrow the engine's index types. */
#define ENGINE_MAX_DECIMALS 1000000000UL

/* Overall fraction of the run each phase takes, measured at 10^7. */
static const double engine_weight[PI_PHASE__MAX] = { 0.62, 0.13, 0.25 };

static double
engine_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

struct sqrt_job {
	mpz_ptr s;
	mp_bitcnt_t ws;
};

/* s = floor(sqrt(10005) 2^ws) */
static void
engine_sqrt(void *p)
{
	struct sqrt_job *j = p;

	mpz_set_ui(j->s, 10005);
	mpz_mul_2exp(j->s, j->s, 2 * j->ws);
	mpz_sqrt(j->s, j->s);
}

struct div_job {
	mpz_ptr z, q;
	mpz_srcptr t;
	mp_bitcnt_t wz;
	size_t decimals;
	struct pi_pow5 *pw; /* out */
};

/*
 * z = floor(q 2^wz / t); spends q. The square root beside it takes
 * longer, so this thread also makes the conversion's powers of 5.
 */
static void
engine_div(void *p)
{
	struct div_job *j = p;

	mpz_mul_2exp(j->q, j->q, j->wz);
	mpz_tdiv_q(j->z, j->q, j->t);
	mpz_realloc2(j->q, 1);
	j->pw = pi_convert_powers(j->decimals, 1);
}

/*
 * One try at `decimals` digits into buf with W = decimals log2(10) +
 * guard. Sets *ambiguous when the bound could not fix every digit.
 */
static enum pi_result
engine_try(size_t decimals, int threads, unsigned guard, struct pi_ctl *ctl,
	   char *buf, int *ambiguous, double *secs)
{
	const double *wt = engine_weight;
	mp_bitcnt_t w, qs = 0, cut, ws, wz;
	unsigned long terms;
	enum pi_result res = PI_OK;
	struct sqrt_job sj;
	struct div_job dj = { 0 };
	mpz_t q, t, s, z;
	double t0;

	*ambiguous = 0;
	w = (mp_bitcnt_t)ceil((double)decimals * 3.3219280948873623) + guard;
	terms = pi_series_terms(w + 16);
	mpz_inits(q, t, s, z, NULL);

	t0 = engine_now();
	pi_ctl_phase(ctl, PI_PHASE_SERIES, 0, wt[0], pi_series_work(terms));
	switch (pi_series_sum(q, &qs, t, terms, threads, ctl)) {
	case PI_SERIES_OK:
		break;
	case PI_SERIES_STOPPED:
		res = PI_CANCELLED;
		goto out;
	case PI_SERIES_NOMEM:
		res = PI_NOMEM;
		goto out;
	}
	secs[PI_PHASE_SERIES] += engine_now() - t0;

	t0 = engine_now();
	pi_ctl_phase(ctl, PI_PHASE_FINAL, wt[0], wt[1], 3);
	/*
	 * Only W+16 bits of Q matter: q = floor(Q / 2^cut) and t =
	 * floor(T / 2^cut) keep Q/T within [q/(t+1), (q+1)/t].
	 */
	cut = mpz_sizeinbase(q, 2) + qs;
	cut = cut > w + 16 ? cut - (w + 16) : 0;
	if (cut >= qs)
		mpz_tdiv_q_2exp(q, q, cut - qs);
	else
		mpz_mul_2exp(q, q, qs - cut);
	mpz_tdiv_q_2exp(t, t, cut);
	ws = w + 10;
	wz = w + 11 + mpz_sizeinbase(t, 2) - mpz_sizeinbase(q, 2);
	sj = (struct sqrt_job){ s, ws };
	dj = (struct div_job){ z, q, t, wz, decimals, NULL };
	pi_par_run2(engine_sqrt, &sj, engine_div, &dj, threads >= 2);
	mpz_realloc2(t, 1);
	if (dj.pw == NULL) {
		res = PI_NOMEM;
		goto out;
	}
	if (pi_ctl_add(ctl, 2)) {
		res = PI_CANCELLED;
		goto out;
	}
	pi_par_mul(s, s, z, threads);
	mpz_realloc2(z, 1);
	mpz_mul_ui(s, s, 426880);
	mpz_tdiv_q_2exp(s, s, ws + wz - w);
	secs[PI_PHASE_FINAL] += engine_now() - t0;

	/* s is now Y: its integer part must be 3, the rest is the fraction. */
	mpz_tdiv_q_2exp(q, s, w);
	if (mpz_cmp_ui(q, 3) != 0) {
		*ambiguous = 1;
		goto out;
	}
	mpz_tdiv_r_2exp(s, s, w);
	if (pi_ctl_add(ctl, 1)) {
		res = PI_CANCELLED;
		goto out;
	}

	t0 = engine_now();
	pi_ctl_phase(ctl, PI_PHASE_CONVERT, wt[0] + wt[1], wt[2],
		     pi_convert_work(decimals));
	switch (pi_convert(buf, decimals, s, w, ENGINE_ERR, guard, dj.pw,
			   threads, ctl)) {
	case PI_CONVERT_OK:
		break;
	case PI_CONVERT_AMBIGUOUS:
		*ambiguous = 1;
		break;
	case PI_CONVERT_STOPPED:
		res = PI_CANCELLED;
		break;
	}
	secs[PI_PHASE_CONVERT] += engine_now() - t0;
out:
	pi_convert_powers_free(dj.pw);
	mpz_clears(q, t, s, z, NULL);
	return res;
}

enum pi_result
pi_compute_tuned(size_t decimals, int threads, const struct pi_hooks *hooks,
		 struct pi_tune *tune, char **out)
{
	struct pi_ctl ctl;
	enum pi_result res;
	unsigned guard = tune->guard > 0 ? tune->guard : PI_TUNE_GUARD;
	char *buf = NULL;
	int ambiguous, i;

	*out = NULL;
	tune->attempts = 0;
	for (i = 0; i < PI_PHASE__MAX; i++)
		tune->secs[i] = 0;
	if (decimals > ENGINE_MAX_DECIMALS)
		return PI_TOO_BIG;
	if (threads < 1)
		threads = 1;
	buf = malloc(decimals + 1);
	if (buf == NULL)
		return PI_NOMEM;
	if (pi_ctl_init(&ctl, hooks) < 0) {
		free(buf);
		return PI_NOMEM;
	}
	for (;;) {
		tune->attempts++;
		res = engine_try(decimals, threads, guard, &ctl, buf,
				 &ambiguous, tune->secs);
		if (res != PI_OK || !ambiguous)
			break;
		/* Digits sit too near a boundary for the bound: widen it. */
		if (guard > 1u << 24) {
			res = PI_UNPROVEN;
			break;
		}
		guard = 2 * guard + 64;
	}
	if (res == PI_OK) {
		buf[decimals] = '\0';
		pi_ctl_phase(&ctl, PI_PHASE_CONVERT, 1, 0, 1);
		*out = buf;
		buf = NULL;
	}
	pi_ctl_destroy(&ctl);
	free(buf);
	return res;
}

enum pi_result
pi_compute(size_t decimals, int threads, const struct pi_hooks *hooks,
	   char **out)
{
	struct pi_tune tune = { 0 };

	return pi_compute_tuned(decimals, threads, hooks, &tune, out);
}

const char *
pi_result_message(enum pi_result r)
{
	static const char *const msg[PI_RESULT__MAX] = {
		[PI_OK] = "the digits were computed and proven",
		[PI_CANCELLED] = "the computation was cancelled",
		[PI_NOMEM] = "the computation ran out of memory",
		[PI_TOO_BIG] =
		    "the position is beyond what the engine supports",
		[PI_UNPROVEN] = "the digits could not be proven (engine bug)",
	};

	if ((int)r < 0 || r >= PI_RESULT__MAX || msg[r] == NULL)
		return "unknown engine result";
	return msg[r];
}

size_t
pi_memory_estimate(size_t decimals, int threads)
{
	(void)threads;
	return (size_t)64 << 20 | (decimals * 16);
}
