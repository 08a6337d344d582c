/*
 * Tests of common/capture.c: the frame parser on hand-built frames of every
 * supported link type (IPv4/IPv6, TWAMP request and reply, ICMP and ICMPv6
 * echo, VLAN tags, fragments, extension headers), cut at every length and
 * with bogus length fields; the filter and IFACE@NETNS helpers; the file
 * handles (pcap, hand-written pcapng, missing/truncated/garbage files,
 * dumps); and the whole chain file -> parser -> matcher on the reference
 * captures of tests/data/pcaps, whose per-probe RTTs are recomputed here
 * from the raw pcap records without the parser.
 */
#include <errno.h>
#include <fcntl.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "capture.h"
#include "capture_match.h"
#include "cursor.h"

#define T_SECS 0xeeb401aeu /* NTP seconds of the reference captures (2026) */

static const uint8_t SRC4[4] = { 198, 18, 10, 1 };
static const uint8_t DST4[4] = { 198, 18, 10, 2 };
static const uint8_t SRC6[16] = { 0xfd, 0, 0x18, 0x10, [15] = 1 };
static const uint8_t DST6[16] = { 0xfd, 0, 0x18, 0x10, [15] = 2 };

/* --- frame builders ----------------------------------------------------------- */

struct frame {
	uint8_t b[600];
	size_t len;
	size_t l4;      /* offset of the transport header */
	size_t payload; /* offset of the UDP payload / ICMP message body */
};

struct build {
	int dlt;
	int ipv;          /* 4 or 6 */
	int vlans;        /* 802.1Q tags (EN10MB, SLL) */
	uint8_t proto;    /* 17, 1, 58 */
	uint16_t frag;    /* IPv4 flags+offset word */
	int v6_ext;       /* 1: hop-by-hop + dest options, 2: fragment offset 0, 3: offset 8 */
	size_t pad_to;    /* Ethernet padding: frame at least this long */
};

/* Link header for the IP version; returns false for link types without a header slot. */
static void put_link(struct wcursor *w, const struct build *b)
{
	uint16_t etype = b->ipv == 4 ? 0x0800 : 0x86dd;

	switch (b->dlt) {
	case DLT_EN10MB:
		wc_zero(w, 12);
		for (int i = 0; i < b->vlans; i++) {
			wc_u16(w, i == 0 && b->vlans > 1 ? 0x88a8 : 0x8100);
			wc_u16(w, (uint16_t)(100 + i));
		}
		wc_u16(w, etype);
		break;
	case DLT_LINUX_SLL:
		wc_u16(w, 0);   /* packet type: to us */
		wc_u16(w, 1);   /* ARPHRD_ETHER */
		wc_u16(w, 6);
		wc_zero(w, 8);
		for (int i = 0; i < b->vlans; i++) {
			wc_u16(w, 0x8100);
			wc_u16(w, (uint16_t)(100 + i));
		}
		wc_u16(w, etype);
		break;
	case DLT_LINUX_SLL2:
		wc_u16(w, etype);
		wc_u16(w, 0);
		wc_u32(w, 7);   /* ifindex */
		wc_u16(w, 1);
		wc_u8(w, 4);    /* outgoing */
		wc_u8(w, 6);
		wc_zero(w, 8);
		break;
	case DLT_NULL: /* little-endian capturer: AF_INET 2, Darwin AF_INET6 30 big-endian */
		if (b->ipv == 4) {
			wc_u8(w, 2);
			wc_zero(w, 3);
		} else {
			wc_u32(w, 30);
		}
		break;
	case DLT_LOOP:
		wc_u32(w, b->ipv == 4 ? 2 : 24);
		break;
	default: /* RAW, IPV4, IPV6 */
		break;
	}
}

static void build_frame(const struct build *b, const uint8_t *l4, size_t l4len, struct frame *f)
{
	struct wcursor w;

	memset(f, 0, sizeof(*f));
	wc_init(&w, f->b, sizeof(f->b));
	put_link(&w, b);
	if (b->ipv == 4) {
		wc_u8(&w, 0x45);
		wc_u8(&w, 0);
		wc_u16(&w, (uint16_t)(20 + l4len));
		wc_u16(&w, 0x1234);
		wc_u16(&w, b->frag);
		wc_u8(&w, 64);
		wc_u8(&w, b->proto);
		wc_u16(&w, 0);
		wc_bytes(&w, SRC4, 4);
		wc_bytes(&w, DST4, 4);
	} else {
		size_t ext = b->v6_ext == 1 ? 16 : b->v6_ext >= 2 ? 8 : 0;
		wc_u32(&w, 0x60000000);
		wc_u16(&w, (uint16_t)(l4len + ext));
		wc_u8(&w, b->v6_ext == 1 ? 0 : b->v6_ext >= 2 ? 44 : b->proto);
		wc_u8(&w, 255);
		wc_bytes(&w, SRC6, 16);
		wc_bytes(&w, DST6, 16);
		if (b->v6_ext == 1) {
			wc_u8(&w, 60); /* hop-by-hop -> destination options */
			wc_u8(&w, 0);
			wc_u8(&w, 1);  /* PadN, 4 octets */
			wc_u8(&w, 4);
			wc_zero(&w, 4);
			wc_u8(&w, b->proto);
			wc_u8(&w, 0);
			wc_u8(&w, 1);
			wc_u8(&w, 4);
			wc_zero(&w, 4);
		} else if (b->v6_ext >= 2) {
			wc_u8(&w, b->proto);
			wc_u8(&w, 0);
			wc_u16(&w, b->v6_ext == 3 ? (uint16_t)(1 << 3) : 1); /* offset 8 / M flag */
			wc_u32(&w, 0xabcd);
		}
	}
	f->l4 = w.pos;
	wc_bytes(&w, l4, l4len);
	while (w.pos < b->pad_to)
		wc_u8(&w, 0);
	assert_false(w.bad);
	f->len = w.pos;
	f->payload = f->l4 + 8;
}

static size_t udp(uint16_t sport, uint16_t dport, const uint8_t *p, size_t n, uint8_t *out)
{
	struct wcursor w;

	wc_init(&w, out, 8 + n);
	wc_u16(&w, sport);
	wc_u16(&w, dport);
	wc_u16(&w, (uint16_t)(8 + n));
	wc_u16(&w, 0);
	wc_bytes(&w, p, n);
	return w.pos;
}

static size_t icmp(uint8_t type, uint16_t id, uint16_t seq, uint8_t *out)
{
	struct wcursor w;

	wc_init(&w, out, 16);
	wc_u8(&w, type);
	wc_u8(&w, 0);
	wc_u16(&w, 0);
	wc_u16(&w, id);
	wc_u16(&w, seq);
	wc_u32(&w, 0xdeadbeef); /* data */
	wc_u32(&w, 0x01020304);
	return w.pos;
}

/* Unauthenticated sender packet (B1): seq, T1, EE, padding. */
static size_t twamp_request(uint32_t seq, size_t len, uint8_t *out)
{
	struct wcursor w;

	wc_init(&w, out, len);
	wc_u32(&w, seq);
	wc_u32(&w, T_SECS);
	wc_u32(&w, 0x11223344);
	wc_u16(&w, 0x0001);
	wc_zero(&w, len - 14);
	return w.pos;
}

/* Unauthenticated reflector packet (C4): T3 and T2 one second apart. */
static size_t twamp_reply(uint32_t sender_seq, size_t len, uint8_t *out)
{
	struct wcursor w;

	wc_init(&w, out, len);
	wc_u32(&w, 99);           /* reflector seq */
	wc_u32(&w, T_SECS + 1);   /* T3 */
	wc_u32(&w, 0);
	wc_u16(&w, 0x0001);
	wc_u16(&w, 0);
	wc_u32(&w, T_SECS);       /* T2 */
	wc_u32(&w, 0x80000000);
	wc_u32(&w, sender_seq);   /* 24 */
	wc_u32(&w, T_SECS);       /* Sender Timestamp 28 */
	wc_u32(&w, 0x11223344);
	wc_u16(&w, 0x0001);
	wc_u16(&w, 0);
	wc_u8(&w, 255);           /* Sender TTL 40 */
	if (len > 41)
		wc_zero(&w, len - 41);
	return w.pos;
}

static struct capture_ports ports_862(void)
{
	struct capture_ports p = { .n = 0 };

	assert_int_equal(capture_ports_add(&p, 862), 0);
	return p;
}

static int parse(const struct frame *f, int dlt, size_t caplen, size_t wirelen,
		 struct capture_obs *o)
{
	struct capture_ports p = ports_862();

	return capture_parse_frame(dlt, f->b, caplen, wirelen, &p, o);
}

/* --- parser: every link type ------------------------------------------------------ */

static const int all_dlts[] = { DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL,
				DLT_LOOP, DLT_RAW };

/* B1: the request's identity is its Sequence Number at 0, T1 at 4. */
static void test_request_every_link_type(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80];
	size_t n = udp(40000, 862, pl, twamp_request(7, 41, pl), l4);

	for (int v = 4; v <= 6; v += 2) {
		for (size_t i = 0; i < sizeof(all_dlts) / sizeof(all_dlts[0]); i++) {
			struct build b = { .dlt = all_dlts[i], .ipv = v, .proto = 17 };
			struct frame f;
			struct capture_obs o;
			build_frame(&b, l4, n, &f);
			assert_int_equal(parse(&f, b.dlt, f.len, f.len, &o), 0);
			assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
			assert_int_equal(o.family, v == 4 ? AF_INET : AF_INET6);
			assert_memory_equal(o.src, v == 4 ? SRC4 : SRC6, v == 4 ? 4 : 16);
			assert_memory_equal(o.dst, v == 4 ? DST4 : DST6, v == 4 ? 4 : 16);
			assert_int_equal(o.sport, 40000);
			assert_int_equal(o.dport, 862);
			assert_true(o.seq_known);
			assert_int_equal(o.seq, 7);
			assert_true(o.ts_known);
			assert_int_equal(o.ts, (uint64_t)T_SECS << 32 | 0x11223344);
			assert_false(o.ts_auth_known); /* 41 octets: not an auth layout */
			assert_int_equal(o.payload_len, 41);
			assert_int_equal(o.payload_caplen, 41);
			assert_int_equal(o.ttl, v == 4 ? 64 : 255);
			assert_int_equal(o.layout, CAPTURE_LAYOUT_NONE);
		}
	}
}

/* C4, C6: the reply names its request by the copied Sender Sequence Number at 24. */
static void test_reply_every_link_type(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80];
	size_t n = udp(862, 40000, pl, twamp_reply(7, 41, pl), l4);

	for (int v = 4; v <= 6; v += 2) {
		for (size_t i = 0; i < sizeof(all_dlts) / sizeof(all_dlts[0]); i++) {
			struct build b = { .dlt = all_dlts[i], .ipv = v, .proto = 17 };
			struct frame f;
			struct capture_obs o;
			build_frame(&b, l4, n, &f);
			assert_int_equal(parse(&f, b.dlt, f.len, f.len, &o), 0);
			assert_int_equal(o.kind, CAPTURE_TWAMP_REPLY);
			assert_int_equal(o.layout, CAPTURE_LAYOUT_OPEN);
			assert_true(o.seq_known);
			assert_int_equal(o.seq, 7);
			assert_true(o.ts_known);
			assert_int_equal(o.ts, (uint64_t)T_SECS << 32 | 0x11223344);
			assert_int_equal(o.sport, 862);
			assert_memory_equal(o.src, v == 4 ? SRC4 : SRC6, v == 4 ? 4 : 16);
		}
	}
}

static void test_raw_ip_link_types(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80];
	size_t n = udp(40000, 862, pl, twamp_request(3, 41, pl), l4);
	struct frame f4, f6;
	struct capture_obs o;
	struct build b4 = { .dlt = DLT_RAW, .ipv = 4, .proto = 17 };
	struct build b6 = { .dlt = DLT_RAW, .ipv = 6, .proto = 17 };

	build_frame(&b4, l4, n, &f4);
	build_frame(&b6, l4, n, &f6);
	assert_int_equal(parse(&f4, DLT_IPV4, f4.len, f4.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	assert_int_equal(parse(&f6, DLT_IPV6, f6.len, f6.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	/* a link type that promises one version and carries the other is not IP to us */
	assert_int_equal(parse(&f6, DLT_IPV4, f6.len, f6.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	assert_int_equal(parse(&f4, DLT_IPV6, f4.len, f4.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	/* version 5 in a raw frame */
	f4.b[0] = 0x55;
	assert_int_equal(parse(&f4, DLT_RAW, f4.len, f4.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	/* unsupported link types */
	assert_int_equal(parse(&f6, DLT_IEEE802_11, f6.len, f6.len, &o), -EPROTONOSUPPORT);
	assert_int_equal(parse(&f6, 9999, f6.len, f6.len, &o), -EPROTONOSUPPORT);
	assert_false(capture_linktype_supported(DLT_IEEE802_11));
	assert_true(capture_linktype_supported(DLT_LINUX_SLL2));
	char buf[16];
	assert_string_equal(capture_linktype_name(DLT_EN10MB, buf, sizeof(buf)), "EN10MB");
	assert_string_equal(capture_linktype_name(99999, buf, sizeof(buf)), "DLT 99999");
}

static void test_vlan_tags(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80];
	size_t n = udp(862, 40000, pl, twamp_reply(11, 41, pl), l4);

	for (int tags = 1; tags <= 2; tags++) {
		for (int v = 4; v <= 6; v += 2) {
			struct build b = { .dlt = DLT_EN10MB, .ipv = v, .vlans = tags, .proto = 17 };
			struct frame f;
			struct capture_obs o;
			build_frame(&b, l4, n, &f);
			assert_int_equal(f.l4, 14 + 4 * (size_t)tags + (v == 4 ? 20 : 40));
			assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
			assert_int_equal(o.kind, CAPTURE_TWAMP_REPLY);
			assert_int_equal(o.seq, 11);
		}
	}
	/* tagged SLL (VLAN not offloaded) */
	struct build b = { .dlt = DLT_LINUX_SLL, .ipv = 4, .vlans = 1, .proto = 17 };
	struct frame f;
	struct capture_obs o;
	build_frame(&b, l4, n, &f);
	assert_int_equal(parse(&f, DLT_LINUX_SLL, f.len, f.len, &o), 0);
	assert_int_equal(o.seq, 11);
	/* five stacked tags exceed the bound: not IP */
	struct build b5 = { .dlt = DLT_EN10MB, .ipv = 4, .vlans = 5, .proto = 17 };
	build_frame(&b5, l4, n, &f);
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
}

static void test_icmp_echo(void **state)
{
	(void)state;
	uint8_t l4[16];
	static const struct {
		int ipv;
		uint8_t type;
		enum capture_kind kind;
	} cases[] = {
		{ 4, 8, CAPTURE_ICMP_REQUEST },   { 4, 0, CAPTURE_ICMP_REPLY },
		{ 6, 128, CAPTURE_ICMP_REQUEST }, { 6, 129, CAPTURE_ICMP_REPLY },
		{ 4, 3, CAPTURE_OTHER },          /* destination unreachable */
		{ 6, 135, CAPTURE_OTHER },        /* neighbour solicitation */
		{ 6, 8, CAPTURE_OTHER },          /* ICMPv4 numbers mean nothing in ICMPv6 */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		for (size_t d = 0; d < sizeof(all_dlts) / sizeof(all_dlts[0]); d++) {
			struct build b = { .dlt = all_dlts[d], .ipv = cases[i].ipv,
					   .proto = cases[i].ipv == 4 ? 1 : 58 };
			struct frame f;
			struct capture_obs o;
			size_t n = icmp(cases[i].type, 0x1234, 42, l4);
			build_frame(&b, l4, n, &f);
			assert_int_equal(parse(&f, b.dlt, f.len, f.len, &o), 0);
			assert_int_equal(o.kind, cases[i].kind);
			if (cases[i].kind == CAPTURE_OTHER)
				continue;
			assert_int_equal(o.icmp_id, 0x1234);
			assert_true(o.seq_known);
			assert_int_equal(o.seq, 42);
			assert_int_equal(o.payload_len, 16);
		}
	}
	/* ICMP in IPv6 is 58, not 1: proto 1 over IPv6 is ignored */
	struct build b = { .dlt = DLT_RAW, .ipv = 6, .proto = 1 };
	struct frame f;
	struct capture_obs o;
	build_frame(&b, l4, icmp(128, 1, 1, l4), &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
}

/*
 * Cut at every length.  caplen < wirelen (snaplen): headers incomplete ->
 * -EBADMSG; a request needs its 4 Sequence Number octets; a reply whose
 * Sender Sequence Number/Timestamp (24..35) were not captured is paired by
 * order (OPAQUE).  caplen == wirelen (the frame itself is short): the IP
 * length then claims more than the wire carried -> -EBADMSG at every cut.
 */
static void test_truncated_every_length(void **state)
{
	(void)state;
	uint8_t pl[64], l4q[80], l4r[80];
	size_t nq = udp(40000, 862, pl, twamp_request(5, 41, pl), l4q);
	size_t nr = udp(862, 40000, pl, twamp_reply(5, 41, pl), l4r);

	for (int v = 4; v <= 6; v += 2) {
		for (size_t d = 0; d < sizeof(all_dlts) / sizeof(all_dlts[0]); d++) {
			struct build b = { .dlt = all_dlts[d], .ipv = v, .proto = 17, .vlans = 1 };
			struct frame fq, fr;
			build_frame(&b, l4q, nq, &fq);
			build_frame(&b, l4r, nr, &fr);
			for (size_t k = 0; k < fq.len; k++) {
				struct capture_obs o;
				/* exact-size copy: an over-read is an ASan error */
				uint8_t *cut = malloc(k ? k : 1);
				assert_non_null(cut);
				memcpy(cut, fq.b, k);
				struct capture_ports p = ports_862();
				int rc = capture_parse_frame(b.dlt, cut, k, fq.len, &p, &o);
				if (k < fq.payload + 4) {
					assert_int_equal(rc, -EBADMSG);
					assert_int_equal(o.kind, CAPTURE_OTHER);
				} else {
					assert_int_equal(rc, 0);
					assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
					assert_int_equal(o.seq, 5);
					assert_int_equal(o.ts_known, k >= fq.payload + 12);
					assert_int_equal(o.payload_caplen, k - fq.payload);
					assert_int_equal(o.payload_len, 41);
				}
				assert_int_equal(capture_parse_frame(b.dlt, cut, k, k, &p, &o), -EBADMSG);

				memcpy(cut, fr.b, k);
				rc = capture_parse_frame(b.dlt, cut, k, fr.len, &p, &o);
				if (k < fr.payload) {
					assert_int_equal(rc, -EBADMSG);
				} else {
					assert_int_equal(rc, 0);
					assert_int_equal(o.kind, CAPTURE_TWAMP_REPLY);
					bool full = k >= fr.payload + 36;
					assert_int_equal(o.seq_known, full);
					assert_int_equal(o.layout, full ? CAPTURE_LAYOUT_OPEN
									: CAPTURE_LAYOUT_OPAQUE);
				}
				assert_int_equal(capture_parse_frame(b.dlt, cut, k, k, &p, &o), -EBADMSG);
				free(cut);
			}
		}
	}
}

static void test_icmp_truncated(void **state)
{
	(void)state;
	uint8_t l4[16];
	struct build b = { .dlt = DLT_EN10MB, .ipv = 6, .proto = 58 };
	struct frame f;
	struct capture_obs o;

	build_frame(&b, l4, icmp(128, 9, 9, l4), &f);
	for (size_t k = 0; k <= f.len; k++) {
		int rc = parse(&f, DLT_EN10MB, k, f.len, &o);
		if (k < f.l4 + 8) {
			assert_int_equal(rc, -EBADMSG);
		} else {
			assert_int_equal(rc, 0);
			assert_int_equal(o.kind, CAPTURE_ICMP_REQUEST);
			assert_int_equal(o.payload_caplen, k - f.l4);
		}
	}
}

/* Ethernet pads short frames to 60 octets: the IP length, not the frame, bounds the datagram. */
static void test_ethernet_padding(void **state)
{
	(void)state;
	uint8_t pl[16], l4[32];
	size_t n = udp(40000, 862, pl, twamp_request(1, 14, pl), l4);
	struct build b = { .dlt = DLT_EN10MB, .ipv = 4, .proto = 17, .pad_to = 60 };
	struct frame f;
	struct capture_obs o;

	build_frame(&b, l4, n, &f);
	assert_int_equal(f.len, 60);
	f.b[f.len - 1] = 0xff; /* trailer garbage must not matter */
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	assert_int_equal(o.payload_len, 14);
	assert_int_equal(o.payload_caplen, 14);
	assert_true(o.ts_known);
}

static void test_bogus_lengths(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80];
	size_t n = udp(40000, 862, pl, twamp_request(1, 41, pl), l4);
	struct build b4 = { .dlt = DLT_RAW, .ipv = 4, .proto = 17 };
	struct build b6 = { .dlt = DLT_RAW, .ipv = 6, .proto = 17 };
	struct frame f, g;
	struct capture_obs o;

	build_frame(&b4, l4, n, &f);
	/* IHL below 5 */
	g = f;
	g.b[0] = 0x44;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	/* IHL 15: 60 octets of header, options run into the UDP header: lengths disagree */
	g = f;
	g.b[0] = 0x4f;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	/* IHL 15 in a frame shorter than 60 octets */
	assert_int_equal(parse(&g, DLT_RAW, 40, 40, &o), -EBADMSG);
	/* total length below the header length */
	g = f;
	g.b[2] = 0;
	g.b[3] = 19;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	/* total length beyond the wire */
	g = f;
	g.b[2] = 0xff;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	/* UDP length below 8 and beyond the IP payload */
	g = f;
	g.b[24] = 0;
	g.b[25] = 7;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	g = f;
	g.b[24] = 0;
	g.b[25] = (uint8_t)(8 + 41 + 1);
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	/* UDP length shorter than the IP payload is fine (trailing octets ignored), but a
	 * TWAMP payload under the 14-octet sender header is not TWAMP-Test (C30) */
	g = f;
	g.b[25] = (uint8_t)(8 + 13);
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	g.b[25] = (uint8_t)(8 + 14);
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), 0);
	assert_int_equal(o.payload_len, 14);
	/* a frame claiming more captured octets than the wire had */
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len - 1, &o), -EBADMSG);

	build_frame(&b6, l4, n, &f);
	/* IPv6 payload length beyond the frame, and 0 (jumbogram) */
	g = f;
	g.b[4] = 0xff;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	g = f;
	g.b[4] = 0;
	g.b[5] = 0;
	assert_int_equal(parse(&g, DLT_RAW, g.len, g.len, &o), -EBADMSG);
	/* version nibble 4 under an IPv6 ethertype */
	struct build be = { .dlt = DLT_EN10MB, .ipv = 6, .proto = 17 };
	build_frame(&be, l4, n, &g);
	g.b[14] = 0x45;
	assert_int_equal(parse(&g, DLT_EN10MB, g.len, g.len, &o), -EBADMSG);

	/* NULL arguments */
	struct capture_ports p = ports_862();
	assert_int_equal(capture_parse_frame(DLT_RAW, NULL, 4, 4, &p, &o), -EINVAL);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, NULL, &o), -EINVAL);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, &p, NULL), -EINVAL);
	assert_int_equal(capture_parse_frame(DLT_RAW, NULL, 0, 0, &p, &o), -EBADMSG);
}

static void test_fragments_and_extension_headers(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80];
	size_t n = udp(40000, 862, pl, twamp_request(8, 41, pl), l4);
	struct frame f;
	struct capture_obs o;

	/* IPv4 first fragment (MF, offset 0): header and payload present */
	struct build b = { .dlt = DLT_RAW, .ipv = 4, .proto = 17, .frag = 0x2000 };
	build_frame(&b, l4, n, &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	assert_int_equal(o.seq, 8);
	/* a first fragment of a long probe: the UDP length covers all fragments */
	f.b[24] = 0x03;
	f.b[25] = 0xe8; /* 1000 */
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	assert_int_equal(o.payload_len, 992);
	assert_int_equal(o.payload_caplen, 41);
	/* the same without MF: the UDP length contradicts the datagram */
	f.b[6] = 0;
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), -EBADMSG);
	/* later fragment: no UDP header in it */
	b.frag = 0x0005;
	build_frame(&b, l4, n, &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	assert_true(o.fragment);
	/* DF is not a fragment */
	b.frag = 0x4000;
	build_frame(&b, l4, n, &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);

	/* IPv6: hop-by-hop + destination options, then UDP */
	struct build b6 = { .dlt = DLT_EN10MB, .ipv = 6, .proto = 17, .v6_ext = 1 };
	build_frame(&b6, l4, n, &f);
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	assert_int_equal(o.seq, 8);
	for (size_t k = 0; k < f.l4 + 8; k++)
		assert_int_equal(parse(&f, DLT_EN10MB, k, f.len, &o), -EBADMSG);
	/* fragment header, offset 0 and M: parsed through, UDP length beyond the fragment */
	b6.v6_ext = 2;
	build_frame(&b6, l4, n, &f);
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	f.b[14 + 40 + 8 + 4] = 0x05; /* UDP length 0x05xx */
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
	assert_int_equal(o.payload_len, 0x0531 - 8);
	assert_int_equal(o.payload_caplen, 41);
	/* fragment header, offset 8: skipped */
	b6.v6_ext = 3;
	build_frame(&b6, l4, n, &f);
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	assert_true(o.fragment);
	/* an extension header longer than the payload */
	b6.v6_ext = 1;
	build_frame(&b6, l4, n, &f);
	f.b[14 + 40 + 1] = 200;
	assert_int_equal(parse(&f, DLT_EN10MB, f.len, f.len, &o), -EBADMSG);
	/* a chain of nine destination-options headers exceeds the bound */
	{
		uint8_t big[14 + 40 + 9 * 8 + 80];
		struct wcursor w;
		wc_init(&w, big, sizeof(big));
		wc_zero(&w, 12);
		wc_u16(&w, 0x86dd);
		wc_u32(&w, 0x60000000);
		wc_u16(&w, (uint16_t)(9 * 8 + n));
		wc_u8(&w, 60);
		wc_u8(&w, 64);
		wc_bytes(&w, SRC6, 16);
		wc_bytes(&w, DST6, 16);
		for (int i = 0; i < 9; i++) {
			wc_u8(&w, i == 8 ? 17 : 60);
			wc_u8(&w, 0);
			wc_zero(&w, 6);
		}
		wc_bytes(&w, l4, n);
		assert_false(w.bad);
		struct capture_ports p = ports_862();
		assert_int_equal(capture_parse_frame(DLT_EN10MB, big, w.pos, w.pos, &p, &o),
				 -EBADMSG);
	}
}

static void test_udp_classification(void **state)
{
	(void)state;
	uint8_t pl[128], l4[160];
	struct build b = { .dlt = DLT_RAW, .ipv = 4, .proto = 17 };
	struct frame f;
	struct capture_obs o;
	struct capture_ports p = { .n = 0 };

	assert_int_equal(capture_ports_add(&p, 862), 0);
	assert_int_equal(capture_ports_add(&p, 18762), 0);

	/* neither port is TWAMP: of no interest, but still well-formed */
	build_frame(&b, l4, udp(53, 40000, pl, twamp_request(1, 41, pl), l4), &f);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, &p, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	/* both ports TWAMP (862 -> 18762): a zero-padded request is a request */
	build_frame(&b, l4, udp(862, 18762, pl, twamp_request(1, 41, pl), l4), &f);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, &p, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	/* and a reflector packet is a reply */
	build_frame(&b, l4, udp(18762, 862, pl, twamp_reply(4, 41, pl), l4), &f);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, &p, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REPLY);
	assert_int_equal(o.seq, 4);
	/* STAMP base packets are 44 octets (RFC 8762) */
	build_frame(&b, l4, udp(862, 40000, pl, twamp_reply(4, 44, pl), l4), &f);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, &p, &o), 0);
	assert_true(o.stamp);
	assert_int_equal(o.seq, 4);
	/* TCP to port 862 (TWAMP-Control) is not a probe */
	struct build bt = { .dlt = DLT_RAW, .ipv = 4, .proto = 6 };
	build_frame(&bt, l4, udp(40000, 862, pl, twamp_request(1, 41, pl), l4), &f);
	assert_int_equal(capture_parse_frame(DLT_RAW, f.b, f.len, f.len, &p, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
	/* ARP on Ethernet */
	uint8_t arp[42] = { [12] = 0x08, [13] = 0x06 };
	assert_int_equal(capture_parse_frame(DLT_EN10MB, arp, 42, 60, &p, &o), 0);
	assert_int_equal(o.kind, CAPTURE_OTHER);
}

/* Reply layouts: open (C4), authenticated (C5, first block encrypted), short, encrypted. */
static void test_reply_layouts(void **state)
{
	(void)state;
	uint8_t pl[128], l4[160];
	struct build b = { .dlt = DLT_RAW, .ipv = 4, .proto = 17 };
	struct frame f;
	struct capture_obs o;
	struct wcursor w;

	/* authenticated reflector packet: T3 at 16, T2 at 32, sender seq 48, T1 at 64 */
	wc_init(&w, pl, 112);
	wc_u32(&w, 0x5a5a5a5a); /* encrypted seq + MBZ (ECB, B12/C18) */
	wc_u32(&w, 0x9e3779b9);
	wc_u32(&w, 0x7f4a7c15);
	wc_u32(&w, 0xf39cc060);
	wc_u32(&w, T_SECS + 1); /* T3 */
	wc_u32(&w, 5);
	wc_u16(&w, 1);
	wc_zero(&w, 6);
	wc_u32(&w, T_SECS);     /* T2 */
	wc_u32(&w, 6);
	wc_zero(&w, 8);
	wc_u32(&w, 3);          /* Sender Sequence Number in clear */
	wc_zero(&w, 12);
	wc_u32(&w, T_SECS);     /* Sender Timestamp */
	wc_u32(&w, 0xabcdef01);
	wc_u16(&w, 1);
	wc_zero(&w, 6);
	wc_u8(&w, 255);
	wc_zero(&w, 15);
	wc_zero(&w, 16);        /* HMAC */
	assert_false(w.bad);
	build_frame(&b, l4, udp(862, 40000, pl, 112, l4), &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REPLY);
	assert_int_equal(o.layout, CAPTURE_LAYOUT_AUTH);
	assert_false(o.seq_known); /* the request's own seq is encrypted: no common key */
	assert_true(o.ts_known);
	assert_int_equal(o.ts, (uint64_t)T_SECS << 32 | 0xabcdef01);
	/* the same, cut before the Sender Timestamp: opaque */
	assert_int_equal(parse(&f, DLT_RAW, f.payload + 71, f.len, &o), 0);
	assert_int_equal(o.layout, CAPTURE_LAYOUT_OPAQUE);

	/* encrypted (C19): all 96 octets look random */
	for (size_t i = 0; i < 112; i++)
		pl[i] = (uint8_t)(i * 37 + 11);
	build_frame(&b, l4, udp(862, 40000, pl, 112, l4), &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.layout, CAPTURE_LAYOUT_OPAQUE);
	assert_false(o.seq_known);
	assert_false(o.ts_known);

	/* twampy's 38-octet replies: shorter than the 41-octet header, paired by order */
	build_frame(&b, l4, udp(862, 40000, pl, twamp_reply(2, 41, pl) - 3, l4), &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REPLY);
	assert_int_equal(o.layout, CAPTURE_LAYOUT_OPAQUE);
	assert_false(o.seq_known);

	/* authenticated request (B2): T1 in clear at 16 */
	wc_init(&w, pl, 112);
	wc_u32(&w, 0x12345678);
	wc_zero(&w, 12);
	wc_u32(&w, T_SECS);
	wc_u32(&w, 0x55);
	wc_zero(&w, 112 - 24);
	build_frame(&b, l4, udp(40000, 862, pl, 112, l4), &f);
	assert_int_equal(parse(&f, DLT_RAW, f.len, f.len, &o), 0);
	assert_int_equal(o.kind, CAPTURE_TWAMP_REQUEST);
	assert_int_equal(o.seq, 0x12345678);
	assert_true(o.ts_auth_known);
	assert_int_equal(o.ts_auth, (uint64_t)T_SECS << 32 | 0x55);
}

/* --- ports, filter, spec ---------------------------------------------------------- */

static void test_ports(void **state)
{
	(void)state;
	struct capture_ports p = { .n = 0 };

	assert_int_equal(capture_ports_add(&p, 0), -EINVAL);
	assert_int_equal(capture_ports_add(NULL, 862), -EINVAL);
	assert_int_equal(capture_ports_add(&p, 862), 0);
	assert_int_equal(capture_ports_add(&p, 862), 0);
	assert_int_equal(p.n, 1);
	for (uint16_t i = 1; i < CAPTURE_MAX_PORTS; i++)
		assert_int_equal(capture_ports_add(&p, (uint16_t)(20000 + i)), 0);
	assert_int_equal(capture_ports_add(&p, 9), -ENOSPC);
	assert_true(capture_ports_has(&p, 20063));
	assert_false(capture_ports_has(&p, 9));
	assert_false(capture_ports_has(NULL, 862));
}

static void test_filter_text(void **state)
{
	(void)state;
	struct capture_ports p = ports_862();
	char buf[1024];
	struct bpf_program prog;

	assert_int_equal(capture_ports_add(&p, 18762), 0);
	assert_int_equal(capture_filter_text(&p, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "(udp and (port 862 or port 18762)) or (icmp and (icmp[0] == 8 or "
				 "icmp[0] == 0)) or (icmp6 and (ip6[40] == 128 or ip6[40] == 129))");
	/* both variants compile for Ethernet */
	pcap_t *dead = pcap_open_dead(DLT_EN10MB, CAPTURE_SNAPLEN);
	assert_non_null(dead);
	assert_int_equal(pcap_compile(dead, &prog, buf, 1, PCAP_NETMASK_UNKNOWN), 0);
	pcap_freecode(&prog);
	assert_int_equal(capture_filter_text(&p, true, buf, sizeof(buf)), 0);
	assert_non_null(strstr(buf, " or (vlan and ((udp and (port 862 or port 18762))"));
	assert_int_equal(pcap_compile(dead, &prog, buf, 1, PCAP_NETMASK_UNKNOWN), 0);
	pcap_freecode(&prog);
	pcap_close(dead);

	assert_int_equal(capture_filter_text(&p, false, buf, 20), -ENOSPC);
	assert_string_equal(buf, "");
	struct capture_ports none = { .n = 0 };
	assert_int_equal(capture_filter_text(&none, false, buf, sizeof(buf)), -EINVAL);
}

static void test_split_spec(void **state)
{
	(void)state;
	char i[32], n[64];

	assert_int_equal(capture_split_spec("eth0", i, sizeof(i), n, sizeof(n)), 0);
	assert_string_equal(i, "eth0");
	assert_string_equal(n, "");
	assert_int_equal(capture_split_spec("tk-c1v0@tk-c1vs", i, sizeof(i), n, sizeof(n)), 0);
	assert_string_equal(i, "tk-c1v0");
	assert_string_equal(n, "tk-c1vs");
	assert_int_equal(capture_split_spec("lo@/proc/1/ns/net", i, sizeof(i), n, sizeof(n)), 0);
	assert_string_equal(n, "/proc/1/ns/net");
	static const char *const bad[] = {
		"", "@ns", "eth0@", "eth0@..", "eth0@a/b", "a/b@ns", "..@ns",
		"sixteen-chars-xx", "lo@/var/run/netns/../x", "lo@/x/..",
	};
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++)
		assert_int_equal(capture_split_spec(bad[k], i, sizeof(i), n, sizeof(n)), -EINVAL);
	assert_int_equal(capture_split_spec("fifteen-chars-x", i, sizeof(i), n, sizeof(n)), 0);
	assert_int_equal(capture_split_spec("eth0", i, 4, n, sizeof(n)), -EINVAL);
	assert_int_equal(capture_split_spec(NULL, i, sizeof(i), n, sizeof(n)), -EINVAL);
}

/* --- files ------------------------------------------------------------------------ */

/* TK_SRCDIR from make check, else the source tree this file was compiled from. */
static void pcap_path(const char *name, char *buf, size_t size)
{
	const char *src = getenv("TK_SRCDIR");

	if (src && *src) {
		snprintf(buf, size, "%s/tests/data/pcaps/%s", src, name);
		return;
	}
	const char *file = __FILE__;
	const char *slash = strrchr(file, '/');
	int dir_len = slash ? (int)(slash - file) : 1;
	snprintf(buf, size, "%.*s/../data/pcaps/%s", dir_len, slash ? file : ".", name);
}

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct stat st;

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	char *b = malloc((size_t)st.st_size);
	assert_non_null(b);
	assert_int_equal(fread(b, 1, (size_t)st.st_size, f), (size_t)st.st_size);
	fclose(f);
	*len = (size_t)st.st_size;
	return b;
}

static void write_tmp(char *path, size_t size, const void *data, size_t len)
{
	snprintf(path, size, "%s/tk-capture-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Reads every frame; returns the count, or the first error. */
static int read_frames(struct capture_handle *h, size_t *n, char *err, size_t errlen)
{
	struct capture_frame f;
	int rc;

	*n = 0;
	while ((rc = capture_next(h, &f, err, errlen)) == 1)
		(*n)++;
	return rc;
}

static void test_file_errors(void **state)
{
	(void)state;
	struct capture_handle *h = (void *)1;
	char err[512], path[4096], tmp[256];
	size_t n, len;

	assert_int_equal(capture_open_file("/nonexistent/x.pcap", &h, err, sizeof(err)), -ENOENT);
	assert_null(h);
	assert_string_equal(err, "cannot open /nonexistent/x.pcap: No such file or directory");
	assert_int_equal(capture_open_file("/", &h, err, sizeof(err)), -EISDIR);

	pcap_path("twamp-unauth-twping-twampd.pcap", path, sizeof(path));
	char *data = read_all(path, &len);
	/* half a file header */
	write_tmp(tmp, sizeof(tmp), data, 12);
	assert_int_equal(capture_open_file(tmp, &h, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "truncated"));
	unlink(tmp);
	/* garbage */
	write_tmp(tmp, sizeof(tmp), "this is not a capture file at all", 33);
	assert_int_equal(capture_open_file(tmp, &h, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, tmp));
	unlink(tmp);
	/* the last record cut short: an error after the complete ones, never a silent end */
	for (size_t cut = 1; cut <= 20; cut += 19) {
		write_tmp(tmp, sizeof(tmp), data, len - cut);
		assert_int_equal(capture_open_file(tmp, &h, err, sizeof(err)), 0);
		assert_int_equal(read_frames(h, &n, err, sizeof(err)), -EBADMSG);
		assert_int_equal(n, 37);
		assert_non_null(strstr(err, "truncated"));
		capture_close(h);
		unlink(tmp);
	}
	/* a record header cut short (file ends 10 octets into the 38th record header) */
	size_t off = 24, recs = 0;
	while (off + 16 <= len && recs < 37) {
		struct rcursor c;
		rc_init(&c, (const uint8_t *)data + off + 8, 4);
		uint32_t incl = rc_u32(&c);
		incl = (incl >> 24) | ((incl >> 8) & 0xff00) | ((incl << 8) & 0xff0000) | (incl << 24);
		off += 16 + incl;
		recs++;
	}
	assert_true(off + 16 < len); /* the 38th record's header is complete in the original */
	write_tmp(tmp, sizeof(tmp), data, off + 10);
	assert_int_equal(capture_open_file(tmp, &h, err, sizeof(err)), 0);
	assert_int_equal(read_frames(h, &n, err, sizeof(err)), -EBADMSG);
	assert_int_equal(n, 37);
	capture_close(h);
	unlink(tmp);
	/* the whole file reads to a clean end */
	assert_int_equal(capture_open_file(path, &h, err, sizeof(err)), 0);
	assert_int_equal(read_frames(h, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 38);
	assert_true(capture_is_file(h));
	assert_int_equal(capture_fd(h), -1);
	assert_int_equal(capture_linktype(h), DLT_EN10MB);
	assert_string_equal(capture_precision_name(h), "micro");
	assert_int_equal(capture_stats(h, NULL, NULL), -ENOTSUP);
	capture_close(h);
	capture_close(NULL);
	free(data);
}

/* A pcapng file written here: big-endian section, if_tsresol 9, one EPB with a TWAMP request. */
static void test_pcapng_nano(void **state)
{
	(void)state;
	uint8_t pl[64], l4[80], file[512];
	struct build b = { .dlt = DLT_EN10MB, .ipv = 4, .proto = 17 };
	struct frame fr;
	struct wcursor w;
	char tmp[256], err[512];

	build_frame(&b, l4, udp(40000, 862, pl, twamp_request(21, 41, pl), l4), &fr);
	wc_init(&w, file, sizeof(file));
	wc_u32(&w, 0x0a0d0d0a); /* SHB */
	wc_u32(&w, 28);
	wc_u32(&w, 0x1a2b3c4d);
	wc_u16(&w, 1);
	wc_u16(&w, 0);
	wc_u64(&w, UINT64_MAX); /* section length unknown */
	wc_u32(&w, 28);
	wc_u32(&w, 1);          /* IDB */
	wc_u32(&w, 32);
	wc_u16(&w, DLT_EN10MB);
	wc_u16(&w, 0);
	wc_u32(&w, 256);
	wc_u16(&w, 9);          /* if_tsresol = 10^-9 */
	wc_u16(&w, 1);
	wc_u8(&w, 9);
	wc_zero(&w, 3);
	wc_u32(&w, 0);          /* opt_endofopt */
	wc_u32(&w, 32);
	size_t padded = (fr.len + 3) & ~(size_t)3;
	uint32_t blen = (uint32_t)(32 + padded);
	uint64_t ts = 1795785519326399123ULL; /* ns */
	wc_u32(&w, 6);          /* EPB */
	wc_u32(&w, blen);
	wc_u32(&w, 0);
	wc_u32(&w, (uint32_t)(ts >> 32));
	wc_u32(&w, (uint32_t)ts);
	wc_u32(&w, (uint32_t)fr.len);
	wc_u32(&w, (uint32_t)fr.len);
	wc_bytes(&w, fr.b, fr.len);
	wc_zero(&w, padded - fr.len);
	wc_u32(&w, blen);
	assert_false(w.bad);
	write_tmp(tmp, sizeof(tmp), file, w.pos);

	struct capture_handle *h;
	struct capture_frame f;
	struct capture_obs o;
	struct capture_ports p = ports_862();
	assert_int_equal(capture_open_file(tmp, &h, err, sizeof(err)), 0);
	assert_string_equal(capture_precision_name(h), "nano");
	assert_int_equal(capture_next(h, &f, err, sizeof(err)), 1);
	assert_int_equal(f.ts_ns, (int64_t)ts);
	assert_int_equal(f.caplen, fr.len);
	assert_int_equal(capture_parse_frame(capture_linktype(h), f.data, f.caplen, f.wirelen, &p,
					     &o), 0);
	assert_int_equal(o.seq, 21);
	assert_int_equal(capture_next(h, &f, err, sizeof(err)), 0);
	capture_close(h);

	/* cut inside the EPB: truncated */
	unlink(tmp);
	write_tmp(tmp, sizeof(tmp), file, w.pos - 9);
	assert_int_equal(capture_open_file(tmp, &h, err, sizeof(err)), 0);
	assert_int_equal(capture_next(h, &f, err, sizeof(err)), -EBADMSG);
	capture_close(h);
	unlink(tmp);
}

static void test_dump_roundtrip(void **state)
{
	(void)state;
	char path[4096], tmp[256], err[512];
	struct capture_handle *h, *g;
	struct capture_frame f;
	size_t n;

	pcap_path("twamp-light-twampy.pcap", path, sizeof(path));
	write_tmp(tmp, sizeof(tmp), "", 0);
	assert_int_equal(capture_open_file(path, &h, err, sizeof(err)), 0);
	assert_int_equal(capture_dump_open(h, tmp, err, sizeof(err)), 0);
	assert_int_equal(capture_dump_open(h, tmp, err, sizeof(err)), -EALREADY);
	assert_int_equal(read_frames(h, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 20);
	capture_close(h);

	/* same frames, same (nanosecond-format) timestamps */
	assert_int_equal(capture_open_file(path, &h, err, sizeof(err)), 0);
	assert_int_equal(capture_open_file(tmp, &g, err, sizeof(err)), 0);
	assert_string_equal(capture_precision_name(g), "nano");
	for (int i = 0; i < 20; i++) {
		struct capture_frame a;
		assert_int_equal(capture_next(h, &a, err, sizeof(err)), 1);
		int64_t ts = a.ts_ns;
		size_t cl = a.caplen;
		uint8_t copy[256];
		assert_true(cl <= sizeof(copy));
		memcpy(copy, a.data, cl);
		assert_int_equal(capture_next(g, &f, err, sizeof(err)), 1);
		assert_int_equal(f.ts_ns, ts);
		assert_int_equal(f.caplen, cl);
		assert_memory_equal(f.data, copy, cl);
	}
	assert_int_equal(capture_next(g, &f, err, sizeof(err)), 0);
	capture_close(h);
	capture_close(g);
	unlink(tmp);
}

/* --- the reference captures through parser and matcher ---------------------------- */

struct raw_udp {
	int64_t ts_ns;
	uint16_t sport, dport;
};

/*
 * Independent reading: libpcap records, fixed Ethernet+IPv4 offsets (these
 * captures have no options), the UDP ports only.
 */
static size_t raw_udp_records(const char *name, struct raw_udp *out, size_t max)
{
	char path[4096], err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *d;
	size_t n = 0;

	pcap_path(name, path, sizeof(path));
	pcap_t *p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
	assert_non_null(p);
	while (pcap_next_ex(p, &hdr, &d) == 1) {
		if (hdr->caplen < 42 || d[12] != 0x08 || d[13] != 0x00 || d[23] != 17)
			continue;
		assert_true(n < max);
		out[n].ts_ns = (int64_t)hdr->ts.tv_sec * 1000000000 + hdr->ts.tv_usec;
		out[n].sport = (uint16_t)(d[34] << 8 | d[35]);
		out[n].dport = (uint16_t)(d[36] << 8 | d[37]);
		n++;
	}
	pcap_close(p);
	return n;
}

/* Runs a capture file through capture_next + capture_parse_frame + match_observe (one point). */
static struct match *match_file(const char *name, uint16_t port)
{
	char path[4096], err[512];
	struct capture_handle *h;
	struct capture_frame f;
	struct capture_ports p = ports_862();
	struct match *m;
	int rc;

	if (port)
		assert_int_equal(capture_ports_add(&p, port), 0);
	pcap_path(name, path, sizeof(path));
	assert_int_equal(capture_open_file(path, &h, err, sizeof(err)), 0);
	assert_int_equal(match_new(1, NULL, &m), 0);
	while ((rc = capture_next(h, &f, err, sizeof(err))) == 1) {
		struct capture_obs o;
		if (capture_parse_frame(capture_linktype(h), f.data, f.caplen, f.wirelen, &p, &o) == 0)
			assert_int_equal(match_observe(m, 0, &o, f.ts_ns), 0);
	}
	assert_int_equal(rc, 0);
	capture_close(h);
	return m;
}

/*
 * Each probe's RTT must equal its reply's capture time minus its request's,
 * from the raw records: requests (to port) and replies (from port) are
 * paired in order within each sender port.
 */
static void check_rtts_against_raw(const struct match *m, const char *name, uint16_t port,
				   size_t want)
{
	struct raw_udp r[64];
	size_t n = raw_udp_records(name, r, 64), checked = 0;

	for (size_t i = 0; i < match_nprobes(m); i++) {
		struct match_probe_view v;
		int64_t rtt;
		assert_int_equal(match_probe_get(m, i, &v), 0);
		assert_int_equal(v.proto, PROBE_TWAMP);
		assert_int_equal(v.flow->reflector_port, port);
		assert_true(match_probe_rtt(m, i, 0, &rtt));
		/* the k-th request of this sender port and the k-th reply to it */
		size_t k = 0;
		for (size_t j = 0; j < i; j++) {
			struct match_probe_view u;
			match_probe_get(m, j, &u);
			k += u.flow->sender_port == v.flow->sender_port;
		}
		int64_t req = -1, rep = -1;
		size_t kq = 0, kr = 0;
		for (size_t j = 0; j < n; j++) {
			if (r[j].dport == port && r[j].sport == v.flow->sender_port && kq++ == k)
				req = r[j].ts_ns;
			if (r[j].sport == port && r[j].dport == v.flow->sender_port && kr++ == k)
				rep = r[j].ts_ns;
		}
		assert_true(req > 0 && rep > 0);
		assert_int_equal(rtt, rep - req);
		checked++;
	}
	assert_int_equal(checked, want);
}

static void test_pcap_unauth_twping(void **state)
{
	(void)state;
	/* reply minus request of frames 14/15 ... 32/33, as tshark prints them (us) */
	static const int64_t tshark_us[10] = { 545, 60, 60, 126, 98, 71, 230, 149, 97, 84 };
	struct match *m = match_file("twamp-unauth-twping-twampd.pcap", 18762);
	struct match_counts c;

	match_get_counts(m, 0, PROBE_TWAMP, &c);
	assert_int_equal(c.requests, 10);
	assert_int_equal(c.replies, 10);
	assert_int_equal(c.matched, 10);
	assert_int_equal(c.unmatched, 0);
	assert_int_equal(c.by_order, 0); /* C6: by the copied Sender Sequence Number */
	assert_int_equal(match_nprobes(m), 10);
	for (size_t i = 0; i < 10; i++) {
		struct match_probe_view v;
		int64_t rtt;
		match_probe_get(m, i, &v);
		assert_int_equal(v.seq, i); /* B3: from 0, +1 */
		assert_true(match_probe_rtt(m, i, 0, &rtt));
		assert_int_equal(rtt, tshark_us[i] * 1000);
		assert_int_equal(match_probe_where(m, i, NULL), MATCH_COMPLETE);
	}
	check_rtts_against_raw(m, "twamp-unauth-twping-twampd.pcap", 18762, 10);
	char buf[128];
	struct match_probe_view v;
	match_probe_get(m, 0, &v);
	match_flow_format(v.flow, buf, sizeof(buf));
	assert_string_equal(buf, "127.0.0.1:19765>127.0.0.1:18762");
	struct stats_dist d;
	assert_int_equal(match_point_dist(m, 0, PROBE_TWAMP, &d), 0);
	assert_int_equal(d.n, 10);
	assert_true(d.min == 60000.0 && d.max == 545000.0);
	match_free(m);

	/* without --twamp-port 18762 nothing in this file is TWAMP-Test (control runs on 8620) */
	m = match_file("twamp-unauth-twping-twampd.pcap", 0);
	assert_int_equal(match_nprobes(m), 0);
	match_free(m);
}

static void test_pcap_light_twampy(void **state)
{
	(void)state;
	static const int64_t tshark_us[10] = { 1762, 575, 4815, 636, 403, 673, 876, 477, 1392, 3332 };
	struct match *m = match_file("twamp-light-twampy.pcap", 20001);
	struct match_counts c;

	match_get_counts(m, 0, PROBE_TWAMP, &c);
	assert_int_equal(c.matched, 10);
	assert_int_equal(c.by_order, 10); /* 38-octet replies: no readable Sender Sequence Number */
	assert_int_equal(c.orphan_replies, 0);
	assert_int_equal(match_nprobes(m), 10);
	for (size_t i = 0; i < 10; i++) {
		struct match_probe_view v;
		int64_t rtt;
		match_probe_get(m, i, &v);
		assert_int_equal(v.flow->sender_port, i < 5 ? 20000 : 20002);
		assert_int_equal(v.seq, i % 5);
		assert_true(match_probe_rtt(m, i, 0, &rtt));
		assert_int_equal(rtt, tshark_us[i] * 1000);
	}
	check_rtts_against_raw(m, "twamp-light-twampy.pcap", 20001, 10);
	match_free(m);
}

static void test_pcap_other_modes(void **state)
{
	(void)state;
	static const struct {
		const char *file;
		uint16_t port;
		uint64_t by_order, by_ts;
	} cases[] = {
		{ "twamp-mixed-twping-twampd.pcap", 18765, 0, 0 },      /* open layout (RFC 5618) */
		{ "twamp-unauth-twampy-controller-twampd.pcap", 20001, 0, 0 },
		{ "twamp-auth-twping-twampd.pcap", 18762, 0, 10 },      /* C5: echoed T1 in clear */
		{ "twamp-encrypted-twping-twampd.pcap", 18761, 10, 0 }, /* C19: nothing readable */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct match *m = match_file(cases[i].file, cases[i].port);
		struct match_counts c;
		match_get_counts(m, 0, PROBE_TWAMP, &c);
		assert_int_equal(c.requests, 10);
		assert_int_equal(c.matched, 10);
		assert_int_equal(c.unmatched, 0);
		assert_int_equal(c.orphan_replies, 0);
		assert_int_equal(c.by_order, cases[i].by_order);
		assert_int_equal(c.by_timestamp, cases[i].by_ts);
		check_rtts_against_raw(m, cases[i].file, cases[i].port, 10);
		match_free(m);
	}
}

/* --- live handles ---------------------------------------------------------------- */

static void test_live_errors(void **state)
{
	(void)state;
	struct capture_ports p = ports_862();
	struct capture_handle *h = NULL;
	char err[512];
	int rc;

	rc = capture_open_live("tkno0such0", &p, &h, err, sizeof(err));
	if (geteuid() == 0) {
		assert_int_equal(rc, -ENODEV);
		assert_string_equal(err, "no such interface tkno0such0");
	} else {
		assert_true(rc == -EPERM || rc == -ENODEV);
	}
	assert_null(h);
	rc = capture_open_live("lo@tk-no-such-netns", &p, &h, err, sizeof(err));
	assert_int_equal(rc, -ENOENT);
	assert_string_equal(err, "no network namespace tk-no-such-netns "
				 "(/var/run/netns/tk-no-such-netns not found)");
	assert_int_equal(capture_open_live("bad/name", &p, &h, err, sizeof(err)), -EINVAL);
	assert_int_equal(capture_open_live(NULL, &p, &h, err, sizeof(err)), -EINVAL);
	if (geteuid() != 0) {
		assert_int_equal(capture_open_live("lo", &p, &h, err, sizeof(err)), -EPERM);
		assert_non_null(strstr(err, "no permission to capture on lo"));
		return;
	}
	/* as root: loopback opens with a pollable descriptor and nanosecond stamps */
	assert_int_equal(capture_open_live("lo", &p, &h, err, sizeof(err)), 0);
	assert_true(capture_fd(h) >= 0);
	assert_false(capture_is_file(h));
	assert_int_equal(capture_linktype(h), DLT_EN10MB);
	assert_string_equal(capture_precision_name(h), "nano");
	uint64_t recv = 1, drop = 1;
	assert_int_equal(capture_stats(h, &recv, &drop), 0);
	assert_int_equal(drop, 0);
	/* our own namespace, by path */
	struct capture_handle *g;
	assert_int_equal(capture_open_live("lo@/proc/self/ns/net", &p, &g, err, sizeof(err)), 0);
	capture_close(g);
	capture_close(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_every_link_type),
		cmocka_unit_test(test_reply_every_link_type),
		cmocka_unit_test(test_raw_ip_link_types),
		cmocka_unit_test(test_vlan_tags),
		cmocka_unit_test(test_icmp_echo),
		cmocka_unit_test(test_truncated_every_length),
		cmocka_unit_test(test_icmp_truncated),
		cmocka_unit_test(test_ethernet_padding),
		cmocka_unit_test(test_bogus_lengths),
		cmocka_unit_test(test_fragments_and_extension_headers),
		cmocka_unit_test(test_udp_classification),
		cmocka_unit_test(test_reply_layouts),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_filter_text),
		cmocka_unit_test(test_split_spec),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_pcapng_nano),
		cmocka_unit_test(test_dump_roundtrip),
		cmocka_unit_test(test_pcap_unauth_twping),
		cmocka_unit_test(test_pcap_light_twampy),
		cmocka_unit_test(test_pcap_other_modes),
		cmocka_unit_test(test_live_errors),
	};

	return cmocka_run_group_tests_name("capture", tests, NULL, NULL);
}
