/*
 * Tests of experiments/capture_match.c with synthetic observations: exact
 * per-point RTTs, reordered and duplicated replies, probes lost between
 * two points in either direction, orphan replies, pairing by arrival order
 * (with the timeout that keeps one lost reply from shifting every later
 * pair) and by echoed timestamp, the caps on probes and flows, and growth
 * of the tables past many rehashes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "capture.h"
#include "capture_match.h"

#define MS 1000000LL

static struct capture_obs twamp(bool request, uint16_t sender_port, uint32_t seq)
{
	struct capture_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = request ? CAPTURE_TWAMP_REQUEST : CAPTURE_TWAMP_REPLY;
	o.family = AF_INET;
	uint8_t s[4] = { 198, 18, 10, 1 }, r[4] = { 198, 18, 10, 2 };
	memcpy(request ? o.src : o.dst, s, 4);
	memcpy(request ? o.dst : o.src, r, 4);
	o.sport = request ? sender_port : 862;
	o.dport = request ? 862 : sender_port;
	o.seq_known = true;
	o.seq = seq;
	o.layout = request ? CAPTURE_LAYOUT_NONE : CAPTURE_LAYOUT_OPEN;
	return o;
}

static struct capture_obs opaque_reply(uint16_t sender_port)
{
	struct capture_obs o = twamp(false, sender_port, 0);

	o.seq_known = false;
	o.seq = 0;
	o.layout = CAPTURE_LAYOUT_OPAQUE;
	return o;
}

static struct capture_obs echo(bool request, uint16_t id, uint16_t seq)
{
	struct capture_obs o;

	memset(&o, 0, sizeof(o));
	o.kind = request ? CAPTURE_ICMP_REQUEST : CAPTURE_ICMP_REPLY;
	o.family = AF_INET6;
	uint8_t s[16] = { 0xfd, 0, 0x18, 0x10, [15] = 1 }, r[16] = { 0xfd, 0, 0x18, 0x10, [15] = 2 };
	memcpy(request ? o.src : o.dst, s, 16);
	memcpy(request ? o.dst : o.src, r, 16);
	o.icmp_id = id;
	o.seq_known = true;
	o.seq = seq;
	return o;
}

static void obs(struct match *m, size_t point, struct capture_obs o, int64_t t)
{
	assert_int_equal(match_observe(m, point, &o, t), 0);
}

static int64_t rtt_of(const struct match *m, size_t i, size_t point)
{
	int64_t r = -1;

	assert_true(match_probe_rtt(m, i, point, &r));
	return r;
}

static struct match_counts counts(const struct match *m, size_t point, enum probe_proto p)
{
	struct match_counts c;

	match_get_counts(m, point, p, &c);
	return c;
}

/* Two points along the path: the inner one sees a shorter round trip. */
static void test_two_points(void **state)
{
	(void)state;
	struct match *m;

	assert_int_equal(match_new(2, NULL, &m), 0);
	obs(m, 0, twamp(true, 40000, 0), 100);
	obs(m, 1, twamp(true, 40000, 0), 150);
	obs(m, 1, twamp(false, 40000, 0), 250);
	obs(m, 0, twamp(false, 40000, 0), 300);
	assert_int_equal(match_nprobes(m), 1);
	assert_int_equal(rtt_of(m, 0, 0), 200);
	assert_int_equal(rtt_of(m, 0, 1), 100);
	assert_int_equal(match_probe_where(m, 0, NULL), MATCH_COMPLETE);
	struct match_counts c = counts(m, 0, PROBE_TWAMP);
	assert_int_equal(c.requests, 1);
	assert_int_equal(c.replies, 1);
	assert_int_equal(c.matched, 1);
	assert_int_equal(c.unmatched, 0);
	assert_int_equal(counts(m, 0, PROBE_ICMP).requests, 0);

	struct match_probe_view v;
	char buf[128];
	assert_int_equal(match_probe_get(m, 0, &v), 0);
	assert_int_equal(v.proto, PROBE_TWAMP);
	assert_int_equal(v.seq, 0);
	match_flow_format(v.flow, buf, sizeof(buf));
	assert_string_equal(buf, "198.18.10.1:40000>198.18.10.2:862");
	assert_int_equal(match_probe_get(m, 1, &v), -ERANGE);
	assert_false(match_probe_rtt(m, 1, 0, NULL));
	assert_false(match_probe_rtt(m, 0, 2, NULL));
	match_free(m);
}

static void test_reordered_replies(void **state)
{
	(void)state;
	struct match *m;

	assert_int_equal(match_new(1, NULL, &m), 0);
	for (uint32_t s = 0; s < 3; s++)
		obs(m, 0, twamp(true, 40000, s), (int64_t)s * 10 * MS);
	obs(m, 0, twamp(false, 40000, 2), 25 * MS);
	obs(m, 0, twamp(false, 40000, 0), 26 * MS);
	obs(m, 0, twamp(false, 40000, 1), 27 * MS);
	assert_int_equal(rtt_of(m, 0, 0), 26 * MS);
	assert_int_equal(rtt_of(m, 1, 0), 17 * MS);
	assert_int_equal(rtt_of(m, 2, 0), 5 * MS);
	assert_int_equal(counts(m, 0, PROBE_TWAMP).matched, 3);
	struct stats_dist d;
	assert_int_equal(match_point_dist(m, 0, PROBE_TWAMP, &d), 0);
	assert_int_equal(d.n, 3);
	assert_true(d.min == 5.0 * MS && d.median == 17.0 * MS && d.max == 26.0 * MS);
	assert_int_equal(match_point_dist(m, 0, PROBE_ICMP, &d), 0);
	assert_int_equal(d.n, 0);
	match_free(m);
}

static void test_duplicates(void **state)
{
	(void)state;
	struct match *m;

	assert_int_equal(match_new(1, NULL, &m), 0);
	obs(m, 0, twamp(true, 40000, 5), 100);
	obs(m, 0, twamp(true, 40000, 5), 110);  /* duplicated request: the first counts */
	obs(m, 0, twamp(false, 40000, 5), 300);
	obs(m, 0, twamp(false, 40000, 5), 310); /* duplicated reply */
	assert_int_equal(rtt_of(m, 0, 0), 200);
	struct match_counts c = counts(m, 0, PROBE_TWAMP);
	assert_int_equal(c.requests, 2);
	assert_int_equal(c.replies, 2);
	assert_int_equal(c.duplicates, 2);
	assert_int_equal(c.matched, 1);
	assert_int_equal(c.unmatched, 0);
	match_free(m);
}

/* Three points: lost between points 1 and 2 on the way out, or on the way back. */
static void test_loss_location(void **state)
{
	(void)state;
	struct match *m;
	size_t after;

	assert_int_equal(match_new(3, NULL, &m), 0);
	/* probe 0: request lost after point 1 */
	obs(m, 0, twamp(true, 40000, 0), 0);
	obs(m, 1, twamp(true, 40000, 0), 1);
	/* probe 1: reply seen at 2 and 1, lost before 0 */
	for (size_t p = 0; p < 3; p++)
		obs(m, p, twamp(true, 40000, 1), 10 + (int64_t)p);
	obs(m, 2, twamp(false, 40000, 1), 20);
	obs(m, 1, twamp(false, 40000, 1), 21);
	/* probe 2: everywhere, never answered */
	for (size_t p = 0; p < 3; p++)
		obs(m, p, twamp(true, 40000, 2), 30 + (int64_t)p);
	/* probe 3: a hole (point 1 missed the request only) */
	obs(m, 0, twamp(true, 40000, 3), 40);
	obs(m, 2, twamp(true, 40000, 3), 42);
	for (size_t p = 0; p < 3; p++)
		obs(m, 2 - p, twamp(false, 40000, 3), 50 + (int64_t)p);

	assert_int_equal(match_probe_where(m, 0, &after), MATCH_REQUEST_LOST);
	assert_int_equal(after, 1);
	assert_int_equal(match_probe_where(m, 1, &after), MATCH_REPLY_LOST);
	assert_int_equal(after, 1);
	assert_int_equal(match_probe_where(m, 2, &after), MATCH_NO_REPLY);
	assert_int_equal(after, 2);
	assert_int_equal(match_probe_where(m, 3, &after), MATCH_IRREGULAR);
	assert_string_equal(match_where_name(MATCH_REPLY_LOST), "reply-lost");
	assert_string_equal(match_where_name(MATCH_IRREGULAR), "irregular");

	assert_true(match_probe_request_seen(m, 0, 1));
	assert_false(match_probe_request_seen(m, 0, 2));
	assert_false(match_probe_reply_seen(m, 1, 0));
	assert_false(match_probe_rtt(m, 1, 0, NULL));
	assert_int_equal(rtt_of(m, 1, 1), 10);
	assert_int_equal(rtt_of(m, 1, 2), 8);
	assert_false(match_probe_rtt(m, 3, 1, NULL)); /* reply there, request not */
	assert_int_equal(rtt_of(m, 3, 0), 12);

	struct match_counts c0 = counts(m, 0, PROBE_TWAMP), c1 = counts(m, 1, PROBE_TWAMP);
	assert_int_equal(c0.requests, 4);
	assert_int_equal(c0.matched, 1);       /* probe 3 */
	assert_int_equal(c0.unmatched, 3);
	assert_int_equal(c1.orphan_replies, 1); /* probe 3's reply at point 1 */
	assert_int_equal(c1.unmatched, 2);      /* probes 0 and 2 */
	match_free(m);
}

static void test_orphan_reply(void **state)
{
	(void)state;
	struct match *m;

	assert_int_equal(match_new(2, NULL, &m), 0);
	obs(m, 1, twamp(false, 40000, 9), 100); /* capture started after the request passed */
	obs(m, 1, opaque_reply(40001), 100);    /* by order, nothing to pair with */
	assert_int_equal(match_nprobes(m), 1);  /* the keyed one is remembered for the analysis */
	assert_true(match_probe_reply_seen(m, 0, 1));
	assert_false(match_probe_request_seen(m, 0, 1));
	assert_int_equal(counts(m, 1, PROBE_TWAMP).orphan_replies, 2);
	assert_int_equal(counts(m, 1, PROBE_TWAMP).matched, 0);
	assert_int_equal(match_probe_where(m, 0, NULL), MATCH_IRREGULAR);
	match_free(m);
}

/* Replies without a readable seq: oldest waiting request first, expired ones skipped. */
static void test_by_order_with_timeout(void **state)
{
	(void)state;
	struct match_limits lim = { .fifo_timeout_ns = 1000 * MS };
	struct match *m;

	assert_int_equal(match_new(1, &lim, &m), 0);
	obs(m, 0, twamp(true, 20000, 0), 0);         /* its reply is lost */
	obs(m, 0, twamp(true, 20000, 1), 3000 * MS);
	obs(m, 0, twamp(true, 20002, 0), 3000 * MS); /* another flow: its own queue */
	obs(m, 0, twamp(true, 20000, 2), 3100 * MS);
	obs(m, 0, opaque_reply(20000), 3001 * MS);
	obs(m, 0, opaque_reply(20002), 3002 * MS);
	obs(m, 0, opaque_reply(20000), 3105 * MS);
	assert_false(match_probe_rtt(m, 0, 0, NULL));
	assert_int_equal(rtt_of(m, 1, 0), 1 * MS);
	assert_int_equal(rtt_of(m, 2, 0), 2 * MS);
	assert_int_equal(rtt_of(m, 3, 0), 5 * MS);
	struct match_counts c = counts(m, 0, PROBE_TWAMP);
	assert_int_equal(c.matched, 3);
	assert_int_equal(c.by_order, 3);
	assert_int_equal(c.unmatched, 1);
	/* a reply older than every waiting request pairs with none */
	obs(m, 0, twamp(true, 20000, 3), 5000 * MS);
	obs(m, 0, opaque_reply(20000), 4999 * MS);
	assert_int_equal(counts(m, 0, PROBE_TWAMP).orphan_replies, 1);
	/* a keyed reply still finds an expired request */
	obs(m, 0, twamp(false, 20000, 0), 5001 * MS);
	assert_int_equal(rtt_of(m, 0, 0), 5001 * MS);
	match_free(m);
}

/* Authenticated replies: the echoed Sender Timestamp names the request. */
static void test_by_timestamp(void **state)
{
	(void)state;
	struct match *m;
	struct capture_obs a = twamp(true, 19762, 0xaaaa0001), b = twamp(true, 19762, 0xbbbb0002);

	a.ts_auth_known = b.ts_auth_known = true;
	a.ts_auth = 0x1111;
	b.ts_auth = 0x2222;
	assert_int_equal(match_new(1, NULL, &m), 0);
	obs(m, 0, a, 100);
	obs(m, 0, b, 200);
	struct capture_obs r = opaque_reply(19762);
	r.layout = CAPTURE_LAYOUT_AUTH;
	r.ts_known = true;
	r.ts = 0x2222;
	obs(m, 0, r, 250);
	r.ts = 0x9999; /* matches nothing: not paired by order either */
	obs(m, 0, r, 260);
	r.ts = 0x1111;
	obs(m, 0, r, 300);
	assert_int_equal(rtt_of(m, 0, 0), 200);
	assert_int_equal(rtt_of(m, 1, 0), 50);
	struct match_counts c = counts(m, 0, PROBE_TWAMP);
	assert_int_equal(c.by_timestamp, 2);
	assert_int_equal(c.orphan_replies, 1);
	match_free(m);
}

static void test_icmp_keys(void **state)
{
	(void)state;
	struct match *m;
	char buf[128];
	struct match_probe_view v;

	assert_int_equal(match_new(1, NULL, &m), 0);
	obs(m, 0, echo(true, 1, 7), 0);
	obs(m, 0, echo(true, 2, 7), 1); /* same seq, other identifier: another probe */
	obs(m, 0, echo(false, 2, 7), 11);
	obs(m, 0, echo(false, 1, 7), 20);
	assert_int_equal(match_nprobes(m), 2);
	assert_int_equal(rtt_of(m, 0, 0), 20);
	assert_int_equal(rtt_of(m, 1, 0), 10);
	assert_int_equal(counts(m, 0, PROBE_ICMP).matched, 2);
	assert_int_equal(counts(m, 0, PROBE_TWAMP).matched, 0);
	match_probe_get(m, 1, &v);
	assert_int_equal(v.proto, PROBE_ICMP);
	match_flow_format(v.flow, buf, sizeof(buf));
	assert_string_equal(buf, "fd00:1810::1>fd00:1810::2#2");
	/* TWAMP over IPv6 */
	struct capture_obs q = echo(true, 0, 0);
	q.kind = CAPTURE_TWAMP_REQUEST;
	q.sport = 5000;
	q.dport = 862;
	obs(m, 0, q, 0);
	match_probe_get(m, 2, &v);
	match_flow_format(v.flow, buf, sizeof(buf));
	assert_string_equal(buf, "[fd00:1810::1]:5000>[fd00:1810::2]:862");
	match_free(m);
}

static void test_caps(void **state)
{
	(void)state;
	struct match_limits lim = { .max_probes = 3, .max_flows = 2 };
	struct match *m;

	assert_int_equal(match_new(1, &lim, &m), 0);
	for (uint32_t s = 0; s < 5; s++)
		obs(m, 0, twamp(true, 40000, s), s);
	assert_int_equal(match_nprobes(m), 3);
	struct match_counts c = counts(m, 0, PROBE_TWAMP);
	assert_int_equal(c.requests, 5);
	assert_int_equal(c.overflow, 2);
	assert_int_equal(c.unmatched, 3); /* overflowed requests are not "unanswered" */
	obs(m, 0, twamp(false, 40000, 4), 10); /* its probe could not be recorded */
	assert_int_equal(counts(m, 0, PROBE_TWAMP).overflow, 3);
	obs(m, 0, twamp(false, 40000, 1), 10);
	assert_int_equal(counts(m, 0, PROBE_TWAMP).matched, 1);
	/* flows: two fit, the third is counted */
	obs(m, 0, echo(true, 1, 1), 0);
	obs(m, 0, echo(true, 2, 1), 0);
	c = counts(m, 0, PROBE_ICMP);
	assert_int_equal(c.requests, 2);
	assert_int_equal(c.overflow, 2); /* one for the flow cap, one for the probe cap */
	match_free(m);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct match *m;
	struct capture_obs o = twamp(true, 1, 1);

	assert_int_equal(match_new(0, NULL, &m), -EINVAL);
	assert_int_equal(match_new(MATCH_MAX_POINTS + 1, NULL, &m), -EINVAL);
	assert_int_equal(match_new(1, NULL, NULL), -EINVAL);
	assert_int_equal(match_new(2, NULL, &m), 0);
	assert_int_equal(match_observe(m, 2, &o, 0), -EINVAL);
	assert_int_equal(match_observe(m, 0, NULL, 0), -EINVAL);
	assert_int_equal(match_observe(NULL, 0, &o, 0), -EINVAL);
	o.family = 0;
	assert_int_equal(match_observe(m, 0, &o, 0), -EINVAL);
	o = twamp(true, 1, 1);
	o.seq_known = false;
	assert_int_equal(match_observe(m, 0, &o, 0), -EINVAL);
	o.kind = CAPTURE_OTHER; /* ignored */
	assert_int_equal(match_observe(m, 0, &o, 0), 0);
	assert_int_equal(match_nprobes(m), 0);
	struct stats_dist d;
	assert_int_equal(match_point_dist(m, 5, PROBE_TWAMP, &d), -EINVAL);
	assert_int_equal(match_probe_where(m, 0, NULL), MATCH_IRREGULAR);
	match_free(m);
	match_free(NULL);
}

/* Many flows and probes, replies in a scrambled order: every pair exact after rehashes. */
static void test_many_probes(void **state)
{
	(void)state;
	enum { FLOWS = 37, PER = 400, N = FLOWS * PER };
	struct match *m;
	uint32_t *perm = malloc(N * sizeof(*perm));

	assert_non_null(perm);
	assert_int_equal(match_new(2, NULL, &m), 0);
	for (uint32_t i = 0; i < N; i++) {
		obs(m, 0, twamp(true, (uint16_t)(30000 + i % FLOWS), i / FLOWS), (int64_t)i * 1000);
		perm[i] = i;
	}
	uint64_t x = 88172645463325252ULL;
	for (uint32_t i = N - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		uint32_t j = (uint32_t)(x % (i + 1));
		uint32_t t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
	}
	for (uint32_t k = 0; k < N; k++) {
		uint32_t i = perm[k];
		obs(m, 0, twamp(false, (uint16_t)(30000 + i % FLOWS), i / FLOWS),
		    (int64_t)i * 1000 + 500 + i % 97);
	}
	assert_int_equal(match_nprobes(m), N);
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(rtt_of(m, i, 0), 500 + i % 97);
	assert_int_equal(counts(m, 0, PROBE_TWAMP).matched, N);
	assert_int_equal(counts(m, 1, PROBE_TWAMP).requests, 0);
	/* answered at point 0 but never seen at point 1: no single loss explains it */
	assert_int_equal(match_probe_where(m, 5, NULL), MATCH_IRREGULAR);
	free(perm);
	match_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_two_points),
		cmocka_unit_test(test_reordered_replies),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_loss_location),
		cmocka_unit_test(test_orphan_reply),
		cmocka_unit_test(test_by_order_with_timeout),
		cmocka_unit_test(test_by_timestamp),
		cmocka_unit_test(test_icmp_keys),
		cmocka_unit_test(test_caps),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_many_probes),
	};

	return cmocka_run_group_tests_name("capture_match", tests, NULL, NULL);
}
