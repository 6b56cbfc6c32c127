/* pi_ctl.c: progress reports and cancellation shared by the engine threads. */
#include "pi_ctl.h"

#include <time.h>

/* How often the hooks are called at most, in nanoseconds. */
#define PI_CTL_PERIOD_NS 50000000L

/*
 * Where each phase ends, as a fraction of the whole run (2 threads, 10^7
 * and 10^8 decimals: 68 %, 20 % and 12 % of the time).
 */
static const double ctl_phase_end[PI_PHASE__MAX] = { 0.68, 0.88, 1 };

double
pi_phase_end(enum pi_phase phase)
{
	if ((int)phase < 0 || phase >= PI_PHASE__MAX)
		return 1;
	return ctl_phase_end[phase];
}

/* The monotonic clock in nanoseconds. */
static int_fast64_t
ctl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int_fast64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Polls the hooks now; the caller holds ctl->lock. */
static void
ctl_poll_locked(struct pi_ctl *ctl)
{
	const struct pi_hooks *h = ctl->hooks;
	double f;
	uint64_t done;

	atomic_store(&ctl->last_ns, ctl_now_ns());
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
	/* A retry starts the phases over; the fraction must never move
	 * back. */
	if (f < ctl->reported)
		f = ctl->reported;
	ctl->reported = f;
	h->progress(h->arg, ctl->phase, f);
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
	atomic_init(&ctl->last_ns, ctl_now_ns());
	return 0;
}

void
pi_ctl_destroy(struct pi_ctl *ctl)
{
	pthread_mutex_destroy(&ctl->lock);
}

void
pi_ctl_phase(struct pi_ctl *ctl, enum pi_phase phase, uint64_t total)
{
	double base = phase > 0 ? ctl_phase_end[phase - 1] : 0;

	pthread_mutex_lock(&ctl->lock);
	ctl->phase = phase;
	ctl->base = base;
	ctl->weight = ctl_phase_end[phase] - base;
	ctl->total = total > 0 ? total : 1;
	atomic_store(&ctl->done, 0);
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

void
pi_ctl_finish(struct pi_ctl *ctl)
{
	pthread_mutex_lock(&ctl->lock);
	ctl->phase = PI_PHASE_CONVERT;
	ctl->base = 1;
	ctl->weight = 0;
	ctl_poll_locked(ctl);
	pthread_mutex_unlock(&ctl->lock);
}

int
pi_ctl_stopped(struct pi_ctl *ctl)
{
	return atomic_load_explicit(&ctl->stop, memory_order_relaxed);
}
