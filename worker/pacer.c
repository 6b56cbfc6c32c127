/* pacer.c: a progress bar that keeps moving through the engine's long
 * steps. */
#include "pacer.h"

#include <math.h>
#include <time.h>

/*
 * Some steps take seconds with no report from the engine: at 10^8
 * decimals the last products of the series take 4 s and the division 8 s,
 * and a bar that stands still that long looks hung. So the fraction shown
 * is paced: from the last point the engine's reports set (the anchor) it
 * moves on at the run's average speed so far (the engine's phases share
 * the run by time, so that speed holds across phases), bent to approach
 * the end of the current phase without reaching it: only the engine's
 * report finishes a phase. The bend is polynomial, not exponential: a
 * phase that runs several times longer than the speed so far predicts (a
 * loaded machine, a sanitizer build) still sees the bar creep on instead
 * of stand still. Once the reports pass the paced fraction they set a new
 * anchor; the fraction never moves back. The pacer's thread reports every
 * PACER_PERIOD_NS so that the fraction moves while every engine thread is
 * inside one long operation.
 */
#define PACER_PERIOD_NS 250000000L
/* The most of the room left in a phase that pacing may cover. */
#define PACER_MAX 0.999
/* The thread sleeps most of the time: a small stack is plenty. */
#define PACER_STACK (64 * 1024)

/* The monotonic clock in nanoseconds. */
static int_fast64_t
pacer_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int_fast64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void
pacer_state_init(struct pacer_state *s, int_fast64_t now_ns)
{
	s->start_ns = s->real_ns = s->anchor_ns = now_ns;
	s->real = s->anchor = s->shown = 0;
	s->phase = PI_PHASE_SERIES;
	s->end = pi_phase_end(PI_PHASE_SERIES);
}

/*
 * The paced fraction at `now` (see the top of this file): room (1 -
 * 1/(1 + x/2room)^2) is x while x is small against the room left in the
 * phase, and stays below it; its speed falls as the cube of the overrun
 * (e^(-x/room) would stall the bar after about five times the expected
 * wait).
 */
static double
pacer_paced(const struct pacer_state *s, int_fast64_t now)
{
	double spent = (double)(s->real_ns - s->start_ns);
	double room = s->end - s->anchor;
	double ahead, q;

	if (s->real <= 0 || spent <= 0 || room <= 0)
		return s->anchor;
	ahead = s->real / spent * (double)(now - s->anchor_ns);
	q = 1 / (1 + ahead / (2 * room));
	/* Rounding would reach the end after a long wait: stop just short. */
	return s->anchor + room * fmin(1 - q * q, PACER_MAX);
}

double
pacer_state_at(struct pacer_state *s, int_fast64_t now_ns)
{
	double f = pacer_paced(s, now_ns);

	if (f > s->shown)
		s->shown = f;
	return s->shown;
}

double
pacer_state_report(struct pacer_state *s, enum pi_phase phase, double fraction,
		   int_fast64_t now_ns)
{
	if (phase != s->phase) {
		/* Pacing starts again from here: after a retry (the phases
		 * from the first again, the fraction held where it was) it
		 * goes on from the fraction shown instead of leaping over
		 * the time the retry took. */
		s->phase = phase;
		s->end = pi_phase_end(phase);
		s->anchor = fraction > s->shown ? fraction : s->shown;
		s->anchor_ns = now_ns;
	}
	if (fraction > s->real) {
		s->real = fraction;
		s->real_ns = now_ns;
		if (fraction >= s->shown) {
			s->anchor = fraction;
			s->anchor_ns = now_ns;
		}
	}
	if (fraction > s->shown)
		s->shown = fraction;
	return pacer_state_at(s, now_ns);
}

/* The engine's progress hook while pacing. */
static void
pacer_on_progress(void *arg, enum pi_phase phase, double fraction)
{
	struct pacer *p = arg;
	double f;

	pthread_mutex_lock(&p->lock);
	f = pacer_state_report(&p->state, phase, fraction, pacer_now_ns());
	p->to->progress(p->to->arg, phase, f);
	pthread_mutex_unlock(&p->lock);
}

/* The engine's cancel hook while pacing: the caller's, as it is. */
static int
pacer_on_cancelled(void *arg)
{
	const struct pacer *p = arg;

	return p->to->cancelled(p->to->arg);
}

/* The thread: reports every PACER_PERIOD_NS until told to stop. */
static void *
pacer_run(void *arg)
{
	struct pacer *p = arg;
	struct timespec ts;
	double f;

	pthread_mutex_lock(&p->lock);
	while (p->running) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += PACER_PERIOD_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&p->wake, &p->lock, &ts);
		if (!p->running)
			break;
		f = pacer_state_at(&p->state, pacer_now_ns());
		p->to->progress(p->to->arg, p->state.phase, f);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* Starts the thread; returns 0, or -1 with nothing left to undo. */
static int
pacer_start_thread(struct pacer *p)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	int rc = -1;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	if (pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
	    pthread_cond_init(&p->wake, &ca) == 0)
		rc = 0;
	pthread_condattr_destroy(&ca);
	if (rc == -1)
		return -1;
	if (pthread_attr_init(&ta) != 0) {
		pthread_cond_destroy(&p->wake);
		return -1;
	}
	(void)pthread_attr_setstacksize(&ta, PACER_STACK);
	p->running = 1;
	if (pthread_create(&p->thread, &ta, pacer_run, p) != 0) {
		p->running = 0;
		pthread_cond_destroy(&p->wake);
		rc = -1;
	}
	pthread_attr_destroy(&ta);
	return rc;
}

const struct pi_hooks *
pacer_start(struct pacer *p, const struct pi_hooks *to)
{
	p->to = to;
	p->running = 0;
	p->hooks.progress = pacer_on_progress;
	p->hooks.cancelled = to->cancelled != NULL ? pacer_on_cancelled : NULL;
	p->hooks.arg = p;
	pacer_state_init(&p->state, pacer_now_ns());
	if (to->progress == NULL)
		return to;
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return to;
	if (pacer_start_thread(p) == -1) {
		pthread_mutex_destroy(&p->lock);
		return to;
	}
	return &p->hooks;
}

void
pacer_stop(struct pacer *p)
{
	if (!p->running)
		return;
	pthread_mutex_lock(&p->lock);
	p->running = 0;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
}
