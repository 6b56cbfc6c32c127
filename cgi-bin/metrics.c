/* metrics.c: GET /metrics, the service's numbers for Prometheus. */
#include "metrics.h"
#include "store.h"

/* Appends "# HELP name help" and "# TYPE name type". */
static void
metrics_head(struct buf *b, const char *name, const char *type,
	     const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void
metrics_get(struct ctx *ctx)
{
	struct buf *b = &ctx->resp->body;
	long long counts[TASK_STATUS__MAX], seen = -1, decimals;
	struct task_times times;
	struct dbconn *c;
	enum task_rc rc;
	int i;

	if ((c = ctx_db(ctx)) == NULL) {
		ctx_fail_rc(ctx, TASK_UNAVAILABLE, 0);
		return;
	}
	/* One snapshot, so that the numbers agree with each other. */
	if ((rc = task_snapshot_begin(c)) != TASK_OK ||
	    (rc = task_counts(c, counts)) != TASK_OK ||
	    (rc = task_times(c, &times)) != TASK_OK ||
	    (rc = task_worker_seen(c, &seen)) != TASK_OK) {
		task_snapshot_end(c);
		ctx_fail_rc(ctx, rc, 0);
		return;
	}
	task_snapshot_end(c);
	ctx_db_release(ctx);
	decimals = store_decimals(ctx->app->cfg->store_path);

	ctx->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	buf_reset(b);
	metrics_head(b, "nthpi_tasks", "gauge", "Tasks by status.");
	for (i = 0; i < TASK_STATUS__MAX; i++)
		buf_printf(b, "nthpi_tasks{status=\"%s\"} %lld\n",
			   task_status_names[i], counts[i]);
	metrics_head(b, "nthpi_queue_depth", "gauge",
		     "Tasks waiting for the worker (status queued).");
	buf_printf(b, "nthpi_queue_depth %lld\n", counts[TASK_QUEUED]);
	metrics_head(b, "nthpi_compute_seconds", "histogram",
		     "Seconds from start to finish of the tasks done so far "
		     "(deleting a task does not take it out).");
	/* The bounds in seconds, as short as they go: 0.01, 1, 3600. */
	for (i = 0; i < times.bounds; i++)
		buf_printf(b, "nthpi_compute_seconds_bucket{le=\"%g\"} %lld\n",
			   (double)times.le_ms[i] / 1000, times.le[i]);
	buf_printf(b,
		   "nthpi_compute_seconds_bucket{le=\"+Inf\"} %lld\n"
		   "nthpi_compute_seconds_sum %.3f\n"
		   "nthpi_compute_seconds_count %lld\n",
		   times.count, (double)times.sum_ms / 1000, times.count);
	if (decimals >= 0) {
		metrics_head(b, "nthpi_digit_store_decimals", "gauge",
			     "Decimals of pi the digit store holds.");
		buf_printf(b, "nthpi_digit_store_decimals %lld\n", decimals);
	}
	metrics_head(b, "nthpi_worker_last_seen_seconds", "gauge",
		     "Unix time the worker last reported in (every few "
		     "seconds, busy or idle); 0 if it never did.");
	buf_printf(b, "nthpi_worker_last_seen_seconds %lld.%03lld\n",
		   seen > 0 ? seen / 1000 : 0, seen > 0 ? seen % 1000 : 0);
}
