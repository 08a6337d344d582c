/*
 * Fuzz target for the TWAMP-Control codecs (common/wire_control.c).  Each
 * input is handed to every decoder.  Whenever one succeeds, the message is
 * re-encoded into an exact-size buffer and must equal the input's first
 * octets in canonical form: MBZ and Unused octets zeroed (decoders ignore
 * them, encoders write zeros), the 12 octets after an IPv4 address zeroed,
 * Accept values above 5 replaced by 1 (E23); decoding that again must give
 * the same struct.  A decoder must fail with -EBADMSG exactly when the input
 * is shorter than its message (or carries the wrong Command Number or an N
 * out of range), and the length wire_ctrl_msg_len() announces must be the
 * one the matching decoder consumes.  Any difference aborts.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "wire_control.h"

struct range {
	size_t from, to;
};

#define RANGES(a) (a), sizeof(a) / sizeof((a)[0])

static const struct range mbz_greeting[] = { { 0, 12 }, { 52, 64 } };
static const struct range mbz_server_start[] = { { 0, 15 }, { 40, 48 } };
static const struct range mbz_request[] = { { 92, 96 } };
static const struct range mbz_request_v4[] = { { 20, 32 }, { 36, 48 }, { 92, 96 } };
static const struct range mbz_accept[] = { { 1, 2 }, { 24, 32 } };
static const struct range mbz_short16[] = { { 1, 16 } };
static const struct range mbz_stop[] = { { 2, 4 }, { 8, 16 } };
static const struct range mbz_n_cmd[] = { { 1, 12 } };
static const struct range mbz_n_ack[] = { { 2, 12 } };

/* The canonical form of data[0..len): MBZ zeroed, Accept octet (if any) normalized. */
static void canonical(const uint8_t *data, size_t len, const struct range *mbz, size_t n_mbz,
		      long accept_at, uint8_t *out)
{
	memcpy(out, data, len);
	for (size_t k = 0; k < n_mbz; k++)
		memset(out + mbz[k].from, 0, mbz[k].to - mbz[k].from);
	if (accept_at >= 0)
		out[accept_at] = wire_accept_normalize(out[accept_at]);
}

static void expect_equal(const uint8_t *a, const uint8_t *b, size_t n)
{
	if (memcmp(a, b, n) != 0)
		abort();
}

/* Decoder result for a fixed-size message: success iff long enough (and valid when it is). */
static void expect_rc(int rc, size_t size, size_t need)
{
	if (size < need ? rc != -EBADMSG : rc != 0)
		abort();
}

/* Exact-size output buffers, so an encoder overrun shows under ASan. */
static uint8_t *exact(size_t n)
{
	uint8_t *p = malloc(n);

	if (!p)
		abort();
	return p;
}

static void check_greeting(const uint8_t *data, size_t size)
{
	struct wire_greeting m, again;
	memset(&m, 0, sizeof(m));
	int rc = wire_greeting_decode(data, size, &m);

	expect_rc(rc, size, WIRE_GREETING_LEN);
	if (rc)
		return;
	uint8_t *out = exact(WIRE_GREETING_LEN), want[WIRE_GREETING_LEN];
	if (wire_greeting_encode(&m, out, WIRE_GREETING_LEN) != WIRE_GREETING_LEN)
		abort();
	canonical(data, WIRE_GREETING_LEN, RANGES(mbz_greeting), -1, want);
	expect_equal(out, want, WIRE_GREETING_LEN);
	memset(&again, 0, sizeof(again));
	if (wire_greeting_decode(out, WIRE_GREETING_LEN, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	if (wire_greeting_encode(&m, out, WIRE_GREETING_LEN - 1) != -ENOSPC)
		abort();
	(void)wire_count_valid(m.count, WIRE_COUNT_DEFAULT_MAX);
	char names[160];
	(void)wire_modes_str(m.modes, names, sizeof(names));
	(void)wire_mode_valid(m.modes, WIRE_MODE_KNOWN_MASK);
	(void)wire_mode_test_security(m.modes);
	free(out);
}

static void check_setup(const uint8_t *data, size_t size)
{
	struct wire_setup_response m, again;
	memset(&m, 0, sizeof(m));
	memset(&again, 0, sizeof(again));
	int rc = wire_setup_response_decode(data, size, &m);

	expect_rc(rc, size, WIRE_SETUP_RESPONSE_LEN);
	if (rc)
		return;
	uint8_t *out = exact(WIRE_SETUP_RESPONSE_LEN);
	if (wire_setup_response_encode(&m, out, WIRE_SETUP_RESPONSE_LEN) != WIRE_SETUP_RESPONSE_LEN)
		abort();
	expect_equal(out, data, WIRE_SETUP_RESPONSE_LEN);
	if (wire_setup_response_decode(out, WIRE_SETUP_RESPONSE_LEN, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	if (wire_keyid_len(m.keyid) > WIRE_KEYID_LEN)
		abort();
	free(out);
}

static void check_server_start(const uint8_t *data, size_t size)
{
	struct wire_server_start m, again;
	memset(&m, 0, sizeof(m));
	int rc = wire_server_start_decode(data, size, &m);

	expect_rc(rc, size, WIRE_SERVER_START_LEN);
	if (rc)
		return;
	if (m.accept > WIRE_ACCEPT_TEMPORARY)
		abort();
	uint8_t *out = exact(WIRE_SERVER_START_LEN), want[WIRE_SERVER_START_LEN];
	if (wire_server_start_encode(&m, out, WIRE_SERVER_START_LEN) != WIRE_SERVER_START_LEN)
		abort();
	canonical(data, WIRE_SERVER_START_LEN, RANGES(mbz_server_start), 15, want);
	expect_equal(out, want, WIRE_SERVER_START_LEN);
	memset(&again, 0, sizeof(again));
	if (wire_server_start_decode(out, WIRE_SERVER_START_LEN, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	(void)wire_accept_name(data[15]);
	free(out);
}

static void check_request(const uint8_t *data, size_t size)
{
	struct wire_request_session m, again;
	memset(&m, 0, sizeof(m));
	int rc = wire_request_session_decode(data, size, &m);

	if (size >= WIRE_REQUEST_SESSION_LEN && data[0] != WIRE_CMD_REQUEST_TW_SESSION) {
		if (rc != -EBADMSG)
			abort();
		return;
	}
	expect_rc(rc, size, WIRE_REQUEST_SESSION_LEN);
	if (rc)
		return;
	uint8_t *out = exact(WIRE_REQUEST_SESSION_LEN), want[WIRE_REQUEST_SESSION_LEN];
	if (wire_request_session_encode(&m, out, WIRE_REQUEST_SESSION_LEN) != WIRE_REQUEST_SESSION_LEN)
		abort();
	if (m.ipvn == 4)
		canonical(data, WIRE_REQUEST_SESSION_LEN, RANGES(mbz_request_v4), -1, want);
	else
		canonical(data, WIRE_REQUEST_SESSION_LEN, RANGES(mbz_request), -1, want);
	want[1] &= 0x0f;
	expect_equal(out, want, WIRE_REQUEST_SESSION_LEN);
	memset(&again, 0, sizeof(again));
	if (wire_request_session_decode(out, WIRE_REQUEST_SESSION_LEN, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	uint8_t dscp;
	enum wire_accept a = wire_request_check(&m);
	if (a != WIRE_ACCEPT_OK && a != WIRE_ACCEPT_NOT_SUPPORTED)
		abort();
	if (wire_type_p_dscp(m.type_p, &dscp) == 0 && wire_type_p_from_dscp(dscp) != m.type_p)
		abort();
	free(out);
}

static void check_accept(const uint8_t *data, size_t size)
{
	struct wire_accept_session m, again;
	memset(&m, 0, sizeof(m));
	int rc = wire_accept_session_decode(data, size, &m);

	expect_rc(rc, size, WIRE_ACCEPT_SESSION_LEN);
	if (rc)
		return;
	uint8_t *out = exact(WIRE_ACCEPT_SESSION_LEN), want[WIRE_ACCEPT_SESSION_LEN];
	if (wire_accept_session_encode(&m, out, WIRE_ACCEPT_SESSION_LEN) != WIRE_ACCEPT_SESSION_LEN)
		abort();
	canonical(data, WIRE_ACCEPT_SESSION_LEN, RANGES(mbz_accept), 0, want);
	expect_equal(out, want, WIRE_ACCEPT_SESSION_LEN);
	memset(&again, 0, sizeof(again));
	if (wire_accept_session_decode(out, WIRE_ACCEPT_SESSION_LEN, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	free(out);
}

static void check_short(const uint8_t *data, size_t size)
{
	struct wire_start_sessions s, s2;
	struct wire_start_ack a, a2;
	struct wire_stop_sessions p, p2;
	uint8_t *out = exact(32), want[32];

	int rc = wire_start_sessions_decode(data, size, &s);
	if (size >= 32 && data[0] != WIRE_CMD_START_SESSIONS) {
		if (rc != -EBADMSG)
			abort();
	} else {
		expect_rc(rc, size, 32);
		if (rc == 0) {
			if (wire_start_sessions_encode(&s, out, 32) != 32)
				abort();
			canonical(data, 32, RANGES(mbz_short16), -1, want);
			expect_equal(out, want, 32);
			if (wire_start_sessions_decode(out, 32, &s2) != 0 || memcmp(&s, &s2, sizeof(s)))
				abort();
		}
	}

	memset(&a, 0, sizeof(a));
	rc = wire_start_ack_decode(data, size, &a);
	expect_rc(rc, size, 32);
	if (rc == 0) {
		if (wire_start_ack_encode(&a, out, 32) != 32)
			abort();
		canonical(data, 32, RANGES(mbz_short16), 0, want);
		expect_equal(out, want, 32);
		memset(&a2, 0, sizeof(a2));
		if (wire_start_ack_decode(out, 32, &a2) != 0 || memcmp(&a, &a2, sizeof(a)))
			abort();
	}

	memset(&p, 0, sizeof(p));
	rc = wire_stop_sessions_decode(data, size, &p);
	if (size >= 32 && data[0] != WIRE_CMD_STOP_SESSIONS) {
		if (rc != -EBADMSG)
			abort();
	} else {
		expect_rc(rc, size, 32);
		if (rc == 0) {
			if (wire_stop_sessions_encode(&p, out, 32) != 32)
				abort();
			canonical(data, 32, RANGES(mbz_stop), 1, want);
			expect_equal(out, want, 32);
			memset(&p2, 0, sizeof(p2));
			if (wire_stop_sessions_decode(out, 32, &p2) != 0 || memcmp(&p, &p2, sizeof(p)))
				abort();
		}
	}
	free(out);
}

static void check_n(const uint8_t *data, size_t size, int announced)
{
	static struct wire_n_sessions m, again;
	memset(&m, 0, sizeof(m));
	int rc = wire_n_sessions_decode(data, size, &m);

	if (size < 16) {
		if (rc != -EBADMSG)
			abort();
		return;
	}
	bool n_cmd = data[0] >= WIRE_CMD_START_N_SESSIONS && data[0] <= WIRE_CMD_STOP_N_ACK;
	if (!n_cmd || announced < 0) {
		if (rc != -EBADMSG)
			abort();
		return;
	}
	expect_rc(rc, size, (size_t)announced);
	if (rc)
		return;
	size_t len = (size_t)announced;
	if (len != WIRE_NSESSIONS_LEN(m.n))
		abort();
	uint8_t *out = exact(len), *want = exact(len);
	if (wire_n_sessions_encode(&m, out, len) != (int)len)
		abort();
	bool ack = data[0] == WIRE_CMD_START_N_ACK || data[0] == WIRE_CMD_STOP_N_ACK;
	if (ack)
		canonical(data, len, RANGES(mbz_n_ack), 1, want);
	else
		canonical(data, len, RANGES(mbz_n_cmd), -1, want);
	expect_equal(out, want, len);
	memset(&again, 0, sizeof(again));
	if (wire_n_sessions_decode(out, len, &again) != 0 || memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	if (wire_n_sessions_encode(&m, out, len - 1) != -ENOSPC)
		abort();
	free(out);
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t empty[1];
	int announced = -1;

	if (!data)
		data = empty; /* decoders treat a NULL buffer as a caller bug */

	if (size >= 16) {
		announced = wire_ctrl_msg_len(data, size);
		if (announced != -EBADMSG && (announced < 32 || announced > (int)WIRE_CTRL_MAX_LEN ||
					      announced % 16 != 0))
			abort();
		/* the announced length is the one the matching decoder needs */
		if (announced > 0 && (size_t)announced <= size) {
			struct wire_request_session r;
			struct wire_start_sessions s;
			struct wire_stop_sessions p;

			switch (data[0]) {
			case WIRE_CMD_REQUEST_TW_SESSION:
				if (wire_request_session_decode(data, (size_t)announced, &r) != 0)
					abort();
				break;
			case WIRE_CMD_START_SESSIONS:
				if (wire_start_sessions_decode(data, (size_t)announced, &s) != 0)
					abort();
				break;
			case WIRE_CMD_STOP_SESSIONS:
				if (wire_stop_sessions_decode(data, (size_t)announced, &p) != 0)
					abort();
				break;
			default:
				break;
			}
		}
	} else if (wire_ctrl_msg_len(data, size) != -EINVAL) {
		abort();
	}
	check_greeting(data, size);
	check_setup(data, size);
	check_server_start(data, size);
	check_request(data, size);
	check_accept(data, size);
	check_short(data, size);
	check_n(data, size, announced);
	return 0;
}
