/*
 * Fuzz target for the iputils ping output parser (common/ping_parse.c).
 * The input is split on newlines; every line goes through ping_parse_line
 * and ping_run_feed, which must agree, and the run then through
 * ping_run_probes.  Aborts on a broken invariant: a kind out of range, a
 * reply TTL outside -1..255, a received probe with a delay but no valid
 * flag, probes not numbered 0..n-1, more probes than PING_MAX_PROBES.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "ping_parse.h"

static void check_line(const char *line, struct ping_run *run)
{
	struct ping_line l;
	int rc = ping_parse_line(line, &l);

	if (rc != 0 && rc != -EBADMSG)
		abort();
	if (l.kind < PING_LINE_OTHER || l.kind > PING_LINE_RTT)
		abort();
	if (rc == 0 && l.kind == PING_LINE_REPLY &&
	    (l.ttl < -1 || l.ttl > 255 || l.rtt_ns < -1 || l.stamp_ns < 0))
		abort();
	if (rc == 0 && l.kind == PING_LINE_RTT &&
	    (l.min_ns < 0 || l.avg_ns < 0 || l.max_ns < 0 || l.mdev_ns < 0))
		abort();
	/* The run sees the same verdict (or runs out of memory). */
	int frc = ping_run_feed(run, line);
	if (frc != rc && frc != -ENOMEM)
		abort();
}

static void check_probes(const struct ping_run *run)
{
	struct probe_result *p;
	size_t n, i;
	int rc = ping_run_probes(run, &p, &n);

	if (rc == -ENODATA || rc == -E2BIG || rc == -ENOMEM) {
		if (p || n)
			abort();
		return;
	}
	if (rc != 0 || n == 0 || n > PING_MAX_PROBES)
		abort();
	for (i = 0; i < n; i++) {
		if (p[i].seq != i || !p[i].sent || p[i].proto != PROBE_ICMP)
			abort();
		if (!p[i].received && (p[i].ts_valid || p[i].dup || p[i].t4_ns))
			abort();
		if (p[i].ts_valid && p[i].rtt_ns < 0)
			abort();
		if (p[i].t4_ns && p[i].ts_valid && p[i].t1_ns != p[i].t4_ns - p[i].rtt_ns)
			abort();
	}
	free(p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ping_run run;
	size_t start = 0;
	char *line = malloc(size + 1);

	if (!line)
		return 0;
	ping_run_init(&run);
	while (start <= size) {
		const uint8_t *nl = memchr(data + start, '\n', size - start);
		size_t end = nl ? (size_t)(nl - data) : size;

		/* An embedded NUL ends the C string early, as it would for fgets users. */
		memcpy(line, data + start, end - start);
		line[end - start] = '\0';
		check_line(line, &run);
		start = end + 1;
	}
	check_probes(&run);
	ping_run_free(&run);
	free(line);
	return 0;
}
