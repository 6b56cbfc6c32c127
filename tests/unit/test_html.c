/* test_html.c: the HTML writers escape every dynamic byte, and the shared
 * pieces follow the markup of docs/design.md. */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "layout.h"
#include "t.h"
#include "taskview.h"

/* Runs html_text on s and compares with want. */
static int
text_is(const char *s, const char *want)
{
	struct buf b = { 0 };
	int ok;

	html_text(&b, s);
	ok = strcmp(b.data ? b.data : "", want) == 0;
	if (!ok)
		T_DIAG("html_text gave \"%s\", want \"%s\"", b.data, want);
	buf_free(&b);
	return ok;
}

static void
test_text_escapes_markup(void)
{
	T_CHECK(text_is("<script>alert('x')&\"</script>",
			"&lt;script&gt;alert(&#39;x&#39;)&amp;&quot;&lt;/"
			"script&gt;"),
		"html_text escapes < > & \" '");
	T_CHECK(text_is("plain text 123", "plain text 123"),
		"html_text leaves plain text alone");
	T_CHECK(text_is("", ""), "html_text of an empty string is empty");
}

static void
test_text_null_is_nothing(void)
{
	struct buf b = { 0 };

	html_text(&b, NULL);
	html_attr(&b, NULL);
	T_CHECK(b.len == 0, "html_text and html_attr of NULL append nothing");
	buf_free(&b);
}

static void
test_text_utf8(void)
{
	T_CHECK(text_is("π é 😀", "π é 😀"), "html_text keeps well-formed UTF-8");
	T_CHECK(text_is("a\xff"
			"b",
			"a\xef\xbf\xbd"
			"b"),
		"html_text replaces a stray byte with U+FFFD");
	T_CHECK(text_is("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd"),
		"html_text refuses an overlong encoding");
	T_CHECK(text_is("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
		"html_text refuses a surrogate");
	T_CHECK(text_is("\xf4\x90\x80\x80",
			"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"),
		"html_text refuses code points above U+10FFFF");
	T_CHECK(text_is("x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd"),
		"html_text refuses a sequence cut short");
}

static void
test_text_controls(void)
{
	struct buf b = { 0 };

	T_CHECK(text_is("a\x01"
			"b\x7f",
			"a\xef\xbf\xbd"
			"b\xef\xbf\xbd"),
		"html_text replaces control characters");
	T_CHECK(text_is("a\tb\nc", "a\tb\nc"),
		"html_text keeps tabs and newlines in text");
	html_text_len(&b, "a\0b", 3);
	T_CHECK(b.len == 5 && memcmp(b.data,
				     "a\xef\xbf\xbd"
				     "b",
				     5) == 0,
		"html_text_len replaces a NUL byte");
	buf_free(&b);
}

static void
test_attr_escapes(void)
{
	struct buf b = { 0 };

	html_attr(&b, "x\" onmouseover=\"alert(1)\n\t'");
	T_CHECK(strcmp(b.data, "x&quot; onmouseover=&quot;alert(1)&#10;&#9;"
			       "&#39;") == 0,
		"html_attr escapes quotes, newlines and tabs");
	if (strchr(b.data, '"') != NULL)
		T_DIAG("got %s", b.data);
	buf_free(&b);
}

static void
test_int(void)
{
	struct buf b = { 0 };

	html_int(&b, -9223372036854775807LL - 1);
	html_raw_unescaped(&b, " ");
	html_int(&b, 42);
	T_CHECK(strcmp(b.data, "-9223372036854775808 42") == 0,
		"html_int writes any long long");
	buf_free(&b);
}

/* A task for the view tests. */
static struct task
sample_task(enum task_status status)
{
	struct task t;

	memset(&t, 0, sizeof(t));
	t.id = 12;
	t.n = 1000000;
	t.status = status;
	t.digit = -1;
	t.progress = 0.42;
	t.created_at = 1795517726123LL; /* 2026-11-24T10:55:26.123Z */
	t.started_at = -1;
	t.finished_at = -1;
	t.elapsed_ms = -1;
	t.version = 57;
	return t;
}

static void
test_row_running(void)
{
	struct task t = sample_task(TASK_RUNNING);
	struct buf b = { 0 };

	t.started_at = t.created_at + 1000;
	taskview_row(&b, &t, t.started_at + 1200,
		     "0123456789abcdef0123456789abcdef");
	T_CHECK(strstr(b.data, "<tr id=\"task-12\" data-id=\"12\" "
			       "data-status=\"running\" "
			       "data-version=\"57\">") != NULL,
		"a row starts with the id, status and version of the task");
	T_CHECK(strstr(b.data, "<td class=\"id\"><a href=\"/tasks/12\">12</a>"
			       "</td>") != NULL,
		"a row links to the task page");
	T_CHECK(strstr(b.data,
		       "<span class=\"badge badge-running\">running"
		       "</span> <progress max=\"1\" value=\"0.42\">"
		       "42%</progress> <span class=\"pct\">42%</span>") != NULL,
		"a running row shows the badge, a progress bar and its "
		"percentage");
	T_CHECK(strstr(b.data, "<time datetime=\"2026-11-24T10:55:26.123Z\">"
			       "2026-11-24 10:55:26</time>") != NULL,
		"a row shows when the task was created, in ISO 8601 too");
	T_CHECK(strstr(b.data, "<td class=\"ran\">1.20 s</td>") != NULL,
		"a running row shows how long it has run");
	T_CHECK(strstr(b.data, "action=\"/tasks/12/cancel\"") != NULL &&
		    strstr(b.data, "/retry\"") == NULL &&
		    strstr(b.data, "/delete\"") == NULL,
		"a running task offers cancel only");
	T_CHECK(strstr(b.data,
		       "<input type=\"hidden\" name=\"csrf\" "
		       "value=\"0123456789abcdef0123456789abcdef\">") != NULL,
		"action forms carry the csrf token");
	T_CHECK(strstr(b.data, "<td class=\"digit\"></td>") != NULL,
		"the digit is empty until done");
	buf_free(&b);
}

static void
test_row_done_and_error(void)
{
	struct task t = sample_task(TASK_DONE);
	struct buf b = { 0 };

	t.digit = 1;
	t.started_at = t.created_at;
	t.finished_at = t.created_at + 65000;
	taskview_row(&b, &t, 0, "0123456789abcdef0123456789abcdef");
	T_CHECK(strstr(b.data, "<td class=\"digit\">1</td>") != NULL &&
		    strstr(b.data, "<progress") == NULL,
		"a done row shows the digit and no progress bar");
	T_CHECK(strstr(b.data, "1 min 05 s") != NULL,
		"a done row shows how long it ran");
	buf_free(&b);

	/* A wall clock stepped back: the worker's own measure counts. */
	t.finished_at = t.started_at - 3600000;
	t.elapsed_ms = 2500;
	taskview_row(&b, &t, 0, "0123456789abcdef0123456789abcdef");
	T_CHECK(strstr(b.data, "<td class=\"ran\">2.50 s</td>") != NULL,
		"a done row shows the time its worker measured, not the "
		"difference of its stamps");
	T_CHECK(strstr(b.data, "/delete\"") != NULL &&
		    strstr(b.data, "/cancel\"") == NULL,
		"a done task offers delete only");
	buf_free(&b);

	t = sample_task(TASK_ERROR);
	t.has_error = 1;
	snprintf(t.error, sizeof(t.error), "<b>out of memory</b> & more");
	taskview_row(&b, &t, 0, "0123456789abcdef0123456789abcdef");
	T_CHECK(strstr(b.data, "<span class=\"task-error\">&lt;b&gt;out of "
			       "memory&lt;/b&gt; &amp; more</span>") != NULL,
		"an error row shows the error, escaped");
	T_CHECK(strstr(b.data, "/retry\"") != NULL &&
		    strstr(b.data, "/delete\"") != NULL,
		"a failed task offers retry and delete");
	buf_free(&b);
}

static void
test_row_stopping(void)
{
	struct task t = sample_task(TASK_RUNNING);
	struct buf b = { 0 };

	t.cancel_requested = 1;
	taskview_row(&b, &t, 0, "0123456789abcdef0123456789abcdef");
	T_CHECK(strstr(b.data, "<span class=\"note\">stopping…</span>") !=
			NULL &&
		    strstr(b.data, "<form") == NULL,
		"a running task asked to stop says so and offers no action");
	buf_free(&b);
}

static void
test_layout_has_no_inline_code(void)
{
	long long counts[TASK_STATUS__MAX] = { 1, 2, 3, 4, 5 };
	struct buf b = { 0 };

	layout_begin(&b, "T<i>", counts);
	layout_end(&b);
	T_CHECK(
	    strstr(b.data, "<link rel=\"stylesheet\" href=\"/style.css\">") !=
		    NULL &&
		strstr(b.data, "<script src=\"/app.js\" defer></script>") !=
		    NULL,
	    "pages link /style.css and load /app.js deferred");
	T_CHECK(strstr(b.data, "style=") == NULL &&
		    strstr(b.data, "<style") == NULL &&
		    strstr(b.data, "<script>") == NULL &&
		    strstr(b.data, " on") == NULL,
		"pages have no inline style or script (the CSP forbids it)");
	T_CHECK(strstr(b.data, "<title>T&lt;i&gt; · nthpi</title>") != NULL,
		"the title is escaped");
	T_CHECK(strstr(b.data, "<span class=\"count-n\" id=\"count-error\">4"
			       "</span> error") != NULL,
		"the header shows the count of each status");
	buf_free(&b);
}

static void
test_error_page_escapes(void)
{
	struct buf b = { 0 };

	layout_error_page(&b, 404, "No task <img src=x>.");
	T_CHECK(strstr(b.data, "<h1>Not Found</h1>") != NULL &&
		    strstr(b.data, "No task &lt;img src=x&gt;.") != NULL,
		"the error page names the status and escapes the message");
	buf_free(&b);
}

int
main(void)
{
	test_text_escapes_markup();
	test_text_null_is_nothing();
	test_text_utf8();
	test_text_controls();
	test_attr_escapes();
	test_int();
	test_row_running();
	test_row_done_and_error();
	test_row_stopping();
	test_layout_has_no_inline_code();
	test_error_page_escapes();
	return T_EXIT();
}
