/* storestate.c: what the digit store gives the worker, checked whole when
 * it changes, and the rebuild of what it lost. */
#include "log.h"
#include "policy.h"
#include "queue.h"
#include "searchbuild.h"
#include "store.h"
#include "storestate.h"

/* Rebuilds of the digit store that fail in a row before the worker stops
 * trying (until the store changes or the worker starts again). */
#define STORESTATE_REBUILD_TRIES 3

/*
 * Checks the whole digit store if it changed since it was last checked (or
 * force): at start, after a computation, and when someone changed it. Sets
 * have to its intact prefix, and rebuild to what it must hold again: what
 * it held when written, and at least every done task's n, so that their
 * pi.txt comes back. Logs once per change what is wrong and where.
 */
void
storestate_check(struct policy *pol, int force)
{
	const char *path = pol->cfg->store_path;
	long long done, want, cap;
	struct store_view v;

	if (store_view(path, &v) == -1 ||
	    (!force && v.version == pol->store.version))
		return;
	/* Every block: about 25 ms at 10^8 decimals from the page cache. */
	if (store_verify(path, &v) == -1)
		return;
	pol->store.version = v.version;
	pol->store.have = v.intact > 1 ? v.intact - 1 : 0;
	/* The search index follows the store: built once it is whole. */
	if (v.state == STORE_SOUND && v.bytes > 1 && v.intact == v.bytes)
		searchbuild_start(path);
	if (v.state == STORE_UNCHECKED || v.state == STORE_DAMAGED)
		log_err("digit store %s: %s; only decimals 1 to %lld are "
			"served until it is rebuilt",
			path, v.why, pol->store.have);
	done = queue_max_done(pol->q);
	want = v.held > 1 ? v.held - 1 : 0;
	if (done > want)
		want = done;
	cap = pol->cfg->n_max < pol->fit_max ? pol->cfg->n_max : pol->fit_max;
	if (want > cap) {
		log_warn("digit store: %lld decimals are wanted back, more "
			 "than n_max or the memory limit allow; rebuilding "
			 "%lld",
			 want, cap);
		want = cap;
	}
	if (want <= pol->store.have) {
		pol->store.rebuild = 0;
		pol->store.rebuild_failures = 0;
		return;
	}
	if (pol->store.rebuild_failures >= STORESTATE_REBUILD_TRIES)
		return;
	if (want != pol->store.rebuild)
		log_warn("worker: rebuilding the digit store: computing %lld "
			 "decimals (it gives %lld)",
			 want, pol->store.have);
	pol->store.rebuild = want;
}

/*
 * After a read of decimal n failed: returns 1 if the store no longer gives
 * n (the read found its block damaged, or the store changed), lowering
 * have so that n waits for the rebuild that the next full check starts;
 * 0 if it still covers n and only the read failed. Changes nothing a
 * rollback would leave wrong: have only follows the store.
 */
int
storestate_lost(struct policy *pol, long long n)
{
	struct store_view v;

	if (store_view(pol->cfg->store_path, &v) == -1 || v.intact - 1 >= n)
		return 0;
	pol->store.have = v.intact > 1 ? v.intact - 1 : 0;
	/* The next pass of the loop checks the whole store again. */
	pol->store.version = 0;
	return 1;
}

/*
 * Counts a failed computation against the store's rebuild, which stops
 * after STORESTATE_REBUILD_TRIES in a row: the log says so, and what fails
 * again and again (a full disk, a wrong engine) needs a person.
 */
void
storestate_rebuild_failed(struct policy *pol)
{
	if (pol->store.rebuild <= pol->store.have)
		return;
	if (++pol->store.rebuild_failures < STORESTATE_REBUILD_TRIES)
		return;
	log_err("worker: rebuilding the digit store failed %d times in a "
		"row; it is tried again when the worker restarts or a task "
		"needs those digits",
		pol->store.rebuild_failures);
	pol->store.rebuild = 0;
}
