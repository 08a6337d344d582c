/*
 * Time on the wire and in the data path.
 *
 * TWAMP carries 64-bit NTP timestamps (RFC 4656 §4.1.2, RFC 5905 §6) and a
 * 16-bit Error Estimate.  Inside the suite, instants are integer nanoseconds
 * since the Unix epoch (CLOCK_REALTIME, for the wire) or since boot
 * (CLOCK_MONOTONIC, for scheduling); durations are integer nanoseconds.
 * Conversions are era-safe: NTP values are only ever subtracted, or placed in
 * the era closest to a local reference (spec twamp-test.md §2).
 */
#ifndef TK_TSTAMP_H
#define TK_TSTAMP_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define TS_NTP_UNIX_OFFSET 2208988800ULL /* seconds 1900-01-01 -> 1970-01-01 */
#define TS_NSEC_PER_SEC 1000000000LL

/* 64-bit NTP timestamp as one integer: seconds << 32 | fraction. */
typedef uint64_t ntp64_t;

/* Where a timestamp came from, weakest first. */
enum ts_source {
	TS_SRC_NONE = 0,  /* not taken */
	TS_SRC_USER,      /* clock_gettime() in user space */
	TS_SRC_KERNEL,    /* kernel software timestamp (SO_TIMESTAMPING/NS) */
	TS_SRC_HARDWARE,  /* NIC hardware timestamp */
};

/* One instant: Unix-epoch nanoseconds plus its provenance. */
struct ts_stamp {
	int64_t ns;
	enum ts_source src;
};

const char *ts_source_name(enum ts_source src);

/* Unix nanoseconds -> NTP64, fraction floored (spec §2.1); seconds wrap mod 2^32. */
ntp64_t ts_ntp_from_unix_ns(int64_t unix_ns);

/*
 * NTP64 -> Unix nanoseconds, fraction rounded to nearest (spec §2.2), in the
 * NTP era that puts the result closest to ref_unix_ns (normally "now").
 * Saturates at INT64_MIN/INT64_MAX for references near the int64 limits.
 */
int64_t ts_ntp_to_unix_ns(ntp64_t t, int64_t ref_unix_ns);

/* a - b in nanoseconds (rounded), correct across the 2036 wrap for |a-b| < 68 years. */
int64_t ts_ntp_diff_ns(ntp64_t a, ntp64_t b);

/* Signed count of 2^-32 s units -> nanoseconds, rounded to nearest. */
int64_t ts_ntp_units_to_ns(int64_t units);

/* Clock reads in integer nanoseconds. */
int64_t ts_realtime_ns(void);
int64_t ts_monotonic_ns(void);
int64_t ts_timespec_to_ns(const struct timespec *t);
struct timespec ts_ns_to_timespec(int64_t ns);

/*
 * Error Estimate (RFC 4656 §4.1.2): S(1) Z(1) Scale(6) Multiplier(8),
 * error = Multiplier * 2^(Scale-32) s.
 */
struct ts_error_estimate {
	bool synced;        /* S */
	bool z;             /* Z: MBZ in TWAMP, PTP format flag in RFC 8186/STAMP */
	uint8_t scale;      /* 0..63 */
	uint8_t multiplier; /* 0 means "corrupt" on receive; never encoded */
};

/*
 * Smallest representable estimate not below err_ns (spec §3.1, checklist A9);
 * the Multiplier is never 0 (A6).  Z is written as 0 (A8).
 */
uint16_t ts_ee_encode(bool synced, uint64_t err_ns);
void ts_ee_decode(uint16_t word, struct ts_error_estimate *out);
/* The estimate in nanoseconds, rounded up (it is a bound), saturating at UINT64_MAX. */
uint64_t ts_ee_error_ns(uint16_t word);
/* True when the timestamp it describes is usable (Multiplier != 0, A10). */
bool ts_ee_valid(uint16_t word);
bool ts_ee_synced(uint16_t word);

/* What the kernel says about CLOCK_REALTIME (adjtimex). */
struct ts_clock_status {
	bool synced;           /* an external reference disciplines the clock */
	uint64_t max_error_ns; /* kernel's maximum error bound */
	uint64_t est_error_ns; /* kernel's estimated error */
	uint64_t resolution_ns;/* clock_getres(CLOCK_REALTIME) */
};

/* Reads adjtimex(); returns 0 or -errno.  Never claims sync the kernel does not report. */
int ts_clock_status_read(struct ts_clock_status *st);

/*
 * Error Estimate word for timestamps from a clock in this state: S from
 * synced; error bound = resolution + maximum error, where an unsynchronized
 * clock counts at least 16 s (the kernel's own maxerror cap), so the
 * estimate is an honest upper bound.  NULL counts as unsynchronized.
 */
uint16_t ts_clock_error_estimate(const struct ts_clock_status *st);

#endif
