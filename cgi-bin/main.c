/* main.c: nthpi-fcgi's master: settings, socket, database, and the
 * pre-forked children it keeps running. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "config.h"
#include "db.h"
#include "listen.h"
#include "log.h"
#include "publisher.h"
#include "sdnotify.h"
#include "store.h"
#include "timefmt.h"

/* A child that dies sooner than this after its start counts as failing. */
#define MASTER_FAST_DEATH_MS 1000
/* Restart delays for a failing child double from the first to the last. */
#define MASTER_BACKOFF_FIRST_MS 100
#define MASTER_BACKOFF_MAX_MS 5000
/* How long children get to finish after SIGTERM before SIGKILL. */
#define MASTER_STOP_MS 2000

/* One slot per child the master keeps alive. */
struct slot {
	pid_t pid;            /* 0 while not running */
	long long started;    /* time_mono_ms() at fork */
	long long restart_at; /* when to fork again, if pid is 0 */
	int failures;         /* fast deaths in a row */
};

static volatile sig_atomic_t master_stop;
static volatile sig_atomic_t master_child;

static void
master_on_signal(int sig)
{
	if (sig == SIGCHLD)
		master_child = 1;
	else
		master_stop = 1;
}

/*
 * Forks a child into s: a request child, or with publisher set the
 * publisher. Returns 0 or -1 (logged; retried later).
 */
static int
master_spawn(struct slot *s, const struct config *cfg, int listen_fd,
	     const int ready[2], struct liveboard *live, int publisher)
{
	pid_t master = getpid(), pid = fork();

	if (pid == -1) {
		log_err("fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigaction(SIGCHLD, &sa, NULL);
		/* The signal mask stays as the master had it (SIGTERM
		 * blocked) until child_run sets its own, so that a SIGTERM
		 * sent right now stays pending instead of being lost. */
		close(ready[0]);
		/* If the master dies without stopping us, stop anyway. Set
		 * before the check below, so that a death at any moment is
		 * seen by one or the other; and compared with the master's
		 * pid, as a subreaper, not init, may have adopted us. */
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1)
			log_warn("child: prctl(PR_SET_PDEATHSIG): %s",
				 strerror(errno));
		if (getppid() != master)
			_exit(0);
		if (publisher) {
			/* Named apart from the request children in ps and
			 * /proc/PID/comm. */
			prctl(PR_SET_NAME, "nthpi-publisher");
			close(listen_fd);
			close(ready[1]);
			_exit(publisher_run(cfg, live));
		}
		_exit(child_run(cfg, listen_fd, ready[1], live));
	}
	s->pid = pid;
	s->started = time_mono_ms();
	return 0;
}

/* Reaps dead children and schedules their restart with a backoff. */
static void
master_reap(struct slot *slots, int n)
{
	int status, i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		long long now = time_mono_ms(), delay = 0;

		for (i = 0; i < n && slots[i].pid != pid; i++)
			;
		if (i == n)
			continue;
		if (now - slots[i].started < MASTER_FAST_DEATH_MS) {
			int f = slots[i].failures++;

			delay = MASTER_BACKOFF_FIRST_MS;
			while (f-- > 0 && delay < MASTER_BACKOFF_MAX_MS)
				delay *= 2;
			if (delay > MASTER_BACKOFF_MAX_MS)
				delay = MASTER_BACKOFF_MAX_MS;
		} else
			slots[i].failures = 0;
		slots[i].pid = 0;
		slots[i].restart_at = now + delay;
		if (WIFSIGNALED(status))
			log_warn("child %ld died of signal %d; restarting it "
				 "in %lld ms",
				 (long)pid, WTERMSIG(status), delay);
		else
			log_warn("child %ld exited with status %d; restarting "
				 "it in %lld ms",
				 (long)pid, WEXITSTATUS(status), delay);
	}
}

/* SIGTERM to every child, SIGKILL to those left after MASTER_STOP_MS. */
static void
master_stop_children(struct slot *slots, int n)
{
	long long deadline = time_mono_ms() + MASTER_STOP_MS;
	int i, left, killed = 0;

	for (i = 0; i < n; i++)
		if (slots[i].pid > 0)
			kill(slots[i].pid, SIGTERM);
	for (;;) {
		int status;
		pid_t pid;

		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			for (i = 0; i < n; i++)
				if (slots[i].pid == pid)
					slots[i].pid = 0;
		for (left = 0, i = 0; i < n; i++)
			left += slots[i].pid > 0;
		if (left == 0)
			break;
		if (!killed && time_mono_ms() >= deadline) {
			log_warn("%d children still running after %d ms; "
				 "killing them",
				 left, MASTER_STOP_MS);
			for (i = 0; i < n; i++)
				if (slots[i].pid > 0)
					kill(slots[i].pid, SIGKILL);
			killed = 1;
		}
		poll(NULL, 0, 20);
	}
}

/* Makes the data directory if it is missing (one level, like mkdir). */
static void
master_data_dir(const char *dir)
{
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		log_warn("cannot create %s: %s", dir, strerror(errno));
}

int
main(int argc, char **argv)
{
	struct config cfg;
	struct slot *slots = NULL;
	struct liveboard *live = NULL;
	struct sigaction sa;
	sigset_t block, orig;
	char err[512];
	int listen_fd = -1, created = 0, i, rc = 1, ready = 0, up = 0;
	int nslots = 0;
	int ready_pipe[2] = { -1, -1 };
	struct store_view store;
	sqlite3 *db;

	log_init("nthpi-fcgi", LOG_LEVEL_INFO);
	config_defaults(&cfg);
	switch (config_from_args(&cfg, argc, argv, err, sizeof(err))) {
	case 0:
		break;
	case 1:
		config_usage(argv[0], "The nthpi FastCGI application: serve it "
				      "behind nginx.");
		return 0;
	default:
		log_exit(LOG_EXIT_USAGE, "%s", err);
	}
	if (cfg.log_debug)
		log_init("nthpi-fcgi", LOG_LEVEL_DEBUG);
	master_data_dir(cfg.data_dir);

	/* Create or migrate the schema once, before any child opens it. */
	if ((db = db_open(cfg.db_path)) == NULL)
		return LOG_EXIT_START;
	db_close(db);
	/* Before any child serves: the children inherit what it found. */
	store_check_start(cfg.store_path, &store);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = master_on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	/* A hangup (the terminal closed, or a reload asked of a program
	 * that has nothing to reload) stops it cleanly, as SIGTERM does,
	 * rather than killing the master and leaving its children. */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	/* Blocked except while waiting, so that no signal slips between a
	 * check of the flags and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &orig);

	if ((listen_fd = listen_open(cfg.socket_path, &created)) == -1)
		goto out;
	/* Children say on this pipe that their threads run. */
	if (pipe2(ready_pipe, O_CLOEXEC | O_NONBLOCK) == -1) {
		log_err("pipe: %s", strerror(errno));
		goto out;
	}
	/* One slot more than children: the last is the publisher. */
	nslots = cfg.children + 1;
	if ((slots = calloc((size_t)nslots, sizeof(*slots))) == NULL ||
	    (live = liveboard_new()) == NULL) {
		log_err("out of memory");
		goto out;
	}
	log_info("starting %d children of %d threads each and the publisher "
		 "(live updates to %s; long polls held %d s by nginx)",
		 cfg.children, cfg.threads, cfg.publish_path, cfg.hold_seconds);
	while (!master_stop) {
		long long now = time_mono_ms(), next = now + 1000;
		struct pollfd pfd = { ready_pipe[0], POLLIN, 0 };
		struct timespec ts;
		char byte[64];
		ssize_t n;

		for (i = 0; i < nslots; i++) {
			struct slot *s = &slots[i];

			if (s->pid == 0 && s->restart_at <= now)
				master_spawn(s, &cfg, listen_fd, ready_pipe,
					     live, i == cfg.children);
			if (s->pid == 0 && s->restart_at < next)
				next = s->restart_at > now ? s->restart_at
							   : now + 100;
		}
		ts.tv_sec = (next - now) / 1000;
		ts.tv_nsec = (next - now) % 1000 * 1000000;
		ppoll(&pfd, 1, &ts, &orig);
		while ((n = read(ready_pipe[0], byte, sizeof(byte))) > 0)
			up += (int)n;
		/* Ready once the first children all serve; restarts later
		 * add to up but change nothing. */
		if (!ready && up >= cfg.children) {
			sdnotify("READY=1");
			log_info("ready: %d children serving", cfg.children);
			ready = 1;
		}
		if (master_child) {
			master_child = 0;
			master_reap(slots, nslots);
		}
		log_tick();
	}
	log_info("stopping");
	sdnotify("STOPPING=1");
	master_stop_children(slots, nslots);
	rc = 0;
out:
	if (created)
		unlink(cfg.socket_path);
	if (ready_pipe[0] != -1) {
		close(ready_pipe[0]);
		close(ready_pipe[1]);
	}
	if (listen_fd != -1)
		close(listen_fd);
	free(slots);
	liveboard_free(live);
	return rc;
}
