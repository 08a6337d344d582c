/*
 * TWAMP-Test packet codecs: the Session-Sender and Session-Reflector
 * layouts of RFC 5357 §4.1.2/§4.2.1 (inherited from RFC 4656 §4.1.2) in
 * unauthenticated form, in the plaintext form of the authenticated and
 * encrypted modes, and with the RFC 7750 S-DSCP-ECN octet.  All access goes
 * through the bounds-checked cursors; MBZ octets are written as zeros and
 * skipped on decode, because receivers must ignore their content
 * (RFC 4656 §3.1).  Sizes follow the 112/64 reading of spec §8.1.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "cursor.h"
#include "wire_test.h"

static bool sec_valid(enum wire_security sec)
{
	return sec == WIRE_SEC_OPEN || sec == WIRE_SEC_AUTH || sec == WIRE_SEC_ENC;
}

const char *wire_security_name(enum wire_security sec)
{
	switch (sec) {
	case WIRE_SEC_OPEN:
		return "open";
	case WIRE_SEC_AUTH:
		return "auth";
	case WIRE_SEC_ENC:
		return "enc";
	}
	return "unknown";
}

size_t wire_sender_hdr_len(enum wire_security sec)
{
	if (!sec_valid(sec))
		return 0;
	return sec == WIRE_SEC_OPEN ? WIRE_SENDER_HDR_OPEN : WIRE_SENDER_HDR_AUTH;
}

size_t wire_reflector_hdr_len(enum wire_security sec, bool dscp_ecn)
{
	if (!sec_valid(sec))
		return 0;
	if (sec != WIRE_SEC_OPEN)
		return WIRE_REFLECTOR_HDR_AUTH; /* S-DSCP-ECN takes an MBZ octet of block 6 */
	return dscp_ecn ? WIRE_REFLECTOR_HDR_DSCP_ECN : WIRE_REFLECTOR_HDR_OPEN;
}

size_t wire_timestamp_offset(enum wire_security sec)
{
	if (!sec_valid(sec))
		return 0;
	return sec == WIRE_SEC_OPEN ? 4 : 16;
}

void wire_put_ntp64(uint8_t *p, ntp64_t t)
{
	struct wcursor c;

	wc_init(&c, p, 8);
	wc_u64(&c, t);
}

ntp64_t wire_get_ntp64(const uint8_t *p)
{
	struct rcursor c;

	rc_init(&c, p, 8);
	return rc_u64(&c);
}

/*
 * Common front end of both encoders: argument checks and the total length,
 * which must fit both the caller's buffer and the int return value.
 */
static int encode_len(size_t hdr, size_t padding_len, size_t cap, size_t *total)
{
	if (padding_len > (size_t)INT_MAX - hdr)
		return -EMSGSIZE;
	*total = hdr + padding_len;
	if (*total > cap)
		return -ENOSPC;
	return 0;
}

static void put_padding(struct wcursor *c, const uint8_t *padding, size_t padding_len)
{
	if (padding)
		wc_bytes(c, padding, padding_len);
	else
		wc_zero(c, padding_len);
}

/*
 * Session-Sender, unauthenticated (RFC 4656 §4.1.2, RFC 5357 §4.1.2):
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
 * .                                                               .
 * .                         Packet Padding                        .
 * .                                                               .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Session-Sender, authenticated and encrypted (RFC 4656 §4.1.2); the
 * crypto module encrypts octets 0-15 (auth) or 0-31 (enc) afterwards:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                                                               |
 * |                        MBZ (12 octets)                        |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Timestamp                            |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Error Estimate         |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
 * |                         MBZ (6 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       HMAC (16 octets)                        |
 * |                                                               |
 * |                                                               |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                         Packet Padding                        .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int wire_sender_encode(const struct wire_sender *m, enum wire_security sec,
		       const uint8_t *padding, size_t padding_len,
		       uint8_t *buf, size_t cap)
{
	struct wcursor c;
	size_t total;
	int rc;

	if (!m || !buf || !sec_valid(sec))
		return -EINVAL;
	rc = encode_len(wire_sender_hdr_len(sec), padding_len, cap, &total);
	if (rc < 0)
		return rc;

	wc_init(&c, buf, cap);
	wc_u32(&c, m->seq);
	if (sec == WIRE_SEC_OPEN) {
		wc_u64(&c, m->timestamp);
		wc_u16(&c, m->error_estimate);
	} else {
		wc_zero(&c, 12);
		wc_u64(&c, m->timestamp);
		wc_u16(&c, m->error_estimate);
		wc_zero(&c, 6);
		wc_bytes(&c, m->hmac, WIRE_HMAC_LEN);
	}
	put_padding(&c, padding, padding_len);
	if (c.bad || c.pos != total)
		return -ENOSPC; /* unreachable after encode_len; kept as a guard */
	return (int)total;
}

int wire_sender_decode(const uint8_t *buf, size_t len, enum wire_security sec,
		       struct wire_sender *m)
{
	struct rcursor c;

	if (!m || (!buf && len) || !sec_valid(sec))
		return -EINVAL;
	if (len < wire_sender_hdr_len(sec))
		return -EBADMSG;

	memset(m, 0, sizeof(*m));
	rc_init(&c, buf, len);
	m->seq = rc_u32(&c);
	if (sec == WIRE_SEC_OPEN) {
		m->timestamp = rc_u64(&c);
		m->error_estimate = rc_u16(&c);
	} else {
		rc_skip(&c, 12);
		m->timestamp = rc_u64(&c);
		m->error_estimate = rc_u16(&c);
		rc_skip(&c, 6);
		rc_bytes(&c, m->hmac, WIRE_HMAC_LEN);
	}
	return c.bad ? -EBADMSG : 0;
}

/*
 * Session-Reflector, unauthenticated (RFC 5357 §4.2.1; S-DSCP-ECN and the
 * 2 MBZ octets after it only in RFC 7750 mode, padding then starts at 44):
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Timestamp                            |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |         Error Estimate        |           MBZ (SSID)          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Receive Timestamp                       |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    Sender Sequence Number                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Sender Timestamp                         |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Sender Error Estimate    |              MBZ              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Sender TTL   |  S-DSCP-ECN   |              MBZ              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                         Packet Padding                        .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Session-Reflector, authenticated and encrypted (RFC 5357 §4.2.1); the
 * crypto module encrypts octets 0-15 (auth) or 0-95 (enc) afterwards.
 * The S-DSCP-ECN octet (RFC 7750) sits at 81, in the MBZ after Sender TTL:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sequence Number                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        MBZ (12 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          Timestamp                            |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Error Estimate         |         MBZ (6 octets)        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Receive Timestamp                      |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        MBZ (8 octets)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Sender Sequence Number                    |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        MBZ (12 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Sender Timestamp                       |
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Sender Error Estimate    |        MBZ (6 octets)         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Sender TTL   |                MBZ (15 octets)                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        HMAC (16 octets)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * .                         Packet Padding                        .
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
int wire_reflector_encode(const struct wire_reflector *m, enum wire_security sec,
			  const uint8_t *padding, size_t padding_len,
			  uint8_t *buf, size_t cap)
{
	struct wcursor c;
	size_t total;
	int rc;

	if (!m || !buf || !sec_valid(sec))
		return -EINVAL;
	rc = encode_len(wire_reflector_hdr_len(sec, m->has_dscp_ecn), padding_len, cap, &total);
	if (rc < 0)
		return rc;

	wc_init(&c, buf, cap);
	if (sec == WIRE_SEC_OPEN) {
		wc_u32(&c, m->seq);
		wc_u64(&c, m->timestamp);
		wc_u16(&c, m->error_estimate);
		wc_u16(&c, m->ssid);
		wc_u64(&c, m->receive_timestamp);
		wc_u32(&c, m->sender_seq);
		wc_u64(&c, m->sender_timestamp);
		wc_u16(&c, m->sender_error_estimate);
		wc_zero(&c, 2);
		wc_u8(&c, m->sender_ttl);
		if (m->has_dscp_ecn) {
			wc_u8(&c, m->sender_dscp_ecn);
			wc_zero(&c, 2);
		}
	} else {
		wc_u32(&c, m->seq);
		wc_zero(&c, 12);
		wc_u64(&c, m->timestamp);
		wc_u16(&c, m->error_estimate);
		wc_zero(&c, 6);
		wc_u64(&c, m->receive_timestamp);
		wc_zero(&c, 8);
		wc_u32(&c, m->sender_seq);
		wc_zero(&c, 12);
		wc_u64(&c, m->sender_timestamp);
		wc_u16(&c, m->sender_error_estimate);
		wc_zero(&c, 6);
		wc_u8(&c, m->sender_ttl);
		if (m->has_dscp_ecn) {
			wc_u8(&c, m->sender_dscp_ecn);
			wc_zero(&c, 14);
		} else {
			wc_zero(&c, 15);
		}
		wc_bytes(&c, m->hmac, WIRE_HMAC_LEN);
	}
	put_padding(&c, padding, padding_len);
	if (c.bad || c.pos != total)
		return -ENOSPC; /* unreachable after encode_len; kept as a guard */
	return (int)total;
}

int wire_reflector_decode(const uint8_t *buf, size_t len, enum wire_security sec,
			  bool dscp_ecn, struct wire_reflector *m)
{
	struct rcursor c;

	if (!m || (!buf && len) || !sec_valid(sec))
		return -EINVAL;
	if (len < wire_reflector_hdr_len(sec, dscp_ecn))
		return -EBADMSG;

	memset(m, 0, sizeof(*m));
	m->has_dscp_ecn = dscp_ecn;
	rc_init(&c, buf, len);
	if (sec == WIRE_SEC_OPEN) {
		m->seq = rc_u32(&c);
		m->timestamp = rc_u64(&c);
		m->error_estimate = rc_u16(&c);
		m->ssid = rc_u16(&c);
		m->receive_timestamp = rc_u64(&c);
		m->sender_seq = rc_u32(&c);
		m->sender_timestamp = rc_u64(&c);
		m->sender_error_estimate = rc_u16(&c);
		rc_skip(&c, 2);
		m->sender_ttl = rc_u8(&c);
		if (dscp_ecn) {
			m->sender_dscp_ecn = rc_u8(&c);
			rc_skip(&c, 2);
		}
	} else {
		m->seq = rc_u32(&c);
		rc_skip(&c, 12);
		m->timestamp = rc_u64(&c);
		m->error_estimate = rc_u16(&c);
		rc_skip(&c, 6);
		m->receive_timestamp = rc_u64(&c);
		rc_skip(&c, 8);
		m->sender_seq = rc_u32(&c);
		rc_skip(&c, 12);
		m->sender_timestamp = rc_u64(&c);
		m->sender_error_estimate = rc_u16(&c);
		rc_skip(&c, 6);
		m->sender_ttl = rc_u8(&c);
		if (dscp_ecn) {
			m->sender_dscp_ecn = rc_u8(&c);
			rc_skip(&c, 14);
		} else {
			rc_skip(&c, 15);
		}
		rc_bytes(&c, m->hmac, WIRE_HMAC_LEN);
	}
	return c.bad ? -EBADMSG : 0;
}
