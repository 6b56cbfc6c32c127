/* pi.h: the pi engine's whole API: exact decimal digits of pi, with GMP
 * alone (no I/O, no logging, no pacing; libnthpi-pi.a). */
#ifndef NTHPI_PI_H
#define NTHPI_PI_H

#include <stddef.h>

/* Phases reported through pi_hooks.progress, in this order. */
enum pi_phase {
	PI_PHASE_SERIES,  /* the Chudnovsky series by binary splitting */
	PI_PHASE_FINAL,   /* square root and division */
	PI_PHASE_CONVERT, /* binary to decimal */
	PI_PHASE__MAX
};

/*
 * The overall fraction done when `phase` ends: the phases share a run in
 * proportion to the time each takes (2 threads, 10^7 and 10^8 decimals),
 * so that a bar drawn from the fractions moves at an even speed. The last
 * phase ends at 1.
 */
double pi_phase_end(enum pi_phase phase);

struct pi_hooks {
	/*
	 * Called now and then (from any engine thread, but never two calls
	 * at once: the engine serialises calls to both hooks) with the
	 * fraction of the work done so far, 0 to 1, never moving back,
	 * ending at 1. Each phase's first call comes as it starts. Nothing
	 * is reported inside one big-number operation, which can take
	 * seconds at 10^8 decimals. May be NULL. Must be cheap.
	 */
	void (*progress)(void *arg, enum pi_phase phase, double fraction);
	/*
	 * Polled every ~50 ms of work, between big-number operations; a
	 * non-zero return stops the computation, which then returns
	 * PI_CANCELLED. May be NULL.
	 */
	int (*cancelled)(void *arg);
	void *arg;
};

/* What to compute, and with what. */
struct pi_params {
	size_t decimals;     /* the digits after "3." */
	int threads;         /* 1 or more; more than 8 gain nothing */
	size_t memory_limit; /* bytes, 0 for none: see pi_compute */
};

enum pi_result {
	PI_OK,
	PI_CANCELLED,
	PI_NOMEM,      /* an allocation failed outside GMP */
	PI_TOO_BIG,    /* decimals above what the engine supports */
	PI_OVER_LIMIT, /* pi_memory_estimate is above the memory limit */
	PI_UNPROVEN,   /* retries never fixed every digit: a bug, never seen */
	PI_RESULT__MAX
};

/*
 * Computes the first p->decimals decimals of pi (the digits after "3."),
 * truncated, never rounded, and proven: the result is accepted only when
 * rigorous lower and upper bounds of pi * 10^decimals have the same floor;
 * otherwise it retries with more precision. Uses up to p->threads threads,
 * all ended when it returns. A computation whose pi_memory_estimate is
 * above a non-zero p->memory_limit is refused (PI_OVER_LIMIT) before it
 * starts; the library sets no limit of the process's. hooks may be NULL.
 *
 * GMP's allocation failures abort the process (mp_set_memory_functions is
 * the caller's to set). On PI_OK, *out is a malloc'd buffer of
 * p->decimals ASCII digits plus a NUL, which the caller frees. On anything
 * else *out is NULL and every resource is freed.
 */
enum pi_result pi_compute(const struct pi_params *p,
			  const struct pi_hooks *hooks, char **out);

/* A sentence describing r, for logs and task errors. */
const char *pi_result_message(enum pi_result r);

/*
 * Estimated peak memory in bytes (address space, which RLIMIT_AS caps)
 * of computing `decimals` decimals with `threads` threads: an upper bound,
 * for refusing a computation that cannot fit a memory limit.
 */
size_t pi_memory_estimate(size_t decimals, int threads);

#endif
