/* pi_ctl.h: progress reports and cancellation shared by the engine threads. */
#ifndef NTHPI_PI_CTL_H
#define NTHPI_PI_CTL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pi_engine.h"

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
	/* The pacer: see pi_ctl.c. All under lock. */
	int_fast64_t start_ns;  /* clock when the run started */
	double real;            /* fraction the finished work units make */
	int_fast64_t real_ns;   /* clock when `real` last moved */
	double anchor;          /* where the paced fraction starts from */
	int_fast64_t anchor_ns; /* and when */
	pthread_cond_t wake;    /* ends the pacer's wait early */
	pthread_t pacer;
	int pacing; /* 1 while the pacer thread runs */
};

/*
 * Sets up ctl for a run with hooks (which may be NULL). With a progress
 * hook it also starts the pacer thread, which keeps the reported fraction
 * moving through steps that take seconds (pi_ctl.c).
 */
int pi_ctl_init(struct pi_ctl *ctl, const struct pi_hooks *hooks);

/* Stops the pacer and releases what pi_ctl_init set up. */
void pi_ctl_destroy(struct pi_ctl *ctl);

/*
 * Starts a phase that covers [base, base + weight] of the overall fraction
 * and is expected to take `total` work units. Call between parallel parts.
 */
void pi_ctl_phase(struct pi_ctl *ctl, enum pi_phase phase, double base,
		  double weight, uint64_t total);

/*
 * Records `units` of work done by any thread. Every ~50 ms (at most) it
 * polls the cancel hook and reports progress. Returns non-zero once the
 * computation must stop.
 */
int pi_ctl_add(struct pi_ctl *ctl, uint64_t units);

/* Non-zero once the computation must stop; cheap, for inner loops. */
int pi_ctl_stopped(struct pi_ctl *ctl);

#endif
