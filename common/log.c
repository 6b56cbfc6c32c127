/* log.c: one line per event on stderr, with a level, for journald. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static const char *log_level_names[LOG_LEVEL__MAX] = {
	"debug",
	"info",
	"warn",
	"error",
};

static const char *log_prog = "nthpi";
static enum log_level log_min = LOG_LEVEL_INFO;

void
log_init(const char *prog, enum log_level min)
{
	log_prog = prog;
	log_min = min;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	int head, body;
	size_t len;

	if (level < log_min || level >= LOG_LEVEL__MAX)
		return;
	head = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_prog,
			(long)getpid(), log_level_names[level]);
	if (head < 0 || (size_t)head >= sizeof(line))
		return;
	va_start(ap, fmt);
	body = vsnprintf(line + head, sizeof(line) - head, fmt, ap);
	va_end(ap);
	if (body < 0)
		return;
	len = strlen(line);
	/* A message cut at the buffer size still ends in a newline. */
	if (len >= sizeof(line) - 1)
		len = sizeof(line) - 2;
	/* Embedded newlines would split one event over several journal
	 * entries. */
	for (size_t i = (size_t)head; i < len; i++)
		if (line[i] == '\n' || line[i] == '\r')
			line[i] = ' ';
	line[len++] = '\n';
	/* One write(2) so that lines from several processes do not mix. */
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}
