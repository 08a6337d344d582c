/*
 * UDP sockets with kernel timestamps and per-packet ancillary data.
 *
 * Linux offers receive timestamps through SO_TIMESTAMPING (software RX
 * stamps taken when the packet enters the stack) and the older
 * SO_TIMESTAMPNS; transmit stamps only through SO_TIMESTAMPING, read back
 * from the error queue with an OPT_ID counter.  We try the best first and
 * record what we got, as chrony's ntp_io_linux.c does, because a silent
 * fallback to user-space clocks would add tens of microseconds of error to
 * every figure without anyone knowing.
 */
#include "sock.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

const char *sock_rx_mode_name(enum sock_rx_ts_mode m)
{
	switch (m) {
	case SOCK_RX_TIMESTAMPING: return "kernel (SO_TIMESTAMPING)";
	case SOCK_RX_TIMESTAMPNS: return "kernel (SO_TIMESTAMPNS)";
	case SOCK_RX_USER: break;
	}
	return "user";
}

const char *sock_tx_mode_name(enum sock_tx_ts_mode m)
{
	return m == SOCK_TX_TIMESTAMPING ? "kernel (SO_TIMESTAMPING)" : "user";
}

static int set_int(int fd, int level, int name, int value)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) < 0)
		return -errno;
	return 0;
}

void sock_enable_rx_meta(int fd, int family, struct sock_caps *caps)
{
	if (family == AF_INET) {
		caps->pktinfo = set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) == 0;
		caps->recv_ttl = set_int(fd, IPPROTO_IP, IP_RECVTTL, 1) == 0;
		caps->recv_tos = set_int(fd, IPPROTO_IP, IP_RECVTOS, 1) == 0;
	} else {
		caps->pktinfo = set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == 0;
		caps->recv_ttl = set_int(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, 1) == 0;
		caps->recv_tos = set_int(fd, IPPROTO_IPV6, IPV6_RECVTCLASS, 1) == 0;
	}
}

void sock_enable_timestamps(int fd, enum sock_ts_want want, unsigned flags,
			    struct sock_caps *caps)
{
	caps->rx = SOCK_RX_USER;
	caps->tx = SOCK_TX_USER;
	if (want == SOCK_TS_USER)
		return;

	int rx_flags = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
	int tx_flags = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_OPT_ID |
		       SOF_TIMESTAMPING_OPT_TSONLY;
	if ((flags & SOCK_F_TX_TS) &&
	    set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, rx_flags | tx_flags) == 0) {
		caps->rx = SOCK_RX_TIMESTAMPING;
		caps->tx = SOCK_TX_TIMESTAMPING;
		return;
	}
	if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPING, rx_flags) == 0) {
		caps->rx = SOCK_RX_TIMESTAMPING;
		return;
	}
	if (set_int(fd, SOL_SOCKET, SO_TIMESTAMPNS, 1) == 0)
		caps->rx = SOCK_RX_TIMESTAMPNS;
}

int sock_udp_open(const struct sockaddr *bind_addr, socklen_t len, enum sock_ts_want want,
		  unsigned flags, struct sock_caps *caps)
{
	int family = bind_addr->sa_family;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;

	int type = SOCK_DGRAM | SOCK_CLOEXEC;
	if (flags & SOCK_F_NONBLOCK)
		type |= SOCK_NONBLOCK;
	int fd = socket(family, type, IPPROTO_UDP);
	if (fd < 0)
		return -errno;

	int err = 0;
	if (family == AF_INET6)
		err = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1);
	if (!err && (flags & SOCK_F_REUSEPORT))
		err = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
	if (err) {
		close(fd);
		return err;
	}
	if (bind(fd, bind_addr, len) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	memset(caps, 0, sizeof(*caps));
	sock_enable_rx_meta(fd, family, caps);
	sock_enable_timestamps(fd, want, flags, caps);
	return fd;
}

uint16_t sock_addr_port(const struct sockaddr_storage *ss)
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

void sock_addr_set_port(struct sockaddr_storage *ss, uint16_t port)
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

bool sock_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		     bool with_port)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		struct sockaddr_in x, y;
		memcpy(&x, a, sizeof(x));
		memcpy(&y, b, sizeof(y));
		return (!with_port || x.sin_port == y.sin_port) &&
		       x.sin_addr.s_addr == y.sin_addr.s_addr;
	}
	if (a->ss_family != AF_INET6)
		return false;
	struct sockaddr_in6 x, y;
	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (!with_port || x.sin6_port == y.sin6_port) &&
	       !memcmp(&x.sin6_addr, &y.sin6_addr, sizeof(x.sin6_addr));
}

int sock_set_ttl(int fd, int family, int ttl)
{
	if (family == AF_INET)
		return set_int(fd, IPPROTO_IP, IP_TTL, ttl);
	return set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl);
}

int sock_set_tos(int fd, int family, int tos)
{
	if (family == AF_INET)
		return set_int(fd, IPPROTO_IP, IP_TOS, tos);
	return set_int(fd, IPPROTO_IPV6, IPV6_TCLASS, tos);
}

int sock_set_buffers(int fd, int rcvbuf, int sndbuf)
{
	int err = 0;
	if (rcvbuf > 0 && set_int(fd, SOL_SOCKET, SO_RCVBUFFORCE, rcvbuf) < 0)
		err = set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf);
	if (sndbuf > 0 && set_int(fd, SOL_SOCKET, SO_SNDBUFFORCE, sndbuf) < 0) {
		int e = set_int(fd, SOL_SOCKET, SO_SNDBUF, sndbuf);
		if (!err)
			err = e;
	}
	return err;
}

/* Reads an int-or-octet cmsg payload, as the kernel sends TOS as one octet. */
static int cmsg_small_int(const struct cmsghdr *c)
{
	size_t n = c->cmsg_len - CMSG_LEN(0);
	if (n >= sizeof(int)) {
		int v;
		memcpy(&v, CMSG_DATA(c), sizeof(v));
		return v;
	}
	if (n >= 1) {
		uint8_t v;
		memcpy(&v, CMSG_DATA(c), 1);
		return v;
	}
	return -1;
}

void sock_parse_rx_cmsgs(const struct msghdr *msg, struct sock_rx_meta *meta)
{
	meta->rx.ns = 0;
	meta->rx.src = TS_SRC_NONE;
	meta->ttl = -1;
	meta->tos = -1;
	meta->have_local = false;
	meta->ifindex = 0;

	/* CMSG_NXTHDR takes a non-const msghdr but does not modify it. */
	struct msghdr *m = (struct msghdr *)(uintptr_t)msg;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_len < CMSG_LEN(0))
			break; /* malformed: glibc does not check the first header */
		size_t n = c->cmsg_len - CMSG_LEN(0);
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
		    n >= sizeof(struct timespec) * 3) {
			struct timespec ts[3];
			memcpy(ts, CMSG_DATA(c), sizeof(ts));
			if (ts[2].tv_sec || ts[2].tv_nsec) {
				meta->rx.ns = ts_timespec_to_ns(&ts[2]);
				meta->rx.src = TS_SRC_HARDWARE;
			} else if (ts[0].tv_sec || ts[0].tv_nsec) {
				meta->rx.ns = ts_timespec_to_ns(&ts[0]);
				meta->rx.src = TS_SRC_KERNEL;
			}
		} else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
			   n >= sizeof(struct timespec)) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			meta->rx.ns = ts_timespec_to_ns(&ts);
			meta->rx.src = TS_SRC_KERNEL;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
			meta->ttl = cmsg_small_int(c);
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TOS) {
			meta->tos = cmsg_small_int(c) & 0xff;
		} else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO &&
			   n >= sizeof(struct in_pktinfo)) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr = pi.ipi_addr };
			memset(&meta->local, 0, sizeof(meta->local));
			memcpy(&meta->local, &sin, sizeof(sin));
			meta->have_local = true;
			meta->ifindex = pi.ipi_ifindex;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT) {
			meta->ttl = cmsg_small_int(c);
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_TCLASS) {
			meta->tos = cmsg_small_int(c) & 0xff;
		} else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO &&
			   n >= sizeof(struct in6_pktinfo)) {
			struct in6_pktinfo pi;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = pi.ipi6_addr };
			if (IN6_IS_ADDR_LINKLOCAL(&pi.ipi6_addr))
				sin6.sin6_scope_id = pi.ipi6_ifindex;
			memset(&meta->local, 0, sizeof(meta->local));
			memcpy(&meta->local, &sin6, sizeof(sin6));
			meta->have_local = true;
			meta->ifindex = (int)pi.ipi6_ifindex;
		}
	}
}

static struct cmsghdr *add_cmsg(struct msghdr *m, struct cmsghdr *prev, size_t cap,
				int level, int type, const void *data, size_t len)
{
	size_t used = m->msg_controllen;
	if (used + CMSG_SPACE(len) > cap)
		return NULL;
	m->msg_controllen = used + CMSG_SPACE(len);
	struct cmsghdr *c = prev ? CMSG_NXTHDR(m, prev) : CMSG_FIRSTHDR(m);
	if (!c)
		return NULL;
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return c;
}

size_t sock_build_tx_cmsgs(uint8_t *buf, size_t cap, int family,
			   const struct sockaddr_storage *local, int ifindex, int ttl, int tos)
{
	struct msghdr m = { .msg_control = buf, .msg_controllen = 0 };
	struct cmsghdr *c = NULL;
	memset(buf, 0, cap);
	/* CMSG_NXTHDR needs the full length to find room for the next header. */
	m.msg_controllen = 0;

	if (family == AF_INET) {
		if (local && local->ss_family == AF_INET) {
			struct in_pktinfo pi;
			memset(&pi, 0, sizeof(pi));
			struct sockaddr_in sin;
			memcpy(&sin, local, sizeof(sin));
			pi.ipi_spec_dst = sin.sin_addr;
			pi.ipi_ifindex = 0;
			(void)ifindex;
			c = add_cmsg(&m, c, cap, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
		}
		if (ttl >= 0) {
			int v = ttl;
			c = add_cmsg(&m, c, cap, IPPROTO_IP, IP_TTL, &v, sizeof(v));
		}
		if (tos >= 0) {
			int v = tos;
			c = add_cmsg(&m, c, cap, IPPROTO_IP, IP_TOS, &v, sizeof(v));
		}
	} else {
		if (local && local->ss_family == AF_INET6) {
			struct in6_pktinfo pi;
			memset(&pi, 0, sizeof(pi));
			struct sockaddr_in6 sin6;
			memcpy(&sin6, local, sizeof(sin6));
			pi.ipi6_addr = sin6.sin6_addr;
			pi.ipi6_ifindex = IN6_IS_ADDR_LINKLOCAL(&sin6.sin6_addr) ? (unsigned)ifindex : 0;
			c = add_cmsg(&m, c, cap, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
		}
		if (ttl >= 0) {
			int v = ttl;
			c = add_cmsg(&m, c, cap, IPPROTO_IPV6, IPV6_HOPLIMIT, &v, sizeof(v));
		}
		if (tos >= 0) {
			int v = tos;
			c = add_cmsg(&m, c, cap, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof(v));
		}
	}
	(void)c;
	return m.msg_controllen;
}

int sock_read_tx_timestamp(int fd, uint32_t *id, int64_t *ts_ns)
{
	uint8_t data[64];
	union {
		uint8_t buf[SOCK_CMSG_SPACE];
		struct cmsghdr align;
	} control;
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	for (;;) {
		ssize_t r = recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		break;
	}

	bool have_ts = false, have_id = false;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		if (c->cmsg_len < CMSG_LEN(0))
			break; /* malformed: glibc does not check the first header */
		size_t n = c->cmsg_len - CMSG_LEN(0);
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING &&
		    n >= sizeof(struct timespec) * 3) {
			struct timespec ts[3];
			memcpy(ts, CMSG_DATA(c), sizeof(ts));
			*ts_ns = ts_timespec_to_ns(&ts[0]);
			have_ts = ts[0].tv_sec || ts[0].tv_nsec;
		} else if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
			    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) &&
			   n >= sizeof(struct sock_extended_err)) {
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(c), sizeof(ee));
			if (ee.ee_errno == ENOMSG && ee.ee_origin == SO_EE_ORIGIN_TIMESTAMPING) {
				*id = ee.ee_data;
				have_id = true;
			} else if (ee.ee_origin != SO_EE_ORIGIN_TIMESTAMPING) {
				/* An ICMP error queued with IP_RECVERR: report it as such. */
				return ee.ee_errno ? -(int)ee.ee_errno : -EIO;
			}
		}
	}
	if (!have_ts || !have_id)
		return -ENOMSG;
	return 0;
}
