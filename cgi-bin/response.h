/* response.h: building one HTTP response, headers and body, to send once. */
#ifndef NTHPI_RESPONSE_H
#define NTHPI_RESPONSE_H

#include <stddef.h>

#include "blob.h"
#include "buf.h"

/* Writes n bytes to the client. Returns 0 or -1 (client gone). */
typedef int (*response_writer)(void *arg, const void *p, size_t n);

struct response {
	int status; /* 200 unless set */
	const char
	    *content_type;  /* a literal, e.g. "text/html; charset=utf-8" */
	struct buf headers; /* extra "Name: value\r\n" lines */
	struct buf body;
	struct blob *shared; /* if set, the body instead of body (one ref) */
	int head_only;       /* HEAD: send headers and Content-Length only */
	const char *cache_control; /* a literal; NULL: "no-store" */
	/* Seconds a 429 or 503 asks the client to wait (Retry-After); 0:
	 * RESPONSE_RETRY_AFTER. Other statuses send none. */
	int retry_after;
	long long elapsed_us; /* for Server-Timing; set by the caller */
	/* For a streamed body (response_stream_begin): */
	response_writer write;
	void *write_arg;
	int streamed;      /* headers went out; body is being streamed */
	int stream_failed; /* the client went away mid-stream */
};

/* The Retry-After of a 429 or 503 that names no other. */
#define RESPONSE_RETRY_AFTER 5

/*
 * A thread keeps at most this much of each buffer between requests: a
 * larger one (a big page) is freed once it went out, so that hundreds of
 * idle threads do not each keep one.
 */
#define RESPONSE_KEEP_BYTES (64 * 1024)

/* Empties b, and frees it if it grew past RESPONSE_KEEP_BYTES. */
void response_trim_buf(struct buf *b);

/*
 * Empties r's buffers after its response went out, freeing those that
 * grew past RESPONSE_KEEP_BYTES, and drops its shared body.
 */
void response_release(struct response *r);

/* Empties the body for a new one, dropping a shared one, and returns it. */
struct buf *response_new_body(struct response *r);

/*
 * Makes b the body (an answer built once and shared by requests, from a
 * cache), in place of r->body: r takes its own reference.
 */
void response_share_body(struct response *r, struct blob *b);

/* Empties r for the next request (response_release) and sets status 200,
 * HTML. */
void response_reset(struct response *r);

/*
 * Adds a header line. name is a literal; value is checked and refused
 * (returns -1, nothing added) if it holds CR, LF or other controls.
 */
int response_header(struct response *r, const char *name, const char *value);

/*
 * Writes the head of the response (status line, Content-Type,
 * Content-Length, the security headers of docs/design.md, Retry-After on a
 * 429 or 503, the extra headers and a blank line) into head, replacing what head held. If the
 * body ran out of memory, it becomes a 500 saying so first. Returns 0 or
 * -1 if memory ran out while building (head->failed).
 */
int response_finish(struct response *r, struct buf *head);

/*
 * Sends the response through r->write: the head (built in head by
 * response_finish), then the body unless head_only, in two writes.
 * Returns 0, -1 if the client went away, or -2 if memory ran out.
 */
int response_send(struct response *r, struct buf *head);

/*
 * Starts a streamed response of length body bytes: writes the headers at
 * once through r->write. Later bytes go through response_stream_write.
 * Returns 0 or -1 if the client went away.
 */
int response_stream_begin(struct response *r, long long length);

/* Sends body bytes of a streamed response. Returns 0 or -1. */
int response_stream_write(struct response *r, const void *p, size_t n);

/* The reason phrase for status ("Not Found"). */
const char *response_reason(int status);

#endif
