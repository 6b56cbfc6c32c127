/* pacer.h: a progress bar that keeps moving through the engine's long
 * steps. */
#ifndef NTHPI_PACER_H
#define NTHPI_PACER_H

#include <pthread.h>
#include <stdint.h>

#include "pi.h"

/* The numbers of the pacing (pacer.c), apart from any thread or clock. */
struct pacer_state {
	int_fast64_t start_ns;  /* clock when the run started */
	double real;            /* the largest fraction the engine reported */
	int_fast64_t real_ns;   /* clock when `real` last moved */
	double anchor;          /* where the paced fraction starts from */
	int_fast64_t anchor_ns; /* and when */
	double end;             /* where the current phase ends */
	enum pi_phase phase;
	double shown; /* the last fraction passed on */
};

/* Sets s up for a run that starts at now_ns. */
void pacer_state_init(struct pacer_state *s, int_fast64_t now_ns);

/*
 * Takes the engine's report of `fraction` in `phase` at now_ns and returns
 * the fraction to show, which never moves back.
 */
double pacer_state_report(struct pacer_state *s, enum pi_phase phase,
			  double fraction, int_fast64_t now_ns);

/*
 * Returns the fraction to show at now_ns, with no new report: moved on at
 * the run's speed so far, short of the end of the current phase.
 */
double pacer_state_at(struct pacer_state *s, int_fast64_t now_ns);

struct pacer {
	struct pi_hooks hooks;     /* the engine's hooks while pacing */
	const struct pi_hooks *to; /* where paced fractions go */
	struct pacer_state state;  /* under lock */
	pthread_mutex_t lock;      /* serialises calls into `to` too */
	pthread_cond_t wake;       /* ends the thread's wait early */
	pthread_t thread;
	int running; /* 1 while the thread runs */
};

/*
 * Starts pacing the progress reports on their way to `to` (its cancelled
 * hook is passed through as it is): a thread of the pacer's reports every
 * quarter second, also while the engine is inside one long operation.
 * Returns the hooks to give pi_compute: p->hooks, or `to` itself if the
 * pacer could not start (the bar then moves only with the engine's
 * reports). Call pacer_stop after pi_compute either way.
 */
const struct pi_hooks *pacer_start(struct pacer *p, const struct pi_hooks *to);

/* Stops the thread, if it runs; nothing reaches `to` after it returns. */
void pacer_stop(struct pacer *p);

#endif
