/*
 * Unit tests for common/tstamp.c: the NTP64 vectors of twamp-test.md §2.4
 * in both directions, the 2036 era wrap, exact ns round trips, the Error
 * Estimate table of §3.1 and the clock status mapping (checklist A1-A10).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "tstamp.h"
#include "wire_test.h"

#define NS(sec, nsec) ((int64_t)(sec) * TS_NSEC_PER_SEC + (nsec))
#define NTP(sec, frac) ((ntp64_t)(uint32_t)(sec) << 32 | (uint32_t)(frac))

typedef unsigned __int128 u128;

struct ntp_vector {
	int64_t unix_ns;
	uint8_t octets[8];
};

/* twamp-test.md §2.4 */
static const struct ntp_vector vectors[] = {
	{ NS(0, 0), { 0x83, 0xaa, 0x7e, 0x80, 0x00, 0x00, 0x00, 0x00 } },          /* A2 */
	{ NS(1234567890, 0), { 0xcd, 0x40, 0x81, 0x52, 0x00, 0x00, 0x00, 0x00 } },
	{ NS(1700000000, 123456789), { 0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37 } }, /* A1 */
	{ NS(1700000000, 500000000), { 0xe8, 0xfe, 0x6f, 0x80, 0x80, 0x00, 0x00, 0x00 } },
	{ NS(1700000000, 999999999), { 0xe8, 0xfe, 0x6f, 0x80, 0xff, 0xff, 0xff, 0xfb } },
	{ NS(2085978495, 999999999), { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb } },
	{ NS(2085978496, 0), { 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00 } },  /* A3: era 1 */
};

/* A1, A2, A3: encode every §2.4 vector and compare the wire octets. */
static void test_ntp_vectors_encode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		uint8_t out[8];

		wire_put_ntp64(out, ts_ntp_from_unix_ns(vectors[i].unix_ns));
		assert_memory_equal(out, vectors[i].octets, 8);
	}
	/* floor, not round: .999999999 gives ...fb, round-to-nearest would give ...fc */
	assert_int_equal((uint32_t)ts_ntp_from_unix_ns(NS(1700000000, 999999999)), 0xfffffffbu);
	assert_int_equal(ts_ntp_from_unix_ns(NS(1700000000, 123456789)), NTP(3908988800u, 530242871u));
	assert_int_equal(ts_ntp_from_unix_ns(NS(1234567890, 0)), NTP(3443556690u, 0));
}

/* §2.4 in the other direction: octets -> ns with a reference in the same era. */
static void test_ntp_vectors_decode(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		ntp64_t t = wire_get_ntp64(vectors[i].octets);
		int64_t want = vectors[i].unix_ns;

		assert_int_equal(ts_ntp_to_unix_ns(t, want), want);
		/* a reference 10 years off still lands in the right era */
		assert_int_equal(ts_ntp_to_unix_ns(t, want + NS(315360000, 0)), want);
		assert_int_equal(ts_ntp_to_unix_ns(t, want - NS(315360000, 0)), want);
	}
}

/* §2.4 microsecond variant: 1700000000 s + 123456 us -> fraction 0x1f9acffa. */
static void test_ntp_microseconds(void **state)
{
	(void)state;
	uint32_t frac_us = (uint32_t)(((uint64_t)123456 << 32) / 1000000);

	assert_int_equal(frac_us, 0x1f9acffau);
	ntp64_t t = ts_ntp_from_unix_ns(NS(1700000000, 123456000));
	assert_int_equal(t, NTP(3908988800u, 0x1f9acffau));
	assert_int_equal(ts_ntp_to_unix_ns(t, NS(1700000000, 0)), NS(1700000000, 123456000));
}

/* A3: the seconds field wraps in 2036; the era closest to the reference is chosen. */
static void test_ntp_era(void **state)
{
	(void)state;
	ntp64_t before = ts_ntp_from_unix_ns(NS(2085978495, 500000000));
	ntp64_t after = ts_ntp_from_unix_ns(NS(2085978496, 500000000));

	assert_int_equal(before, NTP(0xffffffffu, 0x80000000u));
	assert_int_equal(after, NTP(0, 0x80000000u));
	/* difference across the wrap is +1 s (A3) and -1 s the other way */
	assert_int_equal(ts_ntp_diff_ns(after, before), NS(1, 0));
	assert_int_equal(ts_ntp_diff_ns(before, after), -NS(1, 0));

	/* all-zero NTP: 2036 when "now" is 2023, 1900 when "now" is 1901 */
	assert_int_equal(ts_ntp_to_unix_ns(0, NS(1700000000, 0)), NS(2085978496, 0));
	assert_int_equal(ts_ntp_to_unix_ns(0, NS(-2208988800LL + 86400, 0)), NS(-2208988800LL, 0));
	/* an era-0 value read in era 1 stays in era 0 when it is the closer one */
	assert_int_equal(ts_ntp_to_unix_ns(before, NS(2085978496 + 3600, 0)),
			 NS(2085978495, 500000000));
	assert_int_equal(ts_ntp_to_unix_ns(after, NS(2085978495 - 3600, 0)),
			 NS(2085978496, 500000000));
	/* 2023 read with a 2040 reference: still 2023 (17 years < 68) */
	assert_int_equal(ts_ntp_to_unix_ns(ts_ntp_from_unix_ns(NS(1700000000, 1)), NS(2208988800, 0)),
			 NS(1700000000, 1));
	/* era 1 encodings continue from seconds 0 */
	assert_int_equal(ts_ntp_from_unix_ns(NS(2085978496 + 100, 500000000)), NTP(100, 0x80000000u));
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64*: deterministic, so a failure reproduces */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

/* A4: floor on encode + round on decode is an exact round trip. */
static void test_ntp_round_trip(void **state)
{
	(void)state;
	static const int64_t edges[] = {
		0, 1, 999999999, 1000000000, NS(1700000000, 999999999), NS(1700000000, 1),
		NS(2085978495, 999999999), NS(2085978496, 0), NS(2085978496, 1), -1,
		NS(-2208988800LL, 0), NS(-2208988800LL, 999999999),
	};

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		assert_int_equal(ts_ntp_to_unix_ns(ts_ntp_from_unix_ns(edges[i]), edges[i]), edges[i]);

	for (int i = 0; i < 200000; i++) {
		/* any instant within +-2^62 ns (146 years) of 1970, reference up to 60 years away */
		int64_t ns = (int64_t)(rng() >> 2) - (INT64_C(1) << 61);
		int64_t off = (int64_t)(rng() % (uint64_t)NS(60LL * 365 * 86400, 0));
		int64_t ref = (rng() & 1) ? ns + off : ns - off;

		assert_int_equal(ts_ntp_to_unix_ns(ts_ntp_from_unix_ns(ns), ref), ns);
	}
	/* every sub-second value in a dense stride, including the .999999999 carry case */
	for (int64_t n = 0; n < TS_NSEC_PER_SEC; n += 997) {
		int64_t ns = NS(1700000000, n);
		assert_int_equal(ts_ntp_to_unix_ns(ts_ntp_from_unix_ns(ns), ns), ns);
	}
	/* the fraction 0xffffffff rounds up to the next second (carry) */
	assert_int_equal(ts_ntp_to_unix_ns(NTP(3908988800u, 0xffffffffu), NS(1700000000, 0)),
			 NS(1700000001, 0));
}

/* §2.3 arithmetic and B16: RTT 0x00ccaec9 units = 3.123211 ms. */
static void test_ntp_diff(void **state)
{
	(void)state;
	ntp64_t t1 = NTP(0xe8fe6f80u, 0x1f9add37u);
	ntp64_t t2 = NTP(0xe8fe6f80u, 0x20000000u);
	ntp64_t t3 = NTP(0xe8fe6f80u, 0x20014f8bu);
	ntp64_t t4 = NTP(0xe8fe6f80u, 0x2068db8bu);

	assert_int_equal(t4 - t1, 13499988);
	assert_int_equal(t3 - t2, 85899);
	assert_int_equal((t4 - t1) - (t3 - t2), 0x00ccaec9);
	assert_int_equal(ts_ntp_units_to_ns(0x00ccaec9), 3123211);
	assert_int_equal(ts_ntp_diff_ns(t2, t1), 1543211);  /* forward */
	assert_int_equal(ts_ntp_diff_ns(t4, t3), 1580000);  /* reverse */
	assert_int_equal(ts_ntp_diff_ns(t1, t2), -1543211); /* negative, symmetric */

	assert_int_equal(ts_ntp_units_to_ns(0), 0);
	assert_int_equal(ts_ntp_units_to_ns(1), 0);           /* 0.23 ns */
	assert_int_equal(ts_ntp_units_to_ns(3), 1);           /* 0.70 ns */
	assert_int_equal(ts_ntp_units_to_ns(-3), -1);
	assert_int_equal(ts_ntp_units_to_ns(INT64_C(1) << 32), NS(1, 0));
	assert_int_equal(ts_ntp_units_to_ns(-(INT64_C(1) << 32)), -NS(1, 0));
	/* extremes: +-2^31 s, no overflow */
	assert_int_equal(ts_ntp_units_to_ns(INT64_MIN), -NS(INT64_C(1) << 31, 0));
	assert_int_equal(ts_ntp_units_to_ns(INT64_MAX), NS(INT64_C(1) << 31, 0));
	/* half a nanosecond exactly: 2^32 / 2e9 units is not an integer; check near it */
	assert_int_equal(ts_ntp_units_to_ns(2), 0);           /* 0.466 ns */
	assert_int_equal(ts_ntp_diff_ns(t1, t1), 0);
}

static void test_timespec(void **state)
{
	(void)state;
	struct timespec t = { .tv_sec = 12, .tv_nsec = 345 };

	assert_int_equal(ts_timespec_to_ns(&t), NS(12, 345));
	t = ts_ns_to_timespec(NS(1700000000, 123456789));
	assert_int_equal(t.tv_sec, 1700000000);
	assert_int_equal(t.tv_nsec, 123456789);
	t = ts_ns_to_timespec(-1);
	assert_int_equal(t.tv_sec, -1);
	assert_int_equal(t.tv_nsec, 999999999);
	assert_int_equal(ts_timespec_to_ns(&t), -1);
}

static void test_clock_reads(void **state)
{
	(void)state;
	int64_t m1 = ts_monotonic_ns();
	int64_t r = ts_realtime_ns();
	int64_t m2 = ts_monotonic_ns();

	assert_true(m1 > 0);
	assert_true(m2 >= m1);
	assert_true(r > NS(1600000000, 0)); /* after 2020 */
	assert_string_equal(ts_source_name(TS_SRC_NONE), "none");
	assert_string_equal(ts_source_name(TS_SRC_USER), "user");
	assert_string_equal(ts_source_name(TS_SRC_KERNEL), "kernel");
	assert_string_equal(ts_source_name(TS_SRC_HARDWARE), "hardware");
	assert_string_equal(ts_source_name((enum ts_source)42), "unknown");
}

/* A9: the §3.1 table. */
static void test_ee_table(void **state)
{
	(void)state;
	assert_int_equal(ts_ee_encode(true, 1), 0x8005);
	assert_int_equal(ts_ee_encode(true, 100), 0x81d7);
	assert_int_equal(ts_ee_encode(true, 1000), 0x8587);
	assert_int_equal(ts_ee_encode(true, 1000000), 0x8f84);
	assert_int_equal(ts_ee_encode(false, 10000000), 0x12a4);
	assert_int_equal(ts_ee_encode(false, 1000000000), 0x1980);
	/* encoded errors from the table (rounded up to whole ns) */
	assert_int_equal(ts_ee_error_ns(0x8005), 2);        /* 1.164 ns */
	assert_int_equal(ts_ee_error_ns(0x81d7), 101);      /* 100.1 ns */
	assert_int_equal(ts_ee_error_ns(0x8f84), 1007081);  /* 1.00708 ms */
	assert_int_equal(ts_ee_error_ns(0x12a4), 10009766); /* 10.0098 ms */
	assert_int_equal(ts_ee_error_ns(0x1980), 1000000000);
}

/* A5: 0x8587 decodes to S=1, Scale 5, Multiplier 135, 1.0058 us. */
static void test_ee_decode(void **state)
{
	(void)state;
	struct ts_error_estimate ee;

	ts_ee_decode(0x8587, &ee);
	assert_true(ee.synced);
	assert_false(ee.z);
	assert_int_equal(ee.scale, 5);
	assert_int_equal(ee.multiplier, 135);
	assert_int_equal(ts_ee_error_ns(0x8587), 1006); /* 1005.8 ns, rounded up */

	/* values seen in the field (§3.1): all accepted */
	ts_ee_decode(0x8001, &ee);
	assert_true(ee.synced);
	assert_int_equal(ee.scale, 0);
	assert_int_equal(ee.multiplier, 1);
	assert_true(ts_ee_valid(0x8001));
	assert_true(ts_ee_synced(0x8001));
	assert_int_equal(ts_ee_error_ns(0x8001), 1);    /* 233 ps, rounded up */

	ts_ee_decode(0x0001, &ee);
	assert_false(ee.synced);
	assert_false(ee.z);
	assert_int_equal(ee.scale, 0);
	assert_int_equal(ee.multiplier, 1);
	assert_true(ts_ee_valid(0x0001));
	assert_false(ts_ee_synced(0x0001));

	ts_ee_decode(0x3fff, &ee);                      /* twampy's sender */
	assert_false(ee.synced);
	assert_false(ee.z);
	assert_int_equal(ee.scale, 63);
	assert_int_equal(ee.multiplier, 255);
	assert_true(ts_ee_valid(0x3fff));
	assert_int_equal(ts_ee_error_ns(0x3fff), UINT64_MAX); /* 5.5e11 s saturates */

	/* A8: Z is reported but does not change validity, sync or the value */
	ts_ee_decode(0x4587, &ee);
	assert_true(ee.z);
	assert_false(ee.synced);
	assert_int_equal(ee.scale, 5);
	assert_int_equal(ee.multiplier, 135);
	assert_true(ts_ee_valid(0x4587));
	assert_int_equal(ts_ee_error_ns(0x4587), ts_ee_error_ns(0x0587));
}

/* A10: Multiplier 0 marks the timestamp as unusable. */
static void test_ee_multiplier_zero(void **state)
{
	(void)state;
	struct ts_error_estimate ee;

	assert_false(ts_ee_valid(0x8000));
	assert_false(ts_ee_valid(0x0500));
	assert_false(ts_ee_valid(0xff00));
	ts_ee_decode(0xff00, &ee);
	assert_true(ee.synced);
	assert_true(ee.z);
	assert_int_equal(ee.scale, 63);
	assert_int_equal(ee.multiplier, 0);
	assert_int_equal(ts_ee_error_ns(0xff00), 0);
}

/* A6, A8: error 0 encodes Multiplier 1; Z is never set by the encoder. */
static void test_ee_never_zero(void **state)
{
	(void)state;
	assert_int_equal(ts_ee_encode(true, 0), 0x8001);
	assert_int_equal(ts_ee_encode(false, 0), 0x0001);
	for (int i = 0; i < 100000; i++) {
		uint64_t e = rng() >> (rng() % 64);
		uint16_t w = ts_ee_encode(i & 1, e);

		assert_int_not_equal(w & 0xff, 0);
		assert_int_equal(w & 0x4000, 0);
		assert_int_equal(!!(w & 0x8000), i & 1);
	}
}

/*
 * A9: for any bound, the encoding is not below it, and it is the smallest:
 * the next smaller Multiplier at that Scale would be below the bound, and
 * the previous Scale could not hold it with Multiplier 255.
 */
static void test_ee_minimal(void **state)
{
	(void)state;
	static const uint64_t fixed[] = { 1, 2, 232, 233, 234, 59372, 59373, 59374, 1000000,
					  UINT64_MAX, UINT64_MAX - 1, (uint64_t)1 << 63 };

	for (int i = 0; i < 100000 + (int)(sizeof(fixed) / sizeof(fixed[0])); i++) {
		uint64_t e = i < (int)(sizeof(fixed) / sizeof(fixed[0])) ?
			     fixed[i] : rng() >> (rng() % 64);
		uint16_t w = ts_ee_encode(false, e);
		unsigned scale = w >> 8 & 0x3f;
		unsigned mult = w & 0xff;
		/* compare in units of 1e-9 * 2^-32 s, exactly */
		u128 bound = (u128)e << 32;
		u128 value = (u128)mult * 1000000000u << scale;

		assert_true(value >= bound);
		assert_true(ts_ee_error_ns(w) >= e);
		if (mult > 1)
			assert_true((u128)(mult - 1) * 1000000000u << scale < bound);
		if (scale > 0)
			assert_true((u128)255 * 1000000000u << (scale - 1) < bound);
	}
}

/* A7: the S bit follows the clock status, and the bound covers its errors. */
static void test_clock_error_estimate(void **state)
{
	(void)state;
	struct ts_clock_status synced = {
		.synced = true, .max_error_ns = 1000000, .est_error_ns = 1000, .resolution_ns = 1,
	};
	struct ts_clock_status unsynced = {
		.synced = false, .max_error_ns = 0, .est_error_ns = 0, .resolution_ns = 1,
	};
	struct ts_clock_status unsynced_big = {
		.synced = false, .max_error_ns = 20000000000ULL, .resolution_ns = 4000000,
	};
	struct ts_clock_status synced_huge = {
		.synced = true, .max_error_ns = UINT64_MAX, .resolution_ns = 1,
	};
	uint16_t w;

	w = ts_clock_error_estimate(&synced);
	assert_true(ts_ee_synced(w));
	assert_int_equal(w, ts_ee_encode(true, 1000001));
	assert_true(ts_ee_error_ns(w) >= 1000001);

	w = ts_clock_error_estimate(&unsynced);
	assert_false(ts_ee_synced(w));
	assert_int_equal(w, ts_ee_encode(false, 16000000001ULL));
	assert_true(ts_ee_error_ns(w) >= 16000000001ULL);

	w = ts_clock_error_estimate(&unsynced_big);
	assert_false(ts_ee_synced(w));
	assert_int_equal(w, ts_ee_encode(false, 20004000000ULL));

	w = ts_clock_error_estimate(&synced_huge); /* saturating sum */
	assert_true(ts_ee_synced(w));
	assert_int_equal(w, ts_ee_encode(true, UINT64_MAX));

	w = ts_clock_error_estimate(NULL);
	assert_false(ts_ee_synced(w));
	assert_true(ts_ee_valid(w));
}

/* A7: reading the real kernel state works and yields a consistent estimate. */
static void test_clock_status_read(void **state)
{
	(void)state;
	struct ts_clock_status st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(ts_clock_status_read(&st), 0);
	assert_true(st.resolution_ns >= 1);
	assert_true(st.resolution_ns <= 10000000); /* <= 10 ms on any sane system */
	assert_true(st.max_error_ns <= 100000000000ULL);
	assert_true(st.est_error_ns <= 100000000000ULL);
	uint16_t w = ts_clock_error_estimate(&st);
	assert_int_equal(ts_ee_synced(w), st.synced);
	assert_true(ts_ee_valid(w));
	if (!st.synced)
		assert_true(ts_ee_error_ns(w) >= 16000000000ULL);
	assert_int_equal(ts_clock_status_read(NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ntp_vectors_encode),
		cmocka_unit_test(test_ntp_vectors_decode),
		cmocka_unit_test(test_ntp_microseconds),
		cmocka_unit_test(test_ntp_era),
		cmocka_unit_test(test_ntp_round_trip),
		cmocka_unit_test(test_ntp_diff),
		cmocka_unit_test(test_timespec),
		cmocka_unit_test(test_clock_reads),
		cmocka_unit_test(test_ee_table),
		cmocka_unit_test(test_ee_decode),
		cmocka_unit_test(test_ee_multiplier_zero),
		cmocka_unit_test(test_ee_never_zero),
		cmocka_unit_test(test_ee_minimal),
		cmocka_unit_test(test_clock_error_estimate),
		cmocka_unit_test(test_clock_status_read),
	};

	return cmocka_run_group_tests_name("tstamp", tests, NULL, NULL);
}
