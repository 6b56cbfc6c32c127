/* serve.h: one request from parameters to written response, no FastCGI. */
#ifndef NTHPI_SERVE_H
#define NTHPI_SERVE_H

#include "app.h"

/* Requests slower than this (not counting a long-poll's hold) are logged
 * at info level; other successful requests at debug level only. */
#define SERVE_SLOW_MS 50

/* What a thread keeps from one request to the next. */
struct serve {
	struct request req;
	struct response resp;
	struct buf out;
};

/* Allocates a serve for one thread. Returns NULL if memory ran out. */
struct serve *serve_new(void);

/* Frees it. Accepts NULL. */
void serve_free(struct serve *s);

/*
 * Handles one request: parses it (get), reads its body (read), dispatches
 * it, and writes the response in two calls of write, head then body (or
 * streams it). Afterwards the thread keeps no buffer larger than
 * RESPONSE_KEEP_BYTES.
 * conn_fd is the connection to nginx (-1: none).
 * Never fails as far as the caller is concerned: every problem becomes an
 * HTTP answer or, if the client went away, nothing. Returns the status.
 */
int serve_request(struct serve *s, const struct app *app, int conn_fd,
		  request_getter get, void *get_arg, request_reader read,
		  void *read_arg, response_writer write, void *write_arg);

#endif
