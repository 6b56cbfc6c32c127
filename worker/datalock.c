/* datalock.c: one worker per data directory. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <unistd.h>

#include "datalock.h"

/*
 * A POSIX record lock (F_SETLK), not flock(2) or an OFD lock: it belongs
 * to the process, so the compute children forked later do not hold it,
 * and it ends with the process however that ends. A restarted worker thus
 * finds it free as soon as the old one is gone, even while the old one's
 * compute child is still being killed. Holding it, the worker knows that
 * every running task and temp file in the directory is a dead worker's.
 */
int
datalock_take(const char *data_dir, pid_t *holder)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	char path[PATH_MAX];
	int fd, e;

	*holder = 0;
	if (snprintf(path, sizeof(path), "%s/%s", data_dir, DATALOCK_NAME) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640)) == -1)
		return -1;
	if (fcntl(fd, F_SETLK, &fl) == 0)
		return fd;
	e = errno;
	if (e == EACCES || e == EAGAIN) {
		e = EAGAIN;
		fl.l_type = F_WRLCK;
		if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
			*holder = fl.l_pid;
	}
	close(fd);
	errno = e;
	return -1;
}
