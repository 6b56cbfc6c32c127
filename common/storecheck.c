/* storecheck.c: what this process has checked of the digit store against
 * its check file, and so what of it may be served. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "storecheck.h"
#include "storesum.h"

/* Looks again at a pair of other sizes this often, 1 ms apart. */
#define STORECHECK_PAIR_TRIES 3

/* A block's state in the record. */
enum {
	STORECHECK_UNCHECKED = 0,
	STORECHECK_GOOD,
	STORECHECK_BAD,
};

/*
 * A file as stat saw it. The same identity means the same contents as far
 * as the kernel's times tell: a write in place moves mtime and ctime, a
 * replacement by rename brings another inode.
 */
struct storecheck_id {
	int exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
};

/* The record: one store path at a time, for the whole process. */
static struct {
	pthread_mutex_t lock;
	int loaded;
	char path[PATH_MAX];
	char check_path[PATH_MAX];
	struct storecheck_id store, check;
	struct storesum sum;  /* nblocks 0: no usable check file */
	unsigned char *block; /* sum.nblocks of them */
	enum store_state state;
	long long limit;       /* bytes that may be served at most */
	long long bad;         /* the first block found damaged, or -1 */
	unsigned long version; /* moves with each reload */
	char pair_why[192];    /* what is wrong with the pair, or "" */
	char block_why[192];   /* what is wrong with block bad, or "" */
} sc = { .lock = PTHREAD_MUTEX_INITIALIZER, .bad = -1 };

static void
storecheck_id_of(const struct stat *st, struct storecheck_id *id)
{
	memset(id, 0, sizeof(*id));
	if (st == NULL)
		return;
	id->exists = 1;
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->mtim = st->st_mtim;
	id->ctim = st->st_ctim;
}

static int
storecheck_id_equal(const struct storecheck_id *a,
		    const struct storecheck_id *b)
{
	return a->exists == b->exists &&
	       (!a->exists ||
		(a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
		 a->mtim.tv_sec == b->mtim.tv_sec &&
		 a->mtim.tv_nsec == b->mtim.tv_nsec &&
		 a->ctim.tv_sec == b->ctim.tv_sec &&
		 a->ctim.tv_nsec == b->ctim.tv_nsec));
}

/* The check file's identity now (not existing if stat fails). */
static void
storecheck_check_id(struct storecheck_id *id)
{
	struct stat st;

	storecheck_id_of(stat(sc.check_path, &st) == 0 ? &st : NULL, id);
}

/* Whether the store and its check file agree on the size: then only a
 * change of the store (which store_write renames first) needs a look at
 * the check file again. */
static int
storecheck_pair_matches(void)
{
	return sc.sum.nblocks > 0 && sc.store.exists &&
	       sc.sum.bytes == (long long)sc.store.size;
}

/* Reads the check file again for the store with identity sid. Under the
 * lock. */
static void
storecheck_reload(const struct storecheck_id *sid)
{
	char why[96];
	int rc;

	storesum_free(&sc.sum);
	free(sc.block);
	sc.block = NULL;
	sc.store = *sid;
	storecheck_check_id(&sc.check);
	sc.version++;
	sc.bad = -1;
	sc.limit = 0;
	sc.pair_why[0] = sc.block_why[0] = '\0';
	rc = storesum_load(&sc.sum, sc.check_path, why, sizeof(why));
	if (rc == 0 && (sc.block = calloc((size_t)sc.sum.nblocks, 1)) == NULL) {
		snprintf(why, sizeof(why), "there is no memory to hold it");
		storesum_free(&sc.sum);
		rc = -1;
	}
	if (!sid->exists) {
		sc.state = STORE_NONE;
		return;
	}
	if (rc == 1) {
		sc.state = STORE_UNCHECKED;
		snprintf(sc.pair_why, sizeof(sc.pair_why),
			 "it has no check file (an older version wrote it, or "
			 "it was put there by hand)");
		return;
	}
	sc.state = STORE_DAMAGED;
	if (rc == -1) {
		snprintf(sc.pair_why, sizeof(sc.pair_why),
			 "its check file is damaged: %s", why);
		return;
	}
	sc.limit = sc.sum.bytes < (long long)sid->size ? sc.sum.bytes
						       : (long long)sid->size;
	if (storecheck_pair_matches()) {
		sc.state = STORE_SOUND;
		return;
	}
	snprintf(sc.pair_why, sizeof(sc.pair_why),
		 "it has %lld bytes where its check file says %lld",
		 (long long)sid->size, sc.sum.bytes);
}

/* Brings the record up to date with the store as st shows it (NULL: there
 * is none). Under the lock. Returns 0 if it was, 1 if it read the pair
 * afresh, -1 if the path is too long. */
static int
storecheck_sync(const char *path, const struct stat *st)
{
	struct storecheck_id sid, cid;
	int n;

	if (!sc.loaded || strcmp(sc.path, path) != 0) {
		n = snprintf(sc.path, sizeof(sc.path), "%s", path);
		if (n < 0 || (size_t)n >= sizeof(sc.path) ||
		    store_check_path(path, sc.check_path,
				     sizeof(sc.check_path)) == -1) {
			sc.loaded = 0;
			log_err("digit store: the path %s is too long", path);
			return -1;
		}
		sc.loaded = 1;
		/* Forces the reload below. */
		memset(&sc.store, 0, sizeof(sc.store));
		sc.store.ino = (ino_t)-1;
		sc.store.exists = -1;
	}
	storecheck_id_of(st, &sid);
	if (storecheck_id_equal(&sid, &sc.store)) {
		if (storecheck_pair_matches())
			return 0;
		storecheck_check_id(&cid);
		if (storecheck_id_equal(&cid, &sc.check))
			return 0;
	}
	storecheck_reload(&sid);
	return 1;
}

int
storecheck_open(struct storecheck_file *f, const char *path)
{
	struct timespec pause = { 0, 1000000L };
	int rc, i, fresh = 0, other;

	f->version = 0;
	if ((f->fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 &&
	    errno != ENOENT) {
		log_err("digit store: %s: %s", path, strerror(errno));
		return -1;
	}
	if (f->fd != -1 && fstat(f->fd, &f->st) == -1) {
		log_err("digit store: %s: %s", path, strerror(errno));
		close(f->fd);
		f->fd = -1;
		return -1;
	}
	for (i = 0;; i++) {
		pthread_mutex_lock(&sc.lock);
		rc = storecheck_sync(path, f->fd != -1 ? &f->st : NULL);
		f->version = sc.version;
		other = sc.store.exists == 1 && !storecheck_pair_matches();
		pthread_mutex_unlock(&sc.lock);
		fresh |= rc == 1;
		/*
		 * A store just read with no check file, or one for another
		 * size, may be store_write between its two renames (the
		 * store's, then the check file's), which follow each other
		 * within microseconds: looking again a little later, outside
		 * the lock, keeps that from passing for damage.
		 */
		if (rc == -1 || !fresh || !other || i == STORECHECK_PAIR_TRIES)
			break;
		nanosleep(&pause, NULL);
	}
	if (rc == -1 && f->fd != -1) {
		close(f->fd);
		f->fd = -1;
	}
	return rc == -1 ? -1 : 0;
}

/* Reads len bytes at off from fd into buf. Returns 0, or -1 with errno
 * set (0 if the file ended first). */
static int
storecheck_pread(int fd, char *buf, long long len, long long off)
{
	long long done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, buf + done, (size_t)(len - done),
			  (off_t)(off + done));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = 0;
			return -1;
		}
		done += n;
	}
	return 0;
}

/* Records block i as checked, good or not (why says how not), if the
 * record is still f's. Under the lock. */
static void
storecheck_mark(const struct storecheck_file *f, long long i, int good,
		const char *why)
{
	long long off, len;

	if (sc.version != f->version || sc.block == NULL)
		return;
	sc.block[i] = good ? STORECHECK_GOOD : STORECHECK_BAD;
	if (good || (sc.bad != -1 && sc.bad <= i))
		return;
	storesum_block_range(&sc.sum, i, &off, &len);
	sc.bad = i;
	if (off < sc.limit)
		sc.limit = off;
	sc.state = STORE_DAMAGED;
	snprintf(sc.block_why, sizeof(sc.block_why),
		 "block %lld (bytes %lld to %lld) %s", i, off, off + len - 1,
		 why);
	log_debug("digit store %s: %s", sc.path, sc.block_why);
}

/* Checks block i of f against crc want, reading it into buf. Returns 1 if
 * it matches, else 0 with a phrase in why. */
static int
storecheck_block(const struct storecheck_file *f, long long off, long long len,
		 uint32_t want, char *buf, char *why, size_t whylen)
{
	if (off + len > (long long)f->st.st_size) {
		snprintf(why, whylen,
			 "is cut short: the store ends at byte %lld",
			 (long long)f->st.st_size);
		return 0;
	}
	if (storecheck_pread(f->fd, buf, len, off) == -1) {
		snprintf(why, whylen, "cannot be read: %s",
			 errno ? strerror(errno) : "the store shrank");
		return 0;
	}
	if (crc32c(0, buf, (size_t)len) != want) {
		snprintf(why, whylen, "does not match its check");
		return 0;
	}
	return 1;
}

long long
storecheck_servable(struct storecheck_file *f, long long first, long long len)
{
	long long end, lim, i, from = -1, need, off, blen, bsize, got = 0;
	char why[96], *buf = NULL;
	uint32_t want;
	int good;

	if (f->fd == -1 || first < 0 || len <= 0)
		return 0;
	end = len > LLONG_MAX - first ? LLONG_MAX : first + len;
	for (;;) {
		pthread_mutex_lock(&sc.lock);
		if (sc.version != f->version || sc.block == NULL) {
			pthread_mutex_unlock(&sc.lock);
			break;
		}
		lim = end < sc.limit ? end : sc.limit;
		need = -1;
		i = from > first / sc.sum.block ? from : first / sc.sum.block;
		for (; i * sc.sum.block < lim; i++) {
			if (sc.block[i] == STORECHECK_BAD) {
				lim = i * sc.sum.block;
				break;
			}
			if (sc.block[i] == STORECHECK_UNCHECKED) {
				need = i;
				break;
			}
		}
		if (need == -1) {
			got = lim > first ? lim - first : 0;
			pthread_mutex_unlock(&sc.lock);
			break;
		}
		want = sc.sum.crc[need];
		bsize = sc.sum.block;
		storesum_block_range(&sc.sum, need, &off, &blen);
		pthread_mutex_unlock(&sc.lock);
		/* Read and summed outside the lock: other threads go on
		 * reading the blocks already checked. The block size holds
		 * while the version does. */
		if (buf == NULL && (buf = malloc((size_t)bsize)) == NULL) {
			log_err("digit store: out of memory checking a block");
			got = off > first ? off - first : 0;
			break;
		}
		good =
		    storecheck_block(f, off, blen, want, buf, why, sizeof(why));
		pthread_mutex_lock(&sc.lock);
		storecheck_mark(f, need, good, why);
		pthread_mutex_unlock(&sc.lock);
		from = need + 1;
	}
	free(buf);
	return got;
}

void
storecheck_view(struct store_view *v)
{
	long long off, len;

	memset(v, 0, sizeof(*v));
	pthread_mutex_lock(&sc.lock);
	v->state = sc.state;
	v->bytes = sc.store.exists == 1 ? (long long)sc.store.size : 0;
	v->held = sc.sum.bytes > v->bytes ? sc.sum.bytes : v->bytes;
	v->intact = sc.limit;
	v->bad_first = v->bad_last = -1;
	if (sc.bad != -1) {
		storesum_block_range(&sc.sum, sc.bad, &off, &len);
		v->bad_first = off;
		v->bad_last = off + len - 1;
	}
	v->version = sc.version;
	snprintf(v->why, sizeof(v->why), "%s%s%s", sc.pair_why,
		 sc.pair_why[0] && sc.block_why[0] ? "; " : "", sc.block_why);
	pthread_mutex_unlock(&sc.lock);
}

int
storecheck_close(struct storecheck_file *f)
{
	struct storecheck_id was, now;
	struct stat st;
	int same = 1;

	if (f->fd != -1) {
		storecheck_id_of(&f->st, &was);
		storecheck_id_of(fstat(f->fd, &st) == 0 ? &st : NULL, &now);
		same = storecheck_id_equal(&was, &now);
		close(f->fd);
		f->fd = -1;
	}
	pthread_mutex_lock(&sc.lock);
	same = same && sc.version == f->version;
	pthread_mutex_unlock(&sc.lock);
	return same;
}
