/* search_build.c: the search section's C part: times the build of the
 * search index of a store, and a memmem scan of that store for queries,
 * the peer the index is measured against.
 *
 *   search_build STORE QUERIES [SCANS]
 *
 * Builds STORE's index (common/searchidx.c, as the worker does), then
 * counts each of the first SCANS (default 50) lines of QUERIES in the
 * store with memmem, as a search without an index would have to, the
 * first start and every other. Prints "name value" lines for
 * bench/search.py. Exits 1 if the build failed. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "searchidx.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Times a memmem count of each query over the store. Returns 0 or -1. */
static int
scan_queries(const char *store, const char *queries, int scans)
{
	char line[64];
	double *t = NULL, t0;
	long long total = 0;
	const char *d;
	struct stat st;
	FILE *f = NULL;
	int fd, n = 0, rc = -1;

	if ((fd = open(store, O_RDONLY)) == -1 || fstat(fd, &st) == -1)
		return -1;
	d = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (d == MAP_FAILED)
		return -1;
	if ((f = fopen(queries, "r")) == NULL ||
	    (t = calloc((size_t)scans, sizeof(*t))) == NULL)
		goto out;
	/* Once through first: the store in the page cache, as the index. */
	t0 = now_ms();
	total += memmem(d, (size_t)st.st_size, "0123456789x", 11) != NULL;
	printf("memmem_warm_ms %.1f\n", now_ms() - t0);
	while (n < scans && fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\n");
		const char *p = d + 1, *end = d + st.st_size, *hit;
		long long count = 0;

		if (len == 0)
			continue;
		t0 = now_ms();
		while ((hit = memmem(p, (size_t)(end - p), line, len)) !=
		       NULL) {
			count++;
			p = hit + 1;
		}
		t[n++] = now_ms() - t0;
		total += count;
	}
	if (n == 0)
		goto out;
	qsort(t, (size_t)n, sizeof(*t), cmp_double);
	/* Printed, so that the scans' results are used: a loop whose
	 * result nothing reads may be left out by the compiler. */
	printf("memmem_scans %d\n", n);
	printf("memmem_found %lld\n", total);
	printf("memmem_p50_ms %.2f\n", t[(n - 1) / 2]);
	printf("memmem_p99_ms %.2f\n", t[(n * 99 + 99) / 100 - 1]);
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(t);
	munmap((void *)d, (size_t)st.st_size);
	return rc;
}

int
main(int argc, char **argv)
{
	char err[400], idx[4096];
	struct stat st;
	double t0;

	if (argc < 3) {
		fprintf(stderr, "usage: search_build STORE QUERIES [SCANS]\n");
		return 2;
	}
	log_init("search_build", LOG_LEVEL_INFO);
	t0 = now_ms();
	if (searchidx_build(argv[1], err, sizeof(err)) == -1) {
		fprintf(stderr, "search_build: %s\n", err);
		return 1;
	}
	printf("build_ms %.0f\n", now_ms() - t0);
	if (searchidx_paths(argv[1], idx, sizeof(idx), NULL, 0) == 0 &&
	    stat(idx, &st) == 0)
		printf("index_bytes %lld\n", (long long)st.st_size);
	if (stat(argv[1], &st) == 0)
		printf("decimals %lld\n", (long long)st.st_size - 1);
	fflush(stdout);
	if (scan_queries(argv[1], argv[2], argc > 3 ? atoi(argv[3]) : 50) ==
	    -1) {
		fprintf(stderr, "search_build: could not scan %s\n", argv[1]);
		return 1;
	}
	return 0;
}
