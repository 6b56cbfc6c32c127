/* settle.h: what happens to the waiting tasks' rows: failed, finished,
 * cancelled, and kept alive by the heartbeat. */
#ifndef NTHPI_SETTLE_H
#define NTHPI_SETTLE_H

struct policy;

/*
 * Fails the waiting tasks that need digits the store lacks with msg. The
 * tasks still failing from before get msg too: there is one sentence for
 * all.
 */
void settle_fail_needing(struct policy *pol, const char *msg);

/* Finishes the waiting tasks the store now covers. */
void settle_finish_covered(struct policy *pol);

/* Fails the failing tasks and finishes the covered ones, unless a failed
 * transaction holds it back (s->next_settle). */
void settle_run(struct policy *pol);

/* Cancels the waiting tasks someone asked to cancel. */
void settle_cancel(struct policy *pol);

/* Copies the computation's progress into the waiting tasks and renews
 * their leases when due; forgets the tasks that are gone. */
void settle_heartbeat(struct policy *pol);

#endif
