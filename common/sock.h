/*
 * UDP sockets for test packets, with the kernel doing the timing.
 *
 * Opening a socket probes what the kernel offers and records it in
 * struct sock_caps: SO_TIMESTAMPING with software RX and TX stamps, else
 * SO_TIMESTAMPNS for RX, else user-space clock reads (the fallback is
 * reported, never silent).  Ancillary data carries the received TTL/Hop
 * Limit, TOS/Traffic Class and destination address in, and the TTL, TOS and
 * source address of each reply out (so a multi-homed reflector answers
 * from the address it was asked on).  cmsg payloads are copied into local
 * structs, never dereferenced in place.
 */
#ifndef TK_SOCK_H
#define TK_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tstamp.h"

enum sock_ts_want {
	SOCK_TS_KERNEL = 0, /* kernel stamps where available (fallback reported) */
	SOCK_TS_USER,       /* user-space clock reads only */
};

enum sock_rx_ts_mode { SOCK_RX_USER = 0, SOCK_RX_TIMESTAMPNS, SOCK_RX_TIMESTAMPING };
enum sock_tx_ts_mode { SOCK_TX_USER = 0, SOCK_TX_TIMESTAMPING };

struct sock_caps {
	enum sock_rx_ts_mode rx;
	enum sock_tx_ts_mode tx;
	bool pktinfo;     /* destination address of received packets known */
	bool recv_ttl;
	bool recv_tos;
};

const char *sock_rx_mode_name(enum sock_rx_ts_mode m);
const char *sock_tx_mode_name(enum sock_tx_ts_mode m);

#define SOCK_F_REUSEPORT 0x1  /* SO_REUSEPORT (workers) */
#define SOCK_F_TX_TS 0x2      /* ask for TX timestamps (sender side) */
#define SOCK_F_NONBLOCK 0x4

/*
 * Opens a UDP socket of bind_addr's family bound to it (IPv6 sockets are
 * V6ONLY), enabling every receive option above and the requested
 * timestamping.  Returns the fd or -errno; *caps says what is active.
 */
int sock_udp_open(const struct sockaddr *bind_addr, socklen_t len, enum sock_ts_want want,
		  unsigned flags, struct sock_caps *caps);

/*
 * The option probing sock_udp_open does, for sockets opened elsewhere (ICMP):
 * receive TTL/TOS/destination, and the best timestamping the kernel offers
 * (SOCK_F_TX_TS in flags asks for TX stamps too).  Results go to *caps.
 */
void sock_enable_rx_meta(int fd, int family, struct sock_caps *caps);
void sock_enable_timestamps(int fd, enum sock_ts_want want, unsigned flags, struct sock_caps *caps);

/* Port of an AF_INET/AF_INET6 address, host order. */
uint16_t sock_addr_port(const struct sockaddr_storage *ss);
void sock_addr_set_port(struct sockaddr_storage *ss, uint16_t port);
/* Same family and address (and port when with_port). */
bool sock_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b,
		     bool with_port);

/* TTL (IPv4) or unicast Hop Limit (IPv6) for everything sent on fd.  0 or -errno. */
int sock_set_ttl(int fd, int family, int ttl);
/* TOS octet (DSCP << 2 | ECN) or Traffic Class.  0 or -errno. */
int sock_set_tos(int fd, int family, int tos);
/* Socket buffer sizes (best effort, SO_*BUFFORCE when allowed).  0 or -errno. */
int sock_set_buffers(int fd, int rcvbuf, int sndbuf);

/* What a received datagram's ancillary data said. */
struct sock_rx_meta {
	struct ts_stamp rx;              /* kernel RX time, or src NONE when absent */
	int ttl;                         /* -1 unknown */
	int tos;                         /* -1 unknown */
	bool have_local;
	struct sockaddr_storage local;   /* destination address (port not filled) */
	int ifindex;
};

/* Control buffer size that fits every cmsg we ask for, in and out. */
#define SOCK_CMSG_SPACE 256

/* Copies the cmsgs of a received msghdr into meta (pure; unknown cmsgs ignored). */
void sock_parse_rx_cmsgs(const struct msghdr *msg, struct sock_rx_meta *meta);

/*
 * Builds outgoing ancillary data in buf for a reply on a socket of family:
 * source address (when local is non-NULL), TTL and TOS (when >= 0).
 * Returns msg_controllen (0 when nothing to add).
 */
size_t sock_build_tx_cmsgs(uint8_t *buf, size_t cap, int family,
			   const struct sockaddr_storage *local, int ifindex, int ttl, int tos);

/*
 * Reads one TX timestamp from the error queue (non-blocking).  *id is the
 * SOF_TIMESTAMPING_OPT_ID counter of the datagram (0 for the first one sent
 * on the socket).  0, -EAGAIN when the queue is empty, or -errno.
 */
int sock_read_tx_timestamp(int fd, uint32_t *id, int64_t *ts_ns);

#endif
