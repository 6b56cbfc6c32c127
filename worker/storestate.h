/* storestate.h: what the digit store gives the worker, and what it must
 * hold again (a rebuild). */
#ifndef NTHPI_STORESTATE_H
#define NTHPI_STORESTATE_H

struct policy;

/*
 * have is the store's intact prefix, checked whole at version; rebuild is
 * what it must hold again with no task asking (damaged, or shorter than a
 * done task's n), 0 if none.
 */
struct storestate {
	long long have; /* decimals the store gives */
	unsigned long version;
	long long rebuild;
	int rebuild_failures; /* rebuilds failed in a row */
};

/*
 * Checks the whole digit store if it changed since it was last checked (or
 * force). Sets have to its intact prefix, and rebuild to what it must hold
 * again. Logs once per change what is wrong and where.
 */
void storestate_check(struct policy *pol, int force);

/*
 * After a read of decimal n failed: returns 1 if the store no longer gives
 * n (have drops below it), 0 if it still covers n and only the read failed.
 */
int storestate_lost(struct policy *pol, long long n);

/* Counts a failed computation against the store's rebuild. */
void storestate_rebuild_failed(struct policy *pol);

#endif
