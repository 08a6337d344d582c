/*
 * Known-answer tests of the TWAMP-Control codecs and the crypto module
 * against captures of perfSONAR twping/twampd and of twampy's controller
 * (tests/data/pcaps, described in its README).  Each capture's TCP control
 * stream is reassembled per direction (in-order loopback segments, checked
 * against the TCP sequence numbers), then decoded message by message.  In
 * the authenticated, encrypted and mixed sessions the PBKDF2 key is derived
 * from the pass-phrase, the Token is opened, both CBC streams are decrypted
 * and every HMAC in both directions is verified, the server's first one
 * covering the Server-Start block (F3); every decrypted message re-encodes
 * to the same octets.  In the authenticated and encrypted sessions every
 * TWAMP-Test packet is unprotected with the keys derived from the SID and
 * re-protected to the captured octets.  The captures are read offline with
 * libpcap; link, IP, TCP and UDP headers go through the bounds-checked cursor.
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "crypto.h"
#include "cursor.h"
#include "tstamp.h"
#include "wire_control.h"
#include "wire_test.h"

#define MAX_PAYLOAD 2048
#define MAX_PKTS 128
#define MAX_STREAM 4096

enum { PROTO_TCP = 6, PROTO_UDP = 17 };

#define TCP_FIN 0x01
#define TCP_SYN 0x02

struct cap_pkt {
	uint8_t proto;
	uint16_t sport;
	uint16_t dport;
	uint32_t seq;     /* TCP only */
	uint8_t flags;    /* TCP only */
	size_t len;       /* TCP/UDP payload length */
	uint8_t data[MAX_PAYLOAD];
};

struct capture {
	size_t n;
	struct cap_pkt pkts[MAX_PKTS];
};

/* One direction of the control connection, reassembled. */
struct stream {
	uint8_t data[MAX_STREAM];
	size_t len;
	size_t pos;       /* consumed by the decoder */
	uint32_t next_seq;
	bool syn_seen;
	bool fin_seen;
};

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

/* Skips the link header; *v = IP version (4, 6) or 0 for other protocols. */
static bool skip_link(int dlt, struct rcursor *c, int *v)
{
	uint16_t etype = 0;

	*v = 0;
	switch (dlt) {
	case DLT_EN10MB:
		rc_skip(c, 12);
		etype = rc_u16(c);
		while (etype == 0x8100 || etype == 0x88a8) {
			rc_skip(c, 2);
			etype = rc_u16(c);
		}
		break;
	case DLT_LINUX_SLL:
		rc_skip(c, 14);
		etype = rc_u16(c);
		break;
	case DLT_NULL:
	case DLT_LOOP:
		rc_skip(c, 4);
		break;
	case DLT_RAW:
		break;
	default:
		return false;
	}
	if (c->bad)
		return true;
	if (etype == 0x0800)
		*v = 4;
	else if (etype == 0x86dd)
		*v = 6;
	else if (etype == 0 && rc_left(c) > 0)
		*v = c->p[c->pos] >> 4;
	return true;
}

/* Parses one frame into *pkt; true for an unfragmented TCP segment or UDP datagram. */
static bool parse_frame(int dlt, const uint8_t *frame, size_t caplen, struct cap_pkt *pkt)
{
	struct rcursor c;
	size_t ip_payload;
	int v;

	rc_init(&c, frame, caplen);
	if (!skip_link(dlt, &c, &v))
		fail_msg("unsupported pcap link type %d", dlt);
	if (v == 4) {
		uint8_t vihl = rc_u8(&c);
		rc_skip(&c, 1);
		uint16_t total = rc_u16(&c);
		rc_skip(&c, 2);
		uint16_t frag = rc_u16(&c);
		rc_skip(&c, 1);
		pkt->proto = rc_u8(&c);
		rc_skip(&c, 10);
		size_t ihl = (size_t)(vihl & 0x0f) * 4;
		if (c.bad || vihl >> 4 != 4 || ihl < 20 || total < ihl || (frag & 0x3fff) != 0)
			return false;
		rc_skip(&c, ihl - 20);
		ip_payload = total - ihl;
	} else if (v == 6) {
		rc_skip(&c, 4);
		uint16_t plen = rc_u16(&c);
		pkt->proto = rc_u8(&c);
		rc_skip(&c, 33);
		ip_payload = plen;
	} else {
		return false;
	}
	if (c.bad || ip_payload > rc_left(&c))
		return false;
	if (pkt->proto == PROTO_UDP) {
		pkt->sport = rc_u16(&c);
		pkt->dport = rc_u16(&c);
		uint16_t ulen = rc_u16(&c);
		rc_skip(&c, 2);
		if (c.bad || ulen < 8 || ulen > ip_payload)
			return false;
		pkt->len = ulen - 8u;
	} else if (pkt->proto == PROTO_TCP) {
		pkt->sport = rc_u16(&c);
		pkt->dport = rc_u16(&c);
		pkt->seq = rc_u32(&c);
		rc_skip(&c, 4);
		size_t doff = (size_t)(rc_u8(&c) >> 4) * 4;
		pkt->flags = rc_u8(&c);
		rc_skip(&c, 6);
		if (c.bad || doff < 20 || doff > ip_payload)
			return false;
		rc_skip(&c, doff - 20);
		pkt->len = ip_payload - doff;
	} else {
		return false;
	}
	if (pkt->len > MAX_PAYLOAD)
		return false;
	rc_bytes(&c, pkt->data, pkt->len);
	return !c.bad;
}

static struct capture *load_capture(const char *name)
{
	char path[4096];
	char err[PCAP_ERRBUF_SIZE];
	struct pcap_pkthdr *hdr;
	const u_char *frame;
	struct capture *cap = calloc(1, sizeof(*cap));

	assert_non_null(cap);
	pcap_path(name, path, sizeof(path));
	pcap_t *p = pcap_open_offline(path, err);
	if (!p)
		fail_msg("%s: %s", path, err);
	int dlt = pcap_datalink(p);
	int rc;
	while ((rc = pcap_next_ex(p, &hdr, &frame)) == 1) {
		assert_true(cap->n < MAX_PKTS);
		if (parse_frame(dlt, frame, hdr->caplen, &cap->pkts[cap->n]))
			cap->n++;
	}
	assert_int_equal(rc, PCAP_ERROR_BREAK);
	pcap_close(p);
	return cap;
}

static void stream_add(struct stream *s, const struct cap_pkt *p)
{
	if (p->flags & TCP_SYN) {
		assert_false(s->syn_seen);
		s->syn_seen = true;
		s->next_seq = p->seq + 1;
		return;
	}
	if (p->len == 0) {
		if (p->flags & TCP_FIN)
			s->fin_seen = true;
		return;
	}
	/* in order, no gap, no retransmission: the captures are loopback */
	assert_true(s->syn_seen);
	assert_false(s->fin_seen);
	assert_int_equal(p->seq, s->next_seq);
	assert_true(s->len + p->len <= MAX_STREAM);
	memcpy(s->data + s->len, p->data, p->len);
	s->len += p->len;
	s->next_seq += (uint32_t)p->len;
	if (p->flags & TCP_FIN)
		s->fin_seen = true;
}

/* Reassembles both directions of the connection to TCP port ctrl_port. */
static void reassemble(const struct capture *cap, uint16_t ctrl_port, struct stream *c2s,
		       struct stream *s2c)
{
	memset(c2s, 0, sizeof(*c2s));
	memset(s2c, 0, sizeof(*s2c));
	for (size_t i = 0; i < cap->n; i++) {
		const struct cap_pkt *p = &cap->pkts[i];

		if (p->proto != PROTO_TCP)
			continue;
		if (p->dport == ctrl_port)
			stream_add(c2s, p);
		else if (p->sport == ctrl_port)
			stream_add(s2c, p);
	}
	assert_true(c2s->syn_seen && s2c->syn_seen);
	assert_true(c2s->fin_seen); /* the client closes after Stop-Sessions */
}

/* The next n octets of a stream. */
static uint8_t *take(struct stream *s, size_t n)
{
	assert_true(s->len - s->pos >= n);
	uint8_t *p = s->data + s->pos;
	s->pos += n;
	return p;
}

/* --- re-encoding: every decoded message must give back its octets -------- */

static void reencode_greeting(const uint8_t *msg, struct wire_greeting *m)
{
	uint8_t out[WIRE_GREETING_LEN];

	assert_int_equal(wire_greeting_decode(msg, WIRE_GREETING_LEN, m), 0);
	assert_int_equal(wire_greeting_encode(m, out, sizeof(out)), WIRE_GREETING_LEN);
	assert_memory_equal(out, msg, WIRE_GREETING_LEN);
}

static void reencode_setup(const uint8_t *msg, struct wire_setup_response *m)
{
	uint8_t out[WIRE_SETUP_RESPONSE_LEN];

	assert_int_equal(wire_setup_response_decode(msg, WIRE_SETUP_RESPONSE_LEN, m), 0);
	assert_int_equal(wire_setup_response_encode(m, out, sizeof(out)), WIRE_SETUP_RESPONSE_LEN);
	assert_memory_equal(out, msg, WIRE_SETUP_RESPONSE_LEN);
}

static void reencode_server_start(const uint8_t *msg, struct wire_server_start *m)
{
	uint8_t out[WIRE_SERVER_START_LEN];

	assert_int_equal(wire_server_start_decode(msg, WIRE_SERVER_START_LEN, m), 0);
	assert_int_equal(wire_server_start_encode(m, out, sizeof(out)), WIRE_SERVER_START_LEN);
	assert_memory_equal(out, msg, WIRE_SERVER_START_LEN);
}

static void reencode_request(const uint8_t *msg, struct wire_request_session *m)
{
	uint8_t out[WIRE_REQUEST_SESSION_LEN];

	assert_int_equal(wire_request_session_decode(msg, WIRE_REQUEST_SESSION_LEN, m), 0);
	assert_int_equal(wire_request_session_encode(m, out, sizeof(out)), WIRE_REQUEST_SESSION_LEN);
	assert_memory_equal(out, msg, WIRE_REQUEST_SESSION_LEN);
}

static void reencode_accept(const uint8_t *msg, struct wire_accept_session *m)
{
	uint8_t out[WIRE_ACCEPT_SESSION_LEN];

	assert_int_equal(wire_accept_session_decode(msg, WIRE_ACCEPT_SESSION_LEN, m), 0);
	assert_int_equal(wire_accept_session_encode(m, out, sizeof(out)), WIRE_ACCEPT_SESSION_LEN);
	assert_memory_equal(out, msg, WIRE_ACCEPT_SESSION_LEN);
}

static void reencode_start(const uint8_t *msg)
{
	struct wire_start_sessions m;
	uint8_t out[WIRE_START_SESSIONS_LEN];

	assert_int_equal(wire_start_sessions_decode(msg, WIRE_START_SESSIONS_LEN, &m), 0);
	assert_int_equal(wire_start_sessions_encode(&m, out, sizeof(out)), WIRE_START_SESSIONS_LEN);
	assert_memory_equal(out, msg, WIRE_START_SESSIONS_LEN);
}

static void reencode_start_ack(const uint8_t *msg, struct wire_start_ack *m)
{
	uint8_t out[WIRE_START_ACK_LEN];

	assert_int_equal(wire_start_ack_decode(msg, WIRE_START_ACK_LEN, m), 0);
	assert_int_equal(wire_start_ack_encode(m, out, sizeof(out)), WIRE_START_ACK_LEN);
	assert_memory_equal(out, msg, WIRE_START_ACK_LEN);
}

static void reencode_stop(const uint8_t *msg, struct wire_stop_sessions *m)
{
	uint8_t out[WIRE_STOP_SESSIONS_LEN];

	assert_int_equal(wire_stop_sessions_decode(msg, WIRE_STOP_SESSIONS_LEN, m), 0);
	assert_int_equal(wire_stop_sessions_encode(m, out, sizeof(out)), WIRE_STOP_SESSIONS_LEN);
	assert_memory_equal(out, msg, WIRE_STOP_SESSIONS_LEN);
}

static void hex(const char *s, uint8_t *out, size_t n)
{
	assert_int_equal(strlen(s), 2 * n);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		assert_int_equal(sscanf(s + 2 * i, "%2x", &v), 1);
		out[i] = (uint8_t)v;
	}
}

/* --- unauthenticated sessions -------------------------------------------- */

/* What a whole control conversation decodes to. */
struct conversation {
	struct wire_greeting greeting;
	struct wire_setup_response setup;
	struct wire_server_start server_start;
	struct wire_request_session request;
	struct wire_accept_session accept;
	struct wire_start_ack start_ack;
	struct wire_stop_sessions stop;
};

/*
 * An unauthenticated conversation: every message is cleartext, decodes,
 * and re-encodes octet for octet; HMAC fields are zero (F6); each client
 * message announces its own length in its first block.
 */
static void check_open_conversation(const char *file, uint16_t ctrl_port, struct conversation *cv)
{
	struct capture *cap = load_capture(file);
	struct stream *c2s = malloc(sizeof(*c2s)), *s2c = malloc(sizeof(*s2c));
	static const uint8_t zero[16];

	assert_non_null(c2s);
	assert_non_null(s2c);
	reassemble(cap, ctrl_port, c2s, s2c);

	reencode_greeting(take(s2c, WIRE_GREETING_LEN), &cv->greeting);
	reencode_setup(take(c2s, WIRE_SETUP_RESPONSE_LEN), &cv->setup);
	reencode_server_start(take(s2c, WIRE_SERVER_START_LEN), &cv->server_start);

	const uint8_t *m = c2s->data + c2s->pos;
	assert_int_equal(wire_ctrl_msg_len(m, 16), WIRE_REQUEST_SESSION_LEN);
	reencode_request(take(c2s, WIRE_REQUEST_SESSION_LEN), &cv->request);
	assert_memory_equal(cv->request.hmac, zero, 16);
	reencode_accept(take(s2c, WIRE_ACCEPT_SESSION_LEN), &cv->accept);
	assert_memory_equal(cv->accept.hmac, zero, 16);

	m = c2s->data + c2s->pos;
	assert_int_equal(wire_ctrl_msg_len(m, 16), WIRE_START_SESSIONS_LEN);
	reencode_start(take(c2s, WIRE_START_SESSIONS_LEN));
	reencode_start_ack(take(s2c, WIRE_START_ACK_LEN), &cv->start_ack);

	m = c2s->data + c2s->pos;
	assert_int_equal(wire_ctrl_msg_len(m, 16), WIRE_STOP_SESSIONS_LEN);
	reencode_stop(take(c2s, WIRE_STOP_SESSIONS_LEN), &cv->stop);
	assert_memory_equal(cv->stop.hmac, zero, 16);

	/* nothing else on the connection */
	assert_int_equal(c2s->pos, c2s->len);
	assert_int_equal(s2c->pos, s2c->len);
	free(c2s);
	free(s2c);
	free(cap);
}

/* twping -A O against twampd: README values (Mode 1, ports, SID, Padding 27). */
static void test_unauth_twping(void **state)
{
	(void)state;
	struct conversation cv;
	uint8_t sid[16];

	check_open_conversation("twamp-unauth-twping-twampd.pcap", 8620, &cv);
	assert_int_equal(cv.greeting.modes, 15);
	assert_int_equal(cv.greeting.count, 2048);
	assert_int_equal(cv.setup.mode, WIRE_MODE_OPEN);
	assert_true(wire_mode_valid(cv.setup.mode, cv.greeting.modes));
	assert_int_equal(wire_keyid_len(cv.setup.keyid), 0);
	assert_int_equal(cv.server_start.accept, 0);
	assert_int_not_equal(cv.server_start.start_time, 0);

	const struct wire_request_session *r = &cv.request;
	assert_int_equal(r->ipvn, 4);
	assert_int_equal(wire_request_check(r), WIRE_ACCEPT_OK);
	assert_int_equal(r->sender_port, 19765);
	assert_int_equal(r->receiver_port, 19765);   /* twping asks for its own port (quirks) */
	assert_memory_equal(r->sender_addr, "\x7f\x00\x00\x01", 4);
	assert_memory_equal(r->receiver_addr, "\x7f\x00\x00\x01", 4);
	assert_int_equal(r->padding_length, 27);
	assert_int_equal(r->type_p, 0);

	hex("7f000001eeb401ae43a13c257cb06f96", sid, 16);
	assert_int_equal(cv.accept.accept, 0);
	assert_int_equal(cv.accept.port, 18762);
	assert_memory_equal(cv.accept.sid, sid, 16);
	assert_int_equal(cv.start_ack.accept, 0);
	assert_int_equal(cv.stop.accept, 0);
	assert_int_equal(cv.stop.num_sessions, 1);
}

/*
 * twampy's controller against twampd: zero addresses, Padding 0, Start
 * Time 0, Timeout 3 s, and Stop-Sessions with Number of Sessions 0, which
 * twampd rejects (README quirks, checklist E18): the codec decodes it and
 * leaves the count check to the server.
 */
static void test_unauth_twampy_controller(void **state)
{
	(void)state;
	struct conversation cv;
	uint8_t sid[16];
	static const uint8_t zero[16];

	check_open_conversation("twamp-unauth-twampy-controller-twampd.pcap", 862, &cv);
	assert_int_equal(cv.setup.mode, WIRE_MODE_OPEN);
	const struct wire_request_session *r = &cv.request;
	assert_int_equal(r->ipvn, 4);
	assert_int_equal(r->sender_port, 20000);
	assert_int_equal(r->receiver_port, 20001);
	assert_memory_equal(r->sender_addr, zero, 16);   /* E6: use the control addresses */
	assert_memory_equal(r->receiver_addr, zero, 16);
	assert_int_equal(r->padding_length, 0);
	assert_int_equal(r->start_time, 0);
	assert_int_equal(r->timeout, (ntp64_t)3 << 32);

	hex("7f000001eeb40228a1a500d58a1826e6", sid, 16);
	assert_int_equal(cv.accept.port, 20001);
	assert_memory_equal(cv.accept.sid, sid, 16);
	assert_int_equal(cv.stop.num_sessions, 0);
	assert_int_equal(cv.stop.accept, 0);
}

/* --- authenticated, encrypted, mixed -------------------------------------- */

struct crypto_case {
	const char *file;
	uint32_t mode;
	const char *aes_key;
	const char *hmac_key;
	const char *sid;
	uint16_t refl_port;
	uint16_t sender_port;
	uint32_t padding_length;  /* twping: 64 in A/E, 27 in O/M */
};

/* One decrypting side of the control connection. */
struct rx {
	struct stream *s;
	struct crypto_stream cbc;
	struct crypto_hmac_chain mac;
};

/*
 * Reads one message: decrypts its first block, learns its length (from
 * the Command Number for client messages, or fixed), decrypts the rest,
 * and checks its HMAC over every octet since the previous one (F2, F5).
 * Returns the plaintext in place.
 */
static const uint8_t *rx_msg(struct rx *r, int fixed_len)
{
	uint8_t *m = r->s->data + r->s->pos;
	assert_true(r->s->len - r->s->pos >= 16);
	assert_int_equal(crypto_stream_apply(&r->cbc, m, 16), 0);
	int len = fixed_len ? fixed_len : wire_ctrl_msg_len(m, 16);
	assert_true(len >= 32);
	take(r->s, (size_t)len);
	assert_int_equal(crypto_stream_apply(&r->cbc, m + 16, (size_t)len - 16), 0);
	assert_int_equal(crypto_hmac_chain_feed(&r->mac, m, (size_t)len - 16), 0);
	assert_int_equal(crypto_hmac_chain_verify(&r->mac, m + len - 16), 0);
	return m;
}

/*
 * Test packets: every sender packet (to the Accept-Session port) and every
 * reflector packet (from it) unprotects with the session's test keys; the
 * sequence numbers run 0..9; re-protecting the plaintext gives the
 * captured octets back (B11-B14, C18-C21).
 */
static void check_test_packets(const struct capture *cap, const struct crypto_case *cc,
			       const struct crypto_session_keys *keys, const uint8_t sid[16])
{
	enum wire_security sec = wire_mode_test_security(cc->mode);
	struct crypto_test_ctx t;
	uint8_t test_aes[16], test_hmac[32];
	uint32_t n_send = 0, n_refl = 0;

	assert_int_equal(crypto_test_keys_derive(sid, keys->aes, keys->hmac, test_aes, test_hmac), 0);
	memset(&t, 0, sizeof(t));
	assert_int_equal(crypto_test_init(&t, sec, test_aes, test_hmac), 0);

	for (size_t i = 0; i < cap->n; i++) {
		const struct cap_pkt *p = &cap->pkts[i];
		uint8_t pkt[MAX_PAYLOAD], again[MAX_PAYLOAD];
		enum crypto_test_role role = CRYPTO_TEST_SENDER;

		if (p->proto != PROTO_UDP)
			continue;
		if (p->sport == cc->sender_port && p->dport == cc->refl_port)
			role = CRYPTO_TEST_SENDER;
		else if (p->sport == cc->refl_port && p->dport == cc->sender_port)
			role = CRYPTO_TEST_REFLECTOR;
		else
			fail_msg("%s: stray UDP %u -> %u", cc->file, p->sport, p->dport);

		memcpy(pkt, p->data, p->len);
		assert_int_equal(crypto_test_unprotect(&t, role, pkt, p->len), 0);
		if (role == CRYPTO_TEST_SENDER) {
			struct wire_sender s;

			assert_int_equal(wire_sender_decode(pkt, p->len, sec, &s), 0);
			assert_int_equal(s.seq, n_send);
			n_send++;
		} else {
			struct wire_reflector r;

			assert_int_equal(wire_reflector_decode(pkt, p->len, sec, false, &r), 0);
			assert_int_equal(r.seq, n_refl);
			assert_int_equal(r.sender_seq, n_refl);
			assert_int_equal(r.sender_ttl, 255);
			assert_true(ts_ntp_diff_ns(r.timestamp, r.receive_timestamp) >= 0);
			n_refl++;
		}
		memcpy(again, pkt, p->len);
		assert_int_equal(crypto_test_protect(&t, role, again, p->len), 0);
		assert_memory_equal(again, p->data, p->len);

		/* and one flipped bit in the protected octets is caught (B14, C20) */
		memcpy(pkt, p->data, p->len);
		pkt[3] ^= 0x01;
		assert_int_equal(crypto_test_unprotect(&t, role, pkt, p->len), -EBADMSG);
	}
	assert_int_equal(n_send, 10);
	assert_int_equal(n_refl, 10);
	crypto_test_free(&t);
}

/* Mixed mode (F7): control encrypted, test packets in the open layout. */
static void check_open_test_packets(const struct capture *cap, const struct crypto_case *cc)
{
	uint32_t n_send = 0, n_refl = 0;

	for (size_t i = 0; i < cap->n; i++) {
		const struct cap_pkt *p = &cap->pkts[i];

		if (p->proto != PROTO_UDP)
			continue;
		if (p->dport == cc->refl_port) {
			struct wire_sender s;
			assert_int_equal(p->len, 41);
			assert_int_equal(wire_sender_decode(p->data, p->len, WIRE_SEC_OPEN, &s), 0);
			assert_int_equal(s.seq, n_send++);
		} else {
			struct wire_reflector r;
			assert_int_equal(p->sport, cc->refl_port);
			assert_int_equal(wire_reflector_decode(p->data, p->len, WIRE_SEC_OPEN, false, &r), 0);
			assert_int_equal(r.seq, n_refl++);
		}
	}
	assert_int_equal(n_send, 10);
	assert_int_equal(n_refl, 10);
}

static void check_crypto_session(const struct crypto_case *cc)
{
	struct capture *cap = load_capture(cc->file);
	struct stream *c2s = malloc(sizeof(*c2s)), *s2c = malloc(sizeof(*s2c));
	struct conversation cv;
	struct crypto_session_keys want, got;
	uint8_t k[16], challenge[16], sid[16];
	static const uint8_t zero[16];

	assert_non_null(c2s);
	assert_non_null(s2c);
	reassemble(cap, 8620, c2s, s2c);
	hex(cc->aes_key, want.aes, 16);
	hex(cc->hmac_key, want.hmac, 32);
	hex(cc->sid, sid, 16);

	/* Greeting and Set-Up-Response are clear */
	reencode_greeting(take(s2c, WIRE_GREETING_LEN), &cv.greeting);
	assert_int_equal(cv.greeting.modes, 15);
	assert_int_equal(cv.greeting.count, 2048);
	assert_true(wire_count_valid(cv.greeting.count, WIRE_COUNT_DEFAULT_MAX));
	reencode_setup(take(c2s, WIRE_SETUP_RESPONSE_LEN), &cv.setup);
	assert_int_equal(cv.setup.mode, cc->mode);
	assert_true(wire_mode_valid(cv.setup.mode, cv.greeting.modes));
	assert_true(wire_mode_encrypts_control(cv.setup.mode));
	assert_int_equal(wire_keyid_len(cv.setup.keyid), 7);
	assert_memory_equal(cv.setup.keyid, "labuser", 7);

	/* the server's side of the handshake: the pfs key, PBKDF2, the Token (D13, D16) */
	struct crypto_keyfile kf = { 0 };
	static const char pfs[] = "labuser\t6c6162736563726574\n";
	assert_int_equal(crypto_keyfile_parse("pfs", pfs, strlen(pfs), &kf, NULL, 0), 0);
	const struct crypto_key *key = crypto_keyfile_find(&kf, cv.setup.keyid,
							   wire_keyid_len(cv.setup.keyid));
	assert_non_null(key);
	assert_int_equal(crypto_pbkdf2_sha1(key->secret, key->secret_len, cv.greeting.salt,
					    cv.greeting.count, k), 0);
	crypto_keyfile_free(&kf);
	assert_int_equal(crypto_token_decrypt(k, cv.setup.token, challenge, &got), 0);
	assert_true(crypto_equal(challenge, cv.greeting.challenge, 16));
	assert_memory_equal(got.aes, want.aes, 16);
	assert_memory_equal(got.hmac, want.hmac, 32);
	/* and the client's: the same Token from the same inputs */
	uint8_t token[64];
	assert_int_equal(crypto_token_encrypt(k, cv.greeting.challenge, &got, token), 0);
	assert_memory_equal(token, cv.setup.token, 64);

	struct rx srv = { .s = c2s }, cli = { .s = s2c };
	assert_int_equal(crypto_stream_init(&srv.cbc, CRYPTO_DECRYPT, got.aes, cv.setup.client_iv), 0);
	assert_int_equal(crypto_hmac_chain_init(&srv.mac, got.hmac), 0);

	/* Server-Start: octets 32-47 start the server stream (D18) and its HMAC chain (F3) */
	uint8_t *ss = take(s2c, WIRE_SERVER_START_LEN);
	struct wire_server_start clear_part;
	assert_int_equal(wire_server_start_decode(ss, WIRE_SERVER_START_LEN, &clear_part), 0);
	assert_int_equal(clear_part.accept, 0);
	assert_int_equal(crypto_stream_init(&cli.cbc, CRYPTO_DECRYPT, got.aes, clear_part.server_iv), 0);
	assert_int_equal(crypto_hmac_chain_init(&cli.mac, got.hmac), 0);
	assert_int_equal(crypto_stream_apply(&cli.cbc, ss + 32, 16), 0);
	assert_int_equal(crypto_hmac_chain_feed(&cli.mac, ss + 32, 16), 0);
	reencode_server_start(ss, &cv.server_start);
	assert_memory_equal(ss + 40, zero, 8);
	/* the Start-Time decrypts to the capture's day (Nov 2026) */
	int64_t start = ts_ntp_to_unix_ns(cv.server_start.start_time, 1795000000LL * TS_NSEC_PER_SEC);
	assert_true(start > 1795000000LL * TS_NSEC_PER_SEC);
	assert_true(start < 1796000000LL * TS_NSEC_PER_SEC);

	/* Request-TW-Session, then Accept-Session: the first server HMAC (F3) */
	const uint8_t *req = rx_msg(&srv, 0);
	reencode_request(req, &cv.request);
	assert_int_equal(wire_request_check(&cv.request), WIRE_ACCEPT_OK);
	assert_int_equal(cv.request.padding_length, cc->padding_length);
	assert_int_equal(cv.request.sender_port, cc->sender_port);
	if (strstr(cc->file, "-auth-")) {
		/* the README's decrypted blocks */
		uint8_t want_req[112];
		hex("0504000000000000000000004d324d32"
		    "7f000001000000000000000000000000"
		    "7f000001000000000000000000000000"
		    "00000000000000000000000000000000"
		    "00000040eeb401d6e3c126a600000002"
		    "0230ec31000000000000000000000000"
		    "8e47cde8315a2d8dd1881a07ea15883f", want_req, 112);
		assert_memory_equal(req, want_req, 112);
	}
	const uint8_t *acc = rx_msg(&cli, WIRE_ACCEPT_SESSION_LEN);
	reencode_accept(acc, &cv.accept);
	assert_int_equal(cv.accept.accept, 0);
	assert_int_equal(cv.accept.port, cc->refl_port);
	assert_memory_equal(cv.accept.sid, sid, 16);

	/* Start-Sessions, Start-Ack, Stop-Sessions: the chains continue (F4) */
	const uint8_t *st = rx_msg(&srv, 0);
	assert_int_equal(st[0], WIRE_CMD_START_SESSIONS);
	reencode_start(st);
	reencode_start_ack(rx_msg(&cli, WIRE_START_ACK_LEN), &cv.start_ack);
	assert_int_equal(cv.start_ack.accept, 0);
	const uint8_t *stop = rx_msg(&srv, 0);
	reencode_stop(stop, &cv.stop);
	assert_int_equal(cv.stop.accept, 0);
	assert_int_equal(cv.stop.num_sessions, 1);

	assert_int_equal(c2s->pos, c2s->len);
	assert_int_equal(s2c->pos, s2c->len);
	crypto_stream_free(&srv.cbc);
	crypto_stream_free(&cli.cbc);
	crypto_hmac_chain_free(&srv.mac);
	crypto_hmac_chain_free(&cli.mac);

	if (cc->mode == WIRE_MODE_MIXED)
		check_open_test_packets(cap, cc);
	else
		check_test_packets(cap, cc, &got, sid);
	crypto_wipe(k, sizeof(k));
	free(c2s);
	free(s2c);
	free(cap);
}

static void test_auth_twping(void **state)
{
	(void)state;
	static const struct crypto_case cc = {
		"twamp-auth-twping-twampd.pcap", WIRE_MODE_AUTH,
		"3aeaf70ec22a3ac4c6bfe879e55cb85c",
		"91d3f129c9561a3e64c10654896ef4c200cb206dea97311bb900f28d67d14458",
		"7f000001eeb401d5dd6030c2c89a7ef9", 18762, 19762, 64,
	};
	check_crypto_session(&cc);
}

static void test_encrypted_twping(void **state)
{
	(void)state;
	static const struct crypto_case cc = {
		"twamp-encrypted-twping-twampd.pcap", WIRE_MODE_ENC,
		"c150b555e04135bfc0cfc46a274460ff",
		"95b790d4476b21f260aac52bebd11dde7530e886b1734afe2fca41b050114b9e",
		"7f000001eeb401dc85436b8f464ba5be", 18761, 19765, 64,
	};
	check_crypto_session(&cc);
}

static void test_mixed_twping(void **state)
{
	(void)state;
	static const struct crypto_case cc = {
		"twamp-mixed-twping-twampd.pcap", WIRE_MODE_MIXED,
		"53b3e81c4a963e0188a7021836789a09",
		"cd44d06a2dc7ed5f4545fd5d5d5efa01135acc643ad9a959ad8a19e5ccf71c36",
		"7f000001eeb402610c624dd29de1b347", 18765, 19761, 27,
	};
	check_crypto_session(&cc);
}

/*
 * A wrong pass-phrase yields a Token whose Challenge does not match (D16),
 * a corrupted control octet fails its HMAC (F5), and twampd's first server
 * HMAC needs the Server-Start block (F3).
 */
static void test_auth_negative(void **state)
{
	(void)state;
	struct capture *cap = load_capture("twamp-auth-twping-twampd.pcap");
	struct stream *c2s = malloc(sizeof(*c2s)), *s2c = malloc(sizeof(*s2c));
	struct wire_greeting g;
	struct wire_setup_response su;
	struct crypto_session_keys keys;
	uint8_t k[16], challenge[16];

	assert_non_null(c2s);
	assert_non_null(s2c);
	reassemble(cap, 8620, c2s, s2c);
	assert_int_equal(wire_greeting_decode(s2c->data, s2c->len, &g), 0);
	assert_int_equal(wire_setup_response_decode(c2s->data, c2s->len, &su), 0);

	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"labsecreT", 9, g.salt, g.count, k), 0);
	assert_int_equal(crypto_token_decrypt(k, su.token, challenge, &keys), 0);
	assert_false(crypto_equal(challenge, g.challenge, 16));

	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"labsecret", 9, g.salt, g.count, k), 0);
	assert_int_equal(crypto_token_decrypt(k, su.token, challenge, &keys), 0);
	assert_true(crypto_equal(challenge, g.challenge, 16));

	/* flip one ciphertext bit of the Request-TW-Session's last block */
	struct crypto_stream cbc = { 0 };
	struct crypto_hmac_chain mac = { 0 };
	uint8_t req[112];
	memcpy(req, c2s->data + WIRE_SETUP_RESPONSE_LEN, 112);
	req[100] ^= 0x10;
	assert_int_equal(crypto_stream_init(&cbc, CRYPTO_DECRYPT, keys.aes, su.client_iv), 0);
	assert_int_equal(crypto_hmac_chain_init(&mac, keys.hmac), 0);
	assert_int_equal(crypto_stream_apply(&cbc, req, 112), 0);
	assert_int_equal(crypto_hmac_chain_feed(&mac, req, 96), 0);
	assert_int_equal(crypto_hmac_chain_verify(&mac, req + 96), -EBADMSG);
	crypto_stream_free(&cbc);
	crypto_hmac_chain_free(&mac);

	/*
	 * F3 on twampd's bytes: its first Accept-Session HMAC does not verify
	 * over the Accept-Session alone, only with the Server-Start block first.
	 */
	uint8_t srv[64];
	memcpy(srv, s2c->data + WIRE_GREETING_LEN + 32, sizeof(srv)); /* Server-Start 32-47 + Accept */
	assert_int_equal(crypto_stream_init(&cbc, CRYPTO_DECRYPT, keys.aes,
					    s2c->data + WIRE_GREETING_LEN + 16), 0);
	assert_int_equal(crypto_stream_apply(&cbc, srv, sizeof(srv)), 0);
	assert_int_equal(crypto_hmac_chain_init(&mac, keys.hmac), 0);
	assert_int_equal(crypto_hmac_chain_feed(&mac, srv + 16, 32), 0);
	assert_int_equal(crypto_hmac_chain_verify(&mac, srv + 48), -EBADMSG);
	assert_int_equal(crypto_hmac_chain_feed(&mac, srv, 48), 0);
	assert_int_equal(crypto_hmac_chain_verify(&mac, srv + 48), 0);
	crypto_stream_free(&cbc);
	crypto_hmac_chain_free(&mac);
	free(c2s);
	free(s2c);
	free(cap);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unauth_twping),
		cmocka_unit_test(test_unauth_twampy_controller),
		cmocka_unit_test(test_auth_twping),
		cmocka_unit_test(test_encrypted_twping),
		cmocka_unit_test(test_mixed_twping),
		cmocka_unit_test(test_auth_negative),
	};

	return cmocka_run_group_tests_name("control_kat", tests, NULL, NULL);
}
