/* test_growth.c: how far the digit store grows for a task, and how many
 * decimals fit a memory limit (worker/growth.c). */
#include <stddef.h>

#include "growth.h"
#include "t.h"

static void
test_growth_target(void)
{
	T_CHECK(growth_target(5, 0, 10000000, 10000000) == GROWTH_MIN_DECIMALS,
		"growth: the first store has at least the minimum");
	T_CHECK(growth_target(30000, 20000, 10000000, 10000000) == 40000,
		"growth: the store at least doubles");
	T_CHECK(growth_target(900000, 20000, 10000000, 10000000) == 900000,
		"growth: a large n is computed as asked");
	T_CHECK(growth_target(7000000, 6000000, 10000000, 10000000) == 10000000,
		"growth: doubling stops at n_max");
	T_CHECK(growth_target(7000000, 6000000, 10000000, 8000000) == 8000000,
		"growth: doubling stops at what memory allows");
	T_CHECK(growth_target(9000000, 6000000, 10000000, 8000000) == 9000000,
		"growth: never less than needed");
}

/* A model engine: 100 bytes a decimal. */
static size_t
model_estimate(size_t decimals, int threads)
{
	(void)threads;
	return decimals * 100;
}

static void
test_growth_fit_max(void)
{
	size_t limit = (size_t)1024 << 20, room = limit - growth_overhead(2);
	long long fit = growth_fit_max(limit, 2, 1000000000, model_estimate);

	T_CHECK(fit == (long long)(room / 101),
		"growth: fit_max is the largest decimals that fit (%lld)", fit);
	T_CHECK(growth_fit_max(limit, 2, 1000, model_estimate) == 1000,
		"growth: fit_max stops at n_max");
	T_CHECK(growth_fit_max(1 << 20, 2, 1000, model_estimate) == 0,
		"growth: nothing fits a limit below the overhead");
}

int
main(void)
{
	test_growth_target();
	test_growth_fit_max();
	return T_EXIT();
}
