/*
 * Unit tests for common/crypto.c: the complete authenticated handshake of
 * twamp-control.md §12 byte for byte (PBKDF2 key, Token, the Server-Start
 * block, both CBC streams continuing across messages, every HMAC including
 * the first server HMAC over the Server-Start block), the derived test
 * keys and the §11.4 test packets of twamp-test.md in both modes and both
 * roles, tamper detection, per-packet CBC restart, argument errors, and the
 * key file format.  The control messages are built with common/wire_control.c
 * so the test also pins the codec/crypto split.  Checklist IDs (B13, B14,
 * C19-C21, D12, D13, D18, F1-F5, F8) are cited where a test covers them.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "spec_vectors.h"

#include "crypto.h"
#include "tstamp.h"
#include "wire_control.h"
#include "wire_test.h"

#define NTP(sec, frac) ((ntp64_t)(uint32_t)(sec) << 32 | (uint32_t)(frac))

/* --- twamp-control.md §12 ------------------------------------------------ */

/* Token = AES-128-CBC(K, IV 0) of Challenge || 20..2f || 30..4f */
static const uint8_t vec_token[64] = {
	0xae, 0x60, 0x22, 0x30, 0x8c, 0x4c, 0x6a, 0x3f, 0x73, 0xf1, 0x9e, 0xf1, 0x1b, 0xf9, 0xd3, 0xea,
	0xf2, 0x20, 0xa0, 0xb4, 0xff, 0x02, 0x7f, 0x0f, 0xb7, 0xfc, 0xc0, 0xf8, 0xa8, 0xa9, 0x46, 0xf6,
	0xc5, 0xed, 0x58, 0x76, 0x2b, 0x90, 0x4f, 0x66, 0x86, 0x1e, 0x58, 0x1b, 0x27, 0x81, 0xff, 0xcf,
	0x02, 0x6b, 0x46, 0x0a, 0x13, 0xc9, 0x47, 0x51, 0x8f, 0xe1, 0xe4, 0x1c, 0x9e, 0xf2, 0x44, 0x7f,
};

/* Server-Start on the wire: block 3 encrypted with IV = Server-IV */
static const uint8_t vec_server_start_wire[48] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
	0x6f, 0x88, 0xbc, 0x38, 0x60, 0x69, 0xb5, 0x5e, 0xee, 0x1a, 0x35, 0x45, 0x98, 0xd9, 0x5c, 0xdc,
};

/* ... on the wire (client CBC from Client-IV) */
static const uint8_t vec_request_wire[112] = {
	0x89, 0x8e, 0xbd, 0x1f, 0x2f, 0x0d, 0xd3, 0x45, 0x55, 0x99, 0x70, 0x5d, 0x0c, 0xc4, 0x73, 0xb0,
	0x97, 0x3c, 0xe3, 0x0d, 0xe7, 0xca, 0x77, 0x60, 0xcc, 0x58, 0x72, 0x56, 0xeb, 0xad, 0xc3, 0xdb,
	0xac, 0x0e, 0x3f, 0x27, 0x2e, 0x41, 0xc1, 0x30, 0x93, 0x19, 0x35, 0xc9, 0xab, 0xec, 0xca, 0xf6,
	0xc1, 0xbc, 0xca, 0x1c, 0xa7, 0x4e, 0xdb, 0x4f, 0xf5, 0x62, 0xaa, 0x15, 0xdc, 0x0c, 0x76, 0xee,
	0xe3, 0x48, 0x41, 0x6a, 0x06, 0x0c, 0x0c, 0x2d, 0x7f, 0x47, 0xd7, 0x20, 0x11, 0x9a, 0x25, 0xe5,
	0xa6, 0x27, 0xb7, 0x7c, 0x91, 0x40, 0x07, 0xa8, 0x79, 0xab, 0xab, 0xb8, 0xb6, 0x7c, 0x72, 0xb8,
	0x59, 0x68, 0xc6, 0xb9, 0x67, 0x50, 0x72, 0x25, 0xe6, 0x34, 0xa3, 0xe8, 0x7d, 0xcf, 0xe7, 0xcc,
};

/* ... on the wire (server CBC continues after the Server-Start block) */
static const uint8_t vec_accept_wire[48] = {
	0x2e, 0x39, 0x22, 0x24, 0xc8, 0xd7, 0xed, 0x61, 0x8e, 0xe4, 0xa7, 0xfb, 0x8d, 0x21, 0xc2, 0x0f,
	0xc6, 0x72, 0x88, 0x4a, 0xc3, 0x7d, 0xae, 0xc0, 0xd3, 0x81, 0x91, 0xfb, 0x65, 0x3d, 0xc1, 0x21,
	0xc3, 0x5e, 0xc3, 0x2e, 0xbd, 0x67, 0xc9, 0x51, 0xb8, 0x49, 0x82, 0x15, 0xe7, 0x13, 0xdd, 0x53,
};

/* ... on the wire (client chain continues) */
static const uint8_t vec_start_wire[32] = {
	0xa1, 0xd2, 0x34, 0xcf, 0x6f, 0xca, 0x02, 0xa6, 0x31, 0xa0, 0x8e, 0x13, 0x92, 0x5d, 0xc2, 0xf5,
	0xab, 0x51, 0x40, 0xe7, 0xae, 0x06, 0xd6, 0x45, 0xa4, 0xf4, 0xe4, 0x59, 0xa1, 0x85, 0x81, 0xb4,
};

/* ... on the wire (server chain continues) */
static const uint8_t vec_start_ack_wire[32] = {
	0x8e, 0x24, 0x9c, 0xfb, 0xb3, 0x10, 0x20, 0xd9, 0x12, 0x94, 0x2d, 0xa8, 0x4d, 0x79, 0xf0, 0x81,
	0x8a, 0x08, 0x17, 0xd3, 0x22, 0x84, 0xbb, 0x68, 0xd2, 0xd1, 0x90, 0xe3, 0x9e, 0x1a, 0xab, 0x52,
};

/* K = PBKDF2-HMAC-SHA1("twamp-secret", Salt, 1024, 16) */
static const uint8_t vec_k[16] = {
	0x88, 0x56, 0x32, 0xc4, 0x22, 0x07, 0x7a, 0x7c, 0x7c, 0x24, 0x32, 0x9a, 0x94, 0x08, 0x67, 0xdd,
};

/* Test keys for the §12 SID (twamp-test.md §11.4) */
static const uint8_t vec_test_aes[16] = {
	0x68, 0x77, 0x59, 0x7a, 0xca, 0xb1, 0x79, 0xb3, 0xe3, 0x8d, 0x8c, 0xf0, 0xc4, 0xff, 0x25, 0xfe,
};

static const uint8_t vec_test_hmac[32] = {
	0x63, 0x0d, 0xb0, 0xa1, 0x65, 0x0b, 0xf6, 0xbb, 0x4f, 0x7e, 0x33, 0x7d, 0x47, 0xaa, 0xec, 0x49,
	0x61, 0x9d, 0x67, 0x6a, 0x86, 0x5c, 0x26, 0x14, 0x4b, 0x43, 0x64, 0x8e, 0xb5, 0xf9, 0x94, 0x59,
};

/* --- twamp-test.md §11.4 ---------------------------------------------- */

/* twamp-test.md §11.4: authenticated sender packet, header (64 zero padding octets follow) */
static const uint8_t vec_auth_sender[48] = {
	0x90, 0x67, 0x70, 0x5a, 0x55, 0xaa, 0x29, 0x22, 0x69, 0x3f, 0x53, 0x66, 0x03, 0xe7, 0x90, 0x3c,
	0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xd2, 0x01, 0x89, 0x38, 0x80, 0xe5, 0x44, 0x8b, 0xf2, 0x3a, 0xd3, 0x52, 0xf3, 0x35, 0xb4, 0xd2,
};

/* encrypted sender packet, header */
static const uint8_t vec_enc_sender[48] = {
	0x90, 0x67, 0x70, 0x5a, 0x55, 0xaa, 0x29, 0x22, 0x69, 0x3f, 0x53, 0x66, 0x03, 0xe7, 0x90, 0x3c,
	0xa7, 0xe2, 0xe2, 0x98, 0x18, 0x0c, 0xc7, 0xff, 0xdc, 0xf6, 0x3b, 0x16, 0x9d, 0x52, 0xc9, 0x45,
	0xec, 0xd3, 0x9b, 0xe7, 0x66, 0x42, 0x4a, 0x8d, 0xdc, 0x26, 0xc4, 0x37, 0xff, 0xdf, 0x02, 0xd0,
};

/* authenticated reflector reply (112 octets) */
static const uint8_t vec_auth_refl[112] = {
	0x90, 0x67, 0x70, 0x5a, 0x55, 0xaa, 0x29, 0x22, 0x69, 0x3f, 0x53, 0x66, 0x03, 0xe7, 0x90, 0x3c,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x01, 0x4f, 0x8b, 0x81, 0xd7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xe8, 0xfe, 0x6f, 0x80, 0x1f, 0x9a, 0xdd, 0x37, 0x85, 0x87, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0xd2, 0x01, 0x89, 0x38, 0x80, 0xe5, 0x44, 0x8b, 0xf2, 0x3a, 0xd3, 0x52, 0xf3, 0x35, 0xb4, 0xd2,
};

/* encrypted reflector reply (112 octets) */
static const uint8_t vec_enc_refl[112] = {
	0x90, 0x67, 0x70, 0x5a, 0x55, 0xaa, 0x29, 0x22, 0x69, 0x3f, 0x53, 0x66, 0x03, 0xe7, 0x90, 0x3c,
	0x6c, 0x53, 0x14, 0x7e, 0x46, 0xc1, 0x16, 0xe2, 0x3b, 0xd2, 0x9e, 0xaa, 0x88, 0x18, 0x98, 0x93,
	0x32, 0xaf, 0x91, 0xde, 0x3d, 0x02, 0x4f, 0xcf, 0xe3, 0x19, 0x71, 0x57, 0x46, 0x1f, 0xb1, 0x78,
	0x98, 0x65, 0x85, 0x0d, 0xad, 0x54, 0xf5, 0xfb, 0x03, 0x4f, 0xd7, 0x8c, 0xd3, 0xbc, 0x4e, 0x74,
	0x06, 0x74, 0x16, 0x15, 0xaf, 0x96, 0x98, 0xfa, 0x6c, 0x50, 0x33, 0x70, 0xb4, 0xa6, 0xd0, 0xd6,
	0x5c, 0xfb, 0xa6, 0x2b, 0x8d, 0x89, 0xff, 0x37, 0x72, 0xbb, 0x5d, 0x2c, 0x54, 0xe5, 0xc9, 0xc8,
	0x34, 0x35, 0xc6, 0x6e, 0x35, 0xb4, 0xd5, 0x2d, 0x8a, 0x13, 0x0e, 0x55, 0x77, 0xe2, 0x90, 0x80,
};

/* --- helpers ------------------------------------------------------------- */

static void ramp(uint8_t *p, uint8_t first, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(first + i);
}

static void session_keys_12(struct crypto_session_keys *k)
{
	ramp(k->aes, 0x20, sizeof(k->aes));
	ramp(k->hmac, 0x30, sizeof(k->hmac));
}

/* The §12 Request-TW-Session fields. */
static void request_12(struct wire_request_session *r)
{
	memset(r, 0, sizeof(*r));
	r->ipvn = 4;
	r->sender_port = 50000;
	r->receiver_port = 862;
	r->sender_addr[0] = 192, r->sender_addr[1] = 0, r->sender_addr[2] = 2, r->sender_addr[3] = 10;
	r->receiver_addr[0] = 198, r->receiver_addr[1] = 51, r->receiver_addr[2] = 100;
	r->receiver_addr[3] = 20;
	r->padding_length = 64;
	r->start_time = 0;
	r->timeout = NTP(2, 0);
	r->type_p = wire_type_p_from_dscp(46);
}

/* --- PBKDF2, Token ------------------------------------------------------- */

/* D13: K = PBKDF2-HMAC-SHA1("twamp-secret", 00..0f, 1024, 16). */
static void test_pbkdf2_vector(void **state)
{
	(void)state;
	uint8_t salt[16], k[16];

	ramp(salt, 0x00, sizeof(salt));
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"twamp-secret", 12, salt, 1024, k), 0);
	assert_memory_equal(k, vec_k, 16);

	/* another count gives another key */
	uint8_t k2[16];
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"twamp-secret", 12, salt, 2048, k2), 0);
	assert_memory_not_equal(k, k2, 16);
	/* an empty passphrase is legal input for the primitive */
	assert_int_equal(crypto_pbkdf2_sha1(NULL, 0, salt, 1024, k2), 0);
	assert_memory_not_equal(k, k2, 16);
}

static void test_pbkdf2_errors(void **state)
{
	(void)state;
	uint8_t salt[16] = { 0 }, k[16];

	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"x", 1, salt, 0, k), -EINVAL);
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"x", 1, salt, 0x80000000u, k), -EINVAL);
	assert_int_equal(crypto_pbkdf2_sha1(NULL, 1, salt, 1024, k), -EINVAL);
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"x", 1, NULL, 1024, k), -EINVAL);
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"x", 1, salt, 1024, NULL), -EINVAL);
}

/* D13: the Token of §12, and its decryption back into Challenge and keys. */
static void test_token_vector(void **state)
{
	(void)state;
	struct crypto_session_keys keys, back;
	uint8_t challenge[16], got_challenge[16], token[64];

	session_keys_12(&keys);
	ramp(challenge, 0x10, sizeof(challenge));
	assert_int_equal(crypto_token_encrypt(vec_k, challenge, &keys, token), 0);
	assert_memory_equal(token, vec_token, 64);

	assert_int_equal(crypto_token_decrypt(vec_k, vec_token, got_challenge, &back), 0);
	assert_memory_equal(got_challenge, challenge, 16);
	assert_memory_equal(back.aes, keys.aes, 16);
	assert_memory_equal(back.hmac, keys.hmac, 32);
	assert_true(crypto_equal(got_challenge, challenge, 16));

	/* D16: a wrong key yields a different Challenge, which the server rejects */
	uint8_t wrong[16];
	memcpy(wrong, vec_k, 16);
	wrong[15] ^= 1;
	assert_int_equal(crypto_token_decrypt(wrong, vec_token, got_challenge, &back), 0);
	assert_false(crypto_equal(got_challenge, challenge, 16));

	assert_int_equal(crypto_token_encrypt(NULL, challenge, &keys, token), -EINVAL);
	assert_int_equal(crypto_token_encrypt(vec_k, challenge, NULL, token), -EINVAL);
	assert_int_equal(crypto_token_decrypt(vec_k, NULL, got_challenge, &back), -EINVAL);
	assert_int_equal(crypto_token_decrypt(vec_k, vec_token, got_challenge, NULL), -EINVAL);
}

/* --- the whole §12 handshake ------------------------------------------------ */

struct side {
	struct crypto_stream tx;
	struct crypto_hmac_chain tx_mac;
};

/* Encodes nothing: appends the HMAC of buf[0..len-16) to buf, then encrypts it all. */
static void seal(struct side *s, uint8_t *buf, size_t len)
{
	assert_int_equal(crypto_hmac_chain_feed(&s->tx_mac, buf, len - 16), 0);
	assert_int_equal(crypto_hmac_chain_finish(&s->tx_mac, buf + len - 16), 0);
}

/*
 * Both peers' sending sides, message by message, against the vector: the
 * plaintext with its HMAC first (F1, F2), then the ciphertext (F4).
 */
static void test_handshake_send(void **state)
{
	(void)state;
	struct crypto_session_keys keys;
	struct side client = { 0 }, server = { 0 };
	uint8_t challenge[16], salt[16], civ[16], siv[16], k[16], buf[WIRE_CTRL_MAX_LEN];

	session_keys_12(&keys);
	ramp(challenge, 0x10, 16);
	ramp(salt, 0x00, 16);
	ramp(civ, 0x50, 16);
	ramp(siv, 0x60, 16);

	/* Server Greeting (D2) */
	struct wire_greeting g = { .modes = WIRE_MODE_OPEN | WIRE_MODE_AUTH | WIRE_MODE_ENC, .count = 1024 };
	memcpy(g.challenge, challenge, 16);
	memcpy(g.salt, salt, 16);
	assert_int_equal(wire_greeting_encode(&g, buf, sizeof(buf)), 64);
	assert_memory_equal(buf, vec_greeting, 64);

	/* Set-Up-Response with the Token (D8, D13) */
	struct wire_setup_response su = { .mode = WIRE_MODE_AUTH };
	assert_int_equal(wire_keyid_set(su.keyid, "client-1", 8), 0);
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"twamp-secret", 12, g.salt, g.count, k), 0);
	assert_int_equal(crypto_token_encrypt(k, g.challenge, &keys, su.token), 0);
	memcpy(su.client_iv, civ, 16);
	assert_int_equal(wire_setup_response_encode(&su, buf, sizeof(buf)), 164);
	assert_memory_equal(buf, vec_setup, 164);

	assert_int_equal(crypto_stream_init(&client.tx, CRYPTO_ENCRYPT, keys.aes, civ), 0);
	assert_int_equal(crypto_hmac_chain_init(&client.tx_mac, keys.hmac), 0);
	assert_int_equal(crypto_stream_init(&server.tx, CRYPTO_ENCRYPT, keys.aes, siv), 0);
	assert_int_equal(crypto_hmac_chain_init(&server.tx_mac, keys.hmac), 0);

	/* Server-Start: the server stream starts at octet 32 (D18) */
	struct wire_server_start ss = { .accept = 0, .start_time = ts_ntp_from_unix_ns(1699999000LL * TS_NSEC_PER_SEC) };
	memcpy(ss.server_iv, siv, 16);
	assert_int_equal(wire_server_start_encode(&ss, buf, sizeof(buf)), 48);
	assert_memory_equal(buf, vec_server_start_plain, 48);
	/* F3: the first server HMAC covers the Start-Time block */
	assert_int_equal(crypto_hmac_chain_feed(&server.tx_mac, buf + 32, 16), 0);
	assert_int_equal(crypto_stream_apply(&server.tx, buf + 32, 16), 0);
	assert_memory_equal(buf, vec_server_start_wire, 48);

	/* Request-TW-Session: HMAC over its octets 0-95 */
	struct wire_request_session r;
	request_12(&r);
	assert_int_equal(wire_request_session_encode(&r, buf, sizeof(buf)), 112);
	seal(&client, buf, 112);
	assert_memory_equal(buf, vec_request_plain, 112);
	assert_int_equal(crypto_stream_apply(&client.tx, buf, 112), 0);
	assert_memory_equal(buf, vec_request_wire, 112);

	/* Accept-Session: Start-Time block + octets 0-31 (F3) */
	struct wire_accept_session as = { .accept = 0, .port = 862 };
	static const uint8_t addr[4] = { 198, 51, 100, 20 }, rnd[4] = { 0xa1, 0xb2, 0xc3, 0xd4 };
	wire_sid_make(as.sid, addr, ts_ntp_from_unix_ns(1700000000LL * TS_NSEC_PER_SEC), rnd);
	assert_memory_equal(as.sid, sid_12, 16);
	assert_int_equal(wire_accept_session_encode(&as, buf, sizeof(buf)), 48);
	seal(&server, buf, 48);
	assert_memory_equal(buf, vec_accept_plain, 48);
	assert_int_equal(crypto_stream_apply(&server.tx, buf, 48), 0);
	assert_memory_equal(buf, vec_accept_wire, 48);

	/* Start-Sessions: the client chain continues (F4) */
	struct wire_start_sessions st = { { 0 } };
	assert_int_equal(wire_start_sessions_encode(&st, buf, sizeof(buf)), 32);
	seal(&client, buf, 32);
	assert_memory_equal(buf, vec_start_plain, 32);
	assert_int_equal(crypto_stream_apply(&client.tx, buf, 32), 0);
	assert_memory_equal(buf, vec_start_wire, 32);

	/* Start-Ack: the server chain continues */
	struct wire_start_ack ack = { .accept = 0 };
	assert_int_equal(wire_start_ack_encode(&ack, buf, sizeof(buf)), 32);
	seal(&server, buf, 32);
	assert_memory_equal(buf, vec_start_ack_plain, 32);
	assert_int_equal(crypto_stream_apply(&server.tx, buf, 32), 0);
	assert_memory_equal(buf, vec_start_ack_wire, 32);

	crypto_stream_free(&client.tx);
	crypto_stream_free(&server.tx);
	crypto_hmac_chain_free(&client.tx_mac);
	crypto_hmac_chain_free(&server.tx_mac);
	crypto_wipe(k, sizeof(k));
}

/* Receives blen octets from the wire: decrypt, feed the plaintext before the HMAC, verify. */
static void open_msg(struct crypto_stream *rx, struct crypto_hmac_chain *mac, uint8_t *buf,
		     size_t len, int want)
{
	assert_int_equal(crypto_stream_apply(rx, buf, len), 0);
	assert_int_equal(crypto_hmac_chain_feed(mac, buf, len - 16), 0);
	assert_int_equal(crypto_hmac_chain_verify(mac, buf + len - 16), want);
}

/*
 * The receiving sides: the server decrypts the client stream, the client
 * decrypts the server stream from Server-Start octet 32 on; every HMAC
 * verifies (F5) and every message decodes to the §12 values.
 */
static void test_handshake_receive(void **state)
{
	(void)state;
	struct crypto_session_keys keys;
	struct crypto_stream c_rx = { 0 }, s_rx = { 0 };
	struct crypto_hmac_chain c_mac = { 0 }, s_mac = { 0 };
	uint8_t buf[112], k[16], challenge[16], civ[16], siv[16];

	session_keys_12(&keys);
	ramp(civ, 0x50, 16);
	ramp(siv, 0x60, 16);

	/* the server side of the Set-Up-Response */
	struct wire_greeting g;
	struct wire_setup_response su;
	struct crypto_session_keys got;
	assert_int_equal(wire_greeting_decode(vec_greeting, 64, &g), 0);
	assert_int_equal(wire_setup_response_decode(vec_setup, 164, &su), 0);
	assert_int_equal(wire_keyid_len(su.keyid), 8);
	assert_memory_equal(su.keyid, "client-1", 8);
	assert_int_equal(crypto_pbkdf2_sha1((const uint8_t *)"twamp-secret", 12, g.salt, g.count, k), 0);
	assert_int_equal(crypto_token_decrypt(k, su.token, challenge, &got), 0);
	assert_true(crypto_equal(challenge, g.challenge, 16));
	assert_memory_equal(got.aes, keys.aes, 16);
	assert_memory_equal(got.hmac, keys.hmac, 32);

	assert_int_equal(crypto_stream_init(&s_rx, CRYPTO_DECRYPT, got.aes, su.client_iv), 0);
	assert_int_equal(crypto_hmac_chain_init(&s_mac, got.hmac), 0);

	/* client: Server-Start */
	struct wire_server_start ss;
	memcpy(buf, vec_server_start_wire, 48);
	assert_int_equal(wire_server_start_decode(buf, 48, &ss), 0);
	assert_int_equal(ss.accept, 0);
	assert_memory_equal(ss.server_iv, siv, 16);
	assert_int_equal(crypto_stream_init(&c_rx, CRYPTO_DECRYPT, keys.aes, ss.server_iv), 0);
	assert_int_equal(crypto_hmac_chain_init(&c_mac, keys.hmac), 0);
	assert_int_equal(crypto_stream_apply(&c_rx, buf + 32, 16), 0);
	assert_int_equal(crypto_hmac_chain_feed(&c_mac, buf + 32, 16), 0);
	assert_memory_equal(buf, vec_server_start_plain, 48);
	assert_int_equal(wire_server_start_decode(buf, 48, &ss), 0);
	assert_int_equal(ss.start_time, NTP(0xe8fe6b98u, 0));

	/* server: Request-TW-Session; its length is known from block 1 */
	struct wire_request_session r, want_r;
	memcpy(buf, vec_request_wire, 112);
	assert_int_equal(crypto_stream_apply(&s_rx, buf, 16), 0);
	assert_int_equal(wire_ctrl_msg_len(buf, 16), 112);
	assert_int_equal(crypto_stream_apply(&s_rx, buf + 16, 96), 0);
	assert_int_equal(crypto_hmac_chain_feed(&s_mac, buf, 96), 0);
	assert_int_equal(crypto_hmac_chain_verify(&s_mac, buf + 96), 0);
	assert_memory_equal(buf, vec_request_plain, 112);
	memset(&r, 0, sizeof(r)); /* struct padding, for the memcmp below */
	assert_int_equal(wire_request_session_decode(buf, 112, &r), 0);
	request_12(&want_r);
	memcpy(want_r.hmac, vec_request_plain + 96, 16);
	assert_memory_equal(&r, &want_r, sizeof(r));

	/* client: Accept-Session */
	struct wire_accept_session as;
	memcpy(buf, vec_accept_wire, 48);
	open_msg(&c_rx, &c_mac, buf, 48, 0);
	assert_int_equal(wire_accept_session_decode(buf, 48, &as), 0);
	assert_int_equal(as.accept, 0);
	assert_int_equal(as.port, 862);
	assert_memory_equal(as.sid, sid_12, 16);

	/* server: Start-Sessions; client: Start-Ack */
	struct wire_start_sessions st;
	struct wire_start_ack ack;
	memcpy(buf, vec_start_wire, 32);
	open_msg(&s_rx, &s_mac, buf, 32, 0);
	assert_int_equal(wire_ctrl_msg_len(buf, 32), 32);
	assert_int_equal(wire_start_sessions_decode(buf, 32, &st), 0);
	memcpy(buf, vec_start_ack_wire, 32);
	open_msg(&c_rx, &c_mac, buf, 32, 0);
	assert_int_equal(wire_start_ack_decode(buf, 32, &ack), 0);
	assert_int_equal(ack.accept, 0);

	crypto_stream_free(&c_rx);
	crypto_stream_free(&s_rx);
	crypto_hmac_chain_free(&c_mac);
	crypto_hmac_chain_free(&s_mac);
	crypto_wipe(k, sizeof(k));
}

/*
 * F3 and the §11.4 ambiguity: the Accept-Session HMAC of the vector is the
 * one over the 16-octet Start-Time block plus octets 0-31; neither octets
 * 0-31 alone nor the whole 48-octet Server-Start give it.
 */
static void test_first_server_hmac_coverage(void **state)
{
	(void)state;
	struct crypto_hmac_chain h = { 0 };
	struct crypto_session_keys keys;
	uint8_t mac[16];

	session_keys_12(&keys);
	assert_int_equal(crypto_hmac_chain_init(&h, keys.hmac), 0);

	assert_int_equal(crypto_hmac_chain_feed(&h, vec_accept_plain, 32), 0);
	assert_int_equal(crypto_hmac_chain_finish(&h, mac), 0);
	assert_memory_not_equal(mac, vec_accept_plain + 32, 16);

	assert_int_equal(crypto_hmac_chain_feed(&h, vec_server_start_plain, 48), 0);
	assert_int_equal(crypto_hmac_chain_feed(&h, vec_accept_plain, 32), 0);
	assert_int_equal(crypto_hmac_chain_finish(&h, mac), 0);
	assert_memory_not_equal(mac, vec_accept_plain + 32, 16);

	/* fed in pieces of any size, the chain gives the vector's HMAC */
	assert_int_equal(crypto_hmac_chain_feed(&h, vec_server_start_plain + 32, 5), 0);
	assert_int_equal(crypto_hmac_chain_feed(&h, vec_server_start_plain + 37, 11), 0);
	assert_int_equal(crypto_hmac_chain_feed(&h, NULL, 0), 0);
	assert_int_equal(crypto_hmac_chain_feed(&h, vec_accept_plain, 32), 0);
	assert_int_equal(crypto_hmac_chain_verify(&h, vec_accept_plain + 32), 0);
	crypto_hmac_chain_free(&h);
}

/*
 * F5, F8: a corrupted ciphertext octet breaks the HMAC of its message; the
 * chain restarts after a failed verify, so the next message checks against
 * its own octets only.
 */
static void test_hmac_chain_tamper(void **state)
{
	(void)state;
	struct crypto_session_keys keys;
	struct crypto_stream rx = { 0 };
	struct crypto_hmac_chain mac = { 0 };
	uint8_t civ[16], buf[112];

	session_keys_12(&keys);
	ramp(civ, 0x50, 16);
	assert_int_equal(crypto_stream_init(&rx, CRYPTO_DECRYPT, keys.aes, civ), 0);
	assert_int_equal(crypto_hmac_chain_init(&mac, keys.hmac), 0);

	memcpy(buf, vec_request_wire, 112);
	buf[40] ^= 0x01;
	open_msg(&rx, &mac, buf, 112, -EBADMSG);
	/* the plaintext HMAC itself, altered */
	assert_int_equal(crypto_hmac_chain_feed(&mac, vec_start_plain, 16), 0);
	uint8_t bad[16];
	memcpy(bad, vec_start_plain + 16, 16);
	bad[15] ^= 0x80;
	assert_int_equal(crypto_hmac_chain_verify(&mac, bad), -EBADMSG);
	/* restarted: the genuine Start-Sessions plaintext verifies on its own */
	assert_int_equal(crypto_hmac_chain_feed(&mac, vec_start_plain, 16), 0);
	assert_int_equal(crypto_hmac_chain_verify(&mac, vec_start_plain + 16), 0);

	crypto_stream_free(&rx);
	crypto_hmac_chain_free(&mac);
}

static void test_stream_errors(void **state)
{
	(void)state;
	struct crypto_stream s = { 0 };
	struct crypto_hmac_chain h = { 0 };
	uint8_t key[16] = { 0 }, iv[16] = { 0 }, buf[48] = { 0 }, mac[16];

	/* not initialised */
	assert_int_equal(crypto_stream_apply(&s, buf, 16), -EINVAL);
	assert_int_equal(crypto_stream_apply(NULL, buf, 16), -EINVAL);
	assert_int_equal(crypto_hmac_chain_feed(&h, buf, 16), -EINVAL);
	assert_int_equal(crypto_hmac_chain_finish(&h, mac), -EINVAL);
	assert_int_equal(crypto_hmac_chain_verify(&h, mac), -EINVAL);

	assert_int_equal(crypto_stream_init(&s, CRYPTO_ENCRYPT, NULL, iv), -EINVAL);
	crypto_stream_free(&s);
	assert_int_equal(crypto_stream_init(&s, CRYPTO_ENCRYPT, key, NULL), -EINVAL);
	crypto_stream_free(&s);
	assert_int_equal(crypto_stream_init(&s, (enum crypto_dir)7, key, iv), -EINVAL);
	crypto_stream_free(&s);
	assert_int_equal(crypto_hmac_chain_init(&h, NULL), -EINVAL);
	crypto_hmac_chain_free(&h);

	/* whole blocks only; a refused call does not disturb the chain */
	struct crypto_stream ref = { 0 };
	uint8_t a[32] = { 0 }, b[32] = { 0 };
	assert_int_equal(crypto_stream_init(&s, CRYPTO_ENCRYPT, key, iv), 0);
	assert_int_equal(crypto_stream_init(&ref, CRYPTO_ENCRYPT, key, iv), 0);
	assert_int_equal(crypto_stream_apply(&s, buf, 15), -EINVAL);
	assert_int_equal(crypto_stream_apply(&s, buf, 17), -EINVAL);
	assert_int_equal(crypto_stream_apply(&s, NULL, 16), -EINVAL);
	assert_int_equal(crypto_stream_apply(&s, buf, 0), 0);
	/* one call of 32 == two calls of 16: the chain persists across calls */
	assert_int_equal(crypto_stream_apply(&s, a, 16), 0);
	assert_int_equal(crypto_stream_apply(&s, a + 16, 16), 0);
	assert_int_equal(crypto_stream_apply(&ref, b, 32), 0);
	assert_memory_equal(a, b, 32);
	assert_memory_not_equal(a, a + 16, 16);
	crypto_stream_free(&s);
	crypto_stream_free(&s); /* idempotent */
	crypto_stream_free(&ref);
	crypto_stream_free(NULL);
	crypto_hmac_chain_free(NULL);
}

static void test_random_and_equal(void **state)
{
	(void)state;
	uint8_t a[16] = { 0 }, b[16] = { 0 }, zero[16] = { 0 };

	assert_int_equal(crypto_random(a, sizeof(a)), 0);
	assert_int_equal(crypto_random(b, sizeof(b)), 0);
	assert_memory_not_equal(a, b, 16); /* 2^-128 */
	assert_memory_not_equal(a, zero, 16);
	assert_int_equal(crypto_random(NULL, 0), 0);
	assert_int_equal(crypto_random(NULL, 1), -EINVAL);
	assert_true(crypto_equal(a, a, 16));
	assert_false(crypto_equal(a, b, 16));
	assert_true(crypto_equal(a, b, 0));
	crypto_wipe(a, sizeof(a));
	assert_memory_equal(a, zero, 16);
	crypto_wipe(NULL, 4);
}

/* --- test-session keys and packets ------------------------------------------ */

/* C21: test keys of the §12 session. */
static void test_test_keys_vector(void **state)
{
	(void)state;
	struct crypto_session_keys keys;
	uint8_t aes[16], hmac[32];

	session_keys_12(&keys);
	assert_int_equal(crypto_test_keys_derive(sid_12, keys.aes, keys.hmac, aes, hmac), 0);
	assert_memory_equal(aes, vec_test_aes, 16);
	assert_memory_equal(hmac, vec_test_hmac, 32);
	assert_int_equal(crypto_test_keys_derive(NULL, keys.aes, keys.hmac, aes, hmac), -EINVAL);
	assert_int_equal(crypto_test_keys_derive(sid_12, keys.aes, keys.hmac, aes, NULL), -EINVAL);
}

#define T1 NTP(0xe8fe6f80u, 0x1f9add37u)
#define T2 NTP(0xe8fe6f80u, 0x20000000u)
#define T3 NTP(0xe8fe6f80u, 0x20014f8bu)

/* §11.4 sender plaintext: seq, T1, EE 0x8587, 64 zero padding octets (112 octets). */
static void sender_plain(enum wire_security sec, uint32_t seq, uint8_t out[112])
{
	struct wire_sender s = { .seq = seq, .timestamp = T1, .error_estimate = 0x8587 };

	assert_int_equal(wire_sender_encode(&s, sec, NULL, 64, out, 112), 112);
}

/* §11.4 reflector plaintext: seq 0, T3, T2, sender seq 0, T1, TTL 253 (112 octets). */
static void reflector_plain(enum wire_security sec, uint8_t out[112])
{
	struct wire_reflector r = {
		.seq = 0, .timestamp = T3, .error_estimate = 0x81d7, .receive_timestamp = T2,
		.sender_seq = 0, .sender_timestamp = T1, .sender_error_estimate = 0x8587,
		.sender_ttl = 253,
	};

	assert_int_equal(wire_reflector_encode(&r, sec, NULL, 0, out, 112), 112);
}

static void test_ctx_12(struct crypto_test_ctx *t, enum wire_security sec)
{
	memset(t, 0, sizeof(*t));
	assert_int_equal(crypto_test_init(t, sec, vec_test_aes, vec_test_hmac), 0);
}

/* Protect gives the vector; unprotect restores the plaintext; any flipped bit is caught. */
static void check_packet(enum wire_security sec, enum crypto_test_role role, const uint8_t *plain,
			 const uint8_t *wire, size_t wire_cmp_len, size_t len)
{
	struct crypto_test_ctx t;
	uint8_t pkt[112], tampered[112], expect_plain[112];

	test_ctx_12(&t, sec);
	memcpy(pkt, plain, len);
	assert_int_equal(crypto_test_protect(&t, role, pkt, len), 0);
	assert_memory_equal(pkt, wire, wire_cmp_len);
	if (wire_cmp_len < len) /* padding is neither encrypted nor authenticated */
		assert_memory_equal(pkt + wire_cmp_len, plain + wire_cmp_len, len - wire_cmp_len);

	/* the expected plaintext carries the HMAC the sender inserted */
	memcpy(expect_plain, plain, len);
	size_t hmac_off = role == CRYPTO_TEST_SENDER ? 32 : 96;
	memcpy(expect_plain + hmac_off, wire + hmac_off, 16);

	memcpy(tampered, pkt, len);
	assert_int_equal(crypto_test_unprotect(&t, role, pkt, len), 0);
	assert_memory_equal(pkt, expect_plain, len);

	/*
	 * B14, C20: flip every bit of the protected octets and of the HMAC:
	 * each must be rejected, and the packet left as received.
	 */
	size_t covered = sec == WIRE_SEC_AUTH ? 16 : hmac_off;
	for (size_t i = 0; i < hmac_off + 16; i++) {
		if (i >= covered && i < hmac_off)
			continue;
		for (int bit = 0; bit < 8; bit++) {
			uint8_t copy[112];

			memcpy(copy, tampered, len);
			copy[i] ^= (uint8_t)(1u << bit);
			uint8_t before[112];
			memcpy(before, copy, len);
			assert_int_equal(crypto_test_unprotect(&t, role, copy, len), -EBADMSG);
			assert_memory_equal(copy, before, len);
		}
	}
	/* the genuine packet still verifies after all those failures */
	memcpy(pkt, tampered, len);
	assert_int_equal(crypto_test_unprotect(&t, role, pkt, len), 0);
	assert_memory_equal(pkt, expect_plain, len);
	crypto_test_free(&t);
}

/* B11-style: authenticated sender packet of §11.4 (block 1 ECB, HMAC over 0-15 at 32). */
static void test_auth_sender_vector(void **state)
{
	(void)state;
	uint8_t plain[112];

	sender_plain(WIRE_SEC_AUTH, 0, plain);
	check_packet(WIRE_SEC_AUTH, CRYPTO_TEST_SENDER, plain, vec_auth_sender, 48, 112);
}

/* B13: encrypted sender packet of §11.4 (blocks 1-2 CBC IV 0, HMAC over 0-31). */
static void test_enc_sender_vector(void **state)
{
	(void)state;
	uint8_t plain[112];

	sender_plain(WIRE_SEC_ENC, 0, plain);
	check_packet(WIRE_SEC_ENC, CRYPTO_TEST_SENDER, plain, vec_enc_sender, 48, 112);
}

/* C18-style: authenticated reflector reply of §11.4 (HMAC at 96). */
static void test_auth_reflector_vector(void **state)
{
	(void)state;
	uint8_t plain[112];

	reflector_plain(WIRE_SEC_AUTH, plain);
	check_packet(WIRE_SEC_AUTH, CRYPTO_TEST_REFLECTOR, plain, vec_auth_refl, 112, 112);
}

/* C19: encrypted reflector reply of §11.4 (blocks 1-6 CBC IV 0, HMAC over 0-95). */
static void test_enc_reflector_vector(void **state)
{
	(void)state;
	uint8_t plain[112];

	reflector_plain(WIRE_SEC_ENC, plain);
	check_packet(WIRE_SEC_ENC, CRYPTO_TEST_REFLECTOR, plain, vec_enc_refl, 112, 112);
}

/*
 * B13: CBC restarts from IV 0 for every packet, so a packet's wire form
 * does not depend on the packets protected (or unprotected) before it.
 */
static void test_enc_packets_independent(void **state)
{
	(void)state;
	struct crypto_test_ctx t;
	uint8_t p0[112], p1[112], again[112];

	test_ctx_12(&t, WIRE_SEC_ENC);
	sender_plain(WIRE_SEC_ENC, 0, p0);
	sender_plain(WIRE_SEC_ENC, 1, p1);
	assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, p0, 112), 0);
	assert_memory_equal(p0, vec_enc_sender, 48);
	assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, p1, 112), 0);
	assert_memory_not_equal(p1, p0, 16);
	/* packet 0 again, after packet 1: same bytes */
	sender_plain(WIRE_SEC_ENC, 0, again);
	assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, again, 112), 0);
	assert_memory_equal(again, vec_enc_sender, 48);
	/* and packet 1 unprotects on its own, before packet 0 */
	assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, p1, 112), 0);
	struct wire_sender s;
	assert_int_equal(wire_sender_decode(p1, 112, WIRE_SEC_ENC, &s), 0);
	assert_int_equal(s.seq, 1);
	assert_int_equal(s.timestamp, T1);
	assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, p0, 112), 0);
	assert_int_equal(wire_sender_decode(p0, 112, WIRE_SEC_ENC, &s), 0);
	assert_int_equal(s.seq, 0);
	/* a reflector context and a sender context of one session interoperate */
	crypto_test_free(&t);
}

/*
 * Authenticated mode leaves the timestamps unprotected (twamp-test.md §9):
 * changing T1 does not break the HMAC, changing the sequence number does.
 */
static void test_auth_covers_block1_only(void **state)
{
	(void)state;
	struct crypto_test_ctx t;
	uint8_t pkt[112];

	test_ctx_12(&t, WIRE_SEC_AUTH);
	sender_plain(WIRE_SEC_AUTH, 0, pkt);
	assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, pkt, 112), 0);
	pkt[20] ^= 0xff;   /* T1 */
	pkt[100] ^= 0xff;  /* padding */
	assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, pkt, 112), 0);
	assert_int_equal(pkt[3], 0);
	crypto_test_free(&t);
}

static void test_test_ctx_errors(void **state)
{
	(void)state;
	struct crypto_test_ctx t;
	uint8_t pkt[112] = { 0 };

	/* OPEN (unauthenticated and mixed mode): no keys, nothing done */
	assert_int_equal(crypto_test_init(&t, WIRE_SEC_OPEN, NULL, NULL), 0);
	assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, pkt, 14), 0);
	assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_REFLECTOR, pkt, 41), 0);
	for (size_t i = 0; i < sizeof(pkt); i++)
		assert_int_equal(pkt[i], 0);
	crypto_test_free(&t);

	assert_int_equal(crypto_test_init(&t, WIRE_SEC_AUTH, NULL, vec_test_hmac), -EINVAL);
	crypto_test_free(&t);
	assert_int_equal(crypto_test_init(&t, WIRE_SEC_ENC, vec_test_aes, NULL), -EINVAL);
	crypto_test_free(&t);
	assert_int_equal(crypto_test_init(&t, (enum wire_security)9, vec_test_aes, vec_test_hmac), -EINVAL);
	crypto_test_free(&t);
	assert_int_equal(crypto_test_init(NULL, WIRE_SEC_AUTH, vec_test_aes, vec_test_hmac), -EINVAL);

	static const enum wire_security secs[] = { WIRE_SEC_AUTH, WIRE_SEC_ENC };
	for (size_t i = 0; i < 2; i++) {
		test_ctx_12(&t, secs[i]);
		/* short packets: protect refuses the caller's bug, unprotect drops the packet */
		assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, pkt, 47), -EINVAL);
		assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_REFLECTOR, pkt, 111), -EINVAL);
		assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, pkt, 47), -EBADMSG);
		assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_REFLECTOR, pkt, 111), -EBADMSG);
		assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, pkt, 0), -EBADMSG);
		assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, NULL, 48), -EINVAL);
		assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, NULL, 48), -EINVAL);
		assert_int_equal(crypto_test_protect(&t, (enum crypto_test_role)5, pkt, 112), -EINVAL);
		assert_int_equal(crypto_test_unprotect(&t, (enum crypto_test_role)5, pkt, 112), -EINVAL);
		/* an all-zero packet is not authentic */
		assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, pkt, 48), -EBADMSG);
		/* a reflector packet is not a valid sender packet and vice versa */
		uint8_t r[112];
		reflector_plain(secs[i], r);
		assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_REFLECTOR, r, 112), 0);
		if (secs[i] == WIRE_SEC_ENC)
			assert_int_equal(crypto_test_unprotect(&t, CRYPTO_TEST_SENDER, r, 112), -EBADMSG);
		crypto_test_free(&t);
		crypto_test_free(&t);
	}
	/* a freed context refuses work instead of crashing */
	assert_int_equal(crypto_test_protect(&t, CRYPTO_TEST_SENDER, pkt, 112), -EINVAL);
	crypto_test_free(NULL);
}

/* --- key file ---------------------------------------------------------------- */

static int parse_line(const char *line, struct crypto_key *k, const char **why)
{
	return crypto_keyfile_parse_line(line, strlen(line), k, why);
}

static void test_keyfile_line_hex(void **state)
{
	(void)state;
	struct crypto_key k;
	const char *why;

	/* twampd's pfs line (pcaps README) */
	assert_int_equal(parse_line("labuser\t6c6162736563726574\n", &k, &why), 1);
	assert_string_equal(k.keyid, "labuser");
	assert_int_equal(k.keyid_len, 7);
	assert_int_equal(k.secret_len, 9);
	assert_memory_equal(k.secret, "labsecret", 9);

	assert_int_equal(parse_line("  id   0x6C61  \r\n", &k, &why), 1);
	assert_string_equal(k.keyid, "id");
	assert_int_equal(k.secret_len, 2);
	assert_memory_equal(k.secret, "la", 2);

	assert_int_equal(parse_line("id hex:0001ff", &k, &why), 1);
	assert_int_equal(k.secret_len, 3);
	assert_memory_equal(k.secret, "\x00\x01\xff", 3);

	/* odd count or non-hex digits: plain text */
	assert_int_equal(parse_line("id abc", &k, &why), 1);
	assert_int_equal(k.secret_len, 3);
	assert_memory_equal(k.secret, "abc", 3);
	assert_int_equal(parse_line("id 0x", &k, &why), 1);
	assert_memory_equal(k.secret, "0x", 2);
	assert_int_equal(parse_line("id 0xzz", &k, &why), 1);
	assert_memory_equal(k.secret, "0xzz", 4);
}

static void test_keyfile_line_text(void **state)
{
	(void)state;
	struct crypto_key k;
	const char *why;

	assert_int_equal(parse_line("client-1 twamp-secret", &k, &why), 1);
	assert_string_equal(k.keyid, "client-1");
	assert_int_equal(k.secret_len, 12);
	assert_memory_equal(k.secret, "twamp-secret", 12);

	/* blanks inside the secret are kept, trailing ones are not */
	assert_int_equal(parse_line("id my pass phrase \t", &k, &why), 1);
	assert_int_equal(k.secret_len, 14);
	assert_memory_equal(k.secret, "my pass phrase", 14);

	/* "text:" keeps a hex-looking passphrase literal; a '#' inside is not a comment */
	assert_int_equal(parse_line("id text:deadbeef", &k, &why), 1);
	assert_int_equal(k.secret_len, 8);
	assert_memory_equal(k.secret, "deadbeef", 8);
	assert_int_equal(parse_line("id deadbeef", &k, &why), 1);
	assert_int_equal(k.secret_len, 4);
	assert_int_equal(parse_line("id pass#word", &k, &why), 1);
	assert_memory_equal(k.secret, "pass#word", 9);

	/* UTF-8 KeyID of exactly 80 octets (D11) */
	char line[200];
	char id[81];
	memset(id, 'a', 78);
	memcpy(id + 78, "\xc3\xa9", 2); /* é */
	id[80] = '\0';
	snprintf(line, sizeof(line), "%s secret", id);
	assert_int_equal(parse_line(line, &k, &why), 1);
	assert_int_equal(k.keyid_len, 80);
	assert_string_equal(k.keyid, id);

	/* comments and blank lines */
	assert_int_equal(parse_line("# labuser 6c61", &k, &why), 0);
	assert_int_equal(parse_line("   \t# indented comment", &k, &why), 0);
	assert_int_equal(parse_line("", &k, &why), 0);
	assert_int_equal(parse_line(" \t \r\n", &k, &why), 0);
}

static void expect_line_error(const char *line, const char *why_part)
{
	struct crypto_key k;
	const char *why = NULL;

	assert_int_equal(parse_line(line, &k, &why), -EINVAL);
	assert_non_null(why);
	if (!strstr(why, why_part))
		fail_msg("line \"%s\": reason \"%s\" lacks \"%s\"", line, why, why_part);
}

static void test_keyfile_line_errors(void **state)
{
	(void)state;
	char line[300];

	memset(line, 'k', 81);
	snprintf(line + 81, sizeof(line) - 81, " secret");
	expect_line_error(line, "longer than 80");
	expect_line_error("lonely", "missing secret");
	expect_line_error("lonely   ", "missing secret");
	expect_line_error("id hex:abc", "hex");
	expect_line_error("id hex:", "hex");
	expect_line_error("id hex:zz", "hex");
	expect_line_error("id text:", "empty");
	expect_line_error("id 0a0b", "CR or LF");      /* D12: LF spelled in hex */
	expect_line_error("id hex:410d42", "CR or LF");
	expect_line_error("id a\x01z", "control");
	expect_line_error("id\x7f secret", "control");
	expect_line_error("\xc3\x28 secret", "UTF-8");  /* invalid continuation */
	expect_line_error("\xc0\xaf secret", "UTF-8");  /* overlong '/' */
	expect_line_error("\xed\xa0\x80 secret", "UTF-8"); /* surrogate */
	expect_line_error("\xf4\x90\x80\x80 secret", "UTF-8"); /* above U+10FFFF */
	expect_line_error("id a\rb", "CR");

	/* an embedded NUL is not the end of the line */
	struct crypto_key k;
	const char *why = NULL;
	assert_int_equal(crypto_keyfile_parse_line("id se\0cret", 10, &k, &why), -EINVAL);
	assert_non_null(why);
	assert_int_equal(crypto_keyfile_parse_line(NULL, 3, &k, &why), -EINVAL);
	assert_int_equal(crypto_keyfile_parse_line("id x", 4, NULL, NULL), -EINVAL);

	/* secret length limit, in text and in hex */
	char *big = malloc(2 * CRYPTO_SECRET_MAX + 16);
	assert_non_null(big);
	memcpy(big, "id ", 3);
	memset(big + 3, 'g', CRYPTO_SECRET_MAX);
	big[3 + CRYPTO_SECRET_MAX] = '\0';
	assert_int_equal(parse_line(big, &k, &why), 1);
	assert_int_equal(k.secret_len, CRYPTO_SECRET_MAX);
	memcpy(big + 3 + CRYPTO_SECRET_MAX, "g", 2);
	expect_line_error(big, "longer than 1024");
	memset(big + 3, 'a', 2 * CRYPTO_SECRET_MAX + 2);
	big[3 + 2 * CRYPTO_SECRET_MAX + 2] = '\0';
	expect_line_error(big, "longer than 1024");
	free(big);
}

static const char keyfile_text[] =
	"# twampkit shared secrets\n"
	"\n"
	"labuser\t6c6162736563726574\n"
	"client-1 twamp-secret\r\n"
	"   # indented comment\n"
	"hexy text:cafe\n"
	"last 0x41"; /* no final newline */

static void test_keyfile_parse(void **state)
{
	(void)state;
	struct crypto_keyfile kf = { 0 };
	char err[256];

	assert_int_equal(crypto_keyfile_parse("mem", keyfile_text, strlen(keyfile_text), &kf, err,
					      sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(kf.n, 4);

	const struct crypto_key *k = crypto_keyfile_find(&kf, "labuser", 7);
	assert_non_null(k);
	assert_int_equal(k->secret_len, 9);
	assert_memory_equal(k->secret, "labsecret", 9);
	k = crypto_keyfile_find(&kf, "client-1", 8);
	assert_non_null(k);
	assert_memory_equal(k->secret, "twamp-secret", 12);
	k = crypto_keyfile_find(&kf, "hexy", 4);
	assert_non_null(k);
	assert_int_equal(k->secret_len, 4);
	k = crypto_keyfile_find(&kf, "last", 4);
	assert_non_null(k);
	assert_int_equal(k->secret_len, 1);
	assert_int_equal(k->secret[0], 'A');

	/* exact octets: no prefix or case folding */
	assert_null(crypto_keyfile_find(&kf, "labuse", 6));
	assert_null(crypto_keyfile_find(&kf, "LABUSER", 7));
	assert_null(crypto_keyfile_find(&kf, "labuser\0", 8));
	assert_null(crypto_keyfile_find(NULL, "labuser", 7));

	/* the KeyID as it arrives in a Set-Up-Response */
	uint8_t field[WIRE_KEYID_LEN];
	assert_int_equal(wire_keyid_set(field, "client-1", 8), 0);
	assert_non_null(crypto_keyfile_find(&kf, field, wire_keyid_len(field)));

	crypto_keyfile_free(&kf);
	assert_null(kf.keys);
	assert_int_equal(kf.n, 0);
	crypto_keyfile_free(&kf);

	/* an empty file is valid and holds no key */
	assert_int_equal(crypto_keyfile_parse("mem", "", 0, &kf, err, sizeof(err)), 0);
	assert_int_equal(kf.n, 0);
	crypto_keyfile_free(&kf);

	/* many keys: the array grows */
	char *text = malloc(100 * 32);
	size_t len = 0;
	assert_non_null(text);
	for (int i = 0; i < 100; i++)
		len += (size_t)sprintf(text + len, "key%d secret%d\n", i, i);
	assert_int_equal(crypto_keyfile_parse("mem", text, len, &kf, NULL, 0), 0);
	assert_int_equal(kf.n, 100);
	k = crypto_keyfile_find(&kf, "key73", 5);
	assert_non_null(k);
	assert_memory_equal(k->secret, "secret73", 8);
	crypto_keyfile_free(&kf);
	free(text);
}

static void expect_file_error(const char *text, const char *want_err)
{
	struct crypto_keyfile kf = { 0 };
	char err[256];

	assert_int_equal(crypto_keyfile_parse("keys.txt", text, strlen(text), &kf, err, sizeof(err)),
			 -EINVAL);
	if (!strstr(err, want_err))
		fail_msg("error \"%s\" lacks \"%s\"", err, want_err);
	assert_null(kf.keys);
	assert_int_equal(kf.n, 0);
}

/* Errors name the file and the line. */
static void test_keyfile_errors(void **state)
{
	(void)state;
	char long_id[200];

	expect_file_error("a 1234\n# c\n\nb\n", "keys.txt:4: missing secret");
	expect_file_error("a x\nb y\na z\n", "keys.txt:3: duplicate KeyID");
	memset(long_id, 'x', 81);
	snprintf(long_id + 81, sizeof(long_id) - 81, " s\n");
	char text[300];
	snprintf(text, sizeof(text), "ok s\n%s", long_id);
	expect_file_error(text, "keys.txt:2: KeyID longer than 80 octets");
	expect_file_error("\n\n\nid hex:1\n", "keys.txt:4: ");
	expect_file_error("id 0a\n", "keys.txt:1: secret contains a CR or LF octet");

	struct crypto_keyfile kf = { 0 };
	assert_int_equal(crypto_keyfile_parse("x", NULL, 3, &kf, NULL, 0), -EINVAL);
	assert_int_equal(crypto_keyfile_parse("x", "a b", 3, NULL, NULL, 0), -EINVAL);
}

static void test_keyfile_load(void **state)
{
	(void)state;
	char path[] = "/tmp/tk_keys_XXXXXX";
	struct crypto_keyfile kf = { 0 };
	char err[512];

	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, keyfile_text, strlen(keyfile_text)), (ssize_t)strlen(keyfile_text));
	close(fd);
	assert_int_equal(crypto_keyfile_load(path, &kf, err, sizeof(err)), 0);
	assert_int_equal(kf.n, 4);
	assert_non_null(crypto_keyfile_find(&kf, "labuser", 7));
	crypto_keyfile_free(&kf);

	/* a syntax error names the path and line */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs("good 6c61\n\nbad\n", f);
	fclose(f);
	assert_int_equal(crypto_keyfile_load(path, &kf, err, sizeof(err)), -EINVAL);
	char want[600];
	snprintf(want, sizeof(want), "%s:3: missing secret after the KeyID", path);
	assert_string_equal(err, want);
	assert_int_equal(kf.n, 0);
	unlink(path);

	/* open errors: -errno and "path: reason" */
	assert_int_equal(crypto_keyfile_load(path, &kf, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
	assert_int_equal(crypto_keyfile_load("/tmp", &kf, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(crypto_keyfile_load(NULL, &kf, err, sizeof(err)), -EINVAL);
	assert_int_equal(crypto_keyfile_load(path, NULL, NULL, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pbkdf2_vector),
		cmocka_unit_test(test_pbkdf2_errors),
		cmocka_unit_test(test_token_vector),
		cmocka_unit_test(test_handshake_send),
		cmocka_unit_test(test_handshake_receive),
		cmocka_unit_test(test_first_server_hmac_coverage),
		cmocka_unit_test(test_hmac_chain_tamper),
		cmocka_unit_test(test_stream_errors),
		cmocka_unit_test(test_random_and_equal),
		cmocka_unit_test(test_test_keys_vector),
		cmocka_unit_test(test_auth_sender_vector),
		cmocka_unit_test(test_enc_sender_vector),
		cmocka_unit_test(test_auth_reflector_vector),
		cmocka_unit_test(test_enc_reflector_vector),
		cmocka_unit_test(test_enc_packets_independent),
		cmocka_unit_test(test_auth_covers_block1_only),
		cmocka_unit_test(test_test_ctx_errors),
		cmocka_unit_test(test_keyfile_line_hex),
		cmocka_unit_test(test_keyfile_line_text),
		cmocka_unit_test(test_keyfile_line_errors),
		cmocka_unit_test(test_keyfile_parse),
		cmocka_unit_test(test_keyfile_errors),
		cmocka_unit_test(test_keyfile_load),
	};

	return cmocka_run_group_tests_name("crypto", tests, NULL, NULL);
}
