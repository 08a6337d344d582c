/*
 * TWAMP-Test packet codecs (RFC 5357 §4, RFC 4656 §4.1.2, RFC 7750 §2.2.1).
 *
 * Pure encode/decode between (buffer, length) and host-order structs: no
 * sockets, clocks, allocation or logging.  The plaintext layout of the
 * authenticated and encrypted modes is encoded here too; applying AES and
 * the HMAC to the protected octets is the crypto module's job, done on the
 * encoded buffer (spec twamp-test.md §9).  Sizes are the spec's 14/41/44/112
 * octets (112/64, not 104/56: §8.1).
 */
#ifndef TK_WIRE_TEST_H
#define TK_WIRE_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tstamp.h"

/* Test-packet security: mixed mode (RFC 5618) uses the OPEN layout. */
enum wire_security {
	WIRE_SEC_OPEN = 0,
	WIRE_SEC_AUTH,
	WIRE_SEC_ENC,
};

#define WIRE_SENDER_HDR_OPEN 14
#define WIRE_SENDER_HDR_AUTH 48        /* auth and enc */
#define WIRE_REFLECTOR_HDR_OPEN 41
#define WIRE_REFLECTOR_HDR_DSCP_ECN 44 /* unauthenticated + RFC 7750 */
#define WIRE_REFLECTOR_HDR_AUTH 112    /* auth and enc, with or without RFC 7750 */
#define WIRE_STAMP_BASE_LEN 44         /* RFC 8762 unauthenticated base packet */
#define WIRE_HMAC_LEN 16
#define WIRE_MAX_PACKET 65507          /* largest UDP/IPv4 payload */

const char *wire_security_name(enum wire_security sec);
/* Header lengths and timestamp offset; 0 for an unknown sec. */
size_t wire_sender_hdr_len(enum wire_security sec);
size_t wire_reflector_hdr_len(enum wire_security sec, bool dscp_ecn);

/*
 * Session-Sender packet (spec §4.1 unauthenticated, §4.2 auth/enc).
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Timestamp                            |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Error Estimate         |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               |
 * .                         Packet Padding                        .
 */
struct wire_sender {
	uint32_t seq;
	ntp64_t timestamp;            /* T1 */
	uint16_t error_estimate;
	uint8_t hmac[WIRE_HMAC_LEN];  /* auth/enc only (octets 32-47), opaque here */
};

/*
 * Writes the header for sec, then padding_len octets of padding (copied
 * from padding, or zeros when padding is NULL; it must not overlap buf),
 * into buf[0..cap).  MBZ octets are written as zeros.  Returns the packet
 * length, -ENOSPC when cap is too small, -EMSGSIZE when the length would
 * not fit an int, -EINVAL on NULL m/buf or an unknown sec.
 */
int wire_sender_encode(const struct wire_sender *m, enum wire_security sec,
		       const uint8_t *padding, size_t padding_len,
		       uint8_t *buf, size_t cap);

/*
 * Parses a sender packet; padding is buf[hdr..len); MBZ octets are ignored.
 * 0, -EBADMSG when shorter than the header, -EINVAL on bad arguments.
 */
int wire_sender_decode(const uint8_t *buf, size_t len, enum wire_security sec,
		       struct wire_sender *m);

/*
 * Session-Reflector packet, unauthenticated (spec §5.1; RFC 7750 §5.3):
 *
 * | Sequence Number (4) | Timestamp T3 (8) | Error Estimate (2) | MBZ (2)  |
 * | Receive Timestamp T2 (8) | Sender Sequence Number (4)                 |
 * | Sender Timestamp (8) | Sender Error Estimate (2) | MBZ (2)              |
 * | Sender TTL (1) | [S-DSCP-ECN (1) | MBZ (2)] | Packet Padding ...      |
 *
 * Authenticated/encrypted (spec §5.2): six 16-octet blocks holding the same
 * fields each followed by MBZ, then the HMAC at 96-111, padding from 112.
 */
struct wire_reflector {
	uint32_t seq;
	ntp64_t timestamp;             /* T3 */
	uint16_t error_estimate;
	uint16_t ssid;                 /* octets 14-15: MBZ in TWAMP, SSID in STAMP (unauth only) */
	ntp64_t receive_timestamp;     /* T2 */
	uint32_t sender_seq;
	ntp64_t sender_timestamp;      /* T1 as the sender wrote it */
	uint16_t sender_error_estimate;
	uint8_t sender_ttl;
	bool has_dscp_ecn;             /* RFC 7750 layout in use */
	uint8_t sender_dscp_ecn;       /* S-DSCP(6) | S-ECN(2) */
	uint8_t hmac[WIRE_HMAC_LEN];   /* auth/enc only, opaque here */
};

/* As wire_sender_encode; the RFC 7750 octet is written when m->has_dscp_ecn. */
int wire_reflector_encode(const struct wire_reflector *m, enum wire_security sec,
			  const uint8_t *padding, size_t padding_len,
			  uint8_t *buf, size_t cap);

/*
 * Parses a reflector packet; dscp_ecn selects the RFC 7750 layout (and sets
 * m->has_dscp_ecn).  ssid is read only in the OPEN layout (0 otherwise); MBZ
 * octets are ignored.  0, -EBADMSG when short, -EINVAL on bad arguments.
 */
int wire_reflector_decode(const uint8_t *buf, size_t len, enum wire_security sec,
			  bool dscp_ecn, struct wire_reflector *m);

/* Offset of the Timestamp (T1 or T3) field, so it can be patched right before sending. */
size_t wire_timestamp_offset(enum wire_security sec);

/* Big-endian NTP64 store/load on a raw buffer of at least 8 octets. */
void wire_put_ntp64(uint8_t *p, ntp64_t t);
ntp64_t wire_get_ntp64(const uint8_t *p);

#endif
