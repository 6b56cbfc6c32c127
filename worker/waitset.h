/* waitset.h: the tasks the worker holds as running while they wait for a
 * computation, and what each is about to have done to it. */
#ifndef NTHPI_WAITSET_H
#define NTHPI_WAITSET_H

#include <stddef.h>

#include "queue.h"

/*
 * One waiting task. Each flag has one meaning and is set by one step of the
 * policy; a step that may be rolled back sets its flag afresh each time, so
 * a flag left from a failed step means nothing to the others.
 */
struct waitset_task {
	struct queue_task t;
	/* To end in error with the policy's failure sentence; it stays until
	 * a transaction lets that through. */
	unsigned char failing;
	/* Someone asked to cancel it (queue_cancel_check). */
	unsigned char cancelling;
	/* The finish step answered it: with digit, or an error if -1. */
	unsigned char finished;
	/* The heartbeat found it deleted or taken over: no longer ours. */
	unsigned char gone;
	/* To go back to the queue after its computation was killed. */
	unsigned char requeuing;
	signed char digit; /* with finished: the digit, or -1 */
};

struct waitset {
	struct waitset_task *v;
	size_t n, cap;
	/* Scratch for waitset_held: the tasks of v, cap of them. */
	const struct queue_task **held;
};

/*
 * Adds t. Our own task claimed again after its lease lapsed keeps its place
 * with the new claim token. Returns 1 if t is new, 0 if it was there, -1
 * if out of memory (nothing changed).
 */
int waitset_add(struct waitset *ws, const struct queue_task *t);

/* Removes every task for which drop returns 1. */
void waitset_remove_if(struct waitset *ws,
		       int (*drop)(const struct waitset_task *));

/* Whether x needs digits beyond have (and is not about to fail). */
int waitset_needs_digits(const struct waitset_task *x, long long have);

/* The largest n among the tasks that need digits beyond have; 0 if none. */
long long waitset_max_needed(const struct waitset *ws, long long have);

/* Whether a task is to fail but has not yet. */
int waitset_any_failing(const struct waitset *ws);

/* Sets failing on every task that needs digits beyond have. */
void waitset_fail_needing(struct waitset *ws, long long have);

/* Fills and returns the scratch list of the tasks' queue_task, n long;
 * valid until the set changes. */
const struct queue_task **waitset_held(struct waitset *ws);

/* Frees what the set holds and empties it. */
void waitset_free(struct waitset *ws);

#endif
