/* test_serve.c: one request through serve_request as a FastCGI thread runs
 * it, with a fake transport: what is written, in how many pieces, and what
 * the thread keeps afterwards. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "log.h"
#include "serve.h"
#include "t.h"

/* A fake FastCGI environment: NULL-terminated name, value pairs. */
static const char *
env_get(void *arg, const char *name)
{
	const char **kv = arg;

	for (; kv[0] != NULL; kv += 2)
		if (strcmp(kv[0], name) == 0)
			return kv[1];
	return NULL;
}

static long
no_body(void *arg, char *p, size_t want)
{
	(void)arg;
	(void)p;
	(void)want;
	return 0;
}

/* What the fake transport was given. */
static struct {
	struct buf all;
	int calls;
	size_t largest;
} sent;

static int
record_write(void *arg, const void *p, size_t n)
{
	(void)arg;
	sent.calls++;
	if (n > sent.largest)
		sent.largest = n;
	return buf_append(&sent.all, p, n);
}

/* Serves GET uri and returns the status; what went out is in sent. */
static int
serve_get(struct serve *s, const struct app *app, const char *uri)
{
	const char *q = strchr(uri, '?');
	const char *env[] = {
		"REQUEST_METHOD", "GET",          "REQUEST_URI", uri,
		"QUERY_STRING",   q ? q + 1 : "", NULL
	};

	buf_reset(&sent.all);
	sent.calls = 0;
	sent.largest = 0;
	return serve_request(s, app, -1, env_get, env, no_body, NULL,
			     record_write, NULL);
}

static const char *
sent_text(void)
{
	return sent.all.data ? sent.all.data : "";
}

static void
test_database_unavailable(void)
{
	struct config cfg;
	struct app app = { .cfg = &cfg };
	struct serve *s = serve_new();

	config_defaults(&cfg);
	app.pool = dbpool_new("/nonexistent-nthpi-dir/nthpi.db", 2);
	if (!T_CHECK(s != NULL && app.pool != NULL, "a serve and a pool"))
		return;
	T_CHECK(serve_get(s, &app, "/api/tasks") == 503 &&
		    strstr(sent_text(), "Status: 503 ") == sent_text() &&
		    strstr(sent_text(), "\r\nRetry-After: 5\r\n") != NULL &&
		    strstr(sent_text(), "{\"error\": \"The server cannot open "
					"the task database") != NULL,
		"no database connection: the API answers 503 with "
		"Retry-After and a sentence");
	T_CHECK(serve_get(s, &app, "/") == 503 &&
		    strstr(sent_text(), "\r\nRetry-After: 5\r\n") != NULL,
		"no database connection: the main page answers 503 too");
	dbpool_free(app.pool);
	serve_free(s);
}

/* Returns how many times needle occurs in hay. */
static int
occurrences(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_retry_after(void)
{
	static const int statuses[] = { 200, 400, 404, 409, 429, 503 };
	struct response r = { 0 };
	struct buf head = { 0 };
	size_t i;

	for (i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		int want = statuses[i] == 429 || statuses[i] == 503;

		response_reset(&r);
		r.status = statuses[i];
		response_finish(&r, &head);
		T_CHECK(occurrences(head.data, "Retry-After: 5\r\n") == want,
			"a %d %s Retry-After", statuses[i],
			want ? "carries" : "has no");
	}
	response_reset(&r);
	r.status = 503;
	r.retry_after = 30;
	response_finish(&r, &head);
	T_CHECK(occurrences(head.data, "Retry-After") == 1 &&
		    strstr(head.data, "Retry-After: 30\r\n") != NULL,
		"a 503 that names its own wait sends that one, once");
	response_reset(&r);
	T_CHECK(r.retry_after == 0, "the next request starts without it");
	buf_free(&head);
	response_release(&r);
	buf_free(&r.headers);
	buf_free(&r.body);
}

/* A database of its own in a temp dir, for the tests that need tasks. */
static char dir[] = "/tmp/nthpi-test-serve-XXXXXX";
static char path[256];

/* Adds count tasks, each with an error sentence of about 400 bytes. */
static int
add_tasks(int count)
{
	char sql[512];
	sqlite3 *db = db_open(path);
	int rc;

	if (db == NULL)
		return -1;
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
		 "FROM k WHERE i < %d) INSERT INTO tasks (n, status, error, "
		 "created_at, finished_at) SELECT 1000 + i, 'error', "
		 "printf('%%.400c', 'x'), 1700000000000 + i, 1700000000500 + i "
		 "FROM k",
		 count);
	rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK ? 0 : -1;
}

static void
test_big_answer_kept_by_no_one(void)
{
	struct config cfg;
	struct app app = { .cfg = &cfg };
	struct serve *s = serve_new();
	const char *head_end;
	char want[64];

	config_defaults(&cfg);
	app.pool = dbpool_new(path, 2);
	if (!T_CHECK(s != NULL && app.pool != NULL && add_tasks(1000) == 0,
		     "1000 tasks with long error sentences"))
		goto out;
	T_CHECK(serve_get(s, &app, "/api/tasks?limit=1000") == 200 &&
		    sent.calls == 2 && sent.largest > 400000,
		"a big answer goes out in two writes, head then body");
	head_end = strstr(sent_text(), "\r\n\r\n");
	snprintf(want, sizeof(want), "\r\nContent-Length: %zu\r\n",
		 head_end ? sent.all.len - (size_t)(head_end + 4 - sent_text())
			  : 0);
	T_CHECK(head_end != NULL && strstr(sent_text(), want) != NULL &&
		    strncmp(head_end + 4, "{\"version\": ", 12) == 0,
		"its Content-Length is the length of the body after the head");
	T_CHECK(s->resp.body.cap == 0 && s->resp.headers.cap == 0 &&
		    s->out.cap <= RESPONSE_KEEP_BYTES,
		"after it the thread keeps no large buffer (body %zu, head %zu "
		"bytes)",
		s->resp.body.cap, s->out.cap);
	T_CHECK(serve_get(s, &app, "/api/tasks?limit=2") == 200 &&
		    sent.calls == 2 && s->resp.body.cap > 0 &&
		    s->resp.body.cap <= RESPONSE_KEEP_BYTES,
		"a small answer's buffer is kept for the next request");
out:
	dbpool_free(app.pool);
	serve_free(s);
}

/* The "version" of a JSON answer in a response, or -1. */
static long long
version_of(const char *response)
{
	const char *p = strstr(response, "{\"version\": ");

	return p ? strtoll(p + 12, NULL, 10) : -1;
}

static void
test_list_cache(void)
{
	struct config cfg;
	struct app app = { .cfg = &cfg };
	struct serve *s = serve_new();
	struct buf first = { 0 };
	struct listcache_key key = { 0, 0, 3, -1 };
	struct blob *kept;
	sqlite3 *db = NULL;

	config_defaults(&cfg);
	app.pool = dbpool_new(path, 2);
	app.lists = listcache_new();
	if (!T_CHECK(s != NULL && app.pool != NULL && app.lists != NULL,
		     "a pool and a list cache"))
		goto out;
	serve_get(s, &app, "/api/tasks?limit=3");
	buf_append(&first, sent.all.data, sent.all.len);
	key.version = version_of(sent_text());
	kept = listcache_get(app.lists, &key);
	T_CHECK(kept != NULL && strstr(sent_text(), kept->data) != NULL,
		"a list answer is kept for its version and query");
	blob_unref(kept);
	T_CHECK(serve_get(s, &app, "/api/tasks?limit=3") == 200 &&
		    strstr(sent_text(), "\r\n\r\n") &&
		    strcmp(strstr(sent_text(), "\r\n\r\n"),
			   strstr(first.data, "\r\n\r\n")) == 0,
		"the same list asked again is the same answer");
	if ((db = db_open(path)) == NULL ||
	    sqlite3_exec(db,
			 "INSERT INTO tasks (n, created_at) VALUES "
			 "(424242, 1800000000000)",
			 NULL, NULL, NULL) != SQLITE_OK) {
		T_CHECK(0, "a task is added");
		goto out;
	}
	T_CHECK(serve_get(s, &app, "/api/tasks?limit=3") == 200 &&
		    strstr(sent_text(), "\"n\": 424242") != NULL,
		"a task added by another connection is in the next answer");
	T_CHECK(serve_get(s, &app, "/api/tasks?limit=3&status=queued") == 200 &&
		    strstr(sent_text(), "\"n\": 424242") != NULL &&
		    serve_get(s, &app, "/api/tasks?limit=3&status=done") ==
			200 &&
		    strstr(sent_text(), "\"n\": 424242") == NULL,
		"answers of different queries are kept apart");
	sqlite3_exec(db, "DELETE FROM tasks WHERE n = 424242", NULL, NULL,
		     NULL);
	T_CHECK(serve_get(s, &app, "/api/tasks?limit=3&status=queued") == 200 &&
		    strstr(sent_text(), "\"n\": 424242") == NULL,
		"a deleted task is gone from the next answer");
out:
	sqlite3_close(db);
	buf_free(&first);
	listcache_free(app.lists);
	dbpool_free(app.pool);
	serve_free(s);
}

/* The cache alone: versions, keys and its bounds. */
static void
test_list_cache_bounds(void)
{
	struct listcache *c = listcache_new();
	struct listcache_key k = { 7, 0, 50, -1 }, k2 = k;
	static char big[LISTCACHE_BYTES / 4 + 1];
	struct blob *b;
	int i, kept = 0;

	if (!T_CHECK(c != NULL, "a list cache"))
		return;
	listcache_put(c, &k, "abc", 3);
	b = listcache_get(c, &k);
	T_CHECK(b != NULL && b->len == 3 && strcmp(b->data, "abc") == 0,
		"an answer put is got back");
	blob_unref(b);
	k2.limit = 51;
	T_CHECK(listcache_get(c, &k2) == NULL, "another limit is a miss");
	k2 = k;
	k2.version = 8;
	listcache_put(c, &k2, "new", 3);
	T_CHECK(listcache_get(c, &k) == NULL,
		"an answer of another version drops the old ones");
	memset(big, 'x', sizeof(big));
	k2.limit = 1000;
	listcache_put(c, &k2, big, sizeof(big));
	T_CHECK(listcache_get(c, &k2) == NULL,
		"an answer over a quarter of the cache is not kept");
	for (i = 0; i < LISTCACHE_ENTRIES + 5; i++) {
		k2.limit = i + 1;
		listcache_put(c, &k2, big, sizeof(big) - 1);
	}
	for (i = 0; i < LISTCACHE_ENTRIES + 5; i++) {
		k2.limit = i + 1;
		if ((b = listcache_get(c, &k2)) != NULL)
			kept++;
		blob_unref(b);
	}
	k2.limit = LISTCACHE_ENTRIES + 5;
	b = listcache_get(c, &k2);
	T_CHECK(kept == 4 && b != NULL,
		"it keeps at most LISTCACHE_BYTES, the latest answers (%d "
		"kept)",
		kept);
	blob_unref(b);
	listcache_free(c);
}

int
main(void)
{
	log_init("test_serve", LOG_LEVEL_ERR);
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/nthpi.db", dir);
	test_database_unavailable();
	test_retry_after();
	test_big_answer_kept_by_no_one();
	test_list_cache();
	test_list_cache_bounds();
	buf_free(&sent.all);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return T_EXIT();
}
