/* clockstep.c: for test_clock_step.py, an LD_PRELOAD library that steps
 * the wall clock of the process it is loaded into (and only that one)
 * back: while the file CLOCKSTEP_FILE exists, CLOCK_REALTIME, time() and
 * gettimeofday() read as many seconds earlier as the file says. The
 * monotonic clock is left alone, as a real step leaves it. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

/* The seconds to step back now: what CLOCKSTEP_FILE holds, or 0. */
static long
clockstep_seconds(void)
{
	const char *path = getenv("CLOCKSTEP_FILE");
	long secs = 0;
	FILE *f;

	if (path == NULL || (f = fopen(path, "re")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &secs) != 1)
		secs = 0;
	fclose(f);
	return secs;
}

int
clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	int rc;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "clock_gettime");
	rc = real(id, ts);
	if (rc == 0 && (id == CLOCK_REALTIME || id == CLOCK_REALTIME_COARSE))
		ts->tv_sec -= clockstep_seconds();
	return rc;
}

int
gettimeofday(struct timeval *tv, void *tz)
{
	struct timespec ts;

	(void)tz;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

time_t
time(time_t *out)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		return (time_t)-1;
	if (out != NULL)
		*out = ts.tv_sec;
	return ts.tv_sec;
}
