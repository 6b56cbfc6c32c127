/* html.c: writing HTML, with one escaping function per output context. */
#include <stdio.h>
#include <string.h>

#include "html.h"
#include "utf8.h"

/*
 * Appends s[0..len) escaped; attr also escapes tab and line breaks, which a
 * browser would otherwise normalise inside attribute values.
 */
static void
html_escape(struct buf *b, const char *s, size_t len, int attr)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;

	while (i < len) {
		unsigned char c = p[i];
		const char *rep = NULL;

		if (c >= 0x80) {
			size_t n = utf8_sequence(p + i, len - i);

			if (n > 0) {
				i += n;
				continue;
			}
			rep = UTF8_REPLACEMENT;
		} else if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"')
			rep = "&quot;";
		else if (c == '\'')
			rep = "&#39;";
		else if (c == '\t' || c == '\n' || c == '\r') {
			if (attr)
				rep = c == '\t'   ? "&#9;"
				      : c == '\n' ? "&#10;"
						  : "&#13;";
		} else if (c < 0x20 || c == 0x7f)
			rep = UTF8_REPLACEMENT;
		if (rep == NULL) {
			i++;
			continue;
		}
		buf_append(b, s + run, i - run);
		buf_puts(b, rep);
		i++;
		run = i;
	}
	buf_append(b, s + run, i - run);
}

void
html_text(struct buf *b, const char *s)
{
	if (s != NULL)
		html_escape(b, s, strlen(s), 0);
}

void
html_text_len(struct buf *b, const char *s, size_t len)
{
	html_escape(b, s, len, 0);
}

void
html_attr(struct buf *b, const char *s)
{
	if (s != NULL)
		html_escape(b, s, strlen(s), 1);
}

void
html_int(struct buf *b, long long v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%lld", v);

	/* 21 characters hold any long long; n cannot be out of range. */
	if (n > 0 && (size_t)n < sizeof(tmp))
		buf_append(b, tmp, (size_t)n);
}

void
html_raw_unescaped(struct buf *b, const char *markup)
{
	buf_puts(b, markup);
}
