/* growth.h: how far the digit store grows when a task needs more digits. */
#ifndef NTHPI_GROWTH_H
#define NTHPI_GROWTH_H

#include <stddef.h>

/* Below this many decimals a computation costs less than starting it. */
#define GROWTH_MIN_DECIMALS 10000LL

/*
 * Returns how many decimals the next computation should produce, given the
 * largest n that waits for one (need), the decimals the store has (have),
 * n_max and fit_max (the most decimals that fit the memory limit, from
 * growth_fit_max). The store at least doubles, so that a stream of slowly
 * rising n costs a bounded multiple of the last computation, but never past
 * n_max or fit_max. Always returns at least need; need above fit_max or
 * n_max is the caller's to refuse before calling.
 */
long long growth_target(long long need, long long have, long long n_max,
			long long fit_max);

/*
 * Returns the most decimals whose pi_memory_estimate with threads threads,
 * plus the process's own overhead, fits in limit_bytes (0 if none does).
 * estimate is pi_memory_estimate, passed in so that tests can use a model.
 */
long long growth_fit_max(size_t limit_bytes, int threads, long long n_max,
			 size_t (*estimate)(size_t decimals, int threads));

/* The overhead counted on top of the engine's estimate, in bytes. */
size_t growth_overhead(int threads);

#endif
