/*
 * Session-Sender event loop.
 *
 * One thread, one poll set: each protocol's socket (replies, and TX
 * timestamps on its error queue) and a timerfd armed at the next absolute
 * deadline on CLOCK_MONOTONIC.  A probe that is late is still sent at once:
 * on a busy two-core machine wake-ups are now and then a few hundred
 * microseconds late, and dropping those probes would bias the sample.  Only
 * a probe later than the late limit (default max(interval, 10 ms): the
 * process was stopped or starved) is skipped and counted, so a stall is not
 * followed by a burst that congests the path it measures.  The lateness of
 * every sent probe is kept, so schedule adherence is a figure, not a claim.
 *
 * TWAMP goes over an unconnected UDP socket on purpose: a connected one
 * turns an ICMP error into a failure of the next send, which would silently
 * drop a probe.  Replies are filtered by source address instead.
 */
#include "sender.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "icmp.h"
#include "tstamp.h"
#include "wire_test.h"

#define RX_BATCH 16
#define RX_BUF 9216

/* What we remember per sent probe until the end of the run. */
struct probe_state {
	int64_t t1_user_ns;      /* written in the packet */
	int64_t t1_kernel_ns;    /* from the error queue, 0 if none */
	int64_t t2_ns, t3_ns, t4_ns;
	enum ts_source t4_src;
	uint32_t refl_seq;
	int16_t ttl;
	uint16_t dup;
	bool received;
	bool late;
	bool ts_valid;
	bool refl_synced;
};

/* One protocol's socket and bookkeeping. */
struct prober {
	enum probe_proto proto;
	int fd;
	struct icmp_socket icmp;           /* ICMP only */
	struct sockaddr_storage dst;       /* where probes go (ICMP: port 0) */
	socklen_t dst_len;
	uint8_t *pkt;
	size_t pkt_len;
	struct probe_state *st;
	size_t cap;
	uint64_t replies;                  /* first arrivals */
	struct stats_seq_tracker seq;
	struct sender_proto_result *res;
};

struct sender {
	const struct sender_opts *o;
	struct sender_result *res;
	struct prober pr[PROBE_NPROTO];
	int tfd;
	uint16_t error_estimate;
	bool synced;
	uint64_t rng;
};

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 2685821657736338717ULL;
}

static int grow(struct prober *p, size_t need)
{
	if (need <= p->cap)
		return 0;
	size_t cap = p->cap ? p->cap : 1024;
	while (cap < need)
		cap *= 2;
	struct probe_state *st = realloc(p->st, cap * sizeof(*st));
	if (st)
		p->st = st;
	int64_t *late = realloc(p->res->lateness_ns, cap * sizeof(int64_t));
	if (late)
		p->res->lateness_ns = late;
	int64_t *call = realloc(p->res->send_call_ns, cap * sizeof(int64_t));
	if (call)
		p->res->send_call_ns = call;
	if (!st || !late || !call)
		return -ENOMEM;
	memset(p->st + p->cap, 0, (cap - p->cap) * sizeof(*st));
	p->cap = cap;
	return 0;
}

/* Where the octets the reflector must return start (RFC 6038 §5.1.2). */
static size_t reflect_area(const struct sender_opts *o)
{
	size_t hdr_s = wire_sender_hdr_len(o->sec);
	return o->symmetrical ? wire_reflector_hdr_len(o->sec, o->dscp_ecn) : hdr_s;
}

static int open_twamp(struct sender *s, struct prober *p)
{
	const struct sender_opts *o = s->o;
	int family = o->target.ss_family;
	p->pkt_len = wire_sender_hdr_len(o->sec) + o->padding;
	if (o->have_twamp_fd) {
		p->fd = o->twamp_fd;
		p->res->caps = o->twamp_caps;
		p->res->socket_kind = "udp";
		p->dst = o->target;
		p->dst_len = o->target_len;
		int err = sock_set_ttl(p->fd, family, o->ttl);
		if (!err)
			err = sock_set_tos(p->fd, family, o->dscp << 2);
		sock_set_buffers(p->fd, 4 << 20, 1 << 20);
		return err;
	}
	struct sockaddr_storage bind_addr;
	socklen_t bind_len;
	if (o->source.ss_family != AF_UNSPEC) {
		if (o->source.ss_family != family)
			return -EAFNOSUPPORT;
		bind_addr = o->source;
		bind_len = o->source_len;
	} else {
		memset(&bind_addr, 0, sizeof(bind_addr));
		bind_addr.ss_family = (sa_family_t)family;
		bind_len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	}
	int fd = sock_udp_open((struct sockaddr *)&bind_addr, bind_len, o->tstamp,
			       SOCK_F_TX_TS | SOCK_F_NONBLOCK, &p->res->caps);
	if (fd < 0)
		return fd;
	p->fd = fd;
	p->res->socket_kind = "udp";
	p->dst = o->target;
	p->dst_len = o->target_len;
	int err = sock_set_ttl(fd, family, o->ttl);
	if (!err)
		err = sock_set_tos(fd, family, o->dscp << 2);
	if (err)
		return err;
	sock_set_buffers(fd, 4 << 20, 1 << 20);
	return 0;
}

static int open_icmp(struct sender *s, struct prober *p)
{
	const struct sender_opts *o = s->o;
	int family = o->target.ss_family;
	const struct sockaddr *src = NULL;
	socklen_t srclen = 0;
	struct sockaddr_storage src_noport;
	if (o->source.ss_family != AF_UNSPEC) {
		/* ICMP has no ports: -S ADDR:PORT binds the address only. */
		src_noport = o->source;
		if (family == AF_INET)
			((struct sockaddr_in *)&src_noport)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&src_noport)->sin6_port = 0;
		src = (struct sockaddr *)&src_noport;
		srclen = o->source_len;
	}
	uint16_t ident = (uint16_t)(xorshift(&s->rng) >> 48);
	int err = icmp_open(&p->icmp, family, src, srclen, o->tstamp, ident);
	if (err)
		return err;
	p->fd = p->icmp.fd;
	p->res->caps = p->icmp.caps;
	p->res->socket_kind = icmp_sock_kind_name(p->icmp.kind);
	p->dst = o->target;
	p->dst_len = o->target_len;
	if (family == AF_INET)
		((struct sockaddr_in *)&p->dst)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&p->dst)->sin6_port = 0;
	err = sock_set_ttl(p->fd, family, o->ttl);
	if (!err)
		err = sock_set_tos(p->fd, family, o->dscp << 2);
	if (err)
		return err;
	sock_set_buffers(p->fd, 4 << 20, 1 << 20);
	/* Same IP packet size as the TWAMP probe: UDP header + payload = ICMP header + data. */
	p->pkt_len = wire_sender_hdr_len(o->sec) + o->padding;
	if (p->pkt_len < ICMP_ECHO_HDR + ICMP_PAYLOAD_MIN)
		p->pkt_len = ICMP_ECHO_HDR + ICMP_PAYLOAD_MIN;
	return 0;
}

static void arm_timer(struct sender *s, int64_t deadline_ns)
{
	struct itimerspec its = { .it_value = ts_ns_to_timespec(deadline_ns > 0 ? deadline_ns : 1) };
	timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void drain_tx_timestamps(struct prober *p)
{
	for (;;) {
		uint32_t id;
		int64_t ts;
		int rc = sock_read_tx_timestamp(p->fd, &id, &ts);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			if (rc == -ENOMSG || rc == -ECONNREFUSED || rc == -EHOSTUNREACH ||
			    rc == -ENETUNREACH)
				continue; /* queued ICMP errors: the probe will count as lost */
			return;
		}
		if (id < p->res->n_probes && p->st[id].t1_kernel_ns == 0) {
			p->st[id].t1_kernel_ns = ts;
			p->res->t1_kernel++;
		}
	}
}

static void print_live(const struct sender *s, const struct prober *p, uint32_t n)
{
	const struct probe_state *q = &p->st[n];
	int64_t t1 = q->t1_kernel_ns ? q->t1_kernel_ns : q->t1_user_ns;
	if (p->proto == PROBE_ICMP) {
		fprintf(s->o->verbose, "icmp seq=%u rtt=%.3f ms ttl=%d%s\n", n,
			(double)(q->t4_ns - t1) / 1e6, q->ttl, q->late ? " (late: counted lost)" : "");
		return;
	}
	int64_t rtt = (q->t4_ns - t1) - (q->t3_ns - q->t2_ns);
	fprintf(s->o->verbose, "twamp seq=%u rtt=%.3f ms proc=%.3f ms ttl=%d%s\n", n,
		(double)rtt / 1e6, (double)(q->t3_ns - q->t2_ns) / 1e6, q->ttl,
		q->late ? " (late: counted lost)" : "");
}

/* Bookkeeping common to both protocols; returns the probe state or NULL. */
static struct probe_state *first_arrival(struct prober *p, uint32_t n)
{
	if (n >= p->res->n_probes) {
		p->res->foreign++;
		return NULL;
	}
	bool reordered = false;
	enum stats_seq_verdict v = stats_seq_observe(&p->seq, n, &reordered);
	struct probe_state *q = &p->st[n];
	if (v == STATS_SEQ_DUPLICATE) {
		if (q->dup < UINT16_MAX)
			q->dup++;
		return NULL;
	}
	if (v != STATS_SEQ_FIRST) {
		p->res->foreign++;
		return NULL;
	}
	if (reordered)
		p->res->reordered++;
	p->replies++;
	return q;
}

static void handle_twamp(struct sender *s, struct prober *p, uint8_t *buf, size_t len,
			 const struct sock_rx_meta *meta, int64_t user_rx_ns)
{
	const struct sender_opts *o = s->o;
	struct wire_reflector r;
	if (len < wire_reflector_hdr_len(o->sec, o->dscp_ecn)) {
		p->res->foreign++;
		return;
	}
	/* B14: decrypt and verify before any field is used; failures are discarded. */
	if (o->crypto && crypto_test_unprotect(o->crypto, CRYPTO_TEST_REFLECTOR, buf, len) < 0) {
		p->res->auth_failures++;
		return;
	}
	if (wire_reflector_decode(buf, len, o->sec, o->dscp_ecn, &r) < 0) {
		p->res->foreign++;
		return;
	}
	struct probe_state *q = first_arrival(p, r.sender_seq);
	if (!q)
		return;
	if (o->reflect_len) {
		/* C28: our to-be-reflected octets start the reflector's padding. */
		size_t hdr_r = wire_reflector_hdr_len(o->sec, o->dscp_ecn);
		if (len < hdr_r + o->reflect_len || reflect_area(o) + o->reflect_len > p->pkt_len ||
		    memcmp(buf + hdr_r, p->pkt + reflect_area(o), o->reflect_len) != 0)
			p->res->reflect_mismatch++;
	}
	if (o->dscp_ecn) {
		if (p->res->s_dscp_ecn < 0)
			p->res->s_dscp_ecn = r.sender_dscp_ecn;
		else if (r.sender_dscp_ecn != p->res->s_dscp_ecn)
			p->res->s_dscp_ecn_changes++;
	}
	int64_t t4 = meta->rx.src != TS_SRC_NONE ? meta->rx.ns : user_rx_ns;
	q->t4_ns = t4;
	q->t4_src = meta->rx.src != TS_SRC_NONE ? meta->rx.src : TS_SRC_USER;
	q->t2_ns = ts_ntp_to_unix_ns(r.receive_timestamp, t4);
	q->t3_ns = ts_ntp_to_unix_ns(r.timestamp, t4);
	q->refl_seq = r.seq;
	q->ttl = r.sender_ttl;
	q->ts_valid = ts_ee_valid(r.error_estimate) && ts_ee_valid(r.sender_error_estimate);
	q->refl_synced = ts_ee_synced(r.error_estimate);
	q->received = true;
	int64_t t1 = q->t1_kernel_ns ? q->t1_kernel_ns : q->t1_user_ns;
	q->late = t4 - t1 > s->o->timeout_ns;
	if (s->o->verbose)
		print_live(s, p, r.sender_seq);
}

static void handle_icmp(struct sender *s, struct prober *p, const uint8_t *buf, size_t len,
			const struct sock_rx_meta *meta, int64_t user_rx_ns)
{
	struct icmp_echo_reply r;
	bool raw4 = p->icmp.kind == ICMP_SOCK_RAW && p->icmp.family == AF_INET;
	if (icmp_echo_parse(p->icmp.family, raw4, buf, len, &r) < 0 || r.ident != p->icmp.ident ||
	    r.seq != (uint16_t)r.probe) {
		p->res->foreign++;
		return;
	}
	struct probe_state *q = first_arrival(p, r.probe);
	if (!q)
		return;
	int64_t t4 = meta->rx.src != TS_SRC_NONE ? meta->rx.ns : user_rx_ns;
	q->t4_ns = t4;
	q->t4_src = meta->rx.src != TS_SRC_NONE ? meta->rx.src : TS_SRC_USER;
	q->ttl = (int16_t)(meta->ttl >= 0 ? meta->ttl : r.ttl);
	q->ts_valid = true;
	q->received = true;
	int64_t t1 = q->t1_kernel_ns ? q->t1_kernel_ns : q->t1_user_ns;
	q->late = t4 - t1 > s->o->timeout_ns;
	if (s->o->verbose)
		print_live(s, p, r.probe);
}

static void drain_replies(struct sender *s, struct prober *p)
{
	static uint8_t bufs[RX_BATCH][RX_BUF];
	union {
		uint8_t buf[SOCK_CMSG_SPACE];
		struct cmsghdr align;
	} control[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct mmsghdr msgs[RX_BATCH];
	struct sockaddr_storage peers[RX_BATCH];

	for (;;) {
		for (int i = 0; i < RX_BATCH; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = RX_BUF;
			memset(&msgs[i], 0, sizeof(msgs[i]));
			msgs[i].msg_hdr.msg_name = &peers[i];
			msgs[i].msg_hdr.msg_namelen = sizeof(peers[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			msgs[i].msg_hdr.msg_control = control[i].buf;
			msgs[i].msg_hdr.msg_controllen = sizeof(control[i].buf);
		}
		int n = recvmmsg(p->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN, or a pending ICMP error: nothing to read */
		int64_t user_rx_ns = ts_realtime_ns();
		for (int i = 0; i < n; i++) {
			if (!sock_addr_equal(&peers[i], &p->dst, p->proto == PROBE_TWAMP)) {
				p->res->foreign++;
				continue;
			}
			struct sock_rx_meta meta;
			sock_parse_rx_cmsgs(&msgs[i].msg_hdr, &meta);
			if (p->proto == PROBE_TWAMP)
				handle_twamp(s, p, bufs[i], msgs[i].msg_len, &meta, user_rx_ns);
			else
				handle_icmp(s, p, bufs[i], msgs[i].msg_len, &meta, user_rx_ns);
		}
		if (n < RX_BATCH)
			return;
	}
}

/* Builds, stamps and sends probe number n of p; 0 or -errno. */
static int send_probe(struct sender *s, struct prober *p, uint32_t n, int64_t deadline_ns)
{
	int64_t mono = ts_monotonic_ns();
	int64_t t1 = ts_realtime_ns();
	if (p->proto == PROBE_TWAMP) {
		enum wire_security sec = s->o->sec;
		size_t hdr = wire_sender_hdr_len(sec), off = wire_timestamp_offset(sec);
		struct wire_sender m = { .seq = n, .error_estimate = s->error_estimate };
		wire_sender_encode(&m, sec, NULL, 0, p->pkt, hdr);
		/*
		 * B11-B13: HMAC over the plaintext, then encryption.  In encrypted
		 * mode T1 is inside the protected octets and is written first; in
		 * authenticated mode only block 1 is protected, so T1 goes in after,
		 * as late as possible (B5).
		 */
		if (sec == WIRE_SEC_ENC) {
			t1 = ts_realtime_ns();
			wire_put_ntp64(p->pkt + off, ts_ntp_from_unix_ns(t1));
			int rc = crypto_test_protect(s->o->crypto, CRYPTO_TEST_SENDER, p->pkt, p->pkt_len);
			if (rc < 0)
				return rc;
		} else if (sec == WIRE_SEC_AUTH) {
			int rc = crypto_test_protect(s->o->crypto, CRYPTO_TEST_SENDER, p->pkt, p->pkt_len);
			if (rc < 0)
				return rc;
			t1 = ts_realtime_ns();
			wire_put_ntp64(p->pkt + off, ts_ntp_from_unix_ns(t1));
		} else {
			t1 = ts_realtime_ns(); /* B5: after the packet is built, right before sending */
			wire_put_ntp64(p->pkt + off, ts_ntp_from_unix_ns(t1));
		}
	} else {
		int rc = icmp_echo_encode(p->icmp.family, p->icmp.ident, (uint16_t)n, n, t1,
					  p->pkt_len - ICMP_ECHO_HDR, p->pkt, p->pkt_len);
		if (rc < 0)
			return rc;
	}
	ssize_t k = sendto(p->fd, p->pkt, p->pkt_len, 0, (const struct sockaddr *)&p->dst, p->dst_len);
	int64_t after = ts_monotonic_ns();
	if (k < 0)
		return -errno;
	p->st[n].t1_user_ns = t1;
	p->res->lateness_ns[n] = mono - deadline_ns;
	p->res->send_call_ns[n] = after - mono;
	return 0;
}

static void fill_padding(struct sender *s, struct prober *p)
{
	const struct sender_opts *o = s->o;
	if (p->proto != PROBE_TWAMP)
		return;
	size_t hdr = wire_sender_hdr_len(o->sec);
	uint8_t *pad = p->pkt + hdr;
	size_t n = p->pkt_len - hdr;
	if (!o->zero_padding) {
		/* B7: pseudo-random, from a generator used for nothing else. */
		uint64_t r = 0;
		for (size_t i = 0; i < n; i++) {
			if ((i & 7) == 0)
				r = xorshift(&s->rng);
			pad[i] = (uint8_t)(r >> ((i & 7) * 8));
		}
	} else {
		memset(pad, 0, n);
	}
	/* B17: the Symmetrical Size format's MBZ octets up to the reflector header. */
	size_t area = reflect_area(o);
	if (o->symmetrical)
		memset(pad, 0, (area < p->pkt_len ? area : p->pkt_len) - hdr);
	/* B18: Server octets (RFC 6038 §4.3) open the to-be-reflected area. */
	if (o->reflect_len >= 2 && o->server_octets && area + 2 <= p->pkt_len) {
		p->pkt[area] = (uint8_t)(o->server_octets >> 8);
		p->pkt[area + 1] = (uint8_t)o->server_octets;
	}
}

static int finalize(struct sender *s, struct prober *p)
{
	struct sender_proto_result *res = p->res;
	res->probes = calloc(res->n_probes ? res->n_probes : 1, sizeof(*res->probes));
	if (!res->probes)
		return -ENOMEM;
	for (size_t i = 0; i < res->n_probes; i++) {
		const struct probe_state *q = &p->st[i];
		struct probe_result *r = &res->probes[i];
		r->proto = p->proto;
		r->seq = (uint32_t)i;
		r->sent = true;
		r->t1_ns = q->t1_kernel_ns ? q->t1_kernel_ns : q->t1_user_ns;
		r->t1_wire_ns = q->t1_user_ns;
		r->t1_src = q->t1_kernel_ns ? TS_SRC_KERNEL : TS_SRC_USER;
		r->ttl = -1;
		r->dup = q->dup;
		if (!q->received || q->late) {
			if (q->late)
				res->late++;
			continue;
		}
		r->received = true;
		r->t4_ns = q->t4_ns;
		r->t4_src = q->t4_src;
		r->ttl = q->ttl;
		r->ts_valid = q->ts_valid;
		if (p->proto == PROBE_ICMP) {
			r->refl_seq = (uint16_t)i;
			r->rtt_ns = q->t4_ns - r->t1_ns;
			continue;
		}
		r->refl_seq = q->refl_seq;
		r->t2_ns = q->t2_ns;
		r->t3_ns = q->t3_ns;
		r->proc_ns = q->t3_ns - q->t2_ns;
		r->rtt_ns = (q->t4_ns - r->t1_ns) - r->proc_ns;
		r->fwd_ns = q->t2_ns - r->t1_ns;
		r->bwd_ns = q->t4_ns - q->t3_ns;
		r->one_way_valid = s->synced && q->refl_synced;
	}
	return 0;
}

static bool all_answered(const struct sender *s)
{
	for (int i = 0; i < PROBE_NPROTO; i++)
		if (s->o->proto[i] && s->pr[i].replies < s->pr[i].res->n_probes)
			return false;
	return true;
}

/* Sends probe n of every protocol, alternating which goes first. */
static int send_all(struct sender *s, uint64_t n, int64_t deadline)
{
	enum probe_proto order[PROBE_NPROTO] = { PROBE_TWAMP, PROBE_ICMP };
	if (n & 1) {
		order[0] = PROBE_ICMP;
		order[1] = PROBE_TWAMP;
	}
	for (int k = 0; k < PROBE_NPROTO; k++) {
		struct prober *p = &s->pr[order[k]];
		if (!s->o->proto[order[k]])
			continue;
		int rc = grow(p, p->res->n_probes + 1);
		if (rc)
			return rc;
		if (send_probe(s, p, (uint32_t)p->res->n_probes, deadline) == 0)
			p->res->n_probes++;
		else
			p->res->send_errors++;
	}
	return 0;
}

static void skip_all(struct sender *s)
{
	for (int i = 0; i < PROBE_NPROTO; i++)
		if (s->o->proto[i])
			s->pr[i].res->skipped++;
}

int sender_run(const struct sender_opts *o, volatile sig_atomic_t *stop, struct sender_result *res,
	       enum probe_proto *failed_proto)
{
	struct sender s = { .o = o, .res = res, .tfd = -1 };
	memset(res, 0, sizeof(*res));
	s.rng = o->seed ? o->seed ^ 0x9e3779b97f4a7c15ULL : (uint64_t)ts_realtime_ns() | 1;
	struct ts_clock_status cs;
	if (ts_clock_status_read(&cs) < 0)
		memset(&cs, 0, sizeof(cs));
	s.error_estimate = ts_clock_error_estimate(&cs);
	s.synced = cs.synced;

	uint64_t planned = o->count ? o->count : (uint64_t)(o->duration_ns / o->interval_ns) + 1;
	int rc = 0;
	for (int i = 0; i < PROBE_NPROTO && !rc; i++) {
		struct prober *p = &s.pr[i];
		p->proto = (enum probe_proto)i;
		p->fd = -1;
		p->res = &res->p[i];
		p->res->s_dscp_ecn = -1;
		if (!o->proto[i]) {
			if (i == PROBE_TWAMP && o->have_twamp_fd)
				close(o->twamp_fd);
			continue;
		}
		p->res->active = true;
		rc = i == PROBE_TWAMP ? open_twamp(&s, p) : open_icmp(&s, p);
		if (rc && failed_proto)
			*failed_proto = (enum probe_proto)i;
		if (!rc)
			rc = grow(p, planned + 1);
		if (!rc)
			rc = stats_seq_init(&p->seq, o->count ? o->count : planned * 4 + 1024);
		if (!rc) {
			p->pkt = calloc(1, p->pkt_len);
			rc = p->pkt ? 0 : -ENOMEM;
		}
		if (!rc)
			fill_padding(&s, p);
	}
	if (!rc) {
		s.tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		if (s.tfd < 0)
			rc = -errno;
	}
	if (rc)
		goto out;
	/* The default 50 us timer slack would show up as schedule lateness. */
	sched_set_timer_slack_ns(1);

	struct sched sch;
	int64_t start = ts_monotonic_ns() + 1000000; /* 1 ms to settle before probe 0 */
	sched_init(&sch, o->schedule, o->interval_ns, start, o->seed);
	int64_t end_of_sending = o->count ? 0 : start + o->duration_ns;
	int64_t deadline = sched_next(&sch);
	int64_t late_limit = o->late_limit_ns;
	if (late_limit <= 0)
		late_limit = o->interval_ns > 10000000 ? o->interval_ns : 10000000;
	bool sending = true;
	int64_t wait_until = 0; /* monotonic end of the reply wait */
	res->start_ns = ts_realtime_ns();
	arm_timer(&s, deadline - o->spin_ns);

	struct pollfd pfd[PROBE_NPROTO + 1];
	struct prober *pfd_prober[PROBE_NPROTO];
	int nfd = 0;
	for (int i = 0; i < PROBE_NPROTO; i++) {
		if (!o->proto[i])
			continue;
		pfd[nfd] = (struct pollfd){ .fd = s.pr[i].fd, .events = POLLIN };
		pfd_prober[nfd++] = &s.pr[i];
	}
	pfd[nfd] = (struct pollfd){ .fd = s.tfd, .events = POLLIN };

	while (!*stop) {
		int timeout_ms = -1;
		if (!sending) {
			int64_t left = wait_until - ts_monotonic_ns();
			if (left <= 0 || all_answered(&s))
				break;
			timeout_ms = (int)(left / 1000000) + 1;
		}
		int k = poll(pfd, (nfds_t)(sending ? nfd + 1 : nfd), timeout_ms);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (int i = 0; i < nfd; i++) {
			if (pfd[i].revents & POLLERR)
				drain_tx_timestamps(pfd_prober[i]);
			if (pfd[i].revents & POLLIN)
				drain_replies(&s, pfd_prober[i]);
		}
		if (!sending || !(pfd[nfd].revents & POLLIN))
			continue;

		uint64_t expirations;
		if (read(s.tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			continue;
		if (o->spin_ns > 0)
			sched_wait_until(deadline, o->spin_ns);
		for (;;) {
			int64_t now = ts_monotonic_ns();
			if (now < deadline)
				break;
			if (now - deadline > late_limit) {
				skip_all(&s); /* stalled: do not burst to catch up */
			} else if ((rc = send_all(&s, res->scheduled, deadline)) != 0) {
				goto out;
			}
			res->scheduled++;
			deadline = sched_next(&sch);
			bool done = o->count ? res->scheduled >= o->count : deadline >= end_of_sending;
			if (done) {
				sending = false;
				wait_until = ts_monotonic_ns() + o->timeout_ns;
				break;
			}
		}
		if (sending)
			arm_timer(&s, deadline - o->spin_ns);
	}
	res->interrupted = *stop != 0;
	res->end_ns = ts_realtime_ns();
	for (int i = 0; i < PROBE_NPROTO && !rc; i++) {
		if (!o->proto[i])
			continue;
		/* TX timestamps may still sit in the error queue. */
		drain_tx_timestamps(&s.pr[i]);
		rc = finalize(&s, &s.pr[i]);
	}
out:
	for (int i = 0; i < PROBE_NPROTO; i++) {
		struct prober *p = &s.pr[i];
		stats_seq_free(&p->seq);
		free(p->st);
		free(p->pkt);
		if (p->fd >= 0)
			close(p->fd);
	}
	if (s.tfd >= 0)
		close(s.tfd);
	return rc;
}

void sender_result_free(struct sender_result *res)
{
	for (int i = 0; i < PROBE_NPROTO; i++) {
		free(res->p[i].probes);
		free(res->p[i].lateness_ns);
		free(res->p[i].send_call_ns);
	}
	memset(res, 0, sizeof(*res));
}
