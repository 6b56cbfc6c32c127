/* range.h: reading an HTTP Range header (RFC 9110, section 14) for one
 * byte range of a body of known length. */
#ifndef NTHPI_RANGE_H
#define NTHPI_RANGE_H

enum range_result {
	RANGE_NONE,          /* no usable range: send the whole body (200) */
	RANGE_OK,            /* send bytes first..last (206) */
	RANGE_UNSATISFIABLE, /* no byte of the range exists (416) */
	RANGE__MAX
};

/*
 * Reads header (the Range value, or NULL) for a body of length bytes:
 * "bytes=a-b", "bytes=a-" or "bytes=-k" (the last k bytes). On RANGE_OK
 * sets *first and *last (inclusive, last cut to the body's end). Another
 * unit, a malformed value, b below a, or several ranges give RANGE_NONE,
 * which the RFC allows (the whole body is an answer to any of them). A
 * range that starts at or after the end, or "-0", gives
 * RANGE_UNSATISFIABLE.
 */
enum range_result range_parse(const char *header, long long length,
			      long long *first, long long *last);

/*
 * Whether an If-None-Match header (a list of entity tags, or "*") names
 * etag, compared weakly as RFC 9110 section 13.1.2 has it (W/ ignored).
 */
int range_etag_listed(const char *header, const char *etag);

#endif
