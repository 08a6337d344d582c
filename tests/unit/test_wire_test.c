/*
 * Unit tests for common/wire_test.c: the worked examples of twamp-test.md
 * §11 byte for byte in both directions, the plaintext layouts of the
 * authenticated/encrypted modes (§4.2, §5.2, positions as in §11.4), the
 * RFC 7750 44-octet layout, and every short-buffer and small-capacity error
 * path.  Checklist IDs (B1, B2, B16, C4-C6, C16, C26, C30) are cited where
 * a test covers them.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tstamp.h"
#include "wire_test.h"

#define NTP(sec, frac) ((ntp64_t)(uint32_t)(sec) << 32 | (uint32_t)(frac))

/* §11 common values */
#define T1 NTP(0xe8fe6f80u, 0x1f9add37u)
#define T2 NTP(0xe8fe6f80u, 0x20000000u)
#define T3 NTP(0xe8fe6f80u, 0x20014f8bu)
#define T4 NTP(0xe8fe6f80u, 0x2068db8bu)
#define SENDER_EE 0x8587
#define REFL_EE 0x81d7
#define RX_TTL 0xfd

/* §11.1: sender, Sequence Number 5, 27 zero padding octets */
static const uint8_t vec_11_1[41] = {
	0x00, 0x00, 0x00, 0x05, 0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* §11.2: stateful reflector (counter 3), padding truncated to 0 */
static const uint8_t vec_11_2[41] = {
	0x00, 0x00, 0x00, 0x03, 0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x01, 0x4f, 0x8b, 0x81, 0xd7, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xe8, 0xfe, 0x6f, 0x80,
	0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0xfd,
};

/* §11.3: reflection of the 54-octet sender packet (counter 4) */
static const uint8_t vec_11_3_refl[54] = {
	0x00, 0x00, 0x00, 0x04, 0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x01, 0x4f, 0x8b, 0x81, 0xd7, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0xe8, 0xfe, 0x6f, 0x80,
	0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0xfd, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
	0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};

/* §11.4 HMAC of block 1 (seq 0 + 12 zeros), shared by sender and reflector */
static const uint8_t hmac_11_4[16] = {
	0xd2, 0x01, 0x89, 0x38, 0x80, 0xe5, 0x44, 0x8b, 0xf2, 0x3a, 0xd3, 0x52, 0xf3, 0x35, 0xb4, 0xd2,
};

/*
 * §11.4 authenticated sender packet before encryption: block 1 plaintext
 * (Sequence Number 0 + MBZ), then the clear rows of the vector, then 64
 * zero padding octets (appended in the test).
 */
static const uint8_t vec_11_4_sender_plain[48] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xd2, 0x01, 0x89, 0x38, 0x80, 0xe5, 0x44, 0x8b, 0xf2, 0x3a, 0xd3, 0x52, 0xf3, 0x35, 0xb4, 0xd2,
};

/* §11.4 authenticated reflector reply before encryption of block 1 */
static const uint8_t vec_11_4_refl_plain[112] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x01, 0x4f, 0x8b, 0x81, 0xd7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xd2, 0x01, 0x89, 0x38, 0x80, 0xe5, 0x44, 0x8b, 0xf2, 0x3a, 0xd3, 0x52, 0xf3, 0x35, 0xb4, 0xd2,
};

static const enum wire_security all_secs[] = { WIRE_SEC_OPEN, WIRE_SEC_AUTH, WIRE_SEC_ENC };
#define N_SECS (sizeof(all_secs) / sizeof(all_secs[0]))

static struct wire_reflector refl_11_2(uint32_t seq, uint32_t sender_seq)
{
	struct wire_reflector r;

	memset(&r, 0, sizeof(r));
	r.seq = seq;
	r.timestamp = T3;
	r.error_estimate = REFL_EE;
	r.receive_timestamp = T2;
	r.sender_seq = sender_seq;
	r.sender_timestamp = T1;
	r.sender_error_estimate = SENDER_EE;
	r.sender_ttl = RX_TTL;
	return r;
}

static void assert_refl_equal(const struct wire_reflector *a, const struct wire_reflector *b)
{
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->timestamp, b->timestamp);
	assert_int_equal(a->error_estimate, b->error_estimate);
	assert_int_equal(a->ssid, b->ssid);
	assert_int_equal(a->receive_timestamp, b->receive_timestamp);
	assert_int_equal(a->sender_seq, b->sender_seq);
	assert_int_equal(a->sender_timestamp, b->sender_timestamp);
	assert_int_equal(a->sender_error_estimate, b->sender_error_estimate);
	assert_int_equal(a->sender_ttl, b->sender_ttl);
	assert_int_equal(a->has_dscp_ecn, b->has_dscp_ecn);
	assert_int_equal(a->sender_dscp_ecn, b->sender_dscp_ecn);
	assert_memory_equal(a->hmac, b->hmac, WIRE_HMAC_LEN);
}

/* B1, VEC §11.1: encode and decode the 41-octet unauthenticated sender packet. */
static void test_sender_11_1(void **state)
{
	(void)state;
	struct wire_sender s = { .seq = 5, .timestamp = T1, .error_estimate = SENDER_EE };
	uint8_t buf[64];

	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wire_sender_encode(&s, WIRE_SEC_OPEN, NULL, 27, buf, sizeof(buf)), 41);
	assert_memory_equal(buf, vec_11_1, sizeof(vec_11_1));
	assert_int_equal(buf[41], 0xee); /* nothing written past the packet */

	struct wire_sender d;
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(wire_sender_decode(vec_11_1, sizeof(vec_11_1), WIRE_SEC_OPEN, &d), 0);
	assert_int_equal(d.seq, 5);
	assert_int_equal(d.timestamp, T1);
	assert_int_equal(d.error_estimate, SENDER_EE);
	uint8_t zero[WIRE_HMAC_LEN] = { 0 };
	assert_memory_equal(d.hmac, zero, WIRE_HMAC_LEN); /* no HMAC in the open layout */

	/* the 14-octet minimum packet is the first 14 octets of the vector */
	assert_int_equal(wire_sender_encode(&s, WIRE_SEC_OPEN, NULL, 0, buf, 14), 14);
	assert_memory_equal(buf, vec_11_1, 14);
	assert_int_equal(wire_sender_decode(vec_11_1, 14, WIRE_SEC_OPEN, &d), 0);
	assert_int_equal(d.seq, 5);
}

/* C4, C6, VEC §11.2: stateful reflector (seq 3) and the stateless variant (seq 5). */
static void test_reflector_11_2(void **state)
{
	(void)state;
	struct wire_reflector r = refl_11_2(3, 5);
	uint8_t buf[64];

	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_OPEN, NULL, 0, buf, sizeof(buf)), 41);
	assert_memory_equal(buf, vec_11_2, sizeof(vec_11_2));

	struct wire_reflector d;
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(wire_reflector_decode(vec_11_2, sizeof(vec_11_2), WIRE_SEC_OPEN, false, &d), 0);
	assert_refl_equal(&d, &r);

	/* C8: a stateless reflector copies the sender's 5; all else identical */
	uint8_t stateless[41];
	memcpy(stateless, vec_11_2, sizeof(stateless));
	stateless[3] = 0x05;
	r = refl_11_2(5, 5);
	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_OPEN, NULL, 0, buf, sizeof(buf)), 41);
	assert_memory_equal(buf, stateless, sizeof(stateless));
	assert_int_equal(wire_reflector_decode(stateless, sizeof(stateless), WIRE_SEC_OPEN, false, &d), 0);
	assert_refl_equal(&d, &r);
	assert_int_equal(d.seq, d.sender_seq);
}

/* B16: RTT = (T4-T1) - (T3-T2) = 0x00ccaec9 units = 3.123211 ms, from the decoded §11.2 reply. */
static void test_rtt_11_2(void **state)
{
	(void)state;
	struct wire_reflector d;

	assert_int_equal(wire_reflector_decode(vec_11_2, sizeof(vec_11_2), WIRE_SEC_OPEN, false, &d), 0);
	ntp64_t t4 = T4;
	ntp64_t residence = d.timestamp - d.receive_timestamp;

	assert_int_equal(t4 - d.sender_timestamp, 13499988);
	assert_int_equal(residence, 85899);
	assert_int_equal((t4 - d.sender_timestamp) - residence, 0x00ccaec9);
	/* subtract the residence in NTP units first, convert once: exact 3.123211 ms */
	assert_int_equal(ts_ntp_diff_ns(t4 - residence, d.sender_timestamp), 3123211);
	assert_int_equal(ts_ntp_diff_ns(d.receive_timestamp, d.sender_timestamp), 1543211);
	assert_int_equal(ts_ntp_diff_ns(t4, d.timestamp), 1580000);
	assert_true(ts_ee_valid(d.sender_error_estimate));
	assert_true(ts_ee_valid(d.error_estimate));
}

/* C15, C16, VEC §11.3: 54-octet sender and its 54-octet reflection. */
static void test_11_3(void **state)
{
	(void)state;
	uint8_t pad[40];
	uint8_t buf[128];

	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = (uint8_t)i;

	struct wire_sender s = { .seq = 6, .timestamp = T1, .error_estimate = SENDER_EE };
	assert_int_equal(wire_sender_encode(&s, WIRE_SEC_OPEN, pad, sizeof(pad), buf, sizeof(buf)), 54);
	assert_memory_equal(buf, vec_11_1, 3);
	assert_int_equal(buf[3], 6);
	assert_memory_equal(buf + 4, vec_11_1 + 4, 10);
	assert_memory_equal(buf + 14, pad, sizeof(pad));

	struct wire_sender ds;
	assert_int_equal(wire_sender_decode(buf, 54, WIRE_SEC_OPEN, &ds), 0);
	assert_int_equal(ds.seq, 6);
	assert_int_equal(ds.timestamp, T1);
	assert_int_equal(ds.error_estimate, SENDER_EE);

	/* reflection: header + the first 54 - 41 = 13 octets of the sender padding */
	struct wire_reflector r = refl_11_2(4, 6);
	size_t m = 54 - WIRE_REFLECTOR_HDR_OPEN;
	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_OPEN, buf + WIRE_SENDER_HDR_OPEN, m,
					       buf + 60, sizeof(buf) - 60), 54);
	assert_memory_equal(buf + 60, vec_11_3_refl, sizeof(vec_11_3_refl));

	struct wire_reflector dr;
	assert_int_equal(wire_reflector_decode(vec_11_3_refl, sizeof(vec_11_3_refl), WIRE_SEC_OPEN,
					       false, &dr), 0);
	assert_refl_equal(&dr, &r);
}

/* Fills every field with a distinct non-zero value so misplaced octets show. */
static struct wire_sender sender_pattern(void)
{
	struct wire_sender s;

	memset(&s, 0, sizeof(s));
	s.seq = 0x01020304;
	s.timestamp = 0x1112131415161718ULL;
	s.error_estimate = 0x2122;
	for (int i = 0; i < WIRE_HMAC_LEN; i++)
		s.hmac[i] = (uint8_t)(0xa0 + i);
	return s;
}

static struct wire_reflector reflector_pattern(bool dscp_ecn)
{
	struct wire_reflector r;

	memset(&r, 0, sizeof(r));
	r.seq = 0x01020304;
	r.timestamp = 0x1112131415161718ULL;
	r.error_estimate = 0x2122;
	r.receive_timestamp = 0x3132333435363738ULL;
	r.sender_seq = 0x41424344;
	r.sender_timestamp = 0x5152535455565758ULL;
	r.sender_error_estimate = 0x6162;
	r.sender_ttl = 0x71;
	r.has_dscp_ecn = dscp_ecn;
	r.sender_dscp_ecn = dscp_ecn ? 0xb9 : 0;
	for (int i = 0; i < WIRE_HMAC_LEN; i++)
		r.hmac[i] = (uint8_t)(0xa0 + i);
	return r;
}

static void assert_zero(const uint8_t *p, size_t from, size_t to)
{
	for (size_t i = from; i < to; i++) {
		if (p[i] != 0)
			fail_msg("octet %zu is 0x%02x, MBZ", i, p[i]);
	}
}

/* B2, §4.2: 48-octet auth/enc sender plaintext; §11.4 positions. */
static void test_sender_auth_layout(void **state)
{
	(void)state;
	for (int k = 1; k <= 2; k++) {
		enum wire_security sec = all_secs[k];
		struct wire_sender s = sender_pattern();
		uint8_t pad[5] = { 0xc1, 0xc2, 0xc3, 0xc4, 0xc5 };
		uint8_t buf[64];

		memset(buf, 0xee, sizeof(buf));
		assert_int_equal(wire_sender_encode(&s, sec, pad, sizeof(pad), buf, sizeof(buf)), 53);
		static const uint8_t seq[4] = { 1, 2, 3, 4 };
		static const uint8_t ts[8] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
		static const uint8_t ee[2] = { 0x21, 0x22 };
		assert_memory_equal(buf + 0, seq, 4);
		assert_zero(buf, 4, 16);
		assert_memory_equal(buf + 16, ts, 8);
		assert_memory_equal(buf + 24, ee, 2);
		assert_zero(buf, 26, 32);
		assert_memory_equal(buf + 32, s.hmac, 16);
		assert_memory_equal(buf + 48, pad, 5);
		assert_int_equal(buf[53], 0xee);

		/* MBZ octets are ignored on decode */
		memset(buf + 4, 0xff, 12);
		memset(buf + 26, 0xff, 6);
		struct wire_sender d;
		assert_int_equal(wire_sender_decode(buf, 53, sec, &d), 0);
		assert_int_equal(d.seq, s.seq);
		assert_int_equal(d.timestamp, s.timestamp);
		assert_int_equal(d.error_estimate, s.error_estimate);
		assert_memory_equal(d.hmac, s.hmac, 16);

		/* §11.4: Sequence Number 0, T1, EE 0x8587, HMAC, 64 zero padding octets */
		struct wire_sender v = { .seq = 0, .timestamp = T1, .error_estimate = SENDER_EE };
		memcpy(v.hmac, hmac_11_4, sizeof(hmac_11_4));
		uint8_t pkt[112];
		assert_int_equal(wire_sender_encode(&v, sec, NULL, 64, pkt, sizeof(pkt)), 112);
		assert_memory_equal(pkt, vec_11_4_sender_plain, 48);
		assert_zero(pkt, 48, 112);
		assert_int_equal(wire_timestamp_offset(sec), 16);
		assert_int_equal(wire_get_ntp64(pkt + wire_timestamp_offset(sec)), T1);
	}
}

/* C5, §5.2: 112-octet auth/enc reflector plaintext; §11.4 positions; RFC 7750 octet 81 (C26). */
static void test_reflector_auth_layout(void **state)
{
	(void)state;
	for (int k = 1; k <= 2; k++) {
		enum wire_security sec = all_secs[k];

		for (int dscp = 0; dscp <= 1; dscp++) {
			struct wire_reflector r = reflector_pattern(dscp);
			uint8_t buf[128];

			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(wire_reflector_encode(&r, sec, NULL, 3, buf, sizeof(buf)), 115);
			static const uint8_t seq[4] = { 1, 2, 3, 4 };
			static const uint8_t ts[8] = { 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18 };
			static const uint8_t ee[2] = { 0x21, 0x22 };
			static const uint8_t rts[8] = { 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38 };
			static const uint8_t sseq[4] = { 0x41, 0x42, 0x43, 0x44 };
			static const uint8_t sts[8] = { 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58 };
			static const uint8_t see[2] = { 0x61, 0x62 };
			assert_memory_equal(buf + 0, seq, 4);
			assert_zero(buf, 4, 16);
			assert_memory_equal(buf + 16, ts, 8);
			assert_memory_equal(buf + 24, ee, 2);
			assert_zero(buf, 26, 32);
			assert_memory_equal(buf + 32, rts, 8);
			assert_zero(buf, 40, 48);
			assert_memory_equal(buf + 48, sseq, 4);
			assert_zero(buf, 52, 64);
			assert_memory_equal(buf + 64, sts, 8);
			assert_memory_equal(buf + 72, see, 2);
			assert_zero(buf, 74, 80);
			assert_int_equal(buf[80], 0x71);
			if (dscp) {
				assert_int_equal(buf[81], 0xb9); /* C26: octet 81 in auth/enc */
				assert_zero(buf, 82, 96);
			} else {
				assert_zero(buf, 81, 96);
			}
			assert_memory_equal(buf + 96, r.hmac, 16);
			assert_zero(buf, 112, 115);
			assert_int_equal(buf[115], 0xee);

			/* decode ignores every MBZ octet, including the SSID position */
			static const size_t mbz[][2] = {
				{ 4, 16 }, { 26, 32 }, { 40, 48 }, { 52, 64 }, { 74, 80 }, { 82, 96 },
			};
			for (size_t i = 0; i < sizeof(mbz) / sizeof(mbz[0]); i++)
				memset(buf + mbz[i][0], 0xff, mbz[i][1] - mbz[i][0]);
			if (!dscp)
				buf[81] = 0xff;
			struct wire_reflector d;
			assert_int_equal(wire_reflector_decode(buf, 115, sec, dscp, &d), 0);
			assert_refl_equal(&d, &r);
			assert_int_equal(d.ssid, 0);
		}

		/* §11.4 reflector plaintext: seq 0, T3, T2, sender seq 0, T1, TTL 253, HMAC */
		struct wire_reflector v = refl_11_2(0, 0);
		memcpy(v.hmac, hmac_11_4, sizeof(hmac_11_4));
		v.ssid = 0xbeef; /* not part of the auth layout: must not be written */
		uint8_t pkt[112];
		assert_int_equal(wire_reflector_encode(&v, sec, NULL, 0, pkt, sizeof(pkt)), 112);
		assert_memory_equal(pkt, vec_11_4_refl_plain, sizeof(pkt));
		assert_int_equal(wire_get_ntp64(pkt + wire_timestamp_offset(sec)), T3);
	}
}

/* C4, C26, §5.3: the unauthenticated RFC 7750 layout, S-DSCP-ECN at 41, padding at 44. */
static void test_reflector_dscp_ecn_open(void **state)
{
	(void)state;
	struct wire_reflector r = refl_11_2(3, 5);
	uint8_t pad[4] = { 0xd1, 0xd2, 0xd3, 0xd4 };
	uint8_t buf[64];

	r.has_dscp_ecn = true;
	r.sender_dscp_ecn = 46 << 2 | 1; /* DSCP EF, ECT(1) -> 0xb9 */
	assert_int_equal(r.sender_dscp_ecn, 0xb9);
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_OPEN, pad, sizeof(pad), buf, sizeof(buf)), 48);
	assert_memory_equal(buf, vec_11_2, 41); /* same first 41 octets as §11.2 */
	assert_int_equal(buf[41], 0xb9);
	assert_zero(buf, 42, 44);
	assert_memory_equal(buf + 44, pad, sizeof(pad));
	assert_int_equal(buf[48], 0xee);

	struct wire_reflector d;
	buf[42] = 0xff; /* MBZ, ignored */
	buf[43] = 0xff;
	assert_int_equal(wire_reflector_decode(buf, 48, WIRE_SEC_OPEN, true, &d), 0);
	assert_refl_equal(&d, &r);

	/* without RFC 7750 the same octets are padding: no S-DSCP-ECN reported */
	assert_int_equal(wire_reflector_decode(buf, 48, WIRE_SEC_OPEN, false, &d), 0);
	assert_false(d.has_dscp_ecn);
	assert_int_equal(d.sender_dscp_ecn, 0);
	assert_int_equal(d.sender_ttl, RX_TTL);

	/* a 41-octet reply is too short for the 44-octet header */
	assert_int_equal(wire_reflector_decode(vec_11_2, 41, WIRE_SEC_OPEN, true, &d), -EBADMSG);
	assert_int_equal(wire_reflector_decode(buf, 43, WIRE_SEC_OPEN, true, &d), -EBADMSG);
	assert_int_equal(wire_reflector_decode(buf, 44, WIRE_SEC_OPEN, true, &d), 0);
}

/* STAMP SSID at octets 14-15 of the open reflector layout. */
static void test_reflector_ssid(void **state)
{
	(void)state;
	struct wire_reflector r = refl_11_2(3, 5);
	uint8_t buf[41];

	r.ssid = 0xbeef;
	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_OPEN, NULL, 0, buf, sizeof(buf)), 41);
	assert_int_equal(buf[14], 0xbe);
	assert_int_equal(buf[15], 0xef);
	assert_memory_equal(buf, vec_11_2, 14);
	assert_memory_equal(buf + 16, vec_11_2 + 16, 41 - 16);

	struct wire_reflector d;
	assert_int_equal(wire_reflector_decode(buf, sizeof(buf), WIRE_SEC_OPEN, false, &d), 0);
	assert_int_equal(d.ssid, 0xbeef);
	/* the other MBZ (38-39) is ignored */
	buf[38] = 0x12;
	buf[39] = 0x34;
	assert_int_equal(wire_reflector_decode(buf, sizeof(buf), WIRE_SEC_OPEN, false, &d), 0);
	assert_refl_equal(&d, &r);
}

/* C30: every length below the header is -EBADMSG, read from an exact-size heap buffer. */
static void test_short_buffers(void **state)
{
	(void)state;
	for (size_t k = 0; k < N_SECS; k++) {
		enum wire_security sec = all_secs[k];
		size_t hs = wire_sender_hdr_len(sec);

		for (size_t len = 0; len < hs; len++) {
			uint8_t *p = malloc(len ? len : 1);
			struct wire_sender s;

			assert_non_null(p);
			memset(p, 0x5a, len ? len : 1);
			assert_int_equal(wire_sender_decode(p, len, sec, &s), -EBADMSG);
			free(p);
		}
		for (int dscp = 0; dscp <= 1; dscp++) {
			size_t hr = wire_reflector_hdr_len(sec, dscp);

			for (size_t len = 0; len < hr; len++) {
				uint8_t *p = malloc(len ? len : 1);
				struct wire_reflector r;

				assert_non_null(p);
				memset(p, 0x5a, len ? len : 1);
				assert_int_equal(wire_reflector_decode(p, len, sec, dscp, &r), -EBADMSG);
				free(p);
			}
			/* exactly the header decodes, from an exact-size buffer */
			uint8_t *p = malloc(hr);
			struct wire_reflector r;
			assert_non_null(p);
			memset(p, 0, hr);
			assert_int_equal(wire_reflector_decode(p, hr, sec, dscp, &r), 0);
			free(p);
		}
		uint8_t *p = malloc(hs);
		struct wire_sender s;
		assert_non_null(p);
		memset(p, 0, hs);
		assert_int_equal(wire_sender_decode(p, hs, sec, &s), 0);
		free(p);
	}
	/* NULL with length 0 is just a short packet */
	struct wire_sender s;
	assert_int_equal(wire_sender_decode(NULL, 0, WIRE_SEC_OPEN, &s), -EBADMSG);
}

/* -ENOSPC for every capacity below the packet length; the buffer stays untouched. */
static void test_encode_nospace(void **state)
{
	(void)state;
	uint8_t buf[200];

	for (size_t k = 0; k < N_SECS; k++) {
		enum wire_security sec = all_secs[k];
		struct wire_sender s = sender_pattern();
		size_t total = wire_sender_hdr_len(sec) + 7;

		for (size_t cap = 0; cap < total; cap++) {
			memset(buf, 0xee, sizeof(buf));
			assert_int_equal(wire_sender_encode(&s, sec, NULL, 7, buf, cap), -ENOSPC);
			assert_int_equal(buf[0], 0xee);
		}
		assert_int_equal(wire_sender_encode(&s, sec, NULL, 7, buf, total), (int)total);

		for (int dscp = 0; dscp <= 1; dscp++) {
			struct wire_reflector r = reflector_pattern(dscp);
			size_t rtotal = wire_reflector_hdr_len(sec, dscp) + 7;

			for (size_t cap = 0; cap < rtotal; cap++) {
				memset(buf, 0xee, sizeof(buf));
				assert_int_equal(wire_reflector_encode(&r, sec, NULL, 7, buf, cap), -ENOSPC);
				assert_int_equal(buf[0], 0xee);
			}
			assert_int_equal(wire_reflector_encode(&r, sec, NULL, 7, buf, rtotal), (int)rtotal);
		}
	}
	/* a length that cannot be returned as int */
	struct wire_sender s = sender_pattern();
	struct wire_reflector r = reflector_pattern(false);
	assert_int_equal(wire_sender_encode(&s, WIRE_SEC_OPEN, NULL, (size_t)INT_MAX, buf, SIZE_MAX),
			 -EMSGSIZE);
	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_AUTH, NULL, SIZE_MAX, buf, SIZE_MAX),
			 -EMSGSIZE);
}

static void test_bad_args(void **state)
{
	(void)state;
	uint8_t buf[128] = { 0 };
	struct wire_sender s = sender_pattern();
	struct wire_reflector r = reflector_pattern(false);
	enum wire_security bad = (enum wire_security)7;

	assert_int_equal(wire_sender_encode(NULL, WIRE_SEC_OPEN, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_sender_encode(&s, WIRE_SEC_OPEN, NULL, 0, NULL, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_sender_encode(&s, bad, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_sender_decode(buf, sizeof(buf), WIRE_SEC_OPEN, NULL), -EINVAL);
	assert_int_equal(wire_sender_decode(NULL, 14, WIRE_SEC_OPEN, &s), -EINVAL);
	assert_int_equal(wire_sender_decode(buf, sizeof(buf), bad, &s), -EINVAL);
	assert_int_equal(wire_reflector_encode(NULL, WIRE_SEC_OPEN, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_reflector_encode(&r, WIRE_SEC_OPEN, NULL, 0, NULL, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_reflector_encode(&r, bad, NULL, 0, buf, sizeof(buf)), -EINVAL);
	assert_int_equal(wire_reflector_decode(buf, sizeof(buf), WIRE_SEC_OPEN, false, NULL), -EINVAL);
	assert_int_equal(wire_reflector_decode(NULL, 41, WIRE_SEC_OPEN, false, &r), -EINVAL);
	assert_int_equal(wire_reflector_decode(buf, sizeof(buf), bad, false, &r), -EINVAL);
}

/* §8.1 sizes, timestamp offsets, names, NTP64 big-endian helpers (A1). */
static void test_helpers(void **state)
{
	(void)state;
	assert_int_equal(wire_sender_hdr_len(WIRE_SEC_OPEN), 14);
	assert_int_equal(wire_sender_hdr_len(WIRE_SEC_AUTH), 48);
	assert_int_equal(wire_sender_hdr_len(WIRE_SEC_ENC), 48);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_OPEN, false), 41);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_OPEN, true), 44);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_AUTH, false), 112);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_AUTH, true), 112);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_ENC, false), 112);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_ENC, true), 112);
	/* differences the sender pads for symmetric sizes: 27 and 64, not 56 (§8.1, B9) */
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_OPEN, false) - wire_sender_hdr_len(WIRE_SEC_OPEN), 27);
	assert_int_equal(wire_reflector_hdr_len(WIRE_SEC_AUTH, false) - wire_sender_hdr_len(WIRE_SEC_AUTH), 64);
	assert_int_equal(wire_timestamp_offset(WIRE_SEC_OPEN), 4);
	assert_int_equal(wire_timestamp_offset(WIRE_SEC_AUTH), 16);
	assert_int_equal(wire_timestamp_offset(WIRE_SEC_ENC), 16);
	assert_int_equal(wire_sender_hdr_len((enum wire_security)9), 0);
	assert_int_equal(wire_reflector_hdr_len((enum wire_security)9, false), 0);
	assert_int_equal(wire_timestamp_offset((enum wire_security)9), 0);
	assert_string_equal(wire_security_name(WIRE_SEC_OPEN), "open");
	assert_string_equal(wire_security_name(WIRE_SEC_AUTH), "auth");
	assert_string_equal(wire_security_name(WIRE_SEC_ENC), "enc");
	assert_string_equal(wire_security_name((enum wire_security)9), "unknown");

	uint8_t b[10];
	static const uint8_t want[8] = { 0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37 };
	memset(b, 0xee, sizeof(b));
	wire_put_ntp64(b + 1, T1);
	assert_memory_equal(b + 1, want, 8);
	assert_int_equal(b[0], 0xee);
	assert_int_equal(b[9], 0xee);
	assert_int_equal(wire_get_ntp64(want), T1);
	assert_int_equal(wire_get_ntp64(b + 1), T1);

	/* T3 patching at the offset before sending (spec §6.1 step 6) */
	uint8_t pkt[41];
	memcpy(pkt, vec_11_2, sizeof(pkt));
	wire_put_ntp64(pkt + wire_timestamp_offset(WIRE_SEC_OPEN), T4);
	struct wire_reflector d;
	assert_int_equal(wire_reflector_decode(pkt, sizeof(pkt), WIRE_SEC_OPEN, false, &d), 0);
	assert_int_equal(d.timestamp, T4);
	assert_int_equal(d.receive_timestamp, T2);
}

/* Round trip of pseudo-random structs in every layout; B4: sequence 0xffffffff encodes as is. */
static void test_round_trip(void **state)
{
	(void)state;
	uint64_t x = 0x0123456789abcdefULL;
	uint8_t buf[256];
	uint8_t pad[100];

	for (int iter = 0; iter < 3000; iter++) {
		for (size_t i = 0; i < sizeof(pad); i++) {
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			pad[i] = (uint8_t)(x >> 56);
		}
		enum wire_security sec = all_secs[iter % N_SECS];
		bool dscp = (iter / 3) & 1;
		size_t plen = (size_t)(x >> 8) % sizeof(pad);

		struct wire_sender s;
		memset(&s, 0, sizeof(s));
		s.seq = iter == 0 ? 0xffffffffu : (uint32_t)x;
		s.timestamp = x * 31;
		s.error_estimate = (uint16_t)(x >> 20);
		if (sec != WIRE_SEC_OPEN)
			memcpy(s.hmac, pad + 50, WIRE_HMAC_LEN);
		int n = wire_sender_encode(&s, sec, pad, plen, buf, sizeof(buf));
		assert_int_equal(n, (int)(wire_sender_hdr_len(sec) + plen));
		struct wire_sender ds;
		assert_int_equal(wire_sender_decode(buf, (size_t)n, sec, &ds), 0);
		assert_memory_equal(&ds, &s, sizeof(s));
		assert_memory_equal(buf + wire_sender_hdr_len(sec), pad, plen);
		if (iter == 0) {
			static const uint8_t all_ones[4] = { 0xff, 0xff, 0xff, 0xff };
			assert_memory_equal(buf, all_ones, 4);
		}

		struct wire_reflector r;
		memset(&r, 0, sizeof(r));
		r.seq = (uint32_t)(x >> 3);
		r.timestamp = x * 7;
		r.error_estimate = (uint16_t)x;
		r.ssid = sec == WIRE_SEC_OPEN ? (uint16_t)(x >> 40) : 0;
		r.receive_timestamp = x * 11;
		r.sender_seq = (uint32_t)(x >> 17);
		r.sender_timestamp = x * 13;
		r.sender_error_estimate = (uint16_t)(x >> 33);
		r.sender_ttl = (uint8_t)(x >> 50);
		r.has_dscp_ecn = dscp;
		r.sender_dscp_ecn = dscp ? (uint8_t)(x >> 44) : 0;
		if (sec != WIRE_SEC_OPEN)
			memcpy(r.hmac, pad + 30, WIRE_HMAC_LEN);
		n = wire_reflector_encode(&r, sec, pad, plen, buf, sizeof(buf));
		assert_int_equal(n, (int)(wire_reflector_hdr_len(sec, dscp) + plen));
		struct wire_reflector dr;
		assert_int_equal(wire_reflector_decode(buf, (size_t)n, sec, dscp, &dr), 0);
		assert_refl_equal(&dr, &r);
		assert_memory_equal(buf + wire_reflector_hdr_len(sec, dscp), pad, plen);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sender_11_1),
		cmocka_unit_test(test_reflector_11_2),
		cmocka_unit_test(test_rtt_11_2),
		cmocka_unit_test(test_11_3),
		cmocka_unit_test(test_sender_auth_layout),
		cmocka_unit_test(test_reflector_auth_layout),
		cmocka_unit_test(test_reflector_dscp_ecn_open),
		cmocka_unit_test(test_reflector_ssid),
		cmocka_unit_test(test_short_buffers),
		cmocka_unit_test(test_encode_nospace),
		cmocka_unit_test(test_bad_args),
		cmocka_unit_test(test_helpers),
		cmocka_unit_test(test_round_trip),
	};

	return cmocka_run_group_tests_name("wire_test", tests, NULL, NULL);
}
