/* claim.h: claiming tasks from the queue, answering at once those the
 * store covers or that must be refused. */
#ifndef NTHPI_CLAIM_H
#define NTHPI_CLAIM_H

#include <stddef.h>

#include "queue.h"

struct policy;

/* What happened to one claimed task, logged once its transaction commits. */
enum claim_fate {
	CLAIM_FATE_WAIT,   /* joins the computation */
	CLAIM_FATE_DONE,   /* answered from the store */
	CLAIM_FATE_CANCEL, /* cancel was requested before we got it */
	CLAIM_FATE_NMAX,   /* n is above n_max */
	CLAIM_FATE_MEMORY, /* n cannot be computed within the memory limit */
	CLAIM_FATE__MAX
};

struct claim_result {
	struct queue_task t;
	enum claim_fate fate;
	int digit;
};

/* The claim transaction's results, reused between batches. */
struct claim_batch {
	struct claim_result *v; /* CLAIM_BATCH of them */
	size_t n;
};

/* Allocates b's results. Returns 0, or -1 if out of memory. */
int claim_init(struct claim_batch *b);

/* Frees b's results. */
void claim_free(struct claim_batch *b);

/*
 * Claims every task it can, answering covered ones from the store; the
 * rest join s->wait. Returns 1 if a full batch was claimed (more may be
 * waiting), else 0.
 */
int claim_tasks(struct policy *pol);

#endif
