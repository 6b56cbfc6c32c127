/* log.c: one line per event on stderr, with a level, for journald. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "timefmt.h"

/* The longest line written, newline included; longer messages are cut. */
#define LOG_LINE 2048

/*
 * Folding. A failure that lasts (a full disk, a database that went away)
 * makes a loop log the same few lines many times a second: the worker
 * logged about 50 a second while its disk was full, burying whatever else
 * happened. The last LOG_FOLD_LINES different lines are remembered; one
 * that comes again (same level, same text) within the window of its first
 * showing is counted instead of written, and the count goes out as one
 * line, "TEXT (repeated N more times in X s)", when a line not among them
 * comes, when the window ends (at the next line or log_tick), or at exit;
 * a line repeated once is written again as it is.
 * A few lines that take turns (a statement's error, then "trying again")
 * fold as well as one line alone.
 */
#define LOG_FOLD_LINES 8
#define LOG_FOLD_MS 10000

/* A line remembered for folding. */
struct log_fold {
	int used;             /* 0: the slot is free */
	enum log_level level; /* with text, what makes lines the same */
	long long since;      /* time_mono_ms the window began */
	long long last;       /* time_mono_ms of the last repeat */
	long long seen;       /* time_mono_ms last logged: the oldest goes */
	long long repeats;    /* counted, not yet written */
	char text[LOG_LINE];  /* the message, without the prefix */
};

static const char *log_level_names[LOG_LEVEL__MAX] = {
	"debug",
	"info",
	"warn",
	"error",
};

static const char *log_prog = "nthpi";
static enum log_level log_min = LOG_LEVEL_INFO;
static int log_fold_ms = LOG_FOLD_MS;

/* Guards the folds and keeps a summary next to the line that ends it. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct log_fold log_folds[LOG_FOLD_LINES];
/* The process the folds belong to: a forked child starts with none, so
 * that it does not report its parent's counts as its own. */
static pid_t log_fold_pid;

/* Writes "prog[pid]: level: " and text (and suffix) as one line, in one
 * write(2) so that lines from several processes do not mix. */
static void
log_write(enum log_level level, const char *text, const char *suffix)
{
	char line[LOG_LINE];
	size_t len, room, slen = strlen(suffix);
	int head;

	head = snprintf(line, sizeof(line), "%s[%ld]: %s: ", log_prog,
			(long)getpid(), log_level_names[level]);
	if (head < 0 || (size_t)head >= sizeof(line) - 2 - slen)
		return;
	/* The suffix and the newline always fit: the text gives way. */
	room = sizeof(line) - (size_t)head - slen - 2;
	len = strlen(text);
	if (len > room)
		len = room;
	memcpy(line + head, text, len);
	len += (size_t)head;
	memcpy(line + len, suffix, slen);
	len += slen;
	line[len++] = '\n';
	if (write(STDERR_FILENO, line, len) < 0)
		return;
}

/* Writes f's count, if it has one, and starts its window again. */
static void
log_fold_flush(struct log_fold *f, long long now)
{
	char suffix[80];
	long long tenths = (f->last - f->since + 50) / 100;

	if (f->repeats == 0)
		return;
	/* Once more is said as well by the line itself, which then reads
	 * as it would have unfolded (a statement's error, then the request
	 * it failed, then the same error for the next request). */
	if (f->repeats == 1)
		suffix[0] = '\0';
	else
		snprintf(suffix, sizeof(suffix),
			 " (repeated %lld more times in %lld.%lld s)",
			 f->repeats, tenths / 10, tenths % 10);
	log_write(f->level, f->text, suffix);
	f->repeats = 0;
	f->since = now;
}

/* Forgets the folds of the process this one was forked from. */
static void
log_fold_own(void)
{
	pid_t pid = getpid();

	if (log_fold_pid != pid) {
		memset(log_folds, 0, sizeof(log_folds));
		log_fold_pid = pid;
	}
}

/* Writes the counts whose window has ended (all with all set). */
static void
log_fold_due(long long now, int all)
{
	int i;

	log_fold_own();
	for (i = 0; i < LOG_FOLD_LINES; i++)
		if (log_folds[i].used &&
		    (all || now - log_folds[i].since >= log_fold_ms))
			log_fold_flush(&log_folds[i], now);
}

/*
 * Folds or writes one message, under log_lock. Returns with the line
 * written, or counted against the fold it repeats.
 */
static void
log_fold_line(enum log_level level, const char *text)
{
	long long now = time_mono_ms();
	struct log_fold *f = NULL, *oldest = &log_folds[0];
	int i;

	if (log_fold_ms <= 0) {
		log_write(level, text, "");
		return;
	}
	log_fold_due(now, 0);
	for (i = 0; i < LOG_FOLD_LINES && f == NULL; i++)
		if (log_folds[i].used && log_folds[i].level == level &&
		    strcmp(log_folds[i].text, text) == 0)
			f = &log_folds[i];
	if (f != NULL) {
		f->seen = now;
		/* Past its window with nothing counted: news again. */
		if (now - f->since < log_fold_ms) {
			f->repeats++;
			f->last = now;
			return;
		}
		f->since = now;
		log_write(level, text, "");
		return;
	}
	/* A line unlike the others: what they were doing meanwhile first. */
	log_fold_due(now, 1);
	for (i = 0; i < LOG_FOLD_LINES; i++) {
		if (!log_folds[i].used) {
			oldest = &log_folds[i];
			break;
		}
		if (log_folds[i].seen < oldest->seen)
			oldest = &log_folds[i];
	}
	oldest->used = 1;
	oldest->level = level;
	oldest->since = oldest->last = oldest->seen = now;
	oldest->repeats = 0;
	snprintf(oldest->text, sizeof(oldest->text), "%s", text);
	log_write(level, text, "");
}

void
log_flush(void)
{
	pthread_mutex_lock(&log_lock);
	log_fold_due(time_mono_ms(), 1);
	pthread_mutex_unlock(&log_lock);
}

void
log_exit(enum log_exit status, const char *fmt, ...)
{
	char text[LOG_LINE];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	log_msg(LOG_LEVEL_ERR, "%s", text);
	log_flush();
	exit((int)status);
}

void
log_tick(void)
{
	pthread_mutex_lock(&log_lock);
	log_fold_due(time_mono_ms(), 0);
	pthread_mutex_unlock(&log_lock);
}

void
log_init(const char *prog, enum log_level min)
{
	static int flush_at_exit;

	log_prog = prog;
	log_min = min;
	/* A count still held when the program ends goes out with it. */
	if (!flush_at_exit && atexit(log_flush) == 0)
		flush_at_exit = 1;
}

void
log_fold_window(int ms)
{
	pthread_mutex_lock(&log_lock);
	log_fold_due(time_mono_ms(), 1);
	log_fold_ms = ms;
	pthread_mutex_unlock(&log_lock);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char text[LOG_LINE];
	va_list ap;
	int len;

	if (level < log_min || level >= LOG_LEVEL__MAX)
		return;
	va_start(ap, fmt);
	len = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (len < 0)
		return;
	/* Embedded newlines would split one event over several journal
	 * entries. */
	for (char *p = text; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	pthread_mutex_lock(&log_lock);
	log_fold_line(level, text);
	pthread_mutex_unlock(&log_lock);
}
