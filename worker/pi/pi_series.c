/* pi_series.c: the Chudnovsky series summed exactly by binary splitting. */
#include "pi_series.h"

#include <stdlib.h>
#include <string.h>

#include "pi_fac.h"
#include "pi_par.h"

/*
 * Term k >= 1 of the series is the one before times -p(k) / q(k), with
 *   p(k) = (6k-5)(2k-1)(6k-1),  q(k) = k^3 C^3 / 24,  C = 640320,
 * and it carries the weight a(k) = A + B k. Over a range [a, b) of terms,
 * binary splitting keeps P = prod p, Q = prod q and T with
 * T / Q = sum_{a<=k<b} (-1)^k a(k) prod_{a<=j<=k} p(j) / q(j).
 * Joining [a, m) and [m, b): P = P1 P2, Q = Q1 Q2, T = T1 Q2 + P1 T2.
 * The triple may be divided by any common factor of P1 and Q2 without
 * changing T/Q or P/Q, which keeps the numbers smaller: we know the prime
 * factors of every p(k) and q(k) from a sieve, so we track them per range
 * and cancel gcd(P1, Q2) before joining. P is odd, so the powers of two
 * in Q never cancel: we keep them apart as a shift, Q = Q' 2^qs, so the
 * products with Q' are smaller.
 */
#define SERIES_A 13591409UL
#define SERIES_B 545140134UL
#define SERIES_C3_24_ODD 333833583375ULL /* C^3/24 = 2^15 3^2 5^3 23^3 29^3 */
#define SERIES_C3_24_TWOS 15

/* Ranges this short are summed term by term (series_block). */
#define SERIES_BLOCK 8

/* Ranges at least this long poll the ctl and report work. */
#define SERIES_REPORT_LEN 64

struct series_node {
	mpz_t p, q, t; /* q holds Q' = Q / 2^qs */
	mp_bitcnt_t qs;
	struct pi_fac fp, fq;
};

struct pi_series {
	unsigned long terms;
	uint32_t pmax;             /* primes above this never divide a Q */
	struct pi_fac_sieve sieve; /* the primes of every p(k) and q(k) */
	struct pi_ctl *ctl;
	atomic_int nomem;
	struct series_node left, right; /* terms [0, m) and [m, terms) */
};

/* Stops the whole computation: after a cancel or a failed malloc. */
static int
series_aborted(struct pi_series *s)
{
	return pi_ctl_stopped(s->ctl) || atomic_load(&s->nomem);
}

static void
series_node_init(struct series_node *nd)
{
	mpz_init(nd->p);
	mpz_init(nd->q);
	mpz_init(nd->t);
	nd->qs = 0;
	pi_fac_init(&nd->fp);
	pi_fac_init(&nd->fq);
}

static void
series_node_clear(struct series_node *nd)
{
	mpz_clear(nd->p);
	mpz_clear(nd->q);
	mpz_clear(nd->t);
	pi_fac_clear(&nd->fp);
	pi_fac_clear(&nd->fq);
}

/* Sets p = p(k), q = q(k) / 2^qs (k >= 1), t = (-1)^k a(k) p(k). */
static void
series_term_values(unsigned long k, mpz_t p, mpz_t q, mpz_t t, mp_bitcnt_t *qs)
{
	unsigned long x;
	unsigned twos;

	mpz_set_ui(p, 6 * k - 5);
	mpz_mul_ui(p, p, 2 * k - 1);
	mpz_mul_ui(p, p, 6 * k - 1);
	for (x = k, twos = 0; x % 2 == 0; x /= 2)
		twos++;
	*qs = 3 * twos + SERIES_C3_24_TWOS;
	mpz_set_ui(q, x);
	mpz_mul_ui(q, q, x);
	mpz_mul_ui(q, q, x);
	mpz_mul_ui(q, q, SERIES_C3_24_ODD);
	mpz_mul_ui(t, p, SERIES_A + SERIES_B * k);
	if (k & 1)
		mpz_neg(t, t);
}

/* Appends the prime factors of p(k) (unsorted) to v[n ..]. */
static size_t
series_term_p_factors(const struct pi_series *s, unsigned long k,
		      struct pi_fac_pair *v, size_t n)
{
	uint64_t x;
	uint32_t e3;

	/* 6k-5 and 6k-1 are coprime to 6; 2k-1 is odd. */
	n = pi_fac_sieve_factor(&s->sieve, 6 * k - 5, 1, v, n);
	n = pi_fac_sieve_factor(&s->sieve, 6 * k - 1, 1, v, n);
	for (x = 2 * k - 1, e3 = 0; x % 3 == 0; x /= 3)
		e3++;
	if (e3 > 0) {
		v[n].p = 3;
		v[n++].e = e3;
	}
	return pi_fac_sieve_factor(&s->sieve, x, 1, v, n);
}

/*
 * Appends the odd prime factors of q(k) = k^3 2^15 3^2 5^3 23^3 29^3
 * (unsorted) to v[n ..]; P is odd, so twos never cancel.
 */
static size_t
series_term_q_factors(const struct pi_series *s, unsigned long k,
		      struct pi_fac_pair *v, size_t n)
{
	uint64_t x;
	uint32_t e3;

	for (x = k; x % 2 == 0; x /= 2)
		;
	for (e3 = 0; x % 3 == 0; x /= 3)
		e3++;
	v[n].p = 3;
	v[n++].e = 3 * e3 + 2;
	v[n].p = 5;
	v[n++].e = 3;
	v[n].p = 23;
	v[n++].e = 3;
	v[n].p = 29;
	v[n++].e = 3;
	return pi_fac_sieve_factor(&s->sieve, x, 3, v, n);
}

/*
 * Sets nd to the terms [a, b), at most SERIES_BLOCK of them, term by term:
 * the numbers are too small here for cancelling to pay, and their factors
 * are listed once for the whole block.
 */
static void
series_block(struct pi_series *s, unsigned long a, unsigned long b,
	     struct series_node *nd)
{
	struct pi_fac_pair vp[SERIES_BLOCK * 32], vq[SERIES_BLOCK * 16];
	size_t np = 0, nq = 0;
	mp_bitcnt_t qs;
	unsigned long k;
	mpz_t p, q, t;

	mpz_set_ui(nd->p, 1);
	mpz_set_ui(nd->q, 1);
	mpz_set_ui(nd->t, 0);
	nd->qs = 0;
	k = a;
	if (k == 0) {
		mpz_set_ui(nd->t, SERIES_A);
		k++;
	}
	mpz_inits(p, q, t, NULL);
	for (; k < b; k++) {
		series_term_values(k, p, q, t, &qs);
		/* Join [a, k) and the term k: T = T q' 2^qs + P t. */
		mpz_mul(nd->t, nd->t, q);
		mpz_mul_2exp(nd->t, nd->t, qs);
		mpz_addmul(nd->t, nd->p, t);
		mpz_mul(nd->q, nd->q, q);
		mpz_mul(nd->p, nd->p, p);
		nd->qs += qs;
		np = series_term_p_factors(s, k, vp, np);
		nq = series_term_q_factors(s, k, vq, nq);
	}
	mpz_clears(p, q, t, NULL);
	if (pi_fac_set_pairs(&nd->fp, vp, np, s->pmax) < 0 ||
	    pi_fac_set_pairs(&nd->fq, vq, nq, UINT32_MAX) < 0)
		atomic_store(&s->nomem, 1);
}

/* Cost units of joining a range of len terms: about its multiply cost. */
static uint64_t
series_join_cost(unsigned long len)
{
	uint64_t bits = 0;
	unsigned long l;

	for (l = len; l > 0; l >>= 1)
		bits++;
	return (uint64_t)len * bits;
}

/* Sets *f0 = work(len), *f1 = work(len + 1) for the splitting below. */
static void
series_work_pair(unsigned long len, uint64_t *f0, uint64_t *f1)
{
	uint64_t h0, h1;

	if (len <= 1) {
		*f0 = 0;
		*f1 = len == 1 ? series_join_cost(2) : 0;
		return;
	}
	series_work_pair(len / 2, &h0, &h1);
	if (len % 2 == 0) {
		*f0 = 2 * h0 + series_join_cost(len);
		*f1 = h0 + h1 + series_join_cost(len + 1);
	} else {
		*f0 = h0 + h1 + series_join_cost(len);
		*f1 = 2 * h1 + series_join_cost(len + 1);
	}
}

uint64_t
pi_series_work(unsigned long terms, unsigned long m)
{
	uint64_t l0, l1, r0, r1;

	series_work_pair(m, &l0, &l1);
	series_work_pair(terms - m, &r0, &r1);
	return l0 + r0 + series_join_cost(terms);
}

struct series_mul_job {
	mpz_ptr r;
	mpz_srcptr x, y;
	int threads;
	mp_bitcnt_t shift; /* r = x y 2^shift */
};

static void
series_mul_run(void *p)
{
	struct series_mul_job *j = p;

	pi_par_mul(j->r, j->x, j->y, j->threads);
	if (j->shift > 0)
		mpz_mul_2exp(j->r, j->r, j->shift);
}

/*
 * Joins l = [a, m) and r = [m, b) into nd, spending l and r. P is only
 * formed when need_p. With par, the products run two at a time.
 */
static void
series_join(struct pi_series *s, struct series_node *nd, struct series_node *l,
	    struct series_node *r, int need_p, int par)
{
	struct pi_fac g;
	struct series_mul_job ja, jb;
	mpz_t gz;

	pi_fac_init(&g);
	if (pi_fac_take_gcd(&g, &l->fp, &r->fq) < 0)
		goto nomem;
	if (g.n > 0) {
		mpz_init(gz);
		pi_fac_product(gz, g.v, g.n);
		mpz_divexact(l->p, l->p, gz);
		mpz_divexact(r->q, r->q, gz);
		mpz_clear(gz);
	}

	if (!need_p && par) {
		/*
		 * The root on two threads: P1 T2 is much the smallest
		 * product, so T1 Q2' and Q1' Q2' go side by side first.
		 */
		ja = (struct series_mul_job){ l->t, l->t, r->q, 1, r->qs };
		jb = (struct series_mul_job){ nd->q, l->q, r->q, 1, 0 };
		pi_par_run2(series_mul_run, &ja, series_mul_run, &jb, 1);
		pi_par_mul(r->t, r->t, l->p, 2);
		mpz_add(nd->t, l->t, r->t);
		goto done;
	}
	/* T = T1 Q2' 2^qs2 + P1 T2 */
	ja = (struct series_mul_job){ l->t, l->t, r->q, 1, r->qs };
	jb = (struct series_mul_job){ r->t, r->t, l->p, 1, 0 };
	pi_par_run2(series_mul_run, &ja, series_mul_run, &jb, par);
	mpz_add(nd->t, l->t, r->t);
	mpz_realloc2(l->t, 1);
	mpz_realloc2(r->t, 1);

	if (need_p) {
		ja = (struct series_mul_job){ nd->q, l->q, r->q, 1, 0 };
		jb = (struct series_mul_job){ nd->p, l->p, r->p, 1, 0 };
		pi_par_run2(series_mul_run, &ja, series_mul_run, &jb, par);
		if (pi_fac_merge(&nd->fp, &l->fp, &r->fp) < 0)
			goto nomem;
	} else {
		mpz_mul(nd->q, l->q, r->q);
	}
done:
	nd->qs = l->qs + r->qs;
	if (pi_fac_merge(&nd->fq, &l->fq, &r->fq) < 0)
		goto nomem;
	pi_fac_clear(&g);
	return;
nomem:
	pi_fac_clear(&g);
	atomic_store(&s->nomem, 1);
}

struct series_split_job {
	struct pi_series *s;
	unsigned long a, b;
	struct series_node *nd;
	int need_p, par;
};

static void series_split_run(void *p);

/* Sums terms [a, b) into nd; `par` levels below split over threads. */
static void
series_split(struct pi_series *s, unsigned long a, unsigned long b,
	     struct series_node *nd, int need_p, int par)
{
	unsigned long len = b - a, m = a + (b - a) / 2;
	struct series_node l, r;
	struct series_split_job jl, jr;
	uint64_t w0, w1;

	if (len >= SERIES_REPORT_LEN && series_aborted(s))
		return;
	if (len <= SERIES_BLOCK) {
		series_block(s, a, b, nd);
		return;
	}
	series_node_init(&l);
	series_node_init(&r);
	jl = (struct series_split_job){ s, a, m, &l, 1, par > 0 ? par - 1 : 0 };
	jr = (struct series_split_job){ s,  m,      b,
					&r, need_p, par > 0 ? par - 1 : 0 };
	pi_par_run2(series_split_run, &jl, series_split_run, &jr, par > 0);
	if (series_aborted(s))
		goto out;
	series_join(s, nd, &l, &r, need_p, par > 0);
	if (len >= 2 * SERIES_REPORT_LEN) {
		pi_ctl_add(s->ctl, series_join_cost(len));
	} else if (len >= SERIES_REPORT_LEN) {
		series_work_pair(len, &w0, &w1);
		pi_ctl_add(s->ctl, w0);
	}
out:
	series_node_clear(&l);
	series_node_clear(&r);
}

static void
series_split_run(void *p)
{
	struct series_split_job *j = p;

	series_split(j->s, j->a, j->b, j->nd, j->need_p, j->par);
}

unsigned long
pi_series_terms(uint64_t bits)
{
	/*
	 * (6k)! / ((3k)! (k!)^3) <= 2^6k 3^3k = 1728^k, so term k is at most
	 * r^k (A + B k) with r = 1728 / 640320^3 < 2^-47.11, and each bound
	 * is under half the one before: the tail after N terms is below
	 * 2 r^N (A + B N) < 2^(63 - 47.11 N) for N < 2^32.
	 */
	return (unsigned long)(((double)bits + 64.0) / 47.11) + 2;
}

struct pi_series *
pi_series_new(unsigned long terms, struct pi_ctl *ctl)
{
	struct pi_series *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->terms = terms;
	s->ctl = ctl;
	atomic_init(&s->nomem, 0);
	s->pmax = terms > 29 ? (uint32_t)terms : 29;
	if (pi_fac_sieve_init(&s->sieve, (uint32_t)(6 * terms + 6)) < 0) {
		free(s);
		return NULL;
	}
	series_node_init(&s->left);
	series_node_init(&s->right);
	return s;
}

void
pi_series_free(struct pi_series *s)
{
	if (s == NULL)
		return;
	series_node_clear(&s->left);
	series_node_clear(&s->right);
	pi_fac_sieve_free(&s->sieve);
	free(s);
}

/* Levels of the splitting tree that run on two threads. */
static int
series_par(int threads)
{
	int par = 0;

	while (threads >= 2 << par)
		par++;
	return par;
}

void
pi_series_left(struct pi_series *s, unsigned long m, int threads)
{
	if (m > 0)
		series_split(s, 0, m, &s->left, 1, series_par(threads));
}

void
pi_series_right(struct pi_series *s, unsigned long m, int threads)
{
	if (m < s->terms)
		series_split(s, m, s->terms, &s->right, 0, series_par(threads));
}

enum pi_series_status
pi_series_finish(struct pi_series *s, mpz_t q, mp_bitcnt_t *qs, mpz_t t,
		 int threads)
{
	struct series_node root;
	enum pi_series_status st = PI_SERIES_OK;

	series_node_init(&root);
	if (!series_aborted(s))
		series_join(s, &root, &s->left, &s->right, 0, threads >= 2);
	if (atomic_load(&s->nomem))
		st = PI_SERIES_NOMEM;
	else if (pi_ctl_stopped(s->ctl))
		st = PI_SERIES_STOPPED;
	if (st == PI_SERIES_OK) {
		pi_ctl_add(s->ctl, series_join_cost(s->terms));
		mpz_swap(q, root.q);
		*qs = root.qs;
		mpz_swap(t, root.t);
	}
	series_node_clear(&root);
	return st;
}
