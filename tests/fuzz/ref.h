/* ref.h: slow, obvious reference parsers the fuzz targets check against. */
#ifndef NTHPI_FUZZ_REF_H
#define NTHPI_FUZZ_REF_H

#include <stddef.h>

#include "nparse.h"
#include "params.h"

/* Stops the fuzzer with a crash that names the broken invariant. */
#define FUZZ_CHECK(cond)                                                       \
	do {                                                                   \
		if (!(cond))                                                   \
			ref_fail(__FILE__, __LINE__, #cond);                   \
	} while (0)

/* Prints where and what, then traps (libFuzzer saves the input). */
void ref_fail(const char *file, int line, const char *expr)
    __attribute__((noreturn));

/*
 * What nparse must answer for s[0..len), worked out on the decimal text
 * (leading zeros stripped, compared with n_max's digits) so it cannot
 * overflow. On REF OK stores the value in *out.
 */
enum nparse_err ref_nparse(const char *s, size_t len, long long n_max,
			   long long *out);

/*
 * Percent-decodes s[0..len) into out (room for len + 1 bytes), '+' as a
 * space if plus_is_space. Returns the length, or -1 for a '%' not followed
 * by two hex digits, %00 or a raw NUL.
 */
long ref_percent_decode(const char *s, size_t len, int plus_is_space,
			char *out);

/* One decoded parameter of ref_params. */
struct ref_param {
	char name[PARAMS_TEXT_MAX + 1];
	size_t name_len;
	char value[PARAMS_TEXT_MAX + 1];
	size_t value_len;
};

/*
 * What params_parse must make of s[0..len): splits on '&', skips empty
 * pieces, decodes. Returns the number of parameters (into p, room for
 * PARAMS_MAX) if params_parse must accept the text, -1 if it must refuse
 * it (too long, bad escape, no name, too many, a name twice).
 */
int ref_params(const char *s, size_t len, struct ref_param *p);

#endif
