/* child.c: one pre-forked FastCGI process: its threads and its shutdown. */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "child.h"
#include "log.h"
#include "serve.h"
#include "timefmt.h"

/* One request thread. */
struct worker_thread {
	pthread_t id;
	int started;
	atomic_int in_accept; /* blocked in FCGX_Accept_r: may be interrupted */
	atomic_int done;
	int listen_fd;
	const struct app *app;
};

/* Shared by the threads of this process. */
static pthread_mutex_t child_accept_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int child_stopping;

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

static void *
child_thread(void *arg)
{
	struct worker_thread *w = arg;
	struct serve *s = serve_new();
	FCGX_Request r;

	if (s == NULL) {
		log_err("request thread: out of memory");
		goto out;
	}
	if (FCGX_InitRequest(&r, w->listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
		log_err("request thread: FCGX_InitRequest failed");
		goto out;
	}
	for (;;) {
		int rc;

		/* One thread at a time waits in accept: the others would
		 * all wake for each connection. */
		pthread_mutex_lock(&child_accept_lock);
		if (atomic_load(&child_stopping)) {
			pthread_mutex_unlock(&child_accept_lock);
			break;
		}
		atomic_store(&w->in_accept, 1);
		rc = FCGX_Accept_r(&r);
		atomic_store(&w->in_accept, 0);
		pthread_mutex_unlock(&child_accept_lock);
		if (rc < 0) {
			if (atomic_load(&child_stopping))
				break;
			if (rc != -EINTR) {
				log_warn("accept: %s", strerror(-rc));
				/* Out of descriptors, say: do not spin. */
				usleep(100 * 1000);
			}
			continue;
		}
		serve_request(s, w->app, r.ipcFd, child_param, &r, child_read,
			      &r, child_write, &r);
		FCGX_Finish_r(&r);
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
 * plus the pool's and the watcher's database files.
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
 * Stops the threads: no new accepts, long-polls answer now, and the thread
 * blocked in accept is interrupted. Waits up to limit_ms for them.
 */
static void
child_stop(struct worker_thread *ws, int n, struct watch *watch,
	   long long limit_ms)
{
	long long deadline = time_mono_ms() + limit_ms;
	int i, left;

	atomic_store(&child_stopping, 1);
	FCGX_ShutdownPending();
	watch_stop(watch);
	do {
		left = 0;
		for (i = 0; i < n; i++) {
			if (!ws[i].started || atomic_load(&ws[i].done))
				continue;
			left++;
			/* Sent again each round: one that arrived just
			 * before accept(2) began would be lost. */
			if (atomic_load(&ws[i].in_accept))
				pthread_kill(ws[i].id, SIGUSR1);
		}
		if (left > 0)
			usleep(20 * 1000);
	} while (left > 0 && time_mono_ms() < deadline);
	/* Threads still in a request end with the process. */
	for (i = 0; i < n; i++)
		if (ws[i].started && atomic_load(&ws[i].done))
			pthread_join(ws[i].id, NULL);
	if (left > 0)
		log_info("stopping with %d requests still running", left);
	else
		log_debug("child: threads stopped in %lld ms",
			  time_mono_ms() - (deadline - limit_ms));
}

int
child_run(const struct config *cfg, int listen_fd, int ready_fd)
{
	struct worker_thread *ws = NULL;
	struct dbpool *pool = NULL;
	struct watch *watch = NULL;
	struct app app = { 0 };
	pthread_attr_t ta;
	sigset_t stop;
	int i, sig, started = 0, rc = 1;

	/* If the master dies without stopping us, stop anyway. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (child_signals(&stop) == -1) {
		log_err("child: cannot set the signal mask");
		return 1;
	}
	child_limit_descriptors(cfg->threads);
	if (FCGX_Init() != 0) {
		log_err("child: FCGX_Init failed");
		return 1;
	}
	if ((pool = dbpool_new(cfg->db_path, CHILD_DB_POOL)) == NULL ||
	    (watch = watch_start(cfg->db_path, CHILD_WATCH_PERIOD_MS,
				 cfg->threads)) == NULL)
		goto out;
	app.cfg = cfg;
	app.pool = pool;
	app.watch = watch;
	if ((app.cache = pollcache_new()) == NULL) {
		log_err("child: out of memory");
		goto out;
	}
	if ((ws = calloc((size_t)cfg->threads, sizeof(*ws))) == NULL) {
		log_err("child: out of memory");
		goto out;
	}
	pthread_attr_init(&ta);
	pthread_attr_setstacksize(&ta, CHILD_STACK_BYTES);
	for (i = 0; i < cfg->threads; i++) {
		ws[i].listen_fd = listen_fd;
		ws[i].app = &app;
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
	child_stop(ws, cfg->threads, watch, 1500);
	rc = 0;
	/* Threads may still be inside a request; the process ends without
	 * freeing what they use. */
	return rc;
out:
	pollcache_free(app.cache);
	watch_free(watch);
	dbpool_free(pool);
	free(ws);
	return rc;
}
