/* pi_convert.h: a binary fraction to decimal digits, with proof of each digit. */
#ifndef NTHPI_PI_CONVERT_H
#define NTHPI_PI_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "pi_ctl.h"

enum pi_convert_status {
	PI_CONVERT_OK,
	PI_CONVERT_AMBIGUOUS, /* the error bound does not fix every digit */
	PI_CONVERT_STOPPED    /* the ctl asked to stop */
};

/*
 * Writes the first k decimals of a fraction x in [0, 1) to out[0 .. k-1]
 * (no NUL), given f with |x 2^w - f| <= e. Each digit is checked against
 * the error bound, which grows by one unit per level of the conversion
 * tree: PI_CONVERT_AMBIGUOUS means some digit could not be proven and the
 * caller needs more bits. `guard` is how many bits beyond k log2(10) to
 * keep while splitting (w should exceed k log2(10) by about that much).
 * f is used up: it holds junk afterwards. Uses up to `threads` threads and
 * reports pi_convert_work(k) units to ctl.
 */
enum pi_convert_status pi_convert(char *out, size_t k, mpz_t f, mp_bitcnt_t w,
				  unsigned long e, unsigned guard, int threads,
				  struct pi_ctl *ctl);

/* The work units pi_convert reports for k digits. */
uint64_t pi_convert_work(size_t k);

#endif
