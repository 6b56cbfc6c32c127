/* test_store.c: the digit store's atomic writes and its checked reads. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "sha256.h"
#include "store.h"
#include "storesum.h"
#include "t.h"

/* Decimals of the checked-store tests: four blocks of 64 KiB, the last
 * short (bytes 196608 to 200000). */
#define BIG 200000

static void
test_missing_store_covers_nothing(const char *path)
{
	T_CHECK(store_decimals(path) == 0, "a missing store holds 0 decimals");
	T_CHECK(store_digit(path, 1) == -1, "a missing store answers no digit");
	{
		long long size = -1;
		char c;

		T_CHECK(
		    store_read_at(path, 0, 1, &c, &size) == 0 && size == 0,
		    "store_read_at of a missing store gives 0 bytes, size 0");
	}
}

static void
test_write_then_read(const char *path)
{
	char err[256], out[8];

	T_CHECK(store_write(path, "14159", 5, err, sizeof(err)) == 0,
		"a store is written");
	T_CHECK(store_decimals(path) == 5, "it holds 5 decimals");
	T_CHECK(store_digit(path, 1) == 1 && store_digit(path, 5) == 9,
		"decimal 1 is 1 and decimal 5 is 9");
	T_CHECK(store_digit(path, 6) == -1, "decimal 6 is not covered");
	T_CHECK(store_digit(path, 0) == -1, "decimal 0 is not a decimal");
	T_CHECK(store_read(path, 2, 3, out) == 0 && memcmp(out, "415", 3) == 0,
		"a range reads back");
	T_CHECK(store_read(path, 4, 3, out) == -1,
		"a range past the end is refused");
}

/* store_read_at: bytes from the "3" on, cut where the file ends. */
static void
test_read_at(const char *path)
{
	char out[16];
	long long size = -1, n;

	n = store_read_at(path, 0, 3, out, &size);
	T_CHECK(n == 3 && memcmp(out, "314", 3) == 0 && size == 6,
		"store_read_at from byte 0 starts with the 3");
	n = store_read_at(path, 4, 10, out, &size);
	T_CHECK(n == 2 && memcmp(out, "59", 2) == 0,
		"store_read_at past the end gives what there is");
	T_CHECK(store_read_at(path, 6, 10, out, &size) == 0 &&
		    store_read_at(path, 99, 10, out, &size) == 0 && size == 6,
		"store_read_at at or after the end gives 0 bytes and the size");
	T_CHECK(store_read_at(path, 2, 0, out, &size) == 0,
		"store_read_at of 0 bytes gives 0");
}

static void
test_failed_write_keeps_old_store(const char *dir, const char *path)
{
	char err[256] = "";
	int rc;

	if (geteuid() == 0) {
		/* Root ignores directory permissions; use a missing
		 * directory instead to make the write fail. */
		char bad[300];

		snprintf(bad, sizeof(bad), "%s/missing/pi-digits.txt", dir);
		rc = store_write(bad, "1415926535", 10, err, sizeof(err));
	} else {
		chmod(dir, 0500);
		rc = store_write(path, "1415926535", 10, err, sizeof(err));
		chmod(dir, 0700);
	}
	T_CHECK(rc == -1 && strstr(err, "Could not save") != NULL,
		"a failed write says so: %s", err);
	T_CHECK(store_decimals(path) == 5 && store_digit(path, 5) == 9,
		"the old store is intact after a failed write");
}

/* Made-up decimals: the store does not care whether they are pi's. */
static char *
big_decimals(void)
{
	char *d = malloc(BIG);
	long long i;

	for (i = 0; d != NULL && i < BIG; i++)
		d[i] = (char)('0' + (i * 7 + i / 13) % 10);
	return d;
}

/*
 * Gives the store a modification time of its own, 10 s back: file times
 * move in clock ticks of a few ms, and a change in the very tick of the
 * write before it would look like no change (see store.h).
 */
static void
mark_changed(const char *path)
{
	struct timespec t[2];

	clock_gettime(CLOCK_REALTIME, &t[0]);
	t[0].tv_sec -= 10;
	t[1] = t[0];
	utimensat(AT_FDCWD, path, t, 0);
}

/* Writes byte c at offset off of path, in place. */
static void
poke(const char *path, long long off, char c)
{
	int fd = open(path, O_WRONLY);

	if (fd == -1 || pwrite(fd, &c, 1, off) != 1)
		T_DIAG("cannot write to %s", path);
	if (fd != -1)
		close(fd);
	mark_changed(path);
}

/* Replaces path with a file of len bytes of text (repeated), by rename. */
static void
replace_file(const char *path, const char *text, long long len)
{
	char tmp[300];
	FILE *fp;
	long long i;
	size_t tl = strlen(text);

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fp = fopen(tmp, "w")) == NULL)
		return;
	for (i = 0; i < len; i++)
		fputc(text[i % (long long)tl], fp);
	fclose(fp);
	rename(tmp, path);
}

/* Writes BIG decimals afresh; returns 0 or -1. */
static int
write_big(const char *path, const char *d)
{
	char err[256];

	return store_write(path, d, BIG, err, sizeof(err));
}

static void
test_write_makes_check(const char *path, const char *d)
{
	char check[300], err[128], hex[SHA256_HEX_LEN + 1];
	unsigned char digest[SHA256_LEN];
	struct storesum sum;
	struct sha256 sha;
	struct store_view v;

	if (!T_CHECK(write_big(path, d) == 0,
		     "a store of %d decimals is "
		     "written",
		     BIG))
		return;
	store_check_path(path, check, sizeof(check));
	T_CHECK(storesum_load(&sum, check, err, sizeof(err)) == 0 &&
		    sum.bytes == BIG + 1 && sum.nblocks == 4 &&
		    sum.block == STORESUM_BLOCK,
		"its check file is written beside it: %d bytes, 4 blocks of "
		"64 KiB",
		BIG + 1);
	sha256_init(&sha);
	sha256_update(&sha, "3", 1);
	sha256_update(&sha, d, BIG);
	sha256_final(&sha, digest);
	T_CHECK(memcmp(digest, sum.sha256, SHA256_LEN) == 0,
		"the check file holds the SHA-256 of the whole store");
	sha256_hex(digest, hex);
	storesum_free(&sum);
	T_CHECK(store_view(path, &v) == 0 && v.state == STORE_SOUND &&
		    v.intact == BIG + 1 && v.held == BIG + 1 &&
		    v.bad_first == -1 && v.why[0] == '\0',
		"a store just written is sound and gives all it holds");
	T_CHECK(store_verify(path, &v) == 0 && v.state == STORE_SOUND &&
		    v.intact == BIG + 1,
		"... every block of it matches");
	T_CHECK(store_check_prefix(path, 1000) == 1000 &&
		    store_check_prefix(path, (long long)BIG + 50) == BIG + 1,
		"store_check_prefix gives what was asked, up to the end");
}

static void
test_flipped_digit(const char *path, const char *d)
{
	struct store_view v;
	char out[5000];
	long long size;

	write_big(path, d);
	T_CHECK(store_digit(path, 150000) == d[149999] - '0',
		"decimal 150000 reads back before it is changed");
	poke(path, 150000, d[149999] == '9' ? '0' : (char)(d[149999] + 1));
	T_CHECK(store_digit(path, 150000) == -1,
		"a changed digit is not given, though its block was read "
		"before the change");
	T_CHECK(store_view(path, &v) == 0 && v.state == STORE_DAMAGED &&
		    v.bad_first == 131072 && v.bad_last == 196607 &&
		    v.intact == 131072 && v.held == BIG + 1,
		"the view names the damaged block's bytes (131072 to 196607)");
	T_CHECK(strstr(v.why, "block 2 (bytes 131072 to 196607) does not "
			      "match its check") != NULL,
		"... and says so: %s", v.why);
	T_CHECK(store_decimals(path) == 131071,
		"the store gives the decimals before that block only");
	T_CHECK(store_digit(path, 131071) == d[131070] - '0',
		"the last decimal before the damaged block is given");
	T_CHECK(store_digit(path, 199999) == -1,
		"nothing after the damaged block is given, sound or not");
	T_CHECK(store_read_at(path, 130000, 5000, out, &size) == 1072 &&
		    size == BIG + 1 && memcmp(out, d + 129999, 1072) == 0,
		"store_read_at stops where the damaged block begins");
	T_CHECK(store_read(path, 130000, 5000, out) == -1,
		"store_read of a range into the damaged block fails");
	T_CHECK(store_check_prefix(path, BIG + 1) == 131072,
		"store_check_prefix gives the intact prefix");
}

static void
test_rewrite_heals(const char *path, const char *d)
{
	struct store_view v;

	write_big(path, d);
	T_CHECK(store_digit(path, 150000) == d[149999] - '0' &&
		    store_view(path, &v) == 0 && v.state == STORE_SOUND &&
		    v.intact == BIG + 1,
		"a store written again is sound again and gives everything");
}

static void
test_truncated(const char *path, const char *d)
{
	struct store_view v;

	write_big(path, d);
	if (truncate(path, 150001) == -1)
		T_DIAG("truncate: cannot");
	T_CHECK(store_view(path, &v) == 0 && v.state == STORE_DAMAGED &&
		    v.bytes == 150001 && v.held == BIG + 1 &&
		    strstr(v.why, "150001 bytes where its check file says "
				  "200001") != NULL,
		"a store cut short is damaged, and held what its check says: "
		"%s",
		v.why);
	T_CHECK(store_verify(path, &v) == 0 && v.intact == 131072 &&
		    v.bad_first == 131072 && strstr(v.why, "cut short") != NULL,
		"its blocks before the cut are given; the cut one is not: %s",
		v.why);
	T_CHECK(store_digit(path, 131071) == d[131070] - '0' &&
		    store_digit(path, 140000) == -1,
		"a decimal before the cut block is given, one in it is not");
}

static void
test_garbage(const char *path, const char *d)
{
	struct store_view v;
	long long size;
	char out[16];

	write_big(path, d);
	replace_file(path, "garbage!", BIG + 1);
	T_CHECK(store_digit(path, 1) == -1 && store_digit(path, 100) == -1,
		"a store replaced by garbage of the same size gives nothing");
	T_CHECK(store_verify(path, &v) == 0 && v.state == STORE_DAMAGED &&
		    v.intact == 0 && v.bad_first == 0,
		"... its first block is the damaged one: %s", v.why);
	T_CHECK(store_read_at(path, 0, 10, out, &size) == 0 && size == BIG + 1,
		"store_read_at gives no byte of it");
}

static void
test_old_format(const char *path, const char *d)
{
	char check[300];
	struct store_view v;

	write_big(path, d);
	store_check_path(path, check, sizeof(check));
	unlink(check);
	T_CHECK(store_view(path, &v) == 0 && v.state == STORE_UNCHECKED &&
		    v.intact == 0 && v.held == BIG + 1 &&
		    strstr(v.why, "no check file") != NULL,
		"a store without a check file (an older version's) is "
		"unchecked: %s",
		v.why);
	T_CHECK(store_digit(path, 1) == -1 && store_decimals(path) == 0,
		"no decimal of it is given");
}

static void
test_check_file_damaged(const char *path, const char *d)
{
	char check[300];
	struct store_view v;

	write_big(path, d);
	store_check_path(path, check, sizeof(check));
	if (truncate(check, 100) == -1)
		T_DIAG("truncate: cannot");
	T_CHECK(store_view(path, &v) == 0 && v.state == STORE_DAMAGED &&
		    v.intact == 0 && strstr(v.why, "check file is damaged"),
		"a store whose check file is cut short gives nothing: %s",
		v.why);
	T_CHECK(store_digit(path, 1) == -1, "... not even decimal 1");
}

/* A store longer than its check file says: what a crash between the two
 * renames of store_write leaves (the new store, the old check file). */
static void
test_longer_than_check(const char *path, const char *d)
{
	char tmp[300];
	struct store_view v;
	FILE *fp;

	write_big(path, d);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	if ((fp = fopen(tmp, "w")) != NULL) {
		fputc('3', fp);
		fwrite(d, 1, BIG, fp);
		fwrite(d, 1, 50000, fp);
		fclose(fp);
		rename(tmp, path);
	}
	T_CHECK(store_verify(path, &v) == 0 && v.state == STORE_DAMAGED &&
		    v.intact == BIG + 1 && v.held == BIG + 50001 &&
		    v.bad_first == -1,
		"a store longer than its check file is given as far as the "
		"check covers, and held its own size: %s",
		v.why);
	T_CHECK(store_digit(path, BIG) == d[BIG - 1] - '0' &&
		    store_digit(path, BIG + 1) == -1,
		"the last decimal covered is given, the next is not");
}

int
main(void)
{
	char dir[] = "/tmp/nthpi-test-store-XXXXXX", path[256], cmd[300];
	char *d;

	log_init("test_store", LOG_LEVEL_ERR + 1);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pi-digits.txt", dir);
	test_missing_store_covers_nothing(path);
	test_write_then_read(path);
	test_read_at(path);
	test_failed_write_keeps_old_store(dir, path);
	if ((d = big_decimals()) != NULL) {
		test_write_makes_check(path, d);
		test_flipped_digit(path, d);
		test_rewrite_heals(path, d);
		test_truncated(path, d);
		test_garbage(path, d);
		test_old_format(path, d);
		test_check_file_damaged(path, d);
		test_longer_than_check(path, d);
		free(d);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
