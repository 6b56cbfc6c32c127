/* pi_par.c: two jobs at once, and big multiplications split over two threads. */
#include "pi_par.h"

#include <pthread.h>

/*
 * Below this size (limbs of the smaller operand) a split multiplication
 * costs more in thread start and extra additions than it gains.
 */
#define PI_PAR_MUL_MIN_LIMBS 20000

struct par_job {
	pi_job_fn fn;
	void *arg;
};

static void *
par_trampoline(void *p)
{
	struct par_job *job = p;

	job->fn(job->arg);
	return NULL;
}

void
pi_par_run2(pi_job_fn a, void *aa, pi_job_fn b, void *ba, int parallel)
{
	struct par_job job = { a, aa };
	pthread_t th;

	if (parallel && pthread_create(&th, NULL, par_trampoline, &job) == 0) {
		b(ba);
		pthread_join(th, NULL);
		return;
	}
	/* No second thread: the same work, one job after the other. */
	a(aa);
	b(ba);
}

struct par_half {
	mp_limb_t *rp; /* un + vn limbs */
	const mp_limb_t *up;
	mp_size_t un;
	const mp_limb_t *vp;
	mp_size_t vn;
};

static void
par_half_mul(void *p)
{
	struct par_half *h = p;

	if (h->un >= h->vn)
		mpn_mul(h->rp, h->up, h->un, h->vp, h->vn);
	else
		mpn_mul(h->rp, h->vp, h->vn, h->up, h->un);
}

void
pi_par_mul(mpz_t r, const mpz_t x, const mpz_t y, int threads)
{
	const mpz_srcptr big = mpz_size(x) >= mpz_size(y) ? x : y;
	const mpz_srcptr small = big == x ? y : x;
	mp_size_t bn = mpz_size(big), sn = mpz_size(small), lo, hn;
	struct par_half a, b;
	mp_limb_t *rp, *tp;
	mpz_t res, scratch;
	int neg;

	if (threads < 2 || sn < PI_PAR_MUL_MIN_LIMBS) {
		mpz_mul(r, x, y);
		return;
	}
	neg = (mpz_sgn(x) < 0) != (mpz_sgn(y) < 0);
	lo = bn / 2;
	hn = bn - lo;
	/*
	 * The low half's product goes straight into the result; the high
	 * half's into scratch that is then added in at an offset of lo limbs.
	 */
	mpz_init2(res, (mp_bitcnt_t)(bn + sn) * GMP_NUMB_BITS);
	mpz_init2(scratch, (mp_bitcnt_t)(hn + sn) * GMP_NUMB_BITS);
	rp = mpz_limbs_write(res, bn + sn);
	tp = mpz_limbs_write(scratch, hn + sn);
	a.rp = rp;
	a.up = mpz_limbs_read(big);
	a.un = lo;
	a.vp = mpz_limbs_read(small);
	a.vn = sn;
	b.rp = tp;
	b.up = a.up + lo;
	b.un = hn;
	b.vp = a.vp;
	b.vn = sn;
	pi_par_run2(par_half_mul, &a, par_half_mul, &b, 1);
	mpn_add(rp + lo, tp, hn + sn, rp + lo, sn);
	mpz_limbs_finish(res, neg ? -(bn + sn) : bn + sn);
	mpz_swap(r, res);
	mpz_clear(res);
	mpz_clear(scratch);
}
