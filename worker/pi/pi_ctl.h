/* pi_ctl.h: progress reports and cancellation shared by the engine threads. */
#ifndef NTHPI_PI_CTL_H
#define NTHPI_PI_CTL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pi.h"

struct pi_ctl {
	const struct pi_hooks *hooks; /* may be NULL */
	pthread_mutex_t lock;         /* serialises calls into the hooks */
	atomic_int stop;              /* set once the hook asked to cancel */
	atomic_uint_fast64_t done;    /* work units done in this phase */
	uint64_t total;               /* work units expected in this phase */
	enum pi_phase phase;
	double base;     /* overall fraction when the phase started */
	double weight;   /* share of the whole run this phase takes */
	double reported; /* last fraction reported, under lock */
	atomic_int_fast64_t last_ns; /* clock at the last poll */
};

/* Sets up ctl for a run with hooks (which may be NULL). Returns 0 or -1. */
int pi_ctl_init(struct pi_ctl *ctl, const struct pi_hooks *hooks);

/* Releases what pi_ctl_init set up. */
void pi_ctl_destroy(struct pi_ctl *ctl);

/*
 * Starts `phase`, which covers the overall fraction from where the phase
 * before it ends to pi_phase_end(phase) and is expected to take `total`
 * work units, and reports it. Call between parallel parts.
 */
void pi_ctl_phase(struct pi_ctl *ctl, enum pi_phase phase, uint64_t total);

/*
 * Records `units` of work done by any thread. Every ~50 ms (at most) it
 * polls the cancel hook and reports progress. Returns non-zero once the
 * computation must stop.
 */
int pi_ctl_add(struct pi_ctl *ctl, uint64_t units);

/* Reports the end of the run: a fraction of 1. */
void pi_ctl_finish(struct pi_ctl *ctl);

/* Non-zero once the computation must stop; cheap, for inner loops. */
int pi_ctl_stopped(struct pi_ctl *ctl);

#endif
