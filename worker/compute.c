/* compute.c: running pi_compute in a forked child that writes the store. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gmp.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asan.h"
#include "compute.h"
#include "log.h"
#include "oomkills.h"
#include "pacer.h"
#include "pi.h"
#include "pi_known.h"
#include "store.h"
#include "timefmt.h"

/* How the child exits; the parent turns these into sentences. */
enum compute_exit {
	COMPUTE_EXIT_OK = 0,
	COMPUTE_EXIT_STORE = 1,  /* store_write failed */
	COMPUTE_EXIT_ENGINE = 2, /* pi_compute refused or was cancelled */
	COMPUTE_EXIT_NOMEM = 3,  /* pi_compute ran out of memory */
	COMPUTE_EXIT_SETUP = 4,  /* the child could not set itself up */
};

/* The child's view of its progress pipe, shared by the engine threads. */
struct compute_child {
	int fd;
	pid_t parent;
	pthread_mutex_t lock;
	long long last_ms;
};

/* The sentence for a computation that ran out of memory. */
#define COMPUTE_NOMEM_MSG                                                      \
	"The computation ran out of memory (limit %lld MiB). Ask for fewer "   \
	"digits or raise memory_limit_mb."

/* The sentence for a computation the kernel ended at the service's memory
 * limit (the cgroup's memory.max, systemd's MemoryMax). */
#define COMPUTE_CGROUP_OOM_MSG                                                 \
	"The computation ran out of memory: it reached the memory limit of "   \
	"the worker's service (MemoryMax), and the kernel stopped it. Ask "    \
	"for fewer digits, or raise MemoryMax above memory_limit_mb."

/* Progress lines go out at most this often. */
#define COMPUTE_PROGRESS_MS 200
/* A child whose pipe closed exits at once; one that has not after this
 * long is stuck and is killed. */
#define COMPUTE_EXIT_MS 5000

/* The child's end of its pipe, for the allocation hooks, which GMP calls
 * with no argument of ours. Set only in the child. */
static int compute_child_fd = -1;

/*
 * AddressSanitizer maps terabytes of address space for its shadow memory
 * and its allocator, so under any RLIMIT_AS that a computation could live
 * with, every mapping fails ("AddressSanitizer failed to allocate") and each
 * task would end as out of memory. An ASan build (the sanitizer test pass)
 * leaves the limit off; memory_limit_mb still sizes the computations.
 */
#define COMPUTE_LIMIT_AS (!NTHPI_ASAN)

/*
 * Formats a sentence for a task or a person into out. A cut sentence is
 * still safe to store, but it is logged so that someone notices.
 */
static void __attribute__((format(printf, 3, 4)))
compute_sentence(char *out, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(out, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len)
		log_warn("compute: message cut short: %s", out);
}

void
compute_init(struct compute *c)
{
	memset(c, 0, sizeof(*c));
	c->pid = -1;
	c->fd = -1;
	c->oom_kills = -1;
}

int
compute_active(const struct compute *c)
{
	return c->pid != -1;
}

/*
 * The name store_write gives its temp file in process pid (common/store.c:
 * "PATH.tmp.PID"). Returns 0, or -1 if it does not fit in len.
 */
static int
compute_temp_path(const char *store_path, long pid, char *out, size_t len)
{
	int n = snprintf(out, len, "%s.tmp.%ld", store_path, pid);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* Whether name is base.tmp.PID, a temp file of store_write's. */
static int
compute_is_temp(const char *name, const char *base)
{
	size_t blen = strlen(base);
	const char *pid;

	if (strncmp(name, base, blen) != 0 ||
	    strncmp(name + blen, ".tmp.", 5) != 0)
		return 0;
	pid = name + blen + 5;
	return pid[0] != '\0' && pid[strspn(pid, "0123456789")] == '\0';
}

int
compute_remove_temps(const char *store_path)
{
	char dir[PATH_MAX], base[PATH_MAX], file[PATH_MAX];
	const char *d, *b;
	struct dirent *e;
	DIR *dp;
	int n, removed = 0;

	n = snprintf(dir, sizeof(dir), "%s", store_path);
	if (n < 0 || (size_t)n >= sizeof(dir))
		return -1;
	memcpy(base, dir, (size_t)n + 1);
	/* Both may modify their argument, hence the two copies. */
	d = dirname(dir);
	b = basename(base);
	if ((dp = opendir(d)) == NULL) {
		if (errno == ENOENT)
			return 0;
		log_err("compute: %s: %s", d, strerror(errno));
		return -1;
	}
	while ((e = readdir(dp)) != NULL) {
		if (!compute_is_temp(e->d_name, b))
			continue;
		n = snprintf(file, sizeof(file), "%s/%s", d, e->d_name);
		if (n < 0 || (size_t)n >= sizeof(file))
			continue;
		if (unlink(file) == -1) {
			log_warn("compute: removing %s: %s", file,
				 strerror(errno));
			continue;
		}
		log_info("compute: removed %s, left by a computation that did "
			 "not finish",
			 file);
		removed++;
	}
	closedir(dp);
	return removed;
}

/*
 * Writes one line to the parent. Lines stay below PIPE_BUF, so each write
 * is atomic and lines from different threads never interleave.
 */
static void
compute_child_say(struct compute_child *ch, const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* A full pipe drops a progress line rather than stall the engine. */
	if (write(ch->fd, line, (size_t)n) < 0)
		return;
}

/* pi_hooks.progress: rate-limited, called from any engine thread. */
static void
compute_child_progress(void *arg, enum pi_phase phase, double fraction)
{
	struct compute_child *ch = arg;
	long long now;

	(void)phase;
	/* A thread that finds the lock taken skips: another is reporting. */
	if (pthread_mutex_trylock(&ch->lock) != 0)
		return;
	now = time_mono_ms();
	if (now - ch->last_ms >= COMPUTE_PROGRESS_MS) {
		ch->last_ms = now;
		compute_child_say(ch, "p %.6f", fraction);
	}
	pthread_mutex_unlock(&ch->lock);
}

/*
 * pi_hooks.cancelled: the parent cancels with SIGKILL, so this only
 * catches the case PR_SET_PDEATHSIG cannot: a parent that is gone.
 */
static int
compute_child_cancelled(void *arg)
{
	const struct compute_child *ch = arg;

	return getppid() != ch->parent;
}

/*
 * GMP's allocation hooks in the child. GMP cannot go on without the memory
 * and would abort() all the same, but first the parent is told ("m"), so
 * that it reports this abort as the memory limit and any other abort (a
 * failed assertion) as the bug it is. The write blocks so that the line is
 * not dropped.
 */
static void __attribute__((noreturn)) compute_child_nomem(void)
{
	static const char line[] = "m\n";
	int fl = fcntl(compute_child_fd, F_GETFL);
	ssize_t n;

	if (fl != -1)
		(void)fcntl(compute_child_fd, F_SETFL, fl & ~O_NONBLOCK);
	/* A failed write only loses the hint; the abort comes either way. */
	n = write(compute_child_fd, line, sizeof(line) - 1);
	(void)n;
	abort();
}

static void *
compute_gmp_alloc(size_t size)
{
	void *p = malloc(size);

	if (p == NULL && size > 0)
		compute_child_nomem();
	return p;
}

static void *
compute_gmp_realloc(void *old, size_t old_size, size_t size)
{
	void *p = realloc(old, size);

	(void)old_size;
	if (p == NULL && size > 0)
		compute_child_nomem();
	return p;
}

static void
compute_gmp_free(void *p, size_t size)
{
	(void)size;
	free(p);
}

/* Sends the error sentence, blocking so that it is not dropped. */
static void
compute_child_fail(struct compute_child *ch, const char *fmt, const char *s)
{
	int fl = fcntl(ch->fd, F_GETFL);

	if (fl != -1)
		(void)fcntl(ch->fd, F_SETFL, fl & ~O_NONBLOCK);
	compute_child_say(ch, fmt, s);
}

/* The child: never returns. */
static void __attribute__((noreturn))
compute_child_main(int fd, pid_t parent, const char *store_path,
		   long long decimals, int threads, long long limit_mb)
{
	struct compute_child ch = { .fd = fd, .parent = parent };
	struct pi_hooks hooks = { compute_child_progress,
				  compute_child_cancelled, &ch };
	/* No limit of the engine's: RLIMIT_AS below is the limit, and the
	 * worker sizes computations by pi_memory_estimate to fit it. */
	struct pi_params params = { (size_t)decimals, threads, 0 };
	struct pacer pacer;
	struct rlimit rl;
	sigset_t none;
	char err[400], *out = NULL;
	enum pi_result r;
	long long wrong;
	int fl, code = COMPUTE_EXIT_SETUP;

	pthread_mutex_init(&ch.lock, NULL);
	compute_child_fd = fd;
	/* Before any GMP or MPFR number of the child's is made; the parent's
	 * allocator and GMP's default one are both malloc, so a block from
	 * before is freed all the same. */
	mp_set_memory_functions(compute_gmp_alloc, compute_gmp_realloc,
				compute_gmp_free);
	/* Die with the worker, even by SIGKILL, so that no computation
	 * outlives it; the parent may already be gone by now. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(COMPUTE_EXIT_SETUP);
	/* The worker's handlers only set flags the child never reads, and it
	 * blocks the stop signals between polls: undo both so that a stop
	 * meant for the service stops the child too. */
	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		compute_child_fail(&ch,
				   "e Could not set up the computation: %s.",
				   strerror(errno));
		goto out;
	}
	/* A failed allocation must abort this child, not wake the OOM
	 * killer; and the core of a multi-GiB child is of no use. */
	rl.rlim_cur = rl.rlim_max = (rlim_t)limit_mb << 20;
	if (COMPUTE_LIMIT_AS && setrlimit(RLIMIT_AS, &rl) == -1) {
		compute_child_fail(
		    &ch,
		    "e Could not set the memory limit for the computation: %s.",
		    strerror(errno));
		goto out;
	}
	rl.rlim_cur = rl.rlim_max = 0;
	(void)setrlimit(RLIMIT_CORE, &rl);
	/* Keep the worker's loop and the web app responsive while the
	 * engine keeps every core busy. */
	(void)setpriority(PRIO_PROCESS, 0, 10);

	r = pi_compute(&params, pacer_start(&pacer, &hooks), &out);
	pacer_stop(&pacer);
	if (r != PI_OK) {
		compute_child_fail(&ch, "e %s", pi_result_message(r));
		code = r == PI_NOMEM ? COMPUTE_EXIT_NOMEM : COMPUTE_EXIT_ENGINE;
		goto out;
	}
	compute_child_say(&ch, "p 1");
	/* A second check, by facts the engine does not share: digits that
	 * contradict a published prefix never reach the store. Said as an
	 * engine failure, with the sentence. */
	if ((wrong = pi_known_check(out, (size_t)decimals)) > 0) {
		log_err(
		    "compute: the first %lld decimals computed do not match "
		    "the published SHA-256 of pi's; the digit store is left "
		    "as it was",
		    wrong);
		snprintf(
		    err, sizeof(err),
		    "The computed digits are wrong: the first %lld "
		    "decimals do not match the published SHA-256 of pi's. "
		    "This is a bug in the engine; the digit store was left "
		    "as it was. Report it with the worker's log.",
		    wrong);
		compute_child_fail(&ch, "e %s", err);
		code = COMPUTE_EXIT_ENGINE;
		goto out;
	}
	if (store_write(store_path, out, (size_t)decimals, err, sizeof(err)) ==
	    -1) {
		compute_child_fail(&ch, "e %s", err);
		code = COMPUTE_EXIT_STORE;
		goto out;
	}
	code = COMPUTE_EXIT_OK;
out:
	free(out);
	_exit(code);
}

int
compute_start(struct compute *c, const char *store_path, long long decimals,
	      int threads, long long limit_mb, char *err, size_t errlen)
{
	pid_t parent = getpid();
	int p[2], fl, e;

	compute_init(c);
	/* Before the fork: a kill that counts must come after it. */
	c->oom_kills = oomkills_read();
	if (pipe2(p, O_CLOEXEC) == -1) {
		e = errno;
		compute_sentence(err, errlen,
				 "Could not start the computation: %s.",
				 strerror(e));
		errno = e;
		return -1;
	}
	if ((c->pid = fork()) == -1) {
		e = errno;
		compute_sentence(err, errlen,
				 "Could not start the computation: %s.",
				 strerror(e));
		close(p[0]);
		close(p[1]);
		errno = e;
		return -1;
	}
	if (c->pid == 0) {
		close(p[0]);
		compute_child_main(p[1], parent, store_path, decimals, threads,
				   limit_mb);
	}
	close(p[1]);
	/* The loop drains the pipe between other work; it must never wait. */
	if ((fl = fcntl(p[0], F_GETFL)) != -1)
		(void)fcntl(p[0], F_SETFL, fl | O_NONBLOCK);
	c->fd = p[0];
	/* A path too long for this is too long for the child's store_write
	 * too, which then makes no temp file. */
	if (compute_temp_path(store_path, (long)c->pid, c->temp_path,
			      sizeof(c->temp_path)) == -1)
		c->temp_path[0] = '\0';
	c->decimals = decimals;
	c->started_ms = time_mono_ms();
	log_info("compute: child %ld computes %lld decimals", (long)c->pid,
		 decimals);
	return 0;
}

/* Acts on one complete line from the child. */
static void
compute_line(struct compute *c, const char *line)
{
	double f;
	int n;

	if (line[0] == 'p' && line[1] == ' ') {
		f = strtod(line + 2, NULL);
		if (f >= 0 && f <= 1)
			c->progress = f;
		return;
	}
	if (line[0] == 'm' && line[1] == '\0') {
		c->nomem = 1;
		return;
	}
	if (line[0] == 'e' && line[1] == ' ') {
		n = snprintf(c->message, sizeof(c->message), "%s", line + 2);
		if (n < 0 || (size_t)n >= sizeof(c->message))
			log_warn("compute: child's message cut short");
		return;
	}
	log_warn("compute: child said something unexpected: %.80s", line);
}

/*
 * Kills the child because the parent can no longer hear from it; says why
 * in c->message for compute_outcome.
 */
static void
compute_kill_lost(struct compute *c, const char *why)
{
	int n;

	log_err("compute: child %ld: %s; killing it", (long)c->pid, why);
	if (kill(c->pid, SIGKILL) == -1)
		log_warn("compute: killing child %ld: %s", (long)c->pid,
			 strerror(errno));
	c->killed = 1;
	n = snprintf(c->message, sizeof(c->message),
		     "The worker lost touch with the computation (%s). Retry "
		     "the task.",
		     why);
	if (n < 0 || (size_t)n >= sizeof(c->message))
		log_warn("compute: message cut short");
}

/* Reads what is in the pipe; closes it (c->fd = -1) at its end. */
static void
compute_drain(struct compute *c)
{
	char buf[512], why[128];
	ssize_t got;

	for (;;) {
		got = read(c->fd, buf, sizeof(buf));
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1 && errno == EAGAIN)
			return;
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n') {
				c->line[c->linelen] = '\0';
				compute_line(c, c->line);
				c->linelen = 0;
			} else if (c->linelen < sizeof(c->line) - 1)
				c->line[c->linelen++] = buf[i];
		}
	}
	/* A read error leaves the child running with no one to hear its
	 * progress or its end: stop it rather than wait for it. */
	if (got == -1) {
		snprintf(why, sizeof(why), "reading its pipe: %s",
			 strerror(errno));
		compute_kill_lost(c, why);
	}
	close(c->fd);
	c->fd = -1;
	c->closed_ms = time_mono_ms();
}

int
compute_read(struct compute *c)
{
	pid_t r;

	if (c->pid == -1)
		return 0;
	if (c->reaped)
		return 1;
	if (c->fd != -1)
		compute_drain(c);
	if (c->fd != -1)
		return 0;
	/* The pipe closes as the child exits, so it is reaped within a few
	 * calls; never waiting here keeps the loop's heartbeats, cancels and
	 * watchdog going if it does not. */
	r = waitpid(c->pid, &c->status, WNOHANG);
	if (r == 0) {
		if (!c->killed &&
		    time_mono_ms() - c->closed_ms >= COMPUTE_EXIT_MS)
			compute_kill_lost(c, "it closed its pipe but did not "
					     "exit");
		return 0;
	}
	if (r == -1 && errno == EINTR)
		return 0;
	if (r == -1) {
		log_err("compute: waiting for child %ld: %s", (long)c->pid,
			strerror(errno));
		c->status = W_EXITCODE(COMPUTE_EXIT_SETUP, 0);
	}
	c->reaped = 1;
	return 1;
}

void
compute_stop(struct compute *c)
{
	if (c->pid != -1 && !c->reaped) {
		if (kill(c->pid, SIGKILL) == -1)
			log_warn("compute: killing child %ld: %s", (long)c->pid,
				 strerror(errno));
		while (waitpid(c->pid, &c->status, 0) == -1 && errno == EINTR)
			;
		log_info("compute: child %ld stopped", (long)c->pid);
	}
	/* A child killed (or crashed) while it wrote the store leaves its
	 * temp file, as large as the store, behind; one that finished has
	 * renamed or removed it. */
	if (c->pid != -1 && c->temp_path[0] != '\0') {
		if (unlink(c->temp_path) == 0)
			log_info("compute: removed %s, left by child %ld",
				 c->temp_path, (long)c->pid);
		else if (errno != ENOENT)
			log_warn("compute: removing %s: %s", c->temp_path,
				 strerror(errno));
	}
	if (c->fd != -1)
		close(c->fd);
	compute_init(c);
}

/* Writes "SIGKILL" for SIGKILL, "signal N" for one without a name. */
static void
compute_signal_name(int sig, char *out, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev != NULL)
		snprintf(out, len, "SIG%s", abbrev);
	else
		snprintf(out, len, "signal %d", sig);
}

/* Whether the cgroup's OOM killer acted while c ran (oomkills.h). */
static int
compute_cgroup_oom(const struct compute *c)
{
	long long now;

	if (c->oom_kills < 0 || (now = oomkills_read()) < 0)
		return 0;
	return now > c->oom_kills;
}

enum compute_outcome
compute_outcome(const struct compute *c, long long limit_mb, char *msg,
		size_t msglen)
{
	int st = c->status, sig;
	char name[32];

	msg[0] = '\0';
	if (WIFEXITED(st)) {
		switch (WEXITSTATUS(st)) {
		case COMPUTE_EXIT_OK:
			return COMPUTE_OK;
		case COMPUTE_EXIT_NOMEM:
			compute_sentence(msg, msglen, COMPUTE_NOMEM_MSG,
					 limit_mb);
			return COMPUTE_NOMEM;
		case COMPUTE_EXIT_STORE:
			/* store_write's sentence already says what to do. */
			compute_sentence(
			    msg, msglen, "%s",
			    c->message[0] ? c->message
					  : "Could not save the digits. Retry "
					    "the task.");
			return COMPUTE_FAILED;
		default:
			compute_sentence(msg, msglen, "%s",
					 c->message[0]
					     ? c->message
					     : "The computation failed. Retry "
					       "the task.");
			return COMPUTE_FAILED;
		}
	}
	sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
	if (c->killed) {
		compute_sentence(msg, msglen, "%s", c->message);
		return COMPUTE_FAILED;
	}
	switch (sig) {
	case SIGABRT:
		/* Only an abort that followed a failed GMP allocation is
		 * the memory limit; any other is a bug, said below. */
		if (!c->nomem)
			break;
		compute_sentence(msg, msglen, COMPUTE_NOMEM_MSG, limit_mb);
		return COMPUTE_NOMEM;
	case SIGKILL:
		/* Not ours (c->killed). The memory limit only where it is
		 * proven: the kernel's OOM killer also acts for another
		 * process's memory, and a person or a script may kill. */
		if (c->nomem) {
			compute_sentence(msg, msglen, COMPUTE_NOMEM_MSG,
					 limit_mb);
			return COMPUTE_NOMEM;
		}
		if (compute_cgroup_oom(c)) {
			compute_sentence(msg, msglen, "%s",
					 COMPUTE_CGROUP_OOM_MSG);
			return COMPUTE_NOMEM;
		}
		break;
	case SIGTERM:
	case SIGINT:
	case SIGHUP:
		return COMPUTE_INTERRUPTED;
	default:
		break;
	}
	/* Whatever it was (a kill, a crash), a computation started again
	 * may succeed; the caller gives up after a few in a row. */
	compute_signal_name(sig, name, sizeof(name));
	compute_sentence(msg, msglen,
			 "The computation was ended by %s (%s), a signal nthpi "
			 "did not send.",
			 name, strsignal(sig));
	return COMPUTE_KILLED;
}
