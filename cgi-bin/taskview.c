/* taskview.c: the HTML pieces that show a task, shared by the pages. */
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "taskview.h"
#include "timefmt.h"

/* Labels of the action buttons, by task_action. */
static const char *const taskview_action_labels[TASK_ACTION__MAX] = {
	[TASK_ACTION_CANCEL] = "Cancel",
	[TASK_ACTION_RETRY] = "Retry",
	[TASK_ACTION_DELETE] = "Delete",
};

void
taskview_status(struct buf *b, const struct task *t)
{
	const char *name = task_status_names[t->status];

	html_raw_unescaped(b, "<span class=\"badge badge-");
	html_attr(b, name);
	html_raw_unescaped(b, "\">");
	html_text(b, name);
	html_raw_unescaped(b, "</span>");
	if (t->status == TASK_RUNNING) {
		int pct = (int)(t->progress * 100);
		char v[32];

		/* The fraction as the API gives it, so that a script and the
		 * server render the same value. */
		snprintf(v, sizeof(v), "%.4g", t->progress);
		html_raw_unescaped(b, " <progress max=\"1\" value=\"");
		html_attr(b, v);
		html_raw_unescaped(b, "\">");
		html_int(b, pct);
		/* The bar's own text shows only where a bar cannot: say it. */
		html_raw_unescaped(b, "%</progress> <span class=\"pct\">");
		html_int(b, pct);
		html_raw_unescaped(b, "%</span>");
		if (t->cancel_requested)
			html_raw_unescaped(b, " <span class=\"note\">"
					      "stopping…</span>");
	} else if (t->status == TASK_ERROR && t->has_error) {
		html_raw_unescaped(b, " <span class=\"task-error\">");
		html_text(b, t->error);
		html_raw_unescaped(b, "</span>");
	}
}

void
taskview_time(struct buf *b, long long ms)
{
	char iso[32];

	if (ms < 0)
		return;
	time_iso8601(ms, iso, sizeof(iso));
	html_raw_unescaped(b, "<time datetime=\"");
	html_attr(b, iso);
	html_raw_unescaped(b, "\">");
	/* "2026-11-24T10:55:26.123Z" shown as "2026-11-24 10:55:26". */
	if (strlen(iso) >= 19) {
		iso[10] = ' ';
		iso[19] = '\0';
	}
	html_text(b, iso);
	html_raw_unescaped(b, "</time>");
}

void
taskview_ran(struct buf *b, const struct task *t, long long now)
{
	char d[32];
	long long end;

	if (t->started_at < 0)
		return;
	/* The worker's measure: wall-clock stamps can be stepped apart. */
	if (t->status != TASK_RUNNING && t->elapsed_ms >= 0) {
		time_duration(t->elapsed_ms, d, sizeof(d));
		html_text(b, d);
		return;
	}
	if (t->status == TASK_RUNNING)
		end = now;
	else if (t->finished_at >= 0)
		end = t->finished_at;
	else
		return;
	time_duration(end - t->started_at, d, sizeof(d));
	html_text(b, d);
}

void
taskview_actions(struct buf *b, const struct task *t, const char *token,
		 int back)
{
	int a;

	for (a = 0; a < TASK_ACTION__MAX; a++) {
		if (!task_action_applies((enum task_action)a, t))
			continue;
		/* Asking twice changes nothing; say that it is on its way. */
		if (a == TASK_ACTION_CANCEL && t->cancel_requested)
			continue;
		html_raw_unescaped(b, "<form method=\"post\" action=\"/tasks/");
		html_int(b, t->id);
		html_raw_unescaped(b, "/");
		html_attr(b, task_action_names[a]);
		html_raw_unescaped(b, "\" class=\"action action-");
		html_attr(b, task_action_names[a]);
		html_raw_unescaped(b, "\">");
		/* A row published to everyone carries no one's token: the page
		 * script sends its actions through the JSON API. */
		if (token != NULL) {
			html_raw_unescaped(b, "<input type=\"hidden\" "
					      "name=\"csrf\" value=\"");
			html_attr(b, token);
			html_raw_unescaped(b, "\">");
		}
		if (back && a != TASK_ACTION_DELETE)
			html_raw_unescaped(b, "<input type=\"hidden\" "
					      "name=\"back\" value=\"task\">");
		html_raw_unescaped(b, "<button type=\"submit\" "
				      "aria-label=\"");
		html_attr(b, taskview_action_labels[a]);
		html_raw_unescaped(b, " task ");
		html_int(b, t->id);
		html_raw_unescaped(b, "\">");
		html_text(b, taskview_action_labels[a]);
		html_raw_unescaped(b, "</button></form>");
	}
}

void
taskview_row(struct buf *b, const struct task *t, long long now,
	     const char *token)
{
	html_raw_unescaped(b, "<tr id=\"task-");
	html_int(b, t->id);
	html_raw_unescaped(b, "\" data-id=\"");
	html_int(b, t->id);
	html_raw_unescaped(b, "\" data-status=\"");
	html_attr(b, task_status_names[t->status]);
	html_raw_unescaped(b, "\" data-version=\"");
	html_int(b, t->version);
	html_raw_unescaped(b, "\">\n<td class=\"id\"><a href=\"/tasks/");
	html_int(b, t->id);
	html_raw_unescaped(b, "\">");
	html_int(b, t->id);
	html_raw_unescaped(b, "</a></td>\n<td class=\"n\">");
	html_int(b, t->n);
	html_raw_unescaped(b, "</td>\n<td class=\"status\">");
	taskview_status(b, t);
	html_raw_unescaped(b, "</td>\n<td class=\"digit\">");
	if (t->status == TASK_DONE && t->digit >= 0)
		html_int(b, t->digit);
	html_raw_unescaped(b, "</td>\n<td class=\"created\">");
	taskview_time(b, t->created_at);
	html_raw_unescaped(b, "</td>\n<td class=\"ran\">");
	taskview_ran(b, t, now);
	html_raw_unescaped(b, "</td>\n<td class=\"actions\">");
	taskview_actions(b, t, token, 0);
	html_raw_unescaped(b, "</td>\n</tr>\n");
}
