/* test_datalock.c: one worker per data directory (worker/datalock.c). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "datalock.h"
#include "t.h"

static char test_dir[] = "/tmp/nthpi-test-datalock-XXXXXX";

/* Waits for the child pid; returns its exit status or -1. */
static int
child_status(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/*
 * One worker per data directory. A child process tries the lock: exit 0
 * if it got it, 1 if held by want_holder, 2 otherwise.
 */
static int
lock_tried_by_child(pid_t want_holder)
{
	pid_t pid = fork(), holder;
	int fd;

	if (pid == 0) {
		fd = datalock_take(test_dir, &holder);
		if (fd != -1)
			_exit(0);
		_exit(errno == EAGAIN && holder == want_holder ? 1 : 2);
	}
	return pid == -1 ? -1 : child_status(pid);
}

static void
test_datalock(void)
{
	pid_t holder, idle;
	int fd, st;

	fd = datalock_take(test_dir, &holder);
	if (!T_CHECK(fd != -1, "datalock: the first worker takes the lock"))
		return;
	T_CHECK(lock_tried_by_child(getpid()) == 1,
		"datalock: another process is refused and told the holder's "
		"pid");
	/* A compute child forked while the lock is held keeps the file open
	 * but must not keep the lock once its worker is gone. */
	if ((idle = fork()) == 0) {
		pause();
		_exit(0);
	}
	close(fd);
	st = lock_tried_by_child(0);
	T_CHECK(st == 0,
		"datalock: free once the holder lets go, though a child it "
		"forked still runs (%d)",
		st);
	if (idle > 0) {
		kill(idle, SIGKILL);
		waitpid(idle, NULL, 0);
	}
}

int
main(void)
{
	char cmd[256];

	if (mkdtemp(test_dir) == NULL)
		return 1;
	test_datalock();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", test_dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", test_dir);
	return T_EXIT();
}
