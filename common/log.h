/* log.h: one line per event on stderr, with a level, for journald. */
#ifndef NTHPI_LOG_H
#define NTHPI_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERR,
	LOG_LEVEL__MAX
};

/* Sets the program name printed on each line and the lowest level shown. */
void log_init(const char *prog, enum log_level min);

/*
 * Writes "prog[pid]: level: message\n" to stderr in one write(2). Safe from
 * any thread. A message logged again at the same level within 10 s of its
 * first showing, while fewer than 8 other lines came between, is counted
 * instead (folded); the count goes out as "message (repeated N more times
 * in X s)" when a new line comes, at the first log_msg or log_tick 10 s
 * after, or at exit.
 */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the counts of folded lines whose 10 s are over: for a loop to
 * call now and then, so that a count does not wait for the next line. */
void log_tick(void);

/* Writes every count of folded lines now (at exit, say). */
void log_flush(void);

/* How a program exits when it stops before it serves, in both programs. */
enum log_exit {
	LOG_EXIT_START = 1, /* it cannot start: a file, the database, a lock */
	LOG_EXIT_USAGE = 2  /* a bad argument or setting */
};

/*
 * The one way a program fails at start-up: logs the message as an error,
 * writes the counts of folded lines, and exits with status. For main and
 * what it calls before the program serves; never returns.
 */
void log_exit(enum log_exit status, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

/* Sets how long a line's repeats are folded, in ms; 0 folds nothing.
 * For tests. Writes the counts held first. */
void log_fold_window(int ms);

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)

#endif
