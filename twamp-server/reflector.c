/*
 * Reflector engine: poll over the listeners and the negotiated test
 * sessions, drain each in recvmmsg batches, build every reply, take T3
 * once right before the sendmmsg that carries the batch, and send.  All
 * buffers are allocated once in reflector_new (a session's socket and
 * cipher contexts when it is opened); the per-packet path does no
 * allocation and no logging.
 *
 * Every socket has its own reflect_cfg and test crypto: Light listeners
 * share the configured (possibly keyed) one, each test session has the
 * security, keys, DSCP and RFC 6038/7750 options its Request-TW-Session
 * negotiated.  A session answers only its Session-Sender, only between
 * Start-Sessions and its Timeout after Stop-Sessions (C22, C23), and with
 * its own sequence counter (C7).  In authenticated mode T3 lies outside
 * the encrypted and HMAC-covered block, so the batch stamp still works; in
 * encrypted mode it is inside, so it is written per packet right before
 * the packet is encrypted (RFC 5357 §4.2.1).
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

#include "crypto.h"
#include "reflect.h"
#include "refl_sessions.h"
#include "tstamp.h"
#include "wire_test.h"

#define MAX_LISTENERS 32
#define SLOT_SIZE 9216 /* jumbo frame payload: larger requests are dropped and counted */
#define DEFAULT_MAX_TEST_SESSIONS 1024

struct listener {
	int fd;
	int family;
	bool wildcard;                 /* bound to any address: replies need IP_PKTINFO */
	struct sockaddr_storage addr;
	struct sock_caps caps;
	struct reflect_cfg cfg;
	struct crypto_test_ctx *crypto; /* AUTH/ENC: Light's shared one or the session's own */
	/* test sessions only */
	bool session;
	enum reflector_session_state state;
	struct sockaddr_storage peer;
	bool peer_any_port;
	struct crypto_test_ctx own_crypto;
	uint32_t next_seq;             /* own counter from 0 (C7) */
	int64_t last_ns;
	int64_t refwait_ns;
	int64_t stop_deadline_ns;
	uint64_t received, reflected, dropped;
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
	struct crypto_test_ctx light_crypto;
	struct listener listeners[MAX_LISTENERS];
	size_t n_listeners;
	struct listener **sessions;    /* by id; NULL = free */
	size_t n_session_slots;
	struct reflector_hook hook;
	bool have_hook;
	struct pollfd *pfd;
	struct listener **pfd_listener;
	size_t pfd_cap;
	uint64_t sessions_opened, sessions_expired, sessions_finished;
	struct slot *slots;
	struct mmsghdr *rx_msgs;
	struct mmsghdr *tx_msgs;
	struct refl_table *table;       /* stateful Light: per-5-tuple counters */
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
		[DROP_AUTH] = "auth",
		[DROP_WRONG_SENDER] = "wrong_sender",
		[DROP_NOT_STARTED] = "not_started",
		[DROP_AFTER_STOP] = "after_stop",
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
	if (r->opts.max_test_sessions == 0)
		r->opts.max_test_sessions = DEFAULT_MAX_TEST_SESSIONS;
	r->cfg.sec = opts->light_sec;
	r->cfg.dscp_ecn = opts->dscp_ecn;
	r->cfg.stamp_aware = opts->stamp_aware && opts->light_sec == WIRE_SEC_OPEN;
	if (opts->light_sec != WIRE_SEC_OPEN &&
	    crypto_test_init(&r->light_crypto, opts->light_sec, opts->light_test_aes,
			     opts->light_test_hmac) < 0) {
		reflector_free(r);
		return NULL;
	}
	r->slots = calloc(r->opts.batch, sizeof(*r->slots));
	r->rx_msgs = calloc(r->opts.batch, sizeof(*r->rx_msgs));
	r->tx_msgs = calloc(r->opts.batch, sizeof(*r->tx_msgs));
	if (opts->stateful)
		r->table = refl_table_new(opts->max_sessions, opts->refwait_ns);
	if (!r->slots || !r->rx_msgs || !r->tx_msgs || (opts->stateful && !r->table)) {
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
	for (size_t i = 0; i < r->n_session_slots; i++)
		if (r->sessions[i])
			reflector_session_release(r, (int)i);
	free(r->sessions);
	free(r->pfd);
	free(r->pfd_listener);
	crypto_test_free(&r->light_crypto);
	refl_table_free(r->table);
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
	l->cfg = r->cfg;
	l->crypto = r->opts.light_sec != WIRE_SEC_OPEN ? &r->light_crypto : NULL;
	l->session = false;
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

/* Reflector sequence number: own counter per session or 5-tuple, or a copy (C7, C8). */
static uint32_t next_refl_seq(struct reflector *r, struct listener *l,
			      const struct sock_rx_meta *meta, const struct slot *s,
			      const uint8_t *pkt, size_t len, int64_t now_mono)
{
	if (l->session)
		return l->next_seq++;
	if (!r->opts.stateful)
		return reflect_sender_seq(pkt, len, l->cfg.sec);
	struct sockaddr_storage local = meta->have_local ? meta->local : l->addr;
	sock_addr_set_port(&local, sock_addr_port(&l->addr));
	struct refl_key key;
	if (refl_key_from_addrs(&key, (const struct sockaddr *)&local,
				(const struct sockaddr *)&s->peer) < 0)
		return reflect_sender_seq(pkt, len, l->cfg.sec);
	bool created, evicted;
	struct refl_session *sess = refl_table_get(r->table, &key, now_mono, &created, &evicted);
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

/* T3 into replies [from, n): open and authenticated layouts leave it outside
 * the protected octets, so it can be (re)written right before each send. */
static void stamp_t3(struct reflector *r, const struct listener *l, unsigned from, unsigned n)
{
	if (l->cfg.sec == WIRE_SEC_ENC)
		return; /* encrypted replies got theirs before encryption */
	ntp64_t t3 = ts_ntp_from_unix_ns(ts_realtime_ns());
	size_t off = wire_timestamp_offset(l->cfg.sec);
	for (unsigned i = from; i < n; i++) {
		uint8_t *tx = r->tx_msgs[i].msg_hdr.msg_iov->iov_base;
		wire_put_ntp64(tx + off, t3);
	}
}

static void send_batch(struct reflector *r, struct listener *l, unsigned n)
{
	/* T3 as late as possible: one read for the batch, just before sending (C3),
	 * and again before a retry or the rest of a partial send. */
	stamp_t3(r, l, 0, n);
	unsigned done = 0;
	int retries = 0;
	while (done < n) {
		int k = sendmmsg(l->fd, r->tx_msgs + done, n - done, 0);
		if (k < 0) {
			if (errno == EINTR) {
				stamp_t3(r, l, done, n);
				continue;
			}
			if ((errno == EAGAIN || errno == ENOBUFS) && retries++ < 3) {
				struct pollfd p = { .fd = l->fd, .events = POLLOUT };
				poll(&p, 1, 1);
				stamp_t3(r, l, done, n);
				continue;
			}
			/* Skip the datagram that failed, keep the rest of the batch. */
			r->c.dropped[DROP_SEND_ERROR]++;
			l->dropped++;
			done++;
			continue;
		}
		for (int i = 0; i < k; i++)
			r->c.octets_out += r->tx_msgs[done + (unsigned)i].msg_hdr.msg_iov->iov_len;
		r->c.reflected += (unsigned)k;
		l->reflected += (unsigned)k;
		done += (unsigned)k;
		if (done < n)
			stamp_t3(r, l, done, n);
	}
}

static bool same_peer(const struct listener *l, const struct sockaddr_storage *from)
{
	if (from->ss_family != l->peer.ss_family)
		return false;
	if (from->ss_family == AF_INET) {
		struct sockaddr_in a, b;
		memcpy(&a, from, sizeof(a));
		memcpy(&b, &l->peer, sizeof(b));
		return a.sin_addr.s_addr == b.sin_addr.s_addr &&
		       (l->peer_any_port || a.sin_port == b.sin_port);
	}
	struct sockaddr_in6 a, b;
	memcpy(&a, from, sizeof(a));
	memcpy(&b, &l->peer, sizeof(b));
	return !memcmp(&a.sin6_addr, &b.sin6_addr, sizeof(a.sin6_addr)) &&
	       (l->peer_any_port || a.sin6_port == b.sin6_port);
}

/* Session checks (C22, C23, RFC 5357 §3.5); a reason to drop or DROP_NREASONS. */
static enum reflector_drop session_gate(const struct listener *l, const struct slot *s,
					int64_t now_mono)
{
	if (!same_peer(l, &s->peer))
		return DROP_WRONG_SENDER;
	if (l->state == RSESS_ACCEPTED)
		return DROP_NOT_STARTED;
	if (l->state == RSESS_STOPPED && now_mono > l->stop_deadline_ns)
		return DROP_AFTER_STOP;
	return DROP_NREASONS;
}

static void drop(struct reflector *r, struct listener *l, enum reflector_drop why)
{
	r->c.dropped[why]++;
	l->dropped++;
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
		l->received++;
		if (m->msg_flags & MSG_TRUNC) {
			drop(r, l, DROP_OVERSIZE);
			continue;
		}
		if (!allowed(r, (const struct sockaddr *)&s->peer)) {
			drop(r, l, DROP_NOT_ALLOWED);
			continue;
		}
		if (l->session) {
			enum reflector_drop why = session_gate(l, s, now_mono);
			if (why != DROP_NREASONS) {
				drop(r, l, why);
				continue;
			}
		}
		if (len < wire_sender_hdr_len(l->cfg.sec)) {
			drop(r, l, DROP_SHORT);
			continue;
		}
		/* C20: decrypt and verify before anything is used; failures get no reply. */
		if (l->crypto && crypto_test_unprotect(l->crypto, CRYPTO_TEST_SENDER, s->rx, len) < 0) {
			drop(r, l, DROP_AUTH);
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
		if (l->session)
			l->last_ns = now_mono;

		struct slot *o = &r->slots[out];
		int rlen = reflect_build(&l->cfg, &in, o->tx, sizeof(o->tx));
		if (rlen < 0) {
			drop(r, l, DROP_SHORT);
			continue;
		}
		if (l->crypto) {
			if (l->cfg.sec == WIRE_SEC_ENC)
				wire_put_ntp64(o->tx + wire_timestamp_offset(WIRE_SEC_ENC),
					       ts_ntp_from_unix_ns(ts_realtime_ns()));
			if (crypto_test_protect(l->crypto, CRYPTO_TEST_REFLECTOR, o->tx, (size_t)rlen) < 0) {
				drop(r, l, DROP_SEND_ERROR);
				continue;
			}
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
		if (!l->session && r->opts.dscp < 0 && meta.tos >= 0)
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

/* ---- test sessions ------------------------------------------------------ */

static struct listener *session_get(const struct reflector *r, int id)
{
	if (id < 0 || (size_t)id >= r->n_session_slots)
		return NULL;
	return r->sessions[id];
}

int reflector_session_open(struct reflector *r, const struct reflector_session_params *p,
			   uint16_t *port)
{
	size_t id = 0, active = 0;
	while (id < r->n_session_slots && r->sessions[id])
		id++;
	for (size_t i = 0; i < r->n_session_slots; i++)
		active += r->sessions[i] != NULL;
	if (active >= r->opts.max_test_sessions)
		return -ENOSPC;
	if (p->local->sa_family != p->peer->sa_family ||
	    (p->local->sa_family != AF_INET && p->local->sa_family != AF_INET6))
		return -EAFNOSUPPORT;
	if (id == r->n_session_slots) {
		size_t cap = r->n_session_slots ? 2 * r->n_session_slots : 16;
		struct listener **grown = realloc(r->sessions, cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		for (size_t i = r->n_session_slots; i < cap; i++)
			grown[i] = NULL;
		r->sessions = grown;
		r->n_session_slots = cap;
	}
	struct listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	int fd = sock_udp_open(p->local, p->local_len, r->opts.tstamp, SOCK_F_NONBLOCK, &l->caps);
	if (fd < 0) {
		free(l);
		return fd;
	}
	l->fd = fd;
	l->family = p->local->sa_family;
	socklen_t alen = sizeof(l->addr);
	if (getsockname(fd, (struct sockaddr *)&l->addr, &alen) < 0) {
		int err = -errno;
		close(fd);
		free(l);
		return err;
	}
	/* C11, C12: TTL 255 and the negotiated DSCP on every reply. */
	int err = sock_set_ttl(fd, l->family, 255);
	if (!err)
		err = sock_set_tos(fd, l->family, (p->dscp & 0x3f) << 2);
	if (!err && p->sec != WIRE_SEC_OPEN) {
		err = crypto_test_init(&l->own_crypto, p->sec, p->test_aes, p->test_hmac);
		l->crypto = &l->own_crypto;
	}
	if (err) {
		crypto_test_free(&l->own_crypto);
		close(fd);
		free(l);
		return err;
	}
	sock_set_buffers(fd, 1 << 20, 1 << 20);
	l->session = true;
	l->state = RSESS_ACCEPTED;
	l->cfg.sec = p->sec;
	l->cfg.dscp_ecn = p->dscp_ecn;
	l->cfg.symmetrical = p->symmetrical;
	memset(&l->peer, 0, sizeof(l->peer));
	memcpy(&l->peer, p->peer, p->peer_len);
	l->peer_any_port = sock_addr_port(&l->peer) == 0;
	l->refwait_ns = p->refwait_ns;
	l->last_ns = ts_monotonic_ns();
	r->sessions[id] = l;
	r->sessions_opened++;
	*port = sock_addr_port(&l->addr);
	return (int)id;
}

void reflector_session_start(struct reflector *r, int id)
{
	struct listener *l = session_get(r, id);
	if (!l || l->state != RSESS_ACCEPTED)
		return;
	l->state = RSESS_STARTED;
	l->last_ns = ts_monotonic_ns(); /* REFWAIT counts from the start */
}

static void session_close_socket(struct listener *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	crypto_test_free(&l->own_crypto);
	l->crypto = NULL;
}

void reflector_session_release(struct reflector *r, int id)
{
	struct listener *l = session_get(r, id);
	if (!l)
		return;
	session_close_socket(l);
	free(l);
	r->sessions[id] = NULL;
}

void reflector_session_stop(struct reflector *r, int id, int64_t timeout_ns)
{
	struct listener *l = session_get(r, id);
	if (!l)
		return;
	if (l->state != RSESS_STARTED || timeout_ns <= 0) {
		r->sessions_finished++;
		reflector_session_release(r, id);
		return;
	}
	l->state = RSESS_STOPPED;
	l->stop_deadline_ns = ts_monotonic_ns() + timeout_ns;
}

int reflector_session_info(const struct reflector *r, int id, struct reflector_session_info *out)
{
	const struct listener *l = session_get(r, id);
	if (!l)
		return -ENOENT;
	out->state = l->state;
	out->port = sock_addr_port(&l->addr);
	out->received = l->received;
	out->reflected = l->reflected;
	out->dropped = l->dropped;
	out->last_ns = l->last_ns;
	return 0;
}

/* REFWAIT for started sessions (C24), the end of a stopped session's Timeout. */
static void sessions_expire(struct reflector *r, int64_t now)
{
	for (size_t i = 0; i < r->n_session_slots; i++) {
		struct listener *l = r->sessions[i];
		if (!l)
			continue;
		if (l->state == RSESS_STARTED && l->refwait_ns > 0 && now - l->last_ns > l->refwait_ns) {
			l->state = RSESS_EXPIRED;
			session_close_socket(l);
			r->sessions_expired++;
		} else if (l->state == RSESS_STOPPED && now > l->stop_deadline_ns) {
			r->sessions_finished++;
			reflector_session_release(r, (int)i);
		}
	}
}

void reflector_set_hook(struct reflector *r, const struct reflector_hook *hook)
{
	r->have_hook = hook != NULL;
	if (hook)
		r->hook = *hook;
	else
		memset(&r->hook, 0, sizeof(r->hook));
}

static int grow_pfd(struct reflector *r, size_t need)
{
	if (need <= r->pfd_cap)
		return 0;
	size_t cap = r->pfd_cap ? r->pfd_cap : 64;
	while (cap < need)
		cap *= 2;
	struct pollfd *p = realloc(r->pfd, cap * sizeof(*p));
	if (p)
		r->pfd = p;
	struct listener **pl = realloc(r->pfd_listener, cap * sizeof(*pl));
	if (pl)
		r->pfd_listener = pl;
	if (!p || !pl)
		return -ENOMEM;
	r->pfd_cap = cap;
	return 0;
}

int reflector_run(struct reflector *r, volatile sig_atomic_t *stop,
		  int64_t stats_interval_ns, void (*on_stats)(struct reflector *, void *),
		  void *arg)
{
	int64_t next_stats = stats_interval_ns > 0 ? ts_monotonic_ns() + stats_interval_ns : 0;
	int64_t next_expire = ts_monotonic_ns() + TS_NSEC_PER_SEC;
	int rc = 0;

	while (!*stop) {
		size_t hook_max = r->have_hook && r->hook.nfds ? r->hook.nfds(r->hook.arg) : 0;
		if (grow_pfd(r, r->n_listeners + r->n_session_slots + hook_max) < 0) {
			rc = -ENOMEM;
			break;
		}
		size_t n = 0;
		for (size_t i = 0; i < r->n_listeners; i++) {
			r->pfd[n] = (struct pollfd){ .fd = r->listeners[i].fd, .events = POLLIN };
			r->pfd_listener[n++] = &r->listeners[i];
		}
		for (size_t i = 0; i < r->n_session_slots; i++) {
			struct listener *l = r->sessions[i];
			if (!l || l->fd < 0)
				continue;
			r->pfd[n] = (struct pollfd){ .fd = l->fd, .events = POLLIN };
			r->pfd_listener[n++] = l;
		}
		size_t n_udp = n;
		if (hook_max && r->hook.pollfds)
			n += r->hook.pollfds(r->hook.arg, r->pfd + n, hook_max);
		int k = poll(r->pfd, (nfds_t)n, 200);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		for (size_t i = 0; i < n_udp && k > 0; i++) {
			if (!(r->pfd[i].revents & (POLLIN | POLLERR)))
				continue;
			/* Drain a bounded number of batches so one busy socket cannot starve the others. */
			for (int round = 0; round < 64; round++) {
				int got = serve_batch(r, r->pfd_listener[i]);
				if (got < (int)r->opts.batch)
					break;
			}
		}
		/* Sessions may be opened or closed from here on: pfd_listener is stale. */
		if (n > n_udp && r->hook.events)
			r->hook.events(r->hook.arg, r->pfd + n_udp, n - n_udp);
		int64_t now = ts_monotonic_ns();
		if (now >= next_expire) {
			if (r->table)
				refl_table_expire(r->table, now);
			next_expire = now + TS_NSEC_PER_SEC;
		}
		sessions_expire(r, now);
		if (r->have_hook && r->hook.tick)
			r->hook.tick(r->hook.arg, now);
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
	size_t active = 0;
	for (size_t i = 0; i < r->n_session_slots; i++)
		active += r->sessions[i] != NULL;
	json_object *tsess = json_object_new_object();
	json_object_object_add(tsess, "active", json_object_new_int64((int64_t)active));
	json_object_object_add(tsess, "opened", json_object_new_int64((int64_t)r->sessions_opened));
	json_object_object_add(tsess, "finished",
			       json_object_new_int64((int64_t)r->sessions_finished));
	json_object_object_add(tsess, "refwait_expired",
			       json_object_new_int64((int64_t)r->sessions_expired));
	json_object_object_add(o, "test_sessions", tsess);
	if (r->have_hook && r->hook.stats)
		r->hook.stats(r->hook.arg, o);
	if (r->table) {
		struct refl_table_stats ts;
		refl_table_get_stats(r->table, &ts);
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
