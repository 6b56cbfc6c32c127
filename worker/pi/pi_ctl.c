/* pi_ctl.c: progress reports and cancellation shared by the engine threads. */
#include "pi_ctl.h"

#include <math.h>
#include <time.h>

/*
 * Some steps take seconds with no work unit ending: at 10^8 decimals the
 * last products of the series take 4 s and the division 8 s, and a bar
 * that stands still that long looks hung. So the fraction reported is
 * paced: from the last point where the finished units set it (the anchor)
 * it moves on at the run's average speed so far (the phase weights follow
 * time, so that speed holds across phases), bent to approach the end of
 * the current phase without reaching it: only the phase's own work
 * finishes it. The bend is polynomial, not exponential: a phase that runs
 * several times longer than the speed so far predicts (a loaded machine,
 * a sanitizer build) still sees the bar creep on instead of stand still. Once the finished units pass the paced fraction they set a
 * new anchor; the fraction never moves back. A pacer thread polls every
 * PI_CTL_PACE_NS so that the fraction moves while both engine threads are
 * inside one long operation.
 */
#define PI_CTL_PACE_NS 250000000L
/* The most of the room left in a phase that pacing may cover. */
#define PI_CTL_PACE_MAX 0.999
/* The pacer sleeps most of the time: a small stack is plenty. */
#define PI_CTL_PACER_STACK (64 * 1024)

/* The monotonic clock in nanoseconds. */
static int_fast64_t
ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int_fast64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* How often the hooks are called at most, in nanoseconds. */
#define PI_CTL_PERIOD_NS 50000000L

/*
 * The paced fraction at `now` (see the top of this file): room (1 -
 * 1/(1 + x/2room)^2) is x while x is small against the room left in the
 * phase, and stays below it; its speed falls as the cube of the overrun
 * (e^(-x/room) would stall the bar after about five times the expected
 * wait). The caller holds ctl->lock.
 */
static double
ctl_paced(const struct pi_ctl *ctl, int_fast64_t now)
{
	double spent = (double)(ctl->real_ns - ctl->start_ns);
	double room = ctl->base + ctl->weight - ctl->anchor;
	double ahead, q;

	if (ctl->real <= 0 || spent <= 0 || room <= 0)
		return ctl->anchor;
	ahead = ctl->real / spent * (double)(now - ctl->anchor_ns);
	q = 1 / (1 + ahead / (2 * room));
	/* Rounding would reach the end after a long wait: stop just short. */
	return ctl->anchor + room * fmin(1 - q * q, PI_CTL_PACE_MAX);
}

/* Polls the hooks now; the caller holds ctl->lock. */
static void
ctl_poll_locked(struct pi_ctl *ctl)
{
	const struct pi_hooks *h = ctl->hooks;
	int_fast64_t now = ctl_now_ns();
	double f, paced;
	uint64_t done;

	atomic_store(&ctl->last_ns, now);
	if (h == NULL)
		return;
	if (h->cancelled != NULL && h->cancelled(h->arg))
		atomic_store(&ctl->stop, 1);
	if (h->progress == NULL)
		return;
	done = atomic_load(&ctl->done);
	if (done > ctl->total)
		done = ctl->total;
	f = ctl->base + ctl->weight * (double)done / (double)ctl->total;
	if (f > 1)
		f = 1;
	if (f > ctl->real) {
		ctl->real = f;
		ctl->real_ns = now;
		if (f >= ctl->reported) {
			ctl->anchor = f;
			ctl->anchor_ns = now;
		}
	}
	paced = ctl_paced(ctl, now);
	if (f < paced)
		f = paced;
	/* A retry starts the phases over; the bar must never move back. */
	if (f < ctl->reported)
		f = ctl->reported;
	ctl->reported = f;
	h->progress(h->arg, ctl->phase, f);
}

/* The pacer thread: polls every PI_CTL_PACE_NS until told to stop. */
static void *
ctl_pacer(void *arg)
{
	struct pi_ctl *ctl = arg;
	struct timespec ts;

	pthread_mutex_lock(&ctl->lock);
	while (ctl->pacing) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += PI_CTL_PACE_NS;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&ctl->wake, &ctl->lock, &ts);
		if (ctl->pacing)
			ctl_poll_locked(ctl);
	}
	pthread_mutex_unlock(&ctl->lock);
	return NULL;
}

/*
 * Starts the pacer. Without it the run still reports its finished units,
 * so a failure here is not the run's: it returns -1 and the run goes on.
 */
static int
ctl_start_pacer(struct pi_ctl *ctl)
{
	pthread_condattr_t ca;
	pthread_attr_t ta;
	int rc;

	if (pthread_condattr_init(&ca) != 0)
		return -1;
	rc = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0 &&
		     pthread_cond_init(&ctl->wake, &ca) == 0
		 ? 0
		 : -1;
	pthread_condattr_destroy(&ca);
	if (rc == -1)
		return -1;
	if (pthread_attr_init(&ta) != 0) {
		pthread_cond_destroy(&ctl->wake);
		return -1;
	}
	(void)pthread_attr_setstacksize(&ta, PI_CTL_PACER_STACK);
	ctl->pacing = 1;
	if (pthread_create(&ctl->pacer, &ta, ctl_pacer, ctl) != 0) {
		ctl->pacing = 0;
		pthread_cond_destroy(&ctl->wake);
		rc = -1;
	}
	pthread_attr_destroy(&ta);
	return rc;
}

int
pi_ctl_init(struct pi_ctl *ctl, const struct pi_hooks *hooks)
{
	ctl->hooks = hooks;
	if (pthread_mutex_init(&ctl->lock, NULL) != 0)
		return -1;
	atomic_init(&ctl->stop, 0);
	atomic_init(&ctl->done, 0);
	ctl->total = 1;
	ctl->phase = PI_PHASE_SERIES;
	ctl->base = 0;
	ctl->weight = 0;
	ctl->reported = 0;
	ctl->start_ns = ctl->real_ns = ctl->anchor_ns = ctl_now_ns();
	ctl->real = ctl->anchor = 0;
	ctl->pacing = 0;
	atomic_init(&ctl->last_ns, ctl->start_ns);
	if (hooks != NULL && hooks->progress != NULL)
		(void)ctl_start_pacer(ctl);
	return 0;
}

void
pi_ctl_destroy(struct pi_ctl *ctl)
{
	int joined = 0;

	pthread_mutex_lock(&ctl->lock);
	if (ctl->pacing) {
		ctl->pacing = 0;
		joined = 1;
		pthread_cond_signal(&ctl->wake);
	}
	pthread_mutex_unlock(&ctl->lock);
	if (joined) {
		pthread_join(ctl->pacer, NULL);
		pthread_cond_destroy(&ctl->wake);
	}
	pthread_mutex_destroy(&ctl->lock);
}

void
pi_ctl_phase(struct pi_ctl *ctl, enum pi_phase phase, double base,
	     double weight, uint64_t total)
{
	pthread_mutex_lock(&ctl->lock);
	ctl->phase = phase;
	ctl->base = base;
	ctl->weight = weight;
	ctl->total = total > 0 ? total : 1;
	atomic_store(&ctl->done, 0);
	/* Pacing starts again from here: after a retry (phases from 0 again,
	 * below what was reported) it goes on from the reported fraction
	 * instead of leaping over the time the retry took. */
	ctl->anchor = base > ctl->reported ? base : ctl->reported;
	ctl->anchor_ns = ctl_now_ns();
	ctl_poll_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
}

int
pi_ctl_add(struct pi_ctl *ctl, uint64_t units)
{
	atomic_fetch_add(&ctl->done, units);
	if (ctl_now_ns() - atomic_load(&ctl->last_ns) >= PI_CTL_PERIOD_NS &&
	    pthread_mutex_trylock(&ctl->lock) == 0) {
		ctl_poll_locked(ctl);
		pthread_mutex_unlock(&ctl->lock);
	}
	return atomic_load(&ctl->stop);
}

int
pi_ctl_stopped(struct pi_ctl *ctl)
{
	return atomic_load_explicit(&ctl->stop, memory_order_relaxed);
}
