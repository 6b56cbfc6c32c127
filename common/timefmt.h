/* timefmt.h: wall-clock milliseconds and their ISO 8601 form. */
#ifndef NTHPI_TIMEFMT_H
#define NTHPI_TIMEFMT_H

#include <stddef.h>

/* Milliseconds since the Unix epoch, from CLOCK_REALTIME. */
long long time_now_ms(void);

/* Milliseconds from CLOCK_MONOTONIC, for measuring intervals. */
long long time_mono_ms(void);

/* Writes ms as "2026-11-24T10:55:26.123Z" (UTC); out needs 32 bytes. */
void time_iso8601(long long ms, char *out, size_t outlen);

/* Writes a duration as "0.42 s", "12.3 s", "4 min 05 s" or "2 h 03 min". */
void time_duration(long long ms, char *out, size_t outlen);

#endif
