/* jsonread.c: validating a JSON request body and picking its members. */
#include <stdio.h>
#include <string.h>

#include "jsonread.h"
#include "utf8.h"

struct jr {
	const unsigned char *s;
	size_t len, pos;
	char *err;
	size_t errlen;
};

/* Records what went wrong at the current position. Returns -1. */
static int
jr_fail(struct jr *j, const char *what)
{
	snprintf(j->err, j->errlen,
		 "The request body is not valid JSON: %s at byte %zu. Send "
		 "an object such as {\"n\": 1234}.",
		 what, j->pos + 1);
	return -1;
}

static void
jr_space(struct jr *j)
{
	while (j->pos < j->len &&
	       (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' ||
		j->s[j->pos] == '\n' || j->s[j->pos] == '\r'))
		j->pos++;
}

static int
jr_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/*
 * Reads a string at pos (which is at '"'). If out is not NULL, stores the
 * decoded ASCII bytes (others as '?') into out, up to outlen - 1, with a
 * NUL, and sets *outn to the full decoded length so callers can tell a
 * match from a truncation. Returns 0 or -1.
 */
static int
jr_string(struct jr *j, char *out, size_t outlen, size_t *outn)
{
	size_t n = 0;

	j->pos++;
	for (;;) {
		unsigned char c;
		char d;

		if (j->pos >= j->len)
			return jr_fail(j, "a string is not closed");
		c = j->s[j->pos];
		if (c == '"') {
			j->pos++;
			break;
		}
		if (c < 0x20)
			return jr_fail(j, "a control character in a string");
		if (c >= 0x80) {
			size_t k =
			    utf8_sequence(j->s + j->pos, j->len - j->pos);

			if (k == 0)
				return jr_fail(j, "ill-formed UTF-8");
			j->pos += k;
			d = '?';
		} else if (c == '\\') {
			unsigned char e;

			if (j->pos + 1 >= j->len)
				return jr_fail(j, "a string is not closed");
			e = j->s[j->pos + 1];
			j->pos += 2;
			switch (e) {
			case '"':
			case '\\':
			case '/':
				d = (char)e;
				break;
			case 'b':
			case 'f':
			case 'n':
			case 'r':
			case 't':
				d = '?';
				break;
			case 'u': {
				unsigned v = 0;
				int i;

				if (j->pos + 4 > j->len)
					return jr_fail(j, "a bad \\u escape");
				for (i = 0; i < 4; i++) {
					unsigned char h = j->s[j->pos + i];

					if (!jr_hex(h))
						return jr_fail(
						    j, "a bad \\u escape");
					v = v * 16 +
					    (unsigned)(h <= '9' ? h - '0'
						       : h <= 'F'
							   ? h - 'A' + 10
							   : h - 'a' + 10);
				}
				j->pos += 4;
				d = v > 0 && v < 0x80 ? (char)v : '?';
				break;
			}
			default:
				j->pos -= 1;
				return jr_fail(j,
					       "an unknown escape in a string");
			}
		} else {
			j->pos++;
			d = (char)c;
		}
		if (out != NULL && n + 1 < outlen)
			out[n] = d;
		n++;
	}
	if (out != NULL) {
		out[n < outlen ? n : outlen - 1] = '\0';
		*outn = n;
	}
	return 0;
}

/* Reads a number per RFC 8259's grammar. Returns 0 or -1. */
static int
jr_number(struct jr *j)
{
#define JR_DIGIT()                                                             \
	(j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
	if (j->pos < j->len && j->s[j->pos] == '-')
		j->pos++;
	if (!JR_DIGIT())
		return jr_fail(j, "a number without digits");
	if (j->s[j->pos] == '0')
		j->pos++;
	else
		while (JR_DIGIT())
			j->pos++;
	if (j->pos < j->len && j->s[j->pos] == '.') {
		j->pos++;
		if (!JR_DIGIT())
			return jr_fail(
			    j, "a number with no digits after the point");
		while (JR_DIGIT())
			j->pos++;
	}
	if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
		j->pos++;
		if (j->pos < j->len &&
		    (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
			j->pos++;
		if (!JR_DIGIT())
			return jr_fail(j, "a number with an empty exponent");
		while (JR_DIGIT())
			j->pos++;
	}
#undef JR_DIGIT
	return 0;
}

/* Matches the literal word at pos. Returns 0 or -1. */
static int
jr_word(struct jr *j, const char *word)
{
	size_t n = strlen(word);

	if (j->len - j->pos < n || memcmp(j->s + j->pos, word, n) != 0)
		return jr_fail(j, "an unexpected character");
	j->pos += n;
	return 0;
}

static int jr_value(struct jr *j, int depth, enum jsonread_type *type,
		    struct jsonread_member *want, int nwant);

/*
 * Reads an object at pos ('{'). At the top level (want != NULL) it fills
 * the wanted members. Returns 0 or -1.
 */
static int
jr_object(struct jr *j, int depth, struct jsonread_member *want, int nwant)
{
	j->pos++;
	jr_space(j);
	if (j->pos < j->len && j->s[j->pos] == '}') {
		j->pos++;
		return 0;
	}
	for (;;) {
		char key[64];
		size_t keylen = 0, vstart;
		struct jsonread_member *m = NULL;
		enum jsonread_type type;
		int i;

		jr_space(j);
		if (j->pos >= j->len || j->s[j->pos] != '"')
			return jr_fail(j, "expected a member name in quotes");
		if (jr_string(j, key, sizeof(key), &keylen) == -1)
			return -1;
		for (i = 0; want != NULL && i < nwant; i++)
			if (keylen == strlen(want[i].name) &&
			    strcmp(key, want[i].name) == 0)
				m = &want[i];
		jr_space(j);
		if (j->pos >= j->len || j->s[j->pos] != ':')
			return jr_fail(j, "expected ':' after a member name");
		j->pos++;
		jr_space(j);
		vstart = j->pos;
		if (jr_value(j, depth + 1, &type, NULL, 0) == -1)
			return -1;
		if (m != NULL) {
			if (m->type != JSONREAD_ABSENT) {
				snprintf(j->err, j->errlen,
					 "The member \"%s\" is given twice; "
					 "give it once.",
					 m->name);
				return -1;
			}
			m->type = type;
			m->text = (const char *)j->s + vstart;
			m->len = j->pos - vstart;
		}
		jr_space(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			j->pos++;
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == '}') {
			j->pos++;
			return 0;
		}
		return jr_fail(j, "expected ',' or '}' in an object");
	}
}

/* Reads an array at pos ('['). Returns 0 or -1. */
static int
jr_array(struct jr *j, int depth)
{
	enum jsonread_type type;

	j->pos++;
	jr_space(j);
	if (j->pos < j->len && j->s[j->pos] == ']') {
		j->pos++;
		return 0;
	}
	for (;;) {
		jr_space(j);
		if (jr_value(j, depth + 1, &type, NULL, 0) == -1)
			return -1;
		jr_space(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			j->pos++;
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == ']') {
			j->pos++;
			return 0;
		}
		return jr_fail(j, "expected ',' or ']' in an array");
	}
}

static int
jr_value(struct jr *j, int depth, enum jsonread_type *type,
	 struct jsonread_member *want, int nwant)
{
	unsigned char c;

	if (depth > JSONREAD_DEPTH_MAX)
		return jr_fail(j, "nesting is too deep");
	if (j->pos >= j->len)
		return jr_fail(j, "a value is missing");
	c = j->s[j->pos];
	switch (c) {
	case '{':
		*type = JSONREAD_OBJECT;
		return jr_object(j, depth, want, nwant);
	case '[':
		*type = JSONREAD_ARRAY;
		return jr_array(j, depth);
	case '"':
		*type = JSONREAD_STRING;
		return jr_string(j, NULL, 0, NULL);
	case 't':
		*type = JSONREAD_TRUE;
		return jr_word(j, "true");
	case 'f':
		*type = JSONREAD_FALSE;
		return jr_word(j, "false");
	case 'n':
		*type = JSONREAD_NULL;
		return jr_word(j, "null");
	default:
		if (c == '-' || (c >= '0' && c <= '9')) {
			*type = JSONREAD_NUMBER;
			return jr_number(j);
		}
		return jr_fail(j, "an unexpected character");
	}
}

int
jsonread_object(const char *s, size_t len, struct jsonread_member *want,
		int nwant, char *err, size_t errlen)
{
	struct jr j = { (const unsigned char *)s, len, 0, err, errlen };
	enum jsonread_type type;
	int i;

	for (i = 0; i < nwant; i++) {
		want[i].type = JSONREAD_ABSENT;
		want[i].text = NULL;
		want[i].len = 0;
	}
	/* A UTF-8 byte order mark is not JSON (RFC 8259, section 8.1). */
	jr_space(&j);
	if (j.pos >= len) {
		snprintf(err, errlen,
			 "The request body is empty. Send a JSON object such "
			 "as {\"n\": 1234}.");
		return -1;
	}
	if (s[j.pos] != '{') {
		snprintf(err, errlen,
			 "The request body must be a JSON object such as "
			 "{\"n\": 1234}.");
		return -1;
	}
	if (jr_value(&j, 1, &type, want, nwant) == -1)
		return -1;
	jr_space(&j);
	if (j.pos != len)
		return jr_fail(&j, "text after the end of the object");
	return 0;
}
