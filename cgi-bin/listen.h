/* listen.h: the FastCGI listening socket: inherited, or made here. */
#ifndef NTHPI_LISTEN_H
#define NTHPI_LISTEN_H

/* Pending connections the kernel queues while every thread is busy. */
#define LISTEN_BACKLOG 1024

/*
 * Returns the listening socket. In order: systemd socket activation
 * (LISTEN_PID is us and LISTEN_FDS=1: descriptor 3), a listening socket
 * on standard input (as spawn-fcgi passes it), or a new unix socket bound
 * at path: a stale socket file there is removed, a live one (something
 * answers) is an error, anything else at path is left alone and an error.
 * The new socket is mode 0666 so that nginx workers running as another
 * user can connect (listen.c says why not 0660). Sets *created to 1 if the caller must unlink path at
 * exit. Returns -1 on failure (logged).
 */
int listen_open(const char *path, int *created);

#endif
