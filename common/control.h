/*
 * TWAMP-Control state machines, both ends (RFC 5357 §3, RFC 4656 §3,
 * RFC 5618, RFC 5938, RFC 6038, RFC 7750; spec twamp-control.md §13).
 *
 * Pure protocol logic over byte streams: no sockets, no logging, no
 * exits.  The program reads from its TCP socket at most ctrl_*_want()
 * octets, hands them to ctrl_*_feed(), and writes what ctrl_*_output()
 * holds.  Framing follows RFC 4656 §6.10: after the clear set-up messages,
 * a message is read one 16-octet block first, decrypted (auth, enc and
 * mixed modes), and its length learnt from that block; the rest is then
 * read, decrypted, and its HMAC checked before any field is used (F5).
 * The CBC streams and HMAC chains of both directions live in struct
 * ctrl_chan and persist across messages (F2, F4).
 *
 * Randomness and the clock reach the state machines through ops, so the
 * unit tests can replay the known-answer vectors byte for byte; NULL ops
 * mean crypto_random() and the realtime clock.
 *
 * Memory: everything of a connection is inside its struct (about 4 KiB)
 * plus a session array allocated on the first Request-TW-Session; keys
 * are wiped when the struct is freed.
 */
#ifndef TK_CONTROL_H
#define TK_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "crypto.h"
#include "tstamp.h"
#include "wire_control.h"
#include "wire_test.h"

#define CTRL_IN_CAP WIRE_CTRL_MAX_LEN      /* longest message read: Start-N for 64 SIDs */
#define CTRL_OUT_CAP 2560                  /* room for the replies to one message, twice over */
#define CTRL_OUT_RESERVE 1184              /* most one message can produce (64 SIDs in acks) */
#define CTRL_WHY_LEN 200

/* Randomness and time, injectable for known-answer tests. */
struct ctrl_env {
	int (*random)(void *arg, void *buf, size_t len);  /* 0 or -errno; NULL: crypto_random */
	int64_t (*now_ns)(void *arg);                     /* Unix ns; NULL: ts_realtime_ns */
	void *arg;
};

/*
 * One connection's framing and cryptography.  keyed is set once the
 * set-up succeeded in auth, enc or mixed mode; the streams and chains are
 * then live until ctrl_chan_free().
 */
struct ctrl_chan {
	bool keyed;
	struct crypto_stream tx, rx;
	struct crypto_hmac_chain tx_mac, rx_mac;
	uint8_t in[CTRL_IN_CAP];
	size_t in_len;         /* octets of the current message received */
	size_t in_need;        /* its length, or the next boundary while unknown */
	bool in_known;         /* in_need is the message length (first block seen) */
	uint8_t out[CTRL_OUT_CAP];
	size_t out_len;
};

/* ---------------------------------------------------------------- server */

enum ctrl_server_state {
	CTRL_SRV_SETUP = 0,    /* greeting queued; waiting for Set-Up-Response */
	CTRL_SRV_READY,        /* Request-TW-Session, Start(-N) accepted */
	CTRL_SRV_ACTIVE,       /* non-ISC sessions started: only Stop-Sessions (E20) */
	CTRL_SRV_CLOSED,       /* flush the output, then close the connection */
};

/* Why a connection ended, for counters and tests. */
enum ctrl_close_reason {
	CTRL_CLOSE_NONE = 0,
	CTRL_CLOSE_PEER,       /* client closed, or the program closed it (ctrl_server_close) */
	CTRL_CLOSE_GAVE_UP,    /* Set-Up-Response Mode 0 */
	CTRL_CLOSE_REJECTED,   /* Server-Start Accept != 0 */
	CTRL_CLOSE_HMAC,       /* HMAC check failed (F5) */
	CTRL_CLOSE_PROTOCOL,   /* unknown command, command out of state, wrong Stop count */
	CTRL_CLOSE_INTERNAL,   /* OpenSSL or allocation failure */
	CTRL_CLOSE_NREASONS
};

const char *ctrl_close_reason_name(enum ctrl_close_reason r);

/* A session the server accepted (spec §6, §7). */
struct ctrl_session {
	uint8_t sid[WIRE_SID_LEN];
	int handle;            /* the program's, from session_request */
	int64_t timeout_ns;    /* Request Timeout, clamped to max_timeout_ns */
	bool started;
	uint8_t user_flags;    /* the program's; never read here */
};

/* What the program is asked to set up for one Request-TW-Session. */
struct ctrl_session_setup {
	const struct wire_request_session *req;   /* decoded and checked */
	uint8_t sid[WIRE_SID_LEN];
	uint32_t mode;                            /* the connection's Mode (feature bits apply) */
	enum wire_security sec;                   /* test-packet security (mixed -> OPEN, F7) */
	uint8_t test_aes[CRYPTO_AES_KEY_LEN];     /* AUTH/ENC: test keys for this SID (C21) */
	uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN];
	uint8_t dscp;                             /* from Type-P (E7) */
	int64_t timeout_ns;
};

struct ctrl_server;

/*
 * The program's side.  session_request reserves the reflector session
 * (socket on a test port) and returns the Accept value: on 0 it sets
 * *handle and *port; otherwise it writes the reason into why.  The other
 * callbacks cannot fail.  session_stop hands a started session over to
 * its Timeout (reflect for timeout_ns more, then end; C22, C23);
 * session_release frees a session that never started.  log receives one
 * line per notable event, with a log level of log.h (0 err .. 4 debug).
 */
struct ctrl_server_ops {
	enum wire_accept (*session_request)(void *arg, struct ctrl_server *s,
					    const struct ctrl_session_setup *setup, int *handle,
					    uint16_t *port, char *why, size_t why_len);
	void (*session_start)(void *arg, struct ctrl_server *s, int handle);
	void (*session_stop)(void *arg, struct ctrl_server *s, int handle, int64_t timeout_ns);
	void (*session_release)(void *arg, struct ctrl_server *s, int handle);
	void (*log)(void *arg, struct ctrl_server *s, int level, const char *msg);
};

struct ctrl_server_params {
	uint32_t modes;                          /* offered: security and feature bits */
	uint32_t count;                          /* PBKDF2 Count of the greeting (D3) */
	const struct crypto_keyfile *keys;       /* KeyID -> secret; NULL: no keyed mode works */
	ntp64_t start_time;                      /* of this server instance (D17) */
	uint8_t sid_addr[4];                     /* IPv4 address in every SID (E11) */
	size_t max_sessions;                     /* per connection, 1..WIRE_NSESSIONS_MAX */
	int64_t max_timeout_ns;                  /* clamp for the Request Timeout */
};

struct ctrl_server {
	enum ctrl_server_state state;
	enum ctrl_close_reason close_reason;
	struct ctrl_server_params p;
	const struct ctrl_server_ops *ops;
	void *arg;                               /* for ops */
	struct ctrl_env env;
	struct ctrl_chan ch;
	uint8_t challenge[16];
	uint8_t salt[16];
	uint32_t mode;                           /* chosen by the client */
	struct crypto_session_keys keys;         /* from the Token (keyed modes) */
	char keyid[WIRE_KEYID_LEN + 1];          /* printable copy for logs */
	struct ctrl_session *sessions;           /* max_sessions entries, allocated on demand */
	size_t n_sessions;
	uint64_t requests, accepted, rejected;   /* Request-TW-Session counters */
};

/*
 * Queues the Server Greeting (D2, D5: fresh Challenge and Salt).  s must
 * not be live; free it with ctrl_server_free() even after an error.
 * params->modes without any security bit queues a Modes = 0 greeting
 * ("will not talk"), after which the state is CLOSED.  0, -EINVAL, -EIO.
 */
int ctrl_server_init(struct ctrl_server *s, const struct ctrl_server_params *params,
		     const struct ctrl_server_ops *ops, void *arg, const struct ctrl_env *env);

/* Octets to read next; 0 when closed or while the output backlog is large. */
size_t ctrl_server_want(const struct ctrl_server *s);

/*
 * Consumes data[0..len) as far as it can (all of it unless the state
 * machine stops reading, see want); *used says how much.  Returns 0; the
 * connection is to be closed once s->state is CTRL_SRV_CLOSED and the
 * output is written.
 */
int ctrl_server_feed(struct ctrl_server *s, const uint8_t *data, size_t len, size_t *used);

/* The queued output (NULL/0 when empty); drop n written octets with output_done. */
const uint8_t *ctrl_server_output(const struct ctrl_server *s, size_t *len);
void ctrl_server_output_done(struct ctrl_server *s, size_t n);

/* Started sessions not yet stopped: SERVWAIT is suspended while > 0 (E21). */
size_t ctrl_server_running(const struct ctrl_server *s);

/*
 * The program ends the connection (peer closed, SERVWAIT, shutdown):
 * started sessions go to their Timeout, the others are released.  why is
 * logged; state becomes CLOSED.  Idempotent.
 */
void ctrl_server_close(struct ctrl_server *s, enum ctrl_close_reason reason, const char *why);

/* Releases every session (as ctrl_server_close) and wipes the keys. */
void ctrl_server_free(struct ctrl_server *s);

/* ---------------------------------------------------------------- client */

enum ctrl_client_state {
	CTRL_CLI_GREETING = 0,   /* waiting for the Server Greeting */
	CTRL_CLI_SERVER_START,   /* Set-Up-Response queued; waiting for Server-Start */
	CTRL_CLI_READY,          /* may request, start, stop */
	CTRL_CLI_WAIT,           /* waiting for a reply (Accept-Session, Start-Ack, N-Ack) */
	CTRL_CLI_CLOSED,
};

/* What a completed server message was (ctrl_client_feed's return value). */
enum ctrl_client_event {
	CTRL_EV_NONE = 0,        /* need more input */
	CTRL_EV_GREETING,        /* Set-Up-Response queued */
	CTRL_EV_SERVER_START,    /* connection set up (Accept 0) */
	CTRL_EV_ACCEPT_SESSION,  /* c->accept holds it */
	CTRL_EV_START_ACK,       /* c->ack_accept */
	CTRL_EV_N_ACK,           /* c->n_ack holds a Start-N-Ack or Stop-N-Ack */
};

struct ctrl_client_params {
	uint32_t want_mode;          /* one security bit (-A), or 0: the strongest offered */
	uint32_t want_features;      /* ISC, Reflect Octets, Symmetrical, DSCP-ECN: used when offered */
	const uint8_t *keyid;        /* KeyID octets (keyed modes) */
	size_t keyid_len;
	const uint8_t *secret;       /* shared secret; NULL: open and nothing else */
	size_t secret_len;
	uint32_t max_count;          /* refuse greetings above it (D4); 0: 32768 */
};

struct ctrl_client {
	enum ctrl_client_state state;
	uint8_t wait_cmd;                        /* internal: reply awaited in WAIT */
	struct ctrl_client_params p;
	struct ctrl_env env;
	struct ctrl_chan ch;
	struct wire_greeting greeting;
	uint32_t mode;                           /* chosen Mode (security + features) */
	struct crypto_session_keys keys;
	ntp64_t server_start_time;
	struct wire_accept_session accept;       /* last Accept-Session */
	uint8_t ack_accept;                      /* last Start-Ack */
	struct wire_n_sessions n_ack;            /* last Start-N-Ack / Stop-N-Ack */
	uint32_t n_pending;                      /* SIDs of the Start-N/Stop-N not yet acked */
	char why[CTRL_WHY_LEN];                  /* reason of the last error */
};

/* c must not be live.  0 or -EINVAL (keyed mode demanded without a secret, bad lengths). */
int ctrl_client_init(struct ctrl_client *c, const struct ctrl_client_params *params,
		     const struct ctrl_env *env);

/* Octets to read next (0: nothing expected now). */
size_t ctrl_client_want(const struct ctrl_client *c);

/*
 * Consumes data[0..len) up to the end of one server message (*used).
 * Returns an event (> 0) when a message completed, CTRL_EV_NONE when more
 * is needed, or a negative error with c->why set, after which the
 * connection is to be closed (the state is CLOSED):
 *   -ECONNREFUSED  greeting Modes 0, or Server-Start / Start-Ack Accept != 0
 *   -ENOTSUP       no acceptable mode offered (a Mode 0 Set-Up-Response is
 *                  queued: send it, then close; D10)
 *   -ERANGE        greeting Count invalid or above max_count (D4)
 *   -EBADMSG       HMAC failure (F5) or a malformed message
 *   -EIO           OpenSSL failure
 */
int ctrl_client_feed(struct ctrl_client *c, const uint8_t *data, size_t len, size_t *used);

/* Queue one command (state READY); each then waits for its reply, Stop-Sessions excepted. */
int ctrl_client_request(struct ctrl_client *c, const struct wire_request_session *req);
int ctrl_client_start(struct ctrl_client *c);
int ctrl_client_stop(struct ctrl_client *c, uint32_t n_sessions, uint8_t accept);
/* RFC 5938 (only when ISC was selected): n SIDs, 1..WIRE_NSESSIONS_MAX. */
int ctrl_client_start_n(struct ctrl_client *c, const uint8_t (*sids)[WIRE_SID_LEN], uint32_t n);
int ctrl_client_stop_n(struct ctrl_client *c, const uint8_t (*sids)[WIRE_SID_LEN], uint32_t n);

const uint8_t *ctrl_client_output(const struct ctrl_client *c, size_t *len);
void ctrl_client_output_done(struct ctrl_client *c, size_t n);

/* Test keys of a session of this connection (keyed modes; C21).  0, -EINVAL, -EIO. */
int ctrl_client_test_keys(const struct ctrl_client *c, const uint8_t sid[WIRE_SID_LEN],
			  uint8_t test_aes[CRYPTO_AES_KEY_LEN],
			  uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN]);

void ctrl_client_free(struct ctrl_client *c);

/* ---------------------------------------------------------------- shared */

/*
 * The Modes bit of a security name ("open", "auth"/"authenticated",
 * "enc"/"encrypted", "mixed"); 0 when unknown.
 */
uint32_t ctrl_mode_parse(const char *name);

/*
 * A comma-separated list of mode or feature names (open, auth, enc, mixed,
 * isc, reflect-octets, symmetrical, dscp-ecn; "none" alone = 0) into bits.
 * 0 or -EINVAL with *bad pointing at the first unknown name (static copy).
 */
int ctrl_modes_parse_list(const char *list, uint32_t *bits, const char **bad);

/* Padding the sender must add after the header so RFC 6038 works (spec §6.1). */
size_t ctrl_min_padding(enum wire_security sec, uint32_t mode, uint16_t reflect_len);

/* Request Timeout (NTP-format interval) in ns, saturating. */
int64_t ctrl_timeout_ns(ntp64_t t);
ntp64_t ctrl_timeout_ntp(int64_t ns);

#endif
