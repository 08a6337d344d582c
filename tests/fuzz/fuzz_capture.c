/*
 * Fuzz target for the capture frame parser (common/capture.c): the input is
 * taken as one captured frame of every supported link type, once complete
 * (caplen == wirelen) and once as the snapped prefix of a longer frame.
 * Whatever the parser accepts must be self-consistent (a known kind has an
 * IP family, captured payload never exceeds the wire payload, requests
 * always carry their sequence number) and is fed to a two-point matcher,
 * so the matching code sees hostile observations too.  Violations abort.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <pcap/dlt.h>

#include "capture.h"
#include "capture_match.h"
#include "fuzz.h"

static const int linktypes[] = {
	DLT_EN10MB, DLT_LINUX_SLL, DLT_LINUX_SLL2, DLT_NULL, DLT_LOOP, DLT_RAW, DLT_IPV4, DLT_IPV6,
};

static void check(const struct capture_obs *o, int rc)
{
	if (rc != 0 && rc != -EBADMSG)
		abort();
	if (rc < 0 && o->kind != CAPTURE_OTHER)
		abort();
	if (o->kind == CAPTURE_OTHER)
		return;
	if (o->family != AF_INET && o->family != AF_INET6)
		abort();
	if (o->payload_caplen > o->payload_len)
		abort();
	bool request = o->kind == CAPTURE_TWAMP_REQUEST || o->kind == CAPTURE_ICMP_REQUEST;
	if (request && !o->seq_known)
		abort();
	if (o->kind == CAPTURE_TWAMP_REPLY &&
	    (o->layout == CAPTURE_LAYOUT_NONE || o->seq_known != (o->layout == CAPTURE_LAYOUT_OPEN)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct capture_ports ports = { .n = 0 };
	struct match *m;

	capture_ports_add(&ports, 862);
	capture_ports_add(&ports, 18762);
	capture_ports_add(&ports, 20001);
	if (match_new(2, NULL, &m) < 0)
		return 0;
	for (size_t i = 0; i < sizeof(linktypes) / sizeof(linktypes[0]); i++) {
		struct capture_obs o;
		int rc = capture_parse_frame(linktypes[i], data, size, size, &ports, &o);
		check(&o, rc);
		if (rc == 0 && match_observe(m, 0, &o, (int64_t)i) != 0)
			abort();
		/* the same octets as the snapped head of a frame 1500 octets long */
		rc = capture_parse_frame(linktypes[i], data, size, size + 1500, &ports, &o);
		check(&o, rc);
		if (rc == 0 && match_observe(m, 1, &o, (int64_t)i + 1) != 0)
			abort();
	}
	struct stats_dist d;
	if (match_point_dist(m, 0, PROBE_TWAMP, &d) != 0)
		abort();
	for (size_t i = 0; i < match_nprobes(m); i++)
		(void)match_probe_where(m, i, NULL);
	match_free(m);
	return 0;
}
