/* test_search_index.c: the search index and the search against a plain scan of
 * the store, for strings of every length from 1 to 20. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pi.h"
#include "search.h"
#include "searchidx.h"
#include "store.h"
#include "t.h"

/* 10^6 decimals: k = 5, so strings shorter, as long as and longer than
 * the index's k are all tried. */
#define DECIMALS 1000000

static char *pi; /* "3" and the decimals: pi[p] is decimal p */
static long long n;

/* What the search must say, by a scan: count, and the first start at or
 * after from, the last before it. */
struct scan {
	long long count, first, last_before;
};

static void
scan(const char *q, long long from, struct scan *s)
{
	size_t len = strlen(q);
	const char *p = pi + 1, *end = pi + n + 1, *hit;

	memset(s, 0, sizeof(*s));
	while ((hit = memmem(p, (size_t)(end - p), q, len)) != NULL) {
		long long at = hit - pi;

		s->count++;
		if (at >= from && s->first == 0)
			s->first = at;
		if (at < from)
			s->last_before = at;
		p = hit + 1;
	}
}

/* Searches q from from and compares everything with the scan. Returns 1
 * if all agree. */
static int
agrees(const char *path, const char *q, long long from)
{
	struct search_answer a, b;
	struct scan s, after;
	size_t len = strlen(q);

	if (search_find(path, q, from, &a) != SEARCH_OK)
		return 0;
	scan(q, from, &s);
	if (a.searched != n || a.count != s.count || a.position != s.first)
		return 0;
	if (a.position == 0)
		return a.previous == s.last_before && a.before[0] == '\0';
	scan(q, a.position + 1, &after);
	if (a.previous != s.last_before || a.next != after.first)
		return 0;
	/* The context: the decimals on each side, cut at 1 and n. */
	{
		long long bs = a.position - SEARCH_CONTEXT < 1
				   ? 1
				   : a.position - SEARCH_CONTEXT;
		long long ae = a.position + (long long)len + SEARCH_CONTEXT;

		if (ae > n + 1)
			ae = n + 1;
		if (strlen(a.before) != (size_t)(a.position - bs) ||
		    memcmp(a.before, pi + bs, strlen(a.before)) != 0 ||
		    strlen(a.after) !=
			(size_t)(ae - a.position - (long long)len) ||
		    memcmp(a.after, pi + a.position + len, strlen(a.after)) !=
			0)
			return 0;
	}
	(void)b;
	return 1;
}

static void
test_index_size_and_fresh(const char *path)
{
	char idx[512], err[400];
	struct stat st;

	T_CHECK(searchidx_paths(path, idx, sizeof(idx), NULL, 0) == 0 &&
		    strstr(idx, "pi-digits.idx") != NULL,
		"the index of pi-digits.txt is pi-digits.idx");
	T_CHECK(!searchidx_fresh(path), "no index is not a fresh one");
	{
		struct search_answer a;

		T_CHECK(search_find(path, "14159", 1, &a) == SEARCH_NOT_READY,
			"without an index the search says it is not ready");
	}
	T_CHECK(searchidx_build(path, err, sizeof(err)) == 0,
		"the index is built (%s)", err);
	T_CHECK(searchidx_fresh(path), "it is fresh for its store");
	if (stat(idx, &st) == -1)
		st.st_size = -1;
	T_CHECK(st.st_size > 0 && st.st_size <= 5 * n,
		"it takes at most 5 bytes a decimal (%.2f)",
		(double)st.st_size / (double)n);
}

static void
test_known_places(const char *path)
{
	struct search_answer a;

	T_CHECK(search_find(path, "14159", 1, &a) == SEARCH_OK &&
		    a.position == 1 && a.previous == 0,
		"14159 starts at decimal 1");
	T_CHECK(search_find(path, "999999", 1, &a) == SEARCH_OK &&
		    a.position == 762,
		"999999 starts at decimal 762");
	T_CHECK(agrees(path, "999999", 1) && agrees(path, "99999", 1) &&
		    agrees(path, "9999", 760) && agrees(path, "99", 763),
		"overlapping occurrences are each counted, as a scan finds");
	T_CHECK(search_find(path, "9999999", 1, &a) == SEARCH_OK &&
		    agrees(path, "9999999", 1),
		"9999999 as a scan finds it (count %lld)", a.count);
	T_CHECK(search_find(path, "14159", 2, &a) == SEARCH_OK &&
		    a.previous == 1 && agrees(path, "14159", 2),
		"from 2, 14159 is found again later, with 1 before it");
	T_CHECK(search_find(path, "1", n + 5, &a) == SEARCH_OK &&
		    a.position == 0 && a.count > 0 && agrees(path, "1", n + 5),
		"from past the end there is none, and the last is before");
}

static void
test_start_and_end(const char *path)
{
	char q[SEARCH_LEN_MAX + 1];
	int len, ok_start = 1, ok_end = 1;

	for (len = 1; len <= SEARCH_LEN_MAX; len++) {
		memcpy(q, pi + 1, (size_t)len);
		q[len] = '\0';
		ok_start &= agrees(path, q, 1);
		memcpy(q, pi + n - len + 1, (size_t)len);
		ok_end &= agrees(path, q, 1) && agrees(path, q, n - len + 1);
	}
	T_CHECK(ok_start, "strings at the very start, every length 1..20");
	T_CHECK(ok_end, "strings at the very end, every length 1..20");
}

static void
test_random(const char *path)
{
	char q[SEARCH_LEN_MAX + 1];
	int len, i, j;

	srandom(13);
	for (len = 1; len <= SEARCH_LEN_MAX; len++) {
		int present = 1, random_digits = 1;

		for (i = 0; i < 20; i++) {
			long long at = 1 + random() % (n - len + 1);
			long long from = 1 + random() % n;

			memcpy(q, pi + at, (size_t)len);
			q[len] = '\0';
			present &=
			    agrees(path, q, 1) && agrees(path, q, from) &&
			    agrees(path, q, at) && agrees(path, q, at + 1);
			for (j = 0; j < len; j++)
				q[j] = (char)('0' + random() % 10);
			random_digits &=
			    agrees(path, q, 1) && agrees(path, q, from);
		}
		T_CHECK(present, "length %d: strings taken from the store",
			len);
		T_CHECK(random_digits,
			"length %d: random strings, present or absent", len);
	}
}

static void
test_damage_and_growth(const char *path)
{
	char idx[512], err[400];
	struct search_answer a;
	int fd;

	searchidx_paths(path, idx, sizeof(idx), NULL, 0);
	/* A byte of the positions changed: the search refuses. */
	fd = open(idx, O_WRONLY);
	T_CHECK(fd != -1 && pwrite(fd, "\xff", 1, 300000) == 1,
		"a byte of the index is changed");
	if (fd != -1)
		close(fd);
	T_CHECK(search_find(path, "1", 1, &a) == SEARCH_OK ||
		    search_find(path, "1", 1, &a) == SEARCH_DAMAGED,
		"a search that does not read the damage may answer");
	{
		int damaged = 0, len;
		char q[SEARCH_LEN_MAX + 1];

		for (len = 5; len <= 8 && !damaged; len++)
			for (long long p = 1; p < n - 8 && !damaged; p += 997) {
				memcpy(q, pi + p, (size_t)len);
				q[len] = '\0';
				damaged = search_find(path, q, 1, &a) ==
					  SEARCH_DAMAGED;
			}
		T_CHECK(damaged, "a search that reads the damaged block is "
				 "refused as damaged");
	}
	/* A store that grew: the old index is not used for it. */
	T_CHECK(store_write(path, pi + 1, (size_t)n - 10, err, sizeof(err)) ==
		    0,
		"the store is written again, another size");
	T_CHECK(!searchidx_fresh(path) &&
		    search_find(path, "14159", 1, &a) == SEARCH_NOT_READY,
		"the index of the store before is not used");
	T_CHECK(searchidx_build(path, err, sizeof(err)) == 0 &&
		    searchidx_fresh(path) &&
		    search_find(path, "14159", 1, &a) == SEARCH_OK &&
		    a.searched == n - 10,
		"rebuilt, it answers for the new store");
}

static void
test_parse(void)
{
	char q[SEARCH_LEN_MAX + 1], err[300];

	T_CHECK(search_parse("  14159 ", q, err, sizeof(err)) == 0 &&
		    strcmp(q, "14159") == 0,
		"surrounding spaces are trimmed");
	T_CHECK(search_parse("", q, err, sizeof(err)) == -1 &&
		    strstr(err, "1 to 20 digits") != NULL,
		"an empty string is refused with a sentence");
	T_CHECK(search_parse("14 159", q, err, sizeof(err)) == -1 &&
		    search_parse("3.14", q, err, sizeof(err)) == -1 &&
		    strstr(err, "digits only") != NULL,
		"anything but digits is refused");
	T_CHECK(search_parse("123456789012345678901", q, err, sizeof(err)) ==
			-1 &&
		    strstr(err, "at most 20") != NULL,
		"21 digits are refused");
	T_CHECK(search_parse("12345678901234567890", q, err, sizeof(err)) == 0,
		"20 digits are taken");
}

int
main(void)
{
	char dir[] = "/tmp/test_search.XXXXXX", path[512], err[400], cmd[600];
	struct pi_params params = { DECIMALS, 1, 0 };
	char *out = NULL;

	log_init("test_search", LOG_LEVEL_ERR + 1);
	test_parse();
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pi-digits.txt", dir);
	if (!T_CHECK(pi_compute(&params, NULL, &out) == PI_OK,
		     "10^6 decimals computed"))
		return T_EXIT();
	n = DECIMALS;
	pi = malloc((size_t)n + 2);
	pi[0] = '3';
	memcpy(pi + 1, out, (size_t)n);
	pi[n + 1] = '\0';
	free(out);
	if (!T_CHECK(store_write(path, pi + 1, (size_t)n, err, sizeof(err)) ==
			 0,
		     "the store is written"))
		return T_EXIT();
	test_index_size_and_fresh(path);
	test_known_places(path);
	test_start_and_end(path);
	test_random(path);
	n -= 10;
	test_damage_and_growth(path);
	free(pi);
	/* This run's directory only: another run may be beside it. */
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
