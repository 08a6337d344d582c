/*
 * Reflector engine: poll over the listeners, drain each in recvmmsg
 * batches, build every reply, take T3 once right before the sendmmsg that
 * carries the batch, and send.  All buffers are allocated once in
 * reflector_new; the per-packet path does no allocation and no logging.
 *
 * T2 comes from the kernel RX timestamp; when the socket has none, from a
 * clock read right after recvmmsg returned (counted, so a fallback shows
 * in the statistics).  T3 for a batch is one clock read just before the
 * send system call: later is impossible without hardware help, and it
 * differs from the per-packet reading by the few hundred nanoseconds the
 * kernel needs per datagram.
 */
#include "reflector.h"

#include <errno.h>
#include <json-c/json.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reflect.h"
#include "refl_sessions.h"
#include "tstamp.h"
#include "wire_test.h"

#define MAX_LISTENERS 32
#define SLOT_SIZE 9216 /* jumbo frame payload: larger requests are dropped and counted */

struct listener {
	int fd;
	int family;
	bool wildcard;                 /* bound to any address: replies need IP_PKTINFO */
	struct sockaddr_storage addr;
	struct sock_caps caps;
};

struct slot {
	struct sockaddr_storage peer;
	union {
		uint8_t buf[SOCK_CMSG_SPACE];
		struct cmsghdr align;
	} rx_control, tx_control;
	uint8_t rx[SLOT_SIZE];
	uint8_t tx[SLOT_SIZE];
	struct iovec rx_iov, tx_iov;
};

struct reflector {
	struct reflector_opts opts;
	struct reflect_cfg cfg;
	struct listener listeners[MAX_LISTENERS];
	size_t n_listeners;
	struct slot *slots;
	struct mmsghdr *rx_msgs;
	struct mmsghdr *tx_msgs;
	struct refl_table *sessions;
	struct reflector_counters c;
	struct ts_clock_status clock;
	uint16_t error_estimate;
	int64_t clock_checked_ns;
};

const char *reflector_drop_name(enum reflector_drop d)
{
	static const char *const names[DROP_NREASONS] = {
		[DROP_SHORT] = "short",
		[DROP_OVERSIZE] = "oversize",
		[DROP_NOT_ALLOWED] = "not_allowed",
		[DROP_SEND_ERROR] = "send_error",
	};
	return d < DROP_NREASONS ? names[d] : "unknown";
}

struct reflector *reflector_new(const struct reflector_opts *opts)
{
	struct reflector *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->opts = *opts;
	if (r->opts.batch == 0)
		r->opts.batch = 1;
	r->cfg.sec = WIRE_SEC_OPEN;
	r->cfg.dscp_ecn = opts->dscp_ecn;
	r->cfg.stamp_aware = opts->stamp_aware;
	r->slots = calloc(r->opts.batch, sizeof(*r->slots));
	r->rx_msgs = calloc(r->opts.batch, sizeof(*r->rx_msgs));
	r->tx_msgs = calloc(r->opts.batch, sizeof(*r->tx_msgs));
	if (opts->stateful)
		r->sessions = refl_table_new(opts->max_sessions, opts->refwait_ns);
	if (!r->slots || !r->rx_msgs || !r->tx_msgs || (opts->stateful && !r->sessions)) {
		reflector_free(r);
		return NULL;
	}
	if (ts_clock_status_read(&r->clock) < 0)
		memset(&r->clock, 0, sizeof(r->clock));
	r->error_estimate = ts_clock_error_estimate(&r->clock);
	r->clock_checked_ns = ts_monotonic_ns();
	return r;
}

void reflector_free(struct reflector *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_listeners; i++)
		close(r->listeners[i].fd);
	refl_table_free(r->sessions);
	free(r->slots);
	free(r->rx_msgs);
	free(r->tx_msgs);
	free(r);
}

static bool is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		return sin.sin_addr.s_addr == htonl(INADDR_ANY);
	}
	struct sockaddr_in6 sin6;
	memcpy(&sin6, sa, sizeof(sin6));
	return IN6_IS_ADDR_UNSPECIFIED(&sin6.sin6_addr);
}

int reflector_listen(struct reflector *r, const struct sockaddr *addr, socklen_t len,
		     struct sock_caps *caps)
{
	if (r->n_listeners == MAX_LISTENERS)
		return -EMFILE;
	struct listener *l = &r->listeners[r->n_listeners];
	int fd = sock_udp_open(addr, len, r->opts.tstamp, SOCK_F_NONBLOCK, &l->caps);
	if (fd < 0)
		return fd;
	l->fd = fd;
	l->family = addr->sa_family;
	l->wildcard = is_wildcard(addr);
	memset(&l->addr, 0, sizeof(l->addr));
	memcpy(&l->addr, addr, len);
	/* Replies leave with TTL 255 (C11); a fixed DSCP is a socket option too. */
	int err = sock_set_ttl(fd, l->family, 255);
	if (!err && r->opts.dscp >= 0)
		err = sock_set_tos(fd, l->family, r->opts.dscp << 2);
	if (err) {
		close(fd);
		return err;
	}
	sock_set_buffers(fd, 4 << 20, 4 << 20);
	*caps = l->caps;
	r->n_listeners++;
	return 0;
}

static bool allowed(const struct reflector *r, const struct sockaddr *peer)
{
	if (r->opts.n_allow == 0)
		return true;
	for (size_t i = 0; i < r->opts.n_allow; i++)
		if (prefix_contains(&r->opts.allow[i], peer))
			return true;
	return false;
}

static uint16_t sockaddr_port(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, ss, sizeof(sin));
		return ntohs(sin.sin_port);
	}
	struct sockaddr_in6 sin6;
	memcpy(&sin6, ss, sizeof(sin6));
	return ntohs(sin6.sin6_port);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, ss, sizeof(sin));
		sin.sin_port = htons(port);
		memcpy(ss, &sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, ss, sizeof(sin6));
		sin6.sin6_port = htons(port);
		memcpy(ss, &sin6, sizeof(sin6));
	}
}

/* Reflector sequence number: own counter per 5-tuple, or a copy (C7, C8). */
static uint32_t next_refl_seq(struct reflector *r, const struct listener *l,
			      const struct sock_rx_meta *meta, const struct slot *s,
			      const uint8_t *pkt, size_t len, int64_t now_mono)
{
	if (!r->opts.stateful)
		return reflect_sender_seq(pkt, len, r->cfg.sec);
	struct sockaddr_storage local = meta->have_local ? meta->local : l->addr;
	set_port(&local, sockaddr_port(&l->addr));
	struct refl_key key;
	if (refl_key_from_addrs(&key, (const struct sockaddr *)&local,
				(const struct sockaddr *)&s->peer) < 0)
		return reflect_sender_seq(pkt, len, r->cfg.sec);
	bool created, evicted;
	struct refl_session *sess = refl_table_get(r->sessions, &key, now_mono, &created, &evicted);
	sess->packets++;
	return sess->next_seq++;
}

static void refresh_clock(struct reflector *r, int64_t now_mono)
{
	/* The sync state changes slowly; re-read it once a second, not per packet. */
	if (now_mono - r->clock_checked_ns < TS_NSEC_PER_SEC)
		return;
	r->clock_checked_ns = now_mono;
	if (ts_clock_status_read(&r->clock) == 0)
		r->error_estimate = ts_clock_error_estimate(&r->clock);
}

static void send_batch(struct reflector *r, struct listener *l, unsigned n)
{
	/* T3 as late as possible: one read for the batch, just before sending (C3). */
	ntp64_t t3 = ts_ntp_from_unix_ns(ts_realtime_ns());
	size_t off = wire_timestamp_offset(r->cfg.sec);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *tx = r->tx_msgs[i].msg_hdr.msg_iov->iov_base;
		wire_put_ntp64(tx + off, t3);
	}
	unsigned done = 0;
	int retries = 0;
	while (done < n) {
		int k = sendmmsg(l->fd, r->tx_msgs + done, n - done, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EAGAIN || errno == ENOBUFS) && retries++ < 3) {
				struct pollfd p = { .fd = l->fd, .events = POLLOUT };
				poll(&p, 1, 1);
				continue;
			}
			/* Skip the datagram that failed, keep the rest of the batch. */
			r->c.dropped[DROP_SEND_ERROR]++;
			done++;
			continue;
		}
		for (int i = 0; i < k; i++)
			r->c.octets_out += r->tx_msgs[done + (unsigned)i].msg_hdr.msg_iov->iov_len;
		r->c.reflected += (unsigned)k;
		done += (unsigned)k;
	}
}

/* Receives and answers one batch; returns the number received, 0 when drained, -errno. */
static int serve_batch(struct reflector *r, struct listener *l)
{
	unsigned batch = r->opts.batch;
	for (unsigned i = 0; i < batch; i++) {
		struct slot *s = &r->slots[i];
		s->rx_iov.iov_base = s->rx;
		s->rx_iov.iov_len = sizeof(s->rx);
		struct msghdr *m = &r->rx_msgs[i].msg_hdr;
		memset(m, 0, sizeof(*m));
		m->msg_name = &s->peer;
		m->msg_namelen = sizeof(s->peer);
		m->msg_iov = &s->rx_iov;
		m->msg_iovlen = 1;
		m->msg_control = s->rx_control.buf;
		m->msg_controllen = sizeof(s->rx_control.buf);
	}
	int n = recvmmsg(l->fd, r->rx_msgs, batch, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return 0;
		r->c.recv_errors++;
		return -errno;
	}
	int64_t user_rx_ns = ts_realtime_ns();
	int64_t now_mono = ts_monotonic_ns();
	refresh_clock(r, now_mono);

	unsigned out = 0;
	for (int i = 0; i < n; i++) {
		struct slot *s = &r->slots[i];
		struct msghdr *m = &r->rx_msgs[i].msg_hdr;
		size_t len = r->rx_msgs[i].msg_len;
		r->c.received++;
		r->c.octets_in += len;
		if (m->msg_flags & MSG_TRUNC) {
			r->c.dropped[DROP_OVERSIZE]++;
			continue;
		}
		if (!allowed(r, (const struct sockaddr *)&s->peer)) {
			r->c.dropped[DROP_NOT_ALLOWED]++;
			continue;
		}
		if (len < wire_sender_hdr_len(r->cfg.sec)) {
			r->c.dropped[DROP_SHORT]++;
			continue;
		}
		struct sock_rx_meta meta;
		sock_parse_rx_cmsgs(m, &meta);
		int64_t t2_ns = meta.rx.ns;
		if (meta.rx.src == TS_SRC_NONE) {
			t2_ns = user_rx_ns;
			r->c.rx_user_ts++;
		} else {
			r->c.rx_kernel_ts++;
		}
		if (meta.ttl < 0)
			r->c.ttl_unknown++;

		struct reflect_in in = {
			.pkt = s->rx,
			.len = len,
			.t2 = ts_ntp_from_unix_ns(t2_ns),
			.error_estimate = r->error_estimate,
			.ttl = meta.ttl,
			.tos = meta.tos,
		};
		in.refl_seq = next_refl_seq(r, l, &meta, s, s->rx, len, now_mono);

		struct slot *o = &r->slots[out];
		int rlen = reflect_build(&r->cfg, &in, o->tx, sizeof(o->tx));
		if (rlen < 0) {
			r->c.dropped[DROP_SHORT]++;
			continue;
		}
		/* The reply goes to the request's source (slot i) from its destination. */
		struct msghdr *tm = &r->tx_msgs[out].msg_hdr;
		memset(tm, 0, sizeof(*tm));
		if (out != (unsigned)i)
			memcpy(&o->peer, &s->peer, sizeof(s->peer));
		tm->msg_name = &o->peer;
		tm->msg_namelen = m->msg_namelen;
		o->tx_iov.iov_base = o->tx;
		o->tx_iov.iov_len = (size_t)rlen;
		tm->msg_iov = &o->tx_iov;
		tm->msg_iovlen = 1;
		int tos = -1;
		if (r->opts.dscp < 0 && meta.tos >= 0)
			tos = meta.tos & 0xfc; /* copy DSCP, ECN Not-ECT (C13) */
		size_t clen = sock_build_tx_cmsgs(o->tx_control.buf, sizeof(o->tx_control.buf),
						  l->family, (l->wildcard && meta.have_local) ? &meta.local : NULL,
						  meta.ifindex, -1, tos);
		tm->msg_control = clen ? o->tx_control.buf : NULL;
		tm->msg_controllen = clen;
		out++;
	}
	if (out)
		send_batch(r, l, out);
	return n;
}

int reflector_run(struct reflector *r, volatile sig_atomic_t *stop,
		  int64_t stats_interval_ns, void (*on_stats)(struct reflector *, void *),
		  void *arg)
{
	struct pollfd pfd[MAX_LISTENERS];
	for (size_t i = 0; i < r->n_listeners; i++) {
		pfd[i].fd = r->listeners[i].fd;
		pfd[i].events = POLLIN;
	}
	int64_t next_stats = stats_interval_ns > 0 ? ts_monotonic_ns() + stats_interval_ns : 0;
	int64_t next_expire = ts_monotonic_ns() + TS_NSEC_PER_SEC;
	int rc = 0;

	while (!*stop) {
		int k = poll(pfd, r->n_listeners, 200);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (size_t i = 0; i < r->n_listeners && k > 0; i++) {
			if (!(pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			/* Drain a bounded number of batches so one busy listener cannot starve the others. */
			for (int round = 0; round < 64; round++) {
				int n = serve_batch(r, &r->listeners[i]);
				if (n < (int)r->opts.batch)
					break;
			}
		}
		int64_t now = ts_monotonic_ns();
		if (r->sessions && now >= next_expire) {
			refl_table_expire(r->sessions, now);
			next_expire = now + TS_NSEC_PER_SEC;
		}
		if (next_stats && now >= next_stats) {
			if (on_stats)
				on_stats(r, arg);
			next_stats = now + stats_interval_ns;
		}
	}
	if (on_stats)
		on_stats(r, arg);
	return rc;
}

void reflector_get_counters(const struct reflector *r, struct reflector_counters *out)
{
	*out = r->c;
}

int reflector_write_stats(const struct reflector *r, FILE *f)
{
	json_object *o = json_object_new_object();
	json_object *drops = json_object_new_object();
	if (!o || !drops) {
		json_object_put(o);
		json_object_put(drops);
		return -ENOMEM;
	}
	json_object_object_add(o, "schema", json_object_new_string("twampkit.server-stats/1"));
	json_object_object_add(o, "received", json_object_new_int64((int64_t)r->c.received));
	json_object_object_add(o, "reflected", json_object_new_int64((int64_t)r->c.reflected));
	uint64_t total = 0;
	for (int d = 0; d < DROP_NREASONS; d++) {
		json_object_object_add(drops, reflector_drop_name((enum reflector_drop)d),
				       json_object_new_int64((int64_t)r->c.dropped[d]));
		total += r->c.dropped[d];
	}
	json_object_object_add(o, "dropped", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "dropped_by_reason", drops);
	json_object_object_add(o, "octets_in", json_object_new_int64((int64_t)r->c.octets_in));
	json_object_object_add(o, "octets_out", json_object_new_int64((int64_t)r->c.octets_out));
	json_object_object_add(o, "recv_errors", json_object_new_int64((int64_t)r->c.recv_errors));
	json_object_object_add(o, "t2_kernel", json_object_new_int64((int64_t)r->c.rx_kernel_ts));
	json_object_object_add(o, "t2_user", json_object_new_int64((int64_t)r->c.rx_user_ts));
	json_object_object_add(o, "ttl_unknown", json_object_new_int64((int64_t)r->c.ttl_unknown));
	if (r->sessions) {
		struct refl_table_stats ts;
		refl_table_get_stats(r->sessions, &ts);
		json_object *s = json_object_new_object();
		json_object_object_add(s, "active", json_object_new_int64((int64_t)ts.active));
		json_object_object_add(s, "created", json_object_new_int64((int64_t)ts.created));
		json_object_object_add(s, "expired", json_object_new_int64((int64_t)ts.expired));
		json_object_object_add(s, "evicted", json_object_new_int64((int64_t)ts.evicted));
		json_object_object_add(s, "max", json_object_new_int64((int64_t)r->opts.max_sessions));
		json_object_object_add(o, "sessions", s);
	}
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = (fputs(text, f) < 0 || fputc('\n', f) == EOF) ? -EIO : 0;
	json_object_put(o);
	return rc;
}
