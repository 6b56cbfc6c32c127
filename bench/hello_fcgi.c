/* hello_fcgi.c: the least a pre-forked, threaded libfcgi program can do,
 * answering a tiny JSON: the peer the API's requests/s are measured against. */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELLO_MAX_CHILDREN 64

static const char hello_answer[] = "Status: 200 OK\r\n"
				   "Content-Type: application/json\r\n"
				   "Content-Length: 18\r\n"
				   "\r\n"
				   "{\"hello\": \"world\"}";

/* As in nthpi-fcgi (cgi-bin/child.c): one thread at a time waits in
 * accept, so that a connection wakes one thread, not all. */
static pthread_mutex_t hello_accept_lock = PTHREAD_MUTEX_INITIALIZER;
static int hello_listen_fd;

static void *
hello_thread(void *arg)
{
	FCGX_Request r;

	(void)arg;
	if (FCGX_InitRequest(&r, hello_listen_fd, 0) != 0)
		return NULL;
	for (;;) {
		int rc;

		pthread_mutex_lock(&hello_accept_lock);
		rc = FCGX_Accept_r(&r);
		pthread_mutex_unlock(&hello_accept_lock);
		if (rc < 0) {
			/* Out of descriptors, say: do not spin. */
			usleep(100 * 1000);
			continue;
		}
		FCGX_PutStr(hello_answer, (int)sizeof(hello_answer) - 1, r.out);
		FCGX_Finish_r(&r);
	}
	return NULL;
}

/* A child: threads that serve until the process is killed. */
static void
hello_child(int threads)
{
	pthread_t id;
	int i;

	for (i = 0; i < threads; i++)
		if (pthread_create(&id, NULL, hello_thread, NULL) != 0) {
			fprintf(stderr, "hello_fcgi: only %d threads: %s\n", i,
				strerror(errno));
			break;
		}
	for (;;)
		pause();
}

int
main(int argc, char **argv)
{
	pid_t kids[HELLO_MAX_CHILDREN];
	int children, threads, i, sig;
	sigset_t stop;

	if (argc != 4 || (children = atoi(argv[2])) < 1 ||
	    children > HELLO_MAX_CHILDREN || (threads = atoi(argv[3])) < 1) {
		fprintf(stderr, "usage: hello_fcgi SOCKET CHILDREN THREADS\n");
		return 2;
	}
	if (FCGX_Init() != 0) {
		fprintf(stderr, "hello_fcgi: FCGX_Init failed\n");
		return 1;
	}
	unlink(argv[1]);
	if ((hello_listen_fd = FCGX_OpenSocket(argv[1], 1024)) < 0) {
		fprintf(stderr, "hello_fcgi: cannot listen on %s\n", argv[1]);
		return 1;
	}
	/* nginx's workers may run as another user. */
	chmod(argv[1], 0666);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	for (i = 0; i < children; i++) {
		if ((kids[i] = fork()) == -1) {
			fprintf(stderr, "hello_fcgi: fork: %s\n",
				strerror(errno));
			children = i;
			break;
		}
		if (kids[i] == 0)
			hello_child(threads);
	}
	/* The children die with the master: it kills them on SIGTERM. */
	sigprocmask(SIG_BLOCK, &stop, NULL);
	sigwait(&stop, &sig);
	for (i = 0; i < children; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < children; i++)
		waitpid(kids[i], NULL, 0);
	unlink(argv[1]);
	return 0;
}
