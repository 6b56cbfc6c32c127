/* timefmt.c: wall-clock milliseconds and their ISO 8601 form. */
#include <stdio.h>
#include <time.h>

#include "timefmt.h"

long long
time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
time_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
time_iso8601(long long ms, char *out, size_t outlen)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;

	if (outlen == 0)
		return;
	if (ms < 0 || gmtime_r(&secs, &tm) == NULL) {
		snprintf(out, outlen, "1970-01-01T00:00:00.000Z");
		return;
	}
	snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

void
time_duration(long long ms, char *out, size_t outlen)
{
	if (ms < 0)
		ms = 0;
	if (ms < 10000)
		snprintf(out, outlen, "%.2f s", ms / 1000.0);
	else if (ms < 60000)
		snprintf(out, outlen, "%.1f s", ms / 1000.0);
	else if (ms < 3600000)
		snprintf(out, outlen, "%lld min %02lld s", ms / 60000,
			 ms / 1000 % 60);
	else
		snprintf(out, outlen, "%lld h %02lld min", ms / 3600000,
			 ms / 60000 % 60);
}
