/* json.c: writing JSON, with one escaping function for strings. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "utf8.h"

void
json_string_len(struct buf *b, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	char esc[8];

	buf_append(b, "\"", 1);
	while (i < len) {
		unsigned char c = p[i];
		const char *rep = NULL;
		size_t n = 1;

		if (c >= 0x80) {
			n = utf8_sequence(p + i, len - i);
			if (n == 0) {
				rep = "\\ufffd";
				n = 1;
			} else if (n == 3 && c == 0xe2 && p[i + 1] == 0x80 &&
				   (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
				/* Line separators end a JavaScript string
				 * literal in older engines. */
				rep = p[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
		} else if (c == '"')
			rep = "\\\"";
		else if (c == '\\')
			rep = "\\\\";
		else if (c == '\n')
			rep = "\\n";
		else if (c == '\r')
			rep = "\\r";
		else if (c == '\t')
			rep = "\\t";
		else if (c < 0x20 || c == 0x7f || c == '<' || c == '>' ||
			 c == '&') {
			/* < > & as \u escapes: the JSON stays inert if a
			 * browser ever sniffs it as HTML. */
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			rep = esc;
		}
		if (rep == NULL) {
			i += n;
			continue;
		}
		buf_append(b, s + run, i - run);
		buf_puts(b, rep);
		i += n;
		run = i;
	}
	buf_append(b, s + run, i - run);
	buf_append(b, "\"", 1);
}

void
json_string(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_puts(b, "null");
	else
		json_string_len(b, s, strlen(s));
}

void
json_int(struct buf *b, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	if (n > 0 && (size_t)n < sizeof(tmp))
		buf_append(b, tmp, (size_t)n);
}

void
json_fraction(struct buf *b, double v)
{
	char tmp[32];
	int n;

	/* JSON has no NaN or Infinity. */
	if (!isfinite(v))
		v = 0;
	n = snprintf(tmp, sizeof(tmp), "%.4g", v);
	if (n > 0 && (size_t)n < sizeof(tmp))
		buf_append(b, tmp, (size_t)n);
}

void
json_raw_unescaped(struct buf *b, const char *text)
{
	buf_puts(b, text);
}
