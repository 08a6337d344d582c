/*
 * Unit tests for common/ping_parse.c: every line kind with exact values
 * (stamps and times to the nanosecond, without floating point), malformed
 * known lines, garbage, and whole runs from tests/data/ping: real iputils
 * captures (normal, -O with losses, unreachable, duplicates marked and
 * unmarked, a run killed before its summary) and hand-written edge cases,
 * plus sequence numbers wrapping past 65535 and the probe-count bounds.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ping_parse.h"

#define MS 1000000LL

/* TK_SRCDIR from make check, else the source tree this file was compiled from. */
static void data_path(const char *name, char *buf, size_t size)
{
	const char *src = getenv("TK_SRCDIR");
	const char *file = __FILE__, *slash;
	int dir_len;

	if (src && *src) {
		snprintf(buf, size, "%s/tests/data/ping/%s", src, name);
		return;
	}
	slash = strrchr(file, '/');
	dir_len = slash ? (int)(slash - file) : 1;
	snprintf(buf, size, "%.*s/../data/ping/%s", dir_len, slash ? file : ".", name);
}

struct file_run {
	struct ping_run run;
	size_t kinds[PING_LINE_RTT + 1];
	size_t bad;
	struct probe_result *p;
	size_t n;
	int rc;
};

/* Feeds a data file line by line (newline stripped), then builds the probes. */
static void load(const char *name, struct file_run *f)
{
	char path[512], line[4096];
	FILE *in;

	memset(f, 0, sizeof(*f));
	data_path(name, path, sizeof(path));
	in = fopen(path, "r");
	if (!in)
		fail_msg("cannot open %s", path);
	ping_run_init(&f->run);
	while (fgets(line, sizeof(line), in)) {
		struct ping_line l;
		int rc;

		line[strcspn(line, "\n")] = '\0';
		rc = ping_parse_line(line, &l);
		assert_in_range(l.kind, PING_LINE_OTHER, PING_LINE_RTT);
		f->kinds[l.kind] += rc == 0;
		f->bad += rc == -EBADMSG;
		assert_int_equal(ping_run_feed(&f->run, line), rc);
	}
	fclose(in);
	f->rc = ping_run_probes(&f->run, &f->p, &f->n);
}

static void unload(struct file_run *f)
{
	free(f->p);
	ping_run_free(&f->run);
}

static struct ping_line parse_ok(const char *line)
{
	struct ping_line l;

	if (ping_parse_line(line, &l) != 0)
		fail_msg("refused: %s", line);
	return l;
}

static void assert_lost(const struct probe_result *p)
{
	assert_true(p->sent);
	assert_false(p->received);
	assert_false(p->ts_valid);
	assert_int_equal(p->t1_ns, 0);
	assert_int_equal(p->t4_ns, 0);
	assert_int_equal(p->ttl, -1);
	assert_int_equal(p->dup, 0);
}

/* A received probe: t4 the stamp, rtt the time=, t1 = t4 - rtt. */
static void assert_got(const struct probe_result *p, int64_t t4, int64_t rtt, int ttl)
{
	assert_true(p->sent);
	assert_true(p->received);
	assert_true(p->ts_valid);
	assert_int_equal(p->proto, PROBE_ICMP);
	assert_int_equal(p->t4_ns, t4);
	assert_int_equal(p->rtt_ns, rtt);
	assert_int_equal(p->t1_ns, t4 - rtt);
	assert_int_equal(p->t1_wire_ns, t4 - rtt);
	assert_int_equal(p->t4_src, TS_SRC_USER);
	assert_int_equal(p->t1_src, TS_SRC_USER);
	assert_int_equal(p->ttl, ttl);
}

/* ---- single lines --------------------------------------------------------- */

static void test_reply_lines(void **state)
{
	struct ping_line l;

	(void)state;
	l = parse_ok("[1795793051.451476] 64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.029 ms");
	assert_int_equal(l.kind, PING_LINE_REPLY);
	assert_int_equal(l.stamp_ns, 1795793051451476000LL);
	assert_int_equal(l.icmp_seq, 1);
	assert_int_equal(l.ttl, 64);
	assert_int_equal(l.rtt_ns, 29000);
	assert_false(l.dup);

	l = parse_ok("[1795793051.764095] 64 bytes from ::1: icmp_seq=65535 ttl=255 time=0.027 ms");
	assert_int_equal(l.icmp_seq, 65535);
	assert_int_equal(l.ttl, 255);

	l = parse_ok("[1700000000.000001] 64 bytes from host.example (2001:db8::7): icmp_seq=2 "
		     "ttl=57 time=12.3 ms (DUP!)");
	assert_int_equal(l.kind, PING_LINE_REPLY);
	assert_int_equal(l.icmp_seq, 2);
	assert_int_equal(l.rtt_ns, 12300000);
	assert_true(l.dup);

	/* The four precisions iputils prints. */
	assert_int_equal(parse_ok("1 bytes from a: icmp_seq=1 time=0.045 ms").rtt_ns, 45000);
	assert_int_equal(parse_ok("1 bytes from a: icmp_seq=1 time=1.23 ms").rtt_ns, 1230000);
	assert_int_equal(parse_ok("1 bytes from a: icmp_seq=1 time=12.3 ms").rtt_ns, 12300000);
	assert_int_equal(parse_ok("1 bytes from a: icmp_seq=1 time=123 ms").rtt_ns, 123000000);
	assert_int_equal(parse_ok("1 bytes from a: icmp_seq=1 time=0.000001 ms").rtt_ns, 1);
	assert_int_equal(parse_ok("1 bytes from a: icmp_seq=1 time=9000000000000 ms").rtt_ns,
			 9000000000000LL * MS);

	/* No -D, old icmp_req=, no ttl=, no time= (truncated reply). */
	l = parse_ok("64 bytes from 10.0.0.1: icmp_req=3 ttl=1 time=0.5 ms");
	assert_int_equal(l.stamp_ns, 0);
	assert_int_equal(l.icmp_seq, 3);
	assert_int_equal(l.ttl, 1);
	assert_int_equal(l.rtt_ns, 500000);
	l = parse_ok("[1.5] 8 bytes from 127.0.0.1: icmp_seq=4 (truncated)");
	assert_int_equal(l.kind, PING_LINE_REPLY);
	assert_int_equal(l.stamp_ns, 1500000000LL);
	assert_int_equal(l.ttl, -1);
	assert_int_equal(l.rtt_ns, -1);

	/* Stamp precision: 1 to 9 decimals, exact. */
	assert_int_equal(parse_ok("[1700000001.123456789] 1 bytes from a: icmp_seq=1").stamp_ns,
			 1700000001123456789LL);
	assert_int_equal(parse_ok("[0.000000001] 1 bytes from a: icmp_seq=1").stamp_ns, 1);
	assert_int_equal(parse_ok("[9223372035.999999999] 1 bytes from a: icmp_seq=1").stamp_ns,
			 9223372035999999999LL);

	/* Marks: a different address is still a reply, a bad checksum is not. */
	l = parse_ok("[1.0] 64 bytes from 198.51.100.9: icmp_seq=5 ttl=57 time=0.050 ms "
		     "(DIFFERENT ADDRESS!)");
	assert_int_equal(l.kind, PING_LINE_REPLY);
	assert_int_equal(l.rtt_ns, 50000);
	l = parse_ok("[1.0] 64 bytes from 198.51.100.7: icmp_seq=4 ttl=57 time=0.045 ms "
		     "(BAD CHECKSUM!)");
	assert_int_equal(l.kind, PING_LINE_OTHER);
	assert_int_equal(l.icmp_seq, 0);
	assert_int_equal(l.stamp_ns, 0);

	/* Trailing CR/LF and blanks; unknown words after the known ones. */
	l = parse_ok("[2.25] 64 bytes from a: icmp_seq=9 ttl=64 time=1.5 ms\r\n");
	assert_int_equal(l.stamp_ns, 2250000000LL);
	assert_int_equal(l.rtt_ns, 1500000);
	l = parse_ok("64 bytes from a: icmp_seq=9 ident=77 ttl=64   time=1.5 ms  (future) ");
	assert_int_equal(l.ttl, 64);
	assert_int_equal(l.rtt_ns, 1500000);
}

static void test_no_answer_line(void **state)
{
	struct ping_line l;

	(void)state;
	l = parse_ok("[1795793077.296892] no answer yet for icmp_seq=9");
	assert_int_equal(l.kind, PING_LINE_NO_ANSWER);
	assert_int_equal(l.stamp_ns, 1795793077296892000LL);
	assert_int_equal(l.icmp_seq, 9);
	assert_int_equal(l.ttl, -1);
	l = parse_ok("no answer yet for icmp_seq=4294967295 ");
	assert_int_equal(l.kind, PING_LINE_NO_ANSWER);
	assert_int_equal(l.stamp_ns, 0);
	assert_int_equal(l.icmp_seq, UINT32_MAX);
}

static void test_summary_lines(void **state)
{
	struct ping_line l;

	(void)state;
	assert_int_equal(parse_ok("--- 127.0.0.1 ping statistics ---").kind,
			 PING_LINE_STATS_HEADER);
	assert_int_equal(parse_ok("--- host with spaces ping statistics ---").kind,
			 PING_LINE_STATS_HEADER);

	l = parse_ok("20 packets transmitted, 20 received, 0% packet loss, time 309ms");
	assert_int_equal(l.kind, PING_LINE_COUNTS);
	assert_int_equal(l.transmitted, 20);
	assert_int_equal(l.received, 20);
	assert_int_equal(l.duplicates, 0);
	assert_int_equal(l.errors, 0);
	assert_true(l.loss_pct == 0.0);

	l = parse_ok("10 packets transmitted, 7 received, +1 duplicates, +2 corrupted, +3 errors, "
		     "30% packet loss, time 9012ms");
	assert_int_equal(l.transmitted, 10);
	assert_int_equal(l.received, 7);
	assert_int_equal(l.duplicates, 1);
	assert_int_equal(l.errors, 3);
	assert_true(l.loss_pct == 30.0);
	assert_true(parse_ok("3 packets transmitted, 2 received, 33.3333% packet loss").loss_pct ==
		    33.3333);
	assert_true(parse_ok("9 packets transmitted, 9 received, 1e-05% packet loss").loss_pct ==
		    1e-05);
	assert_true(parse_ok("9 packets transmitted, 9 received, 2.5E+1% packet loss").loss_pct ==
		    25.0);
	l = parse_ok("0 packets transmitted, 0 received");
	assert_int_equal(l.kind, PING_LINE_COUNTS);
	assert_int_equal(l.transmitted, 0);
	l = parse_ok("18446744073709551615 packets transmitted, 1 received, +7 whatever, later, "
		     "time 1ms");
	assert_int_equal(l.transmitted, UINT64_MAX);
	assert_int_equal(l.received, 1);

	l = parse_ok("rtt min/avg/max/mdev = 0.029/0.050/0.113/0.018 ms");
	assert_int_equal(l.kind, PING_LINE_RTT);
	assert_int_equal(l.min_ns, 29000);
	assert_int_equal(l.avg_ns, 50000);
	assert_int_equal(l.max_ns, 113000);
	assert_int_equal(l.mdev_ns, 18000);
	l = parse_ok("rtt min/avg/max/mdev = 1.234/12.345/123.456/1000.000 ms, pipe 2, "
		     "ipg/ewma 0.100/0.020 ms");
	assert_int_equal(l.min_ns, 1234000);
	assert_int_equal(l.avg_ns, 12345000);
	assert_int_equal(l.max_ns, 123456000);
	assert_int_equal(l.mdev_ns, 1000 * MS);
}

static void test_other_lines(void **state)
{
	static const char *const other[] = {
		"",
		" ",
		"PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.",
		"PING ::1(::1) 56 data bytes",
		"WARNING: pinging broadcast address",
		"[1795793069.697177] From 198.18.99.2 icmp_seq=1 Destination Host Unreachable",
		"From 198.18.99.2 icmp_seq=1 Destination Host Unreachable",
		"ping: sendmsg: Network is unreachable",
		"pipe 7",
		"wrong data byte #16 should be 0x10 but was 0x11",
		"#16\t11 11 12 13",
		"[garbage",
		"[] hello",
		"[1.0]",
		"[1.0] 64 bytes",
		"[1.0] 20 packets transmitted, 20 received", /* ping never stamps the summary */
		"64 bytes",
		"64 bytes fro",
		"bytes from 127.0.0.1: icmp_seq=9 ttl=64 time=0.045 ms",
		"--- incomplete",
		"---",
		"round-trip min/avg/max = 0.045/0.045/0.045 ms",
		"rtt",
		"packets transmitted",
		"99999999999999999999 packets transmitted, 1 received",
		"99999999999999999999 bytes from a: icmp_seq=1",
		"\xff\xfe\x01 bytes from",
	};
	struct ping_line l;
	char big[10001];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		memset(&l, 0x5a, sizeof(l));
		if (ping_parse_line(other[i], &l) != 0 || l.kind != PING_LINE_OTHER)
			fail_msg("line %zu not OTHER: %s", i, other[i]);
		assert_int_equal(l.ttl, -1);
		assert_int_equal(l.rtt_ns, -1);
		assert_int_equal(l.icmp_seq, 0);
	}
	assert_int_equal(ping_parse_line(NULL, &l), 0);
	assert_int_equal(l.kind, PING_LINE_OTHER);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(ping_parse_line(big, &l), 0);
	assert_int_equal(l.kind, PING_LINE_OTHER);
	/* A reply followed by 10000 blanks and words is still a reply. */
	memcpy(big, "1 bytes from a: icmp_seq=3 ", 27);
	memset(big + 27, ' ', 5000);
	assert_int_equal(ping_parse_line(big, &l), 0);
	assert_int_equal(l.kind, PING_LINE_REPLY);
	assert_int_equal(l.icmp_seq, 3);
}

static void test_malformed_lines(void **state)
{
	static const struct {
		const char *line;
		enum ping_line_kind kind;
	} bad[] = {
		{ "[17000x0000.000000] 64 bytes from a: icmp_seq=2 ttl=64 time=0.045 ms", PING_LINE_REPLY },
		{ "[1.] 64 bytes from a: icmp_seq=2", PING_LINE_REPLY },
		{ "[.5] 64 bytes from a: icmp_seq=2", PING_LINE_REPLY },
		{ "[1.0000000001] 64 bytes from a: icmp_seq=2", PING_LINE_REPLY },
		{ "[9223372036.0] 64 bytes from a: icmp_seq=2", PING_LINE_REPLY },
		{ "[-1.0] 64 bytes from a: icmp_seq=2", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=x3 ttl=64", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3x ttl=64", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq= ttl=64", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=4294967296", PING_LINE_REPLY },
		{ "64 bytes from a: ttl=64 time=1 ms", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 ttl=256", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 ttl=-1", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 ttl=64x", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=0.0.45 ms", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=0.045", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=0.045 us", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=.5 ms", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=0.0000001 ms", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=9300000000000 ms", PING_LINE_REPLY },
		{ "64 bytes from a: icmp_seq=3 time=1 ms time=2 ms", PING_LINE_REPLY },
		{ "[1.0] no answer yet for icmp_seq=", PING_LINE_NO_ANSWER },
		{ "[1.0] no answer yet for icmp_seq=7 later", PING_LINE_NO_ANSWER },
		{ "[1.x] no answer yet for icmp_seq=7", PING_LINE_NO_ANSWER },
		{ "no answer yet for icmp_seq=99999999999", PING_LINE_NO_ANSWER },
		{ "9 packets transmitted", PING_LINE_COUNTS },
		{ "9 packets transmitted, x received", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 receivedx", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received; 0% packet loss", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, +x errors", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, +1errors", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, 1.% packet loss", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, 1e% packet loss", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, 1e99% packet loss", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, 12345678901234567890% packet loss",
		  PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, 5% loss", PING_LINE_COUNTS },
		{ "9 packets transmitted, 9 received, time xms", PING_LINE_COUNTS },
		{ "9 packets transmitted, 18446744073709551616 received", PING_LINE_COUNTS },
		{ "rtt min/avg/max/mdev = 0.045/0.045/0.045 ms", PING_LINE_RTT },
		{ "rtt min/avg/max/mdev = 0.045/0.045/0.045/0.1", PING_LINE_RTT },
		{ "rtt min/avg/max/mdev = 0.045/0.045/0.045/0.1 ms extra", PING_LINE_RTT },
		{ "rtt min/avg/max/mdev = a/b/c/d ms", PING_LINE_RTT },
		{ "rtt min/avg/max/mdev =", PING_LINE_RTT },
	};
	struct ping_line l;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&l, 0x5a, sizeof(l));
		if (ping_parse_line(bad[i].line, &l) != -EBADMSG || l.kind != bad[i].kind)
			fail_msg("case %zu not -EBADMSG/%d: %s (kind %d)", i, bad[i].kind,
				 bad[i].line, l.kind);
		/* Nothing half-parsed leaks out. */
		assert_int_equal(l.stamp_ns, 0);
		assert_int_equal(l.icmp_seq, 0);
		assert_int_equal(l.rtt_ns, 0);
		assert_int_equal(l.transmitted, 0);
		assert_int_equal(l.min_ns, 0);
	}
}

/* ---- captured runs -------------------------------------------------------- */

static void test_file_v4_normal(void **state)
{
	struct file_run f;
	size_t i;

	(void)state;
	load("v4-normal.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 20);
	assert_int_equal(f.kinds[PING_LINE_STATS_HEADER], 1);
	assert_int_equal(f.kinds[PING_LINE_COUNTS], 1);
	assert_int_equal(f.kinds[PING_LINE_RTT], 1);
	assert_int_equal(f.kinds[PING_LINE_OTHER], 2); /* PING header, blank line */
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, 20);
	assert_true(f.run.have_counts && f.run.have_rtt);
	assert_int_equal(f.run.counts.transmitted, 20);
	assert_int_equal(f.run.counts.received, 20);
	assert_int_equal(f.run.rtt.min_ns, 29000);
	assert_int_equal(f.run.rtt.avg_ns, 50000);
	assert_int_equal(f.run.rtt.max_ns, 113000);
	assert_int_equal(f.run.rtt.mdev_ns, 18000);
	for (i = 0; i < f.n; i++) {
		assert_int_equal(f.p[i].seq, i);
		assert_int_equal(f.p[i].refl_seq, i + 1);
		assert_true(f.p[i].received);
		assert_int_equal(f.p[i].dup, 0);
		assert_int_equal(f.p[i].ttl, 64);
	}
	assert_got(&f.p[0], 1795793051451476000LL, 29000, 64);
	assert_got(&f.p[12], 1795793051649018000LL, 113000, 64);
	assert_got(&f.p[19], 1795793051760973000LL, 43000, 64);
	unload(&f);
}

static void test_file_v6_normal(void **state)
{
	struct file_run f;

	(void)state;
	load("v6-normal.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 10);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, 10);
	assert_got(&f.p[0], 1795793051764095000LL, 27000, 64);
	assert_got(&f.p[9], 1795793051912996000LL, 45000, 64);
	assert_int_equal(f.run.rtt.max_ns, 50000);
	unload(&f);
}

static void test_file_loss(void **state)
{
	struct file_run f;
	size_t i, got = 0;

	(void)state;
	/* Replies 9-14 and 18-19 missing, each announced by -O. */
	load("v4-loss-O.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.kinds[PING_LINE_NO_ANSWER], 8);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 17);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, 25);
	assert_true(f.run.counts.loss_pct == 32.0);
	for (i = 0; i < f.n; i++) {
		bool lost = (i >= 8 && i <= 13) || i == 17 || i == 18;

		if (lost)
			assert_lost(&f.p[i]);
		else
			got++;
		assert_int_equal(f.p[i].received, !lost);
	}
	assert_int_equal(got, f.run.counts.received);
	assert_got(&f.p[14], 1795793077828985000LL, 50000, 64);
	unload(&f);

	load("v6-loss-O.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.n, 15);
	for (i = 0; i < f.n; i++)
		assert_int_equal(f.p[i].received, !(i >= 5 && i <= 7));
	assert_got(&f.p[8], 1795793101645064000LL, 73000, 64);
	unload(&f);
}

static void test_file_unreachable(void **state)
{
	struct file_run f;
	size_t i;

	(void)state;
	load("v4-unreachable-O.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 0);
	assert_int_equal(f.kinds[PING_LINE_NO_ANSWER], 7);
	assert_int_equal(f.run.max_seq, 7);
	assert_int_equal(f.run.counts.transmitted, 8);
	assert_int_equal(f.run.counts.received, 0);
	assert_int_equal(f.run.counts.errors, 8);
	assert_true(f.run.counts.loss_pct == 100.0);
	assert_false(f.run.have_rtt);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, 8); /* the summary, not the highest sequence seen */
	for (i = 0; i < f.n; i++) {
		assert_lost(&f.p[i]);
		assert_int_equal(f.p[i].seq, i);
	}
	unload(&f);
}

static void test_file_duplicates(void **state)
{
	struct file_run f;
	size_t i;

	(void)state;
	/* Marked: two hosts answer the same unicast request. */
	load("v4-dup-unicast.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 11);
	assert_int_equal(f.run.counts.duplicates, 5);
	assert_int_equal(f.n, 6);
	for (i = 0; i < 5; i++)
		assert_int_equal(f.p[i].dup, 1);
	assert_int_equal(f.p[5].dup, 0);
	/* The first reply counts, the (DUP!) after it does not. */
	assert_got(&f.p[0], 1795793094345313000LL, 310000, 64);
	assert_int_equal(f.run.replies[1].dup, true);
	unload(&f);

	/* Unmarked: broadcast ping repeats sequence numbers without (DUP!). */
	load("v4-dup-broadcast.txt", &f);
	assert_int_equal(f.bad, 0);
	for (i = 0; i < f.run.n_replies; i++)
		assert_false(f.run.replies[i].dup);
	assert_int_equal(f.n, 6);
	for (i = 0; i < 5; i++)
		assert_int_equal(f.p[i].dup, 1);
	assert_int_equal(f.p[5].dup, 0);
	assert_got(&f.p[0], 1795793084533040000LL, 119000, 64);
	unload(&f);
}

static void test_file_killed(void **state)
{
	struct file_run f;
	size_t i;

	(void)state;
	/* SIGKILL: no summary; the highest sequence number gives the count. */
	load("v4-killed.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_false(f.run.have_counts);
	assert_false(f.run.have_rtt);
	assert_int_equal(f.rc, 0);
	assert_int_equal(f.n, 8);
	for (i = 0; i < f.n; i++)
		assert_true(f.p[i].received);
	assert_got(&f.p[7], 1795793103869041000LL, 63000, 64);
	unload(&f);
}

static void test_file_edges(void **state)
{
	struct file_run f;

	(void)state;
	load("edge-formats.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 7); /* the BAD CHECKSUM one is OTHER */
	assert_int_equal(f.n, 8);
	assert_got(&f.p[0], 1700000000000001000LL, 1230000, 57);
	assert_got(&f.p[1], 1700000000100002000LL, 12300000, 57);
	assert_got(&f.p[2], 1700000000300003000LL, 123000000, 57);
	assert_lost(&f.p[3]);                                      /* bad checksum */
	assert_got(&f.p[4], 1700000000500005000LL, 50000, 57);     /* different address */
	assert_int_equal(f.p[4].dup, 1);
	assert_lost(&f.p[5]);                                      /* unreachable */
	assert_got(&f.p[6], 1700000000900009000LL, 2500000, 57);
	/* Truncated reply: received, stamp known, no delay. */
	assert_true(f.p[7].received);
	assert_false(f.p[7].ts_valid);
	assert_int_equal(f.p[7].t4_ns, 1700000001000010000LL);
	assert_int_equal(f.p[7].t1_ns, 0);
	assert_int_equal(f.run.counts.duplicates, 1);
	assert_int_equal(f.run.counts.errors, 1);
	assert_true(f.run.counts.loss_pct == 25.0);
	assert_int_equal(f.run.rtt.avg_ns, 23376000);
	assert_int_equal(f.run.rtt.max_ns, 123000000);
	unload(&f);

	/* No -D: delays without instants. */
	load("edge-no-stamps.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.n, 3);
	assert_true(f.p[0].received && f.p[0].ts_valid);
	assert_int_equal(f.p[0].rtt_ns, 512000);
	assert_int_equal(f.p[0].t4_ns, 0);
	assert_int_equal(f.p[0].t1_ns, 0);
	assert_int_equal(f.p[0].t4_src, TS_SRC_NONE);
	assert_int_equal(f.p[2].ttl, -1);
	assert_int_equal(f.p[2].rtt_ns, 400000);
	assert_int_equal(f.run.rtt.mdev_ns, 46000);
	unload(&f);

	load("edge-crlf-precision.txt", &f);
	assert_int_equal(f.bad, 0);
	assert_int_equal(f.n, 3);
	assert_got(&f.p[0], 1700000000500000000LL, 100000, 64);
	assert_got(&f.p[1], 1700000001123456789LL, 1, 64);
	assert_lost(&f.p[2]);
	assert_true(f.run.counts.loss_pct == 33.3333);
	assert_false(f.run.have_rtt);
	unload(&f);

	/* Garbage: malformed known lines are reported and skipped. */
	load("garbage.txt", &f);
	assert_int_equal(f.bad, 10);
	assert_int_equal(f.kinds[PING_LINE_REPLY], 2);
	assert_false(f.run.have_counts);
	assert_int_equal(f.n, 7);
	assert_got(&f.p[0], 1700000000000000000LL, 45000, 64);
	assert_got(&f.p[6], 1700000000000007000LL, 45000, 64);
	assert_lost(&f.p[1]);
	unload(&f);
}

/* ---- runs from lines ------------------------------------------------------- */

static void feed_all(struct ping_run *r, const char *const *lines, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ping_run_feed(r, lines[i]) != 0)
			fail_msg("refused: %s", lines[i]);
}

static void test_truncated(void **state)
{
	static const char *const lines[] = {
		"[10.0] 64 bytes from a: icmp_seq=1 ttl=64 time=0.045 ms",
		"[10.1] 64 bytes from a: icmp_seq=2 ttl=64 time=0.045 ms",
		"[10.3] no answer yet for icmp_seq=3",
		"[10.4] no answer yet for icmp_seq=4",
		"[10.5] 64 bytes from a: icmp_seq=5 ttl=64 ti", /* cut mid-line */
	};
	struct ping_run r;
	struct probe_result *p;
	size_t n;

	(void)state;
	ping_run_init(&r);
	feed_all(&r, lines, 5);
	/* A known line cut inside a number is refused, and changes nothing. */
	assert_int_equal(ping_run_feed(&r, "[10.6] 64 bytes from a: icmp_seq=6 ttl=64 time=0.04"),
			 -EBADMSG);
	assert_int_equal(r.n_replies, 3);
	assert_int_equal(r.max_seq, 5);
	assert_int_equal(ping_run_probes(&r, &p, &n), 0);
	assert_int_equal(n, 5);
	assert_got(&p[0], 10000000000LL, 45000, 64);
	assert_lost(&p[2]);
	assert_lost(&p[3]);
	assert_true(p[4].received);
	assert_false(p[4].ts_valid);
	free(p);
	/* "no answer yet" alone extends the run. */
	assert_int_equal(ping_run_feed(&r, "[10.7] no answer yet for icmp_seq=7"), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), 0);
	assert_int_equal(n, 7);
	assert_lost(&p[6]);
	free(p);
	ping_run_free(&r);
	assert_null(r.replies);
	assert_int_equal(r.n_replies, 0);
}

static void test_wrap(void **state)
{
	static const char *const lines[] = {
		"[1.0] 64 bytes from a: icmp_seq=65534 ttl=64 time=1.000 ms",
		"[1.1] no answer yet for icmp_seq=65535",
		"[1.2] 64 bytes from a: icmp_seq=0 ttl=64 time=1.000 ms",
		"[1.3] 64 bytes from a: icmp_seq=65535 ttl=64 time=2.000 ms", /* late, before the wrap */
		"[1.4] 64 bytes from a: icmp_seq=1 ttl=64 time=1.000 ms",
		"[1.5] 64 bytes from a: icmp_seq=0 ttl=64 time=1.000 ms (DUP!)",
		"65540 packets transmitted, 4 received, +1 duplicates, 99.9939% packet loss",
	};
	struct ping_run r;
	struct probe_result *p;
	size_t n;

	(void)state;
	ping_run_init(&r);
	feed_all(&r, lines, sizeof(lines) / sizeof(lines[0]));
	assert_int_equal(r.n_replies, 5);
	assert_int_equal(r.replies[0].icmp_seq, 65534);
	assert_int_equal(r.replies[1].icmp_seq, 65536);
	assert_int_equal(r.replies[2].icmp_seq, 65535);
	assert_int_equal(r.replies[3].icmp_seq, 65537);
	assert_int_equal(r.replies[4].icmp_seq, 65536);
	assert_int_equal(r.max_seq, 65537);
	assert_int_equal(ping_run_probes(&r, &p, &n), 0);
	assert_int_equal(n, 65540);
	assert_got(&p[65533], 1000000000LL, MS, 64);
	assert_got(&p[65534], 1300000000LL, 2 * MS, 64);
	assert_got(&p[65535], 1200000000LL, MS, 64);
	assert_int_equal(p[65535].refl_seq, 0); /* the wire value */
	assert_int_equal(p[65535].dup, 1);
	assert_got(&p[65536], 1400000000LL, MS, 64);
	assert_int_equal(p[65536].refl_seq, 1);
	assert_lost(&p[65537]);
	assert_lost(&p[0]);
	free(p);
	ping_run_free(&r);

	/* Numbers above 16 bits are not iputils': taken as printed. */
	ping_run_init(&r);
	assert_int_equal(ping_run_feed(&r, "1 bytes from a: icmp_seq=70000"), 0);
	assert_int_equal(ping_run_feed(&r, "1 bytes from a: icmp_seq=3"), 0);
	assert_int_equal(r.replies[0].icmp_seq, 70000);
	assert_int_equal(r.replies[1].icmp_seq, 65539); /* nearest to 70000 */
	ping_run_free(&r);
}

static void test_probe_bounds(void **state)
{
	struct ping_run r;
	struct probe_result *p = (struct probe_result *)1;
	size_t n = 5, i;
	char line[64];

	(void)state;
	ping_run_init(&r);
	assert_int_equal(ping_run_probes(&r, &p, &n), -ENODATA);
	assert_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(ping_run_feed(&r, "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data."), 0);
	assert_int_equal(ping_run_feed(&r, "garbage"), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), -ENODATA);
	assert_int_equal(ping_run_feed(&r, "0 packets transmitted, 0 received"), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), -ENODATA);
	snprintf(line, sizeof(line), "%d packets transmitted, 0 received", PING_MAX_PROBES + 1);
	assert_int_equal(ping_run_feed(&r, line), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), -E2BIG);
	assert_int_equal(ping_run_feed(&r, "18446744073709551615 packets transmitted, 0 received"), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), -E2BIG);
	ping_run_free(&r);

	/* Replies outside 1..transmitted are not probes of this run. */
	ping_run_init(&r);
	assert_int_equal(ping_run_feed(&r, "[5.0] 64 bytes from a: icmp_seq=0 ttl=1 time=1 ms"), 0);
	assert_int_equal(ping_run_feed(&r, "[5.0] 64 bytes from a: icmp_seq=2 ttl=2 time=1 ms"), 0);
	assert_int_equal(ping_run_feed(&r, "[5.0] 64 bytes from a: icmp_seq=4 ttl=3 time=1 ms"), 0);
	assert_int_equal(ping_run_feed(&r, "3 packets transmitted, 1 received"), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), 0);
	assert_int_equal(n, 3);
	assert_lost(&p[0]);
	assert_got(&p[1], 5000000000LL, MS, 2);
	assert_lost(&p[2]);
	free(p);
	/* A (DUP!) with nothing before it is the first reply. */
	assert_int_equal(ping_run_feed(&r, "[6.0] 64 bytes from a: icmp_seq=1 ttl=9 time=2 ms (DUP!)"),
			 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), 0);
	assert_got(&p[0], 6000000000LL, 2 * MS, 9);
	assert_int_equal(p[0].dup, 0);
	free(p);
	ping_run_free(&r);

	/* The duplicate counter saturates instead of wrapping. */
	ping_run_init(&r);
	for (i = 0; i < 65537; i++)
		assert_int_equal(ping_run_feed(&r, "1 bytes from a: icmp_seq=1 time=1 ms"), 0);
	assert_int_equal(ping_run_probes(&r, &p, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].dup, UINT16_MAX);
	free(p);
	ping_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reply_lines),
		cmocka_unit_test(test_no_answer_line),
		cmocka_unit_test(test_summary_lines),
		cmocka_unit_test(test_other_lines),
		cmocka_unit_test(test_malformed_lines),
		cmocka_unit_test(test_file_v4_normal),
		cmocka_unit_test(test_file_v6_normal),
		cmocka_unit_test(test_file_loss),
		cmocka_unit_test(test_file_unreachable),
		cmocka_unit_test(test_file_duplicates),
		cmocka_unit_test(test_file_killed),
		cmocka_unit_test(test_file_edges),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_probe_bounds),
	};

	return cmocka_run_group_tests_name("ping_parse", tests, NULL, NULL);
}
