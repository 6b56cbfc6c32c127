/* test_pacer.c: the worker's progress pacer keeps the bar moving through
 * the engine's long steps, short of each phase's end, never back. */
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#include "pacer.h"
#include "pi.h"
#include "t.h"

/* Seconds on the pacer's clock, in nanoseconds. */
static int_fast64_t
at_s(double s)
{
	return (int_fast64_t)(s * 1e9);
}

/*
 * While no report comes (one long GMP call), the fraction moves on at the
 * speed so far, short of the end of the phase, and still creeps on when
 * the phase overruns many times.
 */
static void
test_moves_through_long_steps(void)
{
	double end = pi_phase_end(PI_PHASE_SERIES), half = end / 2;
	double f, paced, later;
	struct pacer_state s;

	pacer_state_init(&s, 0);
	pacer_state_report(&s, PI_PHASE_SERIES, 0, 0);
	/* Half the phase in 0.3 s: the rest should take 0.3 s more. */
	f = pacer_state_report(&s, PI_PHASE_SERIES, half, at_s(0.3));
	T_CHECK(f == half, "a report sets the fraction (%.4f)", f);
	paced = pacer_state_at(&s, at_s(0.9));
	later = pacer_state_at(&s, at_s(1.5));
	T_CHECK(paced > half + 0.1 && paced < end,
		"with no report for 0.6 s the fraction moves on, short of the "
		"phase's end (%.4f)",
		paced);
	T_CHECK(later > paced && later < end, "and keeps short of it (%.4f)",
		later);
	/* Ten times the expected rest of the phase: an exponential approach
	 * would stand still by now. */
	paced = pacer_state_at(&s, at_s(3.3));
	later = pacer_state_at(&s, at_s(4.3));
	T_CHECK(later - paced >= 0.001 && later < end,
		"a phase that overruns ten times still creeps on, short of "
		"its end (%.4f to %.4f in a second)",
		paced, later);
	f = pacer_state_report(&s, PI_PHASE_FINAL, end, at_s(4.4));
	T_CHECK(f >= end && f < end + 0.01,
		"the next phase starts at its base (%.4f)", f);
	f = pacer_state_report(&s, PI_PHASE_FINAL, end, at_s(4.5));
	T_CHECK(f >= end,
		"a report behind the fraction shown moves nothing "
		"back (%.4f)",
		f);
}

/*
 * A retry starts the phases over, the engine's fraction held where it
 * was: the fraction holds, and when the retry's last phase starts it goes
 * on from there without leaping over the time the retry took.
 */
static void
test_after_retry(void)
{
	double e0 = pi_phase_end(PI_PHASE_SERIES);
	double e1 = pi_phase_end(PI_PHASE_FINAL);
	double held, resumed;
	struct pacer_state s;

	pacer_state_init(&s, 0);
	pacer_state_report(&s, PI_PHASE_SERIES, 0, 0);
	pacer_state_report(&s, PI_PHASE_FINAL, e0, at_s(0.1));
	pacer_state_report(&s, PI_PHASE_CONVERT, e1, at_s(0.2));
	/* The retry, from the series again. */
	pacer_state_report(&s, PI_PHASE_SERIES, e1, at_s(0.2));
	pacer_state_report(&s, PI_PHASE_FINAL, e1, at_s(0.6));
	held = pacer_state_at(&s, at_s(0.7));
	resumed = pacer_state_report(&s, PI_PHASE_CONVERT, e1, at_s(0.7));
	T_CHECK(held >= e1 && held < e1 + 0.001,
		"during a retry the fraction holds where it was (%.4f)", held);
	T_CHECK(resumed >= held && resumed < e1 + 0.001,
		"the retry's last phase goes on from there, without a leap "
		"(%.4f)",
		resumed);
	T_CHECK(pacer_state_at(&s, at_s(0.8)) > resumed,
		"and moves on from there");
}

/* What the thread test's hook saw; written from the pacer's thread too. */
struct seen {
	pthread_mutex_t lock;
	double last;
	int calls, backwards;
};

static void
seen_progress(void *arg, enum pi_phase phase, double f)
{
	struct seen *sn = arg;

	(void)phase;
	pthread_mutex_lock(&sn->lock);
	if (f < sn->last)
		sn->backwards++;
	sn->last = f;
	sn->calls++;
	pthread_mutex_unlock(&sn->lock);
}

static int
seen_cancelled(void *arg)
{
	(void)arg;
	return 1;
}

static int
seen_calls(struct seen *sn, double *last)
{
	int n;

	pthread_mutex_lock(&sn->lock);
	n = sn->calls;
	*last = sn->last;
	pthread_mutex_unlock(&sn->lock);
	return n;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* The thread reports while the engine says nothing, and stops. */
static void
test_thread(void)
{
	struct seen sn = { PTHREAD_MUTEX_INITIALIZER, 0, 0, 0 };
	struct pi_hooks to = { seen_progress, seen_cancelled, &sn };
	struct pi_hooks quiet = { NULL, seen_cancelled, &sn };
	const struct pi_hooks *h;
	struct pacer p;
	double last;
	int calls, after;

	h = pacer_start(&p, &to);
	if (!T_CHECK(h == &p.hooks, "the pacer starts"))
		return;
	T_CHECK(h->cancelled(h->arg) == 1, "the cancel hook passes through");
	h->progress(h->arg, PI_PHASE_SERIES, 0);
	sleep_ms(100);
	h->progress(h->arg, PI_PHASE_SERIES, 0.2);
	sleep_ms(700);
	calls = seen_calls(&sn, &last);
	T_CHECK(calls >= 4 && last > 0.2 &&
		    last < pi_phase_end(PI_PHASE_SERIES),
		"with no report for 0.7 s the thread reported on (%d calls, "
		"%.4f)",
		calls, last);
	pacer_stop(&p);
	calls = seen_calls(&sn, &last);
	sleep_ms(400);
	after = seen_calls(&sn, &last);
	T_CHECK(after == calls && sn.backwards == 0,
		"nothing is reported after pacer_stop, nor ever back");
	h = pacer_start(&p, &quiet);
	T_CHECK(h == &quiet,
		"without a progress hook there is nothing to pace");
	pacer_stop(&p);
	pthread_mutex_destroy(&sn.lock);
}

int
main(void)
{
	test_moves_through_long_steps();
	test_after_retry();
	test_thread();
	return T_EXIT();
}
