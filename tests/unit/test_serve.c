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
	struct app app = { &cfg, NULL, NULL, NULL };
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
	struct app app = { &cfg, NULL, NULL, NULL };
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
	test_big_answer_kept_by_no_one();
	buf_free(&sent.all);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return T_EXIT();
}
