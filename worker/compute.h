/* compute.h: running pi_compute in a forked child that writes the store. */
#ifndef NTHPI_COMPUTE_H
#define NTHPI_COMPUTE_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The child reports through a pipe, one line at a time: "p FRACTION" for
 * progress (about five a second), "e SENTENCE" before it exits with an
 * error, and "m" just before it aborts because GMP could not allocate.
 * Killing it with SIGKILL is how a computation is cancelled: it frees all
 * of the child's memory at once.
 *
 * The parent must stay single-threaded. The child runs malloc, GMP and
 * stdio after fork(), which is safe only if no other thread of the parent
 * could have held one of their locks at the moment of the fork.
 */
struct compute {
	pid_t pid;                /* the child, or -1 */
	int fd;                   /* read end of its pipe; -1 once it closed */
	long long decimals;       /* what it computes */
	long long started_ms;     /* time_mono_ms when it started */
	long long closed_ms;      /* time_mono_ms when its pipe closed */
	double progress;          /* the last fraction it reported, 0 to 1 */
	int status;               /* wait status once reaped */
	int reaped;               /* 1 once the child has been waited for */
	int killed;               /* 1 if we killed it: we lost touch with it */
	int nomem;                /* 1 if it said a GMP allocation failed */
	long long oom_kills;      /* oomkills_read() as it started, or -1 */
	char temp_path[PATH_MAX]; /* the temp file its store_write makes */
	char message[512];        /* its error sentence (or ours), or "" */
	char line[640];           /* a partial line from the pipe */
	size_t linelen;
};

enum compute_outcome {
	COMPUTE_OK,          /* the store now holds the decimals */
	COMPUTE_FAILED,      /* the tasks get the error sentence */
	COMPUTE_NOMEM,       /* ran out of memory: an error sentence too */
	COMPUTE_INTERRUPTED, /* stopped by a signal meant for the service */
	COMPUTE_KILLED,      /* ended by a signal nthpi did not send, not for
				memory: its tasks may well succeed again */
	COMPUTE_OUTCOME__MAX
};

/* Sets c to no child. */
void compute_init(struct compute *c);

/* Returns 1 while a child is running or exited but not yet reset. */
int compute_active(const struct compute *c);

/*
 * Forks a child that computes `decimals` decimals with pi_compute using
 * `threads` threads under an address-space limit of limit_mb MiB, then
 * replaces the store at store_path with them. Returns 0, or -1 with a
 * sentence in err and errno saying why (EAGAIN or ENOMEM from fork may pass;
 * nothing to clean up).
 */
int compute_start(struct compute *c, const char *store_path, long long decimals,
		  int threads, long long limit_mb, char *err, size_t errlen);

/*
 * Reads what the child wrote without blocking, updating c->progress and
 * c->message, and reaps the child once its pipe has closed, never waiting
 * for it. Once c->fd is -1 the pipe no longer wakes the caller, who must
 * call again within a few milliseconds until the child is reaped. A child
 * that cannot be heard (a read error) or does not exit within seconds of
 * closing its pipe is killed. Returns 1 when the child has been reaped
 * (see compute_outcome), 0 while it runs.
 */
int compute_read(struct compute *c);

/*
 * Kills the child with SIGKILL if it still runs, waits for it, removes the
 * temp file it may have been writing, closes the pipe and sets c back to no
 * child. The child may have replaced the store just before it died: the
 * caller reads the store's size again.
 */
void compute_stop(struct compute *c);

/*
 * Removes every temp file beside the store at store_path that a killed
 * child's store_write left ("PATH.tmp.PID"). Only for a worker that starts:
 * no child of its writes yet. Returns how many it removed, or -1 if the
 * directory cannot be read (logged).
 */
int compute_remove_temps(const char *store_path);

/*
 * Says how a reaped child ended, with a sentence for the tasks in msg
 * (limit_mb names the memory limit). Then call compute_stop to reset c.
 * Out of memory (COMPUTE_NOMEM) only where that is proven: the child said
 * an allocation failed (under its RLIMIT_AS), or it died by SIGKILL while
 * the cgroup's OOM kill count rose. Any other death by a signal that is
 * not ours nor a stop is COMPUTE_KILLED, whose msg names the signal.
 */
enum compute_outcome compute_outcome(const struct compute *c,
				     long long limit_mb, char *msg,
				     size_t msglen);

#endif
