/* sdnotify.h: telling systemd the worker is ready, alive or stopping. */
#ifndef NTHPI_SDNOTIFY_H
#define NTHPI_SDNOTIFY_H

/*
 * Sends state (for example "READY=1" or "WATCHDOG=1") to the socket named
 * by $NOTIFY_SOCKET, as sd_notify(3) does, without libsystemd. Returns 1 if
 * sent, 0 if not running under systemd, -1 on error (logged once).
 */
int sdnotify(const char *state);

/*
 * Returns the watchdog interval systemd asked for ($WATCHDOG_USEC, for this
 * process), in milliseconds, or 0 if there is none.
 */
long long sdnotify_watchdog_ms(void);

#endif
