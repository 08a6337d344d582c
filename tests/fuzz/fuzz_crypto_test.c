/*
 * Fuzz target for the receive side of common/crypto.c.  Each input is
 * unprotected as a Session-Sender and as a Session-Reflector packet in the
 * authenticated and encrypted modes, with the fixed test keys of
 * twamp-test.md §11.4 (so the corpus can hold genuine packets the fuzzer
 * mutates).  A rejected packet must be left exactly as received; an
 * accepted one must protect back to the input octet for octet; only inputs
 * shorter than the header may be rejected as short.  The same input is also
 * parsed as a key file (the other untrusted text the module reads): a
 * successful parse must yield keys within the documented limits that
 * crypto_keyfile_find() returns by their KeyID.  Any violation aborts.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "crypto.h"
#include "fuzz.h"
#include "wire_test.h"

/* twamp-test.md §11.4 test keys (from the twamp-control.md §12 session) */
static const uint8_t test_aes[16] = {
	0x68, 0x77, 0x59, 0x7a, 0xca, 0xb1, 0x79, 0xb3, 0xe3, 0x8d, 0x8c, 0xf0, 0xc4, 0xff, 0x25, 0xfe,
};
static const uint8_t test_hmac[32] = {
	0x63, 0x0d, 0xb0, 0xa1, 0x65, 0x0b, 0xf6, 0xbb, 0x4f, 0x7e, 0x33, 0x7d, 0x47, 0xaa, 0xec, 0x49,
	0x61, 0x9d, 0x67, 0x6a, 0x86, 0x5c, 0x26, 0x14, 0x4b, 0x43, 0x64, 0x8e, 0xb5, 0xf9, 0x94, 0x59,
};

static void check_packet(struct crypto_test_ctx *t, enum crypto_test_role role,
			 const uint8_t *data, size_t size)
{
	size_t hdr = role == CRYPTO_TEST_SENDER ? WIRE_SENDER_HDR_AUTH : WIRE_REFLECTOR_HDR_AUTH;
	uint8_t *pkt = malloc(size ? size : 1); /* exact size: ASan sees over-reads */

	if (!pkt)
		abort();
	if (size)
		memcpy(pkt, data, size);
	int rc = crypto_test_unprotect(t, role, pkt, size);
	if (rc == 0) {
		if (size < hdr)
			abort();
		if (crypto_test_protect(t, role, pkt, size) != 0)
			abort();
		if (memcmp(pkt, data, size) != 0)
			abort();
	} else {
		if (rc != -EBADMSG)
			abort();
		if (size && memcmp(pkt, data, size) != 0)
			abort();
	}
	free(pkt);
}

static void check_keyfile(const uint8_t *data, size_t size)
{
	struct crypto_keyfile kf = { 0 };
	char err[256];

	int rc = crypto_keyfile_parse("fuzz", (const char *)data, size, &kf, err, sizeof(err));
	if (rc == 0) {
		for (size_t i = 0; i < kf.n; i++) {
			const struct crypto_key *k = &kf.keys[i];

			if (k->keyid_len == 0 || k->keyid_len > CRYPTO_KEYID_MAX ||
			    strlen(k->keyid) != k->keyid_len || k->secret_len == 0 ||
			    k->secret_len > CRYPTO_SECRET_MAX)
				abort();
			if (memchr(k->secret, '\n', k->secret_len) || memchr(k->secret, '\r', k->secret_len))
				abort();
			if (crypto_keyfile_find(&kf, k->keyid, k->keyid_len) != k)
				abort();
		}
	} else if (rc != -EINVAL || (kf.n != 0 || kf.keys != NULL) ||
		   strncmp(err, "fuzz:", 5) != 0) {
		abort();
	}
	crypto_keyfile_free(&kf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct crypto_test_ctx auth, enc;
	static int ready;
	static const uint8_t empty[1];

	if (!data)
		data = empty;
	if (!ready) {
		/* set up once, as a session does; never freed (process lifetime) */
		if (crypto_test_init(&auth, WIRE_SEC_AUTH, test_aes, test_hmac) != 0 ||
		    crypto_test_init(&enc, WIRE_SEC_ENC, test_aes, test_hmac) != 0)
			abort();
		ready = 1;
	}
	if (size > WIRE_MAX_PACKET)
		return 0;
	check_packet(&auth, CRYPTO_TEST_SENDER, data, size);
	check_packet(&auth, CRYPTO_TEST_REFLECTOR, data, size);
	check_packet(&enc, CRYPTO_TEST_SENDER, data, size);
	check_packet(&enc, CRYPTO_TEST_REFLECTOR, data, size);
	check_keyfile(data, size);
	return 0;
}
