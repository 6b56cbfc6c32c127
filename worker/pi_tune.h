/* pi_tune.h: pi_compute with its knobs exposed, for tests and benchmarks. */
#ifndef NTHPI_PI_TUNE_H
#define NTHPI_PI_TUNE_H

#include "pi_engine.h"

struct pi_tune {
	unsigned
	    guard;    /* in: extra bits beyond decimals log2(10), 0 = default */
	int attempts; /* out: computations run (more than 1 after a retry) */
	double secs[PI_PHASE__MAX]; /* out: wall seconds per phase, all tries */
	double wait_right; /* out: seconds the first thread waited for the
			      second's part of the series */
	double wait_sqrt;  /* out: ... and then for its square root */
	double side_idle;  /* out: seconds the second thread was done and
			      waited for the first to divide */
};

/* The guard bits pi_compute starts with. */
#define PI_TUNE_GUARD 128

/*
 * pi_compute with tune->guard guard bits to start with (a small value
 * forces the retry path), filling in the out fields of tune.
 */
enum pi_result pi_compute_tuned(size_t decimals, int threads,
				const struct pi_hooks *hooks,
				struct pi_tune *tune, char **out);

#endif
