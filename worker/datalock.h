/* datalock.h: one worker per data directory. */
#ifndef NTHPI_DATALOCK_H
#define NTHPI_DATALOCK_H

#include <sys/types.h>

/* The lock file, in the data directory. */
#define DATALOCK_NAME "nthpi-worker.lock"

/*
 * Takes the lock of data_dir for this process. Returns the file's
 * descriptor, held until the process closes it or ends; or -1 with errno
 * set: EAGAIN when another process holds it (*holder is its pid, or 0 if
 * it could not be told), anything else when the file could not be opened.
 */
int datalock_take(const char *data_dir, pid_t *holder);

#endif
