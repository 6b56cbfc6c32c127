/* longpoll.c: the long-poll bench's client: holds many long polls through
 * nginx from many source addresses, or makes the change that ends them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* What an answer is read into, allocated before the change: a long poll's
 * answer is about 2 KB with its head. More is allocated if need be. */
#define LP_BUF_START 8192
/* Connections being made at once. A SYN that a full listen queue dropped
 * is sent again only a second later: a blocking connect(2) would stall
 * every poll behind such a one, so connections are made side by side. */
#define LP_CONNECTING_MAX 1024
/* Polls not connected and sent by then count as errors. */
#define LP_SEND_S 60

/* One connection: a held poll, or the request that ends the holds. */
struct lp_conn {
	int fd;
	char *buf;
	size_t len, cap;
	size_t head_len;  /* bytes up to and including the blank line */
	long long clen;   /* Content-Length; -1 none yet, -2 chunked */
	int status;       /* HTTP status, 0 until the head is in */
	int complete;     /* the whole answer is in */
	int failed;       /* EOF or error before it was complete */
	int connecting;   /* connect(2) in progress, the request unsent */
	long long t_user; /* CLOCK_MONOTONIC ns when the read completed it */
	long long t_kern; /* CLOCK_REALTIME ns the kernel received its last
			   * bytes (SO_TIMESTAMPNS), 0 if not given */
};

/* Where to connect and what to send, for either mode. */
struct lp_opts {
	int port;              /* TCP port on 127.0.0.1 */
	const char *unix_path; /* post: nginx's unix socket instead */
	const char *target;    /* the request target, "/api/tasks?since=3" */
	int clients;           /* hold: how many polls */
	struct in_addr addr;   /* the first source address */
	int naddrs;            /* how many, from addr on; 0: the kernel's */
	int wait_s;            /* how long to wait for answers after GO */
	int rate;              /* polls started a second; 0: no limit */
	const char *body_file; /* post: what to send; NULL: {"n": 77} */
};

static long long
lp_clock(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
lp_write_all(int fd, const char *p, size_t n)
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

/*
 * Starts a TCP connection to 127.0.0.1:port from source address src
 * (INADDR_ANY: the kernel's choice); non-blocking unless block is set.
 * Returns the descriptor and sets *done when the connection is made
 * already, or returns -1.
 */
static int
lp_connect_tcp(int port, struct in_addr src, int block, int *done)
{
	struct sockaddr_in sa;
	int fd, one = 1, flags = SOCK_STREAM | SOCK_CLOEXEC;

	if (!block)
		flags |= SOCK_NONBLOCK;
	if ((fd = socket(AF_INET, flags, 0)) == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (src.s_addr != htonl(INADDR_ANY)) {
		/* The port is chosen at connect(2), for the whole 4-tuple:
		 * otherwise bind(2) wants a port free on src for any peer. */
		setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
			   sizeof(one));
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr = src;
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1)
			goto fail;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	*done = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (!*done && errno != EINPROGRESS)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

/* Opens a blocking connection to a unix socket. Returns it, or -1. */
static int
lp_connect_unix(const char *path)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Looks at what has arrived: the status, the head's end and the length. */
static void
lp_parse(struct lp_conn *c)
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
		if (c->clen == -1 &&
		    strcasestr(c->buf, "\r\ntransfer-encoding:"))
			c->clen = -2;
		*end = '\r';
	}
	if (c->clen >= 0)
		c->complete = c->len >= c->head_len + (size_t)c->clen;
	else if (c->clen == -2)
		c->complete = c->len >= 5 &&
			      memcmp(c->buf + c->len - 5, "0\r\n\r\n", 5) == 0;
}

/*
 * Reads what is there without blocking, noting the kernel's timestamp of
 * the last bytes. Returns 1 when the answer became complete, 0 if more is
 * to come, -1 on EOF or error before it was.
 */
static int
lp_read(struct lp_conn *c)
{
	for (;;) {
		char ctl[CMSG_SPACE(sizeof(struct timespec))];
		struct msghdr mh;
		struct iovec iov;
		struct cmsghdr *cm;
		ssize_t n;

		if (c->cap - c->len < 2048) {
			size_t cap = c->cap ? c->cap * 2 : LP_BUF_START;
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
		lp_parse(c);
		if (c->complete)
			return 1;
	}
}

/*
 * Reads the driver's "GO MATCH" line from stdin into match (cut to size):
 * what an answer must hold to carry the change. Returns 0, or -1 on EOF
 * or another line.
 */
static int
lp_read_go(char *match, size_t size)
{
	size_t n = 0;

	while (n + 1 < size) {
		ssize_t r = read(0, match + n, 1);

		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (match[n] == '\n')
			break;
		n++;
	}
	match[n] = '\0';
	if (strncmp(match, "GO ", 3) != 0)
		return -1;
	memmove(match, match + 3, n - 2);
	return 0;
}

/* The source address of poll i: the next of o's, round robin. */
static struct in_addr
lp_source(const struct lp_opts *o, int i)
{
	struct in_addr a = o->addr;

	if (o->naddrs > 0)
		a.s_addr =
		    htonl(ntohl(o->addr.s_addr) + (uint32_t)(i % o->naddrs));
	return a;
}

/*
 * How many polls may have been started by now, at o->rate a second since
 * t_start: nginx takes only so many new connections at once (its listen
 * queue), and with the app behind it fewer than a client can open.
 */
static int
lp_allowed(const struct lp_opts *o, long long t_start)
{
	long long ns = lp_clock(CLOCK_MONOTONIC) - t_start;

	if (o->rate <= 0 || ns / 1000000000LL > o->clients / o->rate + 1)
		return o->clients;
	return (int)(ns * o->rate / 1000000000LL) + 1;
}

/* Gives up on poll c: it counts as an error (the first is told). */
static void
lp_give_up(struct lp_conn *c, struct in_addr src, int *errors)
{
	if ((*errors)++ == 0)
		fprintf(stderr, "longpoll: connect/send from %s: %s\n",
			inet_ntoa(src), strerror(errno));
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->failed = 1;
}

/*
 * Sends the request on c, whose connection is made, and has epoll (op:
 * EPOLL_CTL_ADD or _MOD) report its answer as event idx. Returns 0 or -1.
 */
static int
lp_send(int ep, int op, struct lp_conn *c, unsigned idx, const char *req,
	size_t len)
{
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t elen = sizeof(int);
	int err = 0;

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
		return -1;
	if (err != 0) {
		errno = err;
		return -1;
	}
	/* A few dozen bytes: the socket's buffer takes them at once. */
	if (write(c->fd, req, len) != (ssize_t)len)
		return -1;
	c->connecting = 0;
	ev.data.u32 = idx;
	return epoll_ctl(ep, op, c->fd, &ev);
}

/*
 * The hold mode. Sends o->clients GET requests for o->target, each on a
 * connection of its own from the next source address (round robin), then
 * says "SENT ..." on stdout and waits, reading whatever is answered. On
 * stdin the driver writes "GO MATCH" once the change is made: from then on
 * it waits up to o->wait_s seconds for the answers that are left. Then one
 * "A ..." line per poll and "BUSY ms", the time spent reading them. The driver judges them: this
 * process knows neither when the change was made nor what it was until
 * GO. Returns 0, or 1 if it could not run.
 */
static int
lp_hold(const struct lp_opts *o)
{
	int n = o->clients, i, ep = -1, errors = 0, left = 0, go = 0;
	int next = 0, connecting = 0, rc = 1;
	struct lp_conn *cs = calloc((size_t)n, sizeof(*cs));
	struct epoll_event *evs = calloc((size_t)n + 1, sizeof(*evs));
	long long t_first, t_last = 0, deadline = 0, busy = 0;
	char req[1024], match[256] = "";
	int len;

	if (cs == NULL || evs == NULL ||
	    (ep = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		fprintf(stderr, "longpoll: out of memory\n");
		goto out;
	}
	len = snprintf(req, sizeof(req),
		       "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
		       o->target, o->port);
	if (len < 0 || (size_t)len >= sizeof(req)) {
		fprintf(stderr, "longpoll: the target is too long\n");
		goto out;
	}
	for (i = 0; i < n; i++)
		cs[i].fd = -1;
	for (i = 0; i < n; i++) {
		/* Touched now, not while the answers come. */
		if ((cs[i].buf = malloc(LP_BUF_START + 1)) == NULL) {
			fprintf(stderr, "longpoll: out of memory\n");
			goto out;
		}
		memset(cs[i].buf, 0, LP_BUF_START + 1);
		cs[i].cap = LP_BUF_START;
	}
	t_first = lp_clock(CLOCK_MONOTONIC);
	while (next < n || connecting > 0) {
		int k, m, done;

		while (next < n && connecting < LP_CONNECTING_MAX &&
		       next < lp_allowed(o, t_first)) {
			struct lp_conn *c = &cs[next];
			struct epoll_event ev = { .events = EPOLLOUT };

			i = next++;
			c->fd =
			    lp_connect_tcp(o->port, lp_source(o, i), 0, &done);
			if (c->fd == -1) {
				lp_give_up(c, lp_source(o, i), &errors);
				continue;
			}
			if (done) {
				if (lp_send(ep, EPOLL_CTL_ADD, c, (unsigned)i,
					    req, (size_t)len) == -1)
					lp_give_up(c, lp_source(o, i), &errors);
				else
					left++;
				continue;
			}
			c->connecting = 1;
			connecting++;
			ev.data.u32 = (unsigned)i;
			epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
		}
		if (lp_clock(CLOCK_MONOTONIC) - t_first >
		    LP_SEND_S * 1000000000LL)
			break;
		/* A millisecond brings the next few polls of the rate. */
		m = epoll_wait(
		    ep, evs, n + 1,
		    next < n && connecting < LP_CONNECTING_MAX ? 1 : 100);
		for (k = 0; k < m; k++) {
			struct lp_conn *c = &cs[evs[k].data.u32];

			i = (int)evs[k].data.u32;
			if (c->connecting) {
				connecting--;
				if (lp_send(ep, EPOLL_CTL_MOD, c, (unsigned)i,
					    req, (size_t)len) == -1)
					lp_give_up(c, lp_source(o, i), &errors);
				else
					left++;
				continue;
			}
			/* An answer before the change. */
			if (c->complete || c->failed || lp_read(c) == 0)
				continue;
			c->t_user = lp_clock(CLOCK_MONOTONIC);
			c->failed = !c->complete;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			left--;
		}
	}
	for (i = 0; i < n; i++)
		if (cs[i].connecting) {
			errno = ETIMEDOUT;
			lp_give_up(&cs[i], lp_source(o, i), &errors);
		}
	t_last = lp_clock(CLOCK_MONOTONIC);
	{
		struct epoll_event ev = { .events = EPOLLIN };

		ev.data.u32 = (unsigned)n;
		epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	}
	printf("SENT polls=%d errors=%d t_first=%lld t_last=%lld\n", n, errors,
	       t_first, t_last);
	fflush(stdout);

	while (left > 0) {
		long long now = lp_clock(CLOCK_MONOTONIC), woke;
		int k, m, ms = -1;

		if (go) {
			if (now >= deadline)
				break;
			ms = (int)((deadline - now) / 1000000) + 1;
		}
		m = epoll_wait(ep, evs, n + 1, ms);
		if (m == -1 && errno == EINTR)
			continue;
		woke = lp_clock(CLOCK_MONOTONIC);
		for (k = 0; k < m; k++) {
			struct lp_conn *c;
			int r;

			if (evs[k].data.u32 == (unsigned)n) {
				if (lp_read_go(match, sizeof(match)) == -1) {
					fprintf(stderr, "longpoll: no GO from "
							"the driver\n");
					goto out;
				}
				epoll_ctl(ep, EPOLL_CTL_DEL, 0, NULL);
				go = 1;
				deadline = lp_clock(CLOCK_MONOTONIC) +
					   (long long)o->wait_s * 1000000000LL;
				continue;
			}
			c = &cs[evs[k].data.u32];
			if (c->complete || c->failed)
				continue;
			r = lp_read(c);
			if (r == 0)
				continue;
			c->t_user = lp_clock(CLOCK_MONOTONIC);
			if (r == -1)
				c->failed = 1;
			epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
			left--;
		}
		busy += lp_clock(CLOCK_MONOTONIC) - woke;
	}
	/* All were answered before the change: the GO is still to come. */
	if (!go && lp_read_go(match, sizeof(match)) == -1)
		match[0] = '\0';
	/* A poll's line: A status complete failed t_user t_kern has_match
	 * body_bytes (0 for what is unknown). */
	for (i = 0; i < n; i++) {
		struct lp_conn *c = &cs[i];
		int has = c->complete && match[0] != '\0' &&
			  strstr(c->buf + c->head_len, match) != NULL;

		printf("A %d %d %d %lld %lld %d %zu\n", c->status, c->complete,
		       c->failed, c->t_user, c->t_kern, has,
		       c->complete ? c->len - c->head_len : 0);
	}
	printf("BUSY %.3f\n", busy / 1e6);
	fflush(stdout);
	rc = 0;
out:
	for (i = 0; cs != NULL && i < n; i++) {
		if (cs[i].fd != -1)
			close(cs[i].fd);
		free(cs[i].buf);
	}
	if (ep != -1)
		close(ep);
	free(cs);
	free(evs);
	return rc;
}

/*
 * The post mode: the change. POSTs the body (of o->body_file, or
 * {"n": 77}) to o->target, over TCP or the unix socket, connected first so
 * that t0 is the moment the request is written. Prints "POST status=S
 * t0_mono=NS t0_real=NS ms=MS" and the answer's body on the next line.
 * Returns 0, or 1 if it got no answer.
 */
static int
lp_post(const struct lp_opts *o)
{
	static char body[65536];
	char head[512];
	struct lp_conn c;
	long long t0, t0_real;
	size_t blen;
	int hlen, r;

	memset(&c, 0, sizeof(c));
	if (o->body_file != NULL) {
		FILE *f = fopen(o->body_file, "rb");

		if (f == NULL) {
			fprintf(stderr, "longpoll: %s: %s\n", o->body_file,
				strerror(errno));
			return 1;
		}
		blen = fread(body, 1, sizeof(body), f);
		fclose(f);
	} else
		blen = (size_t)snprintf(body, sizeof(body), "{\"n\": 77}");
	hlen = snprintf(head, sizeof(head),
			"POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
			"Content-Type: application/json\r\n"
			"Accept: application/json\r\n"
			"Content-Length: %zu\r\nConnection: close\r\n\r\n",
			o->target, o->port, blen);
	if (hlen < 0 || (size_t)hlen >= sizeof(head) ||
	    (size_t)hlen + blen > sizeof(body)) {
		fprintf(stderr, "longpoll: the request is too long\n");
		return 1;
	}
	memmove(body + hlen, body, blen);
	memcpy(body, head, (size_t)hlen);
	{
		struct in_addr any = { .s_addr = htonl(INADDR_ANY) };

		int done;

		c.fd = o->unix_path != NULL
			   ? lp_connect_unix(o->unix_path)
			   : lp_connect_tcp(o->port, any, 1, &done);
	}
	if (c.fd == -1) {
		fprintf(stderr, "longpoll: cannot connect for the POST: %s\n",
			strerror(errno));
		return 1;
	}
	t0_real = lp_clock(CLOCK_REALTIME);
	t0 = lp_clock(CLOCK_MONOTONIC);
	r = -1;
	if (lp_write_all(c.fd, body, (size_t)hlen + blen) == -1)
		fprintf(stderr, "longpoll: writing the POST failed\n");
	else
		/* Blocking: lp_read sees no EAGAIN, only the end or an
		 * error. */
		while ((r = lp_read(&c)) == 0)
			;
	c.t_user = lp_clock(CLOCK_MONOTONIC);
	close(c.fd);
	printf("POST status=%d t0_mono=%lld t0_real=%lld ms=%.3f\n%s\n",
	       c.status, t0, t0_real, (c.t_user - t0) / 1e6,
	       c.complete ? c.buf + c.head_len : "");
	free(c.buf);
	return r == 1 ? 0 : 1;
}

static void
lp_usage(void)
{
	fprintf(stderr,
		"usage: longpoll hold -p PORT -t TARGET [-c CLIENTS] "
		"[-a ADDR,COUNT] [-r RATE] [-w WAIT_S]\n"
		"       longpoll post (-p PORT | -u SOCKET) -t TARGET "
		"[-f BODY_FILE]\n"
		"  hold: CLIENTS GETs of TARGET on 127.0.0.1:PORT, from COUNT "
		"source addresses\n"
		"  from ADDR on, RATE a second; waits for GO on stdin, then "
		"reports each answer.\n"
		"  post: one POST of TARGET (the change), timed.\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct lp_opts o = { .clients = 1000, .wait_s = 10 };
	struct rlimit rl;
	const char *mode;
	int ch;

	if (argc < 2)
		lp_usage();
	mode = argv[1];
	o.addr.s_addr = htonl(INADDR_ANY);
	optind = 2;
	while ((ch = getopt(argc, argv, "p:u:t:c:a:w:f:r:")) != -1) {
		switch (ch) {
		case 'p':
			o.port = atoi(optarg);
			break;
		case 'u':
			o.unix_path = optarg;
			break;
		case 't':
			o.target = optarg;
			break;
		case 'c':
			o.clients = atoi(optarg);
			break;
		case 'a': {
			char *comma = strchr(optarg, ',');

			if (comma == NULL)
				lp_usage();
			*comma = '\0';
			if (inet_pton(AF_INET, optarg, &o.addr) != 1)
				lp_usage();
			o.naddrs = atoi(comma + 1);
			break;
		}
		case 'w':
			o.wait_s = atoi(optarg);
			break;
		case 'f':
			o.body_file = optarg;
			break;
		case 'r':
			o.rate = atoi(optarg);
			break;
		default:
			lp_usage();
		}
	}
	if (o.target == NULL || o.wait_s <= 0 || o.clients <= 0 ||
	    (o.port <= 0 && o.unix_path == NULL))
		lp_usage();
	if (strcmp(mode, "post") == 0)
		return lp_post(&o);
	if (strcmp(mode, "hold") != 0 || o.port <= 0)
		lp_usage();
	/* One descriptor per poll, and some room. */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)o.clients + 16) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1 ||
		    rl.rlim_cur < (rlim_t)o.clients + 16) {
			fprintf(stderr,
				"longpoll: only %ld descriptors allowed for "
				"%d polls: use more processes\n",
				(long)rl.rlim_cur, o.clients);
			return 1;
		}
	}
	return lp_hold(&o);
}
