/*
 * Fuzz target for the reflector transformation (common/reflect.c): each
 * input is treated as a received sender packet under every configuration
 * (security mode x RFC 7750 x STAMP-aware).  The reply must never be longer
 * than max(request, reflector header) (no amplification), must match
 * reflect_reply_len(), must fit an exact-size buffer (ASan catches an
 * overrun) and must fail cleanly with one octet less room.  Requests shorter
 * than the sender header are refused (C30).  A decodable reply carries the
 * copied sender fields (C6), T2, the reflector counter and the TTL rule (C10).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "reflect.h"
#include "tstamp.h"
#include "wire_test.h"

static void check_one(const struct reflect_cfg *cfg, const struct reflect_in *in)
{
	size_t hdr_s = wire_sender_hdr_len(cfg->sec);
	size_t hdr_r = wire_reflector_hdr_len(cfg->sec, cfg->dscp_ecn);

	if (cfg->stamp_aware && cfg->sec == WIRE_SEC_OPEN && hdr_r < WIRE_STAMP_BASE_LEN)
		hdr_r = WIRE_STAMP_BASE_LEN;
	size_t bound = in->len > hdr_r ? in->len : hdr_r;
	size_t want = reflect_reply_len(cfg, in->len);
	if (want > bound)
		abort();

	uint8_t *out = malloc(bound);
	if (!out)
		return;
	int n = reflect_build(cfg, in, out, bound);
	if (in->len < hdr_s) {
		if (n != -EBADMSG)
			abort();
		free(out);
		return;
	}
	if (n < 0 || (size_t)n != want)
		abort();

	/* the reply decodes, with the request's fields copied */
	struct wire_sender s;
	struct wire_reflector r;
	if (wire_sender_decode(in->pkt, in->len, cfg->sec, &s) != 0 ||
	    wire_reflector_decode(out, (size_t)n, cfg->sec, cfg->dscp_ecn, &r) != 0)
		abort();
	if (r.sender_seq != s.seq || r.sender_timestamp != s.timestamp ||
	    r.sender_error_estimate != s.error_estimate || r.seq != in->refl_seq ||
	    r.receive_timestamp != in->t2 || r.error_estimate != in->error_estimate)
		abort();
	if (r.sender_ttl != (in->ttl < 0 ? 255 : in->ttl))
		abort();
	if (cfg->dscp_ecn && in->tos >= 0 && r.sender_dscp_ecn != in->tos)
		abort();

	/* one octet short: a clean -ENOSPC, nothing written out of bounds */
	free(out);
	out = malloc(want - 1 ? want - 1 : 1);
	if (!out)
		return;
	if (reflect_build(cfg, in, out, want - 1) != -ENOSPC)
		abort();
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum wire_security secs[] = { WIRE_SEC_OPEN, WIRE_SEC_AUTH, WIRE_SEC_ENC };

	if (size > WIRE_MAX_PACKET)
		return 0;
	/* the request in a buffer of exactly its size, so over-reads are caught */
	uint8_t *pkt = malloc(size ? size : 1);
	if (!pkt)
		return 0;
	if (size)
		memcpy(pkt, data, size);

	/* socket-side inputs derived from the data, covering "unknown" (-1) too */
	uint8_t last = size ? data[size - 1] : 0;
	struct reflect_in in = {
		.pkt = pkt,
		.len = size,
		.t2 = size >= 8 ? wire_get_ntp64(data) ^ 0x5a5a5a5a5a5a5a5aULL : 0xe8fe6f8020000000ULL,
		.error_estimate = (uint16_t)(0x8000 | last),
		.refl_seq = (uint32_t)size * 2654435761u,
		.ttl = (last & 1) ? -1 : last,
		.tos = (last & 2) ? -1 : (uint8_t)(last * 7),
	};

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		for (int dscp = 0; dscp <= 1; dscp++) {
			for (int stamp = 0; stamp <= 1; stamp++) {
				struct reflect_cfg cfg = {
					.sec = secs[i], .dscp_ecn = dscp, .stamp_aware = stamp,
				};
				check_one(&cfg, &in);
			}
		}
	}
	free(pkt);
	return 0;
}
