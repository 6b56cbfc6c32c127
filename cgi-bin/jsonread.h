/* jsonread.h: validating a JSON request body and picking its members. */
#ifndef NTHPI_JSONREAD_H
#define NTHPI_JSONREAD_H

#include <stddef.h>

/* How deep arrays and objects may nest in a request body. */
#define JSONREAD_DEPTH_MAX 32

enum jsonread_type {
	JSONREAD_ABSENT,
	JSONREAD_NUMBER,
	JSONREAD_STRING,
	JSONREAD_TRUE,
	JSONREAD_FALSE,
	JSONREAD_NULL,
	JSONREAD_OBJECT,
	JSONREAD_ARRAY,
	JSONREAD__MAX
};

/* A top-level member the caller wants. */
struct jsonread_member {
	const char *name;        /* in: the member's name */
	enum jsonread_type type; /* out: JSONREAD_ABSENT if not there */
	const char *text;        /* out: the value's JSON text, in the input */
	size_t len;              /* out: its length */
};

/*
 * Checks that s[0..len) is one well-formed JSON object (RFC 8259: UTF-8,
 * valid escapes, nesting at most JSONREAD_DEPTH_MAX) and fills the wanted
 * members from its top level. A wanted member given twice is an error;
 * other members are ignored. Returns 0, or -1 with a sentence in err that
 * says what is wrong and where.
 */
int jsonread_object(const char *s, size_t len, struct jsonread_member *want,
		    int nwant, char *err, size_t errlen);

#endif
