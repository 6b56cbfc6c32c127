/* api_tasks.h: the JSON API under /api/tasks (long polls: api_live.h). */
#ifndef NTHPI_API_TASKS_H
#define NTHPI_API_TASKS_H

#include "ctx.h"
#include "buf.h"

/* Default and largest ?limit= of GET /api/tasks. */
#define API_LIMIT_DEFAULT 50
#define API_LIMIT_MAX 1000

/*
 * Appends a task as the JSON object of docs/design.md: id, n, status,
 * progress, digit (a one-character string or null), error, created_at,
 * started_at, finished_at (ISO 8601 or null), cancel_requested and url.
 */
void api_task_json(struct buf *b, const struct task *t);

/* As api_task_json, without the closing brace, so that a caller can add
 * members. */
void api_task_json_open(struct buf *b, const struct task *t);

/*
 * GET /api/tasks: the newest tasks with counts and version (?limit=,
 * ?before=, ?status=); with ?since=V the changes after V, held up to
 * hold_seconds until there is one; with Accept: text/event-stream, the
 * changes as a stream (api_live.h).
 */
void api_tasks_list(struct ctx *ctx);

/* POST /api/tasks {"n": 1234}: 201 with Location and the task. */
void api_tasks_create(struct ctx *ctx);

/* GET /api/tasks/{id}: the task or 404; ?since=V and the event stream
 * follow that task alone (api_live.h). */
void api_tasks_get(struct ctx *ctx);

/* POST /api/tasks/{id}/cancel and /retry: 200 with the task, 404, 409. */
void api_tasks_cancel(struct ctx *ctx);
void api_tasks_retry(struct ctx *ctx);

/* DELETE /api/tasks/{id}: 200 {"deleted": id}, 404 or 409. */
void api_tasks_delete(struct ctx *ctx);

#endif
