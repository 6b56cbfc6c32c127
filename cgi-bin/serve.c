/* serve.c: one request from parameters to written response, no FastCGI. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "route.h"
#include "serve.h"
#include "timefmt.h"

struct serve *
serve_new(void)
{
	return calloc(1, sizeof(struct serve));
}

void
serve_free(struct serve *s)
{
	if (s == NULL)
		return;
	buf_free(&s->resp.headers);
	buf_free(&s->resp.body);
	buf_free(&s->out);
	free(s);
}

/* Microseconds on the monotonic clock, for timing one request. */
static long long
serve_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/*
 * Copies what can safely go into a log line of text: printable ASCII, any
 * other byte as '?', cut at outlen - 1 with "..." marking the cut.
 */
static void
serve_log_text(const char *in, char *out, size_t outlen)
{
	size_t i;

	for (i = 0; in[i] != '\0' && i + 1 < outlen; i++)
		out[i] = in[i] >= 0x20 && in[i] < 0x7f ? in[i] : '?';
	out[i] = '\0';
	if (in[i] != '\0' && outlen > 4)
		memcpy(out + outlen - 4, "...", 4);
}

/*
 * Logs the request once: a server error as a warning, a client error or a
 * slow answer as info, anything else at debug level only. A streamed body
 * (pi.txt) is not called slow: its time is the client's reading.
 */
static void
serve_log(const struct serve *s, long long ms)
{
	char method[17], path[201];
	int status = s->resp.status;

	serve_log_text(s->req.method_name, method, sizeof(method));
	serve_log_text(s->req.path, path, sizeof(path));
	if (status >= 500)
		log_warn("%s %s: %d in %lld ms", method, path, status, ms);
	else if (status >= 400)
		log_info("%s %s: %d in %lld ms", method, path, status, ms);
	else if (ms >= SERVE_SLOW_MS && !s->resp.streamed)
		log_info("slow request: %s %s: %d in %lld ms", method, path,
			 status, ms);
	else
		log_debug("%s %s: %d in %lld ms", method, path, status, ms);
}

int
serve_request(struct serve *s, const struct app *app, int conn_fd,
	      request_getter get, void *get_arg, request_reader read,
	      void *read_arg, response_writer write, void *write_arg)
{
	struct ctx ctx = { 0 };
	long long start = serve_usec(), took;
	char err[320];
	int rc;

	response_reset(&s->resp);
	s->resp.write = write;
	s->resp.write_arg = write_arg;
	ctx.app = app;
	ctx.req = &s->req;
	ctx.resp = &s->resp;
	ctx.now = time_now_ms();
	ctx.conn_fd = conn_fd;
	rc = request_parse(&s->req, get, get_arg, err, sizeof(err));
	if (rc == 0 && s->req.content_length > 0)
		rc = request_read_body(&s->req, read, read_arg, err,
				       sizeof(err));
	if (rc != 0) {
		ctx.area = route_area(s->req.path);
		ctx_fail(&ctx, rc, err);
		if (s->req.method == HTTP_HEAD)
			s->resp.head_only = 1;
	} else
		route_dispatch(&ctx);
	ctx_db_release(&ctx);
	took = serve_usec() - start;
	if (!s->resp.streamed) {
		s->resp.elapsed_us = took;
		rc = response_send(&s->resp, &s->out);
		if (rc == -2)
			log_err("out of memory building a response");
		else if (rc == -1)
			log_debug("%s %s: the client went away",
				  s->req.method_name, s->req.path);
	}
	serve_log(s, took / 1000);
	/* The thread may now wait long for its next request: it keeps no
	 * large buffer meanwhile. */
	response_release(&s->resp);
	response_trim_buf(&s->out);
	return s->resp.status;
}
