/*
 * Packet capture for twamp-capture: a pure frame parser that turns one
 * captured link-layer frame into an observation (TWAMP-Test request or
 * reply, ICMP/ICMPv6 echo request or reply, with the identity needed to
 * pair them), and thin libpcap handles for live interfaces (optionally in
 * another network namespace) and pcap/pcapng files.  The parser reads only
 * through the bounds-checked cursor and never trusts a length field beyond
 * the octets actually captured; the handles return -errno codes plus a
 * one-line message and never print.  Built only with libpcap (HAVE_PCAP).
 */
#ifndef TK_CAPTURE_H
#define TK_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tstamp.h"

/* Octets kept per frame: link + VLAN + IPv6 + extension headers + UDP + 72 of payload fit. */
#define CAPTURE_SNAPLEN 256
#define CAPTURE_MAX_PORTS 64
#define CAPTURE_TWAMP_PORT 862

/* What a frame is, as far as round-trip matching cares. */
enum capture_kind {
	CAPTURE_OTHER = 0,      /* anything else, incl. non-first IP fragments */
	CAPTURE_TWAMP_REQUEST,  /* UDP to a TWAMP port (Session-Sender packet, TWAMP or STAMP) */
	CAPTURE_TWAMP_REPLY,    /* UDP from a TWAMP port (Session-Reflector packet) */
	CAPTURE_ICMP_REQUEST,   /* ICMP Echo (8) / ICMPv6 Echo Request (128) */
	CAPTURE_ICMP_REPLY,     /* ICMP Echo Reply (0) / ICMPv6 Echo Reply (129) */
};

/*
 * How the fields of a TWAMP reply could be read.  The layout is not on the
 * wire, so it is recognised by the reflector's own two timestamps (T3 and
 * T2, same clock) lying within an hour of each other at the offsets of one
 * layout: random or encrypted octets pass that test with odds of ~1e-6.
 */
enum capture_layout {
	CAPTURE_LAYOUT_NONE = 0, /* requests and ICMP */
	CAPTURE_LAYOUT_OPEN,     /* unauthenticated/mixed/STAMP: Sender Sequence Number at 24 */
	CAPTURE_LAYOUT_AUTH,     /* authenticated: Sender Timestamp in clear at 64 (seq encrypted) */
	CAPTURE_LAYOUT_OPAQUE,   /* shorter than 41 octets, encrypted, or not captured far enough */
};

/* The UDP ports that carry TWAMP-Test on the reflector side. */
struct capture_ports {
	uint16_t port[CAPTURE_MAX_PORTS];
	size_t n;
};

/* Adds port once (0 is -EINVAL, a full set -ENOSPC). */
int capture_ports_add(struct capture_ports *p, uint16_t port);
bool capture_ports_has(const struct capture_ports *p, uint16_t port);

/* One frame as far as the parser understood it; addresses in network order. */
struct capture_obs {
	enum capture_kind kind;
	int family;              /* AF_INET or AF_INET6; 0 when not IP */
	uint8_t src[16];         /* IPv4 in the first 4 octets */
	uint8_t dst[16];
	uint8_t ttl;             /* IPv4 TTL / IPv6 Hop Limit */
	bool fragment;           /* a non-first IPv4/IPv6 fragment (kind OTHER) */
	uint16_t sport, dport;   /* UDP ports; 0 for ICMP */
	uint16_t icmp_id;        /* ICMP Identifier */
	bool seq_known;          /* seq was readable (see enum capture_layout for replies) */
	uint32_t seq;            /* TWAMP request: Sequence Number (octets 0-3, encrypted in
				  * auth/enc modes but the same at every capture point);
				  * TWAMP reply: Sender Sequence Number; ICMP: Sequence Number */
	enum capture_layout layout;
	bool ts_known;           /* request: T1 at the open offset 4; reply: the echoed
				  * Sender Timestamp (offset 28 open, 64 auth) */
	ntp64_t ts;
	bool ts_auth_known;      /* request of at least 48 octets: T1 at the auth offset 16 */
	ntp64_t ts_auth;
	bool stamp;              /* 44-octet payload: the RFC 8762 STAMP base size */
	size_t payload_len;      /* UDP payload (ICMP: message) octets on the wire */
	size_t payload_caplen;   /* of which captured */
};

/*
 * Parses one frame of link type linktype (a pcap DLT_* value: EN10MB with
 * 802.1Q/802.1ad tags, LINUX_SLL, LINUX_SLL2, NULL, LOOP, RAW, IPV4, IPV6)
 * of which caplen octets were captured out of wirelen.  UDP to or from a
 * port in ports is TWAMP (to: request, from: reply; both: the reply layout
 * test decides).  Returns 0 with out->kind set (CAPTURE_OTHER for frames of
 * no interest), -EBADMSG for truncated headers or lengths that contradict
 * the frame (out->kind is then CAPTURE_OTHER), -EPROTONOSUPPORT for a link
 * type not listed, -EINVAL for NULL arguments.  Pure: frame is only read.
 */
int capture_parse_frame(int linktype, const uint8_t *frame, size_t caplen, size_t wirelen,
			const struct capture_ports *ports, struct capture_obs *out);

bool capture_linktype_supported(int linktype);
/* "EN10MB", "LINUX_SLL"...; "DLT n" in buf for others.  Returns buf or a static string. */
const char *capture_linktype_name(int linktype, char *buf, size_t len);

/*
 * BPF filter text for the TWAMP ports plus ICMP/ICMPv6 echo, with a
 * second copy behind "vlan" when vlan is set (tagged Ethernet).  0,
 * -ENOSPC when buf is too small, -EINVAL on an empty port set.
 */
int capture_filter_text(const struct capture_ports *ports, bool vlan, char *buf, size_t len);

/*
 * "IFACE" or "IFACE@NETNS" -> iface and netns ("" when none); NETNS is a
 * name under /var/run/netns or an absolute path (/proc/PID/ns/net).  0 or
 * -EINVAL (empty parts, names too long, '/' or ".." in a name).
 */
int capture_split_spec(const char *spec, char *iface, size_t iface_len, char *netns,
		       size_t netns_len);

/* --- capture handles ------------------------------------------------------ */

struct capture_handle;

struct capture_frame {
	const uint8_t *data;     /* valid until the next capture_next/capture_close */
	size_t caplen;
	size_t wirelen;
	int64_t ts_ns;           /* capture time, Unix ns */
};

/*
 * Opens a live capture on spec (IFACE[@NETNS]) with immediate delivery,
 * nanosecond timestamps when the platform has them, snaplen
 * CAPTURE_SNAPLEN, promiscuous mode (a bridge shows forwarded frames only
 * then), non-blocking, and a BPF filter for ports and ICMP echo.  With a
 * NETNS the socket is created inside it and the thread returns to its own
 * namespace.  Returns 0 and *out (free with capture_close), or -EPERM (no
 * capture or setns permission), -ENODEV (no such interface), -ENOENT (no
 * such namespace), -ENETDOWN, -EINVAL, -ENOMEM, -EIO; err gets one line.
 */
int capture_open_live(const char *spec, const struct capture_ports *ports,
		      struct capture_handle **out, char *err, size_t errlen);

/*
 * Opens a pcap or pcapng file with timestamps scaled to nanoseconds.
 * Returns 0 and *out, or -ENOENT/-EACCES/-EISDIR (open), -EBADMSG (not a
 * capture file, or truncated header), -ENOMEM; err gets one line.
 */
int capture_open_file(const char *path, struct capture_handle **out, char *err, size_t errlen);

/*
 * Next frame: 1 and *f, 0 when nothing is waiting (live, non-blocking) or
 * at the end of a file, -EBADMSG for a truncated or corrupt record (not
 * silently taken as the end), -ENETDOWN when the interface went away,
 * -EIO otherwise; err gets one line.  With a dump open, every frame
 * returned is also written there.
 */
int capture_next(struct capture_handle *h, struct capture_frame *f, char *err, size_t errlen);

/* Pollable descriptor of a live handle; -1 for files. */
int capture_fd(const struct capture_handle *h);
int capture_linktype(const struct capture_handle *h);
bool capture_is_file(const struct capture_handle *h);
/* "nano" or "micro" (live: what the kernel delivers; file: what the file stores). */
const char *capture_precision_name(const struct capture_handle *h);

/* Writes every following frame to path as pcap (nanosecond format when the handle has it). */
int capture_dump_open(struct capture_handle *h, const char *path, char *err, size_t errlen);

/* Kernel counters of a live handle (pcap_stats); -ENOTSUP for files. */
int capture_stats(struct capture_handle *h, uint64_t *received, uint64_t *dropped);

/* Flushes and closes the dump, closes the handle; NULL is a no-op. */
void capture_close(struct capture_handle *h);

#endif
