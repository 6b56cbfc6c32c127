/* pi_engine.c: exact decimal digits of pi, proven by rigorous error bounds. */
#include "pi.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>

#include <gmp.h>

#include "pi_convert.h"
#include "pi_ctl.h"
#include "pi_par.h"
#include "pi_series.h"
#include "pi_tune.h"

/*
 * Chudnovsky: pi = 426880 sqrt(10005) / S with S the series summed by
 * pi_series, S = T/Q + tail, Q = Q' 2^qs. We form Y, an integer with
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

/*
 * More threads than this gain nothing on the machines we run on, and each
 * can cost a 64 MiB malloc arena of address space.
 */
#define ENGINE_MAX_THREADS 8

/* Beyond this the numbers outgrow the engine's index types. */
#define ENGINE_MAX_DECIMALS 1000000000UL

/*
 * Where the series is cut between the two threads, as a fraction of its
 * terms: later terms have bigger numbers, so the right part gets fewer
 * (the cut at which both threads finished their parts together, measured
 * at 10^7 and 10^8 decimals).
 */
#define ENGINE_SPLIT 0.54

/* s = floor(sqrt(10005) 2^ws) */
static void
engine_sqrt(mpz_t s, mp_bitcnt_t ws)
{
	mpz_set_ui(s, 10005);
	mpz_mul_2exp(s, s, 2 * ws);
	mpz_sqrt(s, s);
}

/* The right part of the series, on the second thread. */
struct engine_right_job {
	struct pi_series *series;
	unsigned long m;
	int threads;
};

static void *
engine_right_run(void *p)
{
	struct engine_right_job *j = p;

	pi_series_right(j->series, j->m, j->threads);
	return NULL;
}

/*
 * The square root on the second thread while the first divides; whichever
 * is done first makes the conversion's powers of 5.
 */
struct engine_root_job {
	mpz_ptr s;
	mp_bitcnt_t ws;
	size_t decimals;
	atomic_int pw_claimed;
	struct pi_pow5 *pw;
	struct pi_ctl *ctl;
};

/* Makes the powers of 5 unless the other thread already does. */
static void
engine_root_powers(struct engine_root_job *j)
{
	if (atomic_exchange(&j->pw_claimed, 1) == 0)
		j->pw = pi_convert_powers(j->decimals, 1);
}

static void *
engine_root_run(void *p)
{
	struct engine_root_job *j = p;

	if (!pi_ctl_stopped(j->ctl)) {
		engine_sqrt(j->s, j->ws);
		engine_root_powers(j);
	}
	return NULL;
}

/*
 * One try at `decimals` digits into buf with W = decimals log2(10) +
 * guard. Sets *ambiguous when the bound could not fix every digit.
 */
static enum pi_result
engine_try(size_t decimals, int threads, unsigned guard, struct pi_ctl *ctl,
	   char *buf, int *ambiguous)
{
	mp_bitcnt_t w, qs = 0, cut, ws, wz;
	unsigned long terms, m;
	enum pi_result res = PI_OK;
	struct pi_series *series = NULL;
	struct engine_right_job rj;
	struct engine_root_job sq;
	pthread_t th;
	int running = 0, half = threads >= 4 ? threads / 2 : 1;
	mpz_t q, t, s, z;

	*ambiguous = 0;
	w = (mp_bitcnt_t)ceil((double)decimals * 3.3219280948873623) + guard;
	ws = w + 10;
	terms = pi_series_terms(w + 16);
	m = threads >= 2 ? (unsigned long)(terms * ENGINE_SPLIT) : terms / 2;
	if (m < 1)
		m = 1;
	mpz_inits(q, t, s, z, NULL);
	sq.s = s;
	sq.ws = ws;
	sq.decimals = decimals;
	atomic_init(&sq.pw_claimed, 0);
	sq.pw = NULL;
	sq.ctl = ctl;

	pi_ctl_phase(ctl, PI_PHASE_SERIES, pi_series_work(terms, m));
	series = pi_series_new(terms, ctl);
	if (series == NULL) {
		res = PI_NOMEM;
		goto out;
	}
	/* The two parts of the series side by side, then their join. */
	rj = (struct engine_right_job){ series, m, half };
	if (threads >= 2 &&
	    pthread_create(&th, NULL, engine_right_run, &rj) == 0)
		running = 1;
	pi_series_left(series, m, running ? half : threads);
	if (running) {
		pthread_join(th, NULL);
		running = 0;
	} else {
		engine_right_run(&rj);
	}
	switch (pi_series_finish(series, q, &qs, t, threads)) {
	case PI_SERIES_OK:
		break;
	case PI_SERIES_STOPPED:
		res = PI_CANCELLED;
		goto out;
	case PI_SERIES_NOMEM:
		res = PI_NOMEM;
		goto out;
	}
	pi_series_free(series);
	series = NULL;

	/* The square root (second thread) beside the division (this one). */
	pi_ctl_phase(ctl, PI_PHASE_FINAL, 3);
	if (threads >= 2 &&
	    pthread_create(&th, NULL, engine_root_run, &sq) == 0)
		running = 1;
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
	/* z = floor(q 2^wz / t) */
	wz = w + 11 + mpz_sizeinbase(t, 2) - mpz_sizeinbase(q, 2);
	mpz_mul_2exp(q, q, wz);
	mpz_tdiv_q(z, q, t);
	mpz_realloc2(q, 1);
	mpz_realloc2(t, 1);
	engine_root_powers(&sq);
	if (running) {
		pthread_join(th, NULL);
		running = 0;
	} else {
		engine_root_run(&sq);
	}
	if (pi_ctl_add(ctl, 2)) {
		res = PI_CANCELLED;
		goto out;
	}
	if (sq.pw == NULL) {
		res = PI_NOMEM;
		goto out;
	}
	pi_par_mul(s, s, z, threads);
	mpz_realloc2(z, 1);
	mpz_mul_ui(s, s, 426880);
	mpz_tdiv_q_2exp(s, s, ws + wz - w);

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

	pi_ctl_phase(ctl, PI_PHASE_CONVERT, pi_convert_work(decimals));
	switch (pi_convert(buf, decimals, s, w, ENGINE_ERR, guard, sq.pw,
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
out:
	pi_series_free(series);
	pi_convert_powers_free(sq.pw);
	mpz_clears(q, t, s, z, NULL);
	return res;
}

enum pi_result
pi_compute_tuned(const struct pi_params *p, const struct pi_hooks *hooks,
		 struct pi_tune *tune, char **out)
{
	struct pi_ctl ctl;
	enum pi_result res;
	unsigned guard = tune->guard > 0 ? tune->guard : PI_TUNE_GUARD;
	size_t decimals = p->decimals;
	int threads = p->threads, ambiguous;
	char *buf = NULL;

	*out = NULL;
	tune->attempts = 0;
	if (decimals > ENGINE_MAX_DECIMALS)
		return PI_TOO_BIG;
	if (p->memory_limit > 0 &&
	    pi_memory_estimate(decimals, threads) > p->memory_limit)
		return PI_OVER_LIMIT;
	if (threads < 1)
		threads = 1;
	if (threads > ENGINE_MAX_THREADS)
		threads = ENGINE_MAX_THREADS;
	buf = malloc(decimals + 1);
	if (buf == NULL)
		return PI_NOMEM;
	if (pi_ctl_init(&ctl, hooks) < 0) {
		free(buf);
		return PI_NOMEM;
	}
	for (;;) {
		tune->attempts++;
		res =
		    engine_try(decimals, threads, guard, &ctl, buf, &ambiguous);
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
		pi_ctl_finish(&ctl);
		*out = buf;
		buf = NULL;
	}
	pi_ctl_destroy(&ctl);
	free(buf);
	return res;
}

enum pi_result
pi_compute(const struct pi_params *p, const struct pi_hooks *hooks, char **out)
{
	struct pi_tune tune = { 0 };

	return pi_compute_tuned(p, hooks, &tune, out);
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
		[PI_OVER_LIMIT] = "the computation would need more memory "
				  "than its limit",
		[PI_UNPROVEN] = "the digits could not be proven (engine bug)",
	};

	if ((int)r < 0 || r >= PI_RESULT__MAX || msg[r] == NULL)
		return "unknown engine result";
	return msg[r];
}

size_t
pi_memory_estimate(size_t decimals, int threads)
{
	/*
	 * Measured peak address space (VmPeak, which RLIMIT_AS caps), 2
	 * threads: 143 MiB at 10^6 decimals, 185 MiB at 10^7, 1133 MiB at
	 * 10^8, of which ~9.5 bytes a decimal are data and ~140 MiB are
	 * malloc arenas and stacks reserved for the threads. With 4 threads
	 * 10^7 peaks at 323 MiB. The bound keeps 12 bytes a decimal (15 with
	 * 4+ threads) plus 80 MiB a thread, and 32 MiB for the rest.
	 */
	size_t per = threads >= 4 ? 15 : 12;
	size_t t = threads < 1                    ? 1
		   : threads > ENGINE_MAX_THREADS ? ENGINE_MAX_THREADS
						  : (size_t)threads;

	if (decimals > ENGINE_MAX_DECIMALS)
		decimals = ENGINE_MAX_DECIMALS;
	return decimals * per + ((size_t)32 << 20) +
	       (t > 1 ? t * ((size_t)80 << 20) : 0);
}
