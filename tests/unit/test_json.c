/* test_json.c: the JSON writers escape every dynamic byte, and a task
 * comes out in the shape docs/design.md gives. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api_tasks.h"
#include "buf.h"
#include "json.h"
#include "t.h"

/* Runs json_string on s and compares with want. */
static int
string_is(const char *s, const char *want)
{
	struct buf b = { 0 };
	int ok;

	json_string(&b, s);
	ok = strcmp(b.data ? b.data : "", want) == 0;
	if (!ok)
		T_DIAG("json_string gave %s, want %s", b.data, want);
	buf_free(&b);
	return ok;
}

static void
test_string_escapes(void)
{
	T_CHECK(string_is("say \"hi\" \\ now", "\"say \\\"hi\\\" \\\\ now\""),
		"json_string escapes quotes and backslashes");
	T_CHECK(string_is("a\nb\rc\td", "\"a\\nb\\rc\\td\""),
		"json_string escapes newline, return and tab");
	T_CHECK(string_is("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\""),
		"json_string escapes other control characters as \\u");
	T_CHECK(string_is("</script><!--&", "\"\\u003c/script\\u003e\\u003c!--"
					    "\\u0026\""),
		"json_string escapes < > & so the text is inert in HTML");
	T_CHECK(string_is("", "\"\""), "json_string of \"\" is \"\"");
	T_CHECK(string_is(NULL, "null"), "json_string of NULL is null");
}

static void
test_string_utf8(void)
{
	struct buf b = { 0 };

	T_CHECK(string_is("π 😀", "\"π 😀\""),
		"json_string keeps well-formed UTF-8");
	T_CHECK(string_is("a\xff"
			  "b",
			  "\"a\\ufffdb\""),
		"json_string replaces ill-formed UTF-8 with \\ufffd");
	T_CHECK(string_is("\xe2\x80\xa8\xe2\x80\xa9", "\"\\u2028\\u2029\""),
		"json_string escapes U+2028 and U+2029");
	json_string_len(&b, "a\0b", 3);
	T_CHECK(strcmp(b.data, "\"a\\u0000b\"") == 0,
		"json_string_len escapes a NUL byte");
	buf_free(&b);
}

static void
test_numbers(void)
{
	struct buf b = { 0 };

	json_int(&b, 12);
	json_raw_unescaped(&b, " ");
	json_fraction(&b, 0.42);
	json_raw_unescaped(&b, " ");
	json_fraction(&b, 1);
	json_raw_unescaped(&b, " ");
	json_fraction(&b, 0);
	json_raw_unescaped(&b, " ");
	json_fraction(&b, NAN);
	json_raw_unescaped(&b, " ");
	json_fraction(&b, 0.123456);
	T_CHECK(strcmp(b.data, "12 0.42 1 0 0 0.1235") == 0,
		"numbers are plain JSON, never NaN");
	if (strcmp(b.data, "12 0.42 1 0 0 0.1235") != 0)
		T_DIAG("got %s", b.data);
	buf_free(&b);
}

static void
test_task_shape(void)
{
	struct task t;
	struct buf b = { 0 };
	const char *want;

	memset(&t, 0, sizeof(t));
	t.id = 12;
	t.n = 1000000;
	t.status = TASK_RUNNING;
	t.digit = -1;
	t.progress = 0.42;
	t.created_at = 1795517726123LL;
	t.started_at = 1795517727001LL;
	t.finished_at = -1;
	api_task_json(&b, &t);
	want = "{\"id\": 12, \"n\": 1000000, \"status\": \"running\", "
	       "\"progress\": 0.42, \"digit\": null, \"error\": null, "
	       "\"created_at\": \"2026-11-24T10:55:26.123Z\", "
	       "\"started_at\": \"2026-11-24T10:55:27.001Z\", "
	       "\"finished_at\": null, \"cancel_requested\": false, "
	       "\"url\": \"/tasks/12\"}";
	T_CHECK(strcmp(b.data, want) == 0,
		"a running task has the keys and values of the design");
	if (strcmp(b.data, want) != 0)
		T_DIAG("got %s", b.data);
	buf_free(&b);

	t.status = TASK_DONE;
	t.digit = 7;
	t.progress = 1;
	t.finished_at = t.started_at + 10;
	api_task_json(&b, &t);
	T_CHECK(strstr(b.data, "\"digit\": \"7\"") != NULL &&
		    strstr(b.data,
			   "\"finished_at\": \"2026-11-24T10:55:27.011Z\"") !=
			NULL,
		"a done task's digit is a one-character string");
	buf_free(&b);

	t.status = TASK_ERROR;
	t.digit = -1;
	t.has_error = 1;
	snprintf(t.error, sizeof(t.error), "disk \"full\"\n");
	api_task_json(&b, &t);
	T_CHECK(strstr(b.data, "\"digit\": null, \"error\": \"disk "
			       "\\\"full\\\"\\n\"") != NULL,
		"a failed task's error is an escaped string");
	buf_free(&b);
}

int
main(void)
{
	test_string_escapes();
	test_string_utf8();
	test_numbers();
	test_task_shape();
	return T_EXIT();
}
