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

/* Writes "prog[pid]: level: message\n" to stderr in one write(2). */
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_err(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)

#endif
