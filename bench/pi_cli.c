/* pi_cli.c: a bare driver for the engine, for benchmarks: pi_cli N [THREADS] [FILE]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pi_tune.h"

/* Prints the process's peak address space and resident set to stderr. */
static void
cli_print_peaks(void)
{
	char line[256];
	FILE *fp = fopen("/proc/self/status", "r");

	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "VmPeak:", 7) == 0 ||
		    strncmp(line, "VmHWM:", 6) == 0)
			fputs(line, stderr);
	fclose(fp);
}

static void
cli_progress(void *arg, enum pi_phase phase, double fraction)
{
	(void)arg;
	if (getenv("PI_CLI_PROGRESS") != NULL)
		fprintf(stderr, "progress %d %.4f\n", (int)phase, fraction);
}

/*
 * Computes N decimals with THREADS threads (default 2) and writes "3" and
 * the decimals to FILE (default: none), phase times to stderr.
 */
int
main(int argc, char **argv)
{
	struct pi_hooks hooks = { cli_progress, NULL, NULL };
	struct pi_tune tune = { 0 };
	enum pi_result r;
	char *digits = NULL;
	size_t n;
	FILE *fp;
	int threads, status = 1;

	if (argc < 2) {
		fprintf(stderr, "usage: pi_cli N [THREADS] [FILE]\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	threads = argc > 2 ? atoi(argv[2]) : 2;
	r = pi_compute_tuned(n, threads, &hooks, &tune, &digits);
	if (r != PI_OK) {
		fprintf(stderr, "pi_cli: %s\n", pi_result_message(r));
		return 1;
	}
	fprintf(stderr,
		"series %.3f s, final %.3f s, convert %.3f s, tries %d\n",
		tune.secs[0], tune.secs[1], tune.secs[2], tune.attempts);
	fprintf(stderr,
		"second thread done later by %.3f s (series), %.3f s (final)\n",
		tune.skew_series, tune.skew_final);
	cli_print_peaks();
	if (argc > 3) {
		fp = fopen(argv[3], "w");
		if (fp == NULL) {
			perror(argv[3]);
			goto out;
		}
		if (fputc('3', fp) == EOF || fwrite(digits, 1, n, fp) != n ||
		    fclose(fp) != 0) {
			perror(argv[3]);
			goto out;
		}
	}
	status = 0;
out:
	free(digits);
	return status;
}
