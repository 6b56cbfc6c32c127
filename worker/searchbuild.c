/* searchbuild.c: has the search index built beside the digit store, away
 * from the worker's loop. */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "searchbuild.h"
#include "searchidx.h"
#include "timefmt.h"

/* The builder itself: never returns. */
static void
searchbuild_run(const char *store_path)
{
	long long t0 = time_mono_ms();
	char err[400];
	sigset_t none;

	/* It must not hold what the worker holds: the worker's lock on its
	 * data directory (a restarted worker would find it taken), the
	 * database, inotify. Only the log's stdout and stderr stay. */
	if (close_range(3, ~0U, 0) == -1) {
		/* A seccomp filter or an older kernel without it. */
		long fd, max = sysconf(_SC_OPEN_MAX);

		for (fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
			close((int)fd);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	(void)setpriority(PRIO_PROCESS, 0, 10);
	if (searchidx_build(store_path, err, sizeof(err)) == -1) {
		log_err("search index: %s", err);
		log_flush();
		_exit(1);
	}
	log_info("search index built in %lld ms", time_mono_ms() - t0);
	log_flush();
	_exit(0);
}

void
searchbuild_start(const char *store_path)
{
	pid_t pid, got;
	int status;

	if (searchidx_fresh(store_path))
		return;
	/* Forked twice, so that the builder is no child of the worker's:
	 * the worker waits for its compute child by pid and knows no other. */
	pid = fork();
	if (pid == -1) {
		log_err("search index: cannot start its build: fork: %s",
			strerror(errno));
		return;
	}
	if (pid == 0) {
		if (fork() == 0)
			searchbuild_run(store_path);
		_exit(0);
	}
	do
		got = waitpid(pid, &status, 0);
	while (got == -1 && errno == EINTR);
}
