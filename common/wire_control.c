/*
 * TWAMP-Control codecs (see wire_control.h for the layouts).  Everything
 * goes through the bounds-checked cursors: each encoder checks the
 * capacity once up front, so the cursor can only fail on a bug, and each
 * decoder checks the length up front and then reads unconditionally.  MBZ
 * octets are skipped on decode because receivers must ignore them
 * (RFC 4656 §3.1); the Unused octets of the greeting likewise.  Accept
 * values are normalized on decode so a reserved value can never pass for
 * success further up (RFC 4656 §3.3).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "wire_control.h"

uint8_t wire_accept_normalize(uint8_t v)
{
	return v <= WIRE_ACCEPT_TEMPORARY ? v : WIRE_ACCEPT_FAILURE;
}

const char *wire_accept_name(uint8_t v)
{
	switch (wire_accept_normalize(v)) {
	case WIRE_ACCEPT_OK:
		return "ok";
	case WIRE_ACCEPT_INTERNAL:
		return "internal error";
	case WIRE_ACCEPT_NOT_SUPPORTED:
		return "not supported";
	case WIRE_ACCEPT_PERMANENT:
		return "permanent resource limitation";
	case WIRE_ACCEPT_TEMPORARY:
		return "temporary resource limitation";
	default:
		return "failure";
	}
}

const char *wire_cmd_name(uint8_t cmd)
{
	static const char *const names[] = {
		[WIRE_CMD_RESERVED] = "Reserved",
		[WIRE_CMD_FORBIDDEN] = "Forbidden",
		[WIRE_CMD_START_SESSIONS] = "Start-Sessions",
		[WIRE_CMD_STOP_SESSIONS] = "Stop-Sessions",
		[WIRE_CMD_FETCH_SESSION] = "Fetch-Session",
		[WIRE_CMD_REQUEST_TW_SESSION] = "Request-TW-Session",
		[WIRE_CMD_EXPERIMENTATION] = "Experimentation",
		[WIRE_CMD_START_N_SESSIONS] = "Start-N-Sessions",
		[WIRE_CMD_START_N_ACK] = "Start-N-Ack",
		[WIRE_CMD_STOP_N_SESSIONS] = "Stop-N-Sessions",
		[WIRE_CMD_STOP_N_ACK] = "Stop-N-Ack",
	};

	return cmd < sizeof(names) / sizeof(names[0]) ? names[cmd] : "unknown";
}

static const struct {
	uint32_t bit;
	const char *name;
} mode_names[] = {
	{ WIRE_MODE_OPEN, "open" },
	{ WIRE_MODE_AUTH, "auth" },
	{ WIRE_MODE_ENC, "enc" },
	{ WIRE_MODE_MIXED, "mixed" },
	{ WIRE_MODE_ISC, "isc" },
	{ WIRE_MODE_REFLECT_OCTETS, "reflect-octets" },
	{ WIRE_MODE_SYMMETRICAL, "symmetrical" },
	{ WIRE_MODE_IKEV2, "ikev2" },
	{ WIRE_MODE_DSCP_ECN, "dscp-ecn" },
	{ WIRE_MODE_PTPV2, "ptpv2" },
};

const char *wire_mode_name(uint32_t bit)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (mode_names[i].bit == bit)
			return mode_names[i].name;
	return NULL;
}

const char *wire_modes_str(uint32_t modes, char *buf, size_t size)
{
	size_t used = 0;

	if (!buf || size == 0)
		return buf;
	buf[0] = '\0';
	if (modes == 0) {
		snprintf(buf, size, "none");
		return buf;
	}
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
		if (!(modes & mode_names[i].bit))
			continue;
		int n = snprintf(buf + used, size - used, "%s%s", used ? "|" : "", mode_names[i].name);
		if (n < 0 || (size_t)n >= size - used)
			return buf;
		used += (size_t)n;
	}
	if (modes & ~WIRE_MODE_KNOWN_MASK)
		snprintf(buf + used, size - used, "%s0x%x", used ? "|" : "",
			 (unsigned)(modes & ~WIRE_MODE_KNOWN_MASK));
	return buf;
}

bool wire_mode_valid(uint32_t mode, uint32_t offered)
{
	uint32_t sec = mode & WIRE_MODE_SECURITY_MASK;

	/* exactly one bit: non-zero and a power of two */
	if (sec == 0 || (sec & (sec - 1)) != 0)
		return false;
	return (mode & ~offered) == 0;
}

enum wire_security wire_mode_test_security(uint32_t mode)
{
	if (mode & WIRE_MODE_AUTH)
		return WIRE_SEC_AUTH;
	if (mode & WIRE_MODE_ENC)
		return WIRE_SEC_ENC;
	return WIRE_SEC_OPEN;
}

bool wire_mode_encrypts_control(uint32_t mode)
{
	return (mode & (WIRE_MODE_AUTH | WIRE_MODE_ENC | WIRE_MODE_MIXED)) != 0;
}

bool wire_count_valid(uint32_t count, uint32_t max_count)
{
	return count >= WIRE_COUNT_MIN && (count & (count - 1)) == 0 && count <= max_count;
}

int wire_ctrl_msg_len(const uint8_t *block, size_t len)
{
	struct rcursor c;

	if (!block || len < WIRE_CTRL_BLOCK)
		return -EINVAL;
	switch (block[0]) {
	case WIRE_CMD_START_SESSIONS:
		return WIRE_START_SESSIONS_LEN;
	case WIRE_CMD_STOP_SESSIONS:
		return WIRE_STOP_SESSIONS_LEN;
	case WIRE_CMD_REQUEST_TW_SESSION:
		return WIRE_REQUEST_SESSION_LEN;
	case WIRE_CMD_START_N_SESSIONS:
	case WIRE_CMD_START_N_ACK:
	case WIRE_CMD_STOP_N_SESSIONS:
	case WIRE_CMD_STOP_N_ACK: {
		rc_init(&c, block, WIRE_CTRL_BLOCK);
		rc_skip(&c, 12);
		uint32_t n = rc_u32(&c);
		if (n == 0 || n > WIRE_NSESSIONS_MAX)
			return -EBADMSG;
		return (int)WIRE_NSESSIONS_LEN(n);
	}
	default:
		return -EBADMSG;
	}
}

void wire_sid_make(uint8_t sid[WIRE_SID_LEN], const uint8_t ipv4[4], ntp64_t now,
		   const uint8_t rnd[4])
{
	struct wcursor c;

	wc_init(&c, sid, WIRE_SID_LEN);
	wc_bytes(&c, ipv4, 4);
	wc_u64(&c, now);
	wc_bytes(&c, rnd, 4);
}

int wire_keyid_set(uint8_t field[WIRE_KEYID_LEN], const void *id, size_t len)
{
	if (!field || (!id && len) || len > WIRE_KEYID_LEN || (len && memchr(id, '\0', len)))
		return -EINVAL;
	memset(field, 0, WIRE_KEYID_LEN);
	if (len)
		memcpy(field, id, len);
	return 0;
}

size_t wire_keyid_len(const uint8_t field[WIRE_KEYID_LEN])
{
	const uint8_t *z = memchr(field, 0, WIRE_KEYID_LEN);

	return z ? (size_t)(z - field) : WIRE_KEYID_LEN;
}

uint32_t wire_type_p_from_dscp(uint8_t dscp)
{
	return (uint32_t)(dscp & 0x3f) << 24;
}

int wire_type_p_dscp(uint32_t type_p, uint8_t *dscp)
{
	if ((type_p & 0xc0ffffffu) != 0)
		return -ENOTSUP;
	if (dscp)
		*dscp = (uint8_t)(type_p >> 24);
	return 0;
}

/*
 * Encoder/decoder front ends: argument checks and the one length check,
 * after which the cursor cannot run out.
 */
static int enc_begin(const void *m, uint8_t *buf, size_t cap, size_t need, struct wcursor *c)
{
	if (!m || !buf)
		return -EINVAL;
	if (cap < need)
		return -ENOSPC;
	wc_init(c, buf, need);
	return 0;
}

static int enc_end(const struct wcursor *c, size_t need)
{
	return c->bad || c->pos != need ? -EINVAL : (int)need;
}

static int dec_begin(const uint8_t *buf, size_t len, const void *m, size_t need, struct rcursor *c)
{
	if (!buf || !m)
		return -EINVAL;
	if (len < need)
		return -EBADMSG;
	rc_init(c, buf, need);
	return 0;
}

static int dec_end(const struct rcursor *c)
{
	return c->bad || rc_left(c) != 0 ? -EBADMSG : 0;
}

int wire_greeting_encode(const struct wire_greeting *m, uint8_t *buf, size_t cap)
{
	struct wcursor c;
	int rc = enc_begin(m, buf, cap, WIRE_GREETING_LEN, &c);

	if (rc)
		return rc;
	wc_zero(&c, 12);                 /* Unused */
	wc_u32(&c, m->modes);
	wc_bytes(&c, m->challenge, 16);
	wc_bytes(&c, m->salt, 16);
	wc_u32(&c, m->count);
	wc_zero(&c, 12);                 /* MBZ */
	return enc_end(&c, WIRE_GREETING_LEN);
}

int wire_greeting_decode(const uint8_t *buf, size_t len, struct wire_greeting *m)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, WIRE_GREETING_LEN, &c);

	if (rc)
		return rc;
	rc_skip(&c, 12);
	m->modes = rc_u32(&c);
	rc_bytes(&c, m->challenge, 16);
	rc_bytes(&c, m->salt, 16);
	m->count = rc_u32(&c);
	rc_skip(&c, 12);
	return dec_end(&c);
}

int wire_setup_response_encode(const struct wire_setup_response *m, uint8_t *buf, size_t cap)
{
	struct wcursor c;
	int rc = enc_begin(m, buf, cap, WIRE_SETUP_RESPONSE_LEN, &c);

	if (rc)
		return rc;
	wc_u32(&c, m->mode);
	wc_bytes(&c, m->keyid, WIRE_KEYID_LEN);
	wc_bytes(&c, m->token, WIRE_TOKEN_LEN);
	wc_bytes(&c, m->client_iv, 16);
	return enc_end(&c, WIRE_SETUP_RESPONSE_LEN);
}

int wire_setup_response_decode(const uint8_t *buf, size_t len, struct wire_setup_response *m)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, WIRE_SETUP_RESPONSE_LEN, &c);

	if (rc)
		return rc;
	m->mode = rc_u32(&c);
	rc_bytes(&c, m->keyid, WIRE_KEYID_LEN);
	rc_bytes(&c, m->token, WIRE_TOKEN_LEN);
	rc_bytes(&c, m->client_iv, 16);
	return dec_end(&c);
}

int wire_server_start_encode(const struct wire_server_start *m, uint8_t *buf, size_t cap)
{
	struct wcursor c;
	int rc = enc_begin(m, buf, cap, WIRE_SERVER_START_LEN, &c);

	if (rc)
		return rc;
	wc_zero(&c, 15);
	wc_u8(&c, m->accept);
	wc_bytes(&c, m->server_iv, 16);
	wc_u64(&c, m->start_time);
	wc_zero(&c, 8);
	return enc_end(&c, WIRE_SERVER_START_LEN);
}

int wire_server_start_decode(const uint8_t *buf, size_t len, struct wire_server_start *m)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, WIRE_SERVER_START_LEN, &c);

	if (rc)
		return rc;
	rc_skip(&c, 15);
	m->accept = wire_accept_normalize(rc_u8(&c));
	rc_bytes(&c, m->server_iv, 16);
	m->start_time = rc_u64(&c);
	rc_skip(&c, 8);
	return dec_end(&c);
}

/* IPv4 (E5): 4 octets then 12 zeros; any other IPVN carries 16 octets. */
static void put_addr(struct wcursor *c, uint8_t ipvn, const uint8_t addr[16])
{
	if (ipvn == 4) {
		wc_bytes(c, addr, 4);
		wc_zero(c, 12);
	} else {
		wc_bytes(c, addr, 16);
	}
}

static void get_addr(struct rcursor *c, uint8_t ipvn, uint8_t addr[16])
{
	if (ipvn == 4) {
		memset(addr, 0, 16);
		rc_bytes(c, addr, 4);
		rc_skip(c, 12);
	} else {
		rc_bytes(c, addr, 16);
	}
}

int wire_request_session_encode(const struct wire_request_session *m, uint8_t *buf, size_t cap)
{
	struct wcursor c;
	int rc = enc_begin(m, buf, cap, WIRE_REQUEST_SESSION_LEN, &c);

	if (rc)
		return rc;
	if (m->ipvn > 0x0f)
		return -EINVAL;
	wc_u8(&c, WIRE_CMD_REQUEST_TW_SESSION);
	wc_u8(&c, m->ipvn);                /* MBZ in the high nibble */
	wc_u8(&c, m->conf_sender);
	wc_u8(&c, m->conf_receiver);
	wc_u32(&c, m->schedule_slots);
	wc_u32(&c, m->packets);
	wc_u16(&c, m->sender_port);
	wc_u16(&c, m->receiver_port);
	put_addr(&c, m->ipvn, m->sender_addr);
	put_addr(&c, m->ipvn, m->receiver_addr);
	wc_bytes(&c, m->sid, WIRE_SID_LEN);
	wc_u32(&c, m->padding_length);
	wc_u64(&c, m->start_time);
	wc_u64(&c, m->timeout);
	wc_u32(&c, m->type_p);
	wc_u16(&c, m->octets_to_reflect);
	wc_u16(&c, m->reflect_padding_len);
	wc_zero(&c, 4);
	wc_bytes(&c, m->hmac, WIRE_CTRL_HMAC_LEN);
	return enc_end(&c, WIRE_REQUEST_SESSION_LEN);
}

int wire_request_session_decode(const uint8_t *buf, size_t len, struct wire_request_session *m)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, WIRE_REQUEST_SESSION_LEN, &c);

	if (rc)
		return rc;
	if (rc_u8(&c) != WIRE_CMD_REQUEST_TW_SESSION)
		return -EBADMSG;
	m->ipvn = rc_u8(&c) & 0x0f;
	m->conf_sender = rc_u8(&c);
	m->conf_receiver = rc_u8(&c);
	m->schedule_slots = rc_u32(&c);
	m->packets = rc_u32(&c);
	m->sender_port = rc_u16(&c);
	m->receiver_port = rc_u16(&c);
	get_addr(&c, m->ipvn, m->sender_addr);
	get_addr(&c, m->ipvn, m->receiver_addr);
	rc_bytes(&c, m->sid, WIRE_SID_LEN);
	m->padding_length = rc_u32(&c);
	m->start_time = rc_u64(&c);
	m->timeout = rc_u64(&c);
	m->type_p = rc_u32(&c);
	m->octets_to_reflect = rc_u16(&c);
	m->reflect_padding_len = rc_u16(&c);
	rc_skip(&c, 4);
	rc_bytes(&c, m->hmac, WIRE_CTRL_HMAC_LEN);
	return dec_end(&c);
}

enum wire_accept wire_request_check(const struct wire_request_session *m)
{
	if (!m || m->conf_sender != 0 || m->conf_receiver != 0 || m->schedule_slots != 0 ||
	    m->packets != 0 || (m->ipvn != 4 && m->ipvn != 6) ||
	    wire_type_p_dscp(m->type_p, NULL) != 0)
		return WIRE_ACCEPT_NOT_SUPPORTED;
	return WIRE_ACCEPT_OK;
}

int wire_accept_session_encode(const struct wire_accept_session *m, uint8_t *buf, size_t cap)
{
	struct wcursor c;
	int rc = enc_begin(m, buf, cap, WIRE_ACCEPT_SESSION_LEN, &c);

	if (rc)
		return rc;
	wc_u8(&c, m->accept);
	wc_zero(&c, 1);
	wc_u16(&c, m->port);
	wc_bytes(&c, m->sid, WIRE_SID_LEN);
	wc_u16(&c, m->reflected_octets);
	wc_u16(&c, m->server_octets);
	wc_zero(&c, 8);
	wc_bytes(&c, m->hmac, WIRE_CTRL_HMAC_LEN);
	return enc_end(&c, WIRE_ACCEPT_SESSION_LEN);
}

int wire_accept_session_decode(const uint8_t *buf, size_t len, struct wire_accept_session *m)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, WIRE_ACCEPT_SESSION_LEN, &c);

	if (rc)
		return rc;
	m->accept = wire_accept_normalize(rc_u8(&c));
	rc_skip(&c, 1);
	m->port = rc_u16(&c);
	rc_bytes(&c, m->sid, WIRE_SID_LEN);
	m->reflected_octets = rc_u16(&c);
	m->server_octets = rc_u16(&c);
	rc_skip(&c, 8);
	rc_bytes(&c, m->hmac, WIRE_CTRL_HMAC_LEN);
	return dec_end(&c);
}

/* The shared 32-octet shape of Start-Sessions, Start-Ack and Stop-Sessions. */
static int short_encode(uint8_t first, uint8_t second, uint32_t num, const uint8_t *hmac,
			uint8_t *buf, size_t cap)
{
	struct wcursor c;
	int rc = enc_begin(hmac, buf, cap, 32, &c);

	if (rc)
		return rc;
	wc_u8(&c, first);
	wc_u8(&c, second);
	wc_zero(&c, 2);
	wc_u32(&c, num);
	wc_zero(&c, 8);
	wc_bytes(&c, hmac, WIRE_CTRL_HMAC_LEN);
	return enc_end(&c, 32);
}

static int short_decode(const uint8_t *buf, size_t len, const void *m, uint8_t *first,
			uint8_t *second, uint32_t *num, uint8_t *hmac)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, 32, &c);

	if (rc)
		return rc;
	*first = rc_u8(&c);
	*second = rc_u8(&c);
	rc_skip(&c, 2);
	*num = rc_u32(&c);
	rc_skip(&c, 8);
	rc_bytes(&c, hmac, WIRE_CTRL_HMAC_LEN);
	return dec_end(&c);
}

int wire_start_sessions_encode(const struct wire_start_sessions *m, uint8_t *buf, size_t cap)
{
	return short_encode(WIRE_CMD_START_SESSIONS, 0, 0, m ? m->hmac : NULL, buf, cap);
}

int wire_start_sessions_decode(const uint8_t *buf, size_t len, struct wire_start_sessions *m)
{
	uint8_t first, second;
	uint32_t num;
	int rc = short_decode(buf, len, m, &first, &second, &num, m ? m->hmac : NULL);

	if (rc)
		return rc;
	return first == WIRE_CMD_START_SESSIONS ? 0 : -EBADMSG;
}

int wire_start_ack_encode(const struct wire_start_ack *m, uint8_t *buf, size_t cap)
{
	return short_encode(m ? m->accept : 0, 0, 0, m ? m->hmac : NULL, buf, cap);
}

int wire_start_ack_decode(const uint8_t *buf, size_t len, struct wire_start_ack *m)
{
	uint8_t first, second;
	uint32_t num;
	int rc = short_decode(buf, len, m, &first, &second, &num, m ? m->hmac : NULL);

	if (rc)
		return rc;
	m->accept = wire_accept_normalize(first);
	return 0;
}

int wire_stop_sessions_encode(const struct wire_stop_sessions *m, uint8_t *buf, size_t cap)
{
	return short_encode(WIRE_CMD_STOP_SESSIONS, m ? m->accept : 0, m ? m->num_sessions : 0,
			    m ? m->hmac : NULL, buf, cap);
}

int wire_stop_sessions_decode(const uint8_t *buf, size_t len, struct wire_stop_sessions *m)
{
	uint8_t first, second;
	int rc = short_decode(buf, len, m, &first, &second, m ? &m->num_sessions : NULL,
			      m ? m->hmac : NULL);

	if (rc)
		return rc;
	if (first != WIRE_CMD_STOP_SESSIONS)
		return -EBADMSG;
	m->accept = wire_accept_normalize(second);
	return 0;
}

static bool n_cmd_valid(uint8_t cmd)
{
	return cmd >= WIRE_CMD_START_N_SESSIONS && cmd <= WIRE_CMD_STOP_N_ACK;
}

static bool n_cmd_is_ack(uint8_t cmd)
{
	return cmd == WIRE_CMD_START_N_ACK || cmd == WIRE_CMD_STOP_N_ACK;
}

int wire_n_sessions_encode(const struct wire_n_sessions *m, uint8_t *buf, size_t cap)
{
	struct wcursor c;

	if (!m || !buf)
		return -EINVAL;
	if (!n_cmd_valid(m->cmd) || m->n == 0 || m->n > WIRE_NSESSIONS_MAX)
		return -EINVAL;
	size_t need = WIRE_NSESSIONS_LEN(m->n);
	int rc = enc_begin(m, buf, cap, need, &c);
	if (rc)
		return rc;
	wc_u8(&c, m->cmd);
	wc_u8(&c, n_cmd_is_ack(m->cmd) ? m->accept : 0);
	wc_zero(&c, 10);
	wc_u32(&c, m->n);
	for (uint32_t i = 0; i < m->n; i++)
		wc_bytes(&c, m->sids[i], WIRE_SID_LEN);
	wc_bytes(&c, m->hmac, WIRE_CTRL_HMAC_LEN);
	return enc_end(&c, need);
}

int wire_n_sessions_decode(const uint8_t *buf, size_t len, struct wire_n_sessions *m)
{
	struct rcursor c;
	int rc = dec_begin(buf, len, m, WIRE_CTRL_BLOCK, &c);

	if (rc)
		return rc;
	m->cmd = rc_u8(&c);
	uint8_t second = rc_u8(&c);
	rc_skip(&c, 10);
	m->n = rc_u32(&c);
	if (!n_cmd_valid(m->cmd) || m->n == 0 || m->n > WIRE_NSESSIONS_MAX)
		return -EBADMSG;
	m->accept = n_cmd_is_ack(m->cmd) ? wire_accept_normalize(second) : 0;

	size_t need = WIRE_NSESSIONS_LEN(m->n);
	if (len < need)
		return -EBADMSG;
	rc_init(&c, buf + WIRE_CTRL_BLOCK, need - WIRE_CTRL_BLOCK);
	for (uint32_t i = 0; i < m->n; i++)
		rc_bytes(&c, m->sids[i], WIRE_SID_LEN);
	rc_bytes(&c, m->hmac, WIRE_CTRL_HMAC_LEN);
	return dec_end(&c);
}
