/* pi_fac.c: prime factorisations of the series' terms, from a sieve, kept
 * as lists so that common factors cancel before the numbers are made. */
#include "pi_fac.h"

#include <stdlib.h>
#include <string.h>

void
pi_fac_init(struct pi_fac *f)
{
	f->v = f->inl;
	f->n = 0;
	f->cap = PI_FAC_INLINE;
}

void
pi_fac_clear(struct pi_fac *f)
{
	if (f->v != f->inl)
		free(f->v);
	pi_fac_init(f);
}

static int
fac_reserve(struct pi_fac *f, size_t n)
{
	struct pi_fac_pair *v;

	if (n <= f->cap)
		return 0;
	if (f->v == f->inl) {
		v = malloc(n * sizeof(*v));
		if (v != NULL)
			memcpy(v, f->inl, f->n * sizeof(*v));
	} else {
		v = realloc(f->v, n * sizeof(*v));
	}
	if (v == NULL)
		return -1;
	f->v = v;
	f->cap = n;
	return 0;
}

int
pi_fac_set_pairs(struct pi_fac *f, struct pi_fac_pair *v, size_t n,
		 uint32_t pmax)
{
	size_t i, j;
	struct pi_fac_pair t;

	for (i = 1; i < n; i++) {
		t = v[i];
		for (j = i; j > 0 && v[j - 1].p > t.p; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	if (fac_reserve(f, n) < 0)
		return -1;
	f->n = 0;
	for (i = 0; i < n; i++) {
		if (v[i].p > pmax)
			break;
		if (f->n > 0 && f->v[f->n - 1].p == v[i].p)
			f->v[f->n - 1].e += v[i].e;
		else
			f->v[f->n++] = v[i];
	}
	return 0;
}

int
pi_fac_merge(struct pi_fac *dst, const struct pi_fac *a, const struct pi_fac *b)
{
	size_t i = 0, j = 0, n = 0;

	if (fac_reserve(dst, a->n + b->n) < 0)
		return -1;
	while (i < a->n && j < b->n) {
		if (a->v[i].p < b->v[j].p) {
			dst->v[n++] = a->v[i++];
		} else if (a->v[i].p > b->v[j].p) {
			dst->v[n++] = b->v[j++];
		} else {
			dst->v[n].p = a->v[i].p;
			dst->v[n++].e = a->v[i++].e + b->v[j++].e;
		}
	}
	while (i < a->n)
		dst->v[n++] = a->v[i++];
	while (j < b->n)
		dst->v[n++] = b->v[j++];
	dst->n = n;
	return 0;
}

/* Drops the zero exponents from f. */
static void
fac_compact(struct pi_fac *f)
{
	size_t i, n = 0;

	for (i = 0; i < f->n; i++)
		if (f->v[i].e != 0)
			f->v[n++] = f->v[i];
	f->n = n;
}

int
pi_fac_take_gcd(struct pi_fac *g, struct pi_fac *a, struct pi_fac *b)
{
	size_t i = 0, j = 0;
	uint32_t e;

	g->n = 0;
	while (i < a->n && j < b->n) {
		if (a->v[i].p < b->v[j].p) {
			i++;
		} else if (a->v[i].p > b->v[j].p) {
			j++;
		} else {
			e = a->v[i].e < b->v[j].e ? a->v[i].e : b->v[j].e;
			if (g->n == g->cap &&
			    fac_reserve(g, g->cap > 0 ? 2 * g->cap : 16) < 0)
				return -1;
			g->v[g->n].p = a->v[i].p;
			g->v[g->n++].e = e;
			a->v[i++].e -= e;
			b->v[j++].e -= e;
		}
	}
	if (g->n > 0) {
		fac_compact(a);
		fac_compact(b);
	}
	return 0;
}

void
pi_fac_product(mpz_t r, const struct pi_fac_pair *v, size_t n)
{
	mpz_t t;
	size_t i;

	if (n <= 8) {
		mpz_set_ui(r, 1);
		for (i = 0; i < n; i++) {
			if (v[i].e == 1) {
				mpz_mul_ui(r, r, v[i].p);
			} else {
				mpz_init(t);
				mpz_ui_pow_ui(t, v[i].p, v[i].e);
				mpz_mul(r, r, t);
				mpz_clear(t);
			}
		}
		return;
	}
	mpz_init(t);
	pi_fac_product(r, v, n / 2);
	pi_fac_product(t, v + n / 2, n - n / 2);
	mpz_mul(r, r, t);
	mpz_clear(t);
}

int
pi_fac_sieve_init(struct pi_fac_sieve *sv, uint32_t max)
{
	uint64_t x;
	uint32_t p, step, st;

	sv->max = max;
	sv->spf = calloc((size_t)max / 3 + 2, sizeof(*sv->spf));
	if (sv->spf == NULL)
		return -1;
	for (p = 5, step = 2; (uint64_t)p * p <= max;
	     p += step, step = 6 - step) {
		if (sv->spf[p / 3] != 0)
			continue;
		/* p*j for j >= p coprime to 6: j steps by 4, 2, 4, ... or 2, 4. */
		st = p % 6 == 1 ? 4 : 2;
		for (x = (uint64_t)p * p; x <= max; st = 6 - st) {
			if (sv->spf[x / 3] == 0)
				sv->spf[x / 3] = (uint16_t)p;
			x += (uint64_t)st * p;
		}
	}
	return 0;
}

void
pi_fac_sieve_free(struct pi_fac_sieve *sv)
{
	free(sv->spf);
	sv->spf = NULL;
}

size_t
pi_fac_sieve_factor(const struct pi_fac_sieve *sv, uint64_t x, uint32_t mult,
		    struct pi_fac_pair *v, size_t n)
{
	uint32_t p, e;

	while (x > 1) {
		p = sv->spf[x / 3];
		if (p == 0) {
			v[n].p = (uint32_t)x;
			v[n++].e = mult;
			break;
		}
		e = 0;
		do {
			x /= p;
			e++;
		} while (x % p == 0);
		v[n].p = p;
		v[n++].e = e * mult;
	}
	return n;
}
