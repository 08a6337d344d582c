/*
 * Session-Sender event loop.
 *
 * One thread, one poll set: the UDP socket (replies, and TX timestamps on
 * its error queue) and a timerfd armed at the next absolute deadline on
 * CLOCK_MONOTONIC.  A probe that is late is still sent at once: on a busy
 * two-core machine wake-ups are now and then a few hundred microseconds
 * late, and dropping those probes would bias the sample.  Only a probe
 * later than the late limit (default max(interval, 10 ms): the process was
 * stopped or starved) is skipped and counted, so a stall is not followed by
 * a burst that congests the path it measures.  The lateness of every sent
 * probe is kept, so schedule adherence is a figure, not a claim.
 */
#include "sender.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

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

struct sender {
	const struct sender_opts *o;
	struct sender_result *res;
	int fd;
	int tfd;
	int family;
	uint16_t error_estimate;
	bool synced;
	uint8_t *pkt;
	size_t pkt_len;
	struct probe_state *st;
	size_t cap;               /* allocated probe slots */
	struct stats_seq_tracker seq;
	uint64_t replies;         /* first arrivals */
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

static int grow(struct sender *s, size_t need)
{
	if (need <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 1024;
	while (cap < need)
		cap *= 2;
	struct probe_state *st = realloc(s->st, cap * sizeof(*st));
	int64_t *late = realloc(s->res->lateness_ns, cap * sizeof(int64_t));
	if (st)
		s->st = st;
	if (late)
		s->res->lateness_ns = late;
	int64_t *call = realloc(s->res->send_call_ns, cap * sizeof(int64_t));
	if (call)
		s->res->send_call_ns = call;
	if (!st || !late || !call)
		return -ENOMEM;
	memset(s->st + s->cap, 0, (cap - s->cap) * sizeof(*st));
	s->cap = cap;
	return 0;
}

static int open_socket(struct sender *s)
{
	const struct sender_opts *o = s->o;
	struct sockaddr_storage bind_addr;
	socklen_t bind_len;
	s->family = o->target.ss_family;
	if (o->source.ss_family != AF_UNSPEC) {
		if (o->source.ss_family != s->family)
			return -EAFNOSUPPORT;
		bind_addr = o->source;
		bind_len = o->source_len;
	} else {
		memset(&bind_addr, 0, sizeof(bind_addr));
		bind_addr.ss_family = (sa_family_t)s->family;
		bind_len = s->family == AF_INET ? sizeof(struct sockaddr_in)
						: sizeof(struct sockaddr_in6);
	}
	int fd = sock_udp_open((struct sockaddr *)&bind_addr, bind_len, o->tstamp,
			       SOCK_F_TX_TS | SOCK_F_NONBLOCK, &s->res->caps);
	if (fd < 0)
		return fd;
	/*
	 * Unconnected on purpose: a connected UDP socket turns an ICMP error
	 * into a failure of the next send, which would silently drop a probe.
	 * Replies are filtered by source address instead.
	 */
	s->fd = fd;
	int err = sock_set_ttl(fd, s->family, o->ttl);
	if (!err)
		err = sock_set_tos(fd, s->family, o->dscp << 2);
	if (err)
		return err;
	sock_set_buffers(fd, 4 << 20, 1 << 20);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->tfd < 0)
		return -errno;
	return 0;
}

static void arm_timer(struct sender *s, int64_t deadline_ns)
{
	struct itimerspec its = { .it_value = ts_ns_to_timespec(deadline_ns > 0 ? deadline_ns : 1) };
	timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void drain_tx_timestamps(struct sender *s)
{
	for (;;) {
		uint32_t id;
		int64_t ts;
		int rc = sock_read_tx_timestamp(s->fd, &id, &ts);
		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			if (rc == -ENOMSG || rc == -ECONNREFUSED || rc == -EHOSTUNREACH ||
			    rc == -ENETUNREACH)
				continue; /* queued ICMP errors: the probe will count as lost */
			return;
		}
		if (id < s->res->n_probes && s->st[id].t1_kernel_ns == 0) {
			s->st[id].t1_kernel_ns = ts;
			s->res->t1_kernel++;
		}
	}
}

static void print_live(const struct sender *s, uint32_t seq)
{
	const struct probe_state *p = &s->st[seq];
	int64_t t1 = p->t1_kernel_ns ? p->t1_kernel_ns : p->t1_user_ns;
	int64_t rtt = (p->t4_ns - t1) - (p->t3_ns - p->t2_ns);
	fprintf(s->o->verbose, "seq=%u rtt=%.3f ms proc=%.3f ms ttl=%d%s\n", seq,
		(double)rtt / 1e6, (double)(p->t3_ns - p->t2_ns) / 1e6, p->ttl,
		p->late ? " (late: counted lost)" : "");
}

static void handle_reply(struct sender *s, const uint8_t *buf, size_t len,
			 const struct sock_rx_meta *meta, int64_t user_rx_ns)
{
	struct wire_reflector r;
	if (wire_reflector_decode(buf, len, WIRE_SEC_OPEN, false, &r) < 0) {
		s->res->foreign++;
		return;
	}
	if (r.sender_seq >= s->res->n_probes) {
		s->res->foreign++;
		return;
	}
	bool reordered = false;
	enum stats_seq_verdict v = stats_seq_observe(&s->seq, r.sender_seq, &reordered);
	struct probe_state *p = &s->st[r.sender_seq];
	if (v == STATS_SEQ_DUPLICATE) {
		if (p->dup < UINT16_MAX)
			p->dup++;
		return;
	}
	if (v != STATS_SEQ_FIRST) {
		s->res->foreign++;
		return;
	}
	if (reordered)
		s->res->reordered++;
	s->replies++;
	int64_t t4 = meta->rx.src != TS_SRC_NONE ? meta->rx.ns : user_rx_ns;
	p->t4_ns = t4;
	p->t4_src = meta->rx.src != TS_SRC_NONE ? meta->rx.src : TS_SRC_USER;
	p->t2_ns = ts_ntp_to_unix_ns(r.receive_timestamp, t4);
	p->t3_ns = ts_ntp_to_unix_ns(r.timestamp, t4);
	p->refl_seq = r.seq;
	p->ttl = r.sender_ttl;
	p->ts_valid = ts_ee_valid(r.error_estimate) && ts_ee_valid(r.sender_error_estimate);
	p->refl_synced = ts_ee_synced(r.error_estimate);
	p->received = true;
	int64_t t1 = p->t1_kernel_ns ? p->t1_kernel_ns : p->t1_user_ns;
	p->late = t4 - t1 > s->o->timeout_ns;
	if (s->o->verbose)
		print_live(s, r.sender_seq);
}

static bool same_endpoint(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		struct sockaddr_in x, y;
		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		return x.sin_port == y.sin_port && x.sin_addr.s_addr == y.sin_addr.s_addr;
	}
	struct sockaddr_in6 x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return x.sin6_port == y.sin6_port && !memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr));
}

static void drain_replies(struct sender *s)
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
		int n = recvmmsg(s->fd, msgs, RX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return; /* EAGAIN, or ECONNREFUSED from an ICMP error: nothing to read */
		int64_t user_rx_ns = ts_realtime_ns();
		for (int i = 0; i < n; i++) {
			if (!same_endpoint(&peers[i], &s->o->target)) {
				s->res->foreign++;
				continue;
			}
			struct sock_rx_meta meta;
			sock_parse_rx_cmsgs(&msgs[i].msg_hdr, &meta);
			handle_reply(s, bufs[i], msgs[i].msg_len, &meta, user_rx_ns);
		}
		if (n < RX_BATCH)
			return;
	}
}

/* Builds, stamps and sends probe number seq; 0 or -errno. */
static int send_probe(struct sender *s, uint32_t seq, int64_t deadline_ns)
{
	struct wire_sender m = { .seq = seq, .error_estimate = s->error_estimate };
	wire_sender_encode(&m, WIRE_SEC_OPEN, NULL, 0, s->pkt, WIRE_SENDER_HDR_OPEN);
	int64_t mono = ts_monotonic_ns();
	int64_t t1 = ts_realtime_ns();
	wire_put_ntp64(s->pkt + wire_timestamp_offset(WIRE_SEC_OPEN), ts_ntp_from_unix_ns(t1));
	ssize_t k = sendto(s->fd, s->pkt, s->pkt_len, 0, (const struct sockaddr *)&s->o->target,
			   s->o->target_len);
	int64_t after = ts_monotonic_ns();
	if (k < 0)
		return -errno;
	s->st[seq].t1_user_ns = t1;
	s->res->lateness_ns[seq] = mono - deadline_ns;
	s->res->send_call_ns[seq] = after - mono;
	return 0;
}

static void fill_padding(struct sender *s)
{
	uint8_t *pad = s->pkt + WIRE_SENDER_HDR_OPEN;
	size_t n = s->pkt_len - WIRE_SENDER_HDR_OPEN;
	if (s->o->zero_padding) {
		memset(pad, 0, n);
		return;
	}
	/* B7: pseudo-random, from a generator used for nothing else. */
	uint64_t r = s->rng;
	for (size_t i = 0; i < n; i++) {
		if ((i & 7) == 0)
			r = xorshift(&s->rng);
		pad[i] = (uint8_t)(r >> ((i & 7) * 8));
	}
}

static void finalize(struct sender *s)
{
	struct sender_result *res = s->res;
	res->probes = calloc(res->n_probes ? res->n_probes : 1, sizeof(*res->probes));
	if (!res->probes)
		return;
	for (size_t i = 0; i < res->n_probes; i++) {
		const struct probe_state *p = &s->st[i];
		struct probe_result *r = &res->probes[i];
		r->proto = PROBE_TWAMP;
		r->seq = (uint32_t)i;
		r->sent = true;
		r->t1_ns = p->t1_kernel_ns ? p->t1_kernel_ns : p->t1_user_ns;
		r->t1_wire_ns = p->t1_user_ns;
		r->t1_src = p->t1_kernel_ns ? TS_SRC_KERNEL : TS_SRC_USER;
		r->ttl = -1;
		r->dup = p->dup;
		if (!p->received || p->late) {
			if (p->late)
				res->late++;
			continue;
		}
		r->received = true;
		r->refl_seq = p->refl_seq;
		r->t2_ns = p->t2_ns;
		r->t3_ns = p->t3_ns;
		r->t4_ns = p->t4_ns;
		r->t4_src = p->t4_src;
		r->ttl = p->ttl;
		r->ts_valid = p->ts_valid;
		r->proc_ns = p->t3_ns - p->t2_ns;
		r->rtt_ns = (p->t4_ns - r->t1_ns) - r->proc_ns;
		r->fwd_ns = p->t2_ns - r->t1_ns;
		r->bwd_ns = p->t4_ns - p->t3_ns;
		r->one_way_valid = s->synced && p->refl_synced;
	}
}

int sender_run(const struct sender_opts *o, volatile sig_atomic_t *stop, struct sender_result *res)
{
	struct sender s = { .o = o, .res = res, .fd = -1, .tfd = -1 };
	memset(res, 0, sizeof(*res));
	s.rng = o->seed ? o->seed ^ 0x9e3779b97f4a7c15ULL : (uint64_t)ts_realtime_ns() | 1;
	s.pkt_len = WIRE_SENDER_HDR_OPEN + o->padding;
	s.pkt = calloc(1, s.pkt_len);
	struct ts_clock_status cs;
	if (ts_clock_status_read(&cs) < 0)
		memset(&cs, 0, sizeof(cs));
	s.error_estimate = ts_clock_error_estimate(&cs);
	s.synced = cs.synced;

	uint64_t planned = o->count;
	if (planned == 0)
		planned = (uint64_t)(o->duration_ns / o->interval_ns) + 1;
	int rc = s.pkt ? 0 : -ENOMEM;
	if (!rc)
		rc = grow(&s, planned + 1);
	if (!rc)
		rc = stats_seq_init(&s.seq, o->count ? o->count : planned * 4 + 1024);
	if (!rc)
		rc = open_socket(&s);
	if (rc)
		goto out;
	fill_padding(&s);
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

	struct pollfd pfd[2] = {
		{ .fd = s.fd, .events = POLLIN },
		{ .fd = s.tfd, .events = POLLIN },
	};
	while (!*stop) {
		int timeout_ms = -1;
		if (!sending) {
			int64_t left = wait_until - ts_monotonic_ns();
			if (left <= 0 || s.replies >= res->n_probes)
				break;
			timeout_ms = (int)(left / 1000000) + 1;
		}
		int k = poll(pfd, sending ? 2 : 1, timeout_ms);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (pfd[0].revents & POLLERR)
			drain_tx_timestamps(&s);
		if (pfd[0].revents & POLLIN)
			drain_replies(&s);
		if (!sending || !(pfd[1].revents & POLLIN))
			goto check_done;

		uint64_t expirations;
		if (read(s.tfd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
			goto check_done;
		if (o->spin_ns > 0)
			sched_wait_until(deadline, o->spin_ns);
		for (;;) {
			int64_t now = ts_monotonic_ns();
			if (now < deadline)
				break;
			res->scheduled++;
			if (now - deadline > late_limit) {
				res->skipped++; /* stalled: do not burst to catch up */
			} else if ((rc = grow(&s, res->n_probes + 1)) == 0) {
				int err = send_probe(&s, (uint32_t)res->n_probes, deadline);
				if (err == 0)
					res->n_probes++;
				else
					res->send_errors++;
			} else {
				goto out;
			}
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
check_done:
		/* Replies for everything sent: no reason to wait out the timeout. */
		if (!sending && s.replies >= res->n_probes) {
			drain_tx_timestamps(&s);
			break;
		}
	}
	res->interrupted = *stop != 0;
	/* TX timestamps may still sit in the error queue. */
	drain_tx_timestamps(&s);
	res->end_ns = ts_realtime_ns();
	finalize(&s);
	if (!res->probes)
		rc = -ENOMEM;
out:
	stats_seq_free(&s.seq);
	free(s.st);
	free(s.pkt);
	if (s.fd >= 0)
		close(s.fd);
	if (s.tfd >= 0)
		close(s.tfd);
	return rc;
}

void sender_result_free(struct sender_result *res)
{
	free(res->probes);
	free(res->lateness_ns);
	free(res->send_call_ns);
	memset(res, 0, sizeof(*res));
}
