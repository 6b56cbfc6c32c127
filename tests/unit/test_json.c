/* test_json.c: the JSON writers escape every dynamic byte, and a task
 * comes out in the shape docs/design.md gives. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api_tasks.h"
#include "buf.h"
#include "json.h"
#include "pollcache.h"
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
	       "\"finished_at\": null, \"url\": \"/tasks/12\"}";
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

static void
test_pollcache_single(void)
{
	struct pollcache *c = pollcache_new();
	struct buf b = { 0 };

	T_CHECK(pollcache_get(c, 5, 10, &b) == 0,
		"the first waiter for an answer builds it");
	pollcache_put(c, 5, 12, "{\"version\": 12}", 15);
	T_CHECK(pollcache_get(c, 5, 10, &b) == 1 &&
		    strcmp(b.data, "{\"version\": 12}") == 0,
		"the next waiter for that since= copies the answer");
	buf_reset(&b);
	T_CHECK(pollcache_get(c, 5, 13, &b) == 0 && b.len == 0,
		"an answer older than the version woken for is not used");
	pollcache_abandon(c, 5);
	T_CHECK(pollcache_get(c, 6, 0, &b) == 0,
		"another since= is built on its own");
	pollcache_put(c, 6, 20, "x", 1);
	buf_free(&b);
	pollcache_free(c);
}

/* A second waiter: must wait for the first one's answer. */
struct pollcache_peer {
	struct pollcache *c;
	int hit;
	struct buf b;
};

static void *
pollcache_peer_main(void *arg)
{
	struct pollcache_peer *p = arg;

	p->hit = pollcache_get(p->c, 7, 30, &p->b);
	return NULL;
}

static void
test_pollcache_waits_for_builder(void)
{
	struct pollcache_peer p = { pollcache_new(), -1, { 0 } };
	struct buf b = { 0 };
	pthread_t t;

	T_CHECK(pollcache_get(p.c, 7, 30, &b) == 0, "one waiter builds");
	pthread_create(&t, NULL, pollcache_peer_main, &p);
	usleep(50 * 1000);
	pollcache_put(p.c, 7, 31, "answer", 6);
	pthread_join(t, NULL);
	T_CHECK(p.hit == 1 && p.b.len == 6,
		"a waiter that came while it was built gets the same answer");
	buf_free(&p.b);
	buf_free(&b);
	pollcache_free(p.c);
}

int
main(void)
{
	test_string_escapes();
	test_string_utf8();
	test_numbers();
	test_task_shape();
	test_pollcache_single();
	test_pollcache_waits_for_builder();
	return T_EXIT();
}
