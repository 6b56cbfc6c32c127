/* notify.h: telling systemd how the service is doing, without libsystemd. */
#ifndef NTHPI_NOTIFY_H
#define NTHPI_NOTIFY_H

/*
 * Sends state ("READY=1", "STOPPING=1") to $NOTIFY_SOCKET if it is set
 * (an '@' first means an abstract socket). Does nothing otherwise.
 * Returns 0, or -1 if sending failed (logged).
 */
int notify_systemd(const char *state);

#endif
