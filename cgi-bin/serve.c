/* serve.c: one request from parameters to written response, no FastCGI. */
#include <stdlib.h>
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
		ctx.api = route_is_api(s->req.path);
		ctx_fail(&ctx, rc, err);
		if (s->req.method == HTTP_HEAD)
			s->resp.head_only = 1;
	} else
		route_dispatch(&ctx);
	ctx_db_release(&ctx);
	took = serve_usec() - start - ctx.wait_ms * 1000;
	if (took < 0)
		took = 0;
	if (ctx.client_gone)
		log_debug("%s %s: the client left during the hold",
			  s->req.method_name, s->req.path);
	else if (!s->resp.streamed) {
		s->resp.elapsed_us = took;
		if (response_finish(&s->resp, &s->out) == -1)
			log_err("out of memory building a response");
		else if (write(write_arg, s->out.data, s->out.len) == -1)
			log_debug("%s %s: the client went away",
				  s->req.method_name, s->req.path);
	}
	if (took / 1000 >= SERVE_SLOW_MS)
		log_debug("slow request: %s %s: %d in %lld ms%s",
			  s->req.method_name, s->req.path, s->resp.status,
			  took / 1000,
			  ctx.wait_ms > 0 ? " (not counting the hold)" : "");
	return s->resp.status;
}
