/* sdnotify.c: telling systemd a program is ready, alive or stopping. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "sdnotify.h"

int
sdnotify(const char *state)
{
	static int warned;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = getenv("NOTIFY_SOCKET");
	size_t plen, len = strlen(state);
	socklen_t salen;
	int fd = -1, rc = -1;

	if (path == NULL || path[0] == '\0')
		return 0;
	plen = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || plen >= sizeof(sa.sun_path)) {
		if (!warned++)
			log_warn("sdnotify: unusable NOTIFY_SOCKET \"%s\"",
				 path);
		return -1;
	}
	memcpy(sa.sun_path, path, plen);
	/* "@name" is Linux's abstract namespace, written with a NUL. */
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
			    (path[0] == '/'));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1)
		goto out;
	if (sendto(fd, state, len, MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   salen) != (ssize_t)len)
		goto out;
	rc = 0;
out:
	if (rc == -1 && !warned++)
		log_warn("sdnotify: %s: %s", path, strerror(errno));
	if (fd != -1)
		close(fd);
	return rc;
}

long long
sdnotify_watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	long long v;
	char *end;

	if (usec == NULL)
		return 0;
	/* The variables may have been inherited from a parent they were
	 * meant for. */
	if (pid != NULL && strtoll(pid, NULL, 10) != (long long)getpid())
		return 0;
	errno = 0;
	v = strtoll(usec, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return 0;
	return v / 1000 > 0 ? v / 1000 : 1;
}
