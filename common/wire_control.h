/*
 * TWAMP-Control message codecs (RFC 5357 §3, RFC 4656 §3; RFC 5938 §3,
 * RFC 6038 §4; spec twamp-control.md §2-§9).
 *
 * Pure encode/decode between (buffer, length) and host-order structs: no
 * sockets, clocks, randomness, allocation or logging.  Every message from
 * Server-Start on is a whole number of 16-octet blocks; the codecs work on
 * plaintext, and the caller applies the control stream cipher (crypto.h)
 * to the encoded buffer before sending and after receiving.  HMAC fields
 * are carried as 16 opaque octets (zero in unauthenticated mode, F6).
 *
 * Encoders return the message length (> 0), -ENOSPC when cap is too
 * small, -EINVAL on NULL pointers or a value that cannot be encoded.
 * Decoders return 0, -EBADMSG when len is below the message length or a
 * field makes the message unparseable (wrong Command Number, N out of
 * range), -EINVAL on NULL pointers.  Octets after the message are not
 * examined.  MBZ octets are written as zeros and ignored on receive
 * (RFC 4656 §3.1).  Accept values above 5 decode as 1 (RFC 4656 §3.3,
 * checklist E23).
 */
#ifndef TK_WIRE_CONTROL_H
#define TK_WIRE_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tstamp.h"
#include "wire_test.h"

#define WIRE_CTRL_BLOCK 16
#define WIRE_GREETING_LEN 64
#define WIRE_SETUP_RESPONSE_LEN 164
#define WIRE_SERVER_START_LEN 48
#define WIRE_SERVER_START_CLEAR 32       /* octets 32-47 are encrypted (D18) */
#define WIRE_REQUEST_SESSION_LEN 112
#define WIRE_ACCEPT_SESSION_LEN 48
#define WIRE_START_SESSIONS_LEN 32
#define WIRE_START_ACK_LEN 32
#define WIRE_STOP_SESSIONS_LEN 32
#define WIRE_CTRL_HMAC_LEN 16
#define WIRE_KEYID_LEN 80
#define WIRE_TOKEN_LEN 64
#define WIRE_SID_LEN 16
#define WIRE_NSESSIONS_MAX 64            /* our bound on N in the RFC 5938 messages */
#define WIRE_NSESSIONS_LEN(n) (32 + 16 * (size_t)(n))
#define WIRE_CTRL_MAX_LEN WIRE_NSESSIONS_LEN(WIRE_NSESSIONS_MAX)

/* PBKDF2 Count limits (RFC 4656 §3.1, RFC 5357 §6). */
#define WIRE_COUNT_MIN 1024
#define WIRE_COUNT_DEFAULT_MAX 32768

/* Modes bits (spec §2, checklist G1). */
#define WIRE_MODE_OPEN            0x001u  /* unauthenticated */
#define WIRE_MODE_AUTH            0x002u
#define WIRE_MODE_ENC             0x004u
#define WIRE_MODE_MIXED           0x008u  /* RFC 5618: encrypted control, open test */
#define WIRE_MODE_ISC             0x010u  /* RFC 5938 Individual Session Control */
#define WIRE_MODE_REFLECT_OCTETS  0x020u  /* RFC 6038 */
#define WIRE_MODE_SYMMETRICAL     0x040u  /* RFC 6038 Symmetrical Size */
#define WIRE_MODE_IKEV2           0x080u  /* RFC 7717 */
#define WIRE_MODE_DSCP_ECN        0x100u  /* RFC 7750 */
#define WIRE_MODE_PTPV2           0x200u  /* RFC 8186 */
#define WIRE_MODE_SECURITY_MASK   0x00fu
#define WIRE_MODE_KNOWN_MASK      0x3ffu

/* Accept values (RFC 4656 §3.3). */
enum wire_accept {
	WIRE_ACCEPT_OK = 0,
	WIRE_ACCEPT_FAILURE = 1,
	WIRE_ACCEPT_INTERNAL = 2,
	WIRE_ACCEPT_NOT_SUPPORTED = 3,
	WIRE_ACCEPT_PERMANENT = 4,   /* permanent resource limitation */
	WIRE_ACCEPT_TEMPORARY = 5,   /* temporary resource limitation */
};

/* Command Numbers (RFC 5357 §8.4, RFC 5938 §3). */
enum wire_cmd {
	WIRE_CMD_RESERVED = 0,
	WIRE_CMD_FORBIDDEN = 1,          /* OWAMP Request-Session */
	WIRE_CMD_START_SESSIONS = 2,
	WIRE_CMD_STOP_SESSIONS = 3,
	WIRE_CMD_FETCH_SESSION = 4,      /* reserved in TWAMP */
	WIRE_CMD_REQUEST_TW_SESSION = 5,
	WIRE_CMD_EXPERIMENTATION = 6,
	WIRE_CMD_START_N_SESSIONS = 7,
	WIRE_CMD_START_N_ACK = 8,
	WIRE_CMD_STOP_N_SESSIONS = 9,
	WIRE_CMD_STOP_N_ACK = 10,
};

/* Any received value above 5 counts as 1, "failure" (E23). */
uint8_t wire_accept_normalize(uint8_t v);
/* "ok", "failure", ...; reserved values name as "failure". */
const char *wire_accept_name(uint8_t v);
/* "Start-Sessions", ...; "unknown" otherwise. */
const char *wire_cmd_name(uint8_t cmd);
/* Name of one mode bit ("open", "auth", "enc", "mixed", "isc", ...), or NULL. */
const char *wire_mode_name(uint32_t bit);
/*
 * Writes the names of the bits of modes joined by '|' (unknown bits as
 * "0x..."; "none" for 0) into buf, truncating as snprintf does.  Returns buf.
 */
const char *wire_modes_str(uint32_t modes, char *buf, size_t size);

/*
 * True when mode is an acceptable Set-Up-Response Mode for a greeting that
 * offered offered: exactly one security bit among bits 0-3, and every bit
 * set was offered (RFC 4656 §3.1, RFC 5618 §3.1, RFC 6038 §4.1; D9, G10).
 */
bool wire_mode_valid(uint32_t mode, uint32_t offered);

/* Test-packet security of a control mode: mixed and open -> OPEN (F7). */
enum wire_security wire_mode_test_security(uint32_t mode);

/* True when mode encrypts the control stream (auth, enc or mixed). */
bool wire_mode_encrypts_control(uint32_t mode);

/* Count is a power of two, >= 1024 and <= max_count (D3, D4). */
bool wire_count_valid(uint32_t count, uint32_t max_count);

/*
 * Length of a client (or N-ack) message from its first 16 octets: 112 for
 * Request-TW-Session, 32 for Start-/Stop-Sessions, 32 + 16N for Start-N-
 * Sessions, Start-N-Ack, Stop-N-Sessions, Stop-N-Ack (RFC 4656 §6.10).
 * -EBADMSG for any other Command Number or N outside 1..WIRE_NSESSIONS_MAX,
 * -EINVAL when block is NULL or len < 16.
 */
int wire_ctrl_msg_len(const uint8_t *block, size_t len);

/*
 * SID = IPv4 address (4, network order octets) + NTP timestamp (8) +
 * random value (4) (RFC 4656 §3.5, checklist E11).  The caller supplies the
 * address, the time and 4 random octets.
 */
void wire_sid_make(uint8_t sid[WIRE_SID_LEN], const uint8_t ipv4[4], ntp64_t now,
		   const uint8_t rnd[4]);

/*
 * KeyID field helpers: id[0..len) goes in, zero-padded to 80 octets
 * (-EINVAL when len > 80 or id holds a NUL); the length is the field up to
 * its first zero octet.
 */
int wire_keyid_set(uint8_t field[WIRE_KEYID_LEN], const void *id, size_t len);
size_t wire_keyid_len(const uint8_t field[WIRE_KEYID_LEN]);

/*
 * Type-P Descriptor (RFC 4656 §3.5, RFC 5357 §3.5, checklist E7): format
 * bits 00 and a DSCP in the next 6 bits, i.e. DSCP << 24.
 */
uint32_t wire_type_p_from_dscp(uint8_t dscp);  /* dscp & 0x3f */
/*
 * The DSCP of a Type-P Descriptor; -ENOTSUP when the format bits are not
 * 00 (PHB ID, reserved) or the low 24 bits are not zero: the Server answers
 * those with Accept 3.
 */
int wire_type_p_dscp(uint32_t type_p, uint8_t *dscp);

/*
 * Server Greeting (RFC 4656 §3.1), 64 octets, server -> client, clear:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Unused (12 octets)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                            Modes                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Challenge (16 octets)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        Salt (16 octets)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                              Count                            |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        MBZ (12 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
struct wire_greeting {
	uint32_t modes;
	uint8_t challenge[16];
	uint8_t salt[16];
	uint32_t count;
};

int wire_greeting_encode(const struct wire_greeting *m, uint8_t *buf, size_t cap);
int wire_greeting_decode(const uint8_t *buf, size_t len, struct wire_greeting *m);

/*
 * Set-Up-Response (RFC 4656 §3.1), 164 octets, client -> server, clear
 * (the Token is encrypted with the PBKDF2 key, crypto_token_encrypt()):
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                             Mode                              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  KeyID (80 octets, UTF-8, zero-padded)        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Token (64 octets)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Client-IV (16 octets)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * KeyID octets are carried as they are (the field is opaque here).
 */
struct wire_setup_response {
	uint32_t mode;
	uint8_t keyid[WIRE_KEYID_LEN];
	uint8_t token[WIRE_TOKEN_LEN];
	uint8_t client_iv[16];
};

int wire_setup_response_encode(const struct wire_setup_response *m, uint8_t *buf, size_t cap);
int wire_setup_response_decode(const uint8_t *buf, size_t len, struct wire_setup_response *m);

/*
 * Server-Start (RFC 4656 §3.1), 48 octets; in auth/enc/mixed mode with
 * Accept 0 the last block is the first block of the server's CBC stream:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         MBZ (15 octets)                       |
 * +                                               +-+-+-+-+-+-+-+-+
 * |                                               |   Accept      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Server-IV (16 octets)                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   Start-Time (NTP, 8 octets)                  |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         MBZ (8 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
struct wire_server_start {
	uint8_t accept;
	uint8_t server_iv[16];
	ntp64_t start_time;
};

int wire_server_start_encode(const struct wire_server_start *m, uint8_t *buf, size_t cap);
int wire_server_start_decode(const uint8_t *buf, size_t len, struct wire_server_start *m);

/*
 * Request-TW-Session (RFC 5357 §3.5; Reflect Octets fields RFC 6038 §4.2),
 * 112 octets, client -> server:
 *
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      5        |  MBZ  | IPVN  |  Conf-Sender  | Conf-Receiver |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                  Number of Schedule Slots                     |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Number of Packets                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |          Sender Port          |         Receiver Port         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |        Sender Address (4 octets IPv4 + 12 MBZ, or IPv6)       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |       Receiver Address (4 octets IPv4 + 12 MBZ, or IPv6)      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       SID (16 octets)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                         Padding Length                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                     Start Time (NTP, 8 octets)                |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Timeout (NTP, 8 octets)                 |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       Type-P Descriptor                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |     Octets to be reflected    |  Length of padding to reflect |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          MBZ (4 octets)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       HMAC (16 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Octets 88-91 are MBZ unless Reflect Octets (mode bit 5) was selected;
 * the codec carries them either way and the caller ignores them when the
 * mode is off.  With IPVN 4 only the first 4 octets of each address are
 * read and the other 12 are written as zeros (E5); with any other IPVN
 * all 16 octets are carried.  Field checks that lead to Accept 3 (conf
 * values, slots, IPVN, Type-P) are wire_request_check()'s job, not the
 * decoder's.
 */
struct wire_request_session {
	uint8_t ipvn;                    /* 4 or 6 (low 4 bits of octet 1) */
	uint8_t conf_sender;             /* MUST be 0 */
	uint8_t conf_receiver;           /* MUST be 0 */
	uint32_t schedule_slots;         /* MUST be 0 */
	uint32_t packets;                /* MUST be 0 */
	uint16_t sender_port;
	uint16_t receiver_port;
	uint8_t sender_addr[16];         /* IPv4: first 4 octets; all zero = control peer */
	uint8_t receiver_addr[16];
	uint8_t sid[WIRE_SID_LEN];       /* MUST be 0 */
	uint32_t padding_length;
	ntp64_t start_time;
	ntp64_t timeout;                 /* NTP-format interval */
	uint32_t type_p;                 /* raw; see wire_type_p_dscp() */
	uint16_t octets_to_reflect;      /* RFC 6038 */
	uint16_t reflect_padding_len;    /* RFC 6038: Length of padding to reflect */
	uint8_t hmac[WIRE_CTRL_HMAC_LEN];
};

int wire_request_session_encode(const struct wire_request_session *m, uint8_t *buf, size_t cap);
/* -EBADMSG also when octet 0 is not 5. */
int wire_request_session_decode(const uint8_t *buf, size_t len, struct wire_request_session *m);

/*
 * Server-side field checks of RFC 5357 §3.5 (and the conservative ones of
 * spec §6): WIRE_ACCEPT_NOT_SUPPORTED when Conf-Sender/Conf-Receiver,
 * Schedule Slots or Number of Packets are non-zero, IPVN is not 4 or 6, or
 * Type-P is not a plain DSCP (E2, E3, E7); WIRE_ACCEPT_OK otherwise.
 */
enum wire_accept wire_request_check(const struct wire_request_session *m);

/*
 * Accept-Session (RFC 5357 §3.5; Reflect Octets RFC 6038 §4.3), 48 octets,
 * server -> client:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |    Accept     |  MBZ          |            Port               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        SID (16 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      Reflected octets         |        Server octets          |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                          MBZ (8 octets)                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       HMAC (16 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Octets 20-23 are MBZ without Reflect Octets; carried either way.
 */
struct wire_accept_session {
	uint8_t accept;                  /* normalized on decode */
	uint16_t port;
	uint8_t sid[WIRE_SID_LEN];
	uint16_t reflected_octets;       /* RFC 6038 */
	uint16_t server_octets;          /* RFC 6038 */
	uint8_t hmac[WIRE_CTRL_HMAC_LEN];
};

int wire_accept_session_encode(const struct wire_accept_session *m, uint8_t *buf, size_t cap);
int wire_accept_session_decode(const uint8_t *buf, size_t len, struct wire_accept_session *m);

/*
 * Start-Sessions (RFC 4656 §3.7), 32 octets, client -> server; Start-Ack
 * the same with Accept in octet 0 instead of the Command Number:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  2 / Accept   |                                               |
 * +-+-+-+-+-+-+-+-+        MBZ (15 octets)                        +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       HMAC (16 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 */
struct wire_start_sessions {
	uint8_t hmac[WIRE_CTRL_HMAC_LEN];
};

int wire_start_sessions_encode(const struct wire_start_sessions *m, uint8_t *buf, size_t cap);
/* -EBADMSG also when octet 0 is not 2. */
int wire_start_sessions_decode(const uint8_t *buf, size_t len, struct wire_start_sessions *m);

struct wire_start_ack {
	uint8_t accept;                  /* normalized on decode */
	uint8_t hmac[WIRE_CTRL_HMAC_LEN];
};

int wire_start_ack_encode(const struct wire_start_ack *m, uint8_t *buf, size_t cap);
int wire_start_ack_decode(const uint8_t *buf, size_t len, struct wire_start_ack *m);

/*
 * Stop-Sessions, TWAMP form (RFC 5357 §3.8), 32 octets, client -> server,
 * no session records:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |      3        |    Accept     |              MBZ              |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                      Number of Sessions                       |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                        MBZ (8 octets)                         |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       HMAC (16 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Whether Number of Sessions matches the started sessions (E18) is the
 * server's check; the decoder takes any value, 0 included (twampy sends 0).
 */
struct wire_stop_sessions {
	uint8_t accept;                  /* normalized on decode */
	uint32_t num_sessions;
	uint8_t hmac[WIRE_CTRL_HMAC_LEN];
};

int wire_stop_sessions_encode(const struct wire_stop_sessions *m, uint8_t *buf, size_t cap);
/* -EBADMSG also when octet 0 is not 3. */
int wire_stop_sessions_decode(const uint8_t *buf, size_t len, struct wire_stop_sessions *m);

/*
 * Start-N-Sessions (7), Start-N-Ack (8), Stop-N-Sessions (9), Stop-N-Ack
 * (10) (RFC 5938 §3.2-§3.5), 32 + 16N octets:
 *
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |  Command      | MBZ / Accept  |                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+     MBZ (10 octets)           +
 * |                                                               |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                   Number of Sessions (N)                      |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                    SID 1 ... SID N (16 octets each)           |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 * |                       HMAC (16 octets)                        |
 * +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Octet 1 is Accept in the acks (8, 10) and MBZ in the commands (7, 9,
 * decoded as 0).  N must be 1..WIRE_NSESSIONS_MAX (G2): -EINVAL on encode,
 * -EBADMSG on decode otherwise.
 */
struct wire_n_sessions {
	uint8_t cmd;                     /* WIRE_CMD_START_N_SESSIONS ... WIRE_CMD_STOP_N_ACK */
	uint8_t accept;                  /* acks only; normalized on decode */
	uint32_t n;
	uint8_t sids[WIRE_NSESSIONS_MAX][WIRE_SID_LEN];
	uint8_t hmac[WIRE_CTRL_HMAC_LEN];
};

int wire_n_sessions_encode(const struct wire_n_sessions *m, uint8_t *buf, size_t cap);
/* -EBADMSG also when octet 0 is not 7, 8, 9 or 10. */
int wire_n_sessions_decode(const uint8_t *buf, size_t len, struct wire_n_sessions *m);

#endif
