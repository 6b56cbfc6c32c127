/* test_store.c: the digit store's atomic writes and reads. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "store.h"
#include "t.h"

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

int
main(void)
{
	char dir[] = "/tmp/nthpi-test-store-XXXXXX", path[256], cmd[300];

	log_init("test_store", LOG_LEVEL_ERR + 1);
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/pi-digits.txt", dir);
	test_missing_store_covers_nothing(path);
	test_write_then_read(path);
	test_read_at(path);
	test_failed_write_keeps_old_store(dir, path);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		T_DIAG("could not remove %s", dir);
	return T_EXIT();
}
