/*
 * Exact statistics over probe results.
 *
 * Every figure is computed from all samples (no histograms, no streaming
 * estimates): percentiles by linear interpolation between closest ranks
 * (Hyndman-Fan type 7, the R and numpy default), mean and sample standard
 * deviation, IPDV per RFC 5481 (difference of the round-trip delays of
 * consecutive sequence numbers, both received), loss, duplicates and
 * reordering per RFC 4737 (a packet whose sequence number is below the next
 * expected one).  Values stay integer nanoseconds; doubles appear only in the
 * summaries.
 */
#ifndef TK_STATS_H
#define TK_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tstamp.h"

enum probe_proto {
	PROBE_TWAMP = 0,
	PROBE_ICMP = 1,
};
#define PROBE_NPROTO 2

const char *probe_proto_name(enum probe_proto p);

/* One probe as the sender saw it.  Times are Unix-epoch ns; 0 = not known. */
struct probe_result {
	enum probe_proto proto;
	uint32_t seq;          /* sender sequence number */
	uint32_t refl_seq;     /* reflector sequence number (TWAMP), ICMP: echo seq */
	int64_t t1_ns;         /* send time: the kernel TX time when known, else t1_wire_ns */
	int64_t t1_wire_ns;    /* T1 as written in the packet (user clock just before send) */
	int64_t t2_ns;         /* reflector receive (TWAMP only) */
	int64_t t3_ns;         /* reflector transmit (TWAMP only) */
	int64_t t4_ns;         /* receive time of the (first) reply */
	int64_t rtt_ns;        /* (T4-T1)-(T3-T2) for TWAMP, T4-T1 for ICMP */
	int64_t fwd_ns;        /* T2-T1, meaningful only when one_way_valid */
	int64_t bwd_ns;        /* T4-T3, meaningful only when one_way_valid */
	int64_t proc_ns;       /* T3-T2 */
	int16_t ttl;           /* Sender TTL reported by the reflector / reply TTL; -1 unknown */
	uint16_t dup;          /* duplicate replies seen after the first */
	bool sent;             /* false when the scheduler skipped it */
	bool received;
	bool one_way_valid;    /* both Error Estimates say synchronized */
	bool ts_valid;         /* timestamps usable (no Multiplier 0, A10) */
	enum ts_source t1_src, t4_src;
};

/* Distribution of a sample set; all values in nanoseconds. n == 0: nothing valid. */
struct stats_dist {
	size_t n;
	double min, p25, median, p75, p90, p99, max, mean, sd;
};

/* Percentile p in [0,100] of an ascending array (type 7).  n must be > 0. */
double stats_percentile_sorted(const int64_t *sorted, size_t n, double p);

/*
 * Distribution of values[0..n); values is left untouched (sorted copy is
 * made internally).  Returns 0, or -ENOMEM.  n == 0 yields out->n == 0.
 */
int stats_dist_compute(const int64_t *values, size_t n, struct stats_dist *out);

/* Per-protocol summary, DESIGN.md §3 "S". */
struct stats_summary {
	uint64_t sent;
	uint64_t received;
	uint64_t lost;
	double loss_pct;        /* lost / sent * 100 */
	uint64_t duplicates;
	uint64_t reordered;
	uint64_t skipped;       /* not sent: the scheduler fell more than one interval behind */
	uint64_t invalid_ts;    /* replies whose timestamps were unusable (A10) */
	bool loss_split_valid;  /* reflector is stateful: forward/reverse loss known */
	uint64_t fwd_lost;
	uint64_t bwd_lost;
	bool one_way_valid;     /* fwd/bwd distributions are meaningful */
	struct stats_dist rtt, fwd, bwd, proc, ipdv;
};

/*
 * Summarises the probes of protocol proto found in probes[0..n) (in sequence
 * order).  reordered is counted by the caller on arrival (stats_seq_*), since
 * arrival order is not kept in the records.  Returns 0 or -ENOMEM.
 */
int stats_summarize(const struct probe_result *probes, size_t n, enum probe_proto proto,
		    uint64_t reordered, struct stats_summary *out);

/*
 * Arrival-order tracker for one flow: tells first arrivals from duplicates
 * and counts reordering (RFC 4737 §3.3: seq < next expected).  Memory is
 * one bit per expected sequence number, allocated once.
 */
struct stats_seq_tracker {
	uint64_t *seen;
	size_t nseq;
	uint32_t next_expected;
	bool any;
	uint64_t reordered;
	uint64_t duplicates;
	uint64_t out_of_range;
};

enum stats_seq_verdict {
	STATS_SEQ_FIRST = 0,   /* first arrival of this sequence number */
	STATS_SEQ_DUPLICATE,   /* seen before */
	STATS_SEQ_UNKNOWN,     /* outside 0..nseq-1: never sent */
};

int stats_seq_init(struct stats_seq_tracker *t, size_t nseq);
void stats_seq_free(struct stats_seq_tracker *t);
/* reordered (may be NULL) is set when a first arrival is below the next expected. */
enum stats_seq_verdict stats_seq_observe(struct stats_seq_tracker *t, uint32_t seq, bool *reordered);

#endif
