/* listen.c: the FastCGI listening socket: inherited, or made here. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"
#include "log.h"
#include "params.h"

/* Returns 1 if fd is a socket in the listening state. */
static int
listen_is_listening(int fd)
{
	int on = 0;
	socklen_t len = sizeof(on);
	struct stat st;

	if (fstat(fd, &st) == -1 || !S_ISSOCK(st.st_mode))
		return 0;
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &on, &len) == -1)
		return 0;
	return on;
}

/* The descriptor systemd passed, or -1 if none was passed to us. */
static int
listen_systemd(void)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	long long p, n;

	if (pid == NULL || fds == NULL ||
	    parse_whole(pid, strlen(pid), 1, 1LL << 40, &p) == -1 ||
	    (pid_t)p != getpid())
		return -1;
	/* Children must not take these as theirs. */
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (parse_whole(fds, strlen(fds), 0, 1000, &n) == -1 || n != 1) {
		log_err("socket activation: expected exactly one socket, got "
			"LISTEN_FDS=%s",
			fds);
		return -2;
	}
	if (!listen_is_listening(3)) {
		log_err("socket activation: descriptor 3 is not a listening "
			"socket");
		return -2;
	}
	return 3;
}

/*
 * Makes room at path: removes a socket nobody listens on. Returns 0, or
 * -1 if path is in use or is not a socket (logged).
 */
static int
listen_clear(const char *path, const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISSOCK(st.st_mode)) {
		log_err("%s exists and is not a socket; not removing it", path);
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0) {
		log_err("%s: another nthpi-fcgi is serving there; stop it "
			"first",
			path);
		return -1;
	}
	if (unlink(path) == -1 && errno != ENOENT) {
		log_err("removing the stale socket %s: %s", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

int
listen_open(const char *path, int *created)
{
	struct sockaddr_un sa;
	int fd, n;

	*created = 0;
	if ((fd = listen_systemd()) != -1)
		return fd < 0 ? -1 : fd;
	if (listen_is_listening(0)) {
		log_info("serving on the socket passed as standard input");
		return 0;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	n = snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	if (n < 0 || (size_t)n >= sizeof(sa.sun_path)) {
		log_err("socket path %s is too long (at most %zu bytes)", path,
			sizeof(sa.sun_path) - 1);
		return -1;
	}
	if (listen_clear(path, &sa) == -1)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1) {
		log_err("socket: %s", strerror(errno));
		return -1;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		log_err("bind %s: %s", path, strerror(errno));
		goto fail;
	}
	*created = 1;
	/*
	 * nginx's workers run as another user (www-data installed, nobody
	 * and nogroup under `make run` and the tests as root), and nothing
	 * here knows its group: 0660 with our group would lock them out in
	 * some of those setups. So the socket is 0666, and what guards it
	 * is the directory it is in (DATA, or /run/nthpi). An installation
	 * that wants 0660 uses systemd/nthpi-fcgi.socket, which sets
	 * SocketGroup=www-data and SocketMode=0660; its socket is passed
	 * in and never made here.
	 */
	if (chmod(path, 0666) == -1) {
		log_err("chmod %s: %s", path, strerror(errno));
		goto fail;
	}
	if (listen(fd, LISTEN_BACKLOG) == -1) {
		log_err("listen %s: %s", path, strerror(errno));
		goto fail;
	}
	log_info("listening on %s", path);
	return fd;
fail:
	if (*created)
		unlink(path);
	*created = 0;
	close(fd);
	return -1;
}
