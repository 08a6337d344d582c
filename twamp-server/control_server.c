/*
 * TWAMP-Control server (see control_server.h).
 *
 * Connections are non-blocking and read only what the state machine asks
 * for (ctrl_server_want), so no connection ever buffers more than one
 * message, and a connection whose replies the client does not read stops
 * being read (back-pressure): memory per connection is its struct, about
 * 4 KiB, and a few octets of session state.  A refused connection (limits,
 * --allow) gets a Server Greeting with Modes = 0 ("will not talk", RFC
 * 4656 §3.1) and is closed; the refusal is logged, rate-limited because a
 * flood would otherwise flood the log too.
 *
 * Closing is graceful: once the state machine says CLOSED and its last
 * message (a non-zero Accept, say) is written, the write side is shut down
 * and the input drained until the client closes or 2 s pass; closing with
 * unread input would make the kernel send a reset that can destroy the
 * reply before the client reads it.
 *
 * Test ports come from a range (the requested Receiver Port first when it
 * is inside, else the next free one; RFC 5357 §3.5, RFC 8545 §5.1 - the
 * Accept-Session then names the alternative), or from the kernel when the
 * range is 0.  A session listens on the control connection's local address
 * (or the Receiver Address) and answers only the Session-Sender's address
 * and Sender Port.
 */
#include "control_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <json-c/json.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "control.h"
#include "log.h"
#include "wire_control.h"

#define MAX_CONTROL_LISTENERS 16
#define ACCEPT_BURST 64              /* connections accepted per loop round and listener */
#define READ_ROUNDS 8                /* reads per connection and round: no starvation */
#define CLOSE_GRACE_NS (2 * TS_NSEC_PER_SEC)
#define TICK_NS (100 * 1000 * 1000)
#define FLAG_EXPIRED_LOGGED 0x1

struct conn {
	struct control_server *cs;
	int fd;
	struct sockaddr_storage peer, local;
	char name[INET6_ADDRSTRLEN + 10]; /* "[addr]:port" for the log */
	struct ctrl_server sm;
	int64_t last_rx_ns;               /* monotonic */
	int64_t servwait_from_ns;         /* SERVWAIT counts from max(last_rx, this) */
	int64_t close_deadline_ns;        /* 0 until the state machine closed */
	bool draining;                    /* write side shut down, waiting for the client's FIN */
	size_t live_sessions;             /* accepted and not yet stopped or released */
};

struct control_server {
	struct control_opts o;
	struct reflector *r;
	int lfd[MAX_CONTROL_LISTENERS];
	size_t n_listeners;
	struct conn **conns;
	size_t n_conns, cap_conns;
	struct conn **polled;             /* pollfds() order, for events() */
	size_t n_polled, cap_polled;
	uint32_t port_cursor;
	uint8_t sid_addr[4];
	int64_t accept_paused_until_ns;
	int64_t next_tick_ns;
	struct log_ratelimit refuse_rl;
	struct log_ratelimit accept_err_rl;
	/* counters for --stats */
	uint64_t accepted, refused_total, refused_per_source, refused_allow, servwait_closed;
	uint64_t refwait_expired, closed[CTRL_CLOSE_NREASONS];
	uint64_t sessions_accepted, sessions_rejected_gone; /* rejected on closed connections */
	/*
	 * Stopped or released sessions still hold a reflector slot until their
	 * Timeout ends; they count against their source until then, or one host
	 * could fill every slot by requesting, starting and hanging up in a loop.
	 */
	struct draining {
		struct sockaddr_storage host;
		int handle;
	} *draining;
	size_t n_draining, cap_draining;
};

/* ---------------------------------------------------------------- helpers */

static void format_peer(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	format_endpoint((const struct sockaddr *)ss, buf, len);
}

static bool allowed(const struct control_server *cs, const struct sockaddr_storage *peer)
{
	if (cs->o.n_allow == 0)
		return true;
	for (size_t i = 0; i < cs->o.n_allow; i++)
		if (prefix_contains(&cs->o.allow[i], (const struct sockaddr *)peer))
			return true;
	return false;
}

/*
 * E11: an IPv4 address of this host other than loopback; else the last 4
 * octets of a global IPv6 address; else 127.0.0.1.
 */
static void pick_sid_addr(uint8_t out[4])
{
	struct ifaddrs *ifa = NULL;
	bool have6 = false;
	uint8_t v6[4] = { 0 };
	static const uint8_t loop[4] = { 127, 0, 0, 1 };

	memcpy(out, loop, 4);
	if (getifaddrs(&ifa) < 0)
		return;
	for (struct ifaddrs *i = ifa; i; i = i->ifa_next) {
		if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) || (i->ifa_flags & IFF_LOOPBACK))
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			struct sockaddr_in sin;
			memcpy(&sin, i->ifa_addr, sizeof(sin));
			memcpy(out, &sin.sin_addr, 4);
			freeifaddrs(ifa);
			return;
		}
		if (i->ifa_addr->sa_family == AF_INET6 && !have6) {
			struct sockaddr_in6 sin6;
			memcpy(&sin6, i->ifa_addr, sizeof(sin6));
			if (!IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr)) {
				memcpy(v6, sin6.sin6_addr.s6_addr + 12, 4);
				have6 = true;
			}
		}
	}
	freeifaddrs(ifa);
	if (have6)
		memcpy(out, v6, 4);
}

const char *control_server_sid_addr(const struct control_server *cs, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", cs->sid_addr[0], cs->sid_addr[1], cs->sid_addr[2],
		 cs->sid_addr[3]);
	return buf;
}

/* ------------------------------------------------------ session callbacks */

/* A sockaddr of family for a 16-octet address field (IPv4 in the first 4, E5) and port. */
static void addr_from_field(int family, const uint8_t field[16], uint16_t port,
			    struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
		memcpy(&sin.sin_addr, field, 4);
		memcpy(out, &sin, sizeof(sin));
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
		memcpy(&sin6.sin6_addr, field, 16);
		memcpy(out, &sin6, sizeof(sin6));
	}
}

static bool field_zero(const uint8_t field[16], int family)
{
	size_t n = family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++)
		if (field[i])
			return false;
	return true;
}

static socklen_t ss_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
}

/* Remembers a session that stopped but still holds its reflector slot. */
static void draining_add(struct control_server *cs, const struct sockaddr_storage *host, int handle)
{
	struct reflector_session_info info;
	if (reflector_session_info(cs->r, handle, &info) < 0 || info.state == RSESS_FREE)
		return;
	for (size_t i = 0; i < cs->n_draining; i++)
		if (cs->draining[i].handle == handle)
			return; /* stopped, then released with its connection: one slot */
	if (cs->n_draining == cs->cap_draining) {
		size_t cap = cs->cap_draining ? cs->cap_draining * 2 : 16;
		struct draining *d = realloc(cs->draining, cap * sizeof(*d));
		if (!d)
			return; /* the global slot limit still bounds the reflector */
		cs->draining = d;
		cs->cap_draining = cap;
	}
	cs->draining[cs->n_draining].host = *host;
	cs->draining[cs->n_draining].handle = handle;
	cs->n_draining++;
}

static size_t source_sessions(struct control_server *cs, const struct conn *c)
{
	size_t n = 0;
	for (size_t i = 0; i < cs->n_conns; i++)
		if (sock_addr_equal(&cs->conns[i]->peer, &c->peer, false))
			n += cs->conns[i]->live_sessions;
	/* Draining sessions: drop those whose slot was freed, count the rest. */
	for (size_t i = 0; i < cs->n_draining;) {
		struct reflector_session_info info;
		if (reflector_session_info(cs->r, cs->draining[i].handle, &info) < 0 ||
		    info.state == RSESS_FREE) {
			cs->draining[i] = cs->draining[--cs->n_draining];
			continue;
		}
		if (sock_addr_equal(&cs->draining[i].host, &c->peer, false))
			n++;
		i++;
	}
	return n;
}

/* Binds the session on a test port: the requested one if free and in range, else the next. */
static int open_on_port(struct control_server *cs, struct reflector_session_params *rp,
			struct sockaddr_storage *local, uint16_t requested, uint16_t *port)
{
	if (cs->o.port_lo == 0) {
		sock_addr_set_port(local, 0);
		return reflector_session_open(cs->r, rp, port);
	}
	uint32_t lo = cs->o.port_lo, hi = cs->o.port_hi, span = hi - lo + 1;
	if (requested >= lo && requested <= hi) {
		sock_addr_set_port(local, requested);
		int id = reflector_session_open(cs->r, rp, port);
		if (id != -EADDRINUSE)
			return id;
	}
	for (uint32_t k = 0; k < span; k++) {
		uint16_t p = (uint16_t)(lo + (cs->port_cursor + k) % span);
		if (p == requested)
			continue;
		sock_addr_set_port(local, p);
		int id = reflector_session_open(cs->r, rp, port);
		if (id == -EADDRINUSE)
			continue;
		if (id >= 0)
			cs->port_cursor = (cs->port_cursor + k + 1) % span;
		return id;
	}
	return -EADDRINUSE;
}

static enum wire_accept on_request(void *arg, struct ctrl_server *s,
				   const struct ctrl_session_setup *st, int *handle, uint16_t *port,
				   char *why, size_t why_len)
{
	struct conn *c = arg;
	struct control_server *cs = c->cs;
	const struct wire_request_session *req = st->req;
	int family = req->ipvn == 4 ? AF_INET : AF_INET6;
	char text[INET6_ADDRSTRLEN + 10];
	(void)s;

	size_t per_source = source_sessions(cs, c);
	if (per_source >= cs->o.max_sessions_per_source) {
		snprintf(why, why_len, "%zu test sessions for this address already (limit %zu)",
			 per_source, cs->o.max_sessions_per_source);
		return WIRE_ACCEPT_TEMPORARY;
	}
	/* E6: zero addresses mean those of the control connection. */
	struct sockaddr_storage local, peer;
	bool zero_rx = field_zero(req->receiver_addr, family);
	bool zero_tx = field_zero(req->sender_addr, family);
	if ((zero_rx || zero_tx) && family != c->local.ss_family) {
		snprintf(why, why_len, "IPVN %u on an IPv%d control connection with a zero address",
			 req->ipvn, c->local.ss_family == AF_INET ? 4 : 6);
		return WIRE_ACCEPT_NOT_SUPPORTED;
	}
	if (zero_rx)
		local = c->local;
	else
		addr_from_field(family, req->receiver_addr, 0, &local);
	if (zero_tx) {
		peer = c->peer;
		sock_addr_set_port(&peer, req->sender_port);
	} else {
		addr_from_field(family, req->sender_addr, req->sender_port, &peer);
	}
	struct reflector_session_params rp = {
		.local = (const struct sockaddr *)&local,
		.local_len = ss_len(&local),
		.peer = (const struct sockaddr *)&peer,
		.peer_len = ss_len(&peer),
		.sec = st->sec,
		.test_aes = st->test_aes,
		.test_hmac = st->test_hmac,
		.dscp = st->dscp,
		.dscp_ecn = st->mode & WIRE_MODE_DSCP_ECN,
		.symmetrical = st->mode & WIRE_MODE_SYMMETRICAL,
		.refwait_ns = cs->o.refwait_ns,
	};
	int id = open_on_port(cs, &rp, &local, req->receiver_port, port);
	if (id < 0) {
		sock_addr_set_port(&local, 0);
		format_peer(&local, text, sizeof(text));
		switch (id) {
		case -EADDRINUSE:
			snprintf(why, why_len, "no free test port in %u-%u on %s", cs->o.port_lo,
				 cs->o.port_hi, text);
			return WIRE_ACCEPT_TEMPORARY;
		case -ENOSPC:
			snprintf(why, why_len, "the server's test session limit is reached");
			return WIRE_ACCEPT_TEMPORARY;
		case -EMFILE:
		case -ENFILE:
		case -ENOMEM:
		case -ENOBUFS:
			snprintf(why, why_len, "out of resources for a test socket: %s", strerror(-id));
			return WIRE_ACCEPT_TEMPORARY;
		case -EADDRNOTAVAIL:
			snprintf(why, why_len, "Receiver Address %s is not an address of this host", text);
			return WIRE_ACCEPT_NOT_SUPPORTED;
		case -EAFNOSUPPORT:
			snprintf(why, why_len, "Sender and Receiver Address families differ");
			return WIRE_ACCEPT_NOT_SUPPORTED;
		default:
			snprintf(why, why_len, "cannot open a test socket on %s: %s", text, strerror(-id));
			return WIRE_ACCEPT_INTERNAL;
		}
	}
	*handle = id;
	c->live_sessions++;
	cs->sessions_accepted++;
	return WIRE_ACCEPT_OK;
}

static void on_start(void *arg, struct ctrl_server *s, int handle)
{
	struct conn *c = arg;
	(void)s;
	reflector_session_start(c->cs->r, handle);
}

static void on_stop(void *arg, struct ctrl_server *s, int handle, int64_t timeout_ns)
{
	struct conn *c = arg;
	(void)s;
	reflector_session_stop(c->cs->r, handle, timeout_ns);
	if (c->live_sessions)
		c->live_sessions--;
	draining_add(c->cs, &c->peer, handle);
}

static void on_release(void *arg, struct ctrl_server *s, int handle)
{
	struct conn *c = arg;
	(void)s;
	reflector_session_release(c->cs->r, handle);
	if (c->live_sessions)
		c->live_sessions--;
	draining_add(c->cs, &c->peer, handle);
}

static void on_log(void *arg, struct ctrl_server *s, int level, const char *msg)
{
	struct conn *c = arg;
	(void)s;
	log_msg((enum log_level)level, "control %s: %s", c->name, msg);
}

static const struct ctrl_server_ops conn_ops = {
	.session_request = on_request,
	.session_start = on_start,
	.session_stop = on_stop,
	.session_release = on_release,
	.log = on_log,
};

/* ------------------------------------------------------------ connections */

static void conn_destroy(struct control_server *cs, size_t idx)
{
	struct conn *c = cs->conns[idx];
	if (c->sm.state != CTRL_SRV_CLOSED)
		ctrl_server_close(&c->sm, CTRL_CLOSE_PEER, NULL);
	cs->closed[c->sm.close_reason]++;
	cs->sessions_rejected_gone += c->sm.rejected;
	ctrl_server_free(&c->sm);
	close(c->fd);
	free(c);
	cs->conns[idx] = cs->conns[--cs->n_conns];
}

static size_t conn_index(const struct control_server *cs, const struct conn *c)
{
	for (size_t i = 0; i < cs->n_conns; i++)
		if (cs->conns[i] == c)
			return i;
	return SIZE_MAX;
}

/* Writes what is queued; false when the connection died. */
static bool conn_flush(struct conn *c)
{
	for (;;) {
		size_t len;
		const uint8_t *p = ctrl_server_output(&c->sm, &len);
		if (!len)
			return true;
		ssize_t n = send(c->fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return true;
			ctrl_server_close(&c->sm, CTRL_CLOSE_PEER, NULL);
			log_info("control %s: write failed: %s", c->name, strerror(errno));
			return false;
		}
		ctrl_server_output_done(&c->sm, (size_t)n);
	}
}

/* After the state machine closed and the last reply left: half-close, then drain. */
static void conn_maybe_drain(struct conn *c, int64_t now)
{
	if (c->sm.state != CTRL_SRV_CLOSED || c->draining)
		return;
	if (!c->close_deadline_ns)
		c->close_deadline_ns = now + CLOSE_GRACE_NS;
	size_t len;
	ctrl_server_output(&c->sm, &len);
	if (len)
		return;
	shutdown(c->fd, SHUT_WR);
	c->draining = true;
}

/* false when the connection is to be destroyed. */
static bool conn_read(struct conn *c, int64_t now)
{
	uint8_t buf[CTRL_IN_CAP];

	for (int round = 0; round < READ_ROUNDS; round++) {
		size_t want = c->draining ? sizeof(buf) : ctrl_server_want(&c->sm);
		if (want == 0)
			return true;
		if (want > sizeof(buf))
			want = sizeof(buf);
		ssize_t n = recv(c->fd, buf, want, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return true;
			ctrl_server_close(&c->sm, CTRL_CLOSE_PEER, NULL);
			log_info("control %s: read failed: %s", c->name, strerror(errno));
			return false;
		}
		if (n == 0) {
			if (!c->draining && c->sm.state != CTRL_SRV_CLOSED) {
				size_t running = ctrl_server_running(&c->sm);
				char why[160];
				snprintf(why, sizeof(why), "client closed the connection%s",
					 running ? "; its sessions end after their Timeout" : "");
				ctrl_server_close(&c->sm, CTRL_CLOSE_PEER, why);
			}
			return false;
		}
		if (c->draining)
			continue;
		c->last_rx_ns = now;
		size_t used;
		ctrl_server_feed(&c->sm, buf, (size_t)n, &used);
		if (!conn_flush(c))
			return false;
		conn_maybe_drain(c, now);
	}
	return true;
}

/* The Modes = 0 greeting of a refused connection, then close. */
static void refuse(struct control_server *cs, int fd, const char *peer, const char *why)
{
	struct wire_greeting g;
	uint8_t buf[WIRE_GREETING_LEN];

	memset(&g, 0, sizeof(g));
	g.count = cs->o.count;
	if (wire_greeting_encode(&g, buf, sizeof(buf)) == WIRE_GREETING_LEN) {
		ssize_t n = send(fd, buf, sizeof(buf), MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)n; /* best effort: the client learns it either way */
	}
	close(fd);
	cs->refused_total++;
	log_ratelimited(&cs->refuse_rl, LOG_LEVEL_NOTICE,
			"control: refused connection from %s: %s (sent Server Greeting Modes 0)", peer,
			why);
}

/* 1 when a connection was taken (kept or refused), 0 when none is pending, -errno. */
static int accept_one(struct control_server *cs, int lfd, int64_t now)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	int fd = accept4(lfd, (struct sockaddr *)&peer, &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
	char name[INET6_ADDRSTRLEN + 10];

	if (fd < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ||
			errno == ECONNABORTED) ? 0 : -errno;
	format_peer(&peer, name, sizeof(name));
	if (!allowed(cs, &peer)) {
		cs->refused_allow++;
		refuse(cs, fd, name, "outside --allow");
		return 1;
	}
	size_t from_source = 0;
	for (size_t i = 0; i < cs->n_conns; i++)
		from_source += sock_addr_equal(&cs->conns[i]->peer, &peer, false);
	if (from_source >= cs->o.max_per_source) {
		char why[120];
		cs->refused_per_source++;
		snprintf(why, sizeof(why), "%zu connections from this address (limit %zu)",
			 from_source, cs->o.max_per_source);
		refuse(cs, fd, name, why);
		return 1;
	}
	if (cs->n_conns >= cs->o.max_connections) {
		char why[120];
		snprintf(why, sizeof(why), "%zu connections (limit %zu)", cs->n_conns,
			 cs->o.max_connections);
		refuse(cs, fd, name, why);
		return 1;
	}
	if (cs->n_conns == cs->cap_conns) {
		size_t cap = cs->cap_conns ? 2 * cs->cap_conns : 16;
		struct conn **grown = realloc(cs->conns, cap * sizeof(*grown));
		if (!grown) {
			refuse(cs, fd, name, "out of memory");
			return 1;
		}
		cs->conns = grown;
		cs->cap_conns = cap;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		refuse(cs, fd, name, "out of memory");
		return 1;
	}
	c->cs = cs;
	c->fd = fd;
	c->peer = peer;
	snprintf(c->name, sizeof(c->name), "%s", name);
	socklen_t llen = sizeof(c->local);
	if (getsockname(fd, (struct sockaddr *)&c->local, &llen) < 0)
		memset(&c->local, 0, sizeof(c->local));
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->last_rx_ns = c->servwait_from_ns = now;

	struct ctrl_server_params sp = {
		.modes = cs->o.modes,
		.count = cs->o.count,
		.keys = cs->o.keys,
		.start_time = cs->o.start_time,
		.max_sessions = cs->o.max_sessions,
		.max_timeout_ns = cs->o.max_timeout_ns,
	};
	memcpy(sp.sid_addr, cs->sid_addr, 4);
	int rc = ctrl_server_init(&c->sm, &sp, &conn_ops, c, NULL);
	cs->conns[cs->n_conns++] = c;
	cs->accepted++;
	if (rc < 0) {
		log_err("control %s: cannot start the connection: %s", name, strerror(-rc));
		conn_destroy(cs, cs->n_conns - 1);
		return 1;
	}
	log_info("control %s: connected", name);
	if (!conn_flush(c))
		conn_destroy(cs, cs->n_conns - 1);
	return 1;
}

/* -------------------------------------------------------------- the hook */

static size_t hook_nfds(void *arg)
{
	const struct control_server *cs = arg;
	return cs->n_listeners + cs->n_conns;
}

static size_t hook_pollfds(void *arg, struct pollfd *pfd, size_t cap)
{
	struct control_server *cs = arg;
	size_t n = 0;
	int64_t now = ts_monotonic_ns();
	bool paused = now < cs->accept_paused_until_ns;

	if (cs->cap_polled < cs->n_conns) {
		size_t want = cs->n_conns + 16;
		struct conn **p = realloc(cs->polled, want * sizeof(*p));
		if (!p)
			return 0;
		cs->polled = p;
		cs->cap_polled = want;
	}
	for (size_t i = 0; i < cs->n_listeners && n < cap; i++)
		pfd[n++] = (struct pollfd){ .fd = paused ? -1 : cs->lfd[i], .events = POLLIN };
	cs->n_polled = 0;
	for (size_t i = 0; i < cs->n_conns && n < cap; i++) {
		struct conn *c = cs->conns[i];
		size_t out;
		ctrl_server_output(&c->sm, &out);
		short ev = 0;
		if (c->draining || ctrl_server_want(&c->sm) > 0)
			ev |= POLLIN;
		if (out)
			ev |= POLLOUT;
		pfd[n++] = (struct pollfd){ .fd = c->fd, .events = ev };
		cs->polled[cs->n_polled++] = c;
	}
	return n;
}

static void hook_events(void *arg, struct pollfd *pfd, size_t n)
{
	struct control_server *cs = arg;
	int64_t now = ts_monotonic_ns();
	size_t nl = cs->n_listeners < n ? cs->n_listeners : n;

	/* Existing connections first: a flood of new ones must not delay them. */
	for (size_t i = nl; i < n && i - nl < cs->n_polled; i++) {
		struct conn *c = cs->polled[i - nl];
		if (!pfd[i].revents)
			continue;
		size_t idx = conn_index(cs, c);
		if (idx == SIZE_MAX)
			continue;
		bool alive = true;
		if (pfd[i].revents & POLLOUT) {
			alive = conn_flush(c);
			if (alive)
				conn_maybe_drain(c, now);
		}
		if (alive && (pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
			alive = conn_read(c, now);
		if (!alive)
			conn_destroy(cs, idx);
	}
	for (size_t i = 0; i < nl; i++) {
		if (!(pfd[i].revents & POLLIN))
			continue;
		for (int k = 0; k < ACCEPT_BURST; k++) {
			int rc = accept_one(cs, cs->lfd[i], now);
			if (rc > 0)
				continue;
			if (rc < 0) {
				/* Out of descriptors, say: pause accepting instead of spinning on it. */
				log_ratelimited(&cs->accept_err_rl, LOG_LEVEL_WARN,
						"control: cannot accept connections: %s", strerror(-rc));
				cs->accept_paused_until_ns = now + TS_NSEC_PER_SEC / 2;
			}
			break;
		}
	}
}

/* SERVWAIT (E21, E22), REFWAIT reporting, and the end of graceful closes. */
static void hook_tick(void *arg, int64_t now)
{
	struct control_server *cs = arg;
	if (now < cs->next_tick_ns)
		return;
	cs->next_tick_ns = now + TICK_NS;

	for (size_t i = 0; i < cs->n_conns;) {
		struct conn *c = cs->conns[i];
		if (c->sm.state == CTRL_SRV_CLOSED) {
			conn_maybe_drain(c, now);
			if (now > c->close_deadline_ns) {
				conn_destroy(cs, i);
				continue;
			}
			i++;
			continue;
		}
		/* SERVWAIT is suspended while a started session runs; it resumes once
		 * REFWAIT has discontinued every one of them (RFC 5357 §3.1). */
		size_t running = 0, expired = 0;
		for (size_t k = 0; k < c->sm.n_sessions; k++) {
			struct ctrl_session *x = &c->sm.sessions[k];
			if (!x->started)
				continue;
			running++;
			struct reflector_session_info info;
			if (reflector_session_info(cs->r, x->handle, &info) == 0 &&
			    info.state == RSESS_EXPIRED) {
				expired++;
				if (!(x->user_flags & FLAG_EXPIRED_LOGGED)) {
					char sid[33];
					for (int b = 0; b < 16; b++)
						snprintf(sid + 2 * b, 3, "%02x", x->sid[b]);
					log_notice("control %s: session %s (test port %u) discontinued: no test "
						   "packet for REFWAIT %.0f s (RFC 5357 §4.2); %llu reflected",
						   c->name, sid, info.port, (double)cs->o.refwait_ns / 1e9,
						   (unsigned long long)info.reflected);
					x->user_flags |= FLAG_EXPIRED_LOGGED;
					cs->refwait_expired++;
					c->servwait_from_ns = now;
				}
			}
		}
		if (running > expired) {
			c->servwait_from_ns = now;
		} else {
			int64_t base = c->last_rx_ns > c->servwait_from_ns ? c->last_rx_ns : c->servwait_from_ns;
			if (now - base > cs->o.servwait_ns) {
				char why[160];
				snprintf(why, sizeof(why),
					 "nothing received for SERVWAIT %.0f s (RFC 5357 §3.1), closing",
					 (double)cs->o.servwait_ns / 1e9);
				ctrl_server_close(&c->sm, CTRL_CLOSE_PEER, NULL);
				log_notice("control %s: %s", c->name, why);
				cs->servwait_closed++;
				conn_maybe_drain(c, now);
			}
		}
		i++;
	}
}

static void hook_stats(void *arg, struct json_object *o)
{
	const struct control_server *cs = arg;
	json_object *j = json_object_new_object();
	json_object *closed = json_object_new_object();
	if (!j || !closed) {
		json_object_put(j);
		json_object_put(closed);
		return;
	}
	json_object_object_add(j, "connections", json_object_new_int64((int64_t)cs->n_conns));
	json_object_object_add(j, "accepted", json_object_new_int64((int64_t)cs->accepted));
	json_object_object_add(j, "refused", json_object_new_int64((int64_t)cs->refused_total));
	json_object_object_add(j, "refused_per_source",
			       json_object_new_int64((int64_t)cs->refused_per_source));
	json_object_object_add(j, "refused_allow", json_object_new_int64((int64_t)cs->refused_allow));
	json_object_object_add(j, "servwait_closed",
			       json_object_new_int64((int64_t)cs->servwait_closed));
	json_object_object_add(j, "refwait_expired",
			       json_object_new_int64((int64_t)cs->refwait_expired));
	json_object_object_add(j, "sessions_accepted",
			       json_object_new_int64((int64_t)cs->sessions_accepted));
	uint64_t rejected = cs->sessions_rejected_gone;
	for (size_t i = 0; i < cs->n_conns; i++)
		rejected += cs->conns[i]->sm.rejected;
	json_object_object_add(j, "sessions_rejected", json_object_new_int64((int64_t)rejected));
	for (int r = CTRL_CLOSE_PEER; r < CTRL_CLOSE_NREASONS; r++)
		json_object_object_add(closed, ctrl_close_reason_name((enum ctrl_close_reason)r),
				       json_object_new_int64((int64_t)cs->closed[r]));
	json_object_object_add(j, "closed", closed);
	json_object_object_add(o, "control", j);
}

/* ------------------------------------------------------------- lifecycle */

struct control_server *control_server_new(const struct control_opts *o, struct reflector *r)
{
	struct control_server *cs = calloc(1, sizeof(*cs));
	if (!cs)
		return NULL;
	cs->o = *o;
	cs->r = r;
	cs->refuse_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(5, 20);
	cs->accept_err_rl = (struct log_ratelimit)LOG_RATELIMIT_INIT(1, 5);
	pick_sid_addr(cs->sid_addr);
	struct reflector_hook h = {
		.nfds = hook_nfds,
		.pollfds = hook_pollfds,
		.events = hook_events,
		.tick = hook_tick,
		.stats = hook_stats,
		.arg = cs,
	};
	reflector_set_hook(r, &h);
	return cs;
}

void control_server_free(struct control_server *cs)
{
	if (!cs)
		return;
	while (cs->n_conns)
		conn_destroy(cs, cs->n_conns - 1);
	for (size_t i = 0; i < cs->n_listeners; i++)
		close(cs->lfd[i]);
	reflector_set_hook(cs->r, NULL);
	free(cs->conns);
	free(cs->polled);
	free(cs->draining);
	free(cs);
}

int control_server_listen(struct control_server *cs, const struct sockaddr *addr, socklen_t len)
{
	if (cs->n_listeners == MAX_CONTROL_LISTENERS)
		return -EMFILE;
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, addr, len) < 0 || listen(fd, 128) < 0) {
		int err = -errno;
		close(fd);
		return err;
	}
	cs->lfd[cs->n_listeners++] = fd;
	return 0;
}
