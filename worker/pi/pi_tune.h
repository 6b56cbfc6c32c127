/* pi_tune.h: pi_compute with its knobs exposed, for the engine's tests. */
#ifndef NTHPI_PI_TUNE_H
#define NTHPI_PI_TUNE_H

#include "pi.h"

struct pi_tune {
	unsigned
	    guard;    /* in: extra bits beyond decimals log2(10), 0 = default */
	int attempts; /* out: computations run (more than 1 after a retry) */
};

/* The guard bits pi_compute starts with. */
#define PI_TUNE_GUARD 128

/*
 * pi_compute with tune->guard guard bits to start with (a small value
 * forces the retry path), filling in the out fields of tune.
 */
enum pi_result pi_compute_tuned(const struct pi_params *p,
				const struct pi_hooks *hooks,
				struct pi_tune *tune, char **out);

#endif
