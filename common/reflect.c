/*
 * Reflector reply construction (RFC 5357 §4.2.1; spec twamp-test.md §6, §8;
 * stamp-compat.md §2).
 *
 * The reply reuses the sender's padding and drops its highest-numbered
 * octets, so a request of at least header size gets a reply of exactly its
 * own length and the first padding octet stays first (what RFC 6038 Reflect
 * Octets and RFC 6802 rely on).  A request shorter than the reflector header
 * gets just the header: the only case where a reply is longer than its
 * request, bounded by the 41/44/112-octet minimum.
 */
#include "reflect.h"

#include <errno.h>
#include <string.h>

#include "cursor.h"

size_t reflect_reply_len(const struct reflect_cfg *cfg, size_t req_len)
{
	size_t hdr_r = wire_reflector_hdr_len(cfg->sec, cfg->dscp_ecn);
	if (cfg->stamp_aware && cfg->sec == WIRE_SEC_OPEN && hdr_r < WIRE_STAMP_BASE_LEN)
		hdr_r = WIRE_STAMP_BASE_LEN;
	return req_len > hdr_r ? req_len : hdr_r;
}

uint32_t reflect_sender_seq(const uint8_t *pkt, size_t len, enum wire_security sec)
{
	(void)sec; /* the Sequence Number is octets 0-3 in every layout */
	struct rcursor c;
	rc_init(&c, pkt, len);
	return rc_u32(&c);
}

int reflect_build(const struct reflect_cfg *cfg, const struct reflect_in *in,
		  uint8_t *out, size_t cap)
{
	size_t hdr_s = wire_sender_hdr_len(cfg->sec);
	size_t hdr_r = wire_reflector_hdr_len(cfg->sec, cfg->dscp_ecn);
	bool stamp = cfg->stamp_aware && cfg->sec == WIRE_SEC_OPEN;

	struct wire_sender s;
	if (in->len < hdr_s || wire_sender_decode(in->pkt, in->len, cfg->sec, &s) < 0)
		return -EBADMSG;

	size_t reply_len = reflect_reply_len(cfg, in->len);
	if (reply_len > cap)
		return -ENOSPC;

	struct wire_reflector r;
	memset(&r, 0, sizeof(r));
	r.seq = in->refl_seq;
	r.timestamp = 0; /* T3 is patched by the caller right before sending */
	r.error_estimate = in->error_estimate;
	r.receive_timestamp = in->t2;
	r.sender_seq = s.seq;
	r.sender_timestamp = s.timestamp;
	r.sender_error_estimate = s.error_estimate;
	r.sender_ttl = (in->ttl >= 0 && in->ttl <= 255) ? (uint8_t)in->ttl : 255; /* C10 */
	r.has_dscp_ecn = cfg->dscp_ecn;
	r.sender_dscp_ecn = in->tos >= 0 ? (uint8_t)in->tos : 0;

	if (stamp) {
		/*
		 * STAMP-aware (R7, R8): SSID copied, octets 41-43 zero, the
		 * sender's octets 44.. at the same offsets, 44-octet minimum.
		 */
		if (in->len >= 16)
			r.ssid = (uint16_t)(in->pkt[14] << 8 | in->pkt[15]);
		int n = wire_reflector_encode(&r, cfg->sec, NULL, reply_len - hdr_r, out, cap);
		if (n < 0)
			return n;
		if (in->len > WIRE_STAMP_BASE_LEN)
			memcpy(out + WIRE_STAMP_BASE_LEN, in->pkt + WIRE_STAMP_BASE_LEN,
			       in->len - WIRE_STAMP_BASE_LEN);
		return (int)reply_len;
	}

	if (cfg->symmetrical) {
		/*
		 * RFC 6038 §5.2.2 (C29): the request already holds the reflector
		 * header's worth of MBZ octets, so its padding sits at the reply's
		 * padding offset and is copied in place; the reply length equals
		 * the request length.  The to-be-reflected octets (RFC 6038 §5.1.2,
		 * C28) thereby start the reflector padding.
		 */
		size_t m = reply_len - hdr_r;
		return wire_reflector_encode(&r, cfg->sec, m ? in->pkt + hdr_r : NULL, m, out, cap);
	}

	/* Truncation rule (C15, C16): padding = the first M sender padding octets. */
	size_t m = reply_len - hdr_r;
	const uint8_t *pad = in->pkt + hdr_s;
	if (m > in->len - hdr_s)
		m = in->len - hdr_s; /* cannot happen: reply_len - hdr_r <= len - hdr_s */
	return wire_reflector_encode(&r, cfg->sec, m ? pad : NULL, m, out, cap);
}
