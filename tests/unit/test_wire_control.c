/*
 * Unit tests for common/wire_control.c: every TWAMP-Control message of the
 * twamp-control.md §12 vector encoded and decoded byte for byte (as
 * plaintext; the encryption is test_crypto's), the §9 Start-N-Sessions
 * example, the Reflect Octets fields, IPv4/IPv6 address encoding, Type-P,
 * Accept normalization, message lengths from the first block, the mode and
 * count helpers, and every short-buffer, small-capacity and bad-argument
 * error path.  Checklist IDs (D2, D3, D4, D8, D9, D11, D15, E1-E7, E11,
 * E13, E16, E23, F6, F7, G1, G2, G8, G10) are cited where a test covers them.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spec_vectors.h"

#include "tstamp.h"
#include "wire_control.h"

#define NTP(sec, frac) ((ntp64_t)(uint32_t)(sec) << 32 | (uint32_t)(frac))

/* --- twamp-control.md §12, plaintext ---------------------------------------- */

/* §9: Start-N-Sessions for two SIDs, unauthenticated (HMAC zero) */
static const uint8_t vec_start_n[64] = {
	0x07, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
	0xc6, 0x33, 0x64, 0x14, 0xe8, 0xfe, 0x6f, 0x80, 0x00, 0x00, 0x00, 0x00, 0xa1, 0xb2, 0xc3, 0xd4,
	0xc6, 0x33, 0x64, 0x14, 0xe8, 0xfe, 0x6f, 0x81, 0x00, 0x00, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

/* Stop-Sessions, Number of Sessions 1, with an HMAC */
static const uint8_t vec_stop[32] = {
	0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x10, 0x21, 0x32, 0x43, 0x54, 0x65, 0x76, 0x87, 0x98, 0xa9, 0xba, 0xcb, 0xdc, 0xed, 0xfe, 0x0f,
};

static void ramp(uint8_t *p, uint8_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

/* --- constants and helpers -------------------------------------------------- */

/* G1: the Modes bit values of RFC 4656/5618/5938/6038/7717/7750/8186. */
static void test_mode_constants(void **state)
{
	(void)state;
	assert_int_equal(WIRE_MODE_OPEN, 1);
	assert_int_equal(WIRE_MODE_AUTH, 2);
	assert_int_equal(WIRE_MODE_ENC, 4);
	assert_int_equal(WIRE_MODE_MIXED, 8);
	assert_int_equal(WIRE_MODE_ISC, 16);
	assert_int_equal(WIRE_MODE_REFLECT_OCTETS, 32);
	assert_int_equal(WIRE_MODE_SYMMETRICAL, 64);
	assert_int_equal(WIRE_MODE_IKEV2, 128);
	assert_int_equal(WIRE_MODE_DSCP_ECN, 256);
	assert_int_equal(WIRE_MODE_PTPV2, 512);
	assert_int_equal(WIRE_CMD_START_SESSIONS, 2);
	assert_int_equal(WIRE_CMD_STOP_SESSIONS, 3);
	assert_int_equal(WIRE_CMD_REQUEST_TW_SESSION, 5);
	assert_int_equal(WIRE_CMD_START_N_SESSIONS, 7);
	assert_int_equal(WIRE_CMD_START_N_ACK, 8);
	assert_int_equal(WIRE_CMD_STOP_N_SESSIONS, 9);
	assert_int_equal(WIRE_CMD_STOP_N_ACK, 10);

	assert_string_equal(wire_mode_name(WIRE_MODE_MIXED), "mixed");
	assert_string_equal(wire_mode_name(WIRE_MODE_PTPV2), "ptpv2");
	assert_null(wire_mode_name(0));
	assert_null(wire_mode_name(3));
	assert_null(wire_mode_name(0x400));

	char buf[128];
	assert_string_equal(wire_modes_str(15, buf, sizeof(buf)), "open|auth|enc|mixed");
	assert_string_equal(wire_modes_str(0, buf, sizeof(buf)), "none");
	assert_string_equal(wire_modes_str(WIRE_MODE_AUTH | WIRE_MODE_ISC | 0x100000, buf, sizeof(buf)),
			    "auth|isc|0x100000");
	assert_string_equal(wire_modes_str(0x80000000u, buf, sizeof(buf)), "0x80000000");
	/* truncation is safe and NUL-terminated */
	assert_string_equal(wire_modes_str(15, buf, 8), "open|au");
	assert_string_equal(wire_modes_str(15, buf, 1), "");
	assert_null(wire_modes_str(15, NULL, 0));

	assert_string_equal(wire_cmd_name(5), "Request-TW-Session");
	assert_string_equal(wire_cmd_name(10), "Stop-N-Ack");
	assert_string_equal(wire_cmd_name(11), "unknown");
	assert_string_equal(wire_cmd_name(255), "unknown");
}

/* E23: Accept 0-5 as defined, everything else is 1. */
static void test_accept_values(void **state)
{
	(void)state;
	for (unsigned v = 0; v <= 5; v++)
		assert_int_equal(wire_accept_normalize((uint8_t)v), v);
	for (unsigned v = 6; v <= 255; v++)
		assert_int_equal(wire_accept_normalize((uint8_t)v), WIRE_ACCEPT_FAILURE);
	assert_string_equal(wire_accept_name(0), "ok");
	assert_string_equal(wire_accept_name(1), "failure");
	assert_string_equal(wire_accept_name(2), "internal error");
	assert_string_equal(wire_accept_name(3), "not supported");
	assert_string_equal(wire_accept_name(4), "permanent resource limitation");
	assert_string_equal(wire_accept_name(5), "temporary resource limitation");
	assert_string_equal(wire_accept_name(9), "failure");
}

/* D9, G10: exactly one security bit, and only offered bits. */
static void test_mode_valid(void **state)
{
	(void)state;
	const uint32_t offered = 15 | WIRE_MODE_ISC | WIRE_MODE_REFLECT_OCTETS;

	assert_true(wire_mode_valid(WIRE_MODE_OPEN, offered));
	assert_true(wire_mode_valid(WIRE_MODE_AUTH, offered));
	assert_true(wire_mode_valid(WIRE_MODE_MIXED | WIRE_MODE_ISC, offered));
	assert_true(wire_mode_valid(WIRE_MODE_ENC | WIRE_MODE_ISC | WIRE_MODE_REFLECT_OCTETS, offered));
	assert_false(wire_mode_valid(0, offered));                           /* D10: gives up */
	assert_false(wire_mode_valid(WIRE_MODE_ISC, offered));               /* no security bit */
	assert_false(wire_mode_valid(WIRE_MODE_OPEN | WIRE_MODE_AUTH, offered)); /* two */
	assert_false(wire_mode_valid(WIRE_MODE_AUTH, WIRE_MODE_OPEN));       /* not offered */
	assert_false(wire_mode_valid(WIRE_MODE_OPEN | WIRE_MODE_DSCP_ECN, offered)); /* G10 */
	assert_false(wire_mode_valid(WIRE_MODE_OPEN | 0x100000, offered | WIRE_MODE_OPEN));

	/* F7: mixed mode uses the open test format; auth/enc their own */
	assert_int_equal(wire_mode_test_security(WIRE_MODE_OPEN), WIRE_SEC_OPEN);
	assert_int_equal(wire_mode_test_security(WIRE_MODE_MIXED | WIRE_MODE_ISC), WIRE_SEC_OPEN);
	assert_int_equal(wire_mode_test_security(WIRE_MODE_AUTH), WIRE_SEC_AUTH);
	assert_int_equal(wire_mode_test_security(WIRE_MODE_ENC | WIRE_MODE_ISC), WIRE_SEC_ENC);
	assert_false(wire_mode_encrypts_control(WIRE_MODE_OPEN | WIRE_MODE_ISC));
	assert_true(wire_mode_encrypts_control(WIRE_MODE_AUTH));
	assert_true(wire_mode_encrypts_control(WIRE_MODE_ENC));
	assert_true(wire_mode_encrypts_control(WIRE_MODE_MIXED));
}

/* D3, D4: Count is a power of two, >= 1024, <= the client's maximum. */
static void test_count_valid(void **state)
{
	(void)state;
	assert_true(wire_count_valid(1024, WIRE_COUNT_DEFAULT_MAX));
	assert_true(wire_count_valid(2048, WIRE_COUNT_DEFAULT_MAX));
	assert_true(wire_count_valid(32768, WIRE_COUNT_DEFAULT_MAX));
	assert_false(wire_count_valid(65536, WIRE_COUNT_DEFAULT_MAX));
	assert_true(wire_count_valid(65536, 65536));
	assert_false(wire_count_valid(512, WIRE_COUNT_DEFAULT_MAX));
	assert_false(wire_count_valid(0, WIRE_COUNT_DEFAULT_MAX));
	assert_false(wire_count_valid(1025, WIRE_COUNT_DEFAULT_MAX));
	assert_false(wire_count_valid(3072, WIRE_COUNT_DEFAULT_MAX));
	assert_true(wire_count_valid(0x80000000u, UINT32_MAX));
}

/* RFC 4656 §6.10: the message length follows from the first block. */
static void test_msg_len(void **state)
{
	(void)state;
	uint8_t b[16] = { 0 };

	b[0] = 2;
	assert_int_equal(wire_ctrl_msg_len(b, 16), 32);
	b[0] = 3;
	assert_int_equal(wire_ctrl_msg_len(b, 16), 32);
	b[0] = 5;
	assert_int_equal(wire_ctrl_msg_len(b, 16), 112);
	for (uint8_t cmd = 7; cmd <= 10; cmd++) {
		b[0] = cmd;
		b[15] = 0;
		assert_int_equal(wire_ctrl_msg_len(b, 16), -EBADMSG); /* G2: N >= 1 */
		b[15] = 1;
		assert_int_equal(wire_ctrl_msg_len(b, 16), 48);
		b[15] = 2;
		assert_int_equal(wire_ctrl_msg_len(b, 16), 64);
		b[15] = WIRE_NSESSIONS_MAX;
		assert_int_equal(wire_ctrl_msg_len(b, 16), 32 + 16 * WIRE_NSESSIONS_MAX);
		b[15] = WIRE_NSESSIONS_MAX + 1;
		assert_int_equal(wire_ctrl_msg_len(b, 16), -EBADMSG);
		b[12] = 1;
		b[15] = 1;
		assert_int_equal(wire_ctrl_msg_len(b, 16), -EBADMSG); /* N = 2^24 + 1 */
		b[12] = 0;
	}
	static const uint8_t unknown[] = { 0, 1, 4, 6, 11, 0x42, 255 };
	for (size_t i = 0; i < sizeof(unknown); i++) {
		b[0] = unknown[i];
		assert_int_equal(wire_ctrl_msg_len(b, 16), -EBADMSG);
	}
	b[0] = 2;
	assert_int_equal(wire_ctrl_msg_len(b, 15), -EINVAL);
	assert_int_equal(wire_ctrl_msg_len(NULL, 16), -EINVAL);
	/* a longer buffer is fine: only the first block is read */
	assert_int_equal(wire_ctrl_msg_len(vec_request_plain, 112), 112);
	assert_int_equal(wire_ctrl_msg_len(vec_start_n, 64), 64);
}

/* E11: IPv4 address + NTP timestamp + random, the §12 SID. */
static void test_sid_make(void **state)
{
	(void)state;
	static const uint8_t addr[4] = { 198, 51, 100, 20 }, rnd[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	uint8_t sid[16];

	wire_sid_make(sid, addr, ts_ntp_from_unix_ns(1700000000LL * TS_NSEC_PER_SEC), rnd);
	assert_memory_equal(sid, sid_12, 16);
	wire_sid_make(sid, addr, NTP(0x01020304u, 0x05060708u), rnd);
	static const uint8_t want[16] = { 198, 51, 100, 20, 1, 2, 3, 4, 5, 6, 7, 8, 0xa1, 0xb2, 0xc3, 0xd4 };
	assert_memory_equal(sid, want, 16);
}

/* D11: KeyID zero-padded to 80 octets. */
static void test_keyid(void **state)
{
	(void)state;
	uint8_t f[WIRE_KEYID_LEN];
	char id[81];

	memset(f, 0xee, sizeof(f));
	assert_int_equal(wire_keyid_set(f, "labuser", 7), 0);
	assert_memory_equal(f, "labuser", 7);
	for (size_t i = 7; i < WIRE_KEYID_LEN; i++)
		assert_int_equal(f[i], 0);
	assert_int_equal(wire_keyid_len(f), 7);

	memset(id, 'x', 80);
	assert_int_equal(wire_keyid_set(f, id, 80), 0);
	assert_int_equal(wire_keyid_len(f), 80);
	assert_int_equal(wire_keyid_set(f, id, 81), -EINVAL);
	assert_int_equal(wire_keyid_set(f, "a\0b", 3), -EINVAL);
	assert_int_equal(wire_keyid_set(f, NULL, 1), -EINVAL);
	assert_int_equal(wire_keyid_set(NULL, "a", 1), -EINVAL);
	assert_int_equal(wire_keyid_set(f, NULL, 0), 0);
	assert_int_equal(wire_keyid_len(f), 0);
}

/* E7: Type-P 00 + DSCP; other formats are "not supported". */
static void test_type_p(void **state)
{
	(void)state;
	uint8_t dscp = 0xff;

	assert_int_equal(wire_type_p_from_dscp(46), 0x2e000000u);
	assert_int_equal(wire_type_p_from_dscp(0), 0);
	assert_int_equal(wire_type_p_from_dscp(63), 0x3f000000u);
	assert_int_equal(wire_type_p_from_dscp(0xff), 0x3f000000u);
	assert_int_equal(wire_type_p_dscp(0x2e000000u, &dscp), 0);
	assert_int_equal(dscp, 46);
	assert_int_equal(wire_type_p_dscp(0, &dscp), 0);
	assert_int_equal(dscp, 0);
	assert_int_equal(wire_type_p_dscp(0x40000000u, &dscp), -ENOTSUP); /* 01: PHB ID */
	assert_int_equal(wire_type_p_dscp(0x80000000u, &dscp), -ENOTSUP);
	assert_int_equal(wire_type_p_dscp(0xc0000000u, &dscp), -ENOTSUP);
	assert_int_equal(wire_type_p_dscp(0x2e000001u, &dscp), -ENOTSUP); /* rest not zero */
	assert_int_equal(wire_type_p_dscp(0x00800000u, NULL), -ENOTSUP);
	assert_int_equal(wire_type_p_dscp(0x3f000000u, NULL), 0);
}

/* --- connection set-up ---------------------------------------------------- */

/* D2: Server Greeting of §12; Unused and MBZ are ignored on decode. */
static void test_greeting(void **state)
{
	(void)state;
	struct wire_greeting g = { .modes = 7, .count = 1024 }, d;
	uint8_t buf[64];

	ramp(g.challenge, 0x10, 16);
	ramp(g.salt, 0x00, 16);
	assert_int_equal(wire_greeting_encode(&g, buf, sizeof(buf)), WIRE_GREETING_LEN);
	assert_memory_equal(buf, vec_greeting, 64);
	assert_int_equal(wire_greeting_decode(vec_greeting, 64, &d), 0);
	assert_int_equal(d.modes, 7);
	assert_int_equal(d.count, 1024);
	assert_memory_equal(d.challenge, g.challenge, 16);
	assert_memory_equal(d.salt, g.salt, 16);

	memcpy(buf, vec_greeting, 64);
	memset(buf, 0xaa, 12);
	memset(buf + 52, 0x55, 12);
	assert_int_equal(wire_greeting_decode(buf, 64, &d), 0);
	assert_int_equal(d.modes, 7);
	assert_int_equal(d.count, 1024);
	assert_int_equal(wire_greeting_encode(&d, buf, sizeof(buf)), 64);
	assert_memory_equal(buf, vec_greeting, 64);
}

/* D8: Set-Up-Response of §12, KeyID at 4, Token at 84, Client-IV at 148. */
static void test_setup_response(void **state)
{
	(void)state;
	struct wire_setup_response m = { .mode = 2 }, d;
	uint8_t buf[WIRE_SETUP_RESPONSE_LEN];

	assert_int_equal(wire_keyid_set(m.keyid, "client-1", 8), 0);
	memcpy(m.token, vec_setup + 84, 64);
	ramp(m.client_iv, 0x50, 16);
	assert_int_equal(wire_setup_response_encode(&m, buf, sizeof(buf)), 164);
	assert_memory_equal(buf, vec_setup, 164);
	assert_int_equal(wire_setup_response_decode(vec_setup, 164, &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
	assert_int_equal(vec_setup[84], 0xae);   /* Token starts at 84 */
	assert_int_equal(vec_setup[148], 0x50);  /* Client-IV at 148 */
}

/* D15: Server-Start of §12, and a rejection. */
static void test_server_start(void **state)
{
	(void)state;
	struct wire_server_start m = { .accept = 0 }, d;
	uint8_t buf[48];

	ramp(m.server_iv, 0x60, 16);
	m.start_time = NTP(0xe8fe6b98u, 0);
	assert_int_equal(wire_server_start_encode(&m, buf, sizeof(buf)), 48);
	assert_memory_equal(buf, vec_server_start_plain, 48);
	assert_int_equal(wire_server_start_decode(vec_server_start_plain, 48, &d), 0);
	assert_int_equal(d.accept, 0);
	assert_int_equal(d.start_time, m.start_time);
	assert_memory_equal(d.server_iv, m.server_iv, 16);

	/* Accept at octet 15; reserved values read as 1 (E23) */
	memcpy(buf, vec_server_start_plain, 48);
	buf[15] = 9;
	memset(buf, 0x77, 15); /* MBZ ignored */
	assert_int_equal(wire_server_start_decode(buf, 48, &d), 0);
	assert_int_equal(d.accept, WIRE_ACCEPT_FAILURE);
	buf[15] = 3;
	assert_int_equal(wire_server_start_decode(buf, 48, &d), 0);
	assert_int_equal(d.accept, WIRE_ACCEPT_NOT_SUPPORTED);
}

/* --- commands --------------------------------------------------------------- */

static void request_12(struct wire_request_session *r)
{
	memset(r, 0, sizeof(*r));
	r->ipvn = 4;
	r->sender_port = 50000;
	r->receiver_port = 862;
	r->sender_addr[0] = 192, r->sender_addr[2] = 2, r->sender_addr[3] = 10;
	r->receiver_addr[0] = 198, r->receiver_addr[1] = 51, r->receiver_addr[2] = 100;
	r->receiver_addr[3] = 20;
	r->padding_length = 64;
	r->timeout = NTP(2, 0);
	r->type_p = wire_type_p_from_dscp(46);
	memcpy(r->hmac, vec_request_plain + 96, 16);
}

/* E1, E4, E5, E7: the §12 Request-TW-Session. */
static void test_request_session(void **state)
{
	(void)state;
	struct wire_request_session m, d;
	uint8_t buf[WIRE_REQUEST_SESSION_LEN];

	request_12(&m);
	assert_int_equal(wire_request_session_encode(&m, buf, sizeof(buf)), 112);
	assert_memory_equal(buf, vec_request_plain, 112);
	memset(&d, 0, sizeof(d));
	assert_int_equal(wire_request_session_decode(vec_request_plain, 112, &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
	assert_int_equal(wire_request_check(&d), WIRE_ACCEPT_OK);
	/* E7: DSCP 46 at octet 84 */
	assert_memory_equal(buf + 84, "\x2e\x00\x00\x00", 4);
	/* E5: IPv4 addresses in the first 4 octets of the 16 */
	assert_memory_equal(buf + 16, "\xc0\x00\x02\x0a", 4);
	for (size_t i = 20; i < 32; i++)
		assert_int_equal(buf[i], 0);

	/* E5: on decode the 12 octets after an IPv4 address are MBZ and ignored */
	memcpy(buf, vec_request_plain, 112);
	memset(buf + 20, 0xab, 12);
	memset(buf + 36, 0xcd, 12);
	buf[1] = 0xf4;              /* MBZ nibble above IPVN */
	memset(buf + 92, 0x99, 4);  /* MBZ after the Reflect Octets fields */
	memset(&d, 0, sizeof(d));
	assert_int_equal(wire_request_session_decode(buf, 112, &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
	/* an encoder given junk after an IPv4 address still writes zeros */
	memset(m.sender_addr + 4, 0x11, 12);
	assert_int_equal(wire_request_session_encode(&m, buf, sizeof(buf)), 112);
	assert_memory_equal(buf, vec_request_plain, 112);

	/* wrong Command Number */
	memcpy(buf, vec_request_plain, 112);
	buf[0] = 1;
	assert_int_equal(wire_request_session_decode(buf, 112, &d), -EBADMSG);
	m.ipvn = 0x14;
	assert_int_equal(wire_request_session_encode(&m, buf, sizeof(buf)), -EINVAL);
}

/* IPv6 addresses use all 16 octets; Reflect Octets fields at 88-91 (RFC 6038 §4.2). */
static void test_request_session_ipv6(void **state)
{
	(void)state;
	struct wire_request_session m, d;
	uint8_t buf[112];

	request_12(&m);
	m.ipvn = 6;
	ramp(m.sender_addr, 0x20, 16);
	ramp(m.receiver_addr, 0x40, 16);
	m.octets_to_reflect = 0xbeef;
	m.reflect_padding_len = 27;
	m.conf_sender = 1;
	m.start_time = NTP(0xe8fe6f80u, 0x80000000u);
	assert_int_equal(wire_request_session_encode(&m, buf, sizeof(buf)), 112);
	assert_int_equal(buf[1], 6);
	assert_int_equal(buf[2], 1);
	assert_memory_equal(buf + 16, m.sender_addr, 16);
	assert_memory_equal(buf + 32, m.receiver_addr, 16);
	assert_memory_equal(buf + 68, "\xe8\xfe\x6f\x80\x80\x00\x00\x00", 8);
	assert_memory_equal(buf + 88, "\xbe\xef\x00\x1b\x00\x00\x00\x00", 8);
	memset(&d, 0, sizeof(d));
	assert_int_equal(wire_request_session_decode(buf, 112, &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));
}

/* E2, E3, E7: fields a TWAMP server answers with Accept 3. */
static void test_request_check(void **state)
{
	(void)state;
	struct wire_request_session m;

	request_12(&m);
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_OK);
	m.ipvn = 6;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_OK);
	m.conf_sender = 1;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_NOT_SUPPORTED);
	request_12(&m);
	m.conf_receiver = 1;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_NOT_SUPPORTED);
	request_12(&m);
	m.schedule_slots = 1;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_NOT_SUPPORTED);
	request_12(&m);
	m.packets = 10;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_NOT_SUPPORTED);
	request_12(&m);
	m.ipvn = 5;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_NOT_SUPPORTED);
	request_12(&m);
	m.type_p = 0x40000000u;
	assert_int_equal(wire_request_check(&m), WIRE_ACCEPT_NOT_SUPPORTED);
	assert_int_equal(wire_request_check(NULL), WIRE_ACCEPT_NOT_SUPPORTED);
}

/* The §12 Accept-Session; Reflect Octets variant (G8); a rejection (E23). */
static void test_accept_session(void **state)
{
	(void)state;
	struct wire_accept_session m = { .accept = 0, .port = 862 }, d;
	uint8_t buf[48];

	memcpy(m.sid, sid_12, 16);
	memcpy(m.hmac, vec_accept_plain + 32, 16);
	assert_int_equal(wire_accept_session_encode(&m, buf, sizeof(buf)), 48);
	assert_memory_equal(buf, vec_accept_plain, 48);
	memset(&d, 0, sizeof(d)); /* struct padding, for the memcmp below */
	assert_int_equal(wire_accept_session_decode(vec_accept_plain, 48, &d), 0);
	assert_memory_equal(&d, &m, sizeof(m));

	m.reflected_octets = 0xbeef;
	m.server_octets = 0x1234;
	assert_int_equal(wire_accept_session_encode(&m, buf, sizeof(buf)), 48);
	assert_memory_equal(buf + 20, "\xbe\xef\x12\x34\x00\x00\x00\x00\x00\x00\x00\x00", 12);
	assert_int_equal(wire_accept_session_decode(buf, 48, &d), 0);
	assert_int_equal(d.reflected_octets, 0xbeef);
	assert_int_equal(d.server_octets, 0x1234);

	buf[0] = 200;
	buf[1] = 0xff;              /* MBZ */
	memset(buf + 24, 0xee, 8);  /* MBZ */
	assert_int_equal(wire_accept_session_decode(buf, 48, &d), 0);
	assert_int_equal(d.accept, WIRE_ACCEPT_FAILURE);
	assert_int_equal(d.port, 862);
}

/* E13: Start-Sessions and Start-Ack of §12. */
static void test_start_sessions_ack(void **state)
{
	(void)state;
	struct wire_start_sessions s, sd;
	struct wire_start_ack a = { .accept = 0 }, ad;
	uint8_t buf[32];

	memcpy(s.hmac, vec_start_plain + 16, 16);
	assert_int_equal(wire_start_sessions_encode(&s, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, vec_start_plain, 32);
	assert_int_equal(wire_start_sessions_decode(vec_start_plain, 32, &sd), 0);
	assert_memory_equal(sd.hmac, s.hmac, 16);
	memcpy(buf, vec_start_plain, 32);
	buf[0] = 3;
	assert_int_equal(wire_start_sessions_decode(buf, 32, &sd), -EBADMSG);

	memcpy(a.hmac, vec_start_ack_plain + 16, 16);
	assert_int_equal(wire_start_ack_encode(&a, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, vec_start_ack_plain, 32);
	assert_int_equal(wire_start_ack_decode(vec_start_ack_plain, 32, &ad), 0);
	assert_int_equal(ad.accept, 0);
	assert_memory_equal(ad.hmac, a.hmac, 16);
	buf[0] = 5;
	assert_int_equal(wire_start_ack_decode(buf, 32, &ad), 0);
	assert_int_equal(ad.accept, 5);
	buf[0] = 6;                 /* E23 */
	assert_int_equal(wire_start_ack_decode(buf, 32, &ad), 0);
	assert_int_equal(ad.accept, 1);

	/* F6: unauthenticated mode, HMAC zero */
	struct wire_start_sessions z = { { 0 } };
	assert_int_equal(wire_start_sessions_encode(&z, buf, sizeof(buf)), 32);
	for (size_t i = 1; i < 32; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[0], 2);
}

/* E16: TWAMP Stop-Sessions: Command 3, Accept, MBZ 2, Number of Sessions, MBZ 8, HMAC. */
static void test_stop_sessions(void **state)
{
	(void)state;
	struct wire_stop_sessions m = { .accept = 0, .num_sessions = 1 }, d;
	uint8_t buf[32];
	static const uint8_t want[32] = { 3, 0, 0, 0, 0, 0, 0, 1 };

	assert_int_equal(wire_stop_sessions_encode(&m, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, want, 32);
	assert_int_equal(wire_stop_sessions_decode(buf, 32, &d), 0);
	assert_int_equal(d.accept, 0);
	assert_int_equal(d.num_sessions, 1);

	m.accept = 2;
	m.num_sessions = 0x01020304u;
	ramp(m.hmac, 0xa0, 16);
	assert_int_equal(wire_stop_sessions_encode(&m, buf, sizeof(buf)), 32);
	assert_memory_equal(buf, "\x03\x02\x00\x00\x01\x02\x03\x04\x00\x00\x00\x00\x00\x00\x00\x00", 16);
	assert_memory_equal(buf + 16, m.hmac, 16);
	assert_int_equal(wire_stop_sessions_decode(buf, 32, &d), 0);
	assert_int_equal(d.accept, 2);
	assert_int_equal(d.num_sessions, 0x01020304u);
	assert_memory_equal(d.hmac, m.hmac, 16);

	buf[1] = 77;                /* E23 */
	buf[2] = 0xff;              /* MBZ */
	assert_int_equal(wire_stop_sessions_decode(buf, 32, &d), 0);
	assert_int_equal(d.accept, 1);
	buf[0] = 2;
	assert_int_equal(wire_stop_sessions_decode(buf, 32, &d), -EBADMSG);
}

/* G2: the §9 Start-N-Sessions example, the acks and the Stop-N variants. */
static void test_n_sessions(void **state)
{
	(void)state;
	struct wire_n_sessions *m = calloc(1, sizeof(*m)), *d = calloc(1, sizeof(*d));
	uint8_t buf[WIRE_CTRL_MAX_LEN];

	assert_non_null(m);
	assert_non_null(d);
	m->cmd = WIRE_CMD_START_N_SESSIONS;
	m->n = 2;
	memcpy(m->sids[0], vec_start_n + 16, 16);
	memcpy(m->sids[1], vec_start_n + 32, 16);
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), 64);
	assert_memory_equal(buf, vec_start_n, 64);
	assert_int_equal(wire_n_sessions_decode(vec_start_n, 64, d), 0);
	assert_int_equal(d->cmd, 7);
	assert_int_equal(d->accept, 0);
	assert_int_equal(d->n, 2);
	assert_memory_equal(d->sids[0], vec_start_n + 16, 16);
	assert_memory_equal(d->sids[1], vec_start_n + 32, 16);
	assert_int_equal(wire_ctrl_msg_len(vec_start_n, 64), 64);

	/* octet 1 is MBZ in the commands: ignored, written as zero */
	m->accept = 4;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), 64);
	assert_int_equal(buf[1], 0);
	buf[1] = 4;
	assert_int_equal(wire_n_sessions_decode(buf, 64, d), 0);
	assert_int_equal(d->accept, 0);

	/* ... and Accept in the acks: Start-N-Ack {Accept 5: SID 3} of RFC 5938 §3.3 */
	m->cmd = WIRE_CMD_START_N_ACK;
	m->accept = 5;
	m->n = 1;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), 48);
	assert_memory_equal(buf, "\x08\x05\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
	assert_int_equal(wire_n_sessions_decode(buf, 48, d), 0);
	assert_int_equal(d->accept, 5);
	buf[1] = 99;
	assert_int_equal(wire_n_sessions_decode(buf, 48, d), 0);
	assert_int_equal(d->accept, 1); /* E23 */

	m->cmd = WIRE_CMD_STOP_N_SESSIONS;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), 48);
	assert_int_equal(buf[0], 9);
	assert_int_equal(buf[1], 0);
	m->cmd = WIRE_CMD_STOP_N_ACK;
	m->accept = 0;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), 48);
	assert_int_equal(buf[0], 10);

	/* the bound: WIRE_NSESSIONS_MAX SIDs round-trip, one more is refused */
	m->cmd = WIRE_CMD_STOP_N_SESSIONS;
	m->n = WIRE_NSESSIONS_MAX;
	for (uint32_t i = 0; i < m->n; i++)
		memset(m->sids[i], (int)i, 16);
	ramp(m->hmac, 0x80, 16);
	int len = wire_n_sessions_encode(m, buf, sizeof(buf));
	assert_int_equal(len, WIRE_CTRL_MAX_LEN);
	assert_int_equal(wire_n_sessions_decode(buf, (size_t)len, d), 0);
	assert_int_equal(d->n, WIRE_NSESSIONS_MAX);
	assert_memory_equal(d->sids, m->sids, sizeof(m->sids));
	assert_memory_equal(d->hmac, m->hmac, 16);
	assert_int_equal(wire_n_sessions_decode(buf, (size_t)len - 1, d), -EBADMSG);

	m->n = WIRE_NSESSIONS_MAX + 1;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), -EINVAL);
	m->n = 0;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), -EINVAL);
	m->n = 1;
	m->cmd = WIRE_CMD_STOP_SESSIONS;
	assert_int_equal(wire_n_sessions_encode(m, buf, sizeof(buf)), -EINVAL);

	memcpy(buf, vec_start_n, 64);
	buf[15] = 0;                /* N = 0 */
	assert_int_equal(wire_n_sessions_decode(buf, 64, d), -EBADMSG);
	buf[15] = WIRE_NSESSIONS_MAX + 1;
	assert_int_equal(wire_n_sessions_decode(buf, sizeof(buf), d), -EBADMSG);
	buf[15] = 2;
	buf[0] = 6;
	assert_int_equal(wire_n_sessions_decode(buf, 64, d), -EBADMSG);
	buf[0] = 11;
	assert_int_equal(wire_n_sessions_decode(buf, 64, d), -EBADMSG);
	free(m);
	free(d);
}

/* --- errors of every codec ---------------------------------------------------- */

struct codec {
	const char *name;
	size_t len;
	const uint8_t *sample;  /* a valid encoding */
	int (*encode)(const uint8_t *sample, uint8_t *buf, size_t cap); /* decodes sample, re-encodes */
	int (*decode)(const uint8_t *buf, size_t len, int null_struct);
};

#define CODEC(type, fn, LEN)                                                       \
	static int enc_##fn(const uint8_t *sample, uint8_t *buf, size_t cap)               \
	{                                                                                  \
		struct type m;                                                             \
		memset(&m, 0, sizeof(m));                                                  \
		assert_int_equal(fn##_decode(sample, LEN, &m), 0);                         \
		return fn##_encode(&m, buf, cap);                                          \
	}                                                                                  \
	static int dec_##fn(const uint8_t *buf, size_t len, int null_struct)               \
	{                                                                                  \
		struct type m;                                                             \
		return fn##_decode(buf, len, null_struct ? NULL : &m);                     \
	}

CODEC(wire_greeting, wire_greeting, 64)
CODEC(wire_setup_response, wire_setup_response, 164)
CODEC(wire_server_start, wire_server_start, 48)
CODEC(wire_request_session, wire_request_session, 112)
CODEC(wire_accept_session, wire_accept_session, 48)
CODEC(wire_start_sessions, wire_start_sessions, 32)
CODEC(wire_start_ack, wire_start_ack, 32)
CODEC(wire_stop_sessions, wire_stop_sessions, 32)
CODEC(wire_n_sessions, wire_n_sessions, 64)

static const struct codec codecs[] = {
	{ "greeting", 64, vec_greeting, enc_wire_greeting, dec_wire_greeting },
	{ "setup-response", 164, vec_setup, enc_wire_setup_response, dec_wire_setup_response },
	{ "server-start", 48, vec_server_start_plain, enc_wire_server_start, dec_wire_server_start },
	{ "request", 112, vec_request_plain, enc_wire_request_session, dec_wire_request_session },
	{ "accept-session", 48, vec_accept_plain, enc_wire_accept_session, dec_wire_accept_session },
	{ "start-sessions", 32, vec_start_plain, enc_wire_start_sessions, dec_wire_start_sessions },
	{ "start-ack", 32, vec_start_ack_plain, enc_wire_start_ack, dec_wire_start_ack },
	{ "stop-sessions", 32, vec_stop, enc_wire_stop_sessions, dec_wire_stop_sessions },
	{ "start-n", 64, vec_start_n, enc_wire_n_sessions, dec_wire_n_sessions },
};

/*
 * For every codec: the sample decodes and re-encodes to itself; every
 * shorter input is -EBADMSG (read from an exact-size heap copy so ASan sees
 * any over-read); every smaller capacity is -ENOSPC and writes nothing;
 * NULL arguments are -EINVAL; octets after the message are not examined.
 */
static void test_codec_errors(void **state)
{
	(void)state;
	for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++) {
		const struct codec *k = &codecs[c];
		uint8_t out[WIRE_CTRL_MAX_LEN + 16];

		assert_int_equal(k->encode(k->sample, out, k->len), (int)k->len);
		assert_memory_equal(out, k->sample, k->len);
		assert_int_equal(k->decode(k->sample, k->len, 0), 0);

		for (size_t n = 0; n < k->len; n++) {
			uint8_t *copy = malloc(n ? n : 1);
			assert_non_null(copy);
			memcpy(copy, k->sample, n);
			if (k->decode(copy, n, 0) != -EBADMSG)
				fail_msg("%s: decode of %zu octets did not fail", k->name, n);
			free(copy);

			memset(out, 0x5a, sizeof(out));
			if (k->encode(k->sample, out, n) != -ENOSPC)
				fail_msg("%s: encode into %zu octets did not fail", k->name, n);
			for (size_t i = 0; i < sizeof(out); i++)
				assert_int_equal(out[i], 0x5a);
		}
		/* longer input and larger capacity */
		uint8_t longer[WIRE_CTRL_MAX_LEN + 16];
		memset(longer, 0xff, sizeof(longer));
		memcpy(longer, k->sample, k->len);
		assert_int_equal(k->decode(longer, k->len + 16, 0), 0);
		assert_int_equal(k->encode(k->sample, out, sizeof(out)), (int)k->len);

		assert_int_equal(k->decode(NULL, k->len, 0), -EINVAL);
		assert_int_equal(k->decode(k->sample, k->len, 1), -EINVAL);
		assert_int_equal(k->encode(k->sample, NULL, k->len), -EINVAL);
	}
	/* NULL message structs on encode */
	uint8_t b[WIRE_CTRL_MAX_LEN];
	assert_int_equal(wire_greeting_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_setup_response_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_server_start_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_request_session_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_accept_session_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_start_sessions_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_start_ack_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_stop_sessions_encode(NULL, b, sizeof(b)), -EINVAL);
	assert_int_equal(wire_n_sessions_encode(NULL, b, sizeof(b)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_constants),
		cmocka_unit_test(test_accept_values),
		cmocka_unit_test(test_mode_valid),
		cmocka_unit_test(test_count_valid),
		cmocka_unit_test(test_msg_len),
		cmocka_unit_test(test_sid_make),
		cmocka_unit_test(test_keyid),
		cmocka_unit_test(test_type_p),
		cmocka_unit_test(test_greeting),
		cmocka_unit_test(test_setup_response),
		cmocka_unit_test(test_server_start),
		cmocka_unit_test(test_request_session),
		cmocka_unit_test(test_request_session_ipv6),
		cmocka_unit_test(test_request_check),
		cmocka_unit_test(test_accept_session),
		cmocka_unit_test(test_start_sessions_ack),
		cmocka_unit_test(test_stop_sessions),
		cmocka_unit_test(test_n_sessions),
		cmocka_unit_test(test_codec_errors),
	};

	return cmocka_run_group_tests_name("wire_control", tests, NULL, NULL);
}
