/* test_config.c: settings from defaults, files and --key=value flags. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "t.h"

static void
test_defaults_derive_paths(void)
{
	struct config c;
	char err[256];
	char *argv[] = { "prog", NULL };

	config_defaults(&c);
	T_CHECK(config_from_args(&c, 1, argv, err, sizeof(err)) == 0 &&
		    strcmp(c.db_path, "var/nthpi.db") == 0 &&
		    strcmp(c.store_path, "var/pi-digits.txt") == 0 &&
		    strcmp(c.socket_path, "var/nthpi-fcgi.sock") == 0,
		"defaults put everything under var/");
	T_CHECK(c.n_max == 100000000LL, "n_max defaults to 10^8 (%lld)",
		c.n_max);
}

static void
test_flags_override(void)
{
	struct config c;
	char err[256];
	char *argv[] = { "prog", "--data=/tmp/x", "--n-max=500", "--children=2",
			 NULL };

	config_defaults(&c);
	T_CHECK(config_from_args(&c, 4, argv, err, sizeof(err)) == 0 &&
		    c.n_max == 500 && c.children == 2 &&
		    strcmp(c.db_path, "/tmp/x/nthpi.db") == 0,
		"--key=value flags set values and paths follow data");
}

static void
test_bad_values_are_refused(void)
{
	static char *bad[][2] = {
		{ "prog", "--n_max=0" },   { "prog", "--n_max=1e3" },
		{ "prog", "--n_max=-5" },  { "prog", "--n_max=2000000000" },
		{ "prog", "--children=" }, { "prog", "--nosuch=1" },
		{ "prog", "stray" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;
		char err[256] = "";

		config_defaults(&c);
		T_CHECK(config_from_args(&c, 2, bad[i], err, sizeof(err)) ==
				-1 &&
			    err[0] != '\0',
			"%s is refused: %s", bad[i][1], err);
	}
}

static void
test_file_is_read(void)
{
	char path[] = "/tmp/nthpi-test-config-XXXXXX", err[256] = "";
	const char text[] = "# comment\n\nn_max = 1234\n  threads=7  \n";
	struct config c;
	int fd = mkstemp(path);

	if (fd == -1 || write(fd, text, sizeof(text) - 1) < 0)
		return;
	close(fd);
	config_defaults(&c);
	T_CHECK(config_read_file(&c, path, err, sizeof(err)) == 0 &&
		    c.n_max == 1234 && c.threads == 7,
		"a config file sets values (%s)", err);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd != -1) {
		if (write(fd, "n_max 5\n", 8) < 0)
			T_DIAG("write failed");
		close(fd);
	}
	T_CHECK(config_read_file(&c, path, err, sizeof(err)) == -1 &&
		    strstr(err, ":1:") != NULL,
		"a malformed line is refused with its line number: %s", err);
	unlink(path);
}

int
main(void)
{
	test_defaults_derive_paths();
	test_flags_override();
	test_bad_values_are_refused();
	test_file_is_read();
	return T_EXIT();
}
