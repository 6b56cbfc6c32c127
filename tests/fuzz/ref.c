/* ref.c: slow, obvious reference parsers the fuzz targets check against. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ref.h"

void
ref_fail(const char *file, int line, const char *expr)
{
	fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, expr);
	fflush(stderr);
	__builtin_trap();
}

enum nparse_err
ref_nparse(const char *s, size_t len, long long n_max, long long *out)
{
	char max[32];
	size_t i, start = 0, digits;
	int cmp;

	if (s == NULL || len == 0)
		return NPARSE_EMPTY;
	for (i = 0; i < len; i++)
		if (strchr("0123456789", s[i]) == NULL || s[i] == '\0')
			return NPARSE_NOT_DIGITS;
	while (start < len && s[start] == '0')
		start++;
	if (start == len)
		return NPARSE_ZERO;
	digits = len - start;
	snprintf(max, sizeof(max), "%lld", n_max);
	/* Without leading zeros, more digits is a larger number; as many
	 * digits compare as text. */
	if (digits != strlen(max))
		cmp = digits < strlen(max) ? -1 : 1;
	else
		cmp = memcmp(s + start, max, digits);
	if (cmp > 0)
		return NPARSE_TOO_BIG;
	*out = 0;
	for (i = start; i < len; i++)
		*out = *out * 10 + (s[i] - '0');
	return NPARSE_OK;
}

/* Returns the value of a hex digit, or -1. */
static int
ref_hex(char c)
{
	const char *digits = "0123456789abcdef", *p;

	if (c == '\0')
		return -1;
	if (c >= 'A' && c <= 'F')
		c = (char)(c - 'A' + 'a');
	p = strchr(digits, c);
	return p ? (int)(p - digits) : -1;
}

long
ref_percent_decode(const char *s, size_t len, int plus_is_space, char *out)
{
	size_t i = 0, o = 0;

	while (i < len) {
		if (s[i] == '\0')
			return -1;
		if (s[i] != '%') {
			out[o++] = s[i] == '+' && plus_is_space ? ' ' : s[i];
			i++;
			continue;
		}
		if (len - i < 3 || ref_hex(s[i + 1]) < 0 ||
		    ref_hex(s[i + 2]) < 0)
			return -1;
		out[o] = (char)(ref_hex(s[i + 1]) * 16 + ref_hex(s[i + 2]));
		if (out[o] == '\0')
			return -1;
		o++;
		i += 3;
	}
	out[o] = '\0';
	return (long)o;
}

int
ref_params(const char *s, size_t len, struct ref_param *p)
{
	size_t start = 0;
	int count = 0, i;

	if (len > PARAMS_TEXT_MAX)
		return -1;
	while (start < len) {
		size_t end = start, eq;
		long dn, dv;

		while (end < len && s[end] != '&')
			end++;
		if (end == start) {
			start = end + 1;
			continue;
		}
		for (eq = start; eq < end && s[eq] != '='; eq++)
			;
		if (eq == start || count == PARAMS_MAX)
			return -1;
		dn =
		    ref_percent_decode(s + start, eq - start, 1, p[count].name);
		dv = eq < end ? ref_percent_decode(s + eq + 1, end - eq - 1, 1,
						   p[count].value)
			      : 0;
		if (dn < 0 || dv < 0)
			return -1;
		if (eq == end)
			p[count].value[0] = '\0';
		p[count].name_len = (size_t)dn;
		p[count].value_len = (size_t)dv;
		for (i = 0; i < count; i++)
			if (p[i].name_len == p[count].name_len &&
			    memcmp(p[i].name, p[count].name, p[i].name_len) ==
				0)
				return -1;
		count++;
		start = end + 1;
	}
	return count;
}
