/* longpoll.c: holds many long polls through nginx at once, changes the queue
 * and times how soon each held poll gets its answer. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define MAX_PIDS 64

/* One client connection: a held poll, or the POST that ends the hold. */
struct conn {
	int fd;
	char *buf;
	size_t len, cap;
	size_t head_len; /* bytes up to and including the blank line */
	long long clen;  /* Content-Length, -1 when there is none */
	int status;      /* HTTP status, 0 until the head is in */
	int complete;
	int failed;       /* EOF or error before the answer was complete */
	int early;        /* answered before the change */
	long long t_user; /* CLOCK_MONOTONIC ns when the read completed it */
	long long t_kern; /* CLOCK_REALTIME ns the kernel received the last
			    * bytes (SO_TIMESTAMPNS), 0 if not given */
};

struct opts {
	int port;
	int clients;
	int rounds;
	int settle_ms; /* quiet time that counts as "held" */
	int wait_s;    /* how long to wait for answers after the change */
	int npids;
	int pids[MAX_PIDS];
};

static long long
clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

/* Nearest-rank percentile of n sorted values (n > 0). */
static long long
percentile(const long long *v, int n, int p)
{
	int rank = (int)(((long long)p * n + 99) / 100);

	if (rank < 1)
		rank = 1;
	return v[rank - 1];
}

/* Opens a blocking TCP connection to 127.0.0.1:port; -1 on failure. */
static int
connect_local(int port)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	return fd;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Looks at what has arrived: the status, the head's end and the length. */
static void
conn_parse(struct conn *c)
{
	if (c->head_len == 0) {
		char *end = memmem(c->buf, c->len, "\r\n\r\n", 4), *p;

		if (end == NULL)
			return;
		*end = '\0';
		c->head_len = (size_t)(end - c->buf) + 4;
		c->clen = -1;
		if (strncmp(c->buf, "HTTP/1.", 7) == 0 && c->len > 12)
			c->status = atoi(c->buf + 9);
		for (p = strstr(c->buf, "\r\n"); p != NULL;
		     p = strstr(p + 2, "\r\n"))
			if (strncasecmp(p + 2, "content-length:", 15) == 0)
				c->clen = atoll(p + 17);
		*end = '\r';
		if (c->clen == -1 &&
		    strcasestr(c->buf, "\r\ntransfer-encoding:"))
			c->clen = -2; /* chunked */
	}
	if (c->clen >= 0)
		c->complete = c->len >= c->head_len + (size_t)c->clen;
	else if (c->clen == -2)
		c->complete = c->len >= 5 &&
			      memcmp(c->buf + c->len - 5, "0\r\n\r\n", 5) == 0;
}

/*
 * Reads what is there without blocking. Returns 1 when the answer became
 * complete, 0 if more is to come, -1 on EOF or error before it was.
 */
static int
conn_read(struct conn *c)
{
	for (;;) {
		char ctl[CMSG_SPACE(sizeof(struct timespec))];
		struct msghdr mh;
		struct iovec iov;
		struct cmsghdr *cm;
		ssize_t n;

		if (c->cap - c->len < 4096) {
			size_t cap = c->cap ? c->cap * 2 : 16384;
			char *b = realloc(c->buf, cap + 1);

			if (b == NULL)
				return -1;
			c->buf = b;
			c->cap = cap;
		}
		memset(&mh, 0, sizeof(mh));
		iov.iov_base = c->buf + c->len;
		iov.iov_len = c->cap - c->len;
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		mh.msg_control = ctl;
		mh.msg_controllen = sizeof(ctl);
		n = recvmsg(c->fd, &mh, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0)
			return -1;
		for (cm = CMSG_FIRSTHDR(&mh); cm != NULL;
		     cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET &&
			    cm->cmsg_type == SCM_TIMESTAMPNS) {
				struct timespec ts;

				memcpy(&ts, CMSG_DATA(cm), sizeof(ts));
				c->t_kern =
				    (long long)ts.tv_sec * 1000000000LL +
				    ts.tv_nsec;
			}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		conn_parse(c);
		if (c->complete)
			return 1;
	}
}

/* Sends one request on a new connection and reads the whole answer into
 * c (blocking). Returns 0 or -1. */
static int
simple_request(int port, const char *req, struct conn *c)
{
	int fd = connect_local(port), rc;

	if (fd == -1)
		return -1;
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	if (write_all(fd, req, strlen(req)) == -1) {
		close(fd);
		return -1;
	}
	while ((rc = conn_read(c)) == 0)
		;
	close(fd);
	c->fd = -1;
	return rc == 1 ? 0 : -1;
}

/* The queue's version now, from GET /api/tasks?limit=1; -1 on failure. */
static long long
queue_version(int port)
{
	char req[256];
	struct conn c;
	long long v = -1;
	char *p;

	snprintf(req, sizeof(req),
		 "GET /api/tasks?limit=1 HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Connection: close\r\n\r\n",
		 port);
	if (simple_request(port, req, &c) == 0 && c.status == 200 &&
	    (p = strstr(c.buf + c.head_len, "\"version\":")) != NULL)
		v = atoll(p + 10);
	free(c.buf);
	return v;
}

/* Connections the FastCGI processes hold: socket descriptors in the given
 * pids. Returns -1 if none of them could be read. */
static int
server_sockets(const struct opts *o)
{
	int i, total = 0, seen = 0;

	for (i = 0; i < o->npids; i++) {
		char dir[64], path[320], link[64];
		struct dirent *de;
		DIR *d;

		snprintf(dir, sizeof(dir), "/proc/%d/fd", o->pids[i]);
		if ((d = opendir(dir)) == NULL)
			continue;
		seen = 1;
		while ((de = readdir(d)) != NULL) {
			ssize_t n;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			n = readlink(path, link, sizeof(link) - 1);
			if (n > 7 && strncmp(link, "socket:", 7) == 0)
				total++;
		}
		closedir(d);
	}
	return seen ? total : -1;
}

static void
print_stats(const char *what, long long *v, int n)
{
	if (n == 0) {
		printf("  %-34s none\n", what);
		return;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_ll);
	printf("  %-31s min %6.2f  p50 %6.2f  p99 %6.2f  max %6.2f ms "
	       "(n=%d)\n",
	       what, v[0] / 1e6, percentile(v, n, 50) / 1e6,
	       percentile(v, n, 99) / 1e6, v[n - 1] / 1e6, n);
}

/* One round: hold, change, time. Returns 0, or -1 if it could not run. */
static int
run_round(const struct opts *o, int round)
{
	int n = o->clients, i, ep = -1, held_server = -1, early = 0, got = 0;
	int failed = 0, non200 = 0, wrong = 0, complete = 0, left, rc = -1;
	int base = -1, connect_errors = 0;
	struct conn *cs = calloc((size_t)n + 1, sizeof(*cs)), *post;
	struct epoll_event *evs = calloc((size_t)n + 1, sizeof(*evs));
	long long *lat = calloc((size_t)n, sizeof(*lat));
	long long *klat = calloc((size_t)n, sizeof(*klat));
	long long *ovh = calloc((size_t)n, sizeof(*ovh));
	long long version, t_sent, t0, t0_real, deadline, busy = 0;
	long long t_first = 0, t_last = 0, task_id = -1, t_held = 0;
	int nlat = 0, nklat = 0;
	char req[512];
	char *p;

	if (!cs || !evs || !lat || !klat || !ovh)
		goto out;
	for (i = 0; i <= n; i++)
		cs[i].fd = -1;
	post = &cs[n];
	/* Before the GET below, whose connection may not be closed yet. */
	base = server_sockets(o);
	if ((version = queue_version(o->port)) < 0) {
		fprintf(stderr, "longpoll: GET /api/tasks?limit=1 failed\n");
		goto out;
	}
	if ((ep = epoll_create1(EPOLL_CLOEXEC)) == -1)
		goto out;
	snprintf(req, sizeof(req),
		 "GET /api/tasks?since=%lld HTTP/1.1\r\n"
		 "Host: 127.0.0.1:%d\r\n\r\n",
		 version, o->port);
	for (i = 0; i < n; i++) {
		struct epoll_event ev = { .events = EPOLLIN };
		int fd = connect_local(o->port);

		if (fd == -1 || write_all(fd, req, strlen(req)) == -1) {
			connect_errors++;
			cs[i].failed = 1;
			if (fd != -1)
				close(fd);
			continue;
		}
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
		cs[i].fd = fd;
		/* Allocated and touched now, not while the answers come. */
		if ((cs[i].buf = malloc(16384 + 1)) != NULL) {
			memset(cs[i].buf, 0, 16384 + 1);
			cs[i].cap = 16384;
		}
		ev.data.u32 = (unsigned)i;
		epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	}
	t_sent = clock_ns(CLOCK_MONOTONIC);

	/* Held: the server holds a connection for each poll, and none has
	 * been answered for settle_ms. Waits up to 15 s for that. */
	for (;;) {
		long long now = clock_ns(CLOCK_MONOTONIC);
		int k, m, s = server_sockets(o);

		if (s >= 0 && base >= 0)
			held_server = s - base;
		t_held = now - t_sent;
		if (t_held >= (long long)o->settle_ms * 1000000 &&
		    (held_server < 0 || held_server >= n - connect_errors))
			break;
		if (t_held > 15000000000LL)
			break;
		m = epoll_wait(ep, evs, n + 1, 50);
		for (k = 0; k < m; k++) {
			struct conn *c = &cs[evs[k].data.u32];

			if (c->early || c->failed)
				continue;
			c->early = 1;
			early++;
			if (conn_read(c) == -1)
				c->failed = 1;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
		}
	}

	/* The change: a new task. Connected first, so that t0 is the moment
	 * the request leaves. */
	if ((post->fd = connect_local(o->port)) == -1) {
		fprintf(stderr, "longpoll: cannot connect for the POST\n");
		goto out;
	}
	snprintf(req, sizeof(req),
		 "POST /api/tasks HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
		 "Content-Type: application/json\r\nContent-Length: 9\r\n"
		 "Connection: close\r\n\r\n{\"n\": 77}",
		 o->port);
	{
		struct epoll_event ev = { .events = EPOLLIN };

		fcntl(post->fd, F_SETFL, fcntl(post->fd, F_GETFL) | O_NONBLOCK);
		ev.data.u32 = (unsigned)n;
		epoll_ctl(ep, EPOLL_CTL_ADD, post->fd, &ev);
	}
	t0_real = clock_ns(CLOCK_REALTIME);
	t0 = clock_ns(CLOCK_MONOTONIC);
	if (write_all(post->fd, req, strlen(req)) == -1) {
		fprintf(stderr, "longpoll: writing the POST failed\n");
		goto out;
	}
	deadline = t0 + (long long)o->wait_s * 1000000000LL;
	left = n + 1 - early - connect_errors;
	while (left > 0) {
		long long now = clock_ns(CLOCK_MONOTONIC), woke;
		int k, m, ms = (int)((deadline - now) / 1000000);

		if (ms <= 0)
			break;
		m = epoll_wait(ep, evs, n + 1, ms);
		woke = clock_ns(CLOCK_MONOTONIC);
		for (k = 0; k < m; k++) {
			struct conn *c = &cs[evs[k].data.u32];
			int r;

			if (c->complete || c->failed || c->early)
				continue;
			r = conn_read(c);
			if (r == 0)
				continue;
			c->t_user = clock_ns(CLOCK_MONOTONIC);
			if (r == -1)
				c->failed = 1;
			if (c != post) {
				if (t_first == 0)
					t_first = c->t_user;
				t_last = c->t_user;
			}
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			left--;
		}
		busy += clock_ns(CLOCK_MONOTONIC) - woke;
	}

	if (post->complete && post->status == 201 &&
	    (p = strstr(post->buf + post->head_len, "\"id\":")) != NULL)
		task_id = atoll(p + 5);
	else
		fprintf(stderr, "longpoll: the POST was answered %d: %.200s\n",
			post->status, post->buf ? post->buf : "(nothing)");
	snprintf(req, sizeof(req), "{\"id\": %lld,", task_id);
	for (i = 0; i < n; i++) {
		struct conn *c = &cs[i];

		if (c->early || c->fd == -1)
			continue;
		if (c->failed) {
			failed++;
			continue;
		}
		if (!c->complete)
			continue;
		complete++;
		if (c->status != 200) {
			non200++;
			continue;
		}
		if (task_id < 0 || !strstr(c->buf + c->head_len, req)) {
			wrong++;
			continue;
		}
		got++;
		lat[nlat++] = c->t_user - t0;
		if (c->t_kern > 0) {
			klat[nklat] = c->t_kern - t0_real;
			ovh[nklat++] = (c->t_user - t0) - (c->t_kern - t0_real);
		}
	}

	printf("round %d: %d polls since version %lld; held by the server "
	       "after %.1f s: %d; answered before the change: %d; "
	       "connect/send errors: %d\n",
	       round, n, version, t_held / 1e9, held_server, early,
	       connect_errors);
	printf("  change: POST /api/tasks answered %d in %.2f ms (task %lld)\n",
	       post->status, post->complete ? (post->t_user - t0) / 1e6 : -1.0,
	       task_id);
	printf("  after the change: %d of %d got the new task; "
	       "%d other answers (non-200 %d, without the task %d), "
	       "%d broken connections, %d unanswered after %d s\n",
	       got, n, complete - got, non200, wrong, failed,
	       n - early - connect_errors - complete - failed, o->wait_s);
	{
		/* Sorting reorders the arrays: take what is needed first. */
		long long spread = t_last - t_first;

		print_stats("change -> answer read", lat, nlat);
		print_stats("change -> kernel got it", klat, nklat);
		print_stats("client delay (kernel -> read)", ovh, nklat);
		printf(
		    "  client busy reading answers: %.2f ms in all; first to "
		    "last answer read: %.2f ms\n",
		    busy / 1e6, spread / 1e6);
		printf("ROUND %d clients=%d held=%d early=%d got=%d "
		       "other=%d broken=%d unanswered=%d post_ms=%.3f "
		       "p50=%.3f p99=%.3f max=%.3f kp99=%.3f ovh_p50=%.3f "
		       "ovh_max=%.3f busy_ms=%.3f\n",
		       round, n, held_server, early, got, complete - got,
		       failed, n - early - connect_errors - complete - failed,
		       post->complete ? (post->t_user - t0) / 1e6 : -1.0,
		       nlat ? percentile(lat, nlat, 50) / 1e6 : -1.0,
		       nlat ? percentile(lat, nlat, 99) / 1e6 : -1.0,
		       nlat ? lat[nlat - 1] / 1e6 : -1.0,
		       nklat ? percentile(klat, nklat, 99) / 1e6 : -1.0,
		       nklat ? percentile(ovh, nklat, 50) / 1e6 : -1.0,
		       nklat ? ovh[nklat - 1] / 1e6 : -1.0, busy / 1e6);
	}
	fflush(stdout);
	rc = 0;
out:
	if (cs != NULL)
		for (i = 0; i <= n; i++) {
			if (cs[i].fd != -1)
				close(cs[i].fd);
			free(cs[i].buf);
		}
	if (ep != -1)
		close(ep);
	free(cs);
	free(evs);
	free(lat);
	free(klat);
	free(ovh);
	return rc;
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: longpoll -p PORT [-c CLIENTS] [-r ROUNDS] "
		"[-s SETTLE_MS] [-w WAIT_S] [-P PID,PID...]\n"
		"  Holds CLIENTS long polls (GET /api/tasks?since=V) on "
		"127.0.0.1:PORT, POSTs a task,\n"
		"  and times each poll's answer. -P: the FastCGI processes, "
		"to count the connections they hold.\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.clients = 1000, .rounds = 3, .settle_ms = 1000, .wait_s = 10
	};
	struct rlimit rl;
	int ch, r, status = 0;

	while ((ch = getopt(argc, argv, "p:c:r:s:w:P:")) != -1) {
		switch (ch) {
		case 'p':
			o.port = atoi(optarg);
			break;
		case 'c':
			o.clients = atoi(optarg);
			break;
		case 'r':
			o.rounds = atoi(optarg);
			break;
		case 's':
			o.settle_ms = atoi(optarg);
			break;
		case 'w':
			o.wait_s = atoi(optarg);
			break;
		case 'P': {
			char *s = optarg, *end;

			while (*s && o.npids < MAX_PIDS) {
				o.pids[o.npids++] = (int)strtol(s, &end, 10);
				s = *end == ',' ? end + 1 : end;
				if (end == s && *s)
					usage();
			}
			break;
		}
		default:
			usage();
		}
	}
	if (o.port <= 0 || o.clients <= 0 || o.rounds <= 0 || o.wait_s <= 0)
		usage();
	/* One descriptor per client, and some room. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)o.clients + 64) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    rl.rlim_cur < (rlim_t)o.clients + 64) {
			fprintf(stderr,
				"longpoll: only %ld descriptors allowed\n",
				(long)rl.rlim_cur);
			return 1;
		}
	}
	for (r = 1; r <= o.rounds; r++) {
		if (run_round(&o, r) == -1)
			status = 1;
		if (r < o.rounds)
			sleep(1);
	}
	return status;
}
