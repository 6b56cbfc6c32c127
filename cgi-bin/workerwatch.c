/* workerwatch.c: the publisher's watch on the worker, which marks it
 * stalled in the database when it has not reported in for a while. */
#include "log.h"
#include "task.h"
#include "workerwatch.h"

void
workerwatch_init(struct workerwatch *w, long long now)
{
	w->last_seen = -1;
	w->changed_at = now;
	w->stalled = 0;
}

int
workerwatch_check(struct workerwatch *w, struct dbconn *c, long long now)
{
	long long seen;
	int stalled, marked;
	enum task_rc rc;

	if (task_worker_state(c, &seen, &stalled) != TASK_OK)
		return -1;
	if (seen != w->last_seen) {
		w->last_seen = seen;
		w->changed_at = now;
	}
	if (w->stalled && !stalled)
		log_info("worker: reporting in again; the page no longer "
			 "says it is stalled");
	w->stalled = stalled;
	if (stalled || seen < 0 || now - w->changed_at < WORKER_STALL_MS)
		return 0;
	rc = task_worker_mark_stalled(c, seen, &marked);
	/* A lost database file is said elsewhere, and nothing can be
	 * marked in it. */
	if (rc == TASK_DB_GONE)
		return 0;
	if (rc != TASK_OK)
		return -1;
	if (marked)
		log_warn(
		    "worker: not seen for %lld s; the page and the API say "
		    "so until it reports in again",
		    (now - w->changed_at) / 1000);
	w->stalled = marked;
	return 0;
}
