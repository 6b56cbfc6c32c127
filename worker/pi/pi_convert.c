/* pi_convert.c: a binary fraction to decimal digits, with proof of each digit. */
#include "pi_convert.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pi_par.h"

/*
 * Scaled remainder tree: the first k digits of x are the first k1 digits
 * of x followed by the first k - k1 digits of frac(x 10^k1). Only
 * multiplications are needed (no division), and each half needs only
 * about as many bits as it has digits, so the two halves shrink as they
 * go down and run on two threads near the top. 10^k1 = 5^k1 2^k1, so we
 * multiply by 5^k1 and move the binary point.
 */

/* Digits at or below this are written by one mpz_get_str. */
#define CONVERT_LEAF 2000

/* Powers of 5 the tree needs: one table shared read-only by all threads. */
struct pi_pow5 {
	size_t n;
	unsigned long exp[256];
	mpz_t pow[256];
	mp_bitcnt_t bits[256]; /* 5^exp < 2^bits */
};

struct conv {
	char *out;
	unsigned guard;
	const struct pi_pow5 *pt;
	struct pi_ctl *ctl;
	atomic_int ambiguous;
};

/* Bits kept for a fraction whose first k digits are wanted. */
static mp_bitcnt_t
conv_need(const struct conv *c, size_t k)
{
	return (mp_bitcnt_t)ceil((double)k * 3.3219280948873623) + c->guard;
}

static void
conv_pow_add(struct pi_pow5 *pt, unsigned long e)
{
	size_t i;

	for (i = 0; i < pt->n; i++)
		if (pt->exp[i] == e)
			return;
	pt->exp[pt->n++] = e;
}

/*
 * Collects the exponents a tree over k digits needs. Each level has at
 * most two sizes, so `seen` (sizes already walked) stays short.
 */
static void
conv_pow_collect(struct pi_pow5 *pt, size_t k, size_t *seen, size_t *nseen)
{
	size_t i;

	for (i = 0; i < *nseen; i++)
		if (seen[i] == k)
			return;
	seen[(*nseen)++] = k;
	if (k <= CONVERT_LEAF) {
		conv_pow_add(pt, k);
		return;
	}
	conv_pow_add(pt, k / 2);
	conv_pow_collect(pt, k / 2, seen, nseen);
	conv_pow_collect(pt, k - k / 2, seen, nseen);
}

static mpz_srcptr
conv_pow_find(const struct pi_pow5 *pt, unsigned long e, mp_bitcnt_t *bits)
{
	size_t i;

	for (i = 0; i < pt->n; i++) {
		if (pt->exp[i] == e) {
			*bits = pt->bits[i];
			return pt->pow[i];
		}
	}
	/* conv_pow_collect walked the same sizes the tree does. */
	abort();
}

struct conv_pow_job {
	struct pi_pow5 *pt;
	size_t from, step;
};

static void
conv_pow_run(void *p)
{
	struct conv_pow_job *j = p;
	size_t i;

	for (i = j->from; i < j->pt->n; i += j->step) {
		mpz_ui_pow_ui(j->pt->pow[i], 5, j->pt->exp[i]);
		j->pt->bits[i] = mpz_sizeinbase(j->pt->pow[i], 2);
	}
}

/* Fills pt with the powers of 5 a tree over k digits needs. */
static void
conv_pow_fill(struct pi_pow5 *pt, size_t k, int threads)
{
	size_t seen[256] = { 0 }, nseen = 0, i, j;
	unsigned long t;
	struct conv_pow_job a, b;

	pt->n = 0;
	conv_pow_collect(pt, k, seen, &nseen);
	/* Largest first, so the two threads share the work about evenly. */
	for (i = 1; i < pt->n; i++)
		for (j = i; j > 0 && pt->exp[j - 1] < pt->exp[j]; j--) {
			t = pt->exp[j];
			pt->exp[j] = pt->exp[j - 1];
			pt->exp[j - 1] = t;
		}
	for (i = 0; i < pt->n; i++)
		mpz_init(pt->pow[i]);
	a = (struct conv_pow_job){ pt, 0, 2 };
	b = (struct conv_pow_job){ pt, 1, 2 };
	pi_par_run2(conv_pow_run, &a, conv_pow_run, &b, threads >= 2);
}

static void
conv_pow_clear(struct pi_pow5 *pt)
{
	size_t i;

	for (i = 0; i < pt->n; i++)
		mpz_clear(pt->pow[i]);
	pt->n = 0;
}

/* Work units for converting k digits: about the multiply cost. */
static uint64_t
conv_cost(size_t k)
{
	uint64_t bits = 0;
	size_t l;

	for (l = k; l > 0; l >>= 1)
		bits++;
	return (uint64_t)k * bits;
}

static uint64_t
conv_work_of(size_t k)
{
	if (k <= CONVERT_LEAF)
		return conv_cost(k);
	return conv_work_of(k / 2) + conv_work_of(k - k / 2) + conv_cost(k);
}

uint64_t
pi_convert_work(size_t k)
{
	return conv_work_of(k);
}

/*
 * Checks that r, the bits of a product just below its binary point (r
 * of them), are at least e away from both 0 and 2^rbits: then the
 * integer part of the product is proven. Leaves r as it was.
 */
static int
conv_clear_of_edges(mpz_t r, mp_bitcnt_t rbits, unsigned long e)
{
	int ok;

	if (mpz_cmp_ui(r, e) < 0)
		return 0;
	mpz_add_ui(r, r, e);
	ok = mpz_sizeinbase(r, 2) <= rbits;
	mpz_sub_ui(r, r, e);
	return ok;
}

/* Writes the k digits of f / 2^w (within e) to c->out + pos. */
static void
conv_leaf(struct conv *c, mpz_t f, mp_bitcnt_t w, unsigned long e, size_t pos,
	  size_t k)
{
	char buf[CONVERT_LEAF + 2];
	mp_bitcnt_t b5;
	mpz_srcptr p5 = conv_pow_find(c->pt, k, &b5);
	mpz_t r;
	size_t len;

	/* f 10^k = (f 5^k) 2^k: digits are the bits of f 5^k above w - k. */
	mpz_init(r);
	mpz_mul(f, f, p5);
	if (w <= k + b5 + 1) {
		atomic_store(&c->ambiguous, 1);
		goto out;
	}
	/* 10^k < 2^(k + b5): the error e 10^k moves no digit if these bits
	 * (below the point, above k + b5) keep e from either edge. */
	mpz_tdiv_q_2exp(r, f, b5);
	mpz_tdiv_r_2exp(r, r, w - k - b5);
	if (!conv_clear_of_edges(r, w - k - b5, e))
		atomic_store(&c->ambiguous, 1);
	mpz_tdiv_q_2exp(f, f, w - k);
	mpz_get_str(buf, 10, f);
	len = strlen(buf);
	if (len > k) {
		atomic_store(&c->ambiguous, 1);
		goto out;
	}
	memset(c->out + pos, '0', k - len);
	memcpy(c->out + pos + k - len, buf, len);
out:
	mpz_clear(r);
}

struct conv_job {
	struct conv *c;
	mpz_ptr f;
	mp_bitcnt_t w;
	unsigned long e;
	size_t pos, k;
	int par;
};

static void conv_run(void *p);

/* Writes the k digits of f / 2^w (within e) to c->out + pos; uses up f. */
static void
conv_node(struct conv *c, mpz_t f, mp_bitcnt_t w, unsigned long e, size_t pos,
	  size_t k, int par)
{
	size_t k1 = k / 2, k2 = k - k / 2;
	mp_bitcnt_t b5, wlo, need;
	mpz_srcptr p5;
	mpz_t lo;
	struct conv_job jh, jl;

	if (pi_ctl_stopped(c->ctl) || atomic_load(&c->ambiguous))
		return;
	if (k <= CONVERT_LEAF) {
		conv_leaf(c, f, w, e, pos, k);
		pi_ctl_add(c->ctl, conv_cost(k));
		return;
	}
	p5 = conv_pow_find(c->pt, k1, &b5);
	/*
	 * The low half: frac(x 10^k1), the bits of f 5^k1 from b5 to w - k1.
	 * Bits of f from w - k1 up only reach the integer part: drop them.
	 */
	mpz_init(lo);
	if (w <= k1 + b5 + 1) {
		atomic_store(&c->ambiguous, 1);
		mpz_clear(lo);
		return;
	}
	mpz_tdiv_r_2exp(lo, f, w - k1);
	pi_par_mul(lo, lo, p5, par > 0 ? 2 : 1);
	wlo = w - k1 - b5;
	mpz_tdiv_q_2exp(lo, lo, b5);
	mpz_tdiv_r_2exp(lo, lo, wlo);
	if (!conv_clear_of_edges(lo, wlo, e))
		atomic_store(&c->ambiguous, 1);
	need = conv_need(c, k2);
	if (wlo > need) {
		mpz_tdiv_q_2exp(lo, lo, wlo - need);
		wlo = need;
	}
	/* The high half: x itself, to fewer bits. */
	need = conv_need(c, k1);
	if (w > need) {
		mpz_tdiv_q_2exp(f, f, w - need);
		w = need;
	}
	jh =
	    (struct conv_job){ c, f, w, e + 1, pos, k1, par > 0 ? par - 1 : 0 };
	jl = (struct conv_job){
		c, lo, wlo, e + 1, pos + k1, k2, par > 0 ? par - 1 : 0
	};
	pi_par_run2(conv_run, &jh, conv_run, &jl, par > 0);
	mpz_clear(lo);
	pi_ctl_add(c->ctl, conv_cost(k));
}

static void
conv_run(void *p)
{
	struct conv_job *j = p;

	conv_node(j->c, j->f, j->w, j->e, j->pos, j->k, j->par);
}

struct pi_pow5 *
pi_convert_powers(size_t k, int threads)
{
	struct pi_pow5 *pw = malloc(sizeof(*pw));

	if (pw != NULL)
		conv_pow_fill(pw, k, threads);
	return pw;
}

void
pi_convert_powers_free(struct pi_pow5 *pw)
{
	if (pw == NULL)
		return;
	conv_pow_clear(pw);
	free(pw);
}

enum pi_convert_status
pi_convert(char *out, size_t k, mpz_t f, mp_bitcnt_t w, unsigned long e,
	   unsigned guard, const struct pi_pow5 *pw, int threads,
	   struct pi_ctl *ctl)
{
	struct conv c;
	enum pi_convert_status st;
	int par = 0;

	if (k == 0)
		return PI_CONVERT_OK;
	c.out = out;
	c.guard = guard;
	c.pt = pw;
	c.ctl = ctl;
	atomic_init(&c.ambiguous, 0);
	while (threads >= 2 << par)
		par++;
	conv_node(&c, f, w, e, 0, k, par);
	if (pi_ctl_stopped(ctl))
		st = PI_CONVERT_STOPPED;
	else if (atomic_load(&c.ambiguous))
		st = PI_CONVERT_AMBIGUOUS;
	else
		st = PI_CONVERT_OK;
	return st;
}
