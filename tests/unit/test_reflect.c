/*
 * Unit tests for the reflector's reply construction (common/reflect.c):
 * the spec's worked examples byte for byte, the truncation rule, the
 * no-amplification bound, STAMP-aware copying and RFC 7750.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "reflect.h"
#include "wire_test.h"

/* twamp-test.md §11.1: sender Sequence Number 5, T1, EE 0x8587, 27 zero octets. */
static const uint8_t req_11_1[41] = {
	0x00, 0x00, 0x00, 0x05, 0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87,
};

/* §11.2: the stateful reflector's answer (counter 3), T3 patched in. */
static const uint8_t reply_11_2[41] = {
	0x00, 0x00, 0x00, 0x03, 0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x01, 0x4f, 0x8b, 0x81, 0xd7, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0xe8, 0xfe, 0x6f, 0x80,
	0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0xfd,
};

static const ntp64_t T2 = 0xe8fe6f8020000000ULL;
static const ntp64_t T3 = 0xe8fe6f8020014f8bULL;

static struct reflect_in in_for(const uint8_t *pkt, size_t len, uint32_t refl_seq)
{
	struct reflect_in in = {
		.pkt = pkt, .len = len, .t2 = T2, .error_estimate = 0x81d7,
		.refl_seq = refl_seq, .ttl = 253, .tos = -1,
	};
	return in;
}

/* C4, C6, C7, C16: §11.2 byte for byte. */
static void test_vector_11_2(void **state)
{
	(void)state;
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN };
	struct reflect_in in = in_for(req_11_1, sizeof(req_11_1), 3);
	uint8_t out[128];
	int n = reflect_build(&cfg, &in, out, sizeof(out));
	assert_int_equal(n, 41);
	wire_put_ntp64(out + wire_timestamp_offset(WIRE_SEC_OPEN), T3);
	assert_memory_equal(out, reply_11_2, 41);
}

/* C8: a stateless reflector copies the sender's Sequence Number. */
static void test_stateless_copy(void **state)
{
	(void)state;
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN };
	uint32_t seq = reflect_sender_seq(req_11_1, sizeof(req_11_1), WIRE_SEC_OPEN);
	assert_int_equal(seq, 5);
	struct reflect_in in = in_for(req_11_1, sizeof(req_11_1), seq);
	uint8_t out[64];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 41);
	wire_put_ntp64(out + 4, T3);
	uint8_t want[41];
	memcpy(want, reply_11_2, sizeof(want));
	want[3] = 0x05;
	assert_memory_equal(out, want, 41);
}

/* §11.3, C15, C16: 54-octet request -> 54-octet reply with the first 13 padding octets. */
static void test_vector_11_3(void **state)
{
	(void)state;
	uint8_t req[54];
	memcpy(req, req_11_1, 14);
	req[3] = 6;
	for (int i = 0; i < 40; i++)
		req[14 + i] = (uint8_t)i;
	static const uint8_t want[54] = {
		0x00, 0x00, 0x00, 0x04, 0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x01, 0x4f, 0x8b, 0x81, 0xd7, 0x00, 0x00,
		0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x06, 0xe8, 0xfe, 0x6f, 0x80,
		0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0xfd, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06,
		0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
	};
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN };
	struct reflect_in in = in_for(req, sizeof(req), 4);
	uint8_t out[128];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 54);
	wire_put_ntp64(out + 4, T3);
	assert_memory_equal(out, want, 54);
}

/* C30: requests shorter than the sender header get no reply. */
static void test_short_requests(void **state)
{
	(void)state;
	uint8_t req[48] = { 0 }, out[256];
	struct reflect_cfg open = { .sec = WIRE_SEC_OPEN };
	for (size_t len = 0; len < WIRE_SENDER_HDR_OPEN; len++) {
		struct reflect_in in = in_for(req, len, 0);
		assert_int_equal(reflect_build(&open, &in, out, sizeof(out)), -EBADMSG);
	}
	struct reflect_cfg auth = { .sec = WIRE_SEC_AUTH };
	for (size_t len = 0; len < WIRE_SENDER_HDR_AUTH; len++) {
		struct reflect_in in = in_for(req, len, 0);
		assert_int_equal(reflect_build(&auth, &in, out, sizeof(out)), -EBADMSG);
	}
}

/* No amplification: reply length is max(request, reflector header) for every size. */
static void test_reply_length_bound(void **state)
{
	(void)state;
	static uint8_t req[2000], out[2100];
	for (size_t i = 0; i < sizeof(req); i++)
		req[i] = (uint8_t)(i * 37 + 11);
	const struct reflect_cfg cfgs[] = {
		{ .sec = WIRE_SEC_OPEN },
		{ .sec = WIRE_SEC_OPEN, .dscp_ecn = true },
		{ .sec = WIRE_SEC_OPEN, .stamp_aware = true },
		{ .sec = WIRE_SEC_AUTH },
		{ .sec = WIRE_SEC_ENC },
	};
	for (size_t c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
		size_t hdr_s = wire_sender_hdr_len(cfgs[c].sec);
		size_t hdr_r = wire_reflector_hdr_len(cfgs[c].sec, cfgs[c].dscp_ecn);
		if (cfgs[c].stamp_aware)
			hdr_r = WIRE_STAMP_BASE_LEN;
		for (size_t len = hdr_s; len < sizeof(req); len += 7) {
			struct reflect_in in = in_for(req, len, 1);
			int n = reflect_build(&cfgs[c], &in, out, sizeof(out));
			size_t want = len > hdr_r ? len : hdr_r;
			assert_int_equal(n, (int)want);
			assert_int_equal(reflect_reply_len(&cfgs[c], len), want);
		}
	}
}

static void test_no_space(void **state)
{
	(void)state;
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN };
	struct reflect_in in = in_for(req_11_1, sizeof(req_11_1), 0);
	uint8_t out[40];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), -ENOSPC);
}

/* C10: TTL unknown -> Sender TTL 255. */
static void test_ttl_unknown(void **state)
{
	(void)state;
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN };
	struct reflect_in in = in_for(req_11_1, sizeof(req_11_1), 0);
	in.ttl = -1;
	uint8_t out[64];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 41);
	assert_int_equal(out[40], 255);
	in.ttl = 64;
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 41);
	assert_int_equal(out[40], 64);
}

/* C26: RFC 7750 S-DSCP-ECN at octet 41, padding from 44. */
static void test_dscp_ecn(void **state)
{
	(void)state;
	uint8_t req[60];
	memcpy(req, req_11_1, 14);
	for (int i = 14; i < 60; i++)
		req[i] = (uint8_t)(0xa0 + i - 14);
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN, .dscp_ecn = true };
	struct reflect_in in = in_for(req, sizeof(req), 0);
	in.tos = (46 << 2) | 1;
	uint8_t out[64];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 60);
	assert_int_equal(out[40], 253);
	assert_int_equal(out[41], 0xb9);
	assert_int_equal(out[42], 0);
	assert_int_equal(out[43], 0);
	/* Padding: the first 16 sender padding octets. */
	for (int i = 0; i < 16; i++)
		assert_int_equal(out[44 + i], 0xa0 + i);
}

/* stamp-compat.md R7, R8 (J1-J3): SSID echoed, 41-43 zero, 44.. copied in place. */
static void test_stamp_aware(void **state)
{
	(void)state;
	uint8_t req[64];
	memset(req, 0, sizeof(req));
	memcpy(req, req_11_1, 14);
	req[14] = 0xbe;
	req[15] = 0xef;
	for (int i = 44; i < 64; i++)
		req[i] = (uint8_t)i;
	struct reflect_cfg cfg = { .sec = WIRE_SEC_OPEN, .stamp_aware = true };
	struct reflect_in in = in_for(req, sizeof(req), 9);
	uint8_t out[128];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 64);
	assert_int_equal(out[14], 0xbe);
	assert_int_equal(out[15], 0xef);
	assert_int_equal(out[41], 0);
	assert_int_equal(out[42], 0);
	assert_int_equal(out[43], 0);
	assert_memory_equal(out + 44, req + 44, 20);
	/* A 44-octet base packet gets a 44-octet reply; a 20-octet one too (R8). */
	in.len = 44;
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 44);
	in.len = 20;
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 44);
	/* Without STAMP awareness a 44-octet request also gets 44 octets (J1, R3). */
	struct reflect_cfg plain = { .sec = WIRE_SEC_OPEN };
	in.len = 44;
	assert_int_equal(reflect_build(&plain, &in, out, sizeof(out)), 44);
	assert_int_equal(out[14], 0);
}

/* C5 layout: the auth/enc reply copies sender fields into their blocks. */
static void test_auth_layout(void **state)
{
	(void)state;
	uint8_t req[48 + 64];
	memset(req, 0, sizeof(req));
	req[3] = 7;
	wire_put_ntp64(req + 16, 0xe8fe6f801f9add37ULL);
	req[24] = 0x85;
	req[25] = 0x87;
	struct reflect_cfg cfg = { .sec = WIRE_SEC_AUTH };
	struct reflect_in in = in_for(req, sizeof(req), 0);
	uint8_t out[256];
	assert_int_equal(reflect_build(&cfg, &in, out, sizeof(out)), 112);
	assert_int_equal(wire_get_ntp64(out + 32), T2);
	assert_int_equal(out[51], 7);
	assert_int_equal(wire_get_ntp64(out + 64), 0xe8fe6f801f9add37ULL);
	assert_int_equal(out[72], 0x85);
	assert_int_equal(out[73], 0x87);
	assert_int_equal(out[80], 253);
	assert_int_equal(wire_timestamp_offset(WIRE_SEC_AUTH), 16);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_11_2),
		cmocka_unit_test(test_stateless_copy),
		cmocka_unit_test(test_vector_11_3),
		cmocka_unit_test(test_short_requests),
		cmocka_unit_test(test_reply_length_bound),
		cmocka_unit_test(test_no_space),
		cmocka_unit_test(test_ttl_unknown),
		cmocka_unit_test(test_dscp_ecn),
		cmocka_unit_test(test_stamp_aware),
		cmocka_unit_test(test_auth_layout),
	};
	return cmocka_run_group_tests_name("reflect", tests, NULL, NULL);
}
