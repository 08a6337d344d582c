/*
 * Parser for iputils `ping -D` output, so "standard ping" runs (the paper's
 * baseline) are recorded in the same result format as twamp-client's.
 *
 * Lines handled (iputils 20221126 and later; older ones print the same):
 *   [1700000000.123456] 64 bytes from 198.18.10.2: icmp_seq=1 ttl=64 time=0.045 ms
 *   [1700000000.123456] 64 bytes from 198.18.10.2: icmp_seq=1 ttl=64 time=0.045 ms (DUP!)
 *   [1700000000.123456] no answer yet for icmp_seq=3
 *   --- 198.18.10.2 ping statistics ---
 *   100 packets transmitted, 99 received, 1% packet loss, time 99ms
 *   100 packets transmitted, 99 received, +2 duplicates, 1% packet loss, time 99ms
 *   rtt min/avg/max/mdev = 0.031/0.045/0.120/0.010 ms
 * Pure: no I/O; the caller feeds lines.  Run ping with LC_ALL=C: the
 * messages are translated otherwise.  A reply marked "(BAD CHECKSUM!)" is
 * not a reply (ping does not count it either): PING_LINE_OTHER.  Unknown
 * trailing words of a known line are ignored (newer iputils add some).
 */
#ifndef TK_PING_PARSE_H
#define TK_PING_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stats.h"

enum ping_line_kind {
	PING_LINE_OTHER = 0,  /* header, blank, errors we do not interpret */
	PING_LINE_REPLY,
	PING_LINE_NO_ANSWER,
	PING_LINE_STATS_HEADER,
	PING_LINE_COUNTS,
	PING_LINE_RTT,
};

struct ping_line {
	enum ping_line_kind kind;
	/* REPLY / NO_ANSWER */
	int64_t stamp_ns;      /* the -D wall-clock stamp, Unix ns (0 when absent) */
	uint32_t icmp_seq;
	int ttl;               /* -1 when absent */
	int64_t rtt_ns;        /* REPLY: time=, to the printed precision; -1 when absent */
	bool dup;              /* marked "(DUP!)" (broadcast pings repeat without it) */
	/* COUNTS */
	uint64_t transmitted, received, duplicates, errors;
	double loss_pct;
	/* RTT */
	int64_t min_ns, avg_ns, max_ns, mdev_ns;
};

/*
 * Classifies and parses one line (without its newline; a trailing CR is
 * ignored).  0, or -EBADMSG for a malformed known line (out->kind then
 * names the kind the line looked like, the other fields are zero).
 */
int ping_parse_line(const char *line, struct ping_line *out);

/* The most echo requests ping_run_probes describes (memory bound against bogus counts). */
#define PING_MAX_PROBES 262144

/* A whole run, accumulated line by line. */
struct ping_run {
	struct ping_line *replies;   /* REPLY lines, in order; owned; icmp_seq unwrapped */
	size_t n_replies, cap;
	bool have_counts, have_rtt;
	struct ping_line counts, rtt;
	/*
	 * Highest icmp_seq seen in a reply or "no answer yet" line.  ping
	 * prints the 16-bit wire value, which wraps after 65535: each value is
	 * unwrapped to the one nearest to max_seq.
	 */
	uint32_t max_seq;
	bool have_seq;
};

void ping_run_init(struct ping_run *r);
void ping_run_free(struct ping_run *r);
/* Feeds one line.  0, -ENOMEM, or -EBADMSG (malformed known line). */
int ping_run_feed(struct ping_run *r, const char *line);

/*
 * One probe_result per transmitted echo request (index = seq = icmp_seq - 1:
 * iputils numbers from 1; proto PROBE_ICMP, refl_seq the 16-bit wire
 * sequence number): received ones carry t4 = the -D stamp (a user-space
 * clock read, t4_src USER), rtt from time=, t1 = t4 - rtt, the reply TTL and
 * the duplicate count (every later reply with the same sequence number,
 * marked or not); the others are lost.  A reply without time= is received
 * with ts_valid false.  transmitted comes from the summary line, or from
 * the highest sequence seen when ping was cut short; replies outside
 * 1..transmitted are ignored.  *out is malloc'd (caller frees).  0, -ENOMEM,
 * -ENODATA (no probe: nothing parsed, or 0 transmitted), -E2BIG (more than
 * PING_MAX_PROBES).
 */
int ping_run_probes(const struct ping_run *r, struct probe_result **out, size_t *n);

#endif
