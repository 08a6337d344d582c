/*
 * ICMP and ICMPv6 echo for the ping side of the comparison.
 *
 * Sockets: an unprivileged datagram ICMP socket where the kernel allows it
 * (net.ipv4.ping_group_range), else a raw socket, as iputils ping does.  On
 * a datagram socket the kernel owns the identifier (the bound "port") and
 * filters replies; on a raw socket we pick the identifier and filter.  The
 * codecs are pure: echo request encoding and reply parsing on (buffer,
 * length), with or without the IPv4 header a raw socket delivers.
 */
#ifndef TK_ICMP_H
#define TK_ICMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "sock.h"

#define ICMP_ECHO_HDR 8
/* Our payload: magic, sequence number and the send time, so a reply can be
 * checked to be ours even on a raw socket that sees everybody's echoes. */
#define ICMP_PAYLOAD_MIN 16
#define ICMP_MAGIC 0x544b4950u /* "TKIP" */

enum icmp_sock_kind { ICMP_SOCK_DGRAM = 0, ICMP_SOCK_RAW };

struct icmp_socket {
	int fd;
	int family;
	enum icmp_sock_kind kind;
	uint16_t ident;          /* echo identifier in use */
	struct sock_caps caps;
};

const char *icmp_sock_kind_name(enum icmp_sock_kind k);

/*
 * Opens an echo socket of family, datagram first then raw; source (may be
 * NULL) binds the local address.  Enables the receive options and
 * timestamps of sock.h.  0 or -errno (-EPERM when neither kind is allowed).
 */
int icmp_open(struct icmp_socket *s, int family, const struct sockaddr *source, socklen_t srclen,
	      enum sock_ts_want want, uint16_t raw_ident);

/*
 * Encodes an echo request: type 8 (IPv4) / 128 (IPv6), code 0, identifier,
 * sequence, then ICMP_PAYLOAD_MIN octets (magic, 32-bit probe number, send
 * time ns) and zero fill to payload_len.  The IPv4 checksum is computed;
 * for IPv6 the kernel fills it.  Returns the length or -ENOSPC / -EINVAL.
 */
int icmp_echo_encode(int family, uint16_t ident, uint16_t seq, uint32_t probe, int64_t t1_ns,
		     size_t payload_len, uint8_t *buf, size_t cap);

struct icmp_echo_reply {
	uint16_t ident;
	uint16_t seq;
	uint32_t probe;          /* from our payload */
	int64_t t1_ns;           /* from our payload */
	int ttl;                 /* from the IPv4 header when present, else -1 */
	size_t payload_len;
};

/*
 * Parses a received datagram as an echo reply of ours.  with_ip_header:
 * raw IPv4 sockets deliver the IP header first.  0, -ENOMSG when it is ICMP
 * but not an echo reply carrying our payload, -EBADMSG when malformed.
 */
int icmp_echo_parse(int family, bool with_ip_header, const uint8_t *buf, size_t len,
		    struct icmp_echo_reply *out);

/* RFC 1071 Internet checksum of buf[0..len). */
uint16_t icmp_checksum(const uint8_t *buf, size_t len);

#endif
