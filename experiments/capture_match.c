/*
 * Matching of probe requests and replies at each capture point.  One probe
 * record is shared by all points, so the same packet seen at six places is
 * one row with six RTTs.  Probes and flows live in arrays indexed by
 * open-addressing hash tables (no deletion is ever needed: a probe record
 * is the result).  Per point and flow, requests still waiting for a reply
 * form a doubly linked list through the per-point slots, in arrival order:
 * that list is what replies without a readable sequence number are paired
 * against, oldest first, after requests older than the timeout are dropped
 * from it so that one lost reply cannot shift every later pairing.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "capture_match.h"

#define NONE UINT32_MAX

#define AT_REQ 0x01     /* request seen at this point */
#define AT_REP 0x02     /* reply seen at this point */
#define AT_MATCHED 0x04 /* rtt valid */
#define AT_LINKED 0x08  /* in the point's outstanding list of its flow */

struct probe {
	uint32_t flow;
	uint32_t seq;
	ntp64_t ts_auth;
	bool ts_auth_known;
};

/* One probe at one point. */
struct at {
	int64_t req_ns;
	int64_t rep_ns;
	uint32_t prev, next;
	uint8_t flags;
};

struct outstanding {
	uint32_t head, tail;
};

/* Counters kept while observing; unmatched is derived. */
struct counts {
	uint64_t requests, replies, matched, orphans, dup_req, dup_rep, overflow_req,
		overflow_rep, by_order, by_timestamp;
};

struct match {
	size_t npoints;
	struct match_limits lim;

	struct match_flow *flows;
	size_t nflows, flows_cap;
	uint32_t *flow_index; /* hash slots: flow + 1, 0 = empty */
	size_t flow_slots;
	struct outstanding *out; /* [flow * npoints + point] */

	struct probe *probes;
	struct at *at;           /* [probe * npoints + point] */
	size_t nprobes, probes_cap;
	uint32_t *probe_index;
	size_t probe_slots;

	struct counts counts[MATCH_MAX_POINTS][PROBE_NPROTO];
};

/* --- hashing ----------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 31;
	return x;
}

static uint64_t flow_hash(const struct match_flow *f)
{
	uint64_t h = mix64((uint64_t)f->proto << 32 | (uint64_t)f->family << 40 |
			   (uint64_t)f->sender_port << 16 | f->reflector_port);

	for (int i = 0; i < 16; i += 8) {
		uint64_t a = 0, b = 0;
		for (int k = 0; k < 8; k++) {
			a = a << 8 | f->sender[i + k];
			b = b << 8 | f->reflector[i + k];
		}
		h = mix64(h ^ a);
		h = mix64(h ^ b);
	}
	return h;
}

static bool flow_equal(const struct match_flow *a, const struct match_flow *b)
{
	return a->proto == b->proto && a->family == b->family &&
	       a->sender_port == b->sender_port && a->reflector_port == b->reflector_port &&
	       memcmp(a->sender, b->sender, 16) == 0 && memcmp(a->reflector, b->reflector, 16) == 0;
}

static uint64_t probe_hash(uint32_t flow, uint32_t seq)
{
	return mix64((uint64_t)flow << 32 | seq);
}

/* Slots: power of two, at most half full. */
static int rehash(uint32_t **slots, size_t *nslots, size_t want, const struct match *m, bool flows)
{
	size_t n = 16;

	while (n < 2 * want)
		n *= 2;
	if (n <= *nslots)
		return 0;
	uint32_t *s = calloc(n, sizeof(*s));
	if (!s)
		return -ENOMEM;
	size_t count = flows ? m->nflows : m->nprobes;
	for (size_t i = 0; i < count; i++) {
		uint64_t h = flows ? flow_hash(&m->flows[i])
				   : probe_hash(m->probes[i].flow, m->probes[i].seq);
		size_t j = (size_t)h & (n - 1);
		while (s[j])
			j = (j + 1) & (n - 1);
		s[j] = (uint32_t)i + 1;
	}
	free(*slots);
	*slots = s;
	*nslots = n;
	return 0;
}

/* --- life cycle ------------------------------------------------------------------ */

int match_new(size_t npoints, const struct match_limits *lim, struct match **out)
{
	if (!out || npoints == 0 || npoints > MATCH_MAX_POINTS)
		return -EINVAL;
	struct match *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->npoints = npoints;
	if (lim)
		m->lim = *lim;
	if (m->lim.max_probes == 0)
		m->lim.max_probes = MATCH_DEFAULT_MAX_PROBES;
	if (m->lim.max_flows == 0)
		m->lim.max_flows = MATCH_DEFAULT_MAX_FLOWS;
	if (m->lim.fifo_timeout_ns <= 0)
		m->lim.fifo_timeout_ns = MATCH_DEFAULT_FIFO_TIMEOUT_NS;
	/* indices are uint32 with NONE reserved */
	if (m->lim.max_probes >= NONE)
		m->lim.max_probes = NONE - 1;
	if (m->lim.max_flows >= NONE)
		m->lim.max_flows = NONE - 1;
	*out = m;
	return 0;
}

void match_free(struct match *m)
{
	if (!m)
		return;
	free(m->flows);
	free(m->flow_index);
	free(m->out);
	free(m->probes);
	free(m->at);
	free(m->probe_index);
	free(m);
}

/* --- tables -------------------------------------------------------------------- */

/* Index of flow f, added when new; -ENOSPC when the cap is reached. */
static int flow_get(struct match *m, const struct match_flow *f, uint32_t *idx)
{
	if (m->flow_slots) {
		size_t mask = m->flow_slots - 1, j = (size_t)flow_hash(f) & mask;
		for (; m->flow_index[j]; j = (j + 1) & mask) {
			if (flow_equal(&m->flows[m->flow_index[j] - 1], f)) {
				*idx = m->flow_index[j] - 1;
				return 0;
			}
		}
	}
	if (m->nflows >= m->lim.max_flows)
		return -ENOSPC;
	if (m->nflows == m->flows_cap) {
		size_t cap = m->flows_cap ? 2 * m->flows_cap : 16;
		struct match_flow *nf = realloc(m->flows, cap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		m->flows = nf;
		struct outstanding *no = realloc(m->out, cap * m->npoints * sizeof(*no));
		if (!no)
			return -ENOMEM;
		m->out = no;
		m->flows_cap = cap;
	}
	int rc = rehash(&m->flow_index, &m->flow_slots, m->nflows + 1, m, true);
	if (rc < 0)
		return rc;
	size_t i = m->nflows++;
	m->flows[i] = *f;
	for (size_t p = 0; p < m->npoints; p++)
		m->out[i * m->npoints + p] = (struct outstanding){ NONE, NONE };
	size_t mask = m->flow_slots - 1, j = (size_t)flow_hash(f) & mask;
	while (m->flow_index[j])
		j = (j + 1) & mask;
	m->flow_index[j] = (uint32_t)i + 1;
	*idx = (uint32_t)i;
	return 0;
}

static bool probe_find(const struct match *m, uint32_t flow, uint32_t seq, uint32_t *idx)
{
	if (!m->probe_slots)
		return false;
	size_t mask = m->probe_slots - 1, j = (size_t)probe_hash(flow, seq) & mask;
	for (; m->probe_index[j]; j = (j + 1) & mask) {
		const struct probe *p = &m->probes[m->probe_index[j] - 1];
		if (p->flow == flow && p->seq == seq) {
			*idx = m->probe_index[j] - 1;
			return true;
		}
	}
	return false;
}

/* Index of probe (flow, seq), added when new; -ENOSPC at the cap. */
static int probe_get(struct match *m, uint32_t flow, uint32_t seq, uint32_t *idx)
{
	if (probe_find(m, flow, seq, idx))
		return 0;
	if (m->nprobes >= m->lim.max_probes)
		return -ENOSPC;
	if (m->nprobes == m->probes_cap) {
		size_t cap = m->probes_cap ? 2 * m->probes_cap : 64;
		struct probe *np = realloc(m->probes, cap * sizeof(*np));
		if (!np)
			return -ENOMEM;
		m->probes = np;
		struct at *na = realloc(m->at, cap * m->npoints * sizeof(*na));
		if (!na)
			return -ENOMEM;
		m->at = na;
		m->probes_cap = cap;
	}
	int rc = rehash(&m->probe_index, &m->probe_slots, m->nprobes + 1, m, false);
	if (rc < 0)
		return rc;
	size_t i = m->nprobes++;
	m->probes[i] = (struct probe){ .flow = flow, .seq = seq };
	for (size_t p = 0; p < m->npoints; p++)
		m->at[i * m->npoints + p] = (struct at){ 0, 0, NONE, NONE, 0 };
	size_t mask = m->probe_slots - 1, j = (size_t)probe_hash(flow, seq) & mask;
	while (m->probe_index[j])
		j = (j + 1) & mask;
	m->probe_index[j] = (uint32_t)i + 1;
	*idx = (uint32_t)i;
	return 0;
}

static struct at *at_of(const struct match *m, uint32_t probe, size_t point)
{
	return &m->at[(size_t)probe * m->npoints + point];
}

static void link_tail(struct match *m, uint32_t flow, size_t point, uint32_t probe)
{
	struct outstanding *o = &m->out[(size_t)flow * m->npoints + point];
	struct at *a = at_of(m, probe, point);

	a->prev = o->tail;
	a->next = NONE;
	if (o->tail != NONE)
		at_of(m, o->tail, point)->next = probe;
	else
		o->head = probe;
	o->tail = probe;
	a->flags |= AT_LINKED;
}

static void unlink_at(struct match *m, uint32_t flow, size_t point, uint32_t probe)
{
	struct outstanding *o = &m->out[(size_t)flow * m->npoints + point];
	struct at *a = at_of(m, probe, point);

	if (!(a->flags & AT_LINKED))
		return;
	if (a->prev != NONE)
		at_of(m, a->prev, point)->next = a->next;
	else
		o->head = a->next;
	if (a->next != NONE)
		at_of(m, a->next, point)->prev = a->prev;
	else
		o->tail = a->prev;
	a->prev = a->next = NONE;
	a->flags &= (uint8_t)~AT_LINKED;
}

/* --- observing ------------------------------------------------------------------- */

static void pair(struct match *m, uint32_t flow, size_t point, uint32_t probe, int64_t t_ns,
		 struct counts *c)
{
	struct at *a = at_of(m, probe, point);

	unlink_at(m, flow, point, probe);
	a->rep_ns = t_ns;
	a->flags |= AT_REP | AT_MATCHED;
	c->matched++;
}

static int observe_request(struct match *m, size_t point, uint32_t flow,
			   const struct capture_obs *o, int64_t t_ns, struct counts *c)
{
	uint32_t pi;
	int rc = probe_get(m, flow, o->seq, &pi);

	c->requests++;
	if (rc == -ENOSPC) {
		c->overflow_req++;
		return 0;
	}
	if (rc < 0)
		return rc;
	struct at *a = at_of(m, pi, point);
	if (a->flags & AT_REQ) {
		c->dup_req++;
		return 0;
	}
	a->req_ns = t_ns;
	a->flags |= AT_REQ;
	if (o->ts_auth_known && !m->probes[pi].ts_auth_known) {
		m->probes[pi].ts_auth = o->ts_auth;
		m->probes[pi].ts_auth_known = true;
	}
	if (!(a->flags & AT_REP))
		link_tail(m, flow, point, pi);
	return 0;
}

/* Reply carrying its Sender Sequence Number: exact pairing by key. */
static int reply_by_seq(struct match *m, size_t point, uint32_t flow, const struct capture_obs *o,
			int64_t t_ns, struct counts *c)
{
	uint32_t pi;
	int rc = probe_get(m, flow, o->seq, &pi);

	if (rc == -ENOSPC) {
		c->overflow_rep++;
		return 0;
	}
	if (rc < 0)
		return rc;
	struct at *a = at_of(m, pi, point);
	if (a->flags & AT_REP) {
		c->dup_rep++;
		return 0;
	}
	if (a->flags & AT_REQ) {
		pair(m, flow, point, pi, t_ns, c);
		return 0;
	}
	/* request not seen here: keep the sighting for the loss analysis */
	a->rep_ns = t_ns;
	a->flags |= AT_REP;
	c->orphans++;
	return 0;
}

/* Authenticated reply: its Sender Timestamp equals the request's clear T1. */
static void reply_by_timestamp(struct match *m, size_t point, uint32_t flow,
			       const struct capture_obs *o, int64_t t_ns, struct counts *c)
{
	uint32_t pi = m->out[(size_t)flow * m->npoints + point].head;

	for (; pi != NONE; pi = at_of(m, pi, point)->next) {
		const struct probe *p = &m->probes[pi];
		if (p->ts_auth_known && p->ts_auth == o->ts) {
			pair(m, flow, point, pi, t_ns, c);
			c->by_timestamp++;
			return;
		}
	}
	c->orphans++;
}

/* Reply without a readable key: the oldest request still waiting, within the timeout. */
static void reply_by_order(struct match *m, size_t point, uint32_t flow, int64_t t_ns,
			   struct counts *c)
{
	struct outstanding *q = &m->out[(size_t)flow * m->npoints + point];

	while (q->head != NONE && at_of(m, q->head, point)->req_ns < t_ns - m->lim.fifo_timeout_ns)
		unlink_at(m, flow, point, q->head); /* stays unmatched */
	if (q->head == NONE || at_of(m, q->head, point)->req_ns > t_ns) {
		c->orphans++;
		return;
	}
	c->by_order++;
	pair(m, flow, point, q->head, t_ns, c);
}

int match_observe(struct match *m, size_t point, const struct capture_obs *o, int64_t t_ns)
{
	struct match_flow f;
	uint32_t flow;
	bool request;

	if (!m || !o || point >= m->npoints)
		return -EINVAL;
	memset(&f, 0, sizeof(f));
	switch (o->kind) {
	case CAPTURE_TWAMP_REQUEST:
	case CAPTURE_ICMP_REQUEST:
		request = true;
		break;
	case CAPTURE_TWAMP_REPLY:
	case CAPTURE_ICMP_REPLY:
		request = false;
		break;
	default:
		return 0;
	}
	if (o->family != AF_INET && o->family != AF_INET6)
		return -EINVAL;
	bool twamp = o->kind == CAPTURE_TWAMP_REQUEST || o->kind == CAPTURE_TWAMP_REPLY;
	f.proto = twamp ? PROBE_TWAMP : PROBE_ICMP;
	f.family = o->family;
	memcpy(f.sender, request ? o->src : o->dst, 16);
	memcpy(f.reflector, request ? o->dst : o->src, 16);
	if (twamp) {
		f.sender_port = request ? o->sport : o->dport;
		f.reflector_port = request ? o->dport : o->sport;
	} else {
		f.sender_port = o->icmp_id;
	}
	struct counts *c = &m->counts[point][f.proto];
	if (request && !o->seq_known)
		return -EINVAL; /* the parser never produces this */

	int rc = flow_get(m, &f, &flow);
	if (rc == -ENOSPC) {
		if (request) {
			c->requests++;
			c->overflow_req++;
		} else {
			c->replies++;
			c->overflow_rep++;
		}
		return 0;
	}
	if (rc < 0)
		return rc;
	if (request)
		return observe_request(m, point, flow, o, t_ns, c);

	c->replies++;
	if (o->seq_known)
		return reply_by_seq(m, point, flow, o, t_ns, c);
	if (twamp && o->layout == CAPTURE_LAYOUT_AUTH && o->ts_known)
		reply_by_timestamp(m, point, flow, o, t_ns, c);
	else
		reply_by_order(m, point, flow, t_ns, c);
	return 0;
}

/* --- results ----------------------------------------------------------------------- */

void match_get_counts(const struct match *m, size_t point, enum probe_proto proto,
		      struct match_counts *out)
{
	memset(out, 0, sizeof(*out));
	if (!m || point >= m->npoints || (unsigned)proto >= PROBE_NPROTO)
		return;
	const struct counts *c = &m->counts[point][proto];
	out->requests = c->requests;
	out->replies = c->replies;
	out->matched = c->matched;
	out->orphan_replies = c->orphans;
	out->duplicates = c->dup_req + c->dup_rep;
	out->overflow = c->overflow_req + c->overflow_rep;
	out->by_order = c->by_order;
	out->by_timestamp = c->by_timestamp;
	uint64_t first = c->requests - c->dup_req - c->overflow_req;
	out->unmatched = first > c->matched ? first - c->matched : 0;
}

int match_point_dist(const struct match *m, size_t point, enum probe_proto proto,
		     struct stats_dist *out)
{
	if (!m || !out || point >= m->npoints)
		return -EINVAL;
	int64_t *v = malloc((m->nprobes ? m->nprobes : 1) * sizeof(*v));
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < m->nprobes; i++) {
		const struct at *a = at_of(m, (uint32_t)i, point);
		if (m->flows[m->probes[i].flow].proto == proto && (a->flags & AT_MATCHED))
			v[n++] = a->rep_ns - a->req_ns;
	}
	int rc = stats_dist_compute(v, n, out);
	free(v);
	return rc;
}

size_t match_nprobes(const struct match *m)
{
	return m ? m->nprobes : 0;
}

int match_probe_get(const struct match *m, size_t i, struct match_probe_view *out)
{
	if (!m || !out || i >= m->nprobes)
		return -ERANGE;
	const struct probe *p = &m->probes[i];
	out->flow = &m->flows[p->flow];
	out->proto = out->flow->proto;
	out->seq = p->seq;
	return 0;
}

bool match_probe_rtt(const struct match *m, size_t i, size_t point, int64_t *rtt_ns)
{
	if (!m || i >= m->nprobes || point >= m->npoints)
		return false;
	const struct at *a = at_of(m, (uint32_t)i, point);
	if (!(a->flags & AT_MATCHED))
		return false;
	if (rtt_ns)
		*rtt_ns = a->rep_ns - a->req_ns;
	return true;
}

bool match_probe_request_seen(const struct match *m, size_t i, size_t point)
{
	return m && i < m->nprobes && point < m->npoints &&
	       (at_of(m, (uint32_t)i, point)->flags & AT_REQ);
}

bool match_probe_reply_seen(const struct match *m, size_t i, size_t point)
{
	return m && i < m->nprobes && point < m->npoints &&
	       (at_of(m, (uint32_t)i, point)->flags & AT_REP);
}

enum match_where match_probe_where(const struct match *m, size_t i, size_t *after)
{
	size_t n, nreq = 0, nrep = 0, req_prefix = 0, rep_suffix = 0;

	if (after)
		*after = 0;
	if (!m || i >= m->nprobes)
		return MATCH_IRREGULAR;
	n = m->npoints;
	for (size_t p = 0; p < n; p++) {
		nreq += match_probe_request_seen(m, i, p);
		nrep += match_probe_reply_seen(m, i, p);
	}
	while (req_prefix < n && match_probe_request_seen(m, i, req_prefix))
		req_prefix++;
	while (rep_suffix < n && match_probe_reply_seen(m, i, n - 1 - rep_suffix))
		rep_suffix++;
	if (nreq == n && nrep == n)
		return MATCH_COMPLETE;
	if (nrep == 0 && nreq > 0 && req_prefix == nreq && nreq < n) {
		if (after)
			*after = nreq - 1;
		return MATCH_REQUEST_LOST;
	}
	if (nreq == n && nrep == 0) {
		if (after)
			*after = n - 1;
		return MATCH_NO_REPLY;
	}
	if (nreq == n && rep_suffix == nrep) {
		if (after)
			*after = n - nrep;
		return MATCH_REPLY_LOST;
	}
	return MATCH_IRREGULAR;
}

const char *match_where_name(enum match_where w)
{
	switch (w) {
	case MATCH_COMPLETE:
		return "complete";
	case MATCH_REQUEST_LOST:
		return "request-lost";
	case MATCH_REPLY_LOST:
		return "reply-lost";
	case MATCH_NO_REPLY:
		return "no-reply";
	default:
		return "irregular";
	}
}

static void addr_text(int family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void match_flow_format(const struct match_flow *f, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN], r[INET6_ADDRSTRLEN];
	bool v6 = f->family == AF_INET6;

	if (!buf || !len)
		return;
	addr_text(f->family, f->sender, s, sizeof(s));
	addr_text(f->family, f->reflector, r, sizeof(r));
	if (f->proto == PROBE_ICMP)
		snprintf(buf, len, "%s>%s#%u", s, r, f->sender_port);
	else
		snprintf(buf, len, "%s%s%s:%u>%s%s%s:%u", v6 ? "[" : "", s, v6 ? "]" : "",
			 f->sender_port, v6 ? "[" : "", r, v6 ? "]" : "", f->reflector_port);
}
