/*
 * Fuzz target for the TWAMP-Test codecs (common/wire_test.c).  Each input
 * is decoded as a sender packet and as a reflector packet in every security
 * mode, with and without the RFC 7750 octet.  Whenever a decode succeeds,
 * the packet is re-encoded with the input's own padding: the result must be
 * the input with its MBZ octets zeroed (decoders ignore MBZ, encoders write
 * zeros), and decoding it again must give the same struct.  Any difference
 * aborts, which libFuzzer and the replay driver both report.  The NTP and
 * Error Estimate helpers get the first octets too, for the sanitizers.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "tstamp.h"
#include "wire_test.h"

struct range {
	size_t from, to;
};

/* MBZ octets of each layout (spec twamp-test.md §4.2, §5.1-§5.3). */
static const struct range mbz_sender_auth[] = { { 4, 16 }, { 26, 32 } };
static const struct range mbz_refl_open[] = { { 38, 40 } };
static const struct range mbz_refl_open_dscp[] = { { 38, 40 }, { 42, 44 } };
static const struct range mbz_refl_auth[] = {
	{ 4, 16 }, { 26, 32 }, { 40, 48 }, { 52, 64 }, { 74, 80 }, { 81, 96 },
};
static const struct range mbz_refl_auth_dscp[] = {
	{ 4, 16 }, { 26, 32 }, { 40, 48 }, { 52, 64 }, { 74, 80 }, { 82, 96 },
};

#define RANGES(a) (a), sizeof(a) / sizeof((a)[0])

/* The octets an encoder must produce from data: MBZ zeroed, all else kept. */
static void expect_canonical(const uint8_t *data, const uint8_t *out, size_t size,
			     const struct range *mbz, size_t n_mbz)
{
	for (size_t i = 0; i < size; i++) {
		bool zero = false;

		for (size_t k = 0; k < n_mbz; k++)
			if (i >= mbz[k].from && i < mbz[k].to)
				zero = true;
		if (out[i] != (zero ? 0 : data[i]))
			abort();
	}
}

static void check_sender(const uint8_t *data, size_t size, enum wire_security sec, uint8_t *out)
{
	struct wire_sender m, again;
	size_t hdr = wire_sender_hdr_len(sec);
	int rc = wire_sender_decode(data, size, sec, &m);

	if (size < hdr) {
		if (rc != -EBADMSG)
			abort();
		return;
	}
	if (rc != 0)
		abort();
	if (wire_sender_encode(&m, sec, data + hdr, size - hdr, out, size) != (int)size)
		abort();
	if (sec == WIRE_SEC_OPEN)
		expect_canonical(data, out, size, NULL, 0);
	else
		expect_canonical(data, out, size, RANGES(mbz_sender_auth));
	if (wire_sender_decode(out, size, sec, &again) != 0 || memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	/* one octet less room must fail cleanly */
	if (wire_sender_encode(&m, sec, data + hdr, size - hdr, out, size - 1) != -ENOSPC)
		abort();
}

static void check_reflector(const uint8_t *data, size_t size, enum wire_security sec, bool dscp,
			    uint8_t *out)
{
	struct wire_reflector m, again;
	size_t hdr = wire_reflector_hdr_len(sec, dscp);
	int rc = wire_reflector_decode(data, size, sec, dscp, &m);

	if (size < hdr) {
		if (rc != -EBADMSG)
			abort();
		return;
	}
	if (rc != 0 || m.has_dscp_ecn != dscp)
		abort();
	if (sec != WIRE_SEC_OPEN && m.ssid != 0)
		abort(); /* SSID exists only in the open layout */
	if (wire_reflector_encode(&m, sec, data + hdr, size - hdr, out, size) != (int)size)
		abort();
	if (sec == WIRE_SEC_OPEN && dscp)
		expect_canonical(data, out, size, RANGES(mbz_refl_open_dscp));
	else if (sec == WIRE_SEC_OPEN)
		expect_canonical(data, out, size, RANGES(mbz_refl_open));
	else if (dscp)
		expect_canonical(data, out, size, RANGES(mbz_refl_auth_dscp));
	else
		expect_canonical(data, out, size, RANGES(mbz_refl_auth));
	if (wire_reflector_decode(out, size, sec, dscp, &again) != 0 ||
	    memcmp(&m, &again, sizeof(m)) != 0)
		abort();
	if (wire_reflector_encode(&m, sec, data + hdr, size - hdr, out, size - 1) != -ENOSPC)
		abort();
}

static void check_time(const uint8_t *data, size_t size)
{
	if (size < 16)
		return;
	ntp64_t t = wire_get_ntp64(data);
	int64_t ref = (int64_t)wire_get_ntp64(data + 8);
	uint16_t ee = (uint16_t)(data[0] << 8 | data[1]);
	uint8_t b[8];

	wire_put_ntp64(b, t);
	if (memcmp(b, data, 8) != 0)
		abort();
	(void)ts_ntp_to_unix_ns(t, ref);
	(void)ts_ntp_diff_ns(t, (ntp64_t)ref);
	(void)ts_ntp_from_unix_ns(ref);
	/* an encoded estimate never shrinks the bound and never has Multiplier 0 */
	uint64_t err = ts_ee_error_ns(ee);
	uint16_t w = ts_ee_encode(ts_ee_synced(ee), err);
	if (!ts_ee_valid(w) || ts_ee_error_ns(w) < err || ts_ee_synced(w) != ts_ee_synced(ee))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum wire_security secs[] = { WIRE_SEC_OPEN, WIRE_SEC_AUTH, WIRE_SEC_ENC };

	if (size > WIRE_MAX_PACKET)
		return 0;
	/* exact-size output, so an encoder overrun is caught by ASan */
	uint8_t *out = malloc(size ? size : 1);
	if (!out)
		return 0;
	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++) {
		check_sender(data, size, secs[i], out);
		check_reflector(data, size, secs[i], false, out);
		check_reflector(data, size, secs[i], true, out);
	}
	check_time(data, size);
	free(out);
	return 0;
}
