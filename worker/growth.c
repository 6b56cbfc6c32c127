/* growth.c: how far the digit store grows when a task needs more digits. */
#include "growth.h"

long long
growth_target(long long need, long long have, long long n_max,
	      long long fit_max)
{
	long long t = have > n_max / 2 ? n_max : 2 * have;

	if (t < GROWTH_MIN_DECIMALS)
		t = GROWTH_MIN_DECIMALS;
	if (t > n_max)
		t = n_max;
	if (t > fit_max)
		t = fit_max;
	return t > need ? t : need;
}

size_t
growth_overhead(int threads)
{
	/*
	 * RLIMIT_AS counts address space, not memory in use: the program and
	 * its libraries, and an 8 MiB stack per engine thread. glibc's
	 * per-thread malloc arenas reserve more, but when that reservation
	 * fails glibc shares an arena instead, so they are not counted.
	 */
	return ((size_t)48 << 20) + (size_t)threads * ((size_t)16 << 20);
}

long long
growth_fit_max(size_t limit_bytes, int threads, long long n_max,
	       size_t (*estimate)(size_t decimals, int threads))
{
	size_t overhead = growth_overhead(threads);
	long long lo = 0, hi = n_max;

	if (limit_bytes <= overhead)
		return 0;
	limit_bytes -= overhead;
	/* The estimate grows with decimals, so the largest fit is found by
	 * bisection; the digits buffer itself (one byte a decimal) counts
	 * too. */
	while (lo < hi) {
		long long mid = lo + (hi - lo + 1) / 2;
		size_t need = estimate((size_t)mid, threads) + (size_t)mid;

		if (need <= limit_bytes)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}
