/* livemsg.c: one change message, as a long poll, a stream and the
 * publisher send it: the tasks changed after a version, each with its row
 * as the page renders it, and the ids deleted. */
#include <string.h>

#include "api_tasks.h"
#include "json.h"
#include "livemsg.h"
#include "taskview.h"

void
livemsg_init(struct livemsg *m, long long now)
{
	memset(m, 0, sizeof(*m));
	m->ntasks = 0;
	m->ndeleted = 0;
	m->now = now;
	m->worker = -1;
}

void
livemsg_reset(struct livemsg *m, long long now)
{
	buf_reset(&m->tasks);
	buf_reset(&m->deleted);
	m->ntasks = 0;
	m->ndeleted = 0;
	m->now = now;
	m->worker = -1;
}

void
livemsg_set_worker(struct livemsg *m, int stalled)
{
	m->worker = stalled != 0;
}

void
livemsg_free(struct livemsg *m)
{
	buf_free(&m->tasks);
	buf_free(&m->deleted);
	buf_free(&m->scratch);
}

void
livemsg_task_json(struct buf *b, struct buf *scratch, const struct task *t,
		  long long now)
{
	buf_reset(scratch);
	/* No token: the row goes to everyone (livemsg.h). */
	taskview_row(scratch, t, now, NULL);
	api_task_json_open(b, t);
	json_raw_unescaped(b, ", \"row\": ");
	json_string_len(b, scratch->data ? scratch->data : "", scratch->len);
	json_raw_unescaped(b, "}");
	if (scratch->failed)
		b->failed = 1;
}

void
livemsg_add_task(struct livemsg *m, const struct task *t)
{
	if (m->ntasks++ > 0)
		json_raw_unescaped(&m->tasks, ",\n");
	livemsg_task_json(&m->tasks, &m->scratch, t, m->now);
}

void
livemsg_add_deleted(struct livemsg *m, long long id)
{
	if (m->ndeleted++ > 0)
		json_raw_unescaped(&m->deleted, ", ");
	json_int(&m->deleted, id);
}

void
livemsg_write(const struct livemsg *m, struct buf *out, long long from,
	      long long version, const long long *counts, int more)
{
	int i;

	json_raw_unescaped(out, "{\"from\": ");
	json_int(out, from);
	json_raw_unescaped(out, ", \"version\": ");
	json_int(out, version);
	json_raw_unescaped(out, ", \"tasks\": [");
	buf_append(out, m->tasks.data ? m->tasks.data : "", m->tasks.len);
	json_raw_unescaped(out, "], \"deleted\": [");
	buf_append(out, m->deleted.data ? m->deleted.data : "", m->deleted.len);
	json_raw_unescaped(out, "]");
	if (counts != NULL) {
		json_raw_unescaped(out, ", \"counts\": {");
		for (i = 0; i < TASK_STATUS__MAX; i++) {
			if (i > 0)
				json_raw_unescaped(out, ", ");
			json_string(out, task_status_names[i]);
			json_raw_unescaped(out, ": ");
			json_int(out, counts[i]);
		}
		json_raw_unescaped(out, "}");
	}
	if (m->worker >= 0) {
		json_raw_unescaped(out, ", \"worker\": ");
		json_string(out, m->worker ? "stalled" : "ok");
	}
	if (more)
		json_raw_unescaped(out, ", \"more\": true");
	json_raw_unescaped(out, "}\n");
	if (livemsg_failed(m))
		out->failed = 1;
}

int
livemsg_failed(const struct livemsg *m)
{
	return m->tasks.failed || m->deleted.failed || m->scratch.failed;
}

static int
livemsg_on_task(void *arg, const struct task *t)
{
	livemsg_add_task(arg, t);
	return 0;
}

static int
livemsg_on_deleted(void *arg, long long id, long long version)
{
	(void)version;
	livemsg_add_deleted(arg, id);
	return 0;
}

enum task_rc
livemsg_read_changes(struct dbconn *c, long long since, long long now,
		     struct buf *out, int *changed, long long *version)
{
	struct task_changes tc;
	struct livemsg m;
	enum task_rc rc;

	livemsg_init(&m, now);
	rc = task_changes(c, since, livemsg_on_task, livemsg_on_deleted, &m,
			  &tc);
	if (rc == TASK_OK) {
		if (!tc.more)
			livemsg_set_worker(&m, tc.worker_stalled);
		/* Cut short, the counts are not those of version. */
		livemsg_write(&m, out, since, tc.version,
			      tc.more ? NULL : tc.counts, tc.more);
		*changed = tc.count;
		*version = tc.version;
	}
	livemsg_free(&m);
	return rc;
}
