/* response.c: building one HTTP response, headers and body, to send once. */
#include <stdio.h>
#include <string.h>

#include "response.h"

/* The same on every response, as docs/design.md ("Security") says. */
static const char response_security_headers[] =
    "Content-Security-Policy: default-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'self'\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Referrer-Policy: same-origin\r\n";

static const struct {
	int status;
	const char *reason;
} response_reasons[] = {
	{ 200, "OK" },
	{ 201, "Created" },
	{ 204, "No Content" },
	{ 206, "Partial Content" },
	{ 303, "See Other" },
	{ 304, "Not Modified" },
	{ 400, "Bad Request" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 409, "Conflict" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 422, "Unprocessable Content" },
	{ 416, "Range Not Satisfiable" },
	{ 429, "Too Many Requests" },
	{ 500, "Internal Server Error" },
	{ 503, "Service Unavailable" },
};

const char *
response_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(response_reasons) / sizeof(response_reasons[0]);
	     i++)
		if (response_reasons[i].status == status)
			return response_reasons[i].reason;
	return "Unknown";
}

void
response_trim_buf(struct buf *b)
{
	if (b->cap > RESPONSE_KEEP_BYTES)
		buf_free(b);
	else
		buf_reset(b);
}

void
response_release(struct response *r)
{
	response_trim_buf(&r->headers);
	response_trim_buf(&r->body);
	blob_unref(r->shared);
	r->shared = NULL;
}

struct buf *
response_new_body(struct response *r)
{
	blob_unref(r->shared);
	r->shared = NULL;
	buf_reset(&r->body);
	return &r->body;
}

void
response_share_body(struct response *r, struct blob *b)
{
	blob_unref(r->shared);
	r->shared = blob_ref(b);
	buf_reset(&r->body);
}

void
response_reset(struct response *r)
{
	response_release(r);
	r->status = 200;
	r->content_type = "text/html; charset=utf-8";
	r->head_only = 0;
	r->cache_control = NULL;
	r->retry_after = 0;
	r->elapsed_us = -1;
	r->streamed = 0;
	r->stream_failed = 0;
}

int
response_header(struct response *r, const char *name, const char *value)
{
	const unsigned char *p;

	/* A header value from data must not be able to start a new header
	 * (response splitting). */
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return -1;
	buf_puts(&r->headers, name);
	buf_append(&r->headers, ": ", 2);
	buf_puts(&r->headers, value);
	buf_append(&r->headers, "\r\n", 2);
	return r->headers.failed ? -1 : 0;
}

/* Appends everything up to and including the blank line. */
static void
response_head(struct response *r, struct buf *out, long long length)
{
	buf_printf(out, "Status: %d %s\r\n", r->status,
		   response_reason(r->status));
	/* A 304 has no body, and no length of one to describe. */
	if (r->status != 304)
		buf_printf(out,
			   "Content-Type: %s\r\n"
			   "Content-Length: %lld\r\n",
			   r->content_type, length);
	buf_append(out, response_security_headers,
		   sizeof(response_security_headers) - 1);
	/* Most answers reflect the queue at one moment: none may be reused. */
	buf_printf(out, "Cache-Control: %s\r\n",
		   r->cache_control != NULL ? r->cache_control : "no-store");
	/* Said here, not by each refusal, so that none can go without it. */
	if (r->status == 429 || r->status == 503)
		buf_printf(out, "Retry-After: %d\r\n",
			   r->retry_after > 0 ? r->retry_after
					      : RESPONSE_RETRY_AFTER);
	if (r->elapsed_us >= 0)
		buf_printf(out, "Server-Timing: app;dur=%lld.%03lld\r\n",
			   r->elapsed_us / 1000, r->elapsed_us % 1000);
	buf_append(out, r->headers.data ? r->headers.data : "", r->headers.len);
	buf_append(out, "\r\n", 2);
}

int
response_finish(struct response *r, struct buf *head)
{
	buf_reset(head);
	if (r->body.failed) {
		blob_unref(r->shared);
		r->shared = NULL;
		/* Out of memory while rendering: say so instead of sending
		 * half a page. */
		r->status = 500;
		r->content_type = "text/plain; charset=utf-8";
		buf_free(&r->body);
		buf_puts(&r->body, "The server ran out of memory while "
				   "building this page. Try again later.\n");
	}
	response_head(r, head,
		      (long long)(r->shared ? r->shared->len : r->body.len));
	return head->failed ? -1 : 0;
}

int
response_send(struct response *r, struct buf *head)
{
	const char *body;
	size_t len;

	if (response_finish(r, head) == -1)
		return -2;
	body = r->shared ? r->shared->data : r->body.data;
	len = r->shared ? r->shared->len : r->body.len;
	if (r->write(r->write_arg, head->data, head->len) == -1)
		return -1;
	/* A second write rather than a copy behind the headers: the body
	 * may be large, and a thread should not hold it twice. */
	if (!r->head_only && len > 0 && r->write(r->write_arg, body, len) == -1)
		return -1;
	return 0;
}

int
response_stream_begin(struct response *r, long long length)
{
	struct buf head = { 0 };
	int rc = -1;

	response_head(r, &head, length);
	if (head.failed)
		goto out;
	r->streamed = 1;
	if (r->write(r->write_arg, head.data, head.len) == -1) {
		r->stream_failed = 1;
		goto out;
	}
	rc = 0;
out:
	buf_free(&head);
	return rc;
}

int
response_stream_write(struct response *r, const void *p, size_t n)
{
	if (r->stream_failed || r->head_only)
		return r->stream_failed ? -1 : 0;
	if (r->write(r->write_arg, p, n) == -1) {
		r->stream_failed = 1;
		return -1;
	}
	return 0;
}
