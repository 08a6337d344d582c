/*
 * ICMP echo sockets and codecs.
 *
 * The payload carries our own magic and probe number because a raw socket
 * receives every echo reply on the host; the identifier alone (16 bits)
 * can collide with another ping.  The sequence number is 16 bits on the
 * wire, so the probe number in the payload is what identifies a probe in
 * runs longer than 65536 probes.
 */
#include "icmp.h"

#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <linux/net_tstamp.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <unistd.h>

#include "cursor.h"

const char *icmp_sock_kind_name(enum icmp_sock_kind k)
{
	return k == ICMP_SOCK_RAW ? "raw" : "datagram";
}

uint16_t icmp_checksum(const uint8_t *buf, size_t len)
{
	uint32_t sum = 0;
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)buf[i] << 8 | buf[i + 1];
	if (i < len)
		sum += (uint32_t)buf[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void enable_options(struct icmp_socket *s, enum sock_ts_want want)
{
	memset(&s->caps, 0, sizeof(s->caps));
	sock_enable_rx_meta(s->fd, s->family, &s->caps);
	sock_enable_timestamps(s->fd, want, SOCK_F_TX_TS, &s->caps);
}

int icmp_open(struct icmp_socket *s, int family, const struct sockaddr *source, socklen_t srclen,
	      enum sock_ts_want want, uint16_t raw_ident)
{
	int proto = family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->family = family;
	if (family != AF_INET && family != AF_INET6)
		return -EAFNOSUPPORT;

	int fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
	s->kind = ICMP_SOCK_DGRAM;
	if (fd < 0) {
		int dgram_err = errno;
		fd = socket(family, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, proto);
		if (fd < 0)
			return errno == EPERM || errno == EACCES || dgram_err == EACCES ? -EPERM : -errno;
		s->kind = ICMP_SOCK_RAW;
	}
	s->fd = fd;

	if (s->kind == ICMP_SOCK_RAW) {
		s->ident = raw_ident;
		if (family == AF_INET6) {
			/* Only echo replies reach us: less to filter in user space. */
			struct icmp6_filter f;
			ICMP6_FILTER_SETBLOCKALL(&f);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
			setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		}
		if (source && bind(fd, source, srclen) < 0) {
			int err = -errno;
			close(fd);
			s->fd = -1;
			return err;
		}
	} else {
		/* The kernel uses the bound port as identifier; bind to learn it. */
		struct sockaddr_storage any;
		socklen_t len;
		memset(&any, 0, sizeof(any));
		if (source) {
			memcpy(&any, source, srclen);
			len = srclen;
		} else {
			any.ss_family = (sa_family_t)family;
			len = family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
		}
		if (bind(fd, (struct sockaddr *)&any, len) < 0) {
			int err = -errno;
			close(fd);
			s->fd = -1;
			return err;
		}
		struct sockaddr_storage bound;
		socklen_t blen = sizeof(bound);
		getsockname(fd, (struct sockaddr *)&bound, &blen);
		if (family == AF_INET) {
			struct sockaddr_in sin;
			memcpy(&sin, &bound, sizeof(sin));
			s->ident = ntohs(sin.sin_port);
		} else {
			struct sockaddr_in6 sin6;
			memcpy(&sin6, &bound, sizeof(sin6));
			s->ident = ntohs(sin6.sin6_port);
		}
	}
	enable_options(s, want);
	return 0;
}

int icmp_echo_encode(int family, uint16_t ident, uint16_t seq, uint32_t probe, int64_t t1_ns,
		     size_t payload_len, uint8_t *buf, size_t cap)
{
	if (family != AF_INET && family != AF_INET6)
		return -EINVAL;
	if (payload_len < ICMP_PAYLOAD_MIN)
		payload_len = ICMP_PAYLOAD_MIN;
	struct wcursor w;
	wc_init(&w, buf, cap);
	wc_u8(&w, family == AF_INET ? ICMP_ECHO : ICMP6_ECHO_REQUEST);
	wc_u8(&w, 0);
	wc_u16(&w, 0); /* checksum, below */
	wc_u16(&w, ident);
	wc_u16(&w, seq);
	wc_u32(&w, ICMP_MAGIC);
	wc_u32(&w, probe);
	wc_u64(&w, (uint64_t)t1_ns);
	wc_zero(&w, payload_len - ICMP_PAYLOAD_MIN);
	if (w.bad)
		return -ENOSPC;
	if (family == AF_INET) {
		uint16_t sum = icmp_checksum(buf, w.pos);
		buf[2] = (uint8_t)(sum >> 8);
		buf[3] = (uint8_t)sum;
	}
	return (int)w.pos;
}

int icmp_echo_parse(int family, bool with_ip_header, const uint8_t *buf, size_t len,
		    struct icmp_echo_reply *out)
{
	struct rcursor c;
	rc_init(&c, buf, len);
	out->ttl = -1;
	if (family == AF_INET && with_ip_header) {
		uint8_t vihl = rc_u8(&c);
		if (c.bad || (vihl >> 4) != 4)
			return -EBADMSG;
		size_t ihl = (size_t)(vihl & 0x0f) * 4;
		if (ihl < 20 || ihl > len)
			return -EBADMSG;
		rc_skip(&c, 7);
		out->ttl = rc_u8(&c);
		uint8_t proto = rc_u8(&c);
		if (c.bad || proto != IPPROTO_ICMP)
			return -EBADMSG;
		rc_init(&c, buf + ihl, len - ihl);
	}
	uint8_t type = rc_u8(&c);
	uint8_t code = rc_u8(&c);
	rc_skip(&c, 2);
	out->ident = rc_u16(&c);
	out->seq = rc_u16(&c);
	if (c.bad)
		return -EBADMSG;
	uint8_t want = family == AF_INET ? ICMP_ECHOREPLY : ICMP6_ECHO_REPLY;
	if (type != want || code != 0)
		return -ENOMSG;
	uint32_t magic = rc_u32(&c);
	out->probe = rc_u32(&c);
	out->t1_ns = (int64_t)rc_u64(&c);
	if (c.bad || magic != ICMP_MAGIC)
		return -ENOMSG;
	out->payload_len = rc_left(&c) + ICMP_PAYLOAD_MIN;
	return 0;
}
