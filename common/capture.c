/*
 * Frame parser and libpcap handles for twamp-capture.  The parser works on
 * a captured prefix of a frame whose length fields were written by someone
 * else: every read goes through a cursor bounded by the octets captured,
 * and each header's length is checked against what the wire carried, so a
 * bogus IHL, IP or UDP length yields -EBADMSG rather than a read past the
 * buffer or a misparse.  Ethernet padding is why the IP length (not the
 * frame length) bounds the payload.  The handles wrap pcap_create with the
 * options that matter for latency work (immediate mode, nanosecond
 * timestamps) and enter a network namespace only for the duration of
 * pcap_activate: a packet socket stays bound to the namespace it was
 * created in.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h> /* CLONE_NEWNET; <sched.h> is shadowed by common/sched.h */
#include <pcap/pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "capture.h"
#include "cursor.h"

/* --- ports ----------------------------------------------------------------- */

int capture_ports_add(struct capture_ports *p, uint16_t port)
{
	if (!p || port == 0)
		return -EINVAL;
	if (capture_ports_has(p, port))
		return 0;
	if (p->n >= CAPTURE_MAX_PORTS)
		return -ENOSPC;
	p->port[p->n++] = port;
	return 0;
}

bool capture_ports_has(const struct capture_ports *p, uint16_t port)
{
	if (!p)
		return false;
	for (size_t i = 0; i < p->n && i < CAPTURE_MAX_PORTS; i++)
		if (p->port[i] == port)
			return true;
	return false;
}

/* --- frame parser ------------------------------------------------------------ */

#define ETH_P_IPV4 0x0800
#define ETH_P_IPV6 0x86dd
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88a8
#define ETH_P_QINQ1 0x9100
#define MAX_VLAN_TAGS 4
#define MAX_IPV6_EXT 8

#define IPPROTO_ICMP_ 1
#define IPPROTO_UDP_ 17
#define IPPROTO_ICMPV6_ 58

#define TWAMP_MIN_REQUEST 14   /* RFC 5357 §4.1.2 unauthenticated sender header */
#define TWAMP_MIN_REPLY_OPEN 41
#define TWAMP_MIN_REPLY_AUTH 112
#define TWAMP_MIN_REQUEST_AUTH 48
#define LAYOUT_MAX_SKEW_S 3600 /* |T3 - T2| of one reflector clock, generously */

/* IP version carried by an ethertype: 4, 6, or 0 (not IP). */
static int link_ethertype(uint16_t etype)
{
	if (etype == ETH_P_IPV4)
		return 4;
	if (etype == ETH_P_IPV6)
		return 6;
	return 0;
}

/* Ethertype after any stack of 802.1Q/802.1ad tags (bounded). */
static uint16_t skip_vlan_tags(struct rcursor *c, uint16_t etype)
{
	for (int i = 0; i < MAX_VLAN_TAGS; i++) {
		if (etype != ETH_P_8021Q && etype != ETH_P_8021AD && etype != ETH_P_QINQ1)
			break;
		rc_skip(c, 2); /* PCP, DEI, VID */
		etype = rc_u16(c);
	}
	return etype;
}

/* BSD loopback family values (DLT_NULL is host order of the capturing machine). */
static int null_family(uint32_t v)
{
	switch (v) {
	case 2:
		return 4;
	case 10: /* Linux */
	case 24: /* NetBSD, OpenBSD, BSD/OS */
	case 28: /* FreeBSD, DragonFly */
	case 30: /* Darwin */
		return 6;
	default:
		return 0;
	}
}

/* Consumes the link header; *ipv = 4, 6, or 0 when the frame carries no IP. */
static int parse_link(int linktype, struct rcursor *c, int *ipv)
{
	uint16_t etype;
	uint32_t fam;

	*ipv = 0;
	switch (linktype) {
	case DLT_EN10MB:
		rc_skip(c, 12); /* destination, source */
		etype = skip_vlan_tags(c, rc_u16(c));
		*ipv = link_ethertype(etype);
		break;
	case DLT_LINUX_SLL:
		/* packet type, ARPHRD, address length, 8 address octets, protocol */
		rc_skip(c, 14);
		etype = skip_vlan_tags(c, rc_u16(c));
		*ipv = link_ethertype(etype);
		break;
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
		/* protocol, reserved, ifindex, ARPHRD, packet type, address length, address */
		etype = rc_u16(c);
		rc_skip(c, 18);
		etype = skip_vlan_tags(c, etype);
		*ipv = link_ethertype(etype);
		break;
#endif
	case DLT_NULL: {
		const uint8_t *p = rc_ptr(c, 4);
		if (!p)
			break;
		/* host order of the machine that captured: try both */
		fam = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
		      (uint32_t)p[3] << 24;
		*ipv = null_family(fam);
		if (!*ipv)
			*ipv = null_family((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
					   (uint32_t)p[2] << 8 | p[3]);
		break;
	}
	case DLT_LOOP:
		*ipv = null_family(rc_u32(c)); /* network order */
		break;
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
#endif
		if (rc_take(c, 1)) /* the version nibble, not consumed */
			*ipv = c->p[c->pos] >> 4;
		if (*ipv != 4 && *ipv != 6)
			*ipv = 0;
#ifdef DLT_IPV4
		if (linktype == DLT_IPV4 && *ipv != 4)
			*ipv = 0;
#endif
#ifdef DLT_IPV6
		if (linktype == DLT_IPV6 && *ipv != 6)
			*ipv = 0;
#endif
		break;
	default:
		return -EPROTONOSUPPORT;
	}
	return c->bad ? -EBADMSG : 0;
}

bool capture_linktype_supported(int linktype)
{
	switch (linktype) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
#ifdef DLT_LINUX_SLL2
	case DLT_LINUX_SLL2:
#endif
	case DLT_NULL:
	case DLT_LOOP:
	case DLT_RAW:
#ifdef DLT_IPV4
	case DLT_IPV4:
#endif
#ifdef DLT_IPV6
	case DLT_IPV6:
#endif
		return true;
	default:
		return false;
	}
}

const char *capture_linktype_name(int linktype, char *buf, size_t len)
{
	const char *n = pcap_datalink_val_to_name(linktype);

	if (n)
		return n;
	if (buf && len) {
		snprintf(buf, len, "DLT %d", linktype);
		return buf;
	}
	return "unknown";
}

/* Where the transport header starts and how much of it the wire and the capture hold. */
struct l4_span {
	uint8_t proto;
	size_t wire;      /* octets of L4 on the wire, per the IP header */
	size_t cap;       /* of which captured */
	bool first_frag;  /* more fragments follow: the datagram is longer than wire */
};

static int parse_ipv4(struct rcursor *c, size_t l3_wire, struct capture_obs *o, struct l4_span *l4)
{
	uint8_t vihl = rc_u8(c);
	size_t ihl = (size_t)(vihl & 0x0f) * 4;

	rc_skip(c, 1); /* TOS */
	size_t tot = rc_u16(c);
	rc_skip(c, 2); /* Identification */
	uint16_t frag = rc_u16(c);
	o->ttl = rc_u8(c);
	l4->proto = rc_u8(c);
	rc_skip(c, 2); /* checksum */
	rc_bytes(c, o->src, 4);
	rc_bytes(c, o->dst, 4);
	if (c->bad || vihl >> 4 != 4 || ihl < 20)
		return -EBADMSG;
	rc_skip(c, ihl - 20); /* options */
	if (c->bad || tot < ihl || tot > l3_wire)
		return -EBADMSG;
	o->family = AF_INET;
	if ((frag & 0x1fff) != 0) {
		o->fragment = true; /* no transport header in here */
		l4->proto = 0;
	} else {
		l4->first_frag = (frag & 0x2000) != 0;
	}
	l4->wire = tot - ihl;
	l4->cap = rc_left(c) < l4->wire ? rc_left(c) : l4->wire;
	return 0;
}

static bool ipv6_ext_header(uint8_t nh)
{
	return nh == 0 || nh == 43 || nh == 44 || nh == 51 || nh == 60 || nh == 135 || nh == 139 ||
	       nh == 140;
}

static int parse_ipv6(struct rcursor *c, size_t l3_wire, struct capture_obs *o, struct l4_span *l4)
{
	uint8_t v = rc_u8(c);

	rc_skip(c, 3); /* traffic class, flow label */
	size_t plen = rc_u16(c);
	uint8_t nh = rc_u8(c);
	o->ttl = rc_u8(c);
	rc_bytes(c, o->src, 16);
	rc_bytes(c, o->dst, 16);
	if (c->bad || v >> 4 != 6)
		return -EBADMSG;
	if (plen == 0 || plen + 40 > l3_wire) /* 0: jumbogram, not for probes */
		return -EBADMSG;
	o->family = AF_INET6;

	size_t ext = 0;
	for (int i = 0; ipv6_ext_header(nh); i++) {
		size_t hlen;
		uint8_t next = rc_u8(c);
		uint8_t len = rc_u8(c);

		if (i >= MAX_IPV6_EXT || c->bad)
			return -EBADMSG;
		if (nh == 44) { /* Fragment: fixed 8 octets */
			uint16_t off = rc_u16(c);
			rc_skip(c, 4);
			hlen = 8;
			if (off >> 3) {
				o->fragment = true;
				next = 0xff;
			} else {
				l4->first_frag = (off & 1) != 0;
			}
		} else {
			hlen = nh == 51 ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;
			rc_skip(c, hlen - 2);
		}
		ext += hlen;
		if (c->bad || ext > plen)
			return -EBADMSG;
		nh = next;
		if (o->fragment)
			break;
	}
	l4->proto = o->fragment ? 0 : nh;
	l4->wire = plen - ext;
	l4->cap = rc_left(c) < l4->wire ? rc_left(c) : l4->wire;
	return 0;
}

/* Seconds of the NTP timestamp at p[off..off+8) within skew of the one at other. */
static bool ntp_secs_close(const uint8_t *p, size_t off, size_t other)
{
	struct rcursor a, b;

	rc_init(&a, p + off, 4);
	rc_init(&b, p + other, 4);
	uint32_t sa = rc_u32(&a), sb = rc_u32(&b);
	int32_t d = (int32_t)(sa - sb); /* modular: correct across the 2036 wrap */

	return d >= -LAYOUT_MAX_SKEW_S && d <= LAYOUT_MAX_SKEW_S;
}

static uint32_t be32_at(const uint8_t *p, size_t off)
{
	struct rcursor c;

	rc_init(&c, p + off, 4);
	return rc_u32(&c);
}

static uint64_t be64_at(const uint8_t *p, size_t off)
{
	struct rcursor c;

	rc_init(&c, p + off, 8);
	return rc_u64(&c);
}

/*
 * Reflector layout test.  Open (RFC 5357 §4.2.1): T3 at 4, T2 at 16,
 * Sender Timestamp at 28.  Authenticated (§4.2.1 auth): T3 at 16, T2 at 32,
 * Sender Timestamp at 64, with the first block encrypted.  T2 must be
 * non-zero so an all-zero padded request never passes as a reply.
 */
static enum capture_layout reply_layout(const uint8_t *p, size_t len, size_t cap)
{
	if (len >= TWAMP_MIN_REPLY_OPEN && cap >= 36 && be32_at(p, 16) != 0 &&
	    (ntp_secs_close(p, 4, 16) || ntp_secs_close(p, 28, 16)))
		return CAPTURE_LAYOUT_OPEN;
	if (len >= TWAMP_MIN_REPLY_AUTH && cap >= 72 && be32_at(p, 32) != 0 &&
	    ntp_secs_close(p, 16, 32))
		return CAPTURE_LAYOUT_AUTH;
	return CAPTURE_LAYOUT_OPAQUE;
}

static int parse_udp(struct rcursor *c, const struct l4_span *l4, const struct capture_ports *ports,
		     struct capture_obs *o)
{
	o->sport = rc_u16(c);
	o->dport = rc_u16(c);
	size_t ulen = rc_u16(c);
	rc_skip(c, 2); /* checksum */
	if (c->bad || ulen < 8 || (ulen > l4->wire && !l4->first_frag))
		return -EBADMSG;

	bool to = capture_ports_has(ports, o->dport), from = capture_ports_has(ports, o->sport);
	if (!to && !from)
		return 0;

	size_t len = ulen - 8;
	size_t cap = l4->cap - 8 < len ? l4->cap - 8 : len;
	const uint8_t *p = rc_ptr(c, cap);
	if (!p)
		return -EBADMSG;
	o->payload_len = len;
	o->payload_caplen = cap;
	if (len < TWAMP_MIN_REQUEST)
		return -EBADMSG; /* not a TWAMP-Test packet of any mode */
	o->stamp = len == 44;

	enum capture_layout lay = reply_layout(p, len, cap);
	if (from && (!to || lay != CAPTURE_LAYOUT_OPAQUE)) {
		o->kind = CAPTURE_TWAMP_REPLY;
		o->layout = lay;
		if (lay == CAPTURE_LAYOUT_OPEN) {
			o->seq_known = true;
			o->seq = be32_at(p, 24);
			o->ts_known = true;
			o->ts = be64_at(p, 28);
		} else if (lay == CAPTURE_LAYOUT_AUTH) {
			o->ts_known = true;
			o->ts = be64_at(p, 64);
		}
		return 0;
	}
	if (cap < 4)
		return -EBADMSG; /* a request without its identity cannot be matched */
	o->kind = CAPTURE_TWAMP_REQUEST;
	o->seq_known = true;
	o->seq = be32_at(p, 0);
	if (cap >= 12) {
		o->ts_known = true;
		o->ts = be64_at(p, 4);
	}
	if (len >= TWAMP_MIN_REQUEST_AUTH && cap >= 24) {
		o->ts_auth_known = true;
		o->ts_auth = be64_at(p, 16);
	}
	return 0;
}

static int parse_icmp(struct rcursor *c, const struct l4_span *l4, bool v6, struct capture_obs *o)
{
	uint8_t type = rc_u8(c);

	rc_skip(c, 3); /* code, checksum */
	uint16_t id = rc_u16(c);
	uint16_t seq = rc_u16(c);
	if (c->bad || l4->wire < 8)
		return -EBADMSG;
	if (type == (v6 ? 128 : 8))
		o->kind = CAPTURE_ICMP_REQUEST;
	else if (type == (v6 ? 129 : 0))
		o->kind = CAPTURE_ICMP_REPLY;
	else
		return 0;
	o->icmp_id = id;
	o->seq_known = true;
	o->seq = seq;
	o->payload_len = l4->wire;
	o->payload_caplen = l4->cap;
	return 0;
}

int capture_parse_frame(int linktype, const uint8_t *frame, size_t caplen, size_t wirelen,
			const struct capture_ports *ports, struct capture_obs *out)
{
	struct rcursor c;
	struct l4_span l4;
	int ipv, rc;

	if (!out || (!frame && caplen) || !ports)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&l4, 0, sizeof(l4));
	if (caplen > wirelen)
		return -EBADMSG;
	rc_init(&c, frame, caplen);
	rc = parse_link(linktype, &c, &ipv);
	if (rc < 0 || ipv == 0)
		return rc;

	size_t l3_wire = wirelen - c.pos;
	rc = ipv == 4 ? parse_ipv4(&c, l3_wire, out, &l4) : parse_ipv6(&c, l3_wire, out, &l4);
	if (rc < 0)
		goto bad;

	/* the transport header, bounded by both the capture and the IP length */
	struct rcursor t;
	rc_init(&t, c.p + c.pos, l4.cap);
	if (l4.proto == IPPROTO_UDP_)
		rc = parse_udp(&t, &l4, ports, out);
	else if (l4.proto == (ipv == 4 ? IPPROTO_ICMP_ : IPPROTO_ICMPV6_))
		rc = parse_icmp(&t, &l4, ipv == 6, out);
	if (rc == 0)
		return 0;
bad:
	out->kind = CAPTURE_OTHER;
	out->seq_known = out->ts_known = out->ts_auth_known = false;
	out->layout = CAPTURE_LAYOUT_NONE;
	return -EBADMSG;
}

/* --- filter and spec ------------------------------------------------------------ */

static int append(char *buf, size_t len, size_t *pos, const char *s)
{
	size_t n = strlen(s);

	if (*pos + n + 1 > len)
		return -ENOSPC;
	memcpy(buf + *pos, s, n + 1);
	*pos += n;
	return 0;
}

static int filter_body(const struct capture_ports *ports, char *buf, size_t len, size_t *pos)
{
	char tmp[32];
	int rc = append(buf, len, pos, "(udp and (");

	for (size_t i = 0; rc == 0 && i < ports->n; i++) {
		snprintf(tmp, sizeof(tmp), "%sport %u", i ? " or " : "", ports->port[i]);
		rc = append(buf, len, pos, tmp);
	}
	if (rc == 0)
		rc = append(buf, len, pos,
			    ")) or (icmp and (icmp[0] == 8 or icmp[0] == 0))"
			    " or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))");
	return rc;
}

int capture_filter_text(const struct capture_ports *ports, bool vlan, char *buf, size_t len)
{
	size_t pos = 0;
	int rc;

	if (!ports || ports->n == 0 || ports->n > CAPTURE_MAX_PORTS || !buf || len == 0)
		return -EINVAL;
	buf[0] = '\0';
	rc = filter_body(ports, buf, len, &pos);
	if (rc == 0 && vlan) {
		/* "vlan" shifts the offsets of what follows it, hence the second copy */
		rc = append(buf, len, &pos, " or (vlan and (");
		if (rc == 0)
			rc = filter_body(ports, buf, len, &pos);
		if (rc == 0)
			rc = append(buf, len, &pos, "))");
	}
	if (rc < 0)
		buf[0] = '\0';
	return rc;
}

static bool bad_name(const char *s, size_t n)
{
	if (n == 0)
		return true;
	if ((n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
		return true;
	return memchr(s, '/', n) != NULL;
}

int capture_split_spec(const char *spec, char *iface, size_t iface_len, char *netns,
		       size_t netns_len)
{
	if (!spec || !iface || !netns || iface_len == 0 || netns_len == 0)
		return -EINVAL;
	const char *at = strrchr(spec, '@');
	size_t ilen = at ? (size_t)(at - spec) : strlen(spec);

	if (bad_name(spec, ilen) || ilen >= iface_len || ilen >= 16 /* IFNAMSIZ */)
		return -EINVAL;
	memcpy(iface, spec, ilen);
	iface[ilen] = '\0';
	netns[0] = '\0';
	if (!at)
		return 0;
	const char *ns = at + 1;
	size_t nlen = strlen(ns);
	if (nlen == 0 || nlen >= netns_len)
		return -EINVAL;
	if (ns[0] == '/') {
		if (strstr(ns, "/../") || (nlen >= 3 && strcmp(ns + nlen - 3, "/..") == 0))
			return -EINVAL;
	} else if (bad_name(ns, nlen) || nlen > NAME_MAX) {
		return -EINVAL;
	}
	memcpy(netns, ns, nlen + 1);
	return 0;
}

/* --- handles ---------------------------------------------------------------- */

struct capture_handle {
	char *name;              /* file path or IFACE[@NETNS], for messages */
	pcap_t *pcap;
	pcap_dumper_t *dump;
	bool file;
	bool nano;
	int fd;
	int linktype;
	const char *precision;
};

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Enters the namespace; *saved receives our own for netns_leave. */
/* setns(2) through syscall(2): the glibc prototype lives in the shadowed <sched.h>. */
static int do_setns(int fd)
{
	return (int)syscall(SYS_setns, fd, CLONE_NEWNET);
}

static int netns_enter(const char *ns, int *saved, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];
	int rc;

	if (ns[0] == '/')
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/var/run/netns/%s", ns);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		if (rc == -ENOENT)
			seterr(err, errlen, "no network namespace %s (%s not found)", ns, path);
		else
			seterr(err, errlen, "cannot open network namespace %s: %s", ns, strerror(-rc));
		return rc;
	}
	*saved = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (*saved < 0) {
		rc = -errno;
		seterr(err, errlen, "cannot open %s: %s", "/proc/self/ns/net", strerror(-rc));
		close(fd);
		return rc;
	}
	if (do_setns(fd) != 0) {
		rc = -errno;
		seterr(err, errlen, "cannot enter network namespace %s: %s%s", ns, strerror(-rc),
		       rc == -EPERM ? " (needs CAP_SYS_ADMIN)" : "");
		close(fd);
		close(*saved);
		return rc;
	}
	close(fd);
	return 0;
}

static int netns_leave(int saved)
{
	int rc = do_setns(saved) != 0 ? -errno : 0;

	close(saved);
	return rc;
}

static int map_activate(int st, pcap_t *p, const char *iface, char *err, size_t errlen)
{
	switch (st) {
	case PCAP_ERROR_NO_SUCH_DEVICE:
		seterr(err, errlen, "no such interface %s", iface);
		return -ENODEV;
	case PCAP_ERROR_PERM_DENIED:
	case PCAP_ERROR_PROMISC_PERM_DENIED:
		seterr(err, errlen, "no permission to capture on %s (needs root or CAP_NET_RAW)",
		       iface);
		return -EPERM;
	case PCAP_ERROR_IFACE_NOT_UP:
		seterr(err, errlen, "interface %s is down", iface);
		return -ENETDOWN;
	default:
		seterr(err, errlen, "cannot capture on %s: %s", iface, pcap_geterr(p));
		return -EIO;
	}
}

static int set_filter(struct capture_handle *h, const struct capture_ports *ports,
		      const char *iface, char *err, size_t errlen)
{
	char text[2048];
	struct bpf_program prog;
	int rc = capture_filter_text(ports, h->linktype == DLT_EN10MB, text, sizeof(text));

	if (rc < 0) {
		seterr(err, errlen, "cannot build the capture filter for %s", iface);
		return rc;
	}
	if (pcap_compile(h->pcap, &prog, text, 1, PCAP_NETMASK_UNKNOWN) != 0) {
		seterr(err, errlen, "bad capture filter for %s: %s", iface, pcap_geterr(h->pcap));
		return -EINVAL;
	}
	rc = pcap_setfilter(h->pcap, &prog);
	pcap_freecode(&prog);
	if (rc != 0) {
		seterr(err, errlen, "cannot set the capture filter on %s: %s", iface,
		       pcap_geterr(h->pcap));
		return -EIO;
	}
	return 0;
}

/* pcap_create..pcap_activate, run inside the target namespace when there is one. */
static int open_activate(struct capture_handle *h, const char *iface, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";

	h->pcap = pcap_create(iface, ebuf);
	if (!h->pcap) {
		seterr(err, errlen, "cannot capture on %s: %s", iface, ebuf);
		return -ENOMEM;
	}
	pcap_set_snaplen(h->pcap, CAPTURE_SNAPLEN);
	pcap_set_promisc(h->pcap, 1);
	pcap_set_timeout(h->pcap, 10);
	pcap_set_buffer_size(h->pcap, 4 << 20);
	/* without it TPACKET_V3 holds frames until a block fills or times out */
	pcap_set_immediate_mode(h->pcap, 1);
#ifdef PCAP_TSTAMP_PRECISION_NANO
	(void)pcap_set_tstamp_precision(h->pcap, PCAP_TSTAMP_PRECISION_NANO);
#endif
	int st = pcap_activate(h->pcap);
	if (st < 0)
		return map_activate(st, h->pcap, iface, err, errlen);
	return 0;
}

int capture_open_live(const char *spec, const struct capture_ports *ports,
		      struct capture_handle **out, char *err, size_t errlen)
{
	char iface[64], ns[PATH_MAX];
	char ebuf[PCAP_ERRBUF_SIZE];
	int rc, saved = -1;

	if (err && errlen)
		err[0] = '\0';
	if (!spec || !ports || !out)
		return -EINVAL;
	*out = NULL;
	if (capture_split_spec(spec, iface, sizeof(iface), ns, sizeof(ns)) < 0) {
		seterr(err, errlen, "bad interface %s (IFACE or IFACE@NETNS)", spec);
		return -EINVAL;
	}
	struct capture_handle *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = -1;
	h->name = strdup(spec);
	if (!h->name) {
		free(h);
		return -ENOMEM;
	}
	if (ns[0]) {
		rc = netns_enter(ns, &saved, err, errlen);
		if (rc < 0) {
			capture_close(h);
			return rc;
		}
	}
	rc = open_activate(h, iface, err, errlen);
	if (saved >= 0) {
		int back = netns_leave(saved);
		if (back < 0 && rc == 0) {
			seterr(err, errlen, "cannot return from network namespace %s: %s", ns,
			       strerror(-back));
			rc = back;
		}
	}
	if (rc < 0)
		goto fail;
	h->linktype = pcap_datalink(h->pcap);
#ifdef PCAP_TSTAMP_PRECISION_NANO
	h->nano = pcap_get_tstamp_precision(h->pcap) == PCAP_TSTAMP_PRECISION_NANO;
#endif
	h->precision = h->nano ? "nano" : "micro";
	if (!capture_linktype_supported(h->linktype)) {
		char lb[32];
		seterr(err, errlen, "%s: link type %s is not supported", spec,
		       capture_linktype_name(h->linktype, lb, sizeof(lb)));
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	rc = set_filter(h, ports, spec, err, errlen);
	if (rc < 0)
		goto fail;
	if (pcap_setnonblock(h->pcap, 1, ebuf) != 0) {
		seterr(err, errlen, "cannot make the capture on %s non-blocking: %s", spec, ebuf);
		rc = -EIO;
		goto fail;
	}
	h->fd = pcap_get_selectable_fd(h->pcap);
	if (h->fd < 0) {
		seterr(err, errlen, "capture on %s has no pollable descriptor", spec);
		rc = -EIO;
		goto fail;
	}
	*out = h;
	return 0;
fail:
	capture_close(h);
	return rc;
}

/* pcapng fields are in the byte order of their section. */
static uint32_t ng_u32(const uint8_t *p, bool le)
{
	struct rcursor c;
	uint8_t q[4] = { p[3], p[2], p[1], p[0] };

	rc_init(&c, le ? q : p, 4);
	return rc_u32(&c);
}

static uint16_t ng_u16(const uint8_t *p, bool le)
{
	struct rcursor c;
	uint8_t q[2] = { p[1], p[0] };

	rc_init(&c, le ? q : p, 2);
	return rc_u16(&c);
}

/*
 * Native resolution of a capture file: pcap says it in the magic number,
 * pcapng in the if_tsresol option (9) of its first Interface Description
 * Block (default 10^-6).  Read with a cursor over the first octets.
 */
static const char *file_precision(FILE *f)
{
	uint8_t b[512];
	size_t n = fread(b, 1, sizeof(b), f);
	struct rcursor c;

	rewind(f);
	rc_init(&c, b, n);
	uint32_t magic = rc_u32(&c);
	if (magic == 0xa1b23c4d || magic == 0x4d3cb2a1)
		return "nano";
	if (magic != 0x0a0d0d0a)
		return "micro";
	const uint8_t *lp = rc_ptr(&c, 4); /* block total length */
	uint32_t bom = rc_u32(&c);
	if (!lp || (bom != 0x1a2b3c4d && bom != 0x4d3c2b1a))
		return "micro";
	bool le = bom == 0x4d3c2b1a;
	uint32_t shb_len = ng_u32(lp, le);
	if (shb_len < 28 || shb_len > n)
		return "micro";
	rc_init(&c, b + shb_len, n - shb_len);
	if (!rc_ptr(&c, 16)) /* IDB type, length, linktype, reserved, snaplen */
		return "micro";
	for (int i = 0; i < 32; i++) {
		const uint8_t *o = rc_ptr(&c, 4);
		if (!o)
			break;
		uint16_t code = ng_u16(o, le), olen = ng_u16(o + 2, le);
		if (code == 0)
			break;
		const uint8_t *v = rc_ptr(&c, olen);
		if (!v)
			break;
		rc_skip(&c, (4 - olen % 4) % 4);
		if (code == 9 && olen >= 1)
			return v[0] == 9 ? "nano" : v[0] == 6 ? "micro" : "other";
	}
	return "micro";
}

int capture_open_file(const char *path, struct capture_handle **out, char *err, size_t errlen)
{
	char ebuf[PCAP_ERRBUF_SIZE] = "";
	struct stat st;
	int rc;

	if (err && errlen)
		err[0] = '\0';
	if (!path || !out)
		return -EINVAL;
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f) {
		rc = -errno;
		seterr(err, errlen, "cannot open %s: %s", path, strerror(-rc));
		return rc;
	}
	if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		fclose(f);
		return -EISDIR;
	}
	struct capture_handle *h = calloc(1, sizeof(*h));
	if (!h) {
		fclose(f);
		return -ENOMEM;
	}
	h->fd = -1;
	h->file = true;
	h->name = strdup(path);
	if (!h->name) {
		fclose(f);
		free(h);
		return -ENOMEM;
	}
	h->precision = file_precision(f);
#ifdef PCAP_TSTAMP_PRECISION_NANO
	h->pcap = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, ebuf);
	h->nano = true;
#else
	h->pcap = pcap_fopen_offline(f, ebuf);
#endif
	if (!h->pcap) {
		/* libpcap: "truncated dump file; ...", "unknown file format", ... */
		seterr(err, errlen, "%s: %s", path, ebuf[0] ? ebuf : "not a pcap or pcapng file");
		fclose(f);
		capture_close(h);
		return -EBADMSG;
	}
	h->linktype = pcap_datalink(h->pcap);
	if (!capture_linktype_supported(h->linktype)) {
		char lb[32];
		seterr(err, errlen, "%s: link type %s is not supported", path,
		       capture_linktype_name(h->linktype, lb, sizeof(lb)));
		capture_close(h);
		return -EPROTONOSUPPORT;
	}
	*out = h;
	return 0;
}

int capture_next(struct capture_handle *h, struct capture_frame *f, char *err, size_t errlen)
{
	struct pcap_pkthdr *hdr;
	const u_char *data;

	if (!h || !f)
		return -EINVAL;
	int st = pcap_next_ex(h->pcap, &hdr, &data);
	if (st == 1) {
		int64_t frac = (int64_t)hdr->ts.tv_usec;
		f->data = data;
		f->caplen = hdr->caplen;
		f->wirelen = hdr->len < hdr->caplen ? hdr->caplen : hdr->len;
		f->ts_ns = (int64_t)hdr->ts.tv_sec * TS_NSEC_PER_SEC + (h->nano ? frac : frac * 1000);
		if (h->dump)
			pcap_dump((u_char *)h->dump, hdr, data);
		return 1;
	}
	if (st == 0 || st == PCAP_ERROR_BREAK)
		return 0;
	const char *msg = pcap_geterr(h->pcap);
	seterr(err, errlen, "%s: %s", h->name, msg);
	if (h->file)
		return -EBADMSG;
	return strstr(msg, "went down") || strstr(msg, "disappeared") || strstr(msg, "No such device")
		       ? -ENETDOWN
		       : -EIO;
}

int capture_fd(const struct capture_handle *h)
{
	return h ? h->fd : -1;
}

int capture_linktype(const struct capture_handle *h)
{
	return h ? h->linktype : -1;
}

bool capture_is_file(const struct capture_handle *h)
{
	return h && h->file;
}

const char *capture_precision_name(const struct capture_handle *h)
{
	return h && h->precision ? h->precision : "micro";
}

int capture_dump_open(struct capture_handle *h, const char *path, char *err, size_t errlen)
{
	if (!h || !path)
		return -EINVAL;
	if (h->dump)
		return -EALREADY;
	h->dump = pcap_dump_open(h->pcap, path);
	if (!h->dump) {
		seterr(err, errlen, "cannot write %s: %s", path, pcap_geterr(h->pcap));
		return -EIO;
	}
	return 0;
}

int capture_stats(struct capture_handle *h, uint64_t *received, uint64_t *dropped)
{
	struct pcap_stat ps;

	if (!h)
		return -EINVAL;
	if (h->file)
		return -ENOTSUP;
	if (pcap_stats(h->pcap, &ps) != 0)
		return -EIO;
	if (received)
		*received = ps.ps_recv;
	if (dropped)
		*dropped = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
	return 0;
}

void capture_close(struct capture_handle *h)
{
	if (!h)
		return;
	if (h->dump) {
		pcap_dump_flush(h->dump);
		pcap_dump_close(h->dump);
	}
	if (h->pcap)
		pcap_close(h->pcap);
	free(h->name);
	free(h);
}
