/*
 * Exact statistics over probe results: every summary figure comes from the
 * full sample set (sorted copies, two-pass moments in long double), so
 * results are reproducible and comparable with R or numpy, and values near
 * the int64 range neither overflow nor lose the nanosecond.  The arrival
 * tracker is separate because arrival order is not kept in the per-probe
 * records that stats_summarize sees.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

const char *probe_proto_name(enum probe_proto p)
{
	switch (p) {
	case PROBE_TWAMP:
		return "twamp";
	case PROBE_ICMP:
		return "icmp";
	}
	return "unknown";
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

/*
 * Hyndman-Fan type 7: h = (n-1)p/100, interpolate between floor(h) and the
 * next rank.  The difference of two int64 values may not fit in int64, so
 * the arithmetic is in long double (64-bit mantissa on x86: exact).
 */
double stats_percentile_sorted(const int64_t *sorted, size_t n, double p)
{
	long double h, frac, lo_v, hi_v;
	size_t lo;

	if (!sorted || n == 0)
		return 0.0;
	if (!(p >= 0.0)) /* also catches NaN */
		p = 0.0;
	if (p > 100.0)
		p = 100.0;
	h = (long double)(n - 1) * (long double)p / 100.0L;
	lo = (size_t)floorl(h);
	if (lo >= n - 1)
		return (double)sorted[n - 1];
	frac = h - (long double)lo;
	lo_v = (long double)sorted[lo];
	hi_v = (long double)sorted[lo + 1];
	return (double)(lo_v + frac * (hi_v - lo_v));
}

/* Sorted input: fills out from it.  n > 0. */
static void dist_from_sorted(const int64_t *s, size_t n, struct stats_dist *out)
{
	long double ref = (long double)s[n / 2], sum = 0.0L, dmean, m2 = 0.0L;
	size_t i;

	out->n = n;
	out->min = (double)s[0];
	out->max = (double)s[n - 1];
	out->p25 = stats_percentile_sorted(s, n, 25.0);
	out->median = stats_percentile_sorted(s, n, 50.0);
	out->p75 = stats_percentile_sorted(s, n, 75.0);
	out->p90 = stats_percentile_sorted(s, n, 90.0);
	out->p99 = stats_percentile_sorted(s, n, 99.0);

	/*
	 * Moments of the deviations from the middle sample, in two passes:
	 * each deviation is an exact integer (below 2^64 in magnitude), so
	 * values near INT64_MAX keep their nanoseconds, which a plain sum of
	 * the values (about 2^65 for three of them) would round away.
	 */
	for (i = 0; i < n; i++)
		sum += (long double)s[i] - ref;
	dmean = sum / (long double)n;
	for (i = 0; i < n; i++) {
		long double d = ((long double)s[i] - ref) - dmean;

		m2 += d * d;
	}
	out->mean = (double)(ref + dmean);
	/* A single sample has no spread to estimate; report 0 rather than NaN (JSON has no NaN). */
	out->sd = n > 1 ? (double)sqrtl(m2 / (long double)(n - 1)) : 0.0;
}

/* Sorts values in place and summarises them. */
static void dist_in_place(int64_t *values, size_t n, struct stats_dist *out)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return;
	qsort(values, n, sizeof(values[0]), cmp_i64);
	dist_from_sorted(values, n, out);
}

int stats_dist_compute(const int64_t *values, size_t n, struct stats_dist *out)
{
	int64_t *copy;

	if (!out || (n > 0 && !values))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	if (n > SIZE_MAX / sizeof(*copy))
		return -ENOMEM;
	copy = malloc(n * sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, values, n * sizeof(*copy));
	dist_in_place(copy, n, out);
	free(copy);
	return 0;
}

/* (sender seq, rtt) of a usable reply, for IPDV pairing by sequence number. */
struct seq_rtt {
	uint32_t seq;
	int64_t rtt;
};

static int cmp_seq_rtt(const void *a, const void *b)
{
	struct seq_rtt x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x.seq > y.seq) - (x.seq < y.seq);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

/*
 * Forward/reverse loss split (TWAMP; spec twamp-test.md §6.2, §10).
 *
 * Only a stateful reflector numbers its replies with its own counter (0 for
 * the first reflected packet, +1 per reflected packet).  The rule:
 *
 *  1. The reflector is taken as stateful when some received reply has
 *     refl_seq != seq.  (The other telltale, reflector numbers contiguous
 *     from 0 while sender numbers have gaps, always implies this one.)
 *     When refl_seq == seq for every reply, a stateless reflector (which
 *     copies the sender number) and a stateful one that lost nothing on the
 *     forward path look the same, so the split is left unknown: every loss
 *     might be either.
 *  2. Sanity: a stateful counter cannot exceed the number of packets that
 *     reached the reflector, so max refl_seq must be below sent + duplicates
 *     (an offset counter, e.g. a REFWAIT session left over from an earlier
 *     run on the same ports, fails this and the split stays unknown).
 *  3. reverse = reflector numbers in [0, max refl_seq] never received; the
 *     numbers are counted, not bitmapped, so a bogus refl_seq cannot make us
 *     allocate 512 MiB.
 *  4. forward = lost - reverse, floored at 0.  reverse may exceed the
 *     round-trip loss when the network duplicated a request (the reflector
 *     answers twice but only the first reply's refl_seq is recorded).
 *
 * Losses after the last received reply cannot be placed: their reflector
 * numbers would lie above max refl_seq, so they count as forward loss.
 */
static int loss_split(const struct probe_result *probes, size_t n, size_t nrecv,
		      struct stats_summary *out)
{
	uint32_t *refl, max_refl = 0;
	size_t i, k = 0, distinct = 0;
	bool stateful = false;
	uint64_t reverse;

	if (nrecv == 0)
		return 0;
	refl = malloc(nrecv * sizeof(*refl));
	if (!refl)
		return -ENOMEM;
	for (i = 0; i < n && k < nrecv; i++) {
		const struct probe_result *p = &probes[i];

		if (p->proto != PROBE_TWAMP || !p->sent || !p->received)
			continue;
		if (p->refl_seq != p->seq)
			stateful = true;
		if (p->refl_seq > max_refl)
			max_refl = p->refl_seq;
		refl[k++] = p->refl_seq;
	}
	if (!stateful || (uint64_t)max_refl >= out->sent + out->duplicates) {
		free(refl);
		return 0;
	}
	qsort(refl, k, sizeof(*refl), cmp_u32);
	for (i = 0; i < k; i++)
		if (i == 0 || refl[i] != refl[i - 1])
			distinct++;
	free(refl);

	reverse = (uint64_t)max_refl + 1 - distinct;
	out->loss_split_valid = true;
	out->bwd_lost = reverse;
	out->fwd_lost = out->lost > reverse ? out->lost - reverse : 0;
	return 0;
}

int stats_summarize(const struct probe_result *probes, size_t n, enum probe_proto proto,
		    uint64_t reordered, struct stats_summary *out)
{
	int64_t *rtt = NULL, *fwd = NULL, *bwd = NULL, *proc = NULL, *ipdv = NULL;
	struct seq_rtt *sr = NULL;
	size_t nvalid = 0, nrecv = 0, nrtt = 0, nfwd = 0, nproc = 0, nipdv = 0, i;
	bool all_one_way = true;
	int rc = -ENOMEM;

	if (!out || (n > 0 && !probes))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	out->reordered = reordered;

	for (i = 0; i < n; i++) {
		const struct probe_result *p = &probes[i];

		if (p->proto != proto)
			continue;
		if (!p->sent) {
			out->skipped++;
			continue;
		}
		out->sent++;
		out->duplicates += p->dup;
		if (!p->received)
			continue;
		out->received++;
		nrecv++;
		if (!p->ts_valid) {
			out->invalid_ts++;
			continue;
		}
		nvalid++;
		if (!p->one_way_valid)
			all_one_way = false;
	}
	out->lost = out->sent - out->received;
	out->loss_pct = out->sent ? (double)out->lost * 100.0 / (double)out->sent : 0.0;
	out->one_way_valid = nvalid > 0 && all_one_way;

	if (nvalid > 0) {
		rtt = malloc(nvalid * sizeof(*rtt));
		fwd = malloc(nvalid * sizeof(*fwd));
		bwd = malloc(nvalid * sizeof(*bwd));
		proc = malloc(nvalid * sizeof(*proc));
		ipdv = malloc(nvalid * sizeof(*ipdv));
		sr = malloc(nvalid * sizeof(*sr));
		if (!rtt || !fwd || !bwd || !proc || !ipdv || !sr)
			goto out;
	}
	for (i = 0; i < n && nrtt < nvalid; i++) {
		const struct probe_result *p = &probes[i];

		if (p->proto != proto || !p->sent || !p->received || !p->ts_valid)
			continue;
		sr[nrtt].seq = p->seq;
		sr[nrtt].rtt = p->rtt_ns;
		rtt[nrtt++] = p->rtt_ns;
		if (p->one_way_valid) {
			fwd[nfwd] = p->fwd_ns;
			bwd[nfwd++] = p->bwd_ns;
		}
		if (proto == PROBE_TWAMP)
			proc[nproc++] = p->proc_ns;
	}

	/*
	 * RFC 5481 IPDV between consecutive sender sequence numbers, both
	 * answered with usable timestamps: a lost, skipped or corrupt probe
	 * breaks the chain rather than pairing its neighbours.  Pairing by
	 * number (not array position) keeps this right whatever the order.
	 * The difference is taken in long double and saturated: two delays
	 * near opposite ends of int64 must not overflow.
	 */
	if (nrtt > 1)
		qsort(sr, nrtt, sizeof(*sr), cmp_seq_rtt);
	for (i = 1; i < nrtt; i++) {
		long double d;

		if (sr[i - 1].seq == UINT32_MAX || sr[i].seq != sr[i - 1].seq + 1)
			continue;
		d = (long double)sr[i].rtt - (long double)sr[i - 1].rtt;
		if (d > (long double)INT64_MAX)
			ipdv[nipdv++] = INT64_MAX;
		else if (d < (long double)INT64_MIN)
			ipdv[nipdv++] = INT64_MIN;
		else
			ipdv[nipdv++] = (int64_t)d;
	}

	dist_in_place(rtt, nrtt, &out->rtt);
	dist_in_place(fwd, nfwd, &out->fwd);
	dist_in_place(bwd, nfwd, &out->bwd);
	dist_in_place(proc, nproc, &out->proc);
	dist_in_place(ipdv, nipdv, &out->ipdv);

	rc = 0;
	if (proto == PROBE_TWAMP)
		rc = loss_split(probes, n, nrecv, out);
out:
	free(rtt);
	free(fwd);
	free(bwd);
	free(proc);
	free(ipdv);
	free(sr);
	return rc;
}

int stats_seq_init(struct stats_seq_tracker *t, size_t nseq)
{
	size_t words;

	if (!t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	words = nseq / 64 + (nseq % 64 != 0);
	if (words > 0) {
		t->seen = calloc(words, sizeof(*t->seen));
		if (!t->seen)
			return -ENOMEM;
	}
	t->nseq = nseq;
	return 0;
}

void stats_seq_free(struct stats_seq_tracker *t)
{
	if (!t)
		return;
	free(t->seen);
	t->seen = NULL;
	t->nseq = 0;
}

enum stats_seq_verdict stats_seq_observe(struct stats_seq_tracker *t, uint32_t seq, bool *reordered)
{
	uint64_t bit;
	size_t word;

	if (reordered)
		*reordered = false;
	if (!t || !t->seen || (size_t)seq >= t->nseq) {
		if (t)
			t->out_of_range++;
		return STATS_SEQ_UNKNOWN;
	}
	word = seq / 64;
	bit = UINT64_C(1) << (seq % 64);
	if (t->seen[word] & bit) {
		t->duplicates++;
		return STATS_SEQ_DUPLICATE;
	}
	t->seen[word] |= bit;
	if (t->any && seq < t->next_expected) {
		t->reordered++;
		if (reordered)
			*reordered = true;
	} else {
		/* Saturate: after UINT32_MAX every later number is below "next". */
		t->next_expected = seq == UINT32_MAX ? UINT32_MAX : seq + 1;
	}
	t->any = true;
	return STATS_SEQ_FIRST;
}
