/* params.h: parsing application/x-www-form-urlencoded text (query, form). */
#ifndef NTHPI_PARAMS_H
#define NTHPI_PARAMS_H

#include <stddef.h>

/* Most parameters a query string or a form may carry. */
#define PARAMS_MAX 16
/* Longest encoded text params_parse accepts (the form body limit). */
#define PARAMS_TEXT_MAX 4096

struct param {
	const char *name;  /* decoded, NUL-terminated, never empty */
	const char *value; /* decoded, NUL-terminated */
	size_t value_len;
};

struct params {
	struct param p[PARAMS_MAX];
	int count;
	/* Decoded text is never longer than encoded, plus two NULs each. */
	char arena[PARAMS_TEXT_MAX + 2 * PARAMS_MAX + 2];
};

/*
 * Parses s[0..len) ("a=1&b=x+y%21"): '+' is a space, %XX a byte. Empty
 * pieces ("a=1&&b=2") are skipped. Fails with a sentence in err on an
 * ill-formed or NUL percent-escape, a parameter without a name, more than
 * PARAMS_MAX parameters, a name given twice, or text longer than
 * PARAMS_TEXT_MAX. Returns 0 or -1; p is usable (maybe partly) either way.
 */
int params_parse(struct params *p, const char *s, size_t len, char *err,
		 size_t errlen);

/* Returns the value of name, or NULL if absent. */
const char *params_get(const struct params *p, const char *name);

/*
 * Reads name as a whole number in [min, max] (plain digits). Returns 0 and
 * sets *out if present and valid, 1 if absent (*out untouched), -1 if
 * present but not such a number.
 */
int params_get_int(const struct params *p, const char *name, long long min,
		   long long max, long long *out);

/*
 * Decodes %XX escapes of s[0..len) into out (outlen bytes, NUL added);
 * '+' stays '+' as paths want. Returns the decoded length, or -1 on an
 * ill-formed or NUL escape, or if out is too small.
 */
long percent_decode_path(const char *s, size_t len, char *out, size_t outlen);

/*
 * Narrows s[0..*len) to leave out the ASCII white space around it (space,
 * tab, LF, FF, CR, as HTML counts it): what a person pasted into a form
 * field with a number in it. Returns the new start; *len becomes the new
 * length.
 */
const char *params_trim(const char *s, size_t *len);

/*
 * Parses s as a whole number made of digits only, in [min, max]. Returns 0
 * and sets *out, or -1.
 */
int parse_whole(const char *s, size_t len, long long min, long long max,
		long long *out);

#endif
