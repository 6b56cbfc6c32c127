/* fuzz_json.c: libFuzzer target for jsonread_object, checked against a
 * reference validator written another way, and for the n it yields. */
#include <ctype.h>
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"
#include "nparse.h"
#include "ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The members asked for: api_tasks_create's "n", an empty name, one more. */
static const char *const names[] = { "n", "", "limit" };
#define NAMES_COUNT (sizeof(names) / sizeof(names[0]))

/* What the reference saw of one wanted member at the top level. */
struct ref_seen {
	int count;
	enum jsonread_type type;
	size_t start, end;
};

struct rj {
	const unsigned char *s;
	size_t len, pos;
};

static regex_t number_re;
static int number_re_ready;

static void
rj_space(struct rj *j)
{
	while (j->pos < j->len && strchr(" \t\r\n", j->s[j->pos]) != NULL &&
	       j->s[j->pos] != '\0')
		j->pos++;
}

/*
 * Reads one UTF-8 character at pos by decoding it to a code point and
 * refusing overlongs, surrogates and values past U+10FFFF. Returns 0 or -1.
 */
static int
rj_utf8(struct rj *j)
{
	unsigned char c = j->s[j->pos];
	unsigned long cp, min;
	int more, k;

	if ((c & 0xe0) == 0xc0)
		more = 1, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		more = 2, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		more = 3, cp = c & 0x07, min = 0x10000;
	else
		return -1;
	for (k = 1; k <= more; k++) {
		if (j->pos + (size_t)k >= j->len ||
		    (j->s[j->pos + (size_t)k] & 0xc0) != 0x80)
			return -1;
		cp = cp << 6 | (j->s[j->pos + (size_t)k] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	j->pos += (size_t)more + 1;
	return 0;
}

/*
 * Reads a string at pos ('"'). Sets *matches to the index in names of the
 * name its code units spell, or -1. Returns 0 or -1.
 */
static int
rj_string(struct rj *j, int *matches)
{
	unsigned long unit[64];
	size_t n = 0, i;

	j->pos++;
	for (;;) {
		unsigned long u;
		unsigned char c;

		if (j->pos >= j->len)
			return -1;
		c = j->s[j->pos];
		if (c == '"')
			break;
		if (c < 0x20)
			return -1;
		if (c >= 0x80) {
			if (rj_utf8(j) == -1)
				return -1;
			u = 0x80; /* not in any name */
		} else if (c == '\\') {
			const char *esc = "\"\\/bfnrt",
				   *from = "\"\\/\b\f\n\r\t";
			const char *e;

			if (j->pos + 1 >= j->len)
				return -1;
			c = j->s[j->pos + 1];
			if (c == 'u') {
				char hex[5];
				int k;

				if (j->len - j->pos < 6)
					return -1;
				memcpy(hex, j->s + j->pos + 2, 4);
				hex[4] = '\0';
				for (k = 0; k < 4; k++)
					if (!isxdigit((unsigned char)hex[k]))
						return -1;
				u = strtoul(hex, NULL, 16);
				j->pos += 6;
			} else {
				if (c == '\0' || (e = strchr(esc, c)) == NULL)
					return -1;
				u = (unsigned char)from[e - esc];
				j->pos += 2;
			}
		} else {
			u = c;
			j->pos++;
		}
		if (n < sizeof(unit) / sizeof(unit[0]))
			unit[n] = u;
		n++;
	}
	j->pos++;
	*matches = -1;
	for (i = 0; i < NAMES_COUNT; i++) {
		size_t k, nl = strlen(names[i]);

		if (nl != n)
			continue;
		for (k = 0; k < nl && unit[k] == (unsigned char)names[i][k];
		     k++)
			;
		if (k == nl)
			*matches = (int)i;
	}
	return 0;
}

/*
 * Reads a number: the longest run of bytes that may appear in one must be
 * all of one, since in valid JSON none of them follows a number directly.
 */
static int
rj_number(struct rj *j)
{
	size_t n = 0;
	char *text;
	int rc;

	while (j->pos + n < j->len && j->s[j->pos + n] != '\0' &&
	       strchr("0123456789+-.eE", j->s[j->pos + n]) != NULL)
		n++;
	if ((text = malloc(n + 1)) == NULL)
		abort();
	memcpy(text, j->s + j->pos, n);
	text[n] = '\0';
	rc = regexec(&number_re, text, 0, NULL, 0) == 0 ? 0 : -1;
	free(text);
	j->pos += n;
	return rc;
}

/*
 * Validates s[0..len) as jsonread_object promises, without recursion: a
 * stack of open containers and three states. Fills seen for the wanted
 * names at the top level. Returns 0 to accept, -1 to refuse.
 */
static int
ref_json(const unsigned char *s, size_t len, struct ref_seen *seen)
{
	char stack[JSONREAD_DEPTH_MAX + 1];
	enum { WANT_VALUE, WANT_KEY, AFTER_VALUE } st = WANT_VALUE;
	struct rj j = { s, len, 0 };
	int d = 0, member = -1, m;
	size_t i;

	memset(seen, 0, NAMES_COUNT * sizeof(*seen));
	rj_space(&j);
	if (j.pos >= len || s[j.pos] != '{')
		return -1;
	for (;;) {
		unsigned char c;

		switch (st) {
		case WANT_VALUE:
			/* The top object is at depth 1, its members at 2. */
			if (d + 1 > JSONREAD_DEPTH_MAX || j.pos >= len)
				return -1;
			c = s[j.pos];
			if (d == 1 && member >= 0) {
				seen[member].count++;
				seen[member].start = j.pos;
				seen[member].type = c == '{'   ? JSONREAD_OBJECT
						    : c == '[' ? JSONREAD_ARRAY
						    : c == '"' ? JSONREAD_STRING
						    : c == 't' ? JSONREAD_TRUE
						    : c == 'f' ? JSONREAD_FALSE
						    : c == 'n'
							? JSONREAD_NULL
							: JSONREAD_NUMBER;
			}
			if (c == '{' || c == '[') {
				stack[d++] = (char)c;
				j.pos++;
				rj_space(&j);
				if (j.pos < len &&
				    s[j.pos] == (c == '{' ? '}' : ']')) {
					j.pos++;
					d--;
					st = AFTER_VALUE;
				} else
					st = c == '{' ? WANT_KEY : WANT_VALUE;
				break;
			}
			if (c == '"') {
				if (rj_string(&j, &m) == -1)
					return -1;
			} else if (c == 't' || c == 'f' || c == 'n') {
				const char *w = c == 't'   ? "true"
						: c == 'f' ? "false"
							   : "null";

				if (len - j.pos < strlen(w) ||
				    memcmp(s + j.pos, w, strlen(w)) != 0)
					return -1;
				j.pos += strlen(w);
			} else if (c == '-' || (c >= '0' && c <= '9')) {
				if (rj_number(&j) == -1)
					return -1;
			} else
				return -1;
			st = AFTER_VALUE;
			break;
		case WANT_KEY:
			rj_space(&j);
			if (j.pos >= len || s[j.pos] != '"')
				return -1;
			if (rj_string(&j, &m) == -1)
				return -1;
			if (d == 1)
				member = m;
			rj_space(&j);
			if (j.pos >= len || s[j.pos] != ':')
				return -1;
			j.pos++;
			rj_space(&j);
			st = WANT_VALUE;
			break;
		case AFTER_VALUE:
			if (d == 0) {
				rj_space(&j);
				if (j.pos != len)
					return -1;
				for (i = 0; i < NAMES_COUNT; i++)
					if (seen[i].count > 1)
						return -1;
				return 0;
			}
			if (d == 1 && member >= 0) {
				seen[member].end = j.pos;
				member = -1;
			}
			rj_space(&j);
			if (j.pos >= len)
				return -1;
			c = s[j.pos];
			if (c == ',') {
				j.pos++;
				if (stack[d - 1] == '[')
					rj_space(&j);
				st =
				    stack[d - 1] == '{' ? WANT_KEY : WANT_VALUE;
			} else if (c == (stack[d - 1] == '{' ? '}' : ']')) {
				j.pos++;
				d--;
			} else
				return -1;
			break;
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct jsonread_member want[NAMES_COUNT];
	struct ref_seen seen[NAMES_COUNT];
	const size_t errlen = 320;
	char *err = malloc(errlen);
	int rc, ref;
	size_t i;

	if (err == NULL)
		return 0;
	if (!number_re_ready) {
		if (regcomp(&number_re,
			    "^-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?$",
			    REG_EXTENDED | REG_NOSUB) != 0)
			abort();
		number_re_ready = 1;
	}
	for (i = 0; i < NAMES_COUNT; i++)
		want[i].name = names[i];
	err[0] = '\0';
	rc = jsonread_object((const char *)data, size, want, NAMES_COUNT, err,
			     errlen);
	ref = ref_json(data, size, seen);
	FUZZ_CHECK(rc == 0 || rc == -1);
	FUZZ_CHECK(rc == ref);
	if (rc == -1) {
		FUZZ_CHECK(err[0] != '\0' && strlen(err) < errlen);
		goto out;
	}
	for (i = 0; i < NAMES_COUNT; i++) {
		if (seen[i].count == 0) {
			FUZZ_CHECK(want[i].type == JSONREAD_ABSENT);
			continue;
		}
		FUZZ_CHECK(want[i].type == seen[i].type);
		FUZZ_CHECK(want[i].text == (const char *)data + seen[i].start);
		FUZZ_CHECK(want[i].len == seen[i].end - seen[i].start);
	}

	/* What api_tasks_create makes of n. */
	if (want[0].type == JSONREAD_STRING ||
	    want[0].type == JSONREAD_NUMBER) {
		int str = want[0].type == JSONREAD_STRING;
		const char *t = want[0].text + str;
		size_t tlen = want[0].len - 2 * (size_t)str;
		long long n = -1, w = -1;
		enum nparse_err e = nparse(t, tlen, 10000000LL, &n);

		FUZZ_CHECK(!str || (want[0].text[0] == '"' &&
				    want[0].text[want[0].len - 1] == '"'));
		FUZZ_CHECK(e == ref_nparse(t, tlen, 10000000LL, &w));
		if (e == NPARSE_OK) {
			char digits[32];

			FUZZ_CHECK(n == w && n >= 1 && n <= 10000000LL);
			/* JSON numbers have no leading zeros: the text is
			 * the value's own spelling. */
			if (!str) {
				FUZZ_CHECK(tlen < sizeof(digits));
				memcpy(digits, t, tlen);
				digits[tlen] = '\0';
				FUZZ_CHECK(strtoll(digits, NULL, 10) == n);
			}
		}
	}
out:
	free(err);
	return 0;
}
