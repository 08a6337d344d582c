/*
 * Bootstrap and rank test for the experiment report.  The bootstrap never
 * sorts a resample: the sample is sorted once, each resample is a vector of
 * draw counts over the sorted positions, and the median is found by a
 * cumulative scan, so B resamples of n cost O(B n) and the result depends
 * only on the seed.  The generator is xoshiro256** (seeded by splitmix64)
 * with rejection sampling for unbiased indices, so the figures are the same
 * on every platform and libc.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analysis.h"

/* --- generator ------------------------------------------------------------ */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(struct rng *r)
{
	uint64_t result = rotl(r->s[1] * 5, 7) * 9;
	uint64_t t = r->s[1] << 17;

	r->s[2] ^= r->s[0];
	r->s[3] ^= r->s[1];
	r->s[1] ^= r->s[2];
	r->s[0] ^= r->s[3];
	r->s[2] ^= t;
	r->s[3] = rotl(r->s[3], 45);
	return result;
}

/* Uniform in [0, bound): values below 2^64 mod bound would favour small indices. */
static uint64_t rng_below(struct rng *r, uint64_t bound)
{
	uint64_t threshold = (0 - bound) % bound, x;

	do
		x = rng_next(r);
	while (x < threshold);
	return x % bound;
}

/* --- bootstrap ------------------------------------------------------------ */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

static int cmp_double(const void *a, const void *b)
{
	double x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

/* Type 7 on an ascending double array, n > 0. */
static double percentile_sorted_d(const double *s, size_t n, double p)
{
	double h = (double)(n - 1) * p, frac;
	size_t lo = (size_t)floor(h);

	if (lo >= n - 1)
		return s[n - 1];
	frac = h - (double)lo;
	return s[lo] + frac * (s[lo + 1] - s[lo]);
}

/* Value at 0-based rank k of the resample described by counts over sorted s. */
static int64_t rank_value(const int64_t *s, const uint32_t *counts, size_t n, size_t k)
{
	size_t i, cum = 0;

	for (i = 0; i < n; i++) {
		cum += counts[i];
		if (cum > k)
			return s[i];
	}
	return s[n - 1];
}

/* Type-7 median of sorted s: the middle value, or halfway between the two middle ones. */
static double median_of(int64_t lo_v, int64_t hi_v, bool even)
{
	if (!even)
		return (double)lo_v;
	return (double)((long double)lo_v + ((long double)hi_v - (long double)lo_v) / 2.0L);
}

int analysis_median_ci(const int64_t *x, size_t n, unsigned b, double level, uint64_t seed,
		       struct analysis_ci *out)
{
	int64_t *s = NULL;
	uint32_t *counts = NULL;
	double *med = NULL, alpha;
	struct rng rng;
	size_t mid, i;
	bool even;
	unsigned k;
	int rc = -ENOMEM;

	if (!x || !out || n == 0 || b == 0 || !(level > 0.0 && level < 1.0) || n > UINT32_MAX)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	s = malloc(n * sizeof(*s));
	counts = malloc(n * sizeof(*counts));
	med = malloc((size_t)b * sizeof(*med));
	if (!s || !counts || !med)
		goto out;
	memcpy(s, x, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_i64);

	mid = (n - 1) / 2;
	even = n % 2 == 0;
	rng_seed(&rng, seed);
	for (k = 0; k < b; k++) {
		memset(counts, 0, n * sizeof(*counts));
		for (i = 0; i < n; i++)
			counts[rng_below(&rng, n)]++;
		med[k] = median_of(rank_value(s, counts, n, mid),
				   even ? rank_value(s, counts, n, mid + 1) : 0, even);
	}
	qsort(med, b, sizeof(*med), cmp_double);

	alpha = (1.0 - level) / 2.0;
	out->n = n;
	out->b = b;
	out->level = level;
	out->estimate = median_of(s[mid], even ? s[mid + 1] : 0, even);
	out->lo = percentile_sorted_d(med, b, alpha);
	out->hi = percentile_sorted_d(med, b, 1.0 - alpha);
	rc = 0;
out:
	free(s);
	free(counts);
	free(med);
	return rc;
}

/* --- Mann-Whitney ----------------------------------------------------------- */

struct tagged {
	int64_t v;
	bool first;
};

static int cmp_tagged(const void *a, const void *b)
{
	struct tagged x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x.v > y.v) - (x.v < y.v);
}

double analysis_norm_sf(double z)
{
	return 0.5 * erfc(z / sqrt(2.0));
}

int analysis_mann_whitney(const int64_t *x, size_t nx, const int64_t *y, size_t ny,
			  struct analysis_mw *out)
{
	struct tagged *all;
	size_t n, i, j, k;
	double r1 = 0.0, ties = 0.0, mu, sigma2, dev;

	if (!x || !y || !out || nx == 0 || ny == 0 || nx > SIZE_MAX / 2 / sizeof(*all) ||
	    ny > SIZE_MAX / 2 / sizeof(*all))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	n = nx + ny;
	all = malloc(n * sizeof(*all));
	if (!all)
		return -ENOMEM;
	for (i = 0; i < nx; i++) {
		all[i].v = x[i];
		all[i].first = true;
	}
	for (i = 0; i < ny; i++) {
		all[nx + i].v = y[i];
		all[nx + i].first = false;
	}
	qsort(all, n, sizeof(*all), cmp_tagged);

	/* Tie group [i, j): ranks i+1..j share the midrank (i+1+j)/2. */
	for (i = 0; i < n; i = j) {
		size_t in_first = 0;
		double t, midrank;

		for (j = i; j < n && all[j].v == all[i].v; j++)
			;
		for (k = i; k < j; k++)
			in_first += all[k].first;
		t = (double)(j - i);
		midrank = ((double)i + 1.0 + (double)j) / 2.0;
		r1 += midrank * (double)in_first;
		ties += t * t * t - t;
	}
	free(all);

	out->n1 = nx;
	out->n2 = ny;
	out->u = r1 - (double)nx * ((double)nx + 1.0) / 2.0;
	mu = (double)nx * (double)ny / 2.0;
	sigma2 = (double)nx * (double)ny / 12.0 *
		 (((double)n + 1.0) - ties / ((double)n * ((double)n - 1.0)));
	if (n < 2 || !(sigma2 > 0.0)) {
		out->z = 0.0;
		out->p = 1.0;
		return 0;
	}
	dev = fabs(out->u - mu) - 0.5;
	out->p = 2.0 * analysis_norm_sf(dev / sqrt(sigma2));
	if (out->p > 1.0)
		out->p = 1.0;
	if (dev < 0.0)
		dev = 0.0;
	out->z = (out->u >= mu ? dev : -dev) / sqrt(sigma2);
	return 0;
}
