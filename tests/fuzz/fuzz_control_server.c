/*
 * Fuzz target for the TWAMP-Control server state machine (common/control.c):
 * arbitrary bytes as one connection's input stream, in every mode.
 *
 * Octet 0 chooses the scenario: bits 0-1 the mode (0 open, 1 auth, 2 enc,
 * 3 mixed), bit 2 Individual Session Control and the RFC 6038/7750
 * features, bit 3 chunked feeding (octet 1 gives the chunk size), bits 4-5
 * what the program's session callback answers (Accept 0, 5, 3, 0).
 *
 * Open mode: the rest is fed as it is, Set-Up-Response included.  Keyed
 * modes: a real client state machine (fixed randomness, Count 1024)
 * completes the handshake first, so the fuzzer starts in READY; the rest
 * is then read as records - one octet (bits 0-6: blocks - 1, bit 7: keep
 * the fuzzer's HMAC instead of computing the right one) followed by that
 * message's plaintext without its HMAC - which the target protects with
 * the client's HMAC chain and CBC stream, so the fuzzer reaches every
 * state behind the cryptography too.
 *
 * Invariants checked after every step: the output never exceeds its
 * buffer, sessions never exceed the limit, started ones never exceed the
 * accepted ones, every session the program was given is released or
 * stopped exactly once by the end, and nothing is read once closed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "crypto.h"
#include "fuzz.h"
#include "wire_control.h"

#define MAX_HANDLES 256

struct program {
	int next;
	uint8_t live[MAX_HANDLES]; /* 1 accepted, 2 started */
	int answer_mode;
	int calls;
};

static enum wire_accept p_request(void *arg, struct ctrl_server *s,
				  const struct ctrl_session_setup *st, int *handle, uint16_t *port,
				  char *why, size_t why_len)
{
	struct program *p = arg;
	(void)s;
	(void)st;
	p->calls++;
	static const enum wire_accept answers[] = { WIRE_ACCEPT_OK, WIRE_ACCEPT_TEMPORARY,
						    WIRE_ACCEPT_NOT_SUPPORTED, WIRE_ACCEPT_OK };
	enum wire_accept a = answers[(p->answer_mode + p->calls) & 3];
	if (p->answer_mode == 0)
		a = WIRE_ACCEPT_OK;
	if (a != WIRE_ACCEPT_OK || p->next >= MAX_HANDLES) {
		snprintf(why, why_len, "fuzz says no");
		return a != WIRE_ACCEPT_OK ? a : WIRE_ACCEPT_TEMPORARY;
	}
	*handle = p->next;
	p->live[p->next++] = 1;
	*port = 18760;
	return WIRE_ACCEPT_OK;
}

static void p_start(void *arg, struct ctrl_server *s, int h)
{
	struct program *p = arg;
	(void)s;
	if (h < 0 || h >= p->next || p->live[h] != 1)
		abort(); /* starting something unknown, released or already started */
	p->live[h] = 2;
}

static void p_stop(void *arg, struct ctrl_server *s, int h, int64_t timeout_ns)
{
	struct program *p = arg;
	(void)s;
	if (h < 0 || h >= p->next || p->live[h] != 2 || timeout_ns < 0)
		abort(); /* only started sessions are stopped */
	p->live[h] = 0;
}

static void p_release(void *arg, struct ctrl_server *s, int h)
{
	struct program *p = arg;
	(void)s;
	if (h < 0 || h >= p->next || p->live[h] != 1)
		abort(); /* only accepted, never started sessions are released */
	p->live[h] = 0;
}

static void p_log(void *arg, struct ctrl_server *s, int level, const char *msg)
{
	(void)arg;
	(void)s;
	if (level < 0 || level > 4 || !msg || !msg[0])
		abort();
}

static const struct ctrl_server_ops ops = {
	.session_request = p_request,
	.session_start = p_start,
	.session_stop = p_stop,
	.session_release = p_release,
	.log = p_log,
};

/* Deterministic randomness: a counter, so runs reproduce. */
static int det_random(void *arg, void *buf, size_t len)
{
	uint8_t *c = arg, *b = buf;
	for (size_t i = 0; i < len; i++)
		b[i] = (*c)++;
	return 0;
}

static int64_t det_now(void *arg)
{
	(void)arg;
	return 1700000000LL * 1000000000LL;
}

static void check(const struct ctrl_server *s)
{
	size_t len;
	ctrl_server_output(s, &len);
	if (len > CTRL_OUT_CAP || s->n_sessions > s->p.max_sessions ||
	    ctrl_server_running(s) > s->n_sessions)
		abort();
	if (s->state == CTRL_SRV_CLOSED && ctrl_server_want(s) != 0)
		abort();
}

static void drain(struct ctrl_server *s)
{
	size_t len;
	ctrl_server_output(s, &len);
	ctrl_server_output_done(s, len);
}

/* Feeds everything (in chunks), draining the output like a socket would. */
static void feed(struct ctrl_server *s, const uint8_t *d, size_t n, size_t chunk)
{
	size_t off = 0;
	while (off < n && ctrl_server_want(s) > 0) {
		size_t take = n - off < chunk ? n - off : chunk, used;
		if (ctrl_server_feed(s, d + off, take, &used) != 0 || used > take)
			abort();
		off += used;
		check(s);
		drain(s);
		if (used == 0)
			break;
	}
}

static const uint8_t secret[] = "fuzz-secret";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct crypto_keyfile kf;
	static bool keys_ready;
	if (!keys_ready) {
		static const char text[] = "fuzz text:fuzz-secret\n";
		if (crypto_keyfile_parse("fuzz", text, sizeof(text) - 1, &kf, NULL, 0) != 0)
			abort();
		keys_ready = true;
	}
	if (size < 2)
		return 0;
	uint8_t sc = data[0];
	uint32_t sec_bit = 1u << (sc & 3);
	bool isc = sc & 4;
	size_t chunk = (sc & 8) ? (size_t)(data[1] % 37) + 1 : (size_t)-1;
	data += 2;
	size -= 2;

	struct program prog = { .answer_mode = (sc >> 4) & 3 };
	uint8_t rs = 0x11, rc = 0x77;
	struct ctrl_env es = { .random = det_random, .now_ns = det_now, .arg = &rs };
	struct ctrl_env ec = { .random = det_random, .now_ns = det_now, .arg = &rc };
	uint32_t features = isc ? (WIRE_MODE_ISC | WIRE_MODE_REFLECT_OCTETS | WIRE_MODE_SYMMETRICAL |
				   WIRE_MODE_DSCP_ECN)
				: 0;
	struct ctrl_server_params sp = {
		.modes = 0xf | features,
		.count = 1024,
		.keys = &kf,
		.sid_addr = { 192, 0, 2, 1 },
		.max_sessions = 8,
		.max_timeout_ns = 5000000000LL,
	};
	struct ctrl_server s;
	if (ctrl_server_init(&s, &sp, &ops, &prog, &es) != 0)
		abort();
	size_t glen;
	const uint8_t *greeting = ctrl_server_output(&s, &glen);
	if (glen != WIRE_GREETING_LEN)
		abort();

	if (sec_bit == WIRE_MODE_OPEN) {
		drain(&s);
		feed(&s, data, size, chunk);
	} else {
		struct ctrl_client c;
		struct ctrl_client_params cp = {
			.want_mode = sec_bit,
			.want_features = features,
			.keyid = (const uint8_t *)"fuzz",
			.keyid_len = 4,
			.secret = secret,
			.secret_len = sizeof(secret) - 1,
		};
		if (ctrl_client_init(&c, &cp, &ec) != 0)
			abort();
		size_t used;
		if (ctrl_client_feed(&c, greeting, glen, &used) != CTRL_EV_GREETING)
			abort();
		drain(&s);
		size_t len;
		const uint8_t *p = ctrl_client_output(&c, &len);
		feed(&s, p, len, (size_t)-1);
		ctrl_client_output_done(&c, len);
		if (s.state != CTRL_SRV_READY)
			abort();
		/* Records: protected here with the client's chain and stream. */
		size_t off = 0;
		uint8_t msg[8 * 16];
		while (off < size && s.state != CTRL_SRV_CLOSED) {
			uint8_t hdr = data[off++];
			size_t blocks = (size_t)(hdr & 0x7f) % 8 + 1;
			size_t mlen = blocks * 16;
			bool keep_hmac = hdr & 0x80;
			size_t body = keep_hmac ? mlen : mlen - 16;
			memset(msg, 0, sizeof(msg));
			size_t take = size - off < body ? size - off : body;
			memcpy(msg, data + off, take);
			off += take;
			if (mlen >= 32 && !keep_hmac) {
				if (crypto_hmac_chain_feed(&c.ch.tx_mac, msg, mlen - 16) != 0 ||
				    crypto_hmac_chain_finish(&c.ch.tx_mac, msg + mlen - 16) != 0)
					abort();
			}
			if (crypto_stream_apply(&c.ch.tx, msg, mlen) != 0)
				abort();
			feed(&s, msg, mlen, chunk);
		}
		ctrl_client_free(&c);
	}
	check(&s);
	ctrl_server_free(&s);
	/* Every session handed out was released or stopped exactly once. */
	for (int h = 0; h < prog.next; h++)
		if (prog.live[h] != 0)
			abort();
	return 0;
}
