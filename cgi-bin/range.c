/* range.c: reading an HTTP Range header (RFC 9110, section 14) for one
 * byte range of a body of known length. */
#include <limits.h>
#include <string.h>
#include <strings.h>

#include "range.h"

/*
 * Reads decimal digits at *p, moving *p past them. Returns the number,
 * LLONG_MAX if it does not fit (still a position past any body), or -1 if
 * there is no digit.
 */
static long long
range_number(const char **p)
{
	long long v = 0;
	const char *s = *p;

	if (*s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++)
		v = v > (LLONG_MAX - 9) / 10 ? LLONG_MAX : v * 10 + (*s - '0');
	*p = s;
	return v;
}

enum range_result
range_parse(const char *header, long long length, long long *first,
	    long long *last)
{
	const char *p = header;
	long long a, b;

	if (p == NULL || strncasecmp(p, "bytes=", 6) != 0 ||
	    strchr(p, ',') != NULL)
		return RANGE_NONE;
	p += 6;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '-') {
		p++;
		if ((b = range_number(&p)) == -1)
			return RANGE_NONE;
		a = -1;
	} else {
		if ((a = range_number(&p)) == -1 || *p++ != '-')
			return RANGE_NONE;
		b = range_number(&p);
		if (b != -1 && b < a)
			return RANGE_NONE;
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '\0')
		return RANGE_NONE;
	if (a == -1) {
		/* The last b bytes, or all of a shorter body. */
		if (b == 0 || length == 0)
			return RANGE_UNSATISFIABLE;
		*first = b >= length ? 0 : length - b;
		*last = length - 1;
		return RANGE_OK;
	}
	if (a >= length)
		return RANGE_UNSATISFIABLE;
	*first = a;
	*last = b == -1 || b >= length ? length - 1 : b;
	return RANGE_OK;
}

int
range_etag_listed(const char *header, const char *etag)
{
	size_t len = strlen(etag);
	const char *p = header, *end;

	if (p == NULL)
		return 0;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return 0;
		if (*p == '*')
			return 1;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		/* A tag runs from its opening quote to the next one. */
		if (*p != '"' || (end = strchr(p + 1, '"')) == NULL)
			return 0;
		end++;
		if ((size_t)(end - p) == len && memcmp(p, etag, len) == 0)
			return 1;
		p = end;
	}
}
