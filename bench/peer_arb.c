/* peer_arb.c: the benchmark peer: pi by Arb (arb_const_pi, arb_get_str), 2 threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arb.h>
#include <flint/flint.h>

/*
 * peer_arb N FILE: writes "3" and N decimals of pi to FILE. arb_get_str
 * prints a decimal point, may round the last digit and adds a radius, so
 * it asks for extra digits and keeps the first N after the point.
 */
int
main(int argc, char **argv)
{
	const slong extra = 20;
	arb_t x;
	char *s = NULL, *dot;
	slong n;
	FILE *fp;
	int status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: peer_arb N FILE\n");
		return 2;
	}
	n = atol(argv[1]);
	flint_set_num_threads(2);
	arb_init(x);
	arb_const_pi(x, (slong)((n + extra) * 3.3219280948873623) + 64);
	s = arb_get_str(x, n + extra, ARB_STR_NO_RADIUS);
	dot = strchr(s, '.');
	if (dot == NULL || (slong)strlen(dot + 1) < n) {
		fprintf(stderr, "peer_arb: unexpected output\n");
		goto out;
	}
	fp = fopen(argv[2], "w");
	if (fp == NULL || fputc('3', fp) == EOF ||
	    fwrite(dot + 1, 1, (size_t)n, fp) != (size_t)n || fclose(fp) != 0) {
		perror(argv[2]);
		goto out;
	}
	status = 0;
out:
	flint_free(s);
	arb_clear(x);
	flint_cleanup();
	return status;
}
