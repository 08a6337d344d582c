/*
 * Unit tests of common/refl_sessions.c, the stateful TWAMP-Light
 * reflector's session table: 5-tuple keys (C32) with IPv4 stored v4-mapped,
 * one reflector sequence counter per session (C7), expiry after REFWAIT of
 * inactivity (C24), least-recently-used eviction when full, and bounded
 * state under a flood of distinct senders.  Time is passed in as now_ns, so
 * no test sleeps.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "refl_sessions.h"

#define SEC 1000000000LL

static struct sockaddr_in sin4(const char *addr, uint16_t port)
{
	struct sockaddr_in a;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, addr, &a.sin_addr), 1);
	return a;
}

static struct sockaddr_in6 sin6(const char *addr, uint16_t port)
{
	struct sockaddr_in6 a;

	memset(&a, 0, sizeof(a));
	a.sin6_family = AF_INET6;
	a.sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, addr, &a.sin6_addr), 1);
	return a;
}

/* Key reflector 192.0.2.1:862 <- sender 10.(n>>16).(n>>8).n : port. */
static struct refl_key key4(uint32_t n, uint16_t port)
{
	struct sockaddr_in l = sin4("192.0.2.1", 862), r = sin4("10.0.0.0", port);
	struct refl_key k;

	r.sin_addr.s_addr = htonl(0x0a000000u | (n & 0xffffffu));
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l,
					     (struct sockaddr *)&r), 0);
	return k;
}

static void expect_stats(const struct refl_table *t, uint64_t created, uint64_t expired,
			 uint64_t evicted, size_t active)
{
	struct refl_table_stats st;

	memset(&st, 0xa5, sizeof(st));
	refl_table_get_stats(t, &st);
	assert_int_equal(st.created, created);
	assert_int_equal(st.expired, expired);
	assert_int_equal(st.evicted, evicted);
	assert_int_equal(st.active, active);
}

/* --- keys ------------------------------------------------------------------ */

static void test_key_v4(void **state)
{
	static const uint8_t local[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
					   192, 0, 2, 1 };
	static const uint8_t remote[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
					    198, 51, 100, 7 };
	struct sockaddr_in l = sin4("192.0.2.1", 862), r = sin4("198.51.100.7", 40000);
	struct refl_key k;

	(void)state;
	memset(&k, 0x5a, sizeof(k));
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l,
					     (struct sockaddr *)&r), 0);
	assert_memory_equal(k.local, local, 16);
	assert_memory_equal(k.remote, remote, 16);
	assert_int_equal(k.local_port, 862);     /* host order */
	assert_int_equal(k.remote_port, 40000);
}

static void test_key_v6(void **state)
{
	static const uint8_t local[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
					   0, 0, 0, 0, 0, 0, 0, 1 };
	static const uint8_t remote[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
	struct sockaddr_in6 l = sin6("2001:db8::1", 862), r = sin6("::1", 5000);
	struct refl_key k;

	(void)state;
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l,
					     (struct sockaddr *)&r), 0);
	assert_memory_equal(k.local, local, 16);
	assert_memory_equal(k.remote, remote, 16);
	assert_int_equal(k.local_port, 862);
	assert_int_equal(k.remote_port, 5000);
}

static void test_key_v4_mapped_equal(void **state)
{
	/* A dual-stack socket reports ::ffff:a.b.c.d; it must be the same session. */
	struct sockaddr_in l4 = sin4("192.0.2.1", 862), r4 = sin4("203.0.113.9", 1234);
	struct sockaddr_in6 l6 = sin6("::ffff:192.0.2.1", 862), r6 = sin6("::ffff:203.0.113.9", 1234);
	struct refl_key a, b, c;
	struct refl_table *t;
	struct refl_session *s1, *s2;
	bool created = false, evicted = true;

	(void)state;
	assert_int_equal(refl_key_from_addrs(&a, (struct sockaddr *)&l4, (struct sockaddr *)&r4), 0);
	assert_int_equal(refl_key_from_addrs(&b, (struct sockaddr *)&l6, (struct sockaddr *)&r6), 0);
	/* Mixed families are accepted too. */
	assert_int_equal(refl_key_from_addrs(&c, (struct sockaddr *)&l6, (struct sockaddr *)&r4), 0);
	assert_memory_equal(a.local, b.local, 16);
	assert_memory_equal(a.remote, b.remote, 16);
	assert_memory_equal(a.remote, c.remote, 16);
	assert_memory_equal(a.local, c.local, 16);
	assert_int_equal(a.local_port, b.local_port);
	assert_int_equal(a.remote_port, b.remote_port);

	t = refl_table_new(4, 900 * SEC);
	assert_non_null(t);
	s1 = refl_table_get(t, &a, 1, &created, &evicted);
	assert_true(created);
	assert_false(evicted);
	s2 = refl_table_get(t, &b, 2, &created, &evicted);
	assert_ptr_equal(s1, s2);
	assert_false(created);
	assert_ptr_equal(refl_table_get(t, &c, 3, &created, NULL), s1);
	assert_false(created);
	expect_stats(t, 1, 0, 0, 1);

	/* The real IPv6 address ::c000:201 (not mapped) is a different key. */
	l6 = sin6("::c000:201", 862);
	assert_int_equal(refl_key_from_addrs(&b, (struct sockaddr *)&l6, (struct sockaddr *)&r6), 0);
	assert_ptr_not_equal(refl_table_get(t, &b, 4, &created, NULL), s1);
	assert_true(created);
	expect_stats(t, 2, 0, 0, 2);
	refl_table_free(t);
}

static void test_key_errors(void **state)
{
	struct sockaddr_in l = sin4("192.0.2.1", 862);
	struct sockaddr_un un;
	struct sockaddr_storage unspec;
	struct refl_key k;

	(void)state;
	memset(&un, 0, sizeof(un));
	un.sun_family = AF_UNIX;
	memset(&unspec, 0, sizeof(unspec));
	unspec.ss_family = AF_UNSPEC;
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l, (struct sockaddr *)&un),
			 -EAFNOSUPPORT);
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&un, (struct sockaddr *)&l),
			 -EAFNOSUPPORT);
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&unspec,
					     (struct sockaddr *)&l), -EAFNOSUPPORT);
	assert_int_equal(refl_key_from_addrs(NULL, (struct sockaddr *)&l, (struct sockaddr *)&l),
			 -EINVAL);
	assert_int_equal(refl_key_from_addrs(&k, NULL, (struct sockaddr *)&l), -EINVAL);
	assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l, NULL), -EINVAL);
}

/* --- table ----------------------------------------------------------------- */

static void test_new_bad_args(void **state)
{
	(void)state;
	assert_null(refl_table_new(0, SEC));
	assert_null(refl_table_new(10, 0));
	assert_null(refl_table_new(10, -1));
	assert_null(refl_table_new((size_t)1 << 40, SEC)); /* beyond 32-bit indices */
	refl_table_free(NULL);
}

static void test_get_find(void **state)
{
	struct refl_key k1 = key4(1, 5000), k2 = key4(2, 5000), probe;
	struct refl_table *t = refl_table_new(8, 900 * SEC);
	struct refl_session *s;
	bool created = false, evicted = true;

	(void)state;
	assert_non_null(t);
	expect_stats(t, 0, 0, 0, 0);
	assert_null(refl_table_find(t, &k1, 0));

	s = refl_table_get(t, &k1, 100, &created, &evicted);
	assert_non_null(s);
	assert_true(created);
	assert_false(evicted);
	assert_true(s->in_use);
	assert_memory_equal(&s->key, &k1, sizeof(k1));
	assert_int_equal(s->next_seq, 0);
	assert_int_equal(s->packets, 0);
	assert_int_equal(s->first_ns, 100);
	assert_int_equal(s->last_ns, 100);

	/* The table keeps its own copy of the key. */
	probe = k1;
	memset(&k1, 0, sizeof(k1));
	assert_ptr_equal(refl_table_find(t, &probe, 150), s);
	assert_null(refl_table_find(t, &k1, 150));
	assert_null(refl_table_find(t, &k2, 150));

	/* find does not refresh; get does. */
	assert_int_equal(s->last_ns, 100);
	assert_ptr_equal(refl_table_get(t, &probe, 200, &created, &evicted), s);
	assert_false(created);
	assert_false(evicted);
	assert_int_equal(s->first_ns, 100);
	assert_int_equal(s->last_ns, 200);
	expect_stats(t, 1, 0, 0, 1);

	/* created/evicted outputs are optional. */
	assert_non_null(refl_table_get(t, &k2, 300, NULL, NULL));
	expect_stats(t, 2, 0, 0, 2);
	refl_table_free(t);
}

static void test_counters_per_session(void **state)
{
	/*
	 * C7: each session has its own reflector sequence counter from 0; C32:
	 * the whole 5-tuple identifies it, so keys differing in any one of
	 * remote address, remote port, local address or local port are distinct.
	 */
	struct sockaddr_in l = sin4("192.0.2.1", 862), l2 = sin4("192.0.2.2", 862);
	struct sockaddr_in lp = sin4("192.0.2.1", 863), r = sin4("198.51.100.1", 4000);
	struct sockaddr_in r2 = sin4("198.51.100.2", 4000), rp = sin4("198.51.100.1", 4001);
	struct refl_key k[5];
	struct refl_session *s[5];
	static const uint32_t sends[5] = { 7, 3, 1, 0, 12 };
	struct refl_table *t = refl_table_new(16, 900 * SEC);
	int64_t now = SEC;

	(void)state;
	assert_non_null(t);
	assert_int_equal(refl_key_from_addrs(&k[0], (struct sockaddr *)&l, (struct sockaddr *)&r), 0);
	assert_int_equal(refl_key_from_addrs(&k[1], (struct sockaddr *)&l, (struct sockaddr *)&r2), 0);
	assert_int_equal(refl_key_from_addrs(&k[2], (struct sockaddr *)&l, (struct sockaddr *)&rp), 0);
	assert_int_equal(refl_key_from_addrs(&k[3], (struct sockaddr *)&l2, (struct sockaddr *)&r), 0);
	assert_int_equal(refl_key_from_addrs(&k[4], (struct sockaddr *)&lp, (struct sockaddr *)&r), 0);

	/* Interleave packets the way the reflector would: use next_seq, then bump. */
	for (uint32_t round = 0; round < 12; round++) {
		for (int i = 0; i < 5; i++) {
			if (round >= sends[i])
				continue;
			s[i] = refl_table_get(t, &k[i], now++, NULL, NULL);
			assert_int_equal(s[i]->next_seq, round);
			s[i]->next_seq++;
			s[i]->packets++;
		}
	}
	for (int i = 0; i < 5; i++) {
		struct refl_session *f = refl_table_find(t, &k[i], now);

		if (sends[i] == 0) {
			assert_null(f);
			continue;
		}
		assert_ptr_equal(f, s[i]);
		assert_int_equal(f->next_seq, sends[i]);
		assert_int_equal(f->packets, sends[i]);
	}
	expect_stats(t, 4, 0, 0, 4);
	refl_table_free(t);
}

static void test_refwait_restart(void **state)
{
	/* C24/C32: a session silent for more than REFWAIT is over; the next packet starts at 0. */
	struct refl_key k = key4(9, 862);
	struct refl_table *t = refl_table_new(4, 2 * SEC);
	struct refl_session *s;
	bool created = false, evicted = true;

	(void)state;
	assert_non_null(t);
	s = refl_table_get(t, &k, 10 * SEC, NULL, NULL);
	s->next_seq = 41;
	s->packets = 41;
	/* Idle exactly REFWAIT: still alive. */
	assert_ptr_equal(refl_table_find(t, &k, 12 * SEC), s);
	assert_ptr_equal(refl_table_get(t, &k, 12 * SEC, &created, &evicted), s);
	assert_false(created);
	assert_int_equal(s->next_seq, 41);
	/* One ns beyond REFWAIT after the last packet: gone. */
	assert_null(refl_table_find(t, &k, 14 * SEC + 1));
	assert_ptr_equal(refl_table_get(t, &k, 14 * SEC + 1, &created, &evicted), s);
	assert_true(created);
	assert_false(evicted);
	assert_int_equal(s->next_seq, 0);
	assert_int_equal(s->packets, 0);
	assert_int_equal(s->first_ns, 14 * SEC + 1);
	assert_int_equal(s->last_ns, 14 * SEC + 1);
	expect_stats(t, 2, 1, 0, 1);

	/* A now_ns earlier than the last use (caller's clock mix-up) is no idle time. */
	assert_ptr_equal(refl_table_find(t, &k, 0), s);
	assert_int_equal(refl_table_expire(t, 0), 0);
	refl_table_free(t);
}

static void test_expire(void **state)
{
	struct refl_table *t = refl_table_new(8, 10 * SEC);
	struct refl_key k[5];

	(void)state;
	assert_non_null(t);
	assert_int_equal(refl_table_expire(t, 1000 * SEC), 0); /* empty table */
	for (uint32_t i = 0; i < 5; i++) {
		k[i] = key4(i, 1000);
		refl_table_get(t, &k[i], (int64_t)i * SEC, NULL, NULL);
	}
	/* Session 0 used again at 5 s: it moves to the young end of the LRU. */
	refl_table_get(t, &k[0], 5 * SEC, NULL, NULL);

	/* At 11 s only session 1 (last 1 s) is idle more than 10 s... */
	assert_int_equal(refl_table_expire(t, 11 * SEC), 0);
	assert_int_equal(refl_table_expire(t, 11 * SEC + 1), 1);
	assert_null(refl_table_find(t, &k[1], 11 * SEC + 1));
	expect_stats(t, 5, 1, 0, 4);
	/* ...at 14.5 s sessions 2, 3 and 4 (last 2, 3, 4 s) go; 0 (last 5 s) stays. */
	assert_int_equal(refl_table_expire(t, 14 * SEC + SEC / 2), 3);
	assert_non_null(refl_table_find(t, &k[0], 14 * SEC + SEC / 2));
	for (int i = 1; i < 5; i++)
		assert_null(refl_table_find(t, &k[i], 14 * SEC + SEC / 2));
	expect_stats(t, 5, 4, 0, 1);
	assert_int_equal(refl_table_expire(t, 14 * SEC + SEC / 2), 0);
	assert_int_equal(refl_table_expire(t, 100 * SEC), 1);
	expect_stats(t, 5, 5, 0, 0);
	assert_int_equal(refl_table_expire(t, 200 * SEC), 0);

	/* Freed entries are reusable: the table fills to capacity again without evicting. */
	for (uint32_t i = 0; i < 8; i++) {
		struct refl_key nk = key4(100 + i, 1);
		bool evicted = true;

		refl_table_get(t, &nk, 300 * SEC, NULL, &evicted);
		assert_false(evicted);
	}
	expect_stats(t, 13, 5, 0, 8);
	refl_table_free(t);
}

static void test_evict_lru(void **state)
{
	struct refl_table *t = refl_table_new(3, 900 * SEC);
	struct refl_key a = key4(1, 1), b = key4(2, 1), c = key4(3, 1), d = key4(4, 1), e = key4(5, 1);
	struct refl_session *sa;
	bool created = false, evicted = false;

	(void)state;
	assert_non_null(t);
	sa = refl_table_get(t, &a, 1, NULL, &evicted);
	assert_false(evicted);
	refl_table_get(t, &b, 2, NULL, &evicted);
	assert_false(evicted);
	refl_table_get(t, &c, 3, NULL, &evicted);
	assert_false(evicted);
	sa->next_seq = 5;
	/* a is the oldest by creation but was just used: b is the LRU. */
	assert_ptr_equal(refl_table_get(t, &a, 4, NULL, NULL), sa);
	refl_table_get(t, &d, 5, &created, &evicted);
	assert_true(created);
	assert_true(evicted);
	assert_null(refl_table_find(t, &b, 5));
	assert_ptr_equal(refl_table_find(t, &a, 5), sa);
	assert_int_equal(sa->next_seq, 5); /* survivor keeps its counter */
	assert_non_null(refl_table_find(t, &c, 5));
	assert_non_null(refl_table_find(t, &d, 5));
	expect_stats(t, 4, 0, 1, 3);

	/* Next victim is c (last 3), then a (last 4). */
	refl_table_get(t, &e, 6, NULL, &evicted);
	assert_true(evicted);
	assert_null(refl_table_find(t, &c, 6));
	assert_non_null(refl_table_find(t, &a, 6));
	refl_table_get(t, &b, 7, &created, &evicted);
	assert_true(created);
	assert_true(evicted);
	assert_null(refl_table_find(t, &a, 7));
	expect_stats(t, 6, 0, 3, 3);
	/* An evicted sender coming back starts a fresh session at 0. */
	sa = refl_table_get(t, &a, 8, &created, NULL);
	assert_true(created);
	assert_int_equal(sa->next_seq, 0);
	expect_stats(t, 7, 0, 4, 3);
	refl_table_free(t);
}

static void test_evict_expired_counts_as_expiry(void **state)
{
	/* When the LRU victim is already past REFWAIT, reusing it is an expiry. */
	struct refl_table *t = refl_table_new(2, 10 * SEC);
	struct refl_key a = key4(1, 7), b = key4(2, 7), c = key4(3, 7);
	bool evicted = true;

	(void)state;
	assert_non_null(t);
	refl_table_get(t, &a, 0, NULL, NULL);
	refl_table_get(t, &b, 20 * SEC, NULL, NULL);
	refl_table_get(t, &c, 21 * SEC, NULL, &evicted);
	assert_false(evicted);
	assert_null(refl_table_find(t, &a, 21 * SEC));
	assert_non_null(refl_table_find(t, &b, 21 * SEC));
	expect_stats(t, 3, 1, 0, 2);
	refl_table_free(t);
}

static void test_single_entry(void **state)
{
	struct refl_table *t = refl_table_new(1, SEC);
	struct refl_key a = key4(1, 1), b = key4(2, 1);
	struct refl_session *s;
	bool evicted = false;

	(void)state;
	assert_non_null(t);
	s = refl_table_get(t, &a, 0, NULL, &evicted);
	assert_false(evicted);
	assert_ptr_equal(refl_table_get(t, &b, 1, NULL, &evicted), s); /* same slot */
	assert_true(evicted);
	assert_memory_equal(&s->key, &b, sizeof(b));
	assert_null(refl_table_find(t, &a, 1));
	assert_int_equal(refl_table_expire(t, 3 * SEC), 1);
	assert_null(refl_table_find(t, &b, 3 * SEC));
	expect_stats(t, 2, 1, 1, 0);
	refl_table_free(t);
}

static void test_flood(void **state)
{
	/*
	 * 100000 spoofed senders against 1000 slots: state stays bounded, each
	 * newcomer past the first 1000 evicts one, and a genuine sender that
	 * keeps sending (every 500 spoofed packets) is never the LRU victim.
	 */
	enum { MAX = 1000, FLOOD = 100000 };
	struct refl_table *t = refl_table_new(MAX, 900 * SEC);
	struct sockaddr_in6 l = sin6("2001:db8::1", 862), r = sin6("2001:db8:1::", 0);
	struct refl_key good = key4(0xffffff, 862), k;
	struct refl_session *gs;
	struct refl_table_stats st;
	int64_t now = SEC;
	uint64_t good_pkts = 0;
	bool created, evicted;
	size_t n_evicted = 0;

	(void)state;
	assert_non_null(t);
	gs = refl_table_get(t, &good, now++, NULL, NULL);
	for (uint32_t i = 0; i < FLOOD; i++) {
		/* Distinct IPv6 remotes: the last 4 address octets carry i. */
		r.sin6_addr.s6_addr[12] = (uint8_t)(i >> 24);
		r.sin6_addr.s6_addr[13] = (uint8_t)(i >> 16);
		r.sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
		r.sin6_addr.s6_addr[15] = (uint8_t)i;
		r.sin6_port = htons((uint16_t)(1024 + i % 60000));
		assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l,
						     (struct sockaddr *)&r), 0);
		refl_table_get(t, &k, now++, &created, &evicted);
		if (!created)
			fail_msg("key %u not new", i);
		n_evicted += evicted;
		refl_table_get_stats(t, &st);
		if (st.active > MAX)
			fail_msg("active %zu after %u", st.active, i);
		if (i % 500 == 0) {
			struct refl_session *g = refl_table_get(t, &good, now++, &created, NULL);

			assert_ptr_equal(g, gs);
			assert_false(created);
			assert_int_equal(g->next_seq, good_pkts);
			g->next_seq++;
			good_pkts++;
		}
	}
	/* 1 + FLOOD sessions into MAX slots. */
	assert_int_equal(n_evicted, FLOOD + 1 - MAX);
	expect_stats(t, FLOOD + 1, 0, FLOOD + 1 - MAX, MAX);
	assert_ptr_equal(refl_table_find(t, &good, now), gs);
	assert_int_equal(gs->next_seq, FLOOD / 500);

	/* The newest 999 spoofed keys plus the good one remain; older ones are gone. */
	for (uint32_t i = 0; i < FLOOD; i += 97) {
		r.sin6_addr.s6_addr[12] = (uint8_t)(i >> 24);
		r.sin6_addr.s6_addr[13] = (uint8_t)(i >> 16);
		r.sin6_addr.s6_addr[14] = (uint8_t)(i >> 8);
		r.sin6_addr.s6_addr[15] = (uint8_t)i;
		r.sin6_port = htons((uint16_t)(1024 + i % 60000));
		assert_int_equal(refl_key_from_addrs(&k, (struct sockaddr *)&l,
						     (struct sockaddr *)&r), 0);
		if (i >= FLOOD - (MAX - 1))
			assert_non_null(refl_table_find(t, &k, now));
		else
			assert_null(refl_table_find(t, &k, now));
	}

	/* Everything expires at once; the table then refills without eviction. */
	assert_int_equal(refl_table_expire(t, now + 1000 * SEC), MAX);
	expect_stats(t, FLOOD + 1, MAX, FLOOD + 1 - MAX, 0);
	for (uint32_t i = 0; i < MAX; i++) {
		k = key4(i, 2000);
		refl_table_get(t, &k, now + 1001 * SEC, &created, &evicted);
		assert_true(created);
		assert_false(evicted);
	}
	for (uint32_t i = 0; i < MAX; i++) {
		k = key4(i, 2000);
		assert_non_null(refl_table_find(t, &k, now + 1001 * SEC));
	}
	expect_stats(t, FLOOD + 1 + MAX, MAX, FLOOD + 1 - MAX, MAX);
	refl_table_free(t);
}

static void test_churn_chains(void **state)
{
	/*
	 * 64 keys in 128 buckets share buckets many times over (birthday
	 * bound), so expiring every other one unlinks entries from the middle
	 * and ends of chains; every survivor and every reinserted key must
	 * still be found.
	 */
	enum { N = 64 };
	struct refl_table *t = refl_table_new(N, 10 * SEC);
	struct refl_key k;

	(void)state;
	assert_non_null(t);
	/* Even ports at t=0, then odd ports at t=5 s (now_ns never goes back). */
	for (uint16_t p = 0; p < N; p += 2) {
		k = key4(77, p);
		refl_table_get(t, &k, 0, NULL, NULL);
	}
	for (uint16_t p = 1; p < N; p += 2) {
		k = key4(77, p);
		refl_table_get(t, &k, 5 * SEC, NULL, NULL);
	}
	assert_int_equal(refl_table_expire(t, 11 * SEC), N / 2);
	for (uint16_t p = 0; p < N; p++) {
		k = key4(77, p);
		if (p & 1)
			assert_non_null(refl_table_find(t, &k, 11 * SEC));
		else
			assert_null(refl_table_find(t, &k, 11 * SEC));
	}
	for (uint16_t p = 0; p < N; p += 2) {
		k = key4(77, p);
		refl_table_get(t, &k, 12 * SEC, NULL, NULL);
	}
	for (uint16_t p = 0; p < N; p++) {
		k = key4(77, p);
		assert_non_null(refl_table_find(t, &k, 12 * SEC));
	}
	expect_stats(t, N + N / 2, N / 2, 0, N);
	refl_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_v4),
		cmocka_unit_test(test_key_v6),
		cmocka_unit_test(test_key_v4_mapped_equal),
		cmocka_unit_test(test_key_errors),
		cmocka_unit_test(test_new_bad_args),
		cmocka_unit_test(test_get_find),
		cmocka_unit_test(test_counters_per_session),
		cmocka_unit_test(test_refwait_restart),
		cmocka_unit_test(test_expire),
		cmocka_unit_test(test_evict_lru),
		cmocka_unit_test(test_evict_expired_counts_as_expiry),
		cmocka_unit_test(test_single_entry),
		cmocka_unit_test(test_flood),
		cmocka_unit_test(test_churn_chains),
	};

	return cmocka_run_group_tests_name("refl_sessions", tests, NULL, NULL);
}
