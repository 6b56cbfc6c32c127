/* pi_series.h: the Chudnovsky series summed exactly by binary splitting. */
#ifndef NTHPI_PI_SERIES_H
#define NTHPI_PI_SERIES_H

#include <stdint.h>

#include <gmp.h>

#include "pi_ctl.h"

/*
 * The sum of terms 0 .. terms-1 of the Chudnovsky series
 *   S = sum (-1)^k (6k)! (13591409 + 545140134 k) / ((3k)! (k!)^3 640320^3k)
 * is made in two parts, [0, m) and [m, terms), which may run at the same
 * time on different threads, then joined.
 */
struct pi_series;

enum pi_series_status {
	PI_SERIES_OK,
	PI_SERIES_STOPPED, /* the ctl asked to stop */
	PI_SERIES_NOMEM    /* a malloc failed */
};

/*
 * Prepares a sum of `terms` terms (sieving the primes it needs). Returns
 * NULL if out of memory; free it with pi_series_free.
 */
struct pi_series *pi_series_new(unsigned long terms, struct pi_ctl *ctl);

/* Frees s and everything it holds (NULL is fine). */
void pi_series_free(struct pi_series *s);

/*
 * Sums terms [0, m), or [m, terms), into s, on up to `threads` threads.
 * The two may run at once; each returns early once the ctl stops.
 */
void pi_series_left(struct pi_series *s, unsigned long m, int threads);
void pi_series_right(struct pi_series *s, unsigned long m, int threads);

/*
 * Joins the two parts, after both returned, so that t / (q 2^qs) is the
 * sum (q > 0, t > 0). q and t are the caller's; they hold junk unless
 * PI_SERIES_OK.
 */
enum pi_series_status pi_series_finish(struct pi_series *s, mpz_t q,
				       mp_bitcnt_t *qs, mpz_t t, int threads);

/* The work units the three calls report, split at m. */
uint64_t pi_series_work(unsigned long terms, unsigned long m);

/*
 * The number of terms after which the tail of the series is below
 * 2^-bits (rigorously, with margin).
 */
unsigned long pi_series_terms(uint64_t bits);

#endif
