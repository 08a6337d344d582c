/*
 * Unit tests for common/icmp.c: the RFC 1071 checksum, echo request
 * encoding and reply parsing (with and without the IPv4 header of a raw
 * socket), rejection of other people's echoes and malformed packets, and a
 * real echo over loopback when this process may open an ICMP socket.
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "icmp.h"
#include "tstamp.h"

/* RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2, checksum 220d. */
static void test_checksum_rfc1071(void **state)
{
	(void)state;
	static const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(icmp_checksum(data, sizeof(data)), 0x220d);
	/* Odd length: the last octet is padded with zero. */
	static const uint8_t odd[] = { 0x01 };
	assert_int_equal(icmp_checksum(odd, 1), (uint16_t)~0x0100);
}

static void test_encode_v4(void **state)
{
	(void)state;
	uint8_t buf[64];
	int n = icmp_echo_encode(AF_INET, 0x1234, 7, 70007, 1700000000123456789LL, 33, buf, sizeof(buf));
	assert_int_equal(n, 8 + 33);
	assert_int_equal(buf[0], 8);
	assert_int_equal(buf[1], 0);
	assert_int_equal(buf[4] << 8 | buf[5], 0x1234);
	assert_int_equal(buf[6] << 8 | buf[7], 7);
	/* A packet with a correct checksum sums to zero. */
	assert_int_equal(icmp_checksum(buf, (size_t)n), 0);
	/* Payload: magic, probe number, send time, then zeros. */
	assert_int_equal(buf[8], 'T');
	assert_int_equal(buf[15], 70007 & 0xff);
	for (int i = 8 + 16; i < n; i++)
		assert_int_equal(buf[i], 0);
	/* Too small a buffer. */
	assert_int_equal(icmp_echo_encode(AF_INET, 1, 1, 1, 0, 33, buf, 20), -ENOSPC);
	assert_int_equal(icmp_echo_encode(AF_UNIX, 1, 1, 1, 0, 33, buf, sizeof(buf)), -EINVAL);
	/* IPv6: type 128, checksum left to the kernel. */
	n = icmp_echo_encode(AF_INET6, 1, 2, 3, 4, 0, buf, sizeof(buf));
	assert_int_equal(n, 8 + ICMP_PAYLOAD_MIN);
	assert_int_equal(buf[0], 128);
	assert_int_equal(buf[2] | buf[3], 0);
}

/* Turns an encoded request into the reply a peer would send. */
static void make_reply(uint8_t *icmp, size_t len, int family)
{
	icmp[0] = family == AF_INET ? 0 : 129;
	icmp[2] = icmp[3] = 0;
	if (family == AF_INET) {
		uint16_t sum = icmp_checksum(icmp, len);
		icmp[2] = (uint8_t)(sum >> 8);
		icmp[3] = (uint8_t)sum;
	}
}

static void test_parse_reply(void **state)
{
	(void)state;
	uint8_t pkt[20 + 64];
	int n = icmp_echo_encode(AF_INET, 0xbeef, 9, 9, 42, 40, pkt + 20, sizeof(pkt) - 20);
	make_reply(pkt + 20, (size_t)n, AF_INET);
	struct icmp_echo_reply r;
	/* Datagram socket: ICMP only. */
	assert_int_equal(icmp_echo_parse(AF_INET, false, pkt + 20, (size_t)n, &r), 0);
	assert_int_equal(r.ident, 0xbeef);
	assert_int_equal(r.seq, 9);
	assert_int_equal(r.probe, 9);
	assert_int_equal(r.t1_ns, 42);
	assert_int_equal(r.ttl, -1);
	assert_int_equal(r.payload_len, 40);
	/* Raw socket: IPv4 header first, TTL read from it. */
	memset(pkt, 0, 20);
	pkt[0] = 0x45;
	pkt[8] = 61;
	pkt[9] = IPPROTO_ICMP;
	assert_int_equal(icmp_echo_parse(AF_INET, true, pkt, 20 + (size_t)n, &r), 0);
	assert_int_equal(r.ttl, 61);
	assert_int_equal(r.probe, 9);
	/* IPv6. */
	uint8_t v6[64];
	n = icmp_echo_encode(AF_INET6, 5, 6, 6, 7, 16, v6, sizeof(v6));
	make_reply(v6, (size_t)n, AF_INET6);
	assert_int_equal(icmp_echo_parse(AF_INET6, false, v6, (size_t)n, &r), 0);
	assert_int_equal(r.ident, 5);
}

static void test_parse_rejects(void **state)
{
	(void)state;
	uint8_t pkt[64];
	int n = icmp_echo_encode(AF_INET, 1, 1, 1, 1, 16, pkt, sizeof(pkt));
	struct icmp_echo_reply r;
	/* An echo request (what a raw socket sees of pings to this host) is not a reply. */
	assert_int_equal(icmp_echo_parse(AF_INET, false, pkt, (size_t)n, &r), -ENOMSG);
	make_reply(pkt, (size_t)n, AF_INET);
	/* Someone else's echo reply: no magic. */
	pkt[8] ^= 0xff;
	assert_int_equal(icmp_echo_parse(AF_INET, false, pkt, (size_t)n, &r), -ENOMSG);
	pkt[8] ^= 0xff;
	/* Truncated at every length before the payload ends. */
	for (size_t len = 0; len < 8; len++)
		assert_int_equal(icmp_echo_parse(AF_INET, false, pkt, len, &r), -EBADMSG);
	for (size_t len = 8; len < 8 + ICMP_PAYLOAD_MIN; len++)
		assert_int_equal(icmp_echo_parse(AF_INET, false, pkt, len, &r), -ENOMSG);
	/* Bad IPv4 headers: version, IHL beyond the data, not ICMP. */
	uint8_t raw[20 + 64];
	memset(raw, 0, 20);
	memcpy(raw + 20, pkt, (size_t)n);
	raw[0] = 0x65;
	assert_int_equal(icmp_echo_parse(AF_INET, true, raw, 20 + (size_t)n, &r), -EBADMSG);
	raw[0] = 0x4f;
	assert_int_equal(icmp_echo_parse(AF_INET, true, raw, 30, &r), -EBADMSG);
	raw[0] = 0x45;
	raw[9] = IPPROTO_UDP;
	assert_int_equal(icmp_echo_parse(AF_INET, true, raw, 20 + (size_t)n, &r), -EBADMSG);
	assert_int_equal(icmp_echo_parse(AF_INET, true, raw, 3, &r), -EBADMSG);
}

/* A real echo to 127.0.0.1 (skipped when no ICMP socket may be opened). */
static void test_loopback_echo(void **state)
{
	(void)state;
	struct icmp_socket s;
	int rc = icmp_open(&s, AF_INET, NULL, 0, SOCK_TS_KERNEL, 0x4242);
	if (rc == -EPERM) {
		skip();
		return;
	}
	assert_int_equal(rc, 0);
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	uint8_t pkt[64];
	int n = icmp_echo_encode(AF_INET, s.ident, 3, 3, ts_realtime_ns(), 20, pkt, sizeof(pkt));
	assert_int_equal(sendto(s.fd, pkt, (size_t)n, 0, (struct sockaddr *)&dst, sizeof(dst)), n);
	struct icmp_echo_reply r;
	int got = -1;
	for (int tries = 0; tries < 20 && got != 0; tries++) {
		struct pollfd p = { .fd = s.fd, .events = POLLIN };
		if (poll(&p, 1, 200) <= 0)
			continue;
		uint8_t buf[256];
		ssize_t k = recv(s.fd, buf, sizeof(buf), 0);
		if (k > 0)
			got = icmp_echo_parse(AF_INET, s.kind == ICMP_SOCK_RAW, buf, (size_t)k, &r);
		if (got == 0 && r.ident != s.ident)
			got = -1;
	}
	assert_int_equal(got, 0);
	assert_int_equal(r.probe, 3);
	close(s.fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_checksum_rfc1071),
		cmocka_unit_test(test_encode_v4),
		cmocka_unit_test(test_parse_reply),
		cmocka_unit_test(test_parse_rejects),
		cmocka_unit_test(test_loopback_echo),
	};
	return cmocka_run_group_tests_name("icmp", tests, NULL, NULL);
}
