/*
 * TWAMP-Control client exchange (see control_client.h).
 *
 * The socket is non-blocking and every wait is a poll with the deadline of
 * the current step, so a stalled or silent server costs at most the
 * control timeout.  Reads ask for exactly what the state machine wants,
 * which keeps the framing in one place (common/control.c).
 */
#include "control_client.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parse.h"
#include "tstamp.h"
#include "wire_control.h"

static int fail(char *err, size_t errlen, int rc, const char *fmt, const char *a, const char *b)
{
	snprintf(err, errlen, fmt, a, b);
	return rc;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - ts_monotonic_ns();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int k = poll(&p, 1, (int)(left / 1000000) + 1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k > 0)
			return 0;
	}
}

static int flush(struct control_session *s, int64_t deadline)
{
	for (;;) {
		size_t len;
		const uint8_t *p = ctrl_client_output(&s->cc, &len);
		if (!len)
			return 0;
		ssize_t n = send(s->tcp_fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return -errno;
			int rc = wait_fd(s->tcp_fd, POLLOUT, deadline);
			if (rc)
				return rc;
			continue;
		}
		ctrl_client_output_done(&s->cc, (size_t)n);
	}
}

/*
 * Sends what is queued, then reads until the state machine reports a
 * message.  Returns the event (> 0) or -errno with err set; what names
 * the awaited message for the messages.
 */
static int exchange(struct control_session *s, const char *what, char *err, size_t errlen)
{
	int64_t deadline = ts_monotonic_ns() + s->timeout_ns;
	int rc = flush(s, deadline);
	if (rc)
		return fail(err, errlen, rc, "cannot send to the server while waiting for %s: %s", what,
			    strerror(-rc));
	for (;;) {
		size_t want = ctrl_client_want(&s->cc);
		if (want == 0)
			return fail(err, errlen, -EPROTO, "internal error: nothing to wait for (%s)%s", what, "");
		uint8_t buf[CTRL_IN_CAP];
		if (want > sizeof(buf))
			want = sizeof(buf);
		ssize_t n = recv(s->tcp_fd, buf, want, MSG_DONTWAIT);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				return fail(err, errlen, -errno, "connection lost while waiting for %s: %s",
					    what, strerror(errno));
			rc = wait_fd(s->tcp_fd, POLLIN, deadline);
			if (rc == -ETIMEDOUT)
				return fail(err, errlen, rc,
					    "no %s from the server within the control timeout%s", what,
					    " (--control-timeout)");
			if (rc)
				return fail(err, errlen, rc, "poll: %s%s", strerror(-rc), "");
			continue;
		}
		if (n == 0)
			return fail(err, errlen, -ECONNRESET,
				    "the server closed the connection while we waited for %s%s", what, "");
		size_t used;
		int ev = ctrl_client_feed(&s->cc, buf, (size_t)n, &used);
		if (ev < 0) {
			/* A Mode 0 Set-Up-Response may be queued: deliver it before closing (D10). */
			flush(s, ts_monotonic_ns() + 200000000);
			return fail(err, errlen, ev, "%s%s", s->cc.why, "");
		}
		if (ev > 0)
			return ev;
	}
}

int control_open(struct control_session *s, const struct control_client_opts *o, char *err,
		 size_t errlen)
{
	memset(s, 0, sizeof(*s));
	s->tcp_fd = -1;
	s->timeout_ns = o->timeout_ns;
	struct ctrl_client_params p = {
		.want_mode = o->want_mode,
		.want_features = o->features,
		.keyid = o->keyid,
		.keyid_len = o->keyid_len,
		.secret = o->secret,
		.secret_len = o->secret_len,
		.max_count = o->max_count,
	};
	if (ctrl_client_init(&s->cc, &p, NULL) < 0)
		return fail(err, errlen, -EINVAL, "bad control parameters (KeyID longer than 80 octets?)%s%s",
			    "", "");

	char name[300];
	format_endpoint((const struct sockaddr *)&o->server, name, sizeof(name));
	int fd = socket(o->server.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, "cannot open a TCP socket: %s%s", strerror(errno), "");
	s->tcp_fd = fd;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (o->source.ss_family != AF_UNSPEC) {
		struct sockaddr_storage src = o->source;
		if (src.ss_family == AF_INET) {
			struct sockaddr_in sin;
			memcpy(&sin, &src, sizeof(sin));
			sin.sin_port = 0;
			memcpy(&src, &sin, sizeof(sin));
		} else {
			struct sockaddr_in6 sin6;
			memcpy(&sin6, &src, sizeof(sin6));
			sin6.sin6_port = 0;
			memcpy(&src, &sin6, sizeof(sin6));
		}
		if (bind(fd, (struct sockaddr *)&src, o->source_len) < 0)
			return fail(err, errlen, -errno, "cannot bind the control connection to -S: %s%s",
				    strerror(errno), "");
	}
	s->t_connect_ns = ts_monotonic_ns();
	int64_t deadline = s->t_connect_ns + o->timeout_ns;
	if (connect(fd, (const struct sockaddr *)&o->server, o->server_len) < 0) {
		if (errno != EINPROGRESS)
			return fail(err, errlen, -errno, "cannot connect to %s: %s", name, strerror(errno));
		int rc = wait_fd(fd, POLLOUT, deadline);
		if (rc == -ETIMEDOUT)
			return fail(err, errlen, rc, "cannot connect to %s: %s", name, "timed out");
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (rc == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr)
			rc = -soerr;
		if (rc)
			return fail(err, errlen, rc, "cannot connect to %s: %s", name, strerror(-rc));
	}
	socklen_t sl = sizeof(s->local);
	getsockname(fd, (struct sockaddr *)&s->local, &sl);
	sl = sizeof(s->peer);
	getpeername(fd, (struct sockaddr *)&s->peer, &sl);

	int ev = exchange(s, "the Server Greeting", err, errlen);
	if (ev < 0)
		return ev;
	s->count = s->cc.greeting.count;
	ev = exchange(s, "Server-Start", err, errlen);
	if (ev < 0)
		return ev;
	s->handshake_ns = ts_monotonic_ns() - s->t_connect_ns;
	s->mode = s->cc.mode;
	s->sec = wire_mode_test_security(s->mode);
	return 0;
}

static void addr_field(const struct sockaddr *sa, uint8_t field[16], uint8_t *ipvn)
{
	memset(field, 0, 16);
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		memcpy(field, &sin.sin_addr, 4);
		*ipvn = 4;
	} else {
		struct sockaddr_in6 sin6;
		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(field, &sin6.sin6_addr, 16);
		*ipvn = 6;
	}
}

static uint16_t port_of(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;
		memcpy(&sin, sa, sizeof(sin));
		return ntohs(sin.sin_port);
	}
	struct sockaddr_in6 sin6;
	memcpy(&sin6, sa, sizeof(sin6));
	return ntohs(sin6.sin6_port);
}

int control_request_start(struct control_session *s, const struct control_request *r,
			  char *err, size_t errlen)
{
	struct wire_request_session req;
	memset(&req, 0, sizeof(req));
	/* E5, E6: explicit addresses, those the test packets will carry. */
	addr_field(r->sender, req.sender_addr, &req.ipvn);
	addr_field((const struct sockaddr *)&s->peer, req.receiver_addr, &req.ipvn);
	req.sender_port = port_of(r->sender);
	req.receiver_port = r->receiver_port;
	req.padding_length = r->padding_length;
	req.start_time = 0; /* as soon as Start-Sessions is acknowledged */
	req.timeout = ctrl_timeout_ntp(r->timeout_ns);
	req.type_p = wire_type_p_from_dscp(r->dscp); /* E7 */
	if (s->mode & WIRE_MODE_REFLECT_OCTETS) {
		req.octets_to_reflect = r->octets_to_reflect;
		req.reflect_padding_len = r->reflect_len;
	}
	if (ctrl_client_request(&s->cc, &req) < 0)
		return fail(err, errlen, -EPROTO, "cannot queue Request-TW-Session%s%s", "", "");
	int ev = exchange(s, "Accept-Session", err, errlen);
	if (ev < 0)
		return ev;
	const struct wire_accept_session *a = &s->cc.accept;
	if (a->accept != WIRE_ACCEPT_OK) {
		char code[80];
		snprintf(code, sizeof(code), "Accept %u (%s)", a->accept, wire_accept_name(a->accept));
		return fail(err, errlen, -ECONNREFUSED,
			    "the server rejected the test session: Accept-Session %s%s", code,
			    a->accept == WIRE_ACCEPT_NOT_SUPPORTED
				    ? " - a parameter is not supported (padding, DSCP, addresses?)"
				    : a->accept >= WIRE_ACCEPT_PERMANENT ? " - the server is out of resources"
									 : "");
	}
	if (a->port == 0)
		return fail(err, errlen, -EPROTO, "Accept-Session accepted the session but names Port 0%s%s",
			    "", "");
	if ((s->mode & WIRE_MODE_REFLECT_OCTETS) && a->reflected_octets != r->octets_to_reflect)
		return fail(err, errlen, -EPROTO,
			    "Accept-Session does not echo the Octets to be reflected (RFC 6038 §4.3)%s%s",
			    "", "");
	memcpy(s->sid, a->sid, 16);
	s->port = a->port;
	s->server_octets = (s->mode & WIRE_MODE_REFLECT_OCTETS) ? a->server_octets : 0;
	if (s->sec != WIRE_SEC_OPEN &&
	    ctrl_client_test_keys(&s->cc, s->sid, s->test_aes, s->test_hmac) < 0)
		return fail(err, errlen, -EIO, "cannot derive the test keys%s%s", "", "");

	if (s->mode & WIRE_MODE_ISC) {
		if (ctrl_client_start_n(&s->cc, &s->cc.accept.sid, 1) < 0)
			return fail(err, errlen, -EPROTO, "cannot queue Start-N-Sessions%s%s", "", "");
		ev = exchange(s, "Start-N-Ack", err, errlen);
		if (ev < 0)
			return ev;
		if (s->cc.n_ack.accept != WIRE_ACCEPT_OK)
			return fail(err, errlen, -ECONNREFUSED,
				    "the server refused to start: Start-N-Ack Accept %s%s",
				    wire_accept_name(s->cc.n_ack.accept), "");
	} else {
		if (ctrl_client_start(&s->cc) < 0)
			return fail(err, errlen, -EPROTO, "cannot queue Start-Sessions%s%s", "", "");
		ev = exchange(s, "Start-Ack", err, errlen);
		if (ev < 0)
			return ev;
	}
	s->started = true;
	s->setup_ns = ts_monotonic_ns() - s->t_connect_ns;
	return 0;
}

int control_stop(struct control_session *s, char *err, size_t errlen)
{
	if (!s->started || s->tcp_fd < 0)
		return 0;
	/* Did the server give up on us during the test (SERVWAIT, or a crash)? */
	struct pollfd p = { .fd = s->tcp_fd, .events = POLLIN };
	if (poll(&p, 1, 0) == 1) {
		uint8_t b;
		ssize_t n = recv(s->tcp_fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN))
			return fail(err, errlen, -ECONNRESET,
				    "the server closed the control connection during the test%s%s", "", "");
	}
	s->started = false;
	if (s->mode & WIRE_MODE_ISC) {
		if (ctrl_client_stop_n(&s->cc, (const uint8_t(*)[16])s->sid, 1) < 0)
			return fail(err, errlen, -EPROTO, "cannot queue Stop-N-Sessions%s%s", "", "");
		int ev = exchange(s, "Stop-N-Ack", err, errlen);
		return ev < 0 ? ev : 0;
	}
	/* E18: the number of sessions started and not yet stopped. */
	if (ctrl_client_stop(&s->cc, 1, WIRE_ACCEPT_OK) < 0)
		return fail(err, errlen, -EPROTO, "cannot queue Stop-Sessions%s%s", "", "");
	int rc = flush(s, ts_monotonic_ns() + s->timeout_ns);
	if (rc)
		return fail(err, errlen, rc, "cannot send Stop-Sessions: %s%s", strerror(-rc), "");
	return 0;
}

void control_close(struct control_session *s)
{
	if (s->tcp_fd >= 0) {
		/* Half-close and wait briefly for the server's FIN, so it reads our last message. */
		shutdown(s->tcp_fd, SHUT_WR);
		int64_t deadline = ts_monotonic_ns() + 500000000;
		uint8_t buf[256];
		while (wait_fd(s->tcp_fd, POLLIN, deadline) == 0 &&
		       recv(s->tcp_fd, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
		close(s->tcp_fd);
		s->tcp_fd = -1;
	}
	ctrl_client_free(&s->cc);
	crypto_wipe(s->test_aes, sizeof(s->test_aes));
	crypto_wipe(s->test_hmac, sizeof(s->test_hmac));
}
