/*
 * The Session-Reflector's packet transformation (RFC 5357 §4.2, spec
 * twamp-test.md §6 and §8, stamp-compat.md §2), without sockets or clocks:
 * given a received sender packet and what the socket layer learned about it
 * (T2, TTL, TOS), build the reply.  T3 is left for the caller to patch with
 * wire_put_ntp64() at wire_timestamp_offset() immediately before sending.
 * The reply is never longer than max(request, reflector header): no
 * amplification.
 */
#ifndef TK_REFLECT_H
#define TK_REFLECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tstamp.h"
#include "wire_test.h"

struct reflect_cfg {
	enum wire_security sec;  /* layout of the session (OPEN for Light and mixed) */
	bool dscp_ecn;           /* RFC 7750 S-DSCP-ECN octet (44-octet header) */
	bool stamp_aware;        /* STAMP-aware copy (stamp-compat.md R7/R8), OPEN only */
	bool symmetrical;        /* RFC 6038 Symmetrical Size: the sender's padding after its
				    MBZ octets keeps its offset (reply[hdr..] = request[hdr..]) */
};

struct reflect_in {
	const uint8_t *pkt;      /* received sender packet (plaintext) */
	size_t len;
	ntp64_t t2;              /* Receive Timestamp */
	uint16_t error_estimate; /* reflector clock's Error Estimate */
	uint32_t refl_seq;       /* reflector Sequence Number to write (stateful counter or copy) */
	int ttl;                 /* received TTL / Hop Limit, -1 when unknown (-> 255, C10) */
	int tos;                 /* received TOS / Traffic Class octet, -1 when unknown */
};

/*
 * Builds the reply in out[0..cap).  Returns its length, -EBADMSG when the
 * request is shorter than the sender header for the mode (C30), or
 * -ENOSPC when cap is too small.  The Sequence Number to copy for a
 * stateless reflector is available from reflect_sender_seq().
 */
int reflect_build(const struct reflect_cfg *cfg, const struct reflect_in *in,
		  uint8_t *out, size_t cap);

/* Sender Sequence Number of a request (0 when too short); for stateless copying (C8). */
uint32_t reflect_sender_seq(const uint8_t *pkt, size_t len, enum wire_security sec);

/* Reply length reflect_build would produce for a request of req_len octets. */
size_t reflect_reply_len(const struct reflect_cfg *cfg, size_t req_len);

#endif
