/* store_check.c: what the digit store's check costs at 10^8 decimals, for
 * make bench: the start-up check, the worker's check of every block, and
 * reads checked against reads as they were before the check, side by side. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crc32c.h"
#include "log.h"
#include "sha256.h"
#include "store.h"
#include "storesum.h"

/* Reads per figure, and how many times each is run (the median counts). */
#define BENCH_READS 20000
#define BENCH_ROUNDS 5
/* pi.txt streams in chunks of this (cgi-bin/page_task.c). */
#define BENCH_CHUNK (256 * 1024)

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends a line to $BENCH_SUMMARY (bench/run.sh's table), and says it. */
static void
bench_summary(const char *figure, const char *value, const char *target,
	      const char *verdict)
{
	const char *path = getenv("BENCH_SUMMARY");
	FILE *fp;

	printf("%-58s %s%s%s\n", figure, value, target[0] ? "  target " : "",
	       target);
	if (path == NULL || (fp = fopen(path, "a")) == NULL)
		return;
	fprintf(fp, "store check\t%s\t%s\t%s\t%s\n", figure, value, target,
		verdict);
	fclose(fp);
}

/* The read as store_read did it before the check: open, fstat, pread,
 * close. Returns 0 or -1. */
static int
bench_read_unchecked(const char *path, long long first, size_t count, char *out)
{
	struct stat st;
	size_t done = 0;
	ssize_t n;
	int fd, rc = -1;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1 ||
	    (unsigned long long)first + count > (unsigned long long)st.st_size)
		goto out;
	while (done < count) {
		n = pread(fd, out + done, count - done, (off_t)first + done);
		if (n <= 0)
			goto out;
		done += (size_t)n;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
bench_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Drops the store from the page cache, so that a read comes from disk. */
static void
bench_drop_cache(const char *path)
{
	int fd = open(path, O_RDONLY);

	if (fd == -1)
		return;
	(void)fdatasync(fd);
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	close(fd);
}

/*
 * Random reads of len decimals from a store of decimals, BENCH_READS of
 * them with the same seed, checked (store_read) or not; returns the median
 * of BENCH_ROUNDS rounds in ns a read.
 */
static double
bench_reads(const char *path, long long decimals, size_t len, int checked)
{
	double t[BENCH_ROUNDS], t0;
	char out[1000];
	int r, i, bad = 0;

	for (r = 0; r < BENCH_ROUNDS; r++) {
		srand(7);
		t0 = bench_now();
		for (i = 0; i < BENCH_READS; i++) {
			long long first =
			    1 +
			    (long long)((double)rand() / RAND_MAX *
					(double)(decimals - (long long)len));

			bad |= checked ? store_read(path, first, len, out)
				       : bench_read_unchecked(path, first, len,
							      out);
		}
		t[r] = (bench_now() - t0) / BENCH_READS * 1e9;
	}
	if (bad)
		fprintf(stderr, "store_check: a read failed\n");
	qsort(t, BENCH_ROUNDS, sizeof(t[0]), bench_cmp);
	return t[BENCH_ROUNDS / 2];
}

/*
 * One read of 1000 decimals in each block of a store the process has not
 * checked yet, so that each pays for checking its block; ns a read.
 */
static double
bench_first_reads(const char *path, long long decimals)
{
	long long b, n = (decimals + 1) / STORESUM_BLOCK;
	char out[1000];
	double t0 = bench_now();

	for (b = 0; b < n; b++)
		if (store_read(path, b * STORESUM_BLOCK + 1, 1000, out) == -1)
			fprintf(stderr, "store_check: a read failed\n");
	return (bench_now() - t0) / (double)n * 1e9;
}

/* Reads the whole store in pi.txt's chunks, checked or not; seconds. */
static double
bench_stream_once(const char *path, long long decimals, int checked,
		  char *chunk)
{
	double t0 = bench_now();
	long long pos;

	for (pos = 1; pos <= decimals; pos += BENCH_CHUNK) {
		size_t len = decimals - pos + 1 < BENCH_CHUNK
				 ? (size_t)(decimals - pos + 1)
				 : BENCH_CHUNK;

		if ((checked
			 ? store_read(path, pos, len, chunk)
			 : bench_read_unchecked(path, pos, len, chunk)) == -1) {
			fprintf(stderr, "store_check: a read failed\n");
			break;
		}
	}
	return bench_now() - t0;
}

/* The median of three bench_stream_once. */
static double
bench_stream(const char *path, long long decimals, int checked, char *chunk)
{
	double t[3];
	int i;

	for (i = 0; i < 3; i++)
		t[i] = bench_stream_once(path, decimals, checked, chunk);
	qsort(t, 3, sizeof(t[0]), bench_cmp);
	return t[1];
}

/* Throughput of the two ways of CRC-32C and of SHA-256 over buf, GB/s. */
static void
bench_digests(const char *buf, size_t len)
{
	unsigned char d[SHA256_LEN];
	struct sha256 sha;
	char v[64];
	double t0, crc_hw, crc_sw, sha_s;
	uint32_t c;

	t0 = bench_now();
	c = crc32c(0, buf, len);
	crc_hw = bench_now() - t0;
	t0 = bench_now();
	c ^= crc32c_portable(0, buf, len);
	crc_sw = bench_now() - t0;
	t0 = bench_now();
	sha256_init(&sha);
	sha256_update(&sha, buf, len);
	sha256_final(&sha, d);
	sha_s = bench_now() - t0;
	if (c != 0)
		fprintf(stderr, "store_check: the two CRC-32C ways differ\n");
	snprintf(v, sizeof(v), "%.0f ms (%.1f GB/s)", crc_hw * 1e3,
		 (double)len / crc_hw / 1e9);
	bench_summary(crc32c_hardware()
			  ? "CRC-32C of 10^8 bytes, CPU instruction (used)"
			  : "CRC-32C of 10^8 bytes, table (used: no SSE4.2)",
		      v, "", "");
	snprintf(v, sizeof(v), "%.0f ms (%.1f GB/s)", crc_sw * 1e3,
		 (double)len / crc_sw / 1e9);
	bench_summary("CRC-32C of 10^8 bytes, table", v, "", "");
	snprintf(v, sizeof(v), "%.0f ms (%.2f GB/s)", sha_s * 1e3,
		 (double)len / sha_s / 1e9);
	bench_summary("SHA-256 of 10^8 bytes (the whole-store digest)", v, "",
		      "");
}

int
main(int argc, char **argv)
{
	long long decimals = argc > 1 ? atoll(argv[1]) : 100000000LL;
	const char *dir = argc > 2 ? argv[2] : "/tmp";
	char path[PATH_MAX], err[256], v[96], *digits, *chunk;
	double t0, t_write, t_start, t_cold, t_warm, t_again;
	double plain1, check1, plain1000, check1000, first1000;
	double s_plain, s_first, s_warm;
	struct store_view view;
	long long i;
	int rc = 1;

	log_init("store_check", LOG_LEVEL_WARN);
	if (decimals < 1000000 ||
	    snprintf(path, sizeof(path), "%s/bench-pi-digits.txt", dir) >=
		(int)sizeof(path))
		return 2;
	digits = malloc((size_t)decimals);
	chunk = malloc(BENCH_CHUNK);
	if (digits == NULL || chunk == NULL)
		return 1;
	/* Made-up decimals: what is checked is the bytes, whatever they
	 * are, and the engine would take 45 s to give pi's. */
	for (i = 0; i < decimals; i++)
		digits[i] = (char)('0' + (i * 7 + i / 13) % 10);
	printf("store of %lld made-up decimals in %s; the check: CRC-32C a "
	       "block of %d bytes\n",
	       decimals, dir, STORESUM_BLOCK);
	bench_digests(digits, (size_t)decimals);

	t0 = bench_now();
	if (store_write(path, digits, (size_t)decimals, err, sizeof(err)) ==
	    -1) {
		fprintf(stderr, "store_check: %s\n", err);
		goto out;
	}
	t_write = bench_now() - t0;
	snprintf(v, sizeof(v), "%.2f s", t_write);
	bench_summary("store_write (digits, check file, fsync, rename)", v, "",
		      "");

	/* What nthpi-fcgi does before serving: the check file against the
	 * store's size, no block read. A fresh process has no record. */
	t0 = bench_now();
	store_view(path, &view);
	t_start = bench_now() - t0;
	snprintf(v, sizeof(v), "%.2f ms", t_start * 1e3);
	bench_summary("start-up check (check file vs size, nthpi-fcgi)", v,
		      "<= 5 ms", t_start <= 0.005 ? "met" : "NOT met");

	/* Reads before any block is checked: each pays for its block. */
	first1000 = bench_first_reads(path, decimals);

	/* What nthpi-worker does at start: every block, from disk and from
	 * the page cache. */
	store_write(path, digits, (size_t)decimals, err, sizeof(err));
	bench_drop_cache(path);
	t0 = bench_now();
	store_verify(path, &view);
	t_cold = bench_now() - t0;
	store_write(path, digits, (size_t)decimals, err, sizeof(err));
	store_verify(path, &view); /* into the page cache */
	store_write(path, digits, (size_t)decimals, err, sizeof(err));
	t0 = bench_now();
	store_verify(path, &view);
	t_warm = bench_now() - t0;
	t0 = bench_now();
	store_verify(path, &view);
	t_again = bench_now() - t0;
	if (view.state != STORE_SOUND || view.intact != decimals + 1)
		fprintf(stderr, "store_check: the store does not verify\n");
	snprintf(v, sizeof(v), "%.0f ms", t_warm * 1e3);
	bench_summary("check of every block, page cache (nthpi-worker start)",
		      v, "<= 100 ms", t_warm <= 0.1 ? "met" : "NOT met");
	snprintf(v, sizeof(v), "%.0f ms", t_cold * 1e3);
	bench_summary("check of every block, from disk (after a reboot)", v, "",
		      "");
	snprintf(v, sizeof(v), "%.3f ms", t_again * 1e3);
	bench_summary("check of every block, all checked already", v, "", "");

	/* Reads once every block is checked: the steady state. */
	plain1 = bench_reads(path, decimals, 1, 0);
	check1 = bench_reads(path, decimals, 1, 1);
	plain1000 = bench_reads(path, decimals, 1000, 0);
	check1000 = bench_reads(path, decimals, 1000, 1);
	snprintf(v, sizeof(v), "%.2f us unchecked, %.2f us checked (%+.0f %%)",
		 plain1 / 1e3, check1 / 1e3, (check1 / plain1 - 1) * 100);
	bench_summary("read of 1 decimal (a task from the store)", v, "", "");
	snprintf(v, sizeof(v), "%.2f us unchecked, %.2f us checked (%+.0f %%)",
		 plain1000 / 1e3, check1000 / 1e3,
		 (check1000 / plain1000 - 1) * 100);
	bench_summary("read of 1000 decimals (/v1/pi)", v, "", "");
	snprintf(v, sizeof(v), "%.2f us (%.0f x unchecked)", first1000 / 1e3,
		 first1000 / plain1000);
	bench_summary("read of 1000 decimals checking its block (first read)",
		      v, "", "");

	/* pi.txt of 10^8: the whole store in 256 KiB chunks. */
	s_plain = bench_stream(path, decimals, 0, chunk);
	store_write(path, digits, (size_t)decimals, err, sizeof(err));
	s_first = bench_stream_once(path, decimals, 1, chunk);
	s_warm = bench_stream(path, decimals, 1, chunk);
	snprintf(v, sizeof(v),
		 "%.0f ms unchecked, %.0f ms checked (%+.0f %%), %.0f ms the "
		 "first time",
		 s_plain * 1e3, s_warm * 1e3, (s_warm / s_plain - 1) * 100,
		 s_first * 1e3);
	bench_summary("read of all 10^8 decimals in 256 KiB chunks (pi.txt)", v,
		      "", "");
	rc = 0;
out:
	unlink(path);
	if (snprintf(err, sizeof(err), "%s.check", path) < (int)sizeof(err))
		unlink(err);
	free(digits);
	free(chunk);
	return rc;
}
