/*
 * Statistics for comparing experiment cells: a percentile-bootstrap
 * confidence interval of the median (seeded, so a report printed twice from
 * the same files is identical) and the Mann-Whitney U test (two-sided,
 * normal approximation with tie and continuity corrections, the figures
 * scipy.stats.mannwhitneyu(..., method="asymptotic") gives).  RTT samples
 * stay integer nanoseconds as everywhere else; results are doubles.
 */
#ifndef TK_ANALYSIS_H
#define TK_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#define ANALYSIS_BOOTSTRAP_B 2000
#define ANALYSIS_CI_LEVEL 0.95
/* Default seed of the report's bootstraps: fixed so reports are reproducible. */
#define ANALYSIS_DEFAULT_SEED UINT64_C(0x7477616d706b6974) /* "twampkit" */

struct analysis_ci {
	size_t n;          /* samples */
	unsigned b;        /* resamples drawn */
	double level;      /* e.g. 0.95 */
	double estimate;   /* median of the sample (type 7) */
	double lo, hi;     /* percentile-bootstrap bounds, same unit as the samples */
};

/*
 * Percentile bootstrap of the median of x[0..n): b resamples of size n with
 * replacement from a xoshiro256** generator seeded with seed; each
 * resample's median is the type-7 median (as stats_dist_compute); lo and hi
 * are the type-7 (1-level)/2 and (1+level)/2 percentiles of the b medians.
 * x is not modified.  0, -EINVAL (n == 0, b == 0, level outside (0,1)) or
 * -ENOMEM.
 */
int analysis_median_ci(const int64_t *x, size_t n, unsigned b, double level, uint64_t seed,
		       struct analysis_ci *out);

struct analysis_mw {
	size_t n1, n2;
	double u;   /* U of the first sample: R1 - n1(n1+1)/2 (scipy's "statistic") */
	double z;   /* signed, continuity-corrected: > 0 when the first sample tends larger */
	double p;   /* two-sided p-value, in [0, 1] */
};

/*
 * Mann-Whitney U test of x[0..nx) against y[0..ny): midranks for ties,
 * sigma^2 = n1 n2 / 12 * ((n + 1) - sum(t^3 - t) / (n (n - 1))),
 * p = min(1, 2 * Q((|U - n1 n2 / 2| - 0.5) / sigma)) with Q the standard
 * normal upper tail.  The normal approximation is good from about 20
 * samples per side; below that it is still returned (exact tests are not
 * implemented).  When every value is tied (sigma = 0), z = 0 and p = 1.
 * 0, -EINVAL (an empty sample) or -ENOMEM.
 */
int analysis_mann_whitney(const int64_t *x, size_t nx, const int64_t *y, size_t ny,
			  struct analysis_mw *out);

/* Standard normal upper tail Q(z) = P(Z > z). */
double analysis_norm_sf(double z);

#endif
