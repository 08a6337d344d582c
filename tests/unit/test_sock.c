/*
 * Unit tests for common/sock.c: ancillary data parsing and building as
 * pure functions, then real loopback sockets (IPv4 and IPv6): kernel RX
 * and TX timestamps, received TTL/TOS/destination, per-packet TTL and TOS
 * via cmsg (checklist B6, C9, C11, C13 at the socket level).
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "sock.h"
#include "tstamp.h"

union control {
	uint8_t buf[SOCK_CMSG_SPACE];
	struct cmsghdr align;
};

static void test_parse_empty(void **state)
{
	(void)state;
	struct msghdr m = { 0 };
	struct sock_rx_meta meta;
	memset(&meta, 0x5a, sizeof(meta));
	sock_parse_rx_cmsgs(&m, &meta);
	assert_int_equal(meta.rx.src, TS_SRC_NONE);
	assert_int_equal(meta.ttl, -1);
	assert_int_equal(meta.tos, -1);
	assert_false(meta.have_local);
}

/* What sock_build_tx_cmsgs writes parses back (TTL, TOS; IPv4 and IPv6). */
static void test_build_then_parse(void **state)
{
	(void)state;
	union control c;
	struct sockaddr_storage local;
	memset(&local, 0, sizeof(local));
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000002) };
	memcpy(&local, &sin, sizeof(sin));
	size_t n = sock_build_tx_cmsgs(c.buf, sizeof(c.buf), AF_INET, &local, 0, 64, 0xb8);
	assert_true(n > 0);
	struct msghdr m = { .msg_control = c.buf, .msg_controllen = n };
	int seen_ttl = 0, seen_tos = 0, seen_pi = 0;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		int v;
		if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TTL) {
			memcpy(&v, CMSG_DATA(h), sizeof(v));
			assert_int_equal(v, 64);
			seen_ttl++;
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_TOS) {
			memcpy(&v, CMSG_DATA(h), sizeof(v));
			assert_int_equal(v, 0xb8);
			seen_tos++;
		} else if (h->cmsg_level == IPPROTO_IP && h->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			memcpy(&pi, CMSG_DATA(h), sizeof(pi));
			assert_int_equal(ntohl(pi.ipi_spec_dst.s_addr), 0x7f000002);
			seen_pi++;
		}
	}
	assert_int_equal(seen_ttl + seen_tos + seen_pi, 3);
	/* Nothing requested: no control data at all. */
	assert_int_equal(sock_build_tx_cmsgs(c.buf, sizeof(c.buf), AF_INET6, NULL, 0, -1, -1), 0);
	/* Too small a buffer: what fits, never an overrun. */
	assert_true(sock_build_tx_cmsgs(c.buf, 24, AF_INET, &local, 0, 64, 0xb8) <= 24);
}

static int open_pair(int family, int *rx, int *tx, struct sock_caps *rcaps, struct sock_caps *tcaps,
		     struct sockaddr_storage *rx_addr, socklen_t *len)
{
	struct sockaddr_storage a;
	memset(&a, 0, sizeof(a));
	if (family == AF_INET) {
		struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
		memcpy(&a, &sin, sizeof(sin));
		*len = sizeof(sin);
	} else {
		struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
		memcpy(&a, &sin6, sizeof(sin6));
		*len = sizeof(sin6);
	}
	*rx = sock_udp_open((struct sockaddr *)&a, *len, SOCK_TS_KERNEL, 0, rcaps);
	if (*rx < 0)
		return *rx;
	*tx = sock_udp_open((struct sockaddr *)&a, *len, SOCK_TS_KERNEL, SOCK_F_TX_TS, tcaps);
	if (*tx < 0)
		return *tx;
	socklen_t l = sizeof(*rx_addr);
	getsockname(*rx, (struct sockaddr *)rx_addr, &l);
	return 0;
}

static void loopback_roundtrip(int family)
{
	int rx = -1, tx = -1;
	struct sock_caps rc, tc;
	struct sockaddr_storage dst;
	socklen_t len;
	int err = open_pair(family, &rx, &tx, &rc, &tc, &dst, &len);
	if (err == -EAFNOSUPPORT || err == -EADDRNOTAVAIL) {
		skip();
		return;
	}
	assert_int_equal(err, 0);
	/* This kernel offers software timestamps; the fallback is for others. */
	assert_int_equal(rc.rx, SOCK_RX_TIMESTAMPING);
	assert_int_equal(tc.tx, SOCK_TX_TIMESTAMPING);
	assert_true(rc.pktinfo && rc.recv_ttl && rc.recv_tos);

	for (int i = 0; i < 2; i++) {
		union control c;
		int ttl = i ? 7 : 64, tos = i ? 0x28 : 0xb8;
		size_t n = sock_build_tx_cmsgs(c.buf, sizeof(c.buf), family, NULL, 0, ttl, tos);
		uint8_t payload[41] = { (uint8_t)i };
		struct iovec iov = { payload, sizeof(payload) };
		struct msghdr m = { .msg_name = &dst, .msg_namelen = len, .msg_iov = &iov,
				    .msg_iovlen = 1, .msg_control = c.buf, .msg_controllen = n };
		int64_t before = ts_realtime_ns();
		assert_int_equal(sendmsg(tx, &m, 0), (ssize_t)sizeof(payload));

		struct pollfd p = { .fd = rx, .events = POLLIN };
		assert_int_equal(poll(&p, 1, 2000), 1);
		uint8_t buf[64];
		union control rcv;
		struct sockaddr_storage peer;
		struct iovec riov = { buf, sizeof(buf) };
		struct msghdr r = { .msg_name = &peer, .msg_namelen = sizeof(peer), .msg_iov = &riov,
				    .msg_iovlen = 1, .msg_control = rcv.buf, .msg_controllen = sizeof(rcv.buf) };
		assert_int_equal(recvmsg(rx, &r, 0), (ssize_t)sizeof(payload));
		int64_t after = ts_realtime_ns();
		struct sock_rx_meta meta;
		sock_parse_rx_cmsgs(&r, &meta);
		assert_int_equal(meta.rx.src, TS_SRC_KERNEL);
		assert_true(meta.rx.ns >= before && meta.rx.ns <= after);
		assert_int_equal(meta.ttl, ttl);
		assert_int_equal(meta.tos, tos);
		assert_true(meta.have_local);
		assert_int_equal(meta.local.ss_family, family);

		/* The TX timestamp comes back with OPT_ID = i. */
		uint32_t id = 99;
		int64_t ts = 0;
		int rcode = -EAGAIN;
		for (int tries = 0; tries < 200 && rcode == -EAGAIN; tries++) {
			rcode = sock_read_tx_timestamp(tx, &id, &ts);
			if (rcode == -EAGAIN)
				usleep(1000);
		}
		assert_int_equal(rcode, 0);
		assert_int_equal(id, (uint32_t)i);
		assert_true(ts >= before && ts <= meta.rx.ns);
	}
	assert_int_equal(sock_read_tx_timestamp(tx, &(uint32_t){ 0 }, &(int64_t){ 0 }), -EAGAIN);
	close(rx);
	close(tx);
}

static void test_loopback_v4(void **state)
{
	(void)state;
	loopback_roundtrip(AF_INET);
}

static void test_loopback_v6(void **state)
{
	(void)state;
	loopback_roundtrip(AF_INET6);
}

/* User timestamps on request: no kernel stamps, reported as such. */
static void test_user_mode(void **state)
{
	(void)state;
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct sock_caps caps;
	int fd = sock_udp_open((struct sockaddr *)&sin, sizeof(sin), SOCK_TS_USER, SOCK_F_TX_TS, &caps);
	assert_true(fd >= 0);
	assert_int_equal(caps.rx, SOCK_RX_USER);
	assert_int_equal(caps.tx, SOCK_TX_USER);
	assert_string_equal(sock_rx_mode_name(caps.rx), "user");
	close(fd);
}

static void test_errors(void **state)
{
	(void)state;
	struct sockaddr sa = { .sa_family = AF_UNIX };
	struct sock_caps caps;
	assert_int_equal(sock_udp_open(&sa, sizeof(sa), SOCK_TS_KERNEL, 0, &caps), -EAFNOSUPPORT);
	/* Binding an address this host does not have. */
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0xc0000201) };
	assert_int_equal(sock_udp_open((struct sockaddr *)&sin, sizeof(sin), SOCK_TS_KERNEL, 0, &caps),
			 -EADDRNOTAVAIL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_empty),
		cmocka_unit_test(test_build_then_parse),
		cmocka_unit_test(test_loopback_v4),
		cmocka_unit_test(test_loopback_v6),
		cmocka_unit_test(test_user_mode),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests_name("sock", tests, NULL, NULL);
}
