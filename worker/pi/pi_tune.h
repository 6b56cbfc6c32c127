/* pi_tune.h: pi_compute with its knobs exposed, for tests and benchmarks. */
#ifndef NTHPI_PI_TUNE_H
#define NTHPI_PI_TUNE_H

#include "pi_engine.h"

struct pi_tune {
	unsigned
	    guard;    /* in: extra bits beyond decimals log2(10), 0 = default */
	int attempts; /* out: computations run (more than 1 after a retry) */
	double secs[PI_PHASE__MAX]; /* out: wall seconds per phase, all tries */
	/*
	 * out: for tuning the two-thread schedule, how much later (seconds,
	 * negative: earlier) the second thread finished than the first: its
	 * part of the series, then its square root against the division.
	 */
	double skew_series, skew_final;
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
