/*
 * Unit tests for experiments/analysis: the Mann-Whitney U test against
 * scipy's documented example and hand-computed cases (ties, disjoint and
 * identical samples, all values tied), and the median bootstrap: exact
 * answers where the resampling distribution is known, coverage of the true
 * median on easy data, and reproducibility from the seed.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "analysis.h"

static void near_at(double got, double want, double eps, const char *file, int line)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("%.17g != %.17g (eps %g)\n", got, want, eps);
		_fail(file, line);
	}
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)

/* --- Mann-Whitney ----------------------------------------------------------- */

/*
 * scipy.stats.mannwhitneyu documentation: males = [19, 22, 16, 29, 24],
 * females = [20, 11, 17, 12]; method="asymptotic" gives statistic 17.0 and
 * pvalue 0.11134688653314041.  By hand: no ties, sigma = sqrt(5*4/12 * 10),
 * z = (17 - 10 - 0.5) / sigma = 1.59099.
 */
static void test_mw_scipy_example(void **state)
{
	const int64_t males[] = {19, 22, 16, 29, 24};
	const int64_t females[] = {20, 11, 17, 12};
	struct analysis_mw r;

	(void)state;
	assert_int_equal(analysis_mann_whitney(males, 5, females, 4, &r), 0);
	assert_int_equal(r.n1, 5);
	assert_int_equal(r.n2, 4);
	assert_near(r.u, 17.0, 0);
	assert_near(r.z, 6.5 / sqrt(50.0 / 3.0), 1e-12);
	assert_near(r.p, 0.11134688653314041, 1e-12);

	/* Swapped: U2 = n1 n2 - U1, same p, z negated. */
	assert_int_equal(analysis_mann_whitney(females, 4, males, 5, &r), 0);
	assert_near(r.u, 3.0, 0);
	assert_near(r.z, -6.5 / sqrt(50.0 / 3.0), 1e-12);
	assert_near(r.p, 0.11134688653314041, 1e-12);
}

/*
 * Ties, by hand: x = {1, 2, 2, 4}, y = {2, 3, 4, 4, 5}.  Pooled ranks:
 * 1 -> 1; the three 2s -> 3; 3 -> 5; the three 4s -> 7; 5 -> 9.
 * R1 = 1 + 3 + 3 + 7 = 14, U1 = 14 - 4*5/2 = 4, mu = 10.
 * Tie term 2 * (27 - 3) = 48; sigma^2 = 20/12 * (10 - 48/72) = 15.5556.
 * z = -(6 - 0.5) / 3.94405 = -1.39450, p = 2 Q(1.39450) = 0.163165.
 */
static void test_mw_ties(void **state)
{
	const int64_t x[] = {1, 2, 2, 4};
	const int64_t y[] = {2, 3, 4, 4, 5};
	struct analysis_mw r;

	(void)state;
	assert_int_equal(analysis_mann_whitney(x, 4, y, 5, &r), 0);
	assert_near(r.u, 4.0, 0);
	assert_near(r.z, -1.3945045203020523, 1e-12);
	assert_near(r.p, 0.16316530543754276, 1e-12);
}

/* Order of the input does not matter (ranks are of values). */
static void test_mw_unsorted_input(void **state)
{
	const int64_t x[] = {4, 2, 1, 2};
	const int64_t y[] = {5, 4, 3, 4, 2};
	struct analysis_mw r;

	(void)state;
	assert_int_equal(analysis_mann_whitney(x, 4, y, 5, &r), 0);
	assert_near(r.u, 4.0, 0);
	assert_near(r.p, 0.16316530543754276, 1e-12);
}

/* The same 50 values on both sides: U = n^2/2, no evidence of a shift. */
static void test_mw_identical(void **state)
{
	int64_t x[50];
	struct analysis_mw r;
	size_t i;

	(void)state;
	for (i = 0; i < 50; i++)
		x[i] = 100000 + (int64_t)((i * 37) % 50) * 1000;
	assert_int_equal(analysis_mann_whitney(x, 50, x, 50, &r), 0);
	assert_near(r.u, 1250.0, 0);
	assert_near(r.z, 0.0, 0);
	assert_near(r.p, 1.0, 0);
}

/*
 * Disjoint: x = 0..29 all below y = 100..129.  U1 = 0, mu = 450,
 * sigma = sqrt(30*30/12 * 61) = 67.6387, z = -449.5/sigma = -6.64560,
 * p = 3.01986e-11.
 */
static void test_mw_disjoint(void **state)
{
	int64_t x[30], y[30];
	struct analysis_mw r;
	size_t i;

	(void)state;
	for (i = 0; i < 30; i++) {
		x[i] = (int64_t)i;
		y[i] = 100 + (int64_t)i;
	}
	assert_int_equal(analysis_mann_whitney(x, 30, y, 30, &r), 0);
	assert_near(r.u, 0.0, 0);
	assert_near(r.z, -6.64559922588161, 1e-9);
	assert_near(r.p, 3.019859359162151e-11, 1e-20);
	assert_true(r.p < 1e-10);

	assert_int_equal(analysis_mann_whitney(y, 30, x, 30, &r), 0);
	assert_near(r.u, 900.0, 0);
	assert_true(r.z > 6.6);
}

/* Every value tied: sigma = 0, the test has nothing to say. */
static void test_mw_all_tied(void **state)
{
	const int64_t x[] = {7, 7, 7};
	const int64_t y[] = {7, 7};
	struct analysis_mw r;

	(void)state;
	assert_int_equal(analysis_mann_whitney(x, 3, y, 2, &r), 0);
	assert_near(r.u, 3.0, 0);
	assert_near(r.z, 0.0, 0);
	assert_near(r.p, 1.0, 0);
}

/* A shift of less than one rank: |U - mu| < 0.5 after correction clips p at 1. */
static void test_mw_p_clipped(void **state)
{
	const int64_t x[] = {1, 4};
	const int64_t y[] = {2, 3};
	struct analysis_mw r;

	(void)state;
	assert_int_equal(analysis_mann_whitney(x, 2, y, 2, &r), 0);
	assert_near(r.u, 2.0, 0); /* ranks 1 + 4 = 5, minus 3 */
	assert_near(r.p, 1.0, 0);
	assert_near(r.z, 0.0, 0);
}

static void test_mw_bad_input(void **state)
{
	const int64_t x[] = {1};
	struct analysis_mw r;

	(void)state;
	assert_int_equal(analysis_mann_whitney(x, 0, x, 1, &r), -EINVAL);
	assert_int_equal(analysis_mann_whitney(x, 1, x, 0, &r), -EINVAL);
	assert_int_equal(analysis_mann_whitney(NULL, 1, x, 1, &r), -EINVAL);
	assert_int_equal(analysis_mann_whitney(x, 1, NULL, 1, &r), -EINVAL);
	assert_int_equal(analysis_mann_whitney(x, 1, x, 1, NULL), -EINVAL);
}

static void test_norm_sf(void **state)
{
	(void)state;
	assert_near(analysis_norm_sf(0.0), 0.5, 1e-15);
	assert_near(analysis_norm_sf(1.959963984540054), 0.025, 1e-12);
	assert_near(analysis_norm_sf(-1.959963984540054), 0.975, 1e-12);
	assert_near(analysis_norm_sf(3.090232306167813), 0.001, 1e-12);
}

/* --- bootstrap ---------------------------------------------------------------- */

static void test_ci_single_and_constant(void **state)
{
	const int64_t one[] = {42};
	int64_t flat[25];
	struct analysis_ci ci;
	size_t i;

	(void)state;
	assert_int_equal(analysis_median_ci(one, 1, 2000, 0.95, 1, &ci), 0);
	assert_int_equal(ci.n, 1);
	assert_int_equal(ci.b, 2000);
	assert_near(ci.level, 0.95, 0);
	assert_near(ci.estimate, 42, 0);
	assert_near(ci.lo, 42, 0);
	assert_near(ci.hi, 42, 0);

	for (i = 0; i < 25; i++)
		flat[i] = 1234567;
	assert_int_equal(analysis_median_ci(flat, 25, 500, 0.95, 9, &ci), 0);
	assert_near(ci.estimate, 1234567, 0);
	assert_near(ci.lo, 1234567, 0);
	assert_near(ci.hi, 1234567, 0);
}

/*
 * {0, 10}: a resample's median is 0 (both draws 0, p = 1/4), 5 (p = 1/2) or
 * 10 (p = 1/4).  Of 2000 resamples about 500 are 0 and 500 are 10, far more
 * than the 51 the type-7 2.5% and 97.5% ranks need, so the CI is [0, 10].
 */
static void test_ci_two_values(void **state)
{
	const int64_t x[] = {10, 0};
	struct analysis_ci ci;

	(void)state;
	assert_int_equal(analysis_median_ci(x, 2, 2000, 0.95, ANALYSIS_DEFAULT_SEED, &ci), 0);
	assert_near(ci.estimate, 5, 0);
	assert_near(ci.lo, 0, 0);
	assert_near(ci.hi, 10, 0);
	/* The 40% interval (30th to 70th percentile) lies on the middle value. */
	assert_int_equal(analysis_median_ci(x, 2, 2000, 0.4, ANALYSIS_DEFAULT_SEED, &ci), 0);
	assert_near(ci.lo, 5, 0);
	assert_near(ci.hi, 5, 0);
}

/* Even sample: the estimate is the type-7 median (halfway between the middle values). */
static void test_ci_even_estimate(void **state)
{
	const int64_t x[] = {4, 1, 3, 2};
	struct analysis_ci ci;

	(void)state;
	assert_int_equal(analysis_median_ci(x, 4, 200, 0.95, 3, &ci), 0);
	assert_near(ci.estimate, 2.5, 0);
	assert_true(ci.lo >= 1.0 && ci.lo <= 2.5);
	assert_true(ci.hi >= 2.5 && ci.hi <= 4.0);
}

/* 0..100 shuffled: true median 50, the 95% interval covers it and is not absurdly wide. */
static void test_ci_covers_median(void **state)
{
	int64_t x[101], copy[101];
	struct analysis_ci ci;
	size_t i;

	(void)state;
	for (i = 0; i < 101; i++)
		x[i] = (int64_t)((i * 43) % 101) * 1000; /* a permutation of 0..100 (43 coprime to 101) */
	memcpy(copy, x, sizeof(x));
	assert_int_equal(analysis_median_ci(x, 101, ANALYSIS_BOOTSTRAP_B, ANALYSIS_CI_LEVEL,
					    ANALYSIS_DEFAULT_SEED, &ci),
			 0);
	assert_memory_equal(x, copy, sizeof(x)); /* input untouched */
	assert_near(ci.estimate, 50000, 0);
	assert_true(ci.lo <= 50000 && ci.hi >= 50000);
	/* Theory: sd of the median ~ 1.2533 * 29.3 / sqrt(101) ~ 3.7, so +-~7.2 values. */
	assert_true(ci.lo >= 35000 && ci.hi <= 65000);
	assert_true(ci.hi - ci.lo >= 6000);
	/* Resample medians of an odd sample are sample values. */
	assert_near(fmod(ci.lo, 1000), 0, 0);
	assert_near(fmod(ci.hi, 1000), 0, 0);
}

static void test_ci_deterministic(void **state)
{
	int64_t x[60];
	struct analysis_ci a, b, c, narrow;
	size_t i;

	(void)state;
	for (i = 0; i < 60; i++)
		x[i] = 200000 + (int64_t)((i * 7919) % 60) * 1500 + (int64_t)(i % 7) * 11;
	assert_int_equal(analysis_median_ci(x, 60, 2000, 0.95, 12345, &a), 0);
	assert_int_equal(analysis_median_ci(x, 60, 2000, 0.95, 12345, &b), 0);
	assert_memory_equal(&a, &b, sizeof(a));
	/* The seed matters: one resample's median differs between two seeds. */
	assert_int_equal(analysis_median_ci(x, 60, 1, 0.95, 12345, &b), 0);
	assert_int_equal(analysis_median_ci(x, 60, 1, 0.95, 54321, &c), 0);
	assert_near(c.estimate, b.estimate, 0);
	assert_near(b.lo, b.hi, 0);
	assert_true(c.lo != b.lo);
	assert_int_equal(analysis_median_ci(x, 60, 2000, 0.50, 12345, &narrow), 0);
	assert_true(narrow.lo >= a.lo && narrow.hi <= a.hi);
	assert_true(narrow.hi - narrow.lo < a.hi - a.lo);
}

static void test_ci_bad_input(void **state)
{
	const int64_t x[] = {1, 2, 3};
	struct analysis_ci ci;

	(void)state;
	assert_int_equal(analysis_median_ci(x, 0, 100, 0.95, 1, &ci), -EINVAL);
	assert_int_equal(analysis_median_ci(x, 3, 0, 0.95, 1, &ci), -EINVAL);
	assert_int_equal(analysis_median_ci(x, 3, 100, 0.0, 1, &ci), -EINVAL);
	assert_int_equal(analysis_median_ci(x, 3, 100, 1.0, 1, &ci), -EINVAL);
	assert_int_equal(analysis_median_ci(x, 3, 100, NAN, 1, &ci), -EINVAL);
	assert_int_equal(analysis_median_ci(NULL, 3, 100, 0.95, 1, &ci), -EINVAL);
	assert_int_equal(analysis_median_ci(x, 3, 100, 0.95, 1, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mw_scipy_example),
		cmocka_unit_test(test_mw_ties),
		cmocka_unit_test(test_mw_unsorted_input),
		cmocka_unit_test(test_mw_identical),
		cmocka_unit_test(test_mw_disjoint),
		cmocka_unit_test(test_mw_all_tied),
		cmocka_unit_test(test_mw_p_clipped),
		cmocka_unit_test(test_mw_bad_input),
		cmocka_unit_test(test_norm_sf),
		cmocka_unit_test(test_ci_single_and_constant),
		cmocka_unit_test(test_ci_two_values),
		cmocka_unit_test(test_ci_even_estimate),
		cmocka_unit_test(test_ci_covers_median),
		cmocka_unit_test(test_ci_deterministic),
		cmocka_unit_test(test_ci_bad_input),
	};

	return cmocka_run_group_tests_name("analysis", tests, NULL, NULL);
}
