/* sdnotify.h: telling systemd a program is ready, alive or stopping. */
#ifndef NTHPI_SDNOTIFY_H
#define NTHPI_SDNOTIFY_H

/*
 * Sends state (for example "READY=1" or "WATCHDOG=1") to the socket named
 * by $NOTIFY_SOCKET, as sd_notify(3) does, without libsystemd (an '@'
 * first means an abstract socket). Does nothing when not run by systemd.
 * Returns 0 if sent or nothing to do, or -1 if sending failed (logged the
 * first time only: a watchdog would repeat it every few seconds).
 */
int sdnotify(const char *state);

/*
 * Returns the watchdog interval systemd asked for ($WATCHDOG_USEC, for this
 * process), in milliseconds, or 0 if there is none.
 */
long long sdnotify_watchdog_ms(void);

#endif
