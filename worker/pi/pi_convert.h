/* pi_convert.h: a binary fraction to decimal digits, with proof of each digit. */
#ifndef NTHPI_PI_CONVERT_H
#define NTHPI_PI_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

#include "pi_ctl.h"

/* The powers of 5 a conversion needs, computed ahead (read-only after). */
struct pi_pow5;

/*
 * Computes the powers of 5 that pi_convert of k digits needs, on up to
 * `threads` threads. Returns NULL if out of memory; free the table with
 * pi_convert_powers_free.
 */
struct pi_pow5 *pi_convert_powers(size_t k, int threads);

/* Frees what pi_convert_powers returned (NULL is fine). */
void pi_convert_powers_free(struct pi_pow5 *pw);

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
  * f is used up: it holds junk afterwards. pw comes from
 * pi_convert_powers(k, ...). Uses up to `threads` threads and reports
 * pi_convert_work(k) units to ctl.
 */
enum pi_convert_status pi_convert(char *out, size_t k, mpz_t f, mp_bitcnt_t w,
				  unsigned long e, unsigned guard,
				  const struct pi_pow5 *pw, int threads,
				  struct pi_ctl *ctl);

/* The work units pi_convert reports for k digits. */
uint64_t pi_convert_work(size_t k);

#endif
