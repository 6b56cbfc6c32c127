/* test_log.c: log lines and their folding: repeats counted, not written. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "t.h"

static char path[] = "/tmp/nthpi-test-log-XXXXXX";
static int saved_stderr = -1;
static char prefix[64];

/* Sends stderr to a new empty file until captured() reads it back. */
static void
capture(void)
{
	int fd;

	fflush(stderr);
	if ((fd = mkstemp(path)) == -1) {
		perror("mkstemp");
		exit(1);
	}
	unlink(path);
	strcpy(path + strlen(path) - 6, "XXXXXX");
	if (saved_stderr == -1)
		saved_stderr = dup(STDERR_FILENO);
	dup2(fd, STDERR_FILENO);
	close(fd);
}

/* What was logged since capture(), in a buffer the caller frees. */
static char *
captured(void)
{
	char *out;
	off_t len = lseek(STDERR_FILENO, 0, SEEK_END);

	out = calloc(1, (size_t)len + 1);
	if (out == NULL || pread(STDERR_FILENO, out, (size_t)len, 0) != len) {
		perror("pread");
		exit(1);
	}
	dup2(saved_stderr, STDERR_FILENO);
	return out;
}

/* How many times needle occurs in s. */
static int
count(const char *s, const char *needle)
{
	int n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s += strlen(needle);
	}
	return n;
}

/* How many lines s has. */
static int
lines(const char *s)
{
	return count(s, "\n");
}

static void
test_line_format(void)
{
	char *out;

	capture();
	log_err("database: %s is gone", "x.db");
	log_debug("not shown: below the level");
	out = captured();
	T_CHECK(strncmp(out, prefix, strlen(prefix)) == 0 &&
		    strcmp(out + strlen(prefix), "error: database: x.db is "
						 "gone\n") == 0,
		"log: one line, \"prog[pid]: level: message\"");
	T_CHECK(lines(out) == 1, "log: a level below the minimum is not shown");
	free(out);
	capture();
	log_warn("two\nlines");
	out = captured();
	T_CHECK(count(out, "two lines\n") == 1 && lines(out) == 1,
		"log: a newline inside a message becomes a space");
	free(out);
}

static void
test_repeats_fold(void)
{
	char *out;
	int i;

	capture();
	for (i = 0; i < 500; i++)
		log_err("queue: claim: database or disk is full");
	log_info("worker: claimed task 7");
	out = captured();
	T_CHECK(lines(out) == 3, "log: 500 identical lines then another: "
				 "three lines");
	T_CHECK(count(out, "error: queue: claim: database or disk is full\n") ==
		    1,
		"log: the repeated line is written once in full");
	T_CHECK(count(out, "error: queue: claim: database or disk is full "
			   "(repeated 499 more times in 0.") == 1,
		"log: then its count, when another line comes, with the same "
		"level and text");
	T_CHECK(strstr(out, "(repeated") < strstr(out, "claimed task 7"),
		"log: the count goes before the line that ended it");
	free(out);
}

static void
test_turns_fold(void)
{
	char *out;
	int i;

	capture();
	for (i = 0; i < 50; i++) {
		log_err("database: committing: database or disk is full");
		log_warn("worker: claiming tasks failed; trying again");
		log_err("worker: claiming tasks failed 3 times");
	}
	log_flush();
	out = captured();
	T_CHECK(lines(out) == 6 && count(out, "(repeated 49 more times") == 3,
		"log: three lines taking turns 50 times: each once, then "
		"each's count");
	free(out);
	capture();
	log_err("same text");
	log_warn("same text");
	log_flush();
	out = captured();
	T_CHECK(lines(out) == 2 && count(out, "repeated") == 0,
		"log: the same text at another level is another line");
	free(out);
}

static void
test_window(void)
{
	char *out;

	log_fold_window(200);
	capture();
	log_err("the disk is full");
	log_err("the disk is full");
	log_err("the disk is full");
	usleep(250 * 1000);
	log_tick();
	log_err("the disk is full");
	usleep(250 * 1000);
	log_err("the disk is full");
	log_flush();
	out = captured();
	T_CHECK(lines(out) == 4 && count(out, "(repeated 2 more times") == 1 &&
		    count(out, "error: the disk is full\n") == 3,
		"log: a count goes out when its window ends (log_tick or the "
		"next line), and folding goes on; a count of one is the line "
		"again");
	free(out);
	capture();
	log_err("once");
	usleep(250 * 1000);
	log_err("once");
	log_flush();
	out = captured();
	T_CHECK(lines(out) == 2 && count(out, "repeated") == 0,
		"log: a line that comes back after its window is written "
		"again");
	free(out);
	log_fold_window(0);
	capture();
	log_err("unfolded");
	log_err("unfolded");
	out = captured();
	T_CHECK(lines(out) == 2, "log: a window of 0 folds nothing");
	free(out);
	log_fold_window(10000);
}

static void *
thread_logs(void *arg)
{
	int i;

	(void)arg;
	for (i = 0; i < 1000; i++)
		log_err("from a thread");
	return NULL;
}

static void
test_threads(void)
{
	pthread_t t[4];
	char *out, *p;
	long long total = 0;
	int i;

	capture();
	for (i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, thread_logs, NULL);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	log_flush();
	out = captured();
	for (p = out; (p = strstr(p, "from a thread")) != NULL; p++) {
		long long n = 0;

		total +=
		    sscanf(p, "from a thread (repeated %lld", &n) == 1 ? n : 1;
	}
	T_CHECK(total == 4000 && lines(out) < 10,
		"log: 4 threads logging one line 1000 times each: every one "
		"counted (%lld), in %d lines",
		total, lines(out));
	free(out);
}

static void
test_fork(void)
{
	char *out, child[64];
	pid_t pid;
	int status;

	capture();
	log_err("the parent's line");
	log_err("the parent's line");
	pid = fork();
	if (pid == 0) {
		log_err("the child's line");
		log_flush();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	log_flush();
	out = captured();
	snprintf(child, sizeof(child), "[%ld]: error: the parent", (long)pid);
	T_CHECK(strstr(out, child) == NULL &&
		    count(out, "error: the parent's line\n") == 2,
		"log: a forked child does not report its parent's count; the "
		"parent does, once");
	free(out);
}

static void
test_long_line(void)
{
	char big[5000], *out;
	size_t len;

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	capture();
	log_err("%s", big);
	log_err("%s", big);
	log_err("%s", big);
	log_flush();
	out = captured();
	len = strlen(out);
	T_CHECK(lines(out) == 2 && out[len - 1] == '\n' &&
		    strstr(out, "x (repeated 2 more times in") != NULL,
		"log: a message longer than a line is cut, and its count "
		"still fits");
	free(out);
}

/* log_exit logs its sentence as an error, with what was folded, and exits
 * with the status given. */
static void
test_exit(void)
{
	char *out;
	pid_t pid;
	int status = 0;

	capture();
	log_err("a folded line");
	log_err("a folded line");
	pid = fork();
	if (pid == 0)
		log_exit(LOG_EXIT_USAGE, "bad %s", "setting");
	waitpid(pid, &status, 0);
	log_flush();
	out = captured();
	T_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == LOG_EXIT_USAGE &&
		    strstr(out, "error: bad setting\n") != NULL,
		"log: log_exit logs an error line and exits with its status");
	free(out);
}

int
main(void)
{
	log_init("test_log", LOG_LEVEL_INFO);
	snprintf(prefix, sizeof(prefix), "test_log[%ld]: ", (long)getpid());
	test_line_format();
	test_repeats_fold();
	test_turns_fold();
	test_window();
	test_threads();
	test_fork();
	test_long_line();
	test_exit();
	return T_EXIT();
}
