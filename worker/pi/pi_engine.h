/* pi_engine.h: exact decimal digits of pi (arithmetic only, no I/O). */
#ifndef NTHPI_PI_ENGINE_H
#define NTHPI_PI_ENGINE_H

#include <stddef.h>

/* Phases reported through pi_hooks.progress, in this order. */
enum pi_phase {
	PI_PHASE_SERIES,  /* the Chudnovsky series by binary splitting */
	PI_PHASE_FINAL,   /* square root and division */
	PI_PHASE_CONVERT, /* binary to decimal */
	PI_PHASE__MAX
};

struct pi_hooks {
	/*
	 * Called now and then (from any engine thread, but never two calls
	 * at once: the engine serialises calls to both hooks) with the
	 * overall fraction done, 0 to 1, never moving back, ending at 1.
	 * May be NULL. Must be cheap.
	 */
	void (*progress)(void *arg, enum pi_phase phase, double fraction);
	/*
	 * Polled every ~50 ms of work, between big-number operations (one
	 * of which can take a few seconds at 10^8 decimals); a non-zero
	 * return stops the computation, which then returns PI_CANCELLED.
	 * May be NULL.
	 */
	int (*cancelled)(void *arg);
	void *arg;
};

enum pi_result {
	PI_OK,
	PI_CANCELLED,
	PI_NOMEM,    /* an allocation failed outside GMP */
	PI_TOO_BIG,  /* decimals above what the engine supports */
	PI_UNPROVEN, /* retries never fixed every digit: a bug, never seen */
	PI_RESULT__MAX
};

/*
 * Computes the first `decimals` decimals of pi (the digits after "3."),
 * truncated, never rounded, and proven: the result is accepted only when
 * rigorous lower and upper bounds of pi * 10^decimals have the same floor;
 * otherwise it retries with more precision. Uses up to `threads` threads
 * (1 or more).
 *
 * On PI_OK, *out is a malloc'd buffer of `decimals` ASCII digits plus a NUL,
 * which the caller frees. On anything else *out is NULL and every resource
 * is freed.
 */
enum pi_result pi_compute(size_t decimals, int threads,
			  const struct pi_hooks *hooks, char **out);

/* A sentence describing r, for logs and task errors. */
const char *pi_result_message(enum pi_result r);

/*
 * Estimated peak memory in bytes for pi_compute(decimals, threads), an upper
 * bound used to refuse a computation that cannot fit a memory limit.
 */
size_t pi_memory_estimate(size_t decimals, int threads);

#endif
