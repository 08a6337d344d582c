/*
 * TWAMP-Control state machines (see control.h).
 *
 * Both ends share the framing of struct ctrl_chan: the clear set-up
 * messages have fixed lengths; every later message is read block by block,
 * the first block decrypted before its length is known (RFC 4656 §6.10).
 * Sending computes the HMAC over the plaintext with the running chain and
 * then encrypts the whole message, HMAC included, continuing the CBC
 * stream (spec §11.3-§11.4).  The server's first HMAC also covers the
 * Start-Time block of Server-Start, which is why that block is fed into
 * the transmit chain without finishing it (F3).
 *
 * Failures the peer caused are answered as the RFCs say (Server-Start or
 * Accept-Session with a non-zero Accept, or closing) and described in one
 * log line naming the Accept value and the reason; they are never errors
 * of the API.
 */
#include "control.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

#define SEC_BITS WIRE_MODE_SECURITY_MASK
#define FEATURE_BITS \
	(WIRE_MODE_ISC | WIRE_MODE_REFLECT_OCTETS | WIRE_MODE_SYMMETRICAL | WIRE_MODE_DSCP_ECN)

/* ------------------------------------------------------------------ env */

static int env_random(const struct ctrl_env *e, void *buf, size_t len)
{
	if (e->random)
		return e->random(e->arg, buf, len);
	return crypto_random(buf, len);
}

static int64_t env_now(const struct ctrl_env *e)
{
	return e->now_ns ? e->now_ns(e->arg) : ts_realtime_ns();
}

/* ------------------------------------------------------------------ chan */

static void chan_free(struct ctrl_chan *ch)
{
	crypto_stream_free(&ch->tx);
	crypto_stream_free(&ch->rx);
	crypto_hmac_chain_free(&ch->tx_mac);
	crypto_hmac_chain_free(&ch->rx_mac);
	ch->keyed = false;
	crypto_wipe(ch->in, sizeof(ch->in));
	crypto_wipe(ch->out, sizeof(ch->out));
}

static int chan_keys(struct ctrl_chan *ch, const struct crypto_session_keys *k,
		     const uint8_t tx_iv[16], const uint8_t rx_iv[16])
{
	int rc = crypto_stream_init(&ch->tx, CRYPTO_ENCRYPT, k->aes, tx_iv);
	if (!rc)
		rc = crypto_stream_init(&ch->rx, CRYPTO_DECRYPT, k->aes, rx_iv);
	if (!rc)
		rc = crypto_hmac_chain_init(&ch->tx_mac, k->hmac);
	if (!rc)
		rc = crypto_hmac_chain_init(&ch->rx_mac, k->hmac);
	if (!rc)
		ch->keyed = true;
	return rc;
}

static int chan_queue(struct ctrl_chan *ch, const uint8_t *buf, size_t len)
{
	if (len > sizeof(ch->out) - ch->out_len)
		return -ENOBUFS; /* cannot happen: want() keeps CTRL_OUT_RESERVE free */
	memcpy(ch->out + ch->out_len, buf, len);
	ch->out_len += len;
	return 0;
}

/* Completes the HMAC of an encoded message (keyed modes), encrypts it and queues it. */
static int chan_send(struct ctrl_chan *ch, uint8_t *msg, size_t len)
{
	if (ch->keyed) {
		int rc = crypto_hmac_chain_feed(&ch->tx_mac, msg, len - WIRE_CTRL_HMAC_LEN);
		if (!rc)
			rc = crypto_hmac_chain_finish(&ch->tx_mac, msg + len - WIRE_CTRL_HMAC_LEN);
		if (!rc)
			rc = crypto_stream_apply(&ch->tx, msg, len);
		if (rc)
			return rc;
	}
	return chan_queue(ch, msg, len);
}

static void chan_expect(struct ctrl_chan *ch, size_t need, bool known)
{
	ch->in_len = 0;
	ch->in_need = need;
	ch->in_known = known;
}

/* Copies input up to the current boundary; true when it is reached. */
static bool chan_take(struct ctrl_chan *ch, const uint8_t *data, size_t len, size_t *off)
{
	size_t take = ch->in_need - ch->in_len;
	if (take > len - *off)
		take = len - *off;
	memcpy(ch->in + ch->in_len, data + *off, take);
	ch->in_len += take;
	*off += take;
	return ch->in_len == ch->in_need;
}

static int chan_decrypt(struct ctrl_chan *ch, size_t from, size_t to)
{
	return ch->keyed ? crypto_stream_apply(&ch->rx, ch->in + from, to - from) : 0;
}

/* HMAC check of the complete message in[0..len): 0, -EBADMSG, -EIO (F5). */
static int chan_verify(struct ctrl_chan *ch, size_t len)
{
	if (!ch->keyed)
		return 0; /* F6: ignored in unauthenticated mode */
	int rc = crypto_hmac_chain_feed(&ch->rx_mac, ch->in, len - WIRE_CTRL_HMAC_LEN);
	if (rc)
		return rc;
	return crypto_hmac_chain_verify(&ch->rx_mac, ch->in + len - WIRE_CTRL_HMAC_LEN);
}

/* ------------------------------------------------------------------ shared */

static const struct {
	const char *name;
	uint32_t bit;
} mode_names[] = {
	{ "open", WIRE_MODE_OPEN },
	{ "unauthenticated", WIRE_MODE_OPEN },
	{ "auth", WIRE_MODE_AUTH },
	{ "authenticated", WIRE_MODE_AUTH },
	{ "enc", WIRE_MODE_ENC },
	{ "encrypted", WIRE_MODE_ENC },
	{ "mixed", WIRE_MODE_MIXED },
	{ "isc", WIRE_MODE_ISC },
	{ "reflect-octets", WIRE_MODE_REFLECT_OCTETS },
	{ "symmetrical", WIRE_MODE_SYMMETRICAL },
	{ "dscp-ecn", WIRE_MODE_DSCP_ECN },
};

static uint32_t name_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strlen(mode_names[i].name) == len && !strncmp(mode_names[i].name, name, len))
			return mode_names[i].bit;
	return 0;
}

uint32_t ctrl_mode_parse(const char *name)
{
	if (!name)
		return 0;
	uint32_t bit = name_bit(name, strlen(name));
	return (bit & SEC_BITS) ? bit : 0;
}

int ctrl_modes_parse_list(const char *list, uint32_t *bits, const char **bad)
{
	static char badbuf[64];
	uint32_t out = 0;

	if (!list || !bits)
		return -EINVAL;
	if (!strcmp(list, "none")) {
		*bits = 0;
		return 0;
	}
	const char *p = list;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		uint32_t bit = name_bit(p, len);
		if (!bit) {
			snprintf(badbuf, sizeof(badbuf), "%.*s", (int)(len < 60 ? len : 60), p);
			if (bad)
				*bad = badbuf;
			return -EINVAL;
		}
		out |= bit;
		if (!end)
			break;
		p = end + 1;
	}
	*bits = out;
	return 0;
}

size_t ctrl_min_padding(enum wire_security sec, uint32_t mode, uint16_t reflect_len)
{
	bool ro = mode & WIRE_MODE_REFLECT_OCTETS, sym = mode & WIRE_MODE_SYMMETRICAL;
	if (!ro && !sym)
		return 0;
	/* The reflector header minus the sender's: 27, 30 (RFC 7750) or 64 (spec §8.1). */
	size_t gap = wire_reflector_hdr_len(sec, mode & WIRE_MODE_DSCP_ECN) - wire_sender_hdr_len(sec);
	return gap + (ro ? reflect_len : 0);
}

int64_t ctrl_timeout_ns(ntp64_t t)
{
	uint64_t sec = t >> 32, frac = t & 0xffffffffu;
	return (int64_t)(sec * 1000000000u + ((frac * 1000000000u) >> 32));
}

ntp64_t ctrl_timeout_ntp(int64_t ns)
{
	if (ns <= 0)
		return 0;
	uint64_t sec = (uint64_t)ns / 1000000000u, rem = (uint64_t)ns % 1000000000u;
	if (sec > 0xffffffffu)
		return ~(ntp64_t)0;
	return sec << 32 | ((rem << 32) / 1000000000u);
}

const char *ctrl_close_reason_name(enum ctrl_close_reason r)
{
	static const char *const names[CTRL_CLOSE_NREASONS] = {
		[CTRL_CLOSE_NONE] = "none",
		[CTRL_CLOSE_PEER] = "peer",
		[CTRL_CLOSE_GAVE_UP] = "gave_up",
		[CTRL_CLOSE_REJECTED] = "rejected",
		[CTRL_CLOSE_HMAC] = "hmac",
		[CTRL_CLOSE_PROTOCOL] = "protocol",
		[CTRL_CLOSE_INTERNAL] = "internal",
	};
	return (unsigned)r < CTRL_CLOSE_NREASONS ? names[r] : "unknown";
}

static void hex_sid(const uint8_t sid[WIRE_SID_LEN], char out[2 * WIRE_SID_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < WIRE_SID_LEN; i++) {
		out[2 * i] = digits[sid[i] >> 4];
		out[2 * i + 1] = digits[sid[i] & 15];
	}
	out[2 * WIRE_SID_LEN] = '\0';
}

/* KeyID as printable text for logs: non-printable octets as '?'. */
static void keyid_text(const uint8_t *id, size_t len, char *out, size_t cap)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (id[i] >= 0x20 && id[i] < 0x7f) ? (char)id[i] : '?';
	out[n] = '\0';
}

/* ------------------------------------------------------------------ server */

static void srv_log(struct ctrl_server *s, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void srv_log(struct ctrl_server *s, int level, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	if (!s->ops || !s->ops->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->ops->log(s->arg, s, level, msg);
}

static void srv_stop_session(struct ctrl_server *s, struct ctrl_session *x)
{
	if (x->started) {
		if (s->ops && s->ops->session_stop)
			s->ops->session_stop(s->arg, s, x->handle, x->timeout_ns);
	} else if (s->ops && s->ops->session_release) {
		s->ops->session_release(s->arg, s, x->handle);
	}
}

static void srv_remove_session(struct ctrl_server *s, size_t i)
{
	s->sessions[i] = s->sessions[s->n_sessions - 1];
	s->n_sessions--;
}

void ctrl_server_close(struct ctrl_server *s, enum ctrl_close_reason reason, const char *why)
{
	if (!s || s->state == CTRL_SRV_CLOSED)
		return;
	for (size_t i = 0; i < s->n_sessions; i++)
		srv_stop_session(s, &s->sessions[i]);
	s->n_sessions = 0;
	s->state = CTRL_SRV_CLOSED;
	s->close_reason = reason;
	if (why)
		srv_log(s, reason == CTRL_CLOSE_PEER ? LOG_LEVEL_INFO : LOG_LEVEL_NOTICE, "%s", why);
}

static void srv_close_fmt(struct ctrl_server *s, enum ctrl_close_reason reason, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void srv_close_fmt(struct ctrl_server *s, enum ctrl_close_reason reason, const char *fmt, ...)
{
	char msg[300];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ctrl_server_close(s, reason, msg);
}

int ctrl_server_init(struct ctrl_server *s, const struct ctrl_server_params *params,
		     const struct ctrl_server_ops *ops, void *arg, const struct ctrl_env *env)
{
	if (!s || !params)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->p = *params;
	if (s->p.max_sessions == 0 || s->p.max_sessions > WIRE_NSESSIONS_MAX)
		s->p.max_sessions = WIRE_NSESSIONS_MAX;
	s->ops = ops;
	s->arg = arg;
	if (env)
		s->env = *env;
	s->state = CTRL_SRV_SETUP;
	chan_expect(&s->ch, WIRE_SETUP_RESPONSE_LEN, true);

	struct wire_greeting g;
	memset(&g, 0, sizeof(g));
	g.modes = (s->p.modes & SEC_BITS) ? s->p.modes : 0;
	g.count = s->p.count;
	/* D5: a fresh Challenge (never repeated) and an independent Salt. */
	int rc = env_random(&s->env, s->challenge, sizeof(s->challenge));
	if (!rc)
		rc = env_random(&s->env, s->salt, sizeof(s->salt));
	if (rc)
		return rc;
	memcpy(g.challenge, s->challenge, 16);
	memcpy(g.salt, s->salt, 16);
	uint8_t buf[WIRE_GREETING_LEN];
	if (wire_greeting_encode(&g, buf, sizeof(buf)) != WIRE_GREETING_LEN)
		return -EINVAL;
	rc = chan_queue(&s->ch, buf, sizeof(buf));
	if (rc)
		return rc;
	if (g.modes == 0) {
		s->state = CTRL_SRV_CLOSED;
		s->close_reason = CTRL_CLOSE_REJECTED;
	}
	return 0;
}

size_t ctrl_server_want(const struct ctrl_server *s)
{
	if (s->state == CTRL_SRV_CLOSED || s->ch.out_len > CTRL_OUT_CAP - CTRL_OUT_RESERVE)
		return 0;
	return s->ch.in_need - s->ch.in_len;
}

const uint8_t *ctrl_server_output(const struct ctrl_server *s, size_t *len)
{
	*len = s->ch.out_len;
	return s->ch.out_len ? s->ch.out : NULL;
}

void ctrl_server_output_done(struct ctrl_server *s, size_t n)
{
	if (n >= s->ch.out_len) {
		s->ch.out_len = 0;
		return;
	}
	memmove(s->ch.out, s->ch.out + n, s->ch.out_len - n);
	s->ch.out_len -= n;
}

size_t ctrl_server_running(const struct ctrl_server *s)
{
	size_t n = 0;
	for (size_t i = 0; i < s->n_sessions; i++)
		n += s->sessions[i].started;
	return n;
}

/* Server-Start with a non-zero Accept: clear, Start-Time zero (D17), then close. */
static void srv_reject_setup(struct ctrl_server *s, uint8_t accept, const char *why)
{
	struct wire_server_start m;
	uint8_t buf[WIRE_SERVER_START_LEN];

	memset(&m, 0, sizeof(m));
	m.accept = accept;
	if (wire_server_start_encode(&m, buf, sizeof(buf)) == WIRE_SERVER_START_LEN)
		chan_queue(&s->ch, buf, sizeof(buf));
	srv_close_fmt(s, CTRL_CLOSE_REJECTED, "Server-Start Accept %u (%s): %s", accept,
		      wire_accept_name(accept), why);
}

static void srv_setup(struct ctrl_server *s)
{
	struct wire_setup_response m;
	char offered[96], asked[96], why[240];

	wire_setup_response_decode(s->ch.in, WIRE_SETUP_RESPONSE_LEN, &m);
	if (m.mode == 0) {
		ctrl_server_close(s, CTRL_CLOSE_GAVE_UP,
				  "client declined every offered mode (Set-Up-Response Mode 0), closing");
		return;
	}
	if (!wire_mode_valid(m.mode, s->p.modes)) {
		uint32_t sec = m.mode & SEC_BITS;
		wire_modes_str(s->p.modes, offered, sizeof(offered));
		wire_modes_str(m.mode, asked, sizeof(asked));
		if (sec == 0 || (sec & (sec - 1)))
			snprintf(why, sizeof(why), "Mode %s does not name exactly one security mode",
				 asked);
		else
			snprintf(why, sizeof(why), "Mode %s was not offered (offered %s)", asked, offered);
		srv_reject_setup(s, WIRE_ACCEPT_NOT_SUPPORTED, why);
		return;
	}
	s->mode = m.mode;

	uint8_t server_iv[16];
	int rc = env_random(&s->env, server_iv, sizeof(server_iv));
	if (rc) {
		srv_reject_setup(s, WIRE_ACCEPT_INTERNAL, "no random numbers");
		return;
	}
	struct wire_server_start ss = { .accept = WIRE_ACCEPT_OK, .start_time = s->p.start_time };
	memcpy(ss.server_iv, server_iv, 16);
	uint8_t buf[WIRE_SERVER_START_LEN];
	wire_server_start_encode(&ss, buf, sizeof(buf));

	if (wire_mode_encrypts_control(m.mode)) {
		size_t idlen = wire_keyid_len(m.keyid);
		keyid_text(m.keyid, idlen, s->keyid, sizeof(s->keyid));
		const struct crypto_key *k = s->p.keys ? crypto_keyfile_find(s->p.keys, m.keyid, idlen) : NULL;
		/* F9: the full derivation runs for an unknown KeyID too, so timing tells nothing. */
		static const uint8_t dummy[] = "twampkit: no such KeyID";
		uint8_t kk[CRYPTO_AES_KEY_LEN], challenge[16];
		rc = crypto_pbkdf2_sha1(k ? k->secret : dummy, k ? k->secret_len : sizeof(dummy) - 1,
					s->salt, s->p.count, kk);
		if (!rc)
			rc = crypto_token_decrypt(kk, m.token, challenge, &s->keys);
		crypto_wipe(kk, sizeof(kk));
		if (rc) {
			srv_reject_setup(s, WIRE_ACCEPT_INTERNAL, "key derivation failed");
			return;
		}
		bool match = crypto_equal(challenge, s->challenge, 16);
		if (!k) {
			snprintf(why, sizeof(why), "unknown KeyID '%s'", s->keyid);
			srv_reject_setup(s, WIRE_ACCEPT_FAILURE, why);
			return;
		}
		if (!match) {
			snprintf(why, sizeof(why),
				 "wrong shared secret for KeyID '%s' (the Token does not hold the Challenge)",
				 s->keyid);
			srv_reject_setup(s, WIRE_ACCEPT_FAILURE, why);
			return;
		}
		rc = chan_keys(&s->ch, &s->keys, server_iv, m.client_iv);
		/* D18, F3: the Start-Time block opens the server stream and its HMAC chain. */
		if (!rc)
			rc = crypto_hmac_chain_feed(&s->ch.tx_mac, buf + WIRE_SERVER_START_CLEAR,
						    WIRE_SERVER_START_LEN - WIRE_SERVER_START_CLEAR);
		if (!rc)
			rc = crypto_stream_apply(&s->ch.tx, buf + WIRE_SERVER_START_CLEAR,
						 WIRE_SERVER_START_LEN - WIRE_SERVER_START_CLEAR);
		if (rc) {
			srv_reject_setup(s, WIRE_ACCEPT_INTERNAL, "cipher set-up failed");
			return;
		}
	}
	chan_queue(&s->ch, buf, sizeof(buf));
	s->state = CTRL_SRV_READY;
	wire_modes_str(s->mode, asked, sizeof(asked));
	if (s->keyid[0])
		srv_log(s, LOG_LEVEL_INFO, "connection set up: Mode %s, KeyID '%s'", asked, s->keyid);
	else
		srv_log(s, LOG_LEVEL_INFO, "connection set up: Mode %s", asked);
}

/* Accept-Session for a rejected request: Port 0 and SID 0 (E10, EID 1587). */
static void srv_accept_session(struct ctrl_server *s, uint8_t accept, uint16_t port,
			       const uint8_t *sid, uint16_t reflected)
{
	struct wire_accept_session a;
	uint8_t buf[WIRE_ACCEPT_SESSION_LEN];

	memset(&a, 0, sizeof(a));
	a.accept = accept;
	if (accept == WIRE_ACCEPT_OK) {
		a.port = port;
		memcpy(a.sid, sid, WIRE_SID_LEN);
		a.reflected_octets = reflected;
	}
	wire_accept_session_encode(&a, buf, sizeof(buf));
	if (chan_send(&s->ch, buf, sizeof(buf)) < 0)
		ctrl_server_close(s, CTRL_CLOSE_INTERNAL, "cannot encrypt Accept-Session, closing");
}

/* RFC 5357 §3.5 and spec §6 checks, with the reason for the log. */
static enum wire_accept srv_check_request(const struct ctrl_server *s,
					  const struct wire_request_session *r, char *why,
					  size_t why_len)
{
	uint8_t dscp;

	if (r->conf_sender || r->conf_receiver) {
		snprintf(why, why_len,
			 "Conf-Sender %u / Conf-Receiver %u must be 0: the server only reflects (E2)",
			 r->conf_sender, r->conf_receiver);
		return WIRE_ACCEPT_NOT_SUPPORTED;
	}
	if (r->schedule_slots || r->packets) {
		snprintf(why, why_len,
			 "Number of Schedule Slots %u / Number of Packets %u must be 0 (E3)",
			 r->schedule_slots, r->packets);
		return WIRE_ACCEPT_NOT_SUPPORTED;
	}
	if (r->ipvn != 4 && r->ipvn != 6) {
		snprintf(why, why_len, "IPVN %u is neither 4 nor 6", r->ipvn);
		return WIRE_ACCEPT_NOT_SUPPORTED;
	}
	if (wire_type_p_dscp(r->type_p, &dscp) < 0) {
		snprintf(why, why_len, "Type-P Descriptor 0x%08x is not a plain DSCP (E7)", r->type_p);
		return WIRE_ACCEPT_NOT_SUPPORTED;
	}
	enum wire_security sec = wire_mode_test_security(s->mode);
	size_t need = ctrl_min_padding(sec, s->mode,
				       (s->mode & WIRE_MODE_REFLECT_OCTETS) ? r->reflect_padding_len : 0);
	if (r->padding_length < need) {
		if (s->mode & WIRE_MODE_REFLECT_OCTETS)
			snprintf(why, why_len,
				 "Padding Length %u cannot reflect %u octets in equal-size packets "
				 "(needs >= %zu; RFC 6038 §4.3)",
				 r->padding_length, r->reflect_padding_len, need);
		else
			snprintf(why, why_len,
				 "Padding Length %u is shorter than the %zu MBZ octets of the "
				 "Symmetrical Size format (RFC 6038 §5.1.4)",
				 r->padding_length, need);
		return WIRE_ACCEPT_NOT_SUPPORTED;
	}
	return WIRE_ACCEPT_OK;
}

static void srv_request(struct ctrl_server *s)
{
	struct wire_request_session r;
	struct ctrl_session_setup st;
	char why[CTRL_WHY_LEN] = "";
	int handle = -1;
	uint16_t port = 0;

	wire_request_session_decode(s->ch.in, WIRE_REQUEST_SESSION_LEN, &r);
	s->requests++;
	memset(&st, 0, sizeof(st));
	enum wire_accept a = srv_check_request(s, &r, why, sizeof(why));
	if (a == WIRE_ACCEPT_OK && s->n_sessions >= s->p.max_sessions) {
		snprintf(why, sizeof(why), "%zu sessions on this connection already (limit %zu)",
			 s->n_sessions, s->p.max_sessions);
		a = WIRE_ACCEPT_TEMPORARY;
	}
	if (a == WIRE_ACCEPT_OK && !s->sessions) {
		s->sessions = calloc(s->p.max_sessions, sizeof(*s->sessions));
		if (!s->sessions) {
			snprintf(why, sizeof(why), "out of memory");
			a = WIRE_ACCEPT_INTERNAL;
		}
	}
	if (a == WIRE_ACCEPT_OK) {
		uint8_t rnd[4];
		st.req = &r;
		st.mode = s->mode;
		st.sec = wire_mode_test_security(s->mode);
		wire_type_p_dscp(r.type_p, &st.dscp);
		st.timeout_ns = ctrl_timeout_ns(r.timeout);
		if (s->p.max_timeout_ns > 0 && st.timeout_ns > s->p.max_timeout_ns)
			st.timeout_ns = s->p.max_timeout_ns;
		/* E11: IPv4 address + NTP time + random: unique and unpredictable. */
		int rc = env_random(&s->env, rnd, sizeof(rnd));
		if (!rc) {
			wire_sid_make(st.sid, s->p.sid_addr, ts_ntp_from_unix_ns(env_now(&s->env)), rnd);
			if (st.sec != WIRE_SEC_OPEN)
				rc = crypto_test_keys_derive(st.sid, s->keys.aes, s->keys.hmac,
							     st.test_aes, st.test_hmac);
		}
		if (rc) {
			snprintf(why, sizeof(why), "SID or test key generation failed");
			a = WIRE_ACCEPT_INTERNAL;
		}
	}
	if (a == WIRE_ACCEPT_OK) {
		if (s->ops && s->ops->session_request)
			a = s->ops->session_request(s->arg, s, &st, &handle, &port, why, sizeof(why));
		else
			a = WIRE_ACCEPT_PERMANENT;
		if (a != WIRE_ACCEPT_OK && !why[0])
			snprintf(why, sizeof(why), "no reflector session");
	}
	crypto_wipe(st.test_aes, sizeof(st.test_aes));
	crypto_wipe(st.test_hmac, sizeof(st.test_hmac));

	uint16_t reflected = (s->mode & WIRE_MODE_REFLECT_OCTETS) ? r.octets_to_reflect : 0;
	srv_accept_session(s, (uint8_t)a, port, st.sid, reflected);
	if (a != WIRE_ACCEPT_OK) {
		s->rejected++;
		srv_log(s, LOG_LEVEL_NOTICE,
			"Request-TW-Session rejected: Accept-Session Accept %u (%s): %s", a,
			wire_accept_name((uint8_t)a), why);
		return;
	}
	if (s->state == CTRL_SRV_CLOSED) {
		/* the reply could not be sent: the session never existed for the client */
		if (s->ops && s->ops->session_release)
			s->ops->session_release(s->arg, s, handle);
		return;
	}
	struct ctrl_session *x = &s->sessions[s->n_sessions++];
	memcpy(x->sid, st.sid, WIRE_SID_LEN);
	x->handle = handle;
	x->timeout_ns = st.timeout_ns;
	x->started = false;
	x->user_flags = 0;
	s->accepted++;
	char sidtext[33];
	hex_sid(st.sid, sidtext);
	srv_log(s, LOG_LEVEL_INFO,
		"session %s accepted: test port %u, %s test packets, DSCP %u, Padding Length %u, "
		"Timeout %.3f s",
		sidtext, port, wire_security_name(st.sec), st.dscp, r.padding_length,
		(double)st.timeout_ns / 1e9);
}

static void srv_start_ack(struct ctrl_server *s, uint8_t accept)
{
	struct wire_start_ack m;
	uint8_t buf[WIRE_START_ACK_LEN];

	memset(&m, 0, sizeof(m));
	m.accept = accept;
	wire_start_ack_encode(&m, buf, sizeof(buf));
	if (chan_send(&s->ch, buf, sizeof(buf)) < 0)
		ctrl_server_close(s, CTRL_CLOSE_INTERNAL, "cannot encrypt Start-Ack, closing");
}

static void srv_start(struct ctrl_server *s)
{
	if (s->n_sessions == 0) {
		srv_start_ack(s, WIRE_ACCEPT_FAILURE);
		srv_log(s, LOG_LEVEL_NOTICE,
			"Start-Sessions rejected: Start-Ack Accept 1 (failure): no session was accepted");
		return;
	}
	/* E14: the ack goes out before anything else happens. */
	srv_start_ack(s, WIRE_ACCEPT_OK);
	if (s->state == CTRL_SRV_CLOSED)
		return;
	for (size_t i = 0; i < s->n_sessions; i++) {
		s->sessions[i].started = true;
		if (s->ops && s->ops->session_start)
			s->ops->session_start(s->arg, s, s->sessions[i].handle);
	}
	s->state = CTRL_SRV_ACTIVE;
	srv_log(s, LOG_LEVEL_INFO, "%zu session(s) started", s->n_sessions);
}

static void srv_stop(struct ctrl_server *s)
{
	struct wire_stop_sessions m;

	wire_stop_sessions_decode(s->ch.in, WIRE_STOP_SESSIONS_LEN, &m);
	size_t running = ctrl_server_running(s);
	if (m.num_sessions != running) {
		srv_close_fmt(s, CTRL_CLOSE_PROTOCOL,
			      "Stop-Sessions says %u session(s) but %zu run: invalid (E18), closing",
			      m.num_sessions, running);
		return;
	}
	if (m.accept != WIRE_ACCEPT_OK)
		srv_log(s, LOG_LEVEL_NOTICE,
			"client marks the results invalid (Stop-Sessions Accept %u, %s)", m.accept,
			wire_accept_name(m.accept));
	for (size_t i = 0; i < s->n_sessions; i++)
		srv_stop_session(s, &s->sessions[i]);
	s->n_sessions = 0;
	s->state = CTRL_SRV_READY;
	srv_log(s, LOG_LEVEL_INFO, "%zu session(s) stopped", running);
}

static long srv_find(const struct ctrl_server *s, const uint8_t sid[WIRE_SID_LEN])
{
	for (size_t i = 0; i < s->n_sessions; i++)
		if (!memcmp(s->sessions[i].sid, sid, WIRE_SID_LEN))
			return (long)i;
	return -1;
}

/* Sends one N-Ack per distinct Accept value (G4); ok first. */
static void srv_n_acks(struct ctrl_server *s, uint8_t cmd, const struct wire_n_sessions *req,
		       const uint8_t *accepts)
{
	static const uint8_t order[] = { WIRE_ACCEPT_OK, WIRE_ACCEPT_FAILURE };
	for (size_t k = 0; k < sizeof(order) && s->state != CTRL_SRV_CLOSED; k++) {
		struct wire_n_sessions ack;
		ack.cmd = cmd;
		ack.accept = order[k];
		ack.n = 0;
		for (uint32_t i = 0; i < req->n; i++)
			if (accepts[i] == order[k])
				memcpy(ack.sids[ack.n++], req->sids[i], WIRE_SID_LEN);
		if (ack.n == 0)
			continue;
		memset(ack.hmac, 0, sizeof(ack.hmac));
		uint8_t buf[WIRE_CTRL_MAX_LEN];
		int len = wire_n_sessions_encode(&ack, buf, sizeof(buf));
		if (len < 0 || chan_send(&s->ch, buf, (size_t)len) < 0)
			ctrl_server_close(s, CTRL_CLOSE_INTERNAL, "cannot send an N-Ack, closing");
	}
}

static void srv_start_n(struct ctrl_server *s)
{
	struct wire_n_sessions m;
	uint8_t accepts[WIRE_NSESSIONS_MAX] = { 0 };
	size_t bad = 0;

	wire_n_sessions_decode(s->ch.in, s->ch.in_len, &m);
	for (uint32_t i = 0; i < m.n; i++) {
		long k = srv_find(s, m.sids[i]);
		accepts[i] = k < 0 ? WIRE_ACCEPT_FAILURE : WIRE_ACCEPT_OK;
		bad += k < 0;
	}
	srv_n_acks(s, WIRE_CMD_START_N_ACK, &m, accepts);
	for (uint32_t i = 0; i < m.n && s->state != CTRL_SRV_CLOSED; i++) {
		long k = srv_find(s, m.sids[i]);
		if (k < 0 || s->sessions[k].started)
			continue;
		s->sessions[k].started = true;
		if (s->ops && s->ops->session_start)
			s->ops->session_start(s->arg, s, s->sessions[k].handle);
	}
	if (bad)
		srv_log(s, LOG_LEVEL_NOTICE,
			"Start-N-Sessions: %zu of %u SID(s) unknown: Start-N-Ack Accept 1 (failure) for them",
			bad, m.n);
	else
		srv_log(s, LOG_LEVEL_INFO, "Start-N-Sessions: %u session(s) started", m.n);
}

static void srv_stop_n(struct ctrl_server *s)
{
	struct wire_n_sessions m;
	uint8_t accepts[WIRE_NSESSIONS_MAX] = { 0 };
	size_t bad = 0;

	wire_n_sessions_decode(s->ch.in, s->ch.in_len, &m);
	for (uint32_t i = 0; i < m.n; i++) {
		long k = srv_find(s, m.sids[i]);
		accepts[i] = k < 0 ? WIRE_ACCEPT_FAILURE : WIRE_ACCEPT_OK;
		if (k < 0) {
			bad++;
			continue;
		}
		srv_stop_session(s, &s->sessions[k]);
		srv_remove_session(s, (size_t)k);
	}
	srv_n_acks(s, WIRE_CMD_STOP_N_ACK, &m, accepts);
	if (bad)
		srv_log(s, LOG_LEVEL_NOTICE,
			"Stop-N-Sessions: %zu of %u SID(s) unknown: Stop-N-Ack Accept 1 (failure) for them",
			bad, m.n);
	else
		srv_log(s, LOG_LEVEL_INFO, "Stop-N-Sessions: %u session(s) stopped", m.n);
}

/* E8: an unexpected command in place of a Request-TW-Session gets Accept 3. */
static void srv_unexpected(struct ctrl_server *s, uint8_t cmd, bool resync)
{
	srv_accept_session(s, WIRE_ACCEPT_NOT_SUPPORTED, 0, NULL, 0);
	if (resync) {
		srv_log(s, LOG_LEVEL_NOTICE,
			"%s (command %u) out of place: Accept-Session Accept 3 (not supported)",
			wire_cmd_name(cmd), cmd);
		return;
	}
	srv_close_fmt(s, CTRL_CLOSE_PROTOCOL,
		      "unknown Command Number %u (or N out of range): Accept-Session Accept 3 "
		      "(not supported), closing: the message length is unknown",
		      cmd);
}

static void srv_dispatch(struct ctrl_server *s)
{
	uint8_t cmd = s->ch.in[0];
	bool isc = s->mode & WIRE_MODE_ISC;

	if (s->state == CTRL_SRV_ACTIVE) {
		if (cmd == WIRE_CMD_STOP_SESSIONS)
			srv_stop(s);
		else
			srv_close_fmt(s, CTRL_CLOSE_PROTOCOL,
				      "%s (command %u) while sessions run: only Stop-Sessions is "
				      "allowed (E20), closing",
				      wire_cmd_name(cmd), cmd);
		return;
	}
	switch (cmd) {
	case WIRE_CMD_REQUEST_TW_SESSION:
		srv_request(s);
		return;
	case WIRE_CMD_START_SESSIONS:
		if (!isc) {
			srv_start(s);
			return;
		}
		break;
	case WIRE_CMD_START_N_SESSIONS:
		if (isc) {
			srv_start_n(s);
			return;
		}
		break;
	case WIRE_CMD_STOP_N_SESSIONS:
		if (isc) {
			srv_stop_n(s);
			return;
		}
		break;
	default:
		break;
	}
	srv_unexpected(s, cmd, true);
}

/* One boundary of the input reached. */
static void srv_step(struct ctrl_server *s)
{
	struct ctrl_chan *ch = &s->ch;

	if (s->state == CTRL_SRV_SETUP) {
		srv_setup(s);
		chan_expect(ch, WIRE_CTRL_BLOCK, false);
		return;
	}
	if (!ch->in_known) {
		if (chan_decrypt(ch, 0, WIRE_CTRL_BLOCK) < 0) {
			ctrl_server_close(s, CTRL_CLOSE_INTERNAL, "decryption failed, closing");
			return;
		}
		int n = wire_ctrl_msg_len(ch->in, WIRE_CTRL_BLOCK);
		if (n < 0) {
			if (s->state == CTRL_SRV_ACTIVE)
				srv_close_fmt(s, CTRL_CLOSE_PROTOCOL,
					      "unknown Command Number %u while sessions run, closing",
					      ch->in[0]);
			else
				srv_unexpected(s, ch->in[0], false);
			return;
		}
		ch->in_need = (size_t)n;
		ch->in_known = true;
		if (ch->in_len < ch->in_need)
			return;
	}
	if (chan_decrypt(ch, WIRE_CTRL_BLOCK, ch->in_len) < 0) {
		ctrl_server_close(s, CTRL_CLOSE_INTERNAL, "decryption failed, closing");
		return;
	}
	int rc = chan_verify(ch, ch->in_len);
	if (rc) {
		srv_close_fmt(s, rc == -EBADMSG ? CTRL_CLOSE_HMAC : CTRL_CLOSE_INTERNAL,
			      "HMAC check failed on %s (command %u): wrong key or corrupted stream "
			      "(F5), closing",
			      wire_cmd_name(ch->in[0]), ch->in[0]);
		return;
	}
	srv_dispatch(s);
	if (s->state != CTRL_SRV_CLOSED)
		chan_expect(ch, WIRE_CTRL_BLOCK, false);
}

int ctrl_server_feed(struct ctrl_server *s, const uint8_t *data, size_t len, size_t *used)
{
	size_t off = 0;

	if (!s || (!data && len))
		return -EINVAL;
	while (off < len && ctrl_server_want(s) > 0) {
		if (!chan_take(&s->ch, data, len, &off))
			break;
		srv_step(s);
	}
	if (used)
		*used = off;
	return 0;
}

void ctrl_server_free(struct ctrl_server *s)
{
	if (!s)
		return;
	ctrl_server_close(s, CTRL_CLOSE_PEER, NULL);
	free(s->sessions);
	s->sessions = NULL;
	chan_free(&s->ch);
	crypto_wipe(&s->keys, sizeof(s->keys));
}

/* ------------------------------------------------------------------ client */

static int cli_fail(struct ctrl_client *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int cli_fail(struct ctrl_client *c, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, sizeof(c->why), fmt, ap);
	va_end(ap);
	c->state = CTRL_CLI_CLOSED;
	return err;
}

int ctrl_client_init(struct ctrl_client *c, const struct ctrl_client_params *params,
		     const struct ctrl_env *env)
{
	if (!c || !params)
		return -EINVAL;
	memset(c, 0, sizeof(*c));
	c->p = *params;
	if (env)
		c->env = *env;
	uint32_t w = c->p.want_mode;
	if ((w & ~SEC_BITS) || (w & (w - 1)))
		return -EINVAL;
	if (c->p.secret && (c->p.keyid_len == 0 || c->p.keyid_len > WIRE_KEYID_LEN))
		return -EINVAL;
	if (wire_mode_encrypts_control(w) && !c->p.secret)
		return -EINVAL;
	if (c->p.max_count == 0)
		c->p.max_count = WIRE_COUNT_DEFAULT_MAX;
	c->state = CTRL_CLI_GREETING;
	chan_expect(&c->ch, WIRE_GREETING_LEN, true);
	return 0;
}

size_t ctrl_client_want(const struct ctrl_client *c)
{
	if (c->state == CTRL_CLI_CLOSED || c->state == CTRL_CLI_READY)
		return 0;
	return c->ch.in_need - c->ch.in_len;
}

const uint8_t *ctrl_client_output(const struct ctrl_client *c, size_t *len)
{
	*len = c->ch.out_len;
	return c->ch.out_len ? c->ch.out : NULL;
}

void ctrl_client_output_done(struct ctrl_client *c, size_t n)
{
	if (n >= c->ch.out_len) {
		c->ch.out_len = 0;
		return;
	}
	memmove(c->ch.out, c->ch.out + n, c->ch.out_len - n);
	c->ch.out_len -= n;
}

/* Strongest first: encrypted, authenticated, mixed, open (keyed ones need a secret). */
static uint32_t cli_choose(const struct ctrl_client *c, uint32_t offered)
{
	static const uint32_t order[] = { WIRE_MODE_ENC, WIRE_MODE_AUTH, WIRE_MODE_MIXED,
					  WIRE_MODE_OPEN };
	if (c->p.want_mode)
		return (offered & c->p.want_mode) ? c->p.want_mode : 0;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (!(offered & order[i]))
			continue;
		if (wire_mode_encrypts_control(order[i]) && !c->p.secret)
			continue;
		return order[i];
	}
	return 0;
}

static int cli_greeting(struct ctrl_client *c)
{
	struct wire_greeting *g = &c->greeting;
	struct wire_setup_response r;
	uint8_t buf[WIRE_SETUP_RESPONSE_LEN];
	char offered[96];

	wire_greeting_decode(c->ch.in, WIRE_GREETING_LEN, g);
	/* D7: bits we do not implement are ignored. */
	uint32_t known = g->modes & (SEC_BITS | FEATURE_BITS);
	wire_modes_str(g->modes & SEC_BITS, offered, sizeof(offered));
	if ((known & SEC_BITS) == 0)
		return cli_fail(c, -ECONNREFUSED,
				"the server will not talk (Server Greeting Modes = 0: its connection "
				"limit is reached or this client is not allowed)");
	uint32_t mode = cli_choose(c, known);
	memset(&r, 0, sizeof(r));
	if (mode == 0) {
		/* D10: say so with Mode 0, then close. */
		wire_setup_response_encode(&r, buf, sizeof(buf));
		chan_queue(&c->ch, buf, sizeof(buf));
		const char *m = wire_mode_name(c->p.want_mode);
		if (c->p.want_mode)
			return cli_fail(c, -ENOTSUP, "the server does not offer mode %s (it offers %s)",
					m ? m : "?", offered);
		return cli_fail(c, -ENOTSUP, "no common mode: the server offers %s%s", offered,
				c->p.secret ? "" : " (keyed modes need -u KEYID and -k KEYFILE)");
	}
	bool keyed = wire_mode_encrypts_control(mode);
	if (keyed && !wire_count_valid(g->count, c->p.max_count)) {
		if (g->count >= WIRE_COUNT_MIN && !(g->count & (g->count - 1)))
			return cli_fail(c, -ERANGE,
					"the server's PBKDF2 Count %u exceeds the maximum %u "
					"(--max-count; RFC 5357 §6)",
					g->count, c->p.max_count);
		return cli_fail(c, -ERANGE,
				"the server's PBKDF2 Count %u is not a power of two >= 1024 (D3)",
				g->count);
	}
	mode |= c->p.want_features & known & FEATURE_BITS;
	c->mode = mode;
	r.mode = mode;
	if (keyed) {
		uint8_t k[CRYPTO_AES_KEY_LEN];
		/* D14: keys with full entropy, a fresh IV. */
		int rc = env_random(&c->env, c->keys.aes, sizeof(c->keys.aes));
		if (!rc)
			rc = env_random(&c->env, c->keys.hmac, sizeof(c->keys.hmac));
		if (!rc)
			rc = env_random(&c->env, r.client_iv, sizeof(r.client_iv));
		if (!rc)
			rc = crypto_pbkdf2_sha1(c->p.secret, c->p.secret_len, g->salt, g->count, k);
		if (!rc)
			rc = crypto_token_encrypt(k, g->challenge, &c->keys, r.token);
		crypto_wipe(k, sizeof(k));
		if (!rc)
			rc = wire_keyid_set(r.keyid, c->p.keyid, c->p.keyid_len);
		/* The receive stream waits for the Server-IV, which comes with Server-Start. */
		if (!rc)
			rc = crypto_stream_init(&c->ch.tx, CRYPTO_ENCRYPT, c->keys.aes, r.client_iv);
		if (!rc)
			rc = crypto_hmac_chain_init(&c->ch.tx_mac, c->keys.hmac);
		if (!rc)
			rc = crypto_hmac_chain_init(&c->ch.rx_mac, c->keys.hmac);
		if (rc)
			return cli_fail(c, rc == -EINVAL ? -EINVAL : -EIO,
					"cannot build the Set-Up-Response (%s)",
					rc == -EINVAL ? "bad KeyID" : "crypto failure");
		c->ch.keyed = true;
	}
	wire_setup_response_encode(&r, buf, sizeof(buf));
	chan_queue(&c->ch, buf, sizeof(buf));
	crypto_wipe(buf, sizeof(buf));
	c->state = CTRL_CLI_SERVER_START;
	chan_expect(&c->ch, WIRE_SERVER_START_LEN, true);
	return CTRL_EV_GREETING;
}

static int cli_server_start(struct ctrl_client *c)
{
	struct wire_server_start m;
	uint8_t *in = c->ch.in;

	wire_server_start_decode(in, WIRE_SERVER_START_LEN, &m);
	if (m.accept != WIRE_ACCEPT_OK) {
		bool keyed = wire_mode_encrypts_control(c->mode);
		return cli_fail(c, -ECONNREFUSED,
				"the server rejected the connection: Server-Start Accept %u (%s)%s",
				m.accept, wire_accept_name(m.accept),
				keyed && m.accept == WIRE_ACCEPT_FAILURE
					? ": unknown KeyID or wrong shared secret"
					: m.accept == WIRE_ACCEPT_NOT_SUPPORTED ? ": mode not supported" : "");
	}
	if (c->ch.keyed) {
		int rc = crypto_stream_init(&c->ch.rx, CRYPTO_DECRYPT, c->keys.aes, m.server_iv);
		if (!rc)
			rc = chan_decrypt(&c->ch, WIRE_SERVER_START_CLEAR, WIRE_SERVER_START_LEN);
		/* F3: the server's first HMAC covers this block. */
		if (!rc)
			rc = crypto_hmac_chain_feed(&c->ch.rx_mac, in + WIRE_SERVER_START_CLEAR,
						    WIRE_SERVER_START_LEN - WIRE_SERVER_START_CLEAR);
		if (rc)
			return cli_fail(c, -EIO, "cannot decrypt Server-Start");
		wire_server_start_decode(in, WIRE_SERVER_START_LEN, &m);
	}
	c->server_start_time = m.start_time;
	c->state = CTRL_CLI_READY;
	chan_expect(&c->ch, 0, true);
	return CTRL_EV_SERVER_START;
}

static int cli_reply(struct ctrl_client *c)
{
	struct ctrl_chan *ch = &c->ch;

	if (!ch->in_known) {
		if (chan_decrypt(ch, 0, WIRE_CTRL_BLOCK) < 0)
			return cli_fail(c, -EIO, "decryption failed");
		int n;
		switch (c->wait_cmd) {
		case WIRE_CMD_REQUEST_TW_SESSION:
			n = WIRE_ACCEPT_SESSION_LEN;
			break;
		case WIRE_CMD_START_SESSIONS:
			n = WIRE_START_ACK_LEN;
			break;
		default: {
			uint8_t want = c->wait_cmd == WIRE_CMD_START_N_SESSIONS ? WIRE_CMD_START_N_ACK
										: WIRE_CMD_STOP_N_ACK;
			n = ch->in[0] == want ? wire_ctrl_msg_len(ch->in, WIRE_CTRL_BLOCK) : -EBADMSG;
			if (n < 0)
				return cli_fail(c, -EBADMSG,
						"malformed reply to %s (octet 0 = %u, expected %s)",
						wire_cmd_name(c->wait_cmd), ch->in[0], wire_cmd_name(want));
		}
		}
		ch->in_need = (size_t)n;
		ch->in_known = true;
		if (ch->in_len < ch->in_need)
			return CTRL_EV_NONE;
	}
	if (chan_decrypt(ch, WIRE_CTRL_BLOCK, ch->in_len) < 0)
		return cli_fail(c, -EIO, "decryption failed");
	int rc = chan_verify(ch, ch->in_len);
	if (rc)
		return cli_fail(c, rc == -EBADMSG ? -EBADMSG : -EIO,
				"HMAC check failed on the reply to %s: wrong key or corrupted stream (F5)",
				wire_cmd_name(c->wait_cmd));
	int ev;
	switch (c->wait_cmd) {
	case WIRE_CMD_REQUEST_TW_SESSION:
		wire_accept_session_decode(ch->in, ch->in_len, &c->accept);
		ev = CTRL_EV_ACCEPT_SESSION;
		break;
	case WIRE_CMD_START_SESSIONS: {
		struct wire_start_ack a;
		wire_start_ack_decode(ch->in, ch->in_len, &a);
		c->ack_accept = a.accept;
		if (a.accept != WIRE_ACCEPT_OK)
			return cli_fail(c, -ECONNREFUSED,
					"the server refused to start: Start-Ack Accept %u (%s)", a.accept,
					wire_accept_name(a.accept));
		ev = CTRL_EV_START_ACK;
		break;
	}
	default:
		wire_n_sessions_decode(ch->in, ch->in_len, &c->n_ack);
		c->n_pending = c->n_ack.n >= c->n_pending ? 0 : c->n_pending - c->n_ack.n;
		ev = CTRL_EV_N_ACK;
		if (c->n_pending) {
			chan_expect(ch, WIRE_CTRL_BLOCK, false);
			return ev;
		}
		break;
	}
	c->state = CTRL_CLI_READY;
	chan_expect(ch, 0, true);
	return ev;
}

int ctrl_client_feed(struct ctrl_client *c, const uint8_t *data, size_t len, size_t *used)
{
	size_t off = 0;
	int ev = CTRL_EV_NONE;

	if (!c || (!data && len))
		return -EINVAL;
	while (ev == CTRL_EV_NONE && off < len && ctrl_client_want(c) > 0) {
		if (!chan_take(&c->ch, data, len, &off))
			break;
		switch (c->state) {
		case CTRL_CLI_GREETING:
			ev = cli_greeting(c);
			break;
		case CTRL_CLI_SERVER_START:
			ev = cli_server_start(c);
			break;
		case CTRL_CLI_WAIT:
			ev = cli_reply(c);
			break;
		default:
			break;
		}
	}
	if (used)
		*used = off;
	return ev;
}

static int cli_send(struct ctrl_client *c, uint8_t *buf, size_t len, uint8_t wait_cmd)
{
	int rc = chan_send(&c->ch, buf, len);
	crypto_wipe(buf, len);
	if (rc)
		return cli_fail(c, rc, "cannot send %s", wire_cmd_name(wait_cmd));
	if (wait_cmd != WIRE_CMD_STOP_SESSIONS) {
		c->state = CTRL_CLI_WAIT;
		c->wait_cmd = wait_cmd;
		chan_expect(&c->ch, WIRE_CTRL_BLOCK, false);
	}
	return 0;
}

int ctrl_client_request(struct ctrl_client *c, const struct wire_request_session *req)
{
	uint8_t buf[WIRE_REQUEST_SESSION_LEN];
	struct wire_request_session r;

	if (!c || !req || c->state != CTRL_CLI_READY)
		return -EINVAL;
	r = *req;
	memset(r.hmac, 0, sizeof(r.hmac));
	memset(r.sid, 0, sizeof(r.sid)); /* E4 */
	if (wire_request_session_encode(&r, buf, sizeof(buf)) != WIRE_REQUEST_SESSION_LEN)
		return -EINVAL;
	return cli_send(c, buf, sizeof(buf), WIRE_CMD_REQUEST_TW_SESSION);
}

int ctrl_client_start(struct ctrl_client *c)
{
	uint8_t buf[WIRE_START_SESSIONS_LEN];
	struct wire_start_sessions m;

	if (!c || c->state != CTRL_CLI_READY || (c->mode & WIRE_MODE_ISC))
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	wire_start_sessions_encode(&m, buf, sizeof(buf));
	return cli_send(c, buf, sizeof(buf), WIRE_CMD_START_SESSIONS);
}

int ctrl_client_stop(struct ctrl_client *c, uint32_t n_sessions, uint8_t accept)
{
	uint8_t buf[WIRE_STOP_SESSIONS_LEN];
	struct wire_stop_sessions m;

	if (!c || c->state != CTRL_CLI_READY || (c->mode & WIRE_MODE_ISC))
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.accept = accept;
	m.num_sessions = n_sessions;
	wire_stop_sessions_encode(&m, buf, sizeof(buf));
	return cli_send(c, buf, sizeof(buf), WIRE_CMD_STOP_SESSIONS);
}

static int cli_n(struct ctrl_client *c, uint8_t cmd, const uint8_t (*sids)[WIRE_SID_LEN],
		 uint32_t n)
{
	struct wire_n_sessions m;
	uint8_t buf[WIRE_CTRL_MAX_LEN];

	if (!c || !sids || n == 0 || n > WIRE_NSESSIONS_MAX || c->state != CTRL_CLI_READY ||
	    !(c->mode & WIRE_MODE_ISC))
		return -EINVAL;
	memset(&m, 0, sizeof(m));
	m.cmd = cmd;
	m.n = n;
	memcpy(m.sids, sids, (size_t)n * WIRE_SID_LEN);
	int len = wire_n_sessions_encode(&m, buf, sizeof(buf));
	if (len < 0)
		return len;
	c->n_pending = n;
	return cli_send(c, buf, (size_t)len, cmd);
}

int ctrl_client_start_n(struct ctrl_client *c, const uint8_t (*sids)[WIRE_SID_LEN], uint32_t n)
{
	return cli_n(c, WIRE_CMD_START_N_SESSIONS, sids, n);
}

int ctrl_client_stop_n(struct ctrl_client *c, const uint8_t (*sids)[WIRE_SID_LEN], uint32_t n)
{
	return cli_n(c, WIRE_CMD_STOP_N_SESSIONS, sids, n);
}

int ctrl_client_test_keys(const struct ctrl_client *c, const uint8_t sid[WIRE_SID_LEN],
			  uint8_t test_aes[CRYPTO_AES_KEY_LEN],
			  uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN])
{
	if (!c || !sid || !wire_mode_encrypts_control(c->mode))
		return -EINVAL;
	return crypto_test_keys_derive(sid, c->keys.aes, c->keys.hmac, test_aes, test_hmac);
}

void ctrl_client_free(struct ctrl_client *c)
{
	if (!c)
		return;
	chan_free(&c->ch);
	crypto_wipe(&c->keys, sizeof(c->keys));
	c->state = CTRL_CLI_CLOSED;
}
