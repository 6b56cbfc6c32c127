/* request.h: one HTTP request as nginx hands it over FastCGI, checked. */
#ifndef NTHPI_REQUEST_H
#define NTHPI_REQUEST_H

#include <stddef.h>

#include "params.h"

/* Limits on what a request may carry; past them it is refused unread. */
#define REQUEST_PATH_MAX 1024  /* bytes of path, encoded (414) */
#define REQUEST_QUERY_MAX 2048 /* bytes of query string (414) */
#define REQUEST_BODY_MAX 4096  /* bytes of form or JSON body (413) */

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_POST,
	HTTP_DELETE,
	HTTP_OPTIONS, /* a CORS preflight, answered by /v1/pi only */
	HTTP_OTHER,
	HTTP_METHOD__MAX
};

/* The CSRF token: 32 lowercase hex digits. */
#define CSRF_TOKEN_LEN 32

struct request {
	enum http_method method;
	const char *method_name;         /* as sent, for logs */
	char path[REQUEST_PATH_MAX + 1]; /* percent-decoded */
	struct params query;
	const char *content_type;    /* NULL if absent */
	long long content_length;    /* 0 if absent */
	const char *origin;          /* Origin header, NULL if absent */
	const char *fetch_site;      /* Sec-Fetch-Site, NULL if absent */
	const char *host;            /* Host header, NULL if absent */
	const char *server_port;     /* SERVER_PORT, NULL if absent */
	const char *range;           /* Range header, NULL if absent */
	const char *if_range;        /* If-Range header, NULL if absent */
	const char *if_none_match;   /* If-None-Match header, NULL if absent */
	const char *accept;          /* Accept header, NULL if absent */
	const char *idempotency_key; /* Idempotency-Key, NULL if absent */
	int https;                   /* nginx said HTTPS=on */
	const char *scheme; /* REQUEST_SCHEME ("http"), NULL if absent */
	/* The nthpi_csrf cookie if it is well-formed, else "". */
	char csrf_cookie[CSRF_TOKEN_LEN + 1];
	/* Its SameSite=Lax twin, nthpi_csrf_lax, likewise. */
	char csrf_lax_cookie[CSRF_TOKEN_LEN + 1];
	/* The body, NUL-terminated, once request_read_body ran. */
	char body[REQUEST_BODY_MAX + 1];
	size_t body_len;
	struct params form; /* parsed form body, for form POSTs */
};

/* Looks up a FastCGI parameter ("REQUEST_METHOD") or returns NULL. */
typedef const char *(*request_getter)(void *arg, const char *name);

/*
 * Fills r from the FastCGI parameters. The strings it points to stay owned
 * by the getter's storage and must outlive r. Returns 0, or an HTTP status
 * (400, 413, 414) with a sentence for a person in err.
 */
int request_parse(struct request *r, request_getter get, void *arg, char *err,
		  size_t errlen);

/* Reads up to want bytes into p; returns how many, 0 at the end, -1. */
typedef long (*request_reader)(void *arg, char *p, size_t want);

/*
 * Reads exactly content_length bytes of body (already checked to be at
 * most REQUEST_BODY_MAX). Returns 0, or 400 with a sentence if the body
 * ended early.
 */
int request_read_body(struct request *r, request_reader read, void *arg,
		      char *err, size_t errlen);

/* The shortest and longest key a client may send to make a submission
 * safe to send again (an Idempotency-Key, the form's one-time field). */
#define REQUEST_KEY_MIN 16
#define REQUEST_KEY_MAX 128

/*
 * Returns 1 if key is REQUEST_KEY_MIN to REQUEST_KEY_MAX characters of
 * A-Z, a-z, 0-9, '-' and '_', else 0: enough for a random value, and
 * nothing that needs escaping anywhere.
 */
int request_key_valid(const char *key);

/*
 * Returns 1 if the Content-Type's media type is mime (case-insensitive,
 * parameters such as "; charset=utf-8" allowed), else 0.
 */
int request_content_type_is(const struct request *r, const char *mime);

/*
 * Finds cookie name in a Cookie header value. Copies its value into out
 * (NUL-terminated) and returns its length, or -1 if absent or longer than
 * outlen - 1.
 */
long request_cookie(const char *header, const char *name, char *out,
		    size_t outlen);

/* The method's name for an Allow header or a log line. */
extern const char *const http_method_names[HTTP_METHOD__MAX];

#endif
