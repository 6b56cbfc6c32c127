/* pi_par.h: two jobs at once, and big multiplications split over two threads. */
#ifndef NTHPI_PI_PAR_H
#define NTHPI_PI_PAR_H

#include <gmp.h>

typedef void (*pi_job_fn)(void *arg);

/*
 * Runs a(aa) and b(ba) and returns when both are done: on a second thread
 * if `parallel` is non-zero and a thread can be started, else one after
 * the other on the calling thread.
 */
void pi_par_run2(pi_job_fn a, void *aa, pi_job_fn b, void *ba, int parallel);

/*
 * Sets r = x * y. With threads >= 2 and large operands, the larger operand
 * is cut in two halves that are multiplied on two threads. r may alias x
 * or y.
 */
void pi_par_mul(mpz_t r, const mpz_t x, const mpz_t y, int threads);

#endif
