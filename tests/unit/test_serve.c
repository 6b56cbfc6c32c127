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
	buf_free(&sent.all);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/nthpi.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return T_EXIT();
}
