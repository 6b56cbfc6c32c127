/* layout.c: the frame every HTML page shares, and the error page. */
#include "html.h"
#include "layout.h"
#include "response.h"

/* Appends the header's counts, each linking to its filter if links. */
static void
layout_counts(struct buf *b, const long long counts[TASK_STATUS__MAX],
	      int links, int filter)
{
	int i;

	html_raw_unescaped(b, "<ul id=\"counts\" class=\"counts\" "
			      "aria-label=\"Tasks by status\">\n");
	for (i = 0; i < TASK_STATUS__MAX; i++) {
		const char *name = task_status_names[i];

		html_raw_unescaped(b, "<li class=\"count count-");
		html_attr(b, name);
		html_raw_unescaped(b, "\">");
		if (links) {
			html_raw_unescaped(b, "<a href=\"/?status=");
			html_attr(b, name);
			html_raw_unescaped(b, "\"");
			if (i == filter)
				html_raw_unescaped(b, " aria-current=\"page\"");
			html_raw_unescaped(b, ">");
		}
		html_raw_unescaped(b, "<span class=\"count-n\" id=\"count-");
		html_attr(b, name);
		html_raw_unescaped(b, "\">");
		html_int(b, counts[i]);
		html_raw_unescaped(b, "</span> ");
		html_text(b, name);
		if (links)
			html_raw_unescaped(b, "</a>");
		html_raw_unescaped(b, "</li>\n");
	}
	if (links) {
		html_raw_unescaped(b, "<li class=\"count count-all\">"
				      "<a href=\"/\"");
		if (filter < 0)
			html_raw_unescaped(b, " aria-current=\"page\"");
		html_raw_unescaped(b, ">all</a></li>\n");
	}
	html_raw_unescaped(b, "</ul>\n");
}

/* The page's start; counts as layout_counts has them, if not NULL. */
static void
layout_start(struct buf *b, const char *title,
	     const long long counts[TASK_STATUS__MAX], int links, int filter)
{
	html_raw_unescaped(b, "<!DOCTYPE html>\n"
			      "<html lang=\"en\">\n"
			      "<head>\n"
			      "<meta charset=\"utf-8\">\n"
			      "<meta name=\"viewport\" "
			      "content=\"width=device-width, "
			      "initial-scale=1\">\n"
			      "<title>");
	html_text(b, title);
	html_raw_unescaped(b, " · nthpi</title>\n"
			      "<link rel=\"icon\" href=\"/favicon.svg\" "
			      "type=\"image/svg+xml\">\n"
			      "<link rel=\"stylesheet\" href=\"/style.css\">\n"
			      "<script src=\"/app.js\" defer></script>\n"
			      "<script src=\"/search.js\" defer></script>\n"
			      "</head>\n"
			      "<body>\n"
			      "<header class=\"site-header\">\n"
			      "<p class=\"site-name\"><a href=\"/\">nthpi</a> "
			      "<span class=\"tagline\">the n-th decimal digit "
			      "of π</span></p>\n");
	if (counts != NULL)
		layout_counts(b, counts, links, filter);
	html_raw_unescaped(b, "</header>\n<main>\n");
}

void
layout_begin(struct buf *b, const char *title,
	     const long long counts[TASK_STATUS__MAX])
{
	layout_start(b, title, counts, 0, -1);
}

void
layout_begin_filtered(struct buf *b, const char *title,
		      const long long counts[TASK_STATUS__MAX], int filter)
{
	layout_start(b, title, counts, 1, filter);
}

void
layout_outage(struct buf *b, const char *sentence)
{
	html_raw_unescaped(b, "<p id=\"outage\" class=\"outage\" "
			      "role=\"alert\">");
	html_text(b, sentence);
	html_raw_unescaped(b, "</p>\n");
}

void
layout_worker_banner(struct buf *b, int stalled)
{
	html_raw_unescaped(b, "<p id=\"worker-banner\" class=\"outage\" "
			      "role=\"alert\"");
	if (!stalled)
		html_raw_unescaped(b, " hidden");
	html_raw_unescaped(b, ">The worker that computes the digits has not "
			      "reported in for more than 10 seconds: tasks "
			      "are not being computed, and running ones stand "
			      "still. They go on by themselves once it is "
			      "back; new tasks are still taken.</p>\n");
}

void
layout_end(struct buf *b)
{
	html_raw_unescaped(b, "</main>\n"
			      "<footer class=\"site-footer\"><p>Digits are "
			      "computed exactly and checked before they are "
			      "shown.</p></footer>\n"
			      "</body>\n"
			      "</html>\n");
}

void
layout_error_page(struct buf *b, int status, const char *message)
{
	const char *reason = response_reason(status);

	layout_begin(b, reason, NULL);
	html_raw_unescaped(b, "<section class=\"error-page\">\n<h1>");
	html_text(b, reason);
	html_raw_unescaped(b, "</h1>\n<p id=\"error-message\" "
			      "class=\"error-message\">");
	html_text(b, message);
	html_raw_unescaped(b, "</p>\n<p><a href=\"/\">Back to the task "
			      "list</a></p>\n</section>\n");
	layout_end(b);
}
