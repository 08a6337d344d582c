/*
 * Request/reply matching per capture point for twamp-capture.  Each
 * observation (from capture_parse_frame) is attributed to a probe: TWAMP by
 * (sender addr, sender port, reflector addr, reflector port, sender seq),
 * ICMP by (src, dst, identifier, seq).  At each point the probe's RTT is
 * reply time minus request time there; across points the record shows
 * where a probe was seen and where it vanished.  Replies whose sequence
 * number cannot be read (short or encrypted layouts) are paired by arrival
 * order within their flow, authenticated ones by the echoed Sender
 * Timestamp.  Memory is bounded: at most max_probes probe records and
 * max_flows flows; what does not fit is counted as overflow.
 */
#ifndef TK_CAPTURE_MATCH_H
#define TK_CAPTURE_MATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "stats.h"

#define MATCH_MAX_POINTS 32
#define MATCH_DEFAULT_MAX_PROBES 1000000
#define MATCH_DEFAULT_MAX_FLOWS 65536
#define MATCH_DEFAULT_FIFO_TIMEOUT_NS (2 * TS_NSEC_PER_SEC)

struct match_limits {
	size_t max_probes;       /* probe records over all points (0: default) */
	size_t max_flows;        /* distinct flows (0: default) */
	int64_t fifo_timeout_ns; /* a reply paired by arrival order never takes a request
				  * older than this at that point (0: default) */
};

/* A flow, oriented sender -> reflector whichever direction was observed. */
struct match_flow {
	enum probe_proto proto;
	int family;                 /* AF_INET or AF_INET6 */
	uint8_t sender[16];         /* IPv4 in the first 4 octets */
	uint8_t reflector[16];
	uint16_t sender_port;       /* TWAMP: UDP port; ICMP: Identifier */
	uint16_t reflector_port;    /* TWAMP: UDP port; ICMP: 0 */
};

/* Per point and protocol. */
struct match_counts {
	uint64_t requests;        /* request observations, duplicates included */
	uint64_t replies;         /* reply observations, duplicates included */
	uint64_t matched;         /* replies paired with their request here */
	uint64_t unmatched;       /* requests seen here whose reply was not */
	uint64_t orphan_replies;  /* replies whose request was not seen here */
	uint64_t duplicates;      /* a request or reply seen again at the same point */
	uint64_t overflow;        /* observations not recorded: table full */
	uint64_t by_order;        /* of matched: paired by arrival order (seq unreadable) */
	uint64_t by_timestamp;    /* of matched: paired by echoed Sender Timestamp (auth) */
};

/* Where an incomplete probe was lost, with points in path order (index 0 = sender side). */
enum match_where {
	MATCH_COMPLETE = 0,     /* request and reply seen at every point */
	MATCH_REQUEST_LOST,     /* request seen at points 0..after only, no reply anywhere */
	MATCH_REPLY_LOST,       /* request everywhere, reply seen at after..n-1 only */
	MATCH_NO_REPLY,         /* request everywhere, reply nowhere (after = n-1) */
	MATCH_IRREGULAR,        /* holes that no single loss explains (capture drops, start/stop) */
};

struct match_probe_view {
	enum probe_proto proto;
	const struct match_flow *flow; /* owned by the matcher */
	uint32_t seq;
};

struct match;

/* npoints in 1..MATCH_MAX_POINTS; lim may be NULL.  0, -EINVAL or -ENOMEM; free with match_free. */
int match_new(size_t npoints, const struct match_limits *lim, struct match **out);
void match_free(struct match *m);

/*
 * Records what o says was seen at point at time t_ns (capture clock of that
 * point).  Observations of kind CAPTURE_OTHER are ignored.  Returns 0
 * (also when the observation is only counted: duplicate, orphan,
 * overflow), -EINVAL (bad point or arguments), -ENOMEM.
 */
int match_observe(struct match *m, size_t point, const struct capture_obs *o, int64_t t_ns);

void match_get_counts(const struct match *m, size_t point, enum probe_proto proto,
		      struct match_counts *out);

/* Distribution of the RTTs matched at point for proto (ns).  0 or -ENOMEM. */
int match_point_dist(const struct match *m, size_t point, enum probe_proto proto,
		     struct stats_dist *out);

/* Probes in order of first observation. */
size_t match_nprobes(const struct match *m);
/* 0 or -ERANGE. */
int match_probe_get(const struct match *m, size_t i, struct match_probe_view *out);
/* True and *rtt_ns when probe i was matched at point. */
bool match_probe_rtt(const struct match *m, size_t i, size_t point, int64_t *rtt_ns);
bool match_probe_request_seen(const struct match *m, size_t i, size_t point);
bool match_probe_reply_seen(const struct match *m, size_t i, size_t point);
/* Classifies probe i; *after (may be NULL) gets the point index the verdict refers to. */
enum match_where match_probe_where(const struct match *m, size_t i, size_t *after);
const char *match_where_name(enum match_where w);

/* "198.18.10.1:40000>198.18.10.2:862", "[fd00::1]:5>[fd00::2]:862", "192.0.2.1>192.0.2.2#4660". */
void match_flow_format(const struct match_flow *f, char *buf, size_t len);

#endif
