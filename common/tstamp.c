/*
 * Time on the wire: 64-bit NTP timestamps, the 16-bit Error Estimate and
 * what the kernel knows about the clock (spec twamp-test.md §2 and §3).
 * Everything is integer arithmetic: Unix nanoseconds in int64_t, NTP values
 * as one uint64_t, products that could overflow 64 bits done in 128 bits.
 * Encoding floors the fraction and decoding rounds it, which makes
 * ns -> NTP -> ns an exact round trip for every nanosecond value.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/timex.h>
#include <time.h>

#include "tstamp.h"

typedef unsigned __int128 u128;

/* Used when the kernel cannot vouch for the clock (its own maxerror cap). */
#define TS_UNSYNCED_ERROR_NS (UINT64_C(16) * 1000000000u)

const char *ts_source_name(enum ts_source src)
{
	switch (src) {
	case TS_SRC_NONE:
		return "none";
	case TS_SRC_USER:
		return "user";
	case TS_SRC_KERNEL:
		return "kernel";
	case TS_SRC_HARDWARE:
		return "hardware";
	}
	return "unknown";
}

/* Floor division so that times before 1970 still get a fraction in [0, 1 s). */
static void split_ns(int64_t ns, int64_t *sec, uint32_t *nsec)
{
	int64_t s = ns / TS_NSEC_PER_SEC;
	int64_t r = ns % TS_NSEC_PER_SEC;

	if (r < 0) {
		r += TS_NSEC_PER_SEC;
		s -= 1;
	}
	*sec = s;
	*nsec = (uint32_t)r;
}

ntp64_t ts_ntp_from_unix_ns(int64_t unix_ns)
{
	int64_t sec;
	uint32_t nsec;

	split_ns(unix_ns, &sec, &nsec);
	/* Unsigned addition wraps modulo 2^64; the low 32 bits are the era-relative seconds. */
	uint32_t ntp_sec = (uint32_t)((uint64_t)sec + TS_NTP_UNIX_OFFSET);
	uint32_t frac = (uint32_t)(((uint64_t)nsec << 32) / (uint64_t)TS_NSEC_PER_SEC);
	return (ntp64_t)ntp_sec << 32 | frac;
}

int64_t ts_ntp_to_unix_ns(ntp64_t t, int64_t ref_unix_ns)
{
	uint32_t ntp_sec = (uint32_t)(t >> 32);
	uint64_t frac = (uint32_t)t;
	int64_t nsec = (int64_t)((frac * (uint64_t)TS_NSEC_PER_SEC + 0x80000000u) >> 32);
	int64_t ref_sec;
	uint32_t ref_nsec;

	split_ns(ref_unix_ns, &ref_sec, &ref_nsec);
	uint32_t ref_ntp_sec = (uint32_t)((uint64_t)ref_sec + TS_NTP_UNIX_OFFSET);
	/* The era is chosen implicitly: the signed 32-bit distance is the nearest one. */
	int64_t sec = ref_sec + (int32_t)(ntp_sec - ref_ntp_sec);
	int64_t ns;

	if (__builtin_mul_overflow(sec, TS_NSEC_PER_SEC, &ns) ||
	    __builtin_add_overflow(ns, nsec, &ns))
		return sec < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

int64_t ts_ntp_units_to_ns(int64_t units)
{
	/* Round half away from zero so that -x converts to exactly -(x). */
	bool neg = units < 0;
	u128 mag = neg ? (u128)(-(units + 1)) + 1 : (u128)units;
	u128 ns = (mag * (u128)TS_NSEC_PER_SEC + ((u128)1 << 31)) >> 32;

	/* |units| <= 2^63 gives |ns| <= 2^31 * 1e9 < 2^62: no overflow possible. */
	return neg ? -(int64_t)ns : (int64_t)ns;
}

int64_t ts_ntp_diff_ns(ntp64_t a, ntp64_t b)
{
	/* Two's-complement difference of the unsigned values is right across the 2036 wrap. */
	return ts_ntp_units_to_ns((int64_t)(a - b));
}

int64_t ts_timespec_to_ns(const struct timespec *t)
{
	return (int64_t)t->tv_sec * TS_NSEC_PER_SEC + t->tv_nsec;
}

struct timespec ts_ns_to_timespec(int64_t ns)
{
	struct timespec t;
	int64_t sec;
	uint32_t nsec;

	split_ns(ns, &sec, &nsec);
	t.tv_sec = (time_t)sec;
	t.tv_nsec = (long)nsec;
	return t;
}

static int64_t clock_ns(clockid_t id)
{
	struct timespec t;

	/* Cannot fail for these clock ids on Linux; 0 is an obvious "no time" if it did. */
	if (clock_gettime(id, &t) != 0)
		return 0;
	return ts_timespec_to_ns(&t);
}

int64_t ts_realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

int64_t ts_monotonic_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

uint16_t ts_ee_encode(bool synced, uint64_t err_ns)
{
	/* Error bound in 2^-32 s units times 1e9, so no precision is lost before the ceil. */
	u128 num = (u128)err_ns << 32;
	uint16_t s = synced ? 0x8000 : 0;

	for (unsigned scale = 0; scale < 64; scale++) {
		u128 den = (u128)TS_NSEC_PER_SEC << scale;
		u128 mult = (num + den - 1) / den;

		if (mult < 1)
			mult = 1; /* A6: a Multiplier of 0 would mark the packet corrupt */
		if (mult <= 255)
			return (uint16_t)(s | scale << 8 | (unsigned)mult);
	}
	return (uint16_t)(s | 63u << 8 | 255u);
}

void ts_ee_decode(uint16_t word, struct ts_error_estimate *out)
{
	out->synced = (word & 0x8000) != 0;
	out->z = (word & 0x4000) != 0;
	out->scale = (uint8_t)(word >> 8 & 0x3f);
	out->multiplier = (uint8_t)word;
}

uint64_t ts_ee_error_ns(uint16_t word)
{
	unsigned scale = word >> 8 & 0x3f;
	u128 v = (u128)(word & 0xff) * (u128)TS_NSEC_PER_SEC << scale;
	/* Rounded up: the value is an error bound, so it must not shrink. */
	u128 ns = (v + UINT32_MAX) >> 32;

	return ns > UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

bool ts_ee_valid(uint16_t word)
{
	return (word & 0xff) != 0;
}

bool ts_ee_synced(uint16_t word)
{
	return (word & 0x8000) != 0;
}

int ts_clock_status_read(struct ts_clock_status *st)
{
	struct timex tx = { .modes = 0 }; /* modes 0: read only, needs no privilege */
	struct timespec res;

	if (!st)
		return -EINVAL;
	int state = adjtimex(&tx);
	if (state < 0)
		return -errno;
	if (clock_getres(CLOCK_REALTIME, &res) != 0)
		return -errno;

	st->synced = !(tx.status & STA_UNSYNC) && state != TIME_ERROR;
	/* The kernel reports both errors in microseconds. */
	st->max_error_ns = tx.maxerror > 0 ? (uint64_t)tx.maxerror * 1000u : 0;
	st->est_error_ns = tx.esterror > 0 ? (uint64_t)tx.esterror * 1000u : 0;
	st->resolution_ns = (uint64_t)ts_timespec_to_ns(&res);
	return 0;
}

uint16_t ts_clock_error_estimate(const struct ts_clock_status *st)
{
	if (!st)
		return ts_ee_encode(false, TS_UNSYNCED_ERROR_NS);

	uint64_t err = st->max_error_ns;
	if (!st->synced && err < TS_UNSYNCED_ERROR_NS)
		err = TS_UNSYNCED_ERROR_NS;
	uint64_t bound;
	if (__builtin_add_overflow(err, st->resolution_ns, &bound))
		bound = UINT64_MAX;
	return ts_ee_encode(st->synced, bound);
}
