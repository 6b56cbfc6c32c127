/* pi_series.h: the Chudnovsky series summed exactly by binary splitting. */
#ifndef NTHPI_PI_SERIES_H
#define NTHPI_PI_SERIES_H

#include <stdint.h>

#include <gmp.h>

#include "pi_ctl.h"

enum pi_series_status {
	PI_SERIES_OK,
	PI_SERIES_STOPPED, /* the ctl asked to stop */
	PI_SERIES_NOMEM    /* a malloc failed */
};

/*
 * Sums terms 0 .. terms-1 of the Chudnovsky series
 *   S = sum (-1)^k (6k)! (13591409 + 545140134 k) / ((3k)! (k!)^3 640320^3k)
  * exactly: on PI_SERIES_OK, t / (q 2^qs) equals that partial sum (q > 0,
 * t > 0).
 * q and t are initialised by the caller and hold junk on failure. Uses up
 * to `threads` threads and reports pi_series_work(terms) units to ctl.
 */
enum pi_series_status pi_series_sum(mpz_t q, mp_bitcnt_t *qs, mpz_t t,
				    unsigned long terms, int threads,
				    struct pi_ctl *ctl);

/* The work units pi_series_sum reports for `terms` terms. */
uint64_t pi_series_work(unsigned long terms);

/*
 * The number of terms after which the tail of the series is below
 * 2^-bits (rigorously, with margin).
 */
unsigned long pi_series_terms(uint64_t bits);

#endif
