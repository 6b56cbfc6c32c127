/* test_pi_known.c: the worker's table of published prefixes agrees with
 * tests/data/pi-prefix.sha256, its check tells right digits from wrong
 * ones, and the engine's 10^6 decimals pass it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pi.h"
#include "pi_known.h"
#include "t.h"

#define DATA_DIR "tests/data"

/* The table and the data file list the same prefixes, line for line. */
static void
test_table_matches_data(void)
{
	char line[256], hex[128];
	long long n;
	FILE *fp = fopen(DATA_DIR "/pi-prefix.sha256", "r");
	int i = 0, same = 1;

	if (!T_CHECK(fp != NULL, "tests/data/pi-prefix.sha256 opens"))
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (line[0] == '#' || sscanf(line, "%lld %127s", &n, hex) != 2)
			continue;
		if (i >= PI_KNOWN_COUNT || pi_known_prefixes[i].decimals != n ||
		    strcmp(pi_known_prefixes[i].sha256, hex) != 0) {
			T_DIAG("line for %lld differs from the table", n);
			same = 0;
		}
		i++;
	}
	fclose(fp);
	T_CHECK(same && i == PI_KNOWN_COUNT,
		"the table holds the %d lines of pi-prefix.sha256, in order",
		i);
	for (i = 1; i < PI_KNOWN_COUNT; i++)
		same &= pi_known_prefixes[i - 1].decimals <
			pi_known_prefixes[i].decimals;
	T_CHECK(same, "the table runs from the smallest prefix up");
}

static void
test_check(void)
{
	char buf[10100];
	FILE *fp = fopen(DATA_DIR "/pi-10000.txt", "r");
	size_t len = 0;

	if (fp != NULL) {
		len = fread(buf, 1, sizeof(buf) - 1, fp);
		fclose(fp);
	}
	while (len > 0 && buf[len - 1] == '\n')
		len--;
	if (!T_CHECK(len == 10001, "pi-10000.txt holds 3 and 10000 decimals"))
		return;
	T_CHECK(pi_known_check(buf + 1, 10000) == 0,
		"pi's first 10000 decimals pass the check");
	T_CHECK(pi_known_check(buf + 1, 9999) == 0,
		"fewer decimals than the smallest prefix pass: nothing to "
		"check");
	buf[5000] = buf[5000] == '9' ? '0' : (char)(buf[5000] + 1);
	T_CHECK(pi_known_check(buf + 1, 10000) == 10000,
		"one wrong digit in them fails the 10^4 prefix");
	T_CHECK(pi_known_check(buf + 1, 9999) == 0,
		"... which a shorter output is not checked against");
}

/* The engine's 10^6 decimals pass the check of the 10^4 and 10^6 prefixes. */
static void
test_engine_million(void)
{
	struct pi_params p = { 1000000, 2, 0 };
	char *d = NULL;

	T_CHECK(pi_compute(&p, NULL, &d) == PI_OK &&
		    pi_known_check(d, p.decimals) == 0,
		"the engine's 10^6 decimals match the published SHA-256");
	free(d);
}

int
main(void)
{
	test_table_matches_data();
	test_check();
	test_engine_million();
	return T_EXIT();
}
