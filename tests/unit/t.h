/* t.h: a tiny test harness: one "ok - name" or "not ok - name" line per test. */
#ifndef NTHPI_T_H
#define NTHPI_T_H

#include <stdarg.h>
#include <stdio.h>

static int t_failed;
static int t_count;

/*
 * Records one test named name (printf-style) that passed if cond is true.
 * Returns cond, so a test can stop early when a check fails.
 */
#define T_CHECK(cond, ...)                                                     \
	t_check_result(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)

static inline int __attribute__((format(printf, 5, 6)))
t_check_result(int ok, const char *file, int line, const char *expr,
	       const char *fmt, ...)
{
	va_list ap;

	t_count++;
	fputs(ok ? "ok - " : "not ok - ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!ok) {
		t_failed++;
		printf("# %s:%d: failed: %s\n", file, line, expr);
	}
	fflush(stdout);
	return ok;
}

/* Prints a "# ..." diagnostic line. */
#define T_DIAG(...)                                                            \
	do {                                                                   \
		fputs("# ", stdout);                                           \
		printf(__VA_ARGS__);                                           \
		putchar('\n');                                                 \
	} while (0)

/* Whether this test runs under AddressSanitizer, which inflates memory
 * (GCC says so with __SANITIZE_ADDRESS__, clang with __has_feature). */
#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif
#ifndef T_ASAN
#define T_ASAN 0
#endif

/* The exit status for main: 0 if every test passed. */
#define T_EXIT() (t_failed > 0 || t_count == 0 ? 1 : 0)

#endif
