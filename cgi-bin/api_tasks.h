/* api_tasks.h: the JSON API under /api/tasks, long-poll included. */
#ifndef NTHPI_API_TASKS_H
#define NTHPI_API_TASKS_H

#include "app.h"
#include "buf.h"

/* Default and largest ?limit= of GET /api/tasks. */
#define API_LIMIT_DEFAULT 50
#define API_LIMIT_MAX 1000

/*
 * Appends a task as the JSON object of docs/design.md: id, n, status,
 * progress, digit (a one-character string or null), error, created_at,
 * started_at, finished_at (ISO 8601 or null) and url.
 */
void api_task_json(struct buf *b, const struct task *t);

/*
 * GET /api/tasks: the newest tasks with counts and version (?limit=,
 * ?before=, ?status=), or with ?since=V (alone: 400 with any of those)
 * the changes after V, held up to hold_seconds until there is one.
 */
void api_tasks_list(struct ctx *ctx);

/*
 * The watcher's prepare hook (watch_prepare_fn; arg is the process's
 * pollcache): builds the answers to since[0..n) after a change to version,
 * on the watcher's connection c, into the cache, before the waiters wake.
 */
void api_tasks_prepare(void *arg, struct dbconn *c, long long version,
		       const long long *since, int n);

/* POST /api/tasks {"n": 1234}: 201 with Location and the task. */
void api_tasks_create(struct ctx *ctx);

/* GET /api/tasks/{id}: the task or 404. */
void api_tasks_get(struct ctx *ctx);

/* POST /api/tasks/{id}/cancel and /retry: 200 with the task, 404, 409. */
void api_tasks_cancel(struct ctx *ctx);
void api_tasks_retry(struct ctx *ctx);

/* DELETE /api/tasks/{id}: 200 {"deleted": id}, 404 or 409. */
void api_tasks_delete(struct ctx *ctx);

#endif
