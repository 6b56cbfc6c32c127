/* metrics.h: GET /metrics, the service's numbers for Prometheus. */
#ifndef NTHPI_METRICS_H
#define NTHPI_METRICS_H

#include "ctx.h"

/*
 * GET /metrics: Prometheus text format 0.0.4: nthpi_tasks{status} and
 * nthpi_queue_depth (gauges), nthpi_compute_seconds (a histogram of how
 * long done tasks took, from one query), nthpi_digit_store_decimals and
 * nthpi_worker_last_seen_seconds (Unix time; 0 if never). nginx lets only
 * this host ask.
 */
void metrics_get(struct ctx *ctx);

#endif
