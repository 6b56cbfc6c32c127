/* pi_fac.h: prime factorisations of the series' terms, from a sieve, kept
 * as lists so that common factors cancel before the numbers are made. */
#ifndef NTHPI_PI_FAC_H
#define NTHPI_PI_FAC_H

#include <stddef.h>
#include <stdint.h>

#include <gmp.h>

struct pi_fac_pair {
	uint32_t p; /* a prime */
	uint32_t e; /* its exponent */
};

/* Pairs a short list keeps inline, saving a malloc at most nodes. */
#define PI_FAC_INLINE 24

/* A factorisation, by increasing prime. */
struct pi_fac {
	struct pi_fac_pair *v; /* inl or malloc'd */
	size_t n, cap;
	struct pi_fac_pair inl[PI_FAC_INLINE];
};

/* Sets f to the empty list (the number 1). */
void pi_fac_init(struct pi_fac *f);

/* Frees what f holds and sets it to the empty list. */
void pi_fac_clear(struct pi_fac *f);

/*
 * Sets f from n unsorted pairs, which it sorts and merges, dropping primes
 * above pmax. Returns 0, or -1 if out of memory.
 */
int pi_fac_set_pairs(struct pi_fac *f, struct pi_fac_pair *v, size_t n,
		     uint32_t pmax);

/* Sets dst (distinct from a and b) to the product of a and b. Returns 0,
 * or -1 if out of memory. */
int pi_fac_merge(struct pi_fac *dst, const struct pi_fac *a,
		 const struct pi_fac *b);

/* Sets g to gcd(a, b) and divides it out of both a and b. Returns 0, or
 * -1 if out of memory. */
int pi_fac_take_gcd(struct pi_fac *g, struct pi_fac *a, struct pi_fac *b);

/* Sets r to the product of the prime powers v[0 .. n-1]. */
void pi_fac_product(mpz_t r, const struct pi_fac_pair *v, size_t n);

/*
 * The smallest prime factor of every x <= max coprime to 6, stored only
 * when it is at most sqrt(max) (so it fits 16 bits), by x/3: 0 means x is
 * prime.
 */
struct pi_fac_sieve {
	uint16_t *spf;
	uint32_t max;
};

/* Sieves up to max. Returns 0, or -1 if out of memory. */
int pi_fac_sieve_init(struct pi_fac_sieve *sv, uint32_t max);

/* Frees the sieve. */
void pi_fac_sieve_free(struct pi_fac_sieve *sv);

/*
 * Appends the prime factors of x (coprime to 6, at most sv->max) to v[n ..],
 * each `mult` times, and returns the new count.
 */
size_t pi_fac_sieve_factor(const struct pi_fac_sieve *sv, uint64_t x,
			   uint32_t mult, struct pi_fac_pair *v, size_t n);

#endif
