/* search.c: finds a string of digits in the digit store through its search
 * index (common/searchidx.h), both mapped, checked block by block. */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "params.h"
#include "search.h"
#include "searchidx.h"
#include "store.h"
#include "storesum.h"

/* Short strings have many buckets of the index to look at; the store
 * around from holds them sooner. A scan this long finds a string of up to
 * 4 digits but with odds of e^-400 against. */
#define SEARCH_SCAN_MAX (4LL << 20)
/* A string with more buckets than this is looked for by a scan first. */
#define SEARCH_BUCKETS_MAX 100

/* An index and the store it was built from, mapped; shared by threads,
 * unmapped by the last to let go. */
struct search_map {
	int refs;
	/* As opened: a change of any means another map. */
	struct stat idx_st, check_st, store_st;
	const unsigned char *idx;
	size_t idx_size;
	const char *store; /* store[p] is decimal p; store[0] the "3" */
	size_t store_size;
	long long n;    /* decimals */
	long long npos; /* positions in the index: n - k + 1 */
	int k;
	uint32_t nv; /* 10^k */
	const uint32_t *starts, *pos;
	struct storesum sum;    /* the index's check */
	unsigned char *checked; /* per block: 0 not yet, 1 sound, 2 damaged */
};

static pthread_mutex_t search_lock = PTHREAD_MUTEX_INITIALIZER;
static struct search_map *search_current;

int
search_parse(const char *typed, char *q, char *err, size_t errlen)
{
	size_t len = typed != NULL ? strlen(typed) : 0, i;
	const char *s = typed != NULL ? params_trim(typed, &len) : "";

	if (len == 0) {
		snprintf(err, errlen,
			 "Type a string of 1 to %d digits to search for, such "
			 "as 14159 or a birthday like 14031879.",
			 SEARCH_LEN_MAX);
		return -1;
	}
	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9') {
			snprintf(err, errlen,
				 "Type digits only, 0 to 9, with no other "
				 "sign between them: 1 to %d of them, such as "
				 "14159.",
				 SEARCH_LEN_MAX);
			return -1;
		}
	if (len > SEARCH_LEN_MAX) {
		snprintf(err, errlen,
			 "A search takes at most %d digits, and this has %zu. "
			 "Type a shorter string.",
			 SEARCH_LEN_MAX, len);
		return -1;
	}
	memcpy(q, s, len);
	q[len] = '\0';
	return 0;
}

static void
search_map_free(struct search_map *m)
{
	if (m == NULL)
		return;
	if (m->idx != NULL)
		munmap((void *)m->idx, m->idx_size);
	if (m->store != NULL)
		munmap((void *)m->store, m->store_size);
	storesum_free(&m->sum);
	free(m->checked);
	free(m);
}

/* Returns 1 if the index's bytes [off, off + len) match its check,
 * checking each block the first time any thread needs it. */
static int
search_idx_ok(struct search_map *m, long long off, long long len)
{
	long long b, last, boff, blen;

	if (len <= 0)
		return 1;
	last = (off + len - 1) / m->sum.block;
	for (b = off / m->sum.block; b <= last; b++) {
		unsigned char s =
		    __atomic_load_n(&m->checked[b], __ATOMIC_ACQUIRE);

		if (s == 0) {
			storesum_block_range(&m->sum, b, &boff, &blen);
			s = crc32c(0, m->idx + boff, (size_t)blen) ==
				    m->sum.crc[b]
				? 1
				: 2;
			if (s == 2)
				log_err("search index: block %lld (bytes %lld "
					"to %lld) does not match its check; "
					"searches fail until the worker "
					"builds it again (restart it)",
					b, boff, boff + blen - 1);
			__atomic_store_n(&m->checked[b], s, __ATOMIC_RELEASE);
		}
		if (s != 1)
			return 0;
	}
	return 1;
}

/* Maps path read-only. Returns the mapping or NULL; sets *st. */
static const void *
search_map_file(const char *path, struct stat *st)
{
	void *p;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return NULL;
	if (fstat(fd, st) == -1 || st->st_size == 0) {
		close(fd);
		return NULL;
	}
	p = mmap(NULL, (size_t)st->st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * Opens the index of the store at store_path and the store, checking that
 * they belong together. Returns the map with one reference, or NULL with
 * *rc saying why.
 */
static struct search_map *
search_map_open(const char *store_path, const char *idx, const char *check,
		enum search_rc *rc)
{
	const struct searchidx_header *h;
	char storecheck[PATH_MAX], why[200] = "";
	struct storesum ssum = { 0 };
	struct search_map *m;
	int r;

	*rc = SEARCH_NOT_READY;
	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->refs = 1;
	if (stat(check, &m->check_st) == -1 ||
	    (r = storesum_load(&m->sum, check, why, sizeof(why))) == 1)
		goto fail;
	if ((m->idx = search_map_file(idx, &m->idx_st)) == NULL)
		goto fail;
	m->idx_size = (size_t)m->idx_st.st_size;
	/* A check file of another size is the one before, or the one to
	 * come: the two are renamed one after the other. */
	if (r == -1 || m->sum.bytes != (long long)m->idx_size ||
	    m->idx_size < SEARCHIDX_HEADER)
		goto fail;
	if ((m->checked = calloc((size_t)m->sum.nblocks, 1)) == NULL)
		goto fail;
	if (!search_idx_ok(m, 0, SEARCHIDX_HEADER)) {
		*rc = SEARCH_DAMAGED;
		goto fail;
	}
	h = (const struct searchidx_header *)m->idx;
	if (memcmp(h->magic, SEARCHIDX_MAGIC, sizeof(SEARCHIDX_MAGIC)) != 0 ||
	    h->k < 1 || h->k > SEARCHIDX_K_MAX ||
	    (long long)h->decimals > SEARCHIDX_DECIMALS_MAX ||
	    searchidx_file_bytes((long long)h->decimals) !=
		(long long)m->idx_size ||
	    (int)h->k != searchidx_k((long long)h->decimals)) {
		*rc = SEARCH_DAMAGED;
		log_err("search index %s: its header does not hold together",
			idx);
		goto fail;
	}
	m->n = (long long)h->decimals;
	m->k = (int)h->k;
	m->nv = searchidx_values(m->k);
	m->npos = m->n >= m->k ? m->n - m->k + 1 : 0;
	m->starts = (const uint32_t *)(m->idx + SEARCHIDX_HEADER);
	m->pos = m->starts + m->nv + 1;
	/* The store it was built from, as it is now: a store that grew has
	 * its index built again, and meanwhile there is none. */
	if (store_check_path(store_path, storecheck, sizeof(storecheck)) ==
		-1 ||
	    storesum_load(&ssum, storecheck, why, sizeof(why)) != 0 ||
	    ssum.bytes != (long long)h->store_bytes ||
	    memcmp(ssum.sha256, h->store_sha256, SHA256_LEN) != 0)
		goto fail;
	if ((m->store = search_map_file(store_path, &m->store_st)) == NULL)
		goto fail;
	m->store_size = (size_t)m->store_st.st_size;
	if ((long long)m->store_size != ssum.bytes)
		goto fail;
	/* Every block of the store, once a process and store (about 40 ms
	 * at 10^8 decimals): the search reads it anywhere. */
	if (store_check_prefix(store_path, ssum.bytes) != ssum.bytes) {
		*rc = SEARCH_DAMAGED;
		goto fail;
	}
	storesum_free(&ssum);
	*rc = SEARCH_OK;
	return m;
fail:
	storesum_free(&ssum);
	search_map_free(m);
	return NULL;
}

static int
search_same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	       a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	       a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Takes a reference to the map of the current index, opening it if it
 * changed. Returns it, or NULL with *rc saying why. */
static struct search_map *
search_acquire(const char *store_path, enum search_rc *rc)
{
	char idx[PATH_MAX], check[PATH_MAX];
	struct stat ist, cst, sst;
	struct search_map *m, *old = NULL;

	*rc = SEARCH_NOT_READY;
	if (searchidx_paths(store_path, idx, sizeof(idx), check,
			    sizeof(check)) == -1 ||
	    stat(idx, &ist) == -1 || stat(check, &cst) == -1 ||
	    stat(store_path, &sst) == -1)
		return NULL;
	pthread_mutex_lock(&search_lock);
	m = search_current;
	/* A new store has no index until the worker builds one for it,
	 * even where the one before still fits its first decimals: every
	 * process then answers alike. */
	if (m == NULL || !search_same_file(&m->idx_st, &ist) ||
	    !search_same_file(&m->check_st, &cst) ||
	    !search_same_file(&m->store_st, &sst)) {
		old = search_current;
		search_current = m =
		    search_map_open(store_path, idx, check, rc);
		if (old != NULL && --old->refs > 0)
			old = NULL;
	}
	if (m != NULL) {
		m->refs++;
		*rc = SEARCH_OK;
	}
	pthread_mutex_unlock(&search_lock);
	search_map_free(old);
	return m;
}

static void
search_release(struct search_map *m)
{
	int last;

	pthread_mutex_lock(&search_lock);
	last = --m->refs == 0;
	pthread_mutex_unlock(&search_lock);
	if (last)
		search_map_free(m);
}

/* Whether q (len digits) starts at decimal p. */
static int
search_at(const struct search_map *m, const char *q, size_t len, long long p)
{
	return p >= 1 && p + (long long)len - 1 <= m->n &&
	       memcmp(m->store + p, q, len) == 0;
}

/* The value of the first digits (at most k) of q. */
static uint32_t
search_value(const char *q, size_t len)
{
	uint32_t v = 0;
	size_t i;

	for (i = 0; i < len; i++)
		v = v * 10 + (uint32_t)(q[i] - '0');
	return v;
}

/* The first i in pos[lo..hi) with pos[i] >= p. */
static uint32_t
search_lower_bound(const struct search_map *m, uint32_t lo, uint32_t hi,
		   long long p)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if ((long long)m->pos[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The query's buckets: the values its first k digits may start. */
struct search_query {
	const char *q;
	size_t len;
	uint32_t blo, bhi; /* values [blo, bhi) */
	long long tail;    /* the first start the index does not hold */
	int damaged;       /* a bucket read was found not to match its check */
};

static void
search_query_init(const struct search_map *m, const char *q, size_t len,
		  struct search_query *sq)
{
	size_t head = len < (size_t)m->k ? len : (size_t)m->k;
	uint32_t span = searchidx_values(m->k - (int)head);

	sq->q = q;
	sq->len = len;
	sq->blo = search_value(q, head) * span;
	sq->bhi = sq->blo + span;
	sq->tail = m->npos + 1;
	sq->damaged = 0;
}

/* Returns 1 if the index's part the query's buckets use is sound. */
static int
search_buckets_ok(struct search_map *m, const struct search_query *sq)
{
	long long s = SEARCHIDX_HEADER + 4LL * sq->blo;

	if (!search_idx_ok(m, s, 4LL * (sq->bhi - sq->blo + 1)))
		return 0;
	return search_idx_ok(
	    m,
	    (long long)((const unsigned char *)(m->pos + m->starts[sq->blo]) -
			m->idx),
	    4LL * (m->starts[sq->bhi] - m->starts[sq->blo]));
}

/* The first start >= from in the index's buckets, or 0. */
static long long
search_buckets_first(const struct search_map *m, const struct search_query *sq,
		     long long from)
{
	long long best = 0;
	uint32_t b, i, hi;

	for (b = sq->blo; b < sq->bhi; b++) {
		hi = m->starts[b + 1];
		for (i = search_lower_bound(m, m->starts[b], hi, from); i < hi;
		     i++) {
			long long p = m->pos[i];

			if (best != 0 && p >= best)
				break;
			if (search_at(m, sq->q, sq->len, p)) {
				best = p;
				break;
			}
		}
	}
	return best;
}

/* The last start < before in the index's buckets, or 0. */
static long long
search_buckets_last(const struct search_map *m, const struct search_query *sq,
		    long long before)
{
	long long best = 0;
	uint32_t b, i, lo;

	for (b = sq->blo; b < sq->bhi; b++) {
		lo = m->starts[b];
		for (i = search_lower_bound(m, lo, m->starts[b + 1], before);
		     i > lo; i--) {
			long long p = m->pos[i - 1];

			if (p <= best)
				break;
			if (search_at(m, sq->q, sq->len, p)) {
				best = p;
				break;
			}
		}
	}
	return best;
}

/* The first start >= from past the index's positions (the last k - 1
 * decimals), or 0. */
static long long
search_tail_first(const struct search_map *m, const struct search_query *sq,
		  long long from)
{
	long long p = from > sq->tail ? from : sq->tail;

	for (; p + (long long)sq->len - 1 <= m->n; p++)
		if (search_at(m, sq->q, sq->len, p))
			return p;
	return 0;
}

static long long
search_tail_last(const struct search_map *m, const struct search_query *sq,
		 long long before)
{
	long long p = m->n - (long long)sq->len + 1;

	if (p > before - 1)
		p = before - 1;
	for (; p >= sq->tail; p--)
		if (search_at(m, sq->q, sq->len, p))
			return p;
	return 0;
}

/* Finds the first start >= from by a scan of up to SEARCH_SCAN_MAX
 * decimals. Returns it, 0 if there is none, -1 if the scan stopped short. */
static long long
search_scan_first(const struct search_map *m, const struct search_query *sq,
		  long long from)
{
	long long end = from + SEARCH_SCAN_MAX + (long long)sq->len - 1;
	const char *hit;

	if (end > m->n + 1)
		end = m->n + 1;
	if (from >= end)
		return 0;
	hit = memmem(m->store + from, (size_t)(end - from), sq->q, sq->len);
	if (hit != NULL)
		return hit - m->store;
	return end == m->n + 1 ? 0 : -1;
}

/* The last start < before by scans of growing windows back from before.
 * Returns it, 0 if there is none, -1 if the scans stopped short. */
static long long
search_scan_last(const struct search_map *m, const struct search_query *sq,
		 long long before)
{
	long long w, a, e = before - 1 + (long long)sq->len, last = 0;
	const char *hit;

	if (e > m->n + 1)
		e = m->n + 1;
	for (w = 256; w <= SEARCH_SCAN_MAX; w *= 16) {
		a = before - w > 1 ? before - w : 1;
		while (a < e && (hit = memmem(m->store + a, (size_t)(e - a),
					      sq->q, sq->len)) != NULL) {
			last = hit - m->store;
			a = last + 1;
		}
		if (last != 0 || before - w <= 1)
			return last;
	}
	return -1;
}

/* Before the buckets of a short string are read (a scan stopped short,
 * which almost never happens): they were not checked with the rest. */
static int
search_many_buckets_ok(struct search_map *m, struct search_query *sq)
{
	if (sq->bhi - sq->blo > SEARCH_BUCKETS_MAX &&
	    !search_buckets_ok(m, sq)) {
		sq->damaged = 1;
		return 0;
	}
	return 1;
}

static long long
search_first(struct search_map *m, struct search_query *sq, long long from)
{
	long long p, t;

	if (from > m->n)
		return 0;
	if (sq->bhi - sq->blo > SEARCH_BUCKETS_MAX &&
	    (p = search_scan_first(m, sq, from)) >= 0)
		return p;
	if (!search_many_buckets_ok(m, sq))
		return 0;
	p = search_buckets_first(m, sq, from);
	if (p != 0)
		return p;
	t = search_tail_first(m, sq, from);
	return t;
}

static long long
search_last(struct search_map *m, struct search_query *sq, long long before)
{
	long long p;

	if (before <= 1)
		return 0;
	if (sq->bhi - sq->blo > SEARCH_BUCKETS_MAX &&
	    (p = search_scan_last(m, sq, before)) >= 0)
		return p;
	if (!search_many_buckets_ok(m, sq))
		return 0;
	/* The tail's starts all lie after the index's. */
	if ((p = search_tail_last(m, sq, before)) != 0)
		return p;
	return search_buckets_last(m, sq, before);
}

static long long
search_count(const struct search_map *m, const struct search_query *sq)
{
	long long c = 0, p;
	uint32_t i;

	if (sq->len <= (size_t)m->k)
		c = (long long)m->starts[sq->bhi] - m->starts[sq->blo];
	else
		for (i = m->starts[sq->blo]; i < m->starts[sq->bhi]; i++)
			c += search_at(m, sq->q, sq->len, m->pos[i]);
	for (p = sq->tail; p + (long long)sq->len - 1 <= m->n; p++)
		c += search_at(m, sq->q, sq->len, p);
	return c;
}

/* Copies decimals [a, b) into out, clipped to 1..n. */
static void
search_context(const struct search_map *m, long long a, long long b, char *out)
{
	if (a < 1)
		a = 1;
	if (b > m->n + 1)
		b = m->n + 1;
	if (b < a)
		b = a;
	memcpy(out, m->store + a, (size_t)(b - a));
	out[b - a] = '\0';
}

enum search_rc
search_find(const char *store_path, const char *q, long long from,
	    struct search_answer *a)
{
	struct search_query sq;
	struct search_map *m;
	enum search_rc rc;
	long long end;

	memset(a, 0, sizeof(*a));
	if ((m = search_acquire(store_path, &rc)) == NULL)
		return rc;
	search_query_init(m, q, strlen(q), &sq);
	/* The buckets are read only where a string has few of them; a short
	 * string's count reads two starts. */
	if (!search_idx_ok(m, SEARCHIDX_HEADER + 4LL * sq.blo, 4) ||
	    !search_idx_ok(m, SEARCHIDX_HEADER + 4LL * sq.bhi, 4) ||
	    (sq.bhi - sq.blo <= SEARCH_BUCKETS_MAX &&
	     !search_buckets_ok(m, &sq))) {
		search_release(m);
		return SEARCH_DAMAGED;
	}
	a->searched = m->n;
	a->count = search_count(m, &sq);
	if (a->count > 0) {
		if (from < 1)
			from = 1;
		a->position = search_first(m, &sq, from);
		a->previous =
		    search_last(m, &sq, a->position ? a->position : from);
		if (a->position != 0) {
			a->next = search_first(m, &sq, a->position + 1);
			end = a->position + (long long)sq.len;
			search_context(m, a->position - SEARCH_CONTEXT,
				       a->position, a->before);
			search_context(m, end, end + SEARCH_CONTEXT, a->after);
		}
	}
	search_release(m);
	return sq.damaged ? SEARCH_DAMAGED : SEARCH_OK;
}
