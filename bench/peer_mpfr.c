/* peer_mpfr.c: the benchmark peer: pi by MPFR (mpfr_const_pi, mpfr_get_str), 1 thread. */
#include <stdio.h>
#include <stdlib.h>

#include <mpfr.h>

/* peer_mpfr N FILE: writes "3" and N decimals of pi to FILE (truncated). */
int
main(int argc, char **argv)
{
	const size_t extra = 20;
	mpfr_t x;
	mpfr_exp_t e;
	char *s;
	size_t n;
	FILE *fp;
	int status = 1;

	if (argc != 3) {
		fprintf(stderr, "usage: peer_mpfr N FILE\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 10);
	mpfr_init2(x, (mpfr_prec_t)((n + extra) * 3.3219280948873623) + 64);
	mpfr_const_pi(x, MPFR_RNDZ);
	s = mpfr_get_str(NULL, &e, 10, n + 1 + extra, x, MPFR_RNDZ);
	fp = fopen(argv[2], "w");
	if (fp == NULL || fwrite(s, 1, n + 1, fp) != n + 1 || fclose(fp) != 0)
		perror(argv[2]);
	else
		status = 0;
	mpfr_free_str(s);
	mpfr_clear(x);
	return status;
}
