/*
 * Unit tests for common/stats: type-7 percentiles against hand-computed
 * values (the same figures R's quantile() and numpy.percentile() give),
 * moments without overflow near the int64 range, IPDV that never spans a
 * gap, loss/duplicate/skip accounting, the forward/reverse loss split rule,
 * the RFC 4737 arrival tracker and exclusion of corrupt timestamps (A10).
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "stats.h"

/* cmocka 1.1 only compares floats; figures here need double precision. */
static void near_at(double got, double want, double eps, const char *file, int line)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("%.17g != %.17g (eps %g)\n", got, want, eps);
		_fail(file, line);
	}
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)

#define EPS 1e-9

/* --- distributions ------------------------------------------------------ */

static void test_dist_odd(void **state)
{
	const int64_t v[] = {5, 1, 4, 2, 3};
	int64_t copy[5];
	struct stats_dist d;

	(void)state;
	memcpy(copy, v, sizeof(v));
	assert_int_equal(stats_dist_compute(v, 5, &d), 0);
	assert_memory_equal(v, copy, sizeof(v)); /* input left untouched */
	assert_int_equal(d.n, 5);
	assert_near(d.min, 1, 0);
	assert_near(d.p25, 2, EPS);    /* h = 4 * .25 = 1 */
	assert_near(d.median, 3, EPS);
	assert_near(d.p75, 4, EPS);
	assert_near(d.p90, 4.6, EPS);  /* h = 3.6: 4 + .6 * (5 - 4) */
	assert_near(d.p99, 4.96, EPS); /* h = 3.96 */
	assert_near(d.max, 5, 0);
	assert_near(d.mean, 3, EPS);
	assert_near(d.sd, sqrt(2.5), EPS); /* sample sd: sum sq dev 10 over n-1 = 4 */
}

static void test_dist_even(void **state)
{
	const int64_t v[] = {10, 40, 20, 30};
	struct stats_dist d;

	(void)state;
	assert_int_equal(stats_dist_compute(v, 4, &d), 0);
	assert_int_equal(d.n, 4);
	assert_near(d.min, 10, 0);
	assert_near(d.p25, 17.5, EPS);   /* h = .75 */
	assert_near(d.median, 25, EPS);  /* h = 1.5: mean of the middle two */
	assert_near(d.p75, 32.5, EPS);   /* h = 2.25 */
	assert_near(d.p90, 37, EPS);     /* h = 2.7 */
	assert_near(d.p99, 39.7, EPS);   /* h = 2.97 */
	assert_near(d.max, 40, 0);
	assert_near(d.mean, 25, EPS);
	assert_near(d.sd, sqrt(500.0 / 3.0), EPS);
}

static void test_dist_single(void **state)
{
	const int64_t v[] = {42};
	struct stats_dist d;

	(void)state;
	assert_int_equal(stats_dist_compute(v, 1, &d), 0);
	assert_int_equal(d.n, 1);
	assert_near(d.min, 42, 0);
	assert_near(d.p25, 42, 0);
	assert_near(d.median, 42, 0);
	assert_near(d.p99, 42, 0);
	assert_near(d.max, 42, 0);
	assert_near(d.mean, 42, 0);
	assert_near(d.sd, 0, 0); /* defined as 0, never NaN */
}

static void test_dist_negative(void **state)
{
	const int64_t v[] = {-5, -1, -3};
	struct stats_dist d;

	(void)state;
	assert_int_equal(stats_dist_compute(v, 3, &d), 0);
	assert_near(d.min, -5, 0);
	assert_near(d.p25, -4, EPS);
	assert_near(d.median, -3, EPS);
	assert_near(d.p75, -2, EPS);
	assert_near(d.p90, -1.4, EPS);
	assert_near(d.p99, -1.04, EPS);
	assert_near(d.max, -1, 0);
	assert_near(d.mean, -3, EPS);
	assert_near(d.sd, 2, EPS);
}

static void test_dist_large(void **state)
{
	/* A naive int64 sum overflows on the first addition. */
	const int64_t near_max[] = {INT64_MAX, INT64_MAX - 2, INT64_MAX - 4};
	/* Opposite extremes: max - min does not fit in int64. */
	const int64_t extremes[] = {INT64_MAX, INT64_MIN};
	struct stats_dist d;

	(void)state;
	assert_int_equal(stats_dist_compute(near_max, 3, &d), 0);
	assert_near(d.mean, (double)INT64_MAX, 4096);
	assert_near(d.sd, 2, 0); /* deviations from the middle sample are exact */
	assert_near(d.max, (double)INT64_MAX, 0);
	assert_true(d.median > 9.2e18 && isfinite(d.p99));

	assert_int_equal(stats_dist_compute(extremes, 2, &d), 0);
	assert_near(d.min, (double)INT64_MIN, 0);
	assert_near(d.max, (double)INT64_MAX, 0);
	assert_near(d.sd, 0x1p63 * sqrt(2.0), 0x1p63 * sqrt(2.0) * 1e-12);
#if LDBL_MANT_DIG >= 64
	/* -2^63 + (2^64 - 1) / 2 = -0.5 exactly, with a 64-bit mantissa. */
	assert_near(d.median, -0.5, 0);
	assert_near(d.mean, -0.5, 0);
#endif
}

static void test_dist_empty_and_errors(void **state)
{
	const int64_t v[] = {1};
	struct stats_dist d;

	(void)state;
	memset(&d, 0xab, sizeof(d));
	assert_int_equal(stats_dist_compute(NULL, 0, &d), 0);
	assert_int_equal(d.n, 0);
	assert_near(d.median, 0, 0);
	assert_int_equal(stats_dist_compute(NULL, 3, &d), -EINVAL);
	assert_int_equal(stats_dist_compute(v, 1, NULL), -EINVAL);
}

static void test_percentile_bounds(void **state)
{
	const int64_t s[] = {-7, 0, 100};

	(void)state;
	assert_near(stats_percentile_sorted(s, 3, 0), -7, 0);
	assert_near(stats_percentile_sorted(s, 3, 100), 100, 0);
	assert_near(stats_percentile_sorted(s, 3, 50), 0, 0);
	assert_near(stats_percentile_sorted(s, 3, 75), 50, EPS);
	/* Out-of-range p clamps instead of reading outside the array. */
	assert_near(stats_percentile_sorted(s, 3, -1), -7, 0);
	assert_near(stats_percentile_sorted(s, 3, 250), 100, 0);
	assert_near(stats_percentile_sorted(s, 3, NAN), -7, 0);
	assert_near(stats_percentile_sorted(NULL, 0, 50), 0, 0);
}

static void test_proto_name(void **state)
{
	(void)state;
	assert_string_equal(probe_proto_name(PROBE_TWAMP), "twamp");
	assert_string_equal(probe_proto_name(PROBE_ICMP), "icmp");
	assert_string_equal(probe_proto_name((enum probe_proto)7), "unknown");
}

/* --- summaries ---------------------------------------------------------- */

/* A received TWAMP probe with usable, synchronized timestamps. */
static struct probe_result rx(uint32_t seq, int64_t rtt)
{
	struct probe_result p;

	memset(&p, 0, sizeof(p));
	p.proto = PROBE_TWAMP;
	p.seq = seq;
	p.refl_seq = seq;
	p.t1_ns = 1700000000000000000LL + (int64_t)seq * 1000000;
	p.rtt_ns = rtt;
	p.fwd_ns = rtt / 2;
	p.bwd_ns = rtt - rtt / 2;
	p.proc_ns = 1000;
	p.ttl = 255;
	p.sent = true;
	p.received = true;
	p.one_way_valid = true;
	p.ts_valid = true;
	return p;
}

static struct probe_result lost(uint32_t seq)
{
	struct probe_result p = rx(seq, 0);

	p.received = false;
	p.one_way_valid = false;
	p.ts_valid = false;
	p.ttl = -1;
	return p;
}

static void test_ipdv_gap(void **state)
{
	/* RFC 5481 IPDV: pairs (0,1) and (3,4), (4,5); nothing across lost 2. */
	struct probe_result p[] = {
		rx(0, 100), rx(1, 110), lost(2), rx(3, 130), rx(4, 125), rx(5, 140),
	};
	struct stats_summary s;

	(void)state;
	assert_int_equal(stats_summarize(p, 6, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.ipdv.n, 3);
	assert_near(s.ipdv.min, -5, 0);
	assert_near(s.ipdv.median, 10, EPS);
	assert_near(s.ipdv.max, 15, 0); /* 130 - 110 = 20 would mean a pair across the gap */
	assert_near(s.ipdv.mean, 20.0 / 3.0, EPS);
	assert_int_equal(s.rtt.n, 5);
	assert_near(s.rtt.median, 125, EPS);

	/* The same records out of order give the same pairs. */
	struct probe_result q[] = {p[5], p[3], p[0], p[2], p[4], p[1]};

	assert_int_equal(stats_summarize(q, 6, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.ipdv.n, 3);
	assert_near(s.ipdv.median, 10, EPS);
	assert_near(s.ipdv.max, 15, 0);
}

static void test_loss_dup_skip(void **state)
{
	struct probe_result p[8];
	struct stats_summary s;

	(void)state;
	p[0] = rx(0, 1000);
	p[1] = rx(1, 1100);
	p[1].dup = 2;
	p[2] = lost(2);
	p[3] = lost(3);
	p[3].sent = false; /* skipped by the scheduler: neither sent nor lost */
	p[4] = rx(4, 1200);
	p[4].dup = 1;
	p[5] = lost(5);
	/* ICMP records in the same array must not leak into the TWAMP figures. */
	p[6] = lost(0);
	p[6].proto = PROBE_ICMP;
	p[7] = rx(1, 5000);
	p[7].proto = PROBE_ICMP;
	p[7].one_way_valid = false;
	p[7].dup = 4;

	assert_int_equal(stats_summarize(p, 8, PROBE_TWAMP, 7, &s), 0);
	assert_int_equal(s.sent, 5);
	assert_int_equal(s.received, 3);
	assert_int_equal(s.lost, 2);
	assert_near(s.loss_pct, 40.0, EPS);
	assert_int_equal(s.duplicates, 3);
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.reordered, 7); /* passed through from the tracker */
	assert_int_equal(s.invalid_ts, 0);
	assert_true(s.one_way_valid);
	assert_int_equal(s.rtt.n, 3);
	assert_near(s.rtt.max, 1200, 0);
	assert_int_equal(s.proc.n, 3);
	assert_near(s.proc.median, 1000, 0);
	assert_false(s.loss_split_valid); /* refl_seq == seq: stateless-looking */

	assert_int_equal(stats_summarize(p, 8, PROBE_ICMP, 0, &s), 0);
	assert_int_equal(s.sent, 2);
	assert_int_equal(s.received, 1);
	assert_int_equal(s.lost, 1);
	assert_near(s.loss_pct, 50.0, EPS);
	assert_int_equal(s.duplicates, 4);
	assert_int_equal(s.rtt.n, 1);
	assert_near(s.rtt.median, 5000, 0);
	assert_int_equal(s.proc.n, 0); /* reflector processing is TWAMP only */
	assert_false(s.one_way_valid);
	assert_false(s.loss_split_valid); /* never for ICMP */

	/* Nothing of this protocol at all. */
	assert_int_equal(stats_summarize(p, 6, PROBE_ICMP, 0, &s), 0);
	assert_int_equal(s.sent, 0);
	assert_near(s.loss_pct, 0, 0);
	assert_int_equal(s.rtt.n, 0);
	assert_false(s.one_way_valid);
}

static void test_summarize_errors(void **state)
{
	struct stats_summary s;
	struct probe_result p = rx(0, 1);

	(void)state;
	assert_int_equal(stats_summarize(NULL, 1, PROBE_TWAMP, 0, &s), -EINVAL);
	assert_int_equal(stats_summarize(&p, 1, PROBE_TWAMP, 0, NULL), -EINVAL);
	assert_int_equal(stats_summarize(NULL, 0, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.sent, 0);
}

static void test_one_way_partial(void **state)
{
	struct probe_result p[] = {rx(0, 100), rx(1, 200), rx(2, 300)};
	struct stats_summary s;

	(void)state;
	assert_int_equal(stats_summarize(p, 3, PROBE_TWAMP, 0, &s), 0);
	assert_true(s.one_way_valid);
	assert_int_equal(s.fwd.n, 3);
	assert_near(s.fwd.median, 100, 0);
	assert_near(s.bwd.median, 100, 0);

	/* One reply without synchronized Error Estimates spoils the flag... */
	p[2].one_way_valid = false;
	assert_int_equal(stats_summarize(p, 3, PROBE_TWAMP, 0, &s), 0);
	assert_false(s.one_way_valid);
	/* ...while fwd/bwd still hold the probes that had it. */
	assert_int_equal(s.fwd.n, 2);
	assert_near(s.fwd.max, 100, 0);
	assert_int_equal(s.rtt.n, 3);
}

/* Stateful reflector: it counts what it reflected, from 0. */
static void set_refl(struct probe_result *p, size_t n, const uint32_t *refl)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i].refl_seq = refl[i];
}

static void test_split_forward_loss(void **state)
{
	/* Sender 0..9, request 3 lost on the way out: reflector numbers stay contiguous. */
	struct probe_result p[10];
	const uint32_t refl[10] = {0, 1, 2, 0, 3, 4, 5, 6, 7, 8};
	struct stats_summary s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		p[i] = i == 3 ? lost(i) : rx(i, 1000);
	set_refl(p, 10, refl);
	assert_int_equal(stats_summarize(p, 10, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.lost, 1);
	assert_true(s.loss_split_valid);
	assert_int_equal(s.fwd_lost, 1);
	assert_int_equal(s.bwd_lost, 0);
}

static void test_split_both_directions(void **state)
{
	/* Request 3 lost forward; reply 6 lost on the way back (reflector number 5 missing). */
	struct probe_result p[10];
	const uint32_t refl[10] = {0, 1, 2, 0, 3, 4, 5, 6, 7, 8};
	struct stats_summary s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		p[i] = (i == 3 || i == 6) ? lost(i) : rx(i, 1000);
	set_refl(p, 10, refl);
	assert_int_equal(stats_summarize(p, 10, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.lost, 2);
	assert_true(s.loss_split_valid);
	assert_int_equal(s.fwd_lost, 1);
	assert_int_equal(s.bwd_lost, 1);
}

static void test_split_skipped_stateful(void **state)
{
	/* Sender skipped 4 (never sent): a stateful counter goes on from 3 to 4 at seq 5. */
	struct probe_result p[10];
	const uint32_t refl[10] = {0, 1, 2, 3, 0, 4, 5, 6, 7, 8};
	struct stats_summary s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		p[i] = rx(i, 1000);
	p[4].sent = false;
	p[4].received = false;
	set_refl(p, 10, refl);
	assert_int_equal(stats_summarize(p, 10, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.sent, 9);
	assert_int_equal(s.skipped, 1);
	assert_int_equal(s.lost, 0);
	assert_true(s.loss_split_valid);
	assert_int_equal(s.fwd_lost, 0);
	assert_int_equal(s.bwd_lost, 0);
}

static void test_split_stateless(void **state)
{
	/*
	 * Decision: when refl_seq == seq for every reply, a stateless reflector
	 * (copies the sender number, C8) and a stateful one that lost nothing
	 * forward cannot be told apart, so the split stays unknown.  That covers
	 * both "stateless with probe 3 lost" and "stateful with reply 3 lost".
	 */
	struct probe_result p[10];
	struct stats_summary s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 10; i++)
		p[i] = i == 3 ? lost(i) : rx(i, 1000);
	assert_int_equal(stats_summarize(p, 10, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.lost, 1);
	assert_false(s.loss_split_valid);
	assert_int_equal(s.fwd_lost, 0);
	assert_int_equal(s.bwd_lost, 0);

	/* No loss at all: still nothing to split. */
	p[3] = rx(3, 1000);
	assert_int_equal(stats_summarize(p, 10, PROBE_TWAMP, 0, &s), 0);
	assert_false(s.loss_split_valid);
}

static void test_split_implausible_counter(void **state)
{
	/* A counter that starts at 1000 (left-over session): split refused. */
	struct probe_result p[5];
	struct stats_summary s;
	uint32_t i;

	(void)state;
	for (i = 0; i < 5; i++) {
		p[i] = rx(i, 1000);
		p[i].refl_seq = 1000 + i;
	}
	p[2] = lost(2);
	assert_int_equal(stats_summarize(p, 5, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.lost, 1);
	assert_false(s.loss_split_valid);
}

static void test_invalid_ts_excluded(void **state)
{
	/* A10: a reply whose Error Estimate has Multiplier 0 counts as received
	 * but none of its delays enter the distributions. */
	struct probe_result p[] = {rx(0, 100), rx(1, 200), rx(2, 999999999), rx(3, 300), rx(4, 310)};
	struct stats_summary s;

	(void)state;
	p[2].ts_valid = false;
	p[2].one_way_valid = false; /* must not spoil one_way_valid either */
	p[2].proc_ns = 777777;
	assert_int_equal(stats_summarize(p, 5, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.received, 5);
	assert_int_equal(s.lost, 0);
	assert_int_equal(s.invalid_ts, 1);
	assert_int_equal(s.rtt.n, 4);
	assert_near(s.rtt.max, 310, 0);
	assert_int_equal(s.proc.n, 4);
	assert_near(s.proc.max, 1000, 0);
	assert_true(s.one_way_valid);
	assert_int_equal(s.fwd.n, 4);
	/* IPDV pairs (0,1) and (3,4) only: the corrupt probe breaks the chain. */
	assert_int_equal(s.ipdv.n, 2);
	assert_near(s.ipdv.min, 10, 0);
	assert_near(s.ipdv.max, 100, 0);

	/* All replies corrupt: nothing to show, and one-way is not claimed. */
	for (size_t i = 0; i < 5; i++)
		p[i].ts_valid = false;
	assert_int_equal(stats_summarize(p, 5, PROBE_TWAMP, 0, &s), 0);
	assert_int_equal(s.invalid_ts, 5);
	assert_int_equal(s.rtt.n, 0);
	assert_int_equal(s.ipdv.n, 0);
	assert_false(s.one_way_valid);
}

/* --- arrival tracker ----------------------------------------------------- */

static void observe_all(struct stats_seq_tracker *t, const uint32_t *seq, size_t n, bool *reord)
{
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(stats_seq_observe(t, seq[i], &reord[i]), STATS_SEQ_FIRST);
}

static void test_seq_first_dup_range(void **state)
{
	struct stats_seq_tracker t;
	bool r = true;

	(void)state;
	assert_int_equal(stats_seq_init(&t, 70), 0); /* spans two bitmap words */
	assert_int_equal(stats_seq_observe(&t, 0, &r), STATS_SEQ_FIRST);
	assert_false(r);
	assert_int_equal(stats_seq_observe(&t, 69, &r), STATS_SEQ_FIRST);
	assert_false(r);
	assert_int_equal(stats_seq_observe(&t, 0, &r), STATS_SEQ_DUPLICATE);
	assert_false(r);
	assert_int_equal(stats_seq_observe(&t, 69, NULL), STATS_SEQ_DUPLICATE);
	assert_int_equal(stats_seq_observe(&t, 70, &r), STATS_SEQ_UNKNOWN);
	assert_int_equal(stats_seq_observe(&t, UINT32_MAX, &r), STATS_SEQ_UNKNOWN);
	assert_false(r);
	/* 64 arrives after 69: first arrival, but reordered. */
	assert_int_equal(stats_seq_observe(&t, 64, &r), STATS_SEQ_FIRST);
	assert_true(r);
	assert_int_equal(t.duplicates, 2);
	assert_int_equal(t.out_of_range, 2);
	assert_int_equal(t.reordered, 1);
	assert_int_equal(t.next_expected, 70);
	stats_seq_free(&t);
	assert_null(t.seen);
	stats_seq_free(&t); /* idempotent */
}

static void test_seq_rfc4737(void **state)
{
	/*
	 * RFC 4737 §3.3: a packet is reordered when its number is below
	 * NextExp, and NextExp = highest number seen + 1.  One late packet
	 * counts once; packets overtaken by a burst all count.
	 */
	const uint32_t one_late[] = {1, 2, 3, 5, 6, 7, 8, 9, 10, 4};
	const bool one_late_r[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	const uint32_t burst[] = {1, 2, 3, 7, 8, 9, 10, 4, 5, 6, 11};
	const bool burst_r[] = {0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0};
	struct stats_seq_tracker t;
	bool r[11];

	(void)state;
	assert_int_equal(stats_seq_init(&t, 12), 0);
	observe_all(&t, one_late, 10, r);
	assert_memory_equal(r, one_late_r, sizeof(one_late_r));
	assert_int_equal(t.reordered, 1);
	assert_int_equal(t.next_expected, 11);
	stats_seq_free(&t);

	assert_int_equal(stats_seq_init(&t, 12), 0);
	observe_all(&t, burst, 11, r);
	assert_memory_equal(r, burst_r, sizeof(burst_r));
	assert_int_equal(t.reordered, 3);
	assert_int_equal(t.duplicates, 0);
	stats_seq_free(&t);
}

static void test_seq_edge(void **state)
{
	struct stats_seq_tracker t;
	bool r;

	(void)state;
	assert_int_equal(stats_seq_init(NULL, 4), -EINVAL);
	/* Zero expected numbers: everything is unknown, nothing crashes. */
	assert_int_equal(stats_seq_init(&t, 0), 0);
	assert_int_equal(stats_seq_observe(&t, 0, &r), STATS_SEQ_UNKNOWN);
	assert_false(r);
	assert_int_equal(t.out_of_range, 1);
	stats_seq_free(&t);
	assert_int_equal(stats_seq_observe(NULL, 0, &r), STATS_SEQ_UNKNOWN);
	stats_seq_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dist_odd),
		cmocka_unit_test(test_dist_even),
		cmocka_unit_test(test_dist_single),
		cmocka_unit_test(test_dist_negative),
		cmocka_unit_test(test_dist_large),
		cmocka_unit_test(test_dist_empty_and_errors),
		cmocka_unit_test(test_percentile_bounds),
		cmocka_unit_test(test_proto_name),
		cmocka_unit_test(test_ipdv_gap),
		cmocka_unit_test(test_loss_dup_skip),
		cmocka_unit_test(test_summarize_errors),
		cmocka_unit_test(test_one_way_partial),
		cmocka_unit_test(test_split_forward_loss),
		cmocka_unit_test(test_split_both_directions),
		cmocka_unit_test(test_split_skipped_stateful),
		cmocka_unit_test(test_split_stateless),
		cmocka_unit_test(test_split_implausible_counter),
		cmocka_unit_test(test_invalid_ts_excluded),
		cmocka_unit_test(test_seq_first_dup_range),
		cmocka_unit_test(test_seq_rfc4737),
		cmocka_unit_test(test_seq_edge),
	};

	return cmocka_run_group_tests_name("stats", tests, NULL, NULL);
}
