/* wrong_digits.c: for test_store_integrity.py, an LD_PRELOAD library that
 * stands for an engine with a bug: every string of digits GMP's
 * mpz_get_str gives has its first digit made wrong. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <gmp.h>

char *
__gmpz_get_str(char *buf, int base, mpz_srcptr z)
{
	static char *(*real)(char *, int, mpz_srcptr);
	char *s;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "__gmpz_get_str");
	s = real != NULL ? real(buf, base, z) : NULL;
	if (s != NULL && s[0] >= '0' && s[0] <= '9')
		s[0] = s[0] == '9' ? '0' : (char)(s[0] + 1);
	return s;
}
