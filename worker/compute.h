/* compute.h: running pi_compute in a forked child that writes the store. */
#ifndef NTHPI_COMPUTE_H
#define NTHPI_COMPUTE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * The child reports through a pipe, one line at a time: "p FRACTION" for
 * progress (about five a second) and "e SENTENCE" before it exits with an
 * error. Killing it with SIGKILL is how a computation is cancelled: it
 * frees all of the child's memory at once.
 */
struct compute {
	pid_t pid;            /* the child, or -1 */
	int fd;               /* read end of its pipe, or -1 */
	long long decimals;   /* what it computes */
	long long started_ms; /* time_mono_ms when it started */
	double progress;      /* the last fraction it reported, 0 to 1 */
	int status;           /* wait status once reaped */
	int reaped;           /* 1 once the child has been waited for */
	char message[512];    /* the child's error sentence, or "" */
	char line[640];       /* a partial line from the pipe */
	size_t linelen;
};

enum compute_outcome {
	COMPUTE_OK,          /* the store now holds the decimals */
	COMPUTE_FAILED,      /* the tasks get the error sentence */
	COMPUTE_NOMEM,       /* ran out of memory: an error sentence too */
	COMPUTE_INTERRUPTED, /* stopped by a signal meant for the service */
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
 * sentence in err (nothing to clean up).
 */
int compute_start(struct compute *c, const char *store_path, long long decimals,
		  int threads, long long limit_mb, char *err, size_t errlen);

/*
 * Reads what the child wrote without blocking, updating c->progress and
 * c->message, and reaps the child once its pipe closes. Returns 1 when the
 * child has been reaped (see compute_outcome), 0 while it runs.
 */
int compute_read(struct compute *c);

/*
 * Kills the child with SIGKILL if it still runs, waits for it, closes the
 * pipe and sets c back to no child.
 */
void compute_stop(struct compute *c);

/*
 * Says how a reaped child ended, with a sentence for the tasks in msg
 * (limit_mb names the memory limit). Then call compute_stop to reset c.
 */
enum compute_outcome compute_outcome(const struct compute *c,
				     long long limit_mb, char *msg,
				     size_t msglen);

#endif
