/* child.c: one pre-forked FastCGI process: its threads and its shutdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcgiapp.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "asan.h"
#include "child.h"
#include "log.h"
#include "serve.h"
#include "timefmt.h"

/* One request thread. */
struct child_slot {
	pthread_t id;
	int started;
	/* Taken around in_accept, so that child_stop signals a thread only
	 * while it is in accept(2), never in a read of a request it took. */
	pthread_mutex_t lock;
	int in_accept;
	atomic_int done;
	int listen_fd;
	const struct app *app;
};

static atomic_int child_stopping;

/* One thread of the child at a time waits in accept(2): see child_accept. */
static pthread_mutex_t child_accept_lock = PTHREAD_MUTEX_INITIALIZER;

/* FCGI_WEB_SERVER_ADDRS: the IPv4 addresses a TCP peer may have (libfcgi's
 * own check, which our accept replaces), or NULL for any. */
static const char *child_web_servers;

/* SIGUSR1 only interrupts accept(2) at shutdown; the flag is the point. */
static volatile sig_atomic_t child_got_usr1;

static void
child_on_usr1(int sig)
{
	(void)sig;
	child_got_usr1 = 1;
}

/* FastCGI glue: the getter, reader and writer serve_request uses. */
static const char *
child_param(void *arg, const char *name)
{
	return FCGX_GetParam(name, ((FCGX_Request *)arg)->envp);
}

static long
child_read(void *arg, char *p, size_t want)
{
	int n = FCGX_GetStr(p, (int)want, ((FCGX_Request *)arg)->in);

	return n > 0 ? n : 0;
}

static int
child_write(void *arg, const void *p, size_t n)
{
	FCGX_Request *r = arg;

	/* Larger bodies arrive here in one piece; FCGX_PutStr takes int. */
	while (n > 0) {
		int part = n > (1 << 30) ? (1 << 30) : (int)n;

		if (FCGX_PutStr(p, part, r->out) != part)
			return -1;
		p = (const char *)p + part;
		n -= (size_t)part;
	}
	return 0;
}

/*
 * Returns 1 if a TCP peer at sa may talk to us: FCGI_WEB_SERVER_ADDRS is
 * unset or lists its address (comma-separated IPv4, as libfcgi reads it).
 * Unix-socket peers always may.
 */
static int
child_peer_allowed(const struct sockaddr_storage *sa)
{
	const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
	char addr[INET_ADDRSTRLEN];
	const char *p = child_web_servers;
	size_t n;

	if (sa->ss_family != AF_INET || p == NULL || *p == '\0')
		return 1;
	if (inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr)) == NULL)
		return 0;
	n = strlen(addr);
	while (*p != '\0') {
		size_t len = strcspn(p, ",");

		if (len == n && strncmp(p, addr, n) == 0)
			return 1;
		p += len + (p[len] == ',');
	}
	return 0;
}

/*
 * Waits for the next connection. Returns its descriptor (and sets *local
 * to 1 for a unix socket), -1 to try again (interrupted, refused peer, or
 * an error: logged), or -2 once the child is stopping.
 *
 * Why our own accept and not FCGX_Accept_r's: libfcgi's goes on to read
 * the request's BEGIN and PARAMS records with no time limit, and the lock
 * below was held across it, so one peer that sent a byte to the socket
 * and stopped froze every accept of its child. Here the lock covers the
 * accept(2) alone, and the connection gets a receive timeout before
 * anything is read from it. And child_stop can tell a thread blocked in
 * accept, which it may interrupt, from one reading a request it took,
 * which it must not.
 *
 * Why one thread at a time per child: not for the thundering herd (Linux
 * wakes one of the threads blocked in accept(2) per connection, and
 * libfcgi 2.4.2 takes no lock of its own there), but for balance. The
 * kernel hands each connection to the thread that has waited longest;
 * with all threads of all children waiting, a burst fills whole children
 * one after the other. With one waiter per child the children take turns.
 */
static int
child_accept(struct child_slot *w, int *local)
{
	struct timeval tv = { CHILD_READ_TIMEOUT_S, 0 };
	struct sockaddr_storage sa;
	socklen_t len = sizeof(sa);
	int fd, err, on = 1;

	pthread_mutex_lock(&child_accept_lock);
	pthread_mutex_lock(&w->lock);
	if (atomic_load(&child_stopping)) {
		pthread_mutex_unlock(&w->lock);
		pthread_mutex_unlock(&child_accept_lock);
		return -2;
	}
	w->in_accept = 1;
	pthread_mutex_unlock(&w->lock);
	fd = accept4(w->listen_fd, (struct sockaddr *)&sa, &len, SOCK_CLOEXEC);
	err = errno;
	pthread_mutex_lock(&w->lock);
	w->in_accept = 0;
	pthread_mutex_unlock(&w->lock);
	pthread_mutex_unlock(&child_accept_lock);
	if (fd == -1) {
		if (atomic_load(&child_stopping))
			return -2;
		if (err != EINTR && err != ECONNABORTED && err != EAGAIN) {
			log_warn("accept: %s", strerror(err));
			/* Out of descriptors, say: do not spin. */
			usleep(100 * 1000);
		}
		return -1;
	}
	if (!child_peer_allowed(&sa)) {
		log_warn("refused a FastCGI connection from an address not in "
			 "FCGI_WEB_SERVER_ADDRS");
		close(fd);
		return -1;
	}
	*local = sa.ss_family == AF_UNIX;
	if (sa.ss_family == AF_INET || sa.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1)
		log_warn("setsockopt(SO_RCVTIMEO): %s", strerror(errno));
	return fd;
}

/*
 * Ends the request: flushes the answer and closes the connection unless
 * nginx keeps it.
 *
 * libfcgi closes with shutdown(2) and then waits, up to 2 s, for the peer
 * to close its end, reading what it still sends: a TCP close with unread
 * data would reset the connection and could lose the answer. That wait
 * costs a thread a sleep and a wake-up per request, which adds up when a
 * change answers a thousand long-polls at once. On a unix socket, once
 * the whole request was read, nothing more comes, and what may still sit
 * unread (the empty STDIN record) would only make the close report
 * ECONNRESET to nginx: it is read here without waiting, and the close is
 * immediate (FCGX_Detach: libfcgi closes a detached connection without
 * shutdown).
 */
static void
child_finish(FCGX_Request *r, const struct serve *s, int local)
{
	if (local && !r->keepConnection &&
	    s->req.body_len == (size_t)s->req.content_length) {
		char junk[256];

		while (recv(r->ipcFd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
			;
		FCGX_Detach(r);
	}
	FCGX_Finish_r(r);
}

static void *
child_thread(void *arg)
{
	struct child_slot *w = arg;
	struct serve *s = serve_new();
	FCGX_Request r;
	int fd, local = 0;

	if (s == NULL) {
		log_err("request thread: out of memory");
		goto out;
	}
	/*
	 * No listening socket for libfcgi: the connection is accepted by
	 * child_accept and handed over in ipcFd, which FCGX_Accept_r uses
	 * when it is set. keepConnection keeps the FCGX_Finish_r that
	 * FCGX_Accept_r starts with from closing it; the BEGIN record then
	 * sets it as nginx asks. If the request cannot be read, libfcgi
	 * closes the connection and its own accept on descriptor -1 fails
	 * at once (EBADF), so it never blocks where child_stop cannot see.
	 */
	if (FCGX_InitRequest(&r, -1, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_err("request thread: FCGX_InitRequest failed");
		goto out;
	}
	while ((fd = child_accept(w, &local)) != -2) {
		if (fd < 0)
			continue;
		r.ipcFd = fd;
		r.keepConnection = 1;
		if (FCGX_Accept_r(&r) < 0) {
			log_debug("a FastCGI connection closed or timed out "
				  "before its request came");
			continue;
		}
		serve_request(s, w->app, r.ipcFd, child_param, &r, child_read,
			      &r, child_write, &r);
		child_finish(&r, s, local);
		/* nginx may keep the connection (fastcgi_keep_conn): serve
		 * its next request before accepting another. */
		while (r.ipcFd >= 0 && !atomic_load(&child_stopping) &&
		       FCGX_Accept_r(&r) >= 0) {
			serve_request(s, w->app, r.ipcFd, child_param, &r,
				      child_read, &r, child_write, &r);
			child_finish(&r, s, local);
		}
		if (r.ipcFd >= 0)
			FCGX_Free(&r, 1);
	}
	FCGX_Free(&r, 1);
out:
	serve_free(s);
	atomic_store(&w->done, 1);
	return NULL;
}

/*
 * libfcgi is built on fd_set in places: in Debian's 2.4.2, OS_Accept and
 * OS_Close use poll(2), but OS_Close still FD_CLRs into static fd_sets
 * when its async I/O table was used, and OS_DoIo calls select(2); other
 * builds still select(2) in OS_Accept. A descriptor of 1024 or more there
 * overflows the set. With the soft limit at 1024 no descriptor can reach
 * that, and accept fails cleanly (EMFILE) instead. Hence the thread count
 * per child must stay well under 1024: each thread holds one connection,
 * plus the pool's database files.
 */
static void
child_limit_descriptors(int threads)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur =
		    rl.rlim_max < CHILD_NOFILE ? rl.rlim_max : CHILD_NOFILE;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit(RLIMIT_NOFILE): %s",
				 strerror(errno));
	}
	if (threads + 4 * CHILD_DB_POOL + 32 > CHILD_NOFILE)
		log_warn("threads=%d may run out of the %d descriptors a "
			 "child has; use fewer threads and more children",
			 threads, CHILD_NOFILE);
}

/* Sets the signals up before any thread exists, so all inherit them. */
static int
child_signals(sigset_t *stop)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	/* A client that went away must cost a failed write, not the
	 * process. libfcgi leaves a disposition alone that is not SIG_DFL. */
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = child_on_usr1;
	/* No SA_RESTART: the point is to interrupt accept. */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigemptyset(stop);
	sigaddset(stop, SIGTERM);
	sigaddset(stop, SIGINT);
	sigaddset(stop, SIGHUP);
	/* Only the main thread takes these, with sigwait. */
	return pthread_sigmask(SIG_SETMASK, stop, NULL) == 0 ? 0 : -1;
}

/*
 * Stops the threads: no new accepts, and threads blocked in accept are
 * interrupted (only those: one that took a connection serves it). Closes
 * this process's listen_fd as soon as no thread can accept on it, then
 * waits up to limit_ms for the threads.
 *
 * Why close it before the requests are done: when the master dies, its
 * children stop here (PR_SET_PDEATHSIG), and while any of them holds the
 * socket, connections queue on it that no one will accept (nginx's 502
 * once it is closed), and a new master finds the socket taken ("another
 * nthpi-fcgi is serving there") and will not start. Released at once, the
 * socket is gone with the last child's close, and the next master binds a
 * new one while the old children finish their requests.
 */
static void
child_stop(struct child_slot *ws, int n, int listen_fd, long long limit_ms)
{
	long long deadline = time_mono_ms() + limit_ms;
	int i, left, accepting, released = 0;

	atomic_store(&child_stopping, 1);
	FCGX_ShutdownPending();
	do {
		left = 0;
		accepting = 0;
		for (i = 0; i < n; i++) {
			struct child_slot *w = &ws[i];

			if (!w->started || atomic_load(&w->done))
				continue;
			left++;
			/* Sent again each round: one that arrived just
			 * before accept(2) began would be lost. */
			pthread_mutex_lock(&w->lock);
			if (w->in_accept) {
				pthread_kill(w->id, SIGUSR1);
				accepting++;
			}
			pthread_mutex_unlock(&w->lock);
		}
		/* in_accept is set under the same lock as the look at
		 * child_stopping: a thread seen outside accept either serves
		 * a request or will see the stop, and never accepts again. */
		if (!released && accepting == 0) {
			close(listen_fd);
			released = 1;
		}
		if (left > 0)
			usleep(20 * 1000);
	} while (left > 0 && time_mono_ms() < deadline);
	if (left > 0)
		log_info("stopping with %d requests still running", left);
	else
		log_debug("child: threads stopped in %lld ms",
			  time_mono_ms() - (deadline - limit_ms));
}

int
child_run(const struct config *cfg, int listen_fd, int ready_fd,
	  const struct liveboard *live)
{
	struct child_slot *ws = NULL;
	struct dbpool *pool = NULL;
	struct app app = { 0 };
	const char *delay;
	pthread_attr_t ta;
	sigset_t stop;
	int i, sig, started = 0, rc = 1;

	/* The master set PR_SET_PDEATHSIG right after the fork. */
	if (child_signals(&stop) == -1) {
		log_err("child: cannot set the signal mask");
		return 1;
	}
	child_limit_descriptors(cfg->threads);
	/*
	 * Buffers larger than a thread keeps (a big page) come from mmap and
	 * go back to the system when freed. glibc would otherwise raise this
	 * threshold after the first such free and serve the next from its
	 * per-thread arenas, which it seldom returns: a burst of big pages
	 * on hundreds of threads would stay resident for good. ASan's
	 * allocator replaces glibc's and has no such setting.
	 */
	if (!NTHPI_ASAN && mallopt(M_MMAP_THRESHOLD, RESPONSE_KEEP_BYTES) != 1)
		log_warn("child: mallopt(M_MMAP_THRESHOLD) failed");
	child_web_servers = getenv("FCGI_WEB_SERVER_ADDRS");
	if (FCGX_Init() != 0) {
		log_err("child: FCGX_Init failed");
		return 1;
	}
	if ((app.lists = listcache_new()) == NULL) {
		log_err("child: out of memory");
		goto out;
	}
	if ((pool = dbpool_new(cfg->db_path, CHILD_DB_POOL)) == NULL)
		goto out;
	app.cfg = cfg;
	app.pool = pool;
	app.live = live;
	/* A test widens the window between the look at the database and
	 * nginx's hold of a long poll, to show that no change is lost in it
	 * (tests/integration/test_live.py). */
	if ((delay = getenv("NTHPI_TEST_HANDOFF_DELAY_MS")) != NULL)
		app.handoff_delay_ms = atoi(delay);
	if ((ws = calloc((size_t)cfg->threads, sizeof(*ws))) == NULL) {
		log_err("child: out of memory");
		goto out;
	}
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, CHILD_STACK_BYTES);
	for (i = 0; i < cfg->threads; i++) {
		ws[i].listen_fd = listen_fd;
		ws[i].app = &app;
		pthread_mutex_init(&ws[i].lock, NULL);
		if (pthread_create(&ws[i].id, &ta, child_thread, &ws[i]) != 0) {
			log_warn("child: started %d of %d threads", i,
				 cfg->threads);
			break;
		}
		ws[i].started = 1;
		started++;
	}
	pthread_attr_destroy(&ta);
	if (started == 0)
		goto out;
	log_debug("child: %d threads serving", started);
	if (write(ready_fd, "r", 1) != 1)
		log_warn("child: cannot tell the master it is ready");
	close(ready_fd);
	do {
		if (sigwait(&stop, &sig) != 0)
			sig = SIGTERM;
	} while (sig != SIGTERM && sig != SIGINT && sig != SIGHUP);
	child_stop(ws, cfg->threads, listen_fd, CHILD_STOP_MS);
	/* Threads may still be inside a request, using app (on this stack),
	 * the pool and the cache: end the process here, without returning
	 * or freeing what they use. */
	_exit(0);
out:
	listcache_free(app.lists);
	dbpool_free(pool);
	free(ws);
	return rc;
}
