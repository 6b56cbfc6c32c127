/* params.c: parsing application/x-www-form-urlencoded text (query, form). */
#include <stdio.h>
#include <string.h>

#include "params.h"

/* Returns the value of hex digit c, or -1. */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes s[0..len) into out, which has room for len bytes and a NUL.
 * plus_is_space is set for form text. Returns the length or -1.
 */
static long
percent_decode(const char *s, size_t len, int plus_is_space, char *out)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		char c = s[i];

		if (c == '%') {
			int hi, lo;

			if (i + 2 >= len)
				return -1;
			hi = hex_value(s[i + 1]);
			lo = hex_value(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -1;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else if (c == '\0')
			return -1;
		else if (c == '+' && plus_is_space)
			out[o++] = ' ';
		else
			out[o++] = c;
	}
	out[o] = '\0';
	return (long)o;
}

long
percent_decode_path(const char *s, size_t len, char *out, size_t outlen)
{
	if (outlen < len + 1)
		return -1;
	return percent_decode(s, len, 0, out);
}

int
params_parse(struct params *p, const char *s, size_t len, char *err,
	     size_t errlen)
{
	size_t pos = 0, used = 0;

	p->count = 0;
	if (len > PARAMS_TEXT_MAX) {
		snprintf(err, errlen,
			 "The parameters are too long: at most %d bytes are "
			 "accepted.",
			 PARAMS_TEXT_MAX);
		return -1;
	}
	while (pos < len) {
		const char *piece = s + pos, *amp, *eq;
		size_t plen, nlen, vlen;
		char *name, *value;
		long dn, dv;
		int i;

		amp = memchr(piece, '&', len - pos);
		plen = amp ? (size_t)(amp - piece) : len - pos;
		pos += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(piece, '=', plen);
		nlen = eq ? (size_t)(eq - piece) : plen;
		vlen = eq ? plen - nlen - 1 : 0;
		if (nlen == 0) {
			snprintf(err, errlen,
				 "A parameter has no name (\"=%.*s\"); write "
				 "name=value.",
				 (int)(vlen > 32 ? 32 : vlen), eq + 1);
			return -1;
		}
		if (p->count == PARAMS_MAX) {
			snprintf(err, errlen,
				 "Too many parameters: at most %d are "
				 "accepted.",
				 PARAMS_MAX);
			return -1;
		}
		/* Room is guaranteed: decoded text is no longer than the
		 * encoded text, and the arena adds two NULs per piece. */
		name = p->arena + used;
		dn = percent_decode(piece, nlen, 1, name);
		if (dn < 0)
			goto bad_escape;
		used += (size_t)dn + 1;
		value = p->arena + used;
		dv = eq ? percent_decode(eq + 1, vlen, 1, value) : 0;
		if (dv < 0)
			goto bad_escape;
		if (!eq)
			value[0] = '\0';
		used += (size_t)dv + 1;
		for (i = 0; i < p->count; i++)
			if (strcmp(p->p[i].name, name) == 0) {
				snprintf(err, errlen,
					 "The parameter \"%.40s\" is given "
					 "twice; give it once.",
					 name);
				return -1;
			}
		p->p[p->count].name = name;
		p->p[p->count].value = value;
		p->p[p->count].value_len = (size_t)dv;
		p->count++;
		continue;
	bad_escape:
		snprintf(err, errlen,
			 "The parameters contain a bad percent-escape (a %% "
			 "must be followed by two hex digits, and %%00 is not "
			 "allowed): \"%.*s\".",
			 (int)(plen > 40 ? 40 : plen), piece);
		return -1;
	}
	return 0;
}

const char *
params_get(const struct params *p, const char *name)
{
	int i;

	for (i = 0; i < p->count; i++)
		if (strcmp(p->p[i].name, name) == 0)
			return p->p[i].value;
	return NULL;
}

/* Returns 1 if c is ASCII white space as HTML counts it. */
static int
params_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

const char *
params_trim(const char *s, size_t *len)
{
	while (*len > 0 && params_is_space(s[0])) {
		s++;
		(*len)--;
	}
	while (*len > 0 && params_is_space(s[*len - 1]))
		(*len)--;
	return s;
}

int
parse_whole(const char *s, size_t len, long long min, long long max,
	    long long *out)
{
	unsigned long long v = 0;
	size_t i;

	if (len == 0 || len > 19)
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long long)(s[i] - '0');
	}
	/* 19 digits fit in an unsigned long long without wrapping. */
	if (v < (unsigned long long)min || v > (unsigned long long)max)
		return -1;
	*out = (long long)v;
	return 0;
}

int
params_get_int(const struct params *p, const char *name, long long min,
	       long long max, long long *out)
{
	const char *v = params_get(p, name);

	if (v == NULL)
		return 1;
	return parse_whole(v, strlen(v), min, max, out);
}
