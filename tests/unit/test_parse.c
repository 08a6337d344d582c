/*
 * Unit tests for common/parse.c: every duration form and its errors (exact
 * nanoseconds, no float rounding), the duration formatter, unsigned
 * integers, endpoints (IPv4, IPv6 bare and bracketed, ports, names, family
 * restriction, port 0) and CIDR prefixes with v4-mapped matching.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "parse.h"

#define S 1000000000LL

struct dur_ok {
	const char *text;
	int64_t ns;
};

/* DESIGN §2: 1s, 10ms, 250us, 1000ns and plain seconds 0.001. */
static const struct dur_ok dur_ok[] = {
	{ "1s", S },
	{ "10ms", 10000000 },
	{ "250us", 250000 },
	{ "1000ns", 1000 },
	{ "0.001", 1000000 },         /* exact: a double would give 999999.99... */
	{ "1.5ms", 1500000 },
	{ "0.1", 100000000 },
	{ "0", 0 },
	{ "0s", 0 },
	{ "0ns", 0 },
	{ "900", 900 * S },
	{ "2m", 120 * S },
	{ "1.5m", 90 * S },
	{ "1h", 3600 * S },
	{ "1d", 86400 * S },
	{ "0.000000001", 1 },         /* 9 fractional digits of seconds */
	{ "1.000000001s", S + 1 },
	{ "1.0000000000000s", S },    /* trailing zeros add no precision */
	{ "0.5us", 500 },
	{ "1.25us", 1250 },
	{ "0.000001ms", 1 },
	{ "007ms", 7000000 },
	{ "9223372036854775807ns", INT64_MAX },
	{ "9223372036.854775807", INT64_MAX },
};

static void test_duration_valid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dur_ok) / sizeof(dur_ok[0]); i++) {
		int64_t ns = -1;

		assert_int_equal(parse_duration_ns(dur_ok[i].text, &ns), 0);
		if (ns != dur_ok[i].ns)
			fail_msg("'%s' gave %lld, expected %lld", dur_ok[i].text, (long long)ns,
				 (long long)dur_ok[i].ns);
	}
}

struct dur_bad {
	const char *text;
	int rc;
};

static const struct dur_bad dur_bad[] = {
	{ "", -EINVAL },
	{ "-1s", -EINVAL },
	{ "+1s", -EINVAL },
	{ " 1s", -EINVAL },
	{ "1s ", -EINVAL },
	{ "1 s", -EINVAL },
	{ "s", -EINVAL },
	{ "ms", -EINVAL },
	{ ".5", -EINVAL },
	{ "1.", -EINVAL },
	{ "1.s", -EINVAL },
	{ "1..5", -EINVAL },
	{ "1sx", -EINVAL },
	{ "10xs", -EINVAL },
	{ "1S", -EINVAL },
	{ "1e3", -EINVAL },
	{ "0x10", -EINVAL },
	{ "1.5ns", -EINVAL },           /* finer than a nanosecond */
	{ "0.0000000001", -EINVAL },    /* 10 fractional digits of seconds */
	{ "0.0000001ms", -EINVAL },
	{ "1ms1", -EINVAL },
	{ "9223372036854775808ns", -ERANGE },
	{ "9223372036.854775808", -ERANGE },
	{ "106752d", -ERANGE },
	{ "99999999999999999999999", -ERANGE },
	{ "99999999999999999999999x", -EINVAL }, /* junk outranks overflow */
};

static void test_duration_invalid(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(dur_bad) / sizeof(dur_bad[0]); i++) {
		int64_t ns = 12345;
		int rc = parse_duration_ns(dur_bad[i].text, &ns);

		if (rc != dur_bad[i].rc)
			fail_msg("'%s' gave %d, expected %d", dur_bad[i].text, rc, dur_bad[i].rc);
		assert_int_equal(ns, 12345); /* untouched on error */
	}
	assert_int_equal(parse_duration_ns(NULL, &(int64_t){ 0 }), -EINVAL);
}

static void test_duration_format(void **state)
{
	static const struct dur_ok fmt[] = {
		{ "0s", 0 },          { "1s", S },           { "250us", 250000 },
		{ "1500ns", 1500 },   { "1500us", 1500000 }, { "15m", 900 * S },
		{ "90s", 90 * S },    { "1h", 3600 * S },    { "1d", 86400 * S },
		{ "25h", 25 * 3600 * S }, { "1ns", 1 },      { "-10ms", -10000000 },
		{ "9223372036854775807ns", INT64_MAX },
	};
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fmt) / sizeof(fmt[0]); i++) {
		int64_t back;

		format_duration_ns(fmt[i].ns, buf, sizeof(buf));
		assert_string_equal(buf, fmt[i].text);
		if (fmt[i].ns >= 0) { /* the output parses back to the same value */
			assert_int_equal(parse_duration_ns(buf, &back), 0);
			assert_int_equal(back, fmt[i].ns);
		}
	}
	/* Truncation stays NUL-terminated. */
	format_duration_ns(250000, buf, 3);
	assert_string_equal(buf, "25");
}

static void test_uint(void **state)
{
	uint64_t v = 7;

	(void)state;
	assert_int_equal(parse_uint("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("65535", 0, 65535, &v), 0);
	assert_int_equal(v, 65535);
	assert_int_equal(parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 7;
	assert_int_equal(parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_uint("65536", 0, 65535, &v), -ERANGE);
	assert_int_equal(parse_uint("0", 1, 10, &v), -ERANGE);
	assert_int_equal(parse_uint("", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("-1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("+1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint(" 1", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("1 ", 0, 10, &v), -EINVAL);
	assert_int_equal(parse_uint("0x10", 0, 100, &v), -EINVAL);
	assert_int_equal(parse_uint("1e3", 0, 10000, &v), -EINVAL);
	assert_int_equal(v, 7);
}

static void expect_v4(const char *text, uint16_t defport, const char *addr, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	struct in_addr want;
	socklen_t len = 0;

	assert_int_equal(parse_endpoint(text, AF_UNSPEC, defport, 1, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	memcpy(&sin, &ss, sizeof(sin));
	assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
	assert_memory_equal(&sin.sin_addr, &want, 4);
	assert_int_equal(ntohs(sin.sin_port), port);
}

static void expect_v6(const char *text, int family, uint16_t defport, const char *addr,
		      uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 sin6;
	struct in6_addr want;
	socklen_t len = 0;

	assert_int_equal(parse_endpoint(text, family, defport, 1, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	memcpy(&sin6, &ss, sizeof(sin6));
	assert_int_equal(inet_pton(AF_INET6, addr, &want), 1);
	assert_memory_equal(&sin6.sin6_addr, &want, 16);
	assert_int_equal(ntohs(sin6.sin6_port), port);
}

/* H3: port 862 by default, configurable, 0 = ephemeral. */
static void test_endpoint_numeric(void **state)
{
	(void)state;
	expect_v4("127.0.0.1", 862, "127.0.0.1", 862);
	expect_v4("127.0.0.1:862", 1, "127.0.0.1", 862);
	expect_v4("192.0.2.7:18620", 862, "192.0.2.7", 18620);
	expect_v4("0.0.0.0:0", 862, "0.0.0.0", 0);
	expect_v4("10.1.2.3:65535", 862, "10.1.2.3", 65535);
	expect_v6("[::1]:862", AF_UNSPEC, 1, "::1", 862);
	expect_v6("::1", AF_UNSPEC, 862, "::1", 862);      /* bare literal, no port */
	expect_v6("[::1]", AF_UNSPEC, 862, "::1", 862);
	expect_v6("[::]:862", AF_INET6, 1, "::", 862);
	expect_v6("2001:db8::1", AF_INET6, 5000, "2001:db8::1", 5000);
	expect_v6("::ffff:192.0.2.1", AF_UNSPEC, 7, "::ffff:192.0.2.1", 7);
}

static void test_endpoint_errors(void **state)
{
	struct sockaddr_storage ss;
	socklen_t len;

	(void)state;
#define BAD(text, fam, rc) assert_int_equal(parse_endpoint(text, fam, 862, 1, &ss, &len), rc)
	BAD("", AF_UNSPEC, -EINVAL);
	BAD(":862", AF_UNSPEC, -EINVAL);
	BAD("127.0.0.1:", AF_UNSPEC, -EINVAL);
	BAD("127.0.0.1:65536", AF_UNSPEC, -ERANGE);
	BAD("127.0.0.1:99999999999999999999", AF_UNSPEC, -ERANGE);
	BAD("127.0.0.1:-1", AF_UNSPEC, -EINVAL);
	BAD("127.0.0.1:twamp", AF_UNSPEC, -EINVAL);
	BAD("127.0.0.1:86 2", AF_UNSPEC, -EINVAL);
	BAD("[::1]:70000", AF_UNSPEC, -ERANGE);
	BAD("[::1", AF_UNSPEC, -EINVAL);
	BAD("[::1]862", AF_UNSPEC, -EINVAL);
	BAD("[]:862", AF_UNSPEC, -EINVAL);
	BAD("[127.0.0.1]:862", AF_UNSPEC, -EINVAL); /* brackets only for IPv6 */
	BAD("[::1]:862", AF_INET, -EINVAL);
	BAD("::1", AF_INET, -EINVAL);                /* literal of the other family */
	BAD("127.0.0.1", AF_INET6, -EINVAL);
	BAD("localhost", AF_UNSPEC, -EINVAL);        /* numeric_only */
	BAD("256.0.0.1", AF_UNSPEC, -EINVAL);
	BAD("1.2.3.4.5:1", AF_UNSPEC, -EINVAL);
	BAD("127.0.0.1", AF_UNIX, -EINVAL);
#undef BAD
	assert_int_equal(parse_endpoint(NULL, AF_UNSPEC, 862, 1, &ss, &len), -EINVAL);
}

static void test_endpoint_names(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in sin;
	socklen_t len = 0;

	(void)state;
	/* "localhost" is in /etc/hosts on every test machine we target (AF_INET: files only). */
	assert_int_equal(parse_endpoint("localhost:18620", AF_INET, 862, 0, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	memcpy(&sin, &ss, sizeof(sin));
	assert_int_equal(ntohl(sin.sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(sin.sin_port), 18620);
	assert_int_equal(parse_endpoint("localhost", AF_INET, 862, 0, &ss, &len), 0);
	memcpy(&sin, &ss, sizeof(sin));
	assert_int_equal(ntohs(sin.sin_port), 862);
	/* No lookup of a name that is not in /etc/hosts: tests stay off the network. */
	/* Literals still work with resolution enabled. */
	assert_int_equal(parse_endpoint("[::1]:9", AF_UNSPEC, 862, 0, &ss, &len), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
}

static void test_endpoint_format(void **state)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 sin6;
	socklen_t len;
	char buf[80];

	(void)state;
	assert_int_equal(parse_endpoint("192.0.2.1:862", AF_UNSPEC, 0, 1, &ss, &len), 0);
	format_endpoint((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:862");
	assert_int_equal(parse_endpoint("2001:db8::1", AF_UNSPEC, 18620, 1, &ss, &len), 0);
	format_endpoint((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:18620");
	/* A zone index with no interface of that number is printed as a number. */
	memcpy(&sin6, &ss, sizeof(sin6));
	sin6.sin6_scope_id = 999999;
	memcpy(&ss, &sin6, sizeof(sin6));
	format_endpoint((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1%999999]:18620");
	/* Output parses back. */
	assert_int_equal(parse_endpoint("[::1]:0", AF_UNSPEC, 862, 1, &ss, &len), 0);
	format_endpoint((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "[::1]:0");
	ss.ss_family = AF_UNIX;
	format_endpoint((struct sockaddr *)&ss, buf, sizeof(buf));
	assert_string_equal(buf, "?");
	assert_int_equal(parse_endpoint("10.0.0.1:1", AF_UNSPEC, 0, 1, &ss, &len), 0);
	format_endpoint((struct sockaddr *)&ss, buf, 5);
	assert_string_equal(buf, "10.0");
}

static struct sockaddr_storage sa_of(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;

	assert_int_equal(parse_endpoint(text, AF_UNSPEC, 1, 1, &ss, &len), 0);
	return ss;
}

static bool contains(const char *prefix, const char *addr)
{
	struct parse_prefix p;
	struct sockaddr_storage ss = sa_of(addr);

	assert_int_equal(parse_prefix(prefix, &p), 0);
	return prefix_contains(&p, (struct sockaddr *)&ss);
}

static void test_prefix_parse(void **state)
{
	static const uint8_t net24[16] = { 192, 0, 2, 0 };
	static const uint8_t net6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x80 };
	struct parse_prefix p;

	(void)state;
	assert_int_equal(parse_prefix("192.0.2.0/24", &p), 0);
	assert_int_equal(p.family, AF_INET);
	assert_int_equal(p.plen, 24);
	assert_memory_equal(p.addr, net24, 16);
	/* Host bits are cleared. */
	assert_int_equal(parse_prefix("192.0.2.77/24", &p), 0);
	assert_memory_equal(p.addr, net24, 16);
	assert_int_equal(parse_prefix("2001:db8:80ff::1/33", &p), 0);
	assert_int_equal(p.family, AF_INET6);
	assert_int_equal(p.plen, 33);
	assert_memory_equal(p.addr, net6, 16);
	assert_int_equal(parse_prefix("10.1.2.3", &p), 0);
	assert_int_equal(p.plen, 32);
	assert_int_equal(parse_prefix("::1", &p), 0);
	assert_int_equal(p.plen, 128);
	assert_int_equal(parse_prefix("0.0.0.0/0", &p), 0);
	assert_int_equal(p.plen, 0);

	assert_int_equal(parse_prefix("10.0.0.0/33", &p), -ERANGE);
	assert_int_equal(parse_prefix("::/129", &p), -ERANGE);
	assert_int_equal(parse_prefix("10.0.0/8", &p), -EINVAL);
	assert_int_equal(parse_prefix("10.0.0.0/", &p), -EINVAL);
	assert_int_equal(parse_prefix("10.0.0.0/-1", &p), -EINVAL);
	assert_int_equal(parse_prefix("10.0.0.0/8/8", &p), -EINVAL);
	assert_int_equal(parse_prefix("/8", &p), -EINVAL);
	assert_int_equal(parse_prefix("", &p), -EINVAL);
	assert_int_equal(parse_prefix("example.com/8", &p), -EINVAL);
	assert_int_equal(parse_prefix("[::1]/128", &p), -EINVAL);
}

static void test_prefix_contains(void **state)
{
	struct parse_prefix p;
	struct sockaddr_storage ss;

	(void)state;
	assert_true(contains("192.0.2.0/24", "192.0.2.200"));
	assert_false(contains("192.0.2.0/24", "192.0.3.1"));
	assert_true(contains("192.0.2.128/25", "192.0.2.129"));
	assert_false(contains("192.0.2.128/25", "192.0.2.127"));
	assert_true(contains("0.0.0.0/0", "203.0.113.9"));
	assert_false(contains("0.0.0.0/0", "2001:db8::1")); /* v4 prefix, real v6 */
	assert_true(contains("10.0.0.1", "10.0.0.1"));
	assert_false(contains("10.0.0.1", "10.0.0.2"));
	assert_true(contains("2001:db8::/32", "2001:db8:ffff::1"));
	assert_false(contains("2001:db8::/32", "2001:db9::1"));
	assert_true(contains("2001:db8:8000::/33", "2001:db8:8001::1"));
	assert_false(contains("2001:db8:8000::/33", "2001:db8:7fff::1"));
	assert_false(contains("2001:db8::/32", "192.0.2.1"));
	/* Dual-stack sockets see IPv4 senders as v4-mapped addresses. */
	assert_true(contains("192.0.2.0/24", "::ffff:192.0.2.5"));
	assert_false(contains("192.0.2.0/24", "::ffff:192.0.3.5"));
	assert_true(contains("::ffff:192.0.2.0/120", "192.0.2.9"));
	assert_false(contains("::ffff:192.0.2.0/120", "192.0.3.9"));
	assert_true(contains("::/0", "::1"));

	assert_false(prefix_contains(NULL, NULL));
	assert_int_equal(parse_prefix("10.0.0.0/8", &p), 0);
	memset(&ss, 0, sizeof(ss));
	ss.ss_family = AF_UNIX;
	assert_false(prefix_contains(&p, (struct sockaddr *)&ss));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_valid),
		cmocka_unit_test(test_duration_invalid),
		cmocka_unit_test(test_duration_format),
		cmocka_unit_test(test_uint),
		cmocka_unit_test(test_endpoint_numeric),
		cmocka_unit_test(test_endpoint_errors),
		cmocka_unit_test(test_endpoint_names),
		cmocka_unit_test(test_endpoint_format),
		cmocka_unit_test(test_prefix_parse),
		cmocka_unit_test(test_prefix_contains),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
