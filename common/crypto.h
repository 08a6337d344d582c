/*
 * Cryptography of TWAMP's authenticated, encrypted and mixed modes
 * (RFC 4656 §3.1-§3.4, §4.1.2; RFC 5357 §3.2, §4.2.1; spec twamp-control.md
 * §11 and twamp-test.md §9) on OpenSSL 3 EVP: the PBKDF2 key, the Token,
 * the per-direction AES-CBC control stream and its running HMAC chain, the
 * test-session keys and the protection of test packets, plus the KeyID ->
 * shared secret file.  Everything returns 0 or a negative errno code, never
 * prints and never exits.  Contexts are plain structs owned by the caller:
 * zero them (or call the init function) before use and release them with
 * the matching free function, which is safe on a zeroed or freed context.
 * Key material held by a context is wiped when it is freed.
 */
#ifndef TK_CRYPTO_H
#define TK_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire_test.h"

#define CRYPTO_BLOCK_LEN 16        /* AES block */
#define CRYPTO_AES_KEY_LEN 16      /* AES-128 key, PBKDF2 output (spec §11.1) */
#define CRYPTO_HMAC_KEY_LEN 32     /* HMAC Session-key */
#define CRYPTO_HMAC_LEN 16         /* HMAC-SHA1 truncated to 16 octets */
#define CRYPTO_SALT_LEN 16
#define CRYPTO_CHALLENGE_LEN 16
#define CRYPTO_IV_LEN 16
#define CRYPTO_SID_LEN 16
#define CRYPTO_TOKEN_LEN 64        /* Challenge 16 + AES key 16 + HMAC key 32 */
#define CRYPTO_KEYID_MAX 80        /* KeyID field of Set-Up-Response */
#define CRYPTO_SECRET_MAX 1024     /* longest shared secret the key file accepts */

/* OpenSSL context types, forward-declared so users need no OpenSSL headers. */
struct evp_cipher_ctx_st;
struct evp_mac_ctx_st;

/* The two keys the client puts in the Token (RFC 4656 §3.1). */
struct crypto_session_keys {
	uint8_t aes[CRYPTO_AES_KEY_LEN];
	uint8_t hmac[CRYPTO_HMAC_KEY_LEN];
};

/* Cryptographically strong random octets (RAND_bytes).  0 or -EIO. */
int crypto_random(void *buf, size_t len);

/*
 * K = PBKDF2-HMAC-SHA1(passphrase, salt, count, 16) (spec §11.1-§11.2).
 * pass may be NULL only when pass_len is 0.  -EINVAL on count 0, on NULL
 * salt/out or on lengths OpenSSL cannot take; -EIO when OpenSSL fails.
 */
int crypto_pbkdf2_sha1(const uint8_t *pass, size_t pass_len,
		       const uint8_t salt[CRYPTO_SALT_LEN], uint32_t count,
		       uint8_t out[CRYPTO_AES_KEY_LEN]);

/*
 * Token = AES-128-CBC(key = k, IV = 0) of Challenge || AES key || HMAC key
 * (spec §11.2), 64 octets.  0, -EINVAL on NULL arguments, -EIO.
 */
int crypto_token_encrypt(const uint8_t k[CRYPTO_AES_KEY_LEN],
			 const uint8_t challenge[CRYPTO_CHALLENGE_LEN],
			 const struct crypto_session_keys *keys,
			 uint8_t token[CRYPTO_TOKEN_LEN]);

/*
 * The inverse: splits the decrypted Token into its Challenge and the
 * session keys.  Comparing the Challenge with the one sent is the caller's
 * job (crypto_equal()).  0, -EINVAL, -EIO.
 */
int crypto_token_decrypt(const uint8_t k[CRYPTO_AES_KEY_LEN],
			 const uint8_t token[CRYPTO_TOKEN_LEN],
			 uint8_t challenge[CRYPTO_CHALLENGE_LEN],
			 struct crypto_session_keys *keys);

/* Constant-time equality of two n-octet buffers (CRYPTO_memcmp, checklist F8). */
bool crypto_equal(const void *a, const void *b, size_t n);

/* Overwrites memory so key material does not linger (OPENSSL_cleanse). */
void crypto_wipe(void *p, size_t n);

/*
 * One direction of the TWAMP-Control stream (spec §11.3): AES-128-CBC with
 * the AES Session-key, initialised once with the Client-IV or Server-IV;
 * the CBC state carries over from message to message and is never reset
 * while the connection lives.
 */
enum crypto_dir {
	CRYPTO_ENCRYPT = 0,
	CRYPTO_DECRYPT,
};

struct crypto_stream {
	struct evp_cipher_ctx_st *ctx;
	enum crypto_dir dir;
};

/*
 * s must be zeroed or freed (not live).  0, -EINVAL (NULL key/iv, bad
 * dir), -ENOMEM, -EIO.  Free it even after a failure.
 */
int crypto_stream_init(struct crypto_stream *s, enum crypto_dir dir,
		       const uint8_t key[CRYPTO_AES_KEY_LEN], const uint8_t iv[CRYPTO_IV_LEN]);

/*
 * Encrypts or decrypts buf[0..len) in place, continuing the chain.  len
 * must be a multiple of 16 (0 is a no-op): -EINVAL otherwise, or when the
 * stream is not initialised; -EIO if OpenSSL fails (the stream is then
 * unusable: close the connection).
 */
int crypto_stream_apply(struct crypto_stream *s, uint8_t *buf, size_t len);

void crypto_stream_free(struct crypto_stream *s);

/*
 * The running HMAC of one control direction (spec §11.4): every octet sent
 * or received in plaintext since the previous HMAC field is fed in; at an
 * HMAC field the truncated HMAC-SHA1 is produced (or verified) and the
 * chain restarts with the same key.
 */
struct crypto_hmac_chain {
	struct evp_mac_ctx_st *ctx;
	uint8_t key[CRYPTO_HMAC_KEY_LEN];
};

/* h must be zeroed or freed.  0, -EINVAL, -ENOMEM, -EIO.  Free it even after a failure. */
int crypto_hmac_chain_init(struct crypto_hmac_chain *h, const uint8_t key[CRYPTO_HMAC_KEY_LEN]);

/* Appends p[0..len) (p may be NULL when len is 0).  0, -EINVAL, -EIO. */
int crypto_hmac_chain_feed(struct crypto_hmac_chain *h, const void *p, size_t len);

/* Writes the 16-octet HMAC of everything fed since the last restart, then restarts. */
int crypto_hmac_chain_finish(struct crypto_hmac_chain *h, uint8_t out[CRYPTO_HMAC_LEN]);

/*
 * Compares mac with the HMAC of everything fed since the last restart, in
 * constant time, then restarts.  0 when equal, -EBADMSG when not (F5),
 * -EINVAL/-EIO on misuse or OpenSSL failure.
 */
int crypto_hmac_chain_verify(struct crypto_hmac_chain *h, const uint8_t mac[CRYPTO_HMAC_LEN]);

void crypto_hmac_chain_free(struct crypto_hmac_chain *h);

/*
 * Test-session keys (twamp-test.md §9, checklist C21):
 *   test_aes  = AES-128-ECB(key = SID, AES Session-key)
 *   test_hmac = AES-128-CBC(key = SID, IV = 0, HMAC Session-key)
 * 0, -EINVAL, -EIO.
 */
int crypto_test_keys_derive(const uint8_t sid[CRYPTO_SID_LEN],
			    const uint8_t aes_session_key[CRYPTO_AES_KEY_LEN],
			    const uint8_t hmac_session_key[CRYPTO_HMAC_KEY_LEN],
			    uint8_t test_aes[CRYPTO_AES_KEY_LEN],
			    uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN]);

/*
 * Protection of TWAMP-Test packets of one session (twamp-test.md §9); the
 * cipher and MAC contexts are set up once per session.  The same keys serve
 * both directions.
 *
 * | sec  | packet    | encrypted            | HMAC over | HMAC at |
 * | AUTH | sender    | 0-15, AES-ECB        | 0-15      | 32-47   |
 * | AUTH | reflector | 0-15, AES-ECB        | 0-15      | 96-111  |
 * | ENC  | sender    | 0-31, AES-CBC IV 0   | 0-31      | 32-47   |
 * | ENC  | reflector | 0-95, AES-CBC IV 0   | 0-95      | 96-111  |
 *
 * CBC restarts from IV 0 for every packet (checklist B13).  WIRE_SEC_OPEN
 * (unauthenticated and mixed mode) needs no keys and protect/unprotect do
 * nothing.
 */
enum crypto_test_role {
	CRYPTO_TEST_SENDER = 0,
	CRYPTO_TEST_REFLECTOR,
};

struct crypto_test_ctx {
	enum wire_security sec;
	struct evp_cipher_ctx_st *enc;   /* ECB (AUTH) or CBC (ENC) */
	struct evp_cipher_ctx_st *dec;
	struct evp_mac_ctx_st *mac;
	uint8_t hmac_key[CRYPTO_HMAC_KEY_LEN];
};

/*
 * t must be zeroed or freed.  test_aes/test_hmac come from
 * crypto_test_keys_derive(); both may be NULL for WIRE_SEC_OPEN.  0, -EINVAL, -ENOMEM, -EIO.  Free it even after a failure.
 */
int crypto_test_init(struct crypto_test_ctx *t, enum wire_security sec,
		     const uint8_t test_aes[CRYPTO_AES_KEY_LEN],
		     const uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN]);

/*
 * Turns an encoded plaintext packet (wire_sender_encode/wire_reflector_encode
 * with the same sec) into its wire form in place: computes the HMAC over
 * the covered plaintext into its field, then encrypts.  The header must be
 * complete: -EINVAL when len is below 48 (sender) or 112 (reflector) in
 * AUTH/ENC mode, or on bad arguments; -EIO if OpenSSL fails.
 */
int crypto_test_protect(struct crypto_test_ctx *t, enum crypto_test_role role,
			uint8_t *pkt, size_t len);

/*
 * The receive side, in place: decrypts, then verifies the HMAC in constant
 * time (RFC 5357 §4.2; checklist B14, C20).  -EBADMSG when the packet is
 * too short or the HMAC does not match; pkt is then left as received.
 * -EINVAL on bad arguments, -EIO if OpenSSL fails.
 */
int crypto_test_unprotect(struct crypto_test_ctx *t, enum crypto_test_role role,
			  uint8_t *pkt, size_t len);

void crypto_test_free(struct crypto_test_ctx *t);

/*
 * Shared secrets, one per line:
 *
 *     # comment (a line whose first non-blank character is '#')
 *     KeyID   secret
 *
 * KeyID: the first run of non-blank octets, 1 to 80 octets of valid UTF-8
 * (RFC 4656 §3.1, checklist D11); no blanks inside.  Then one or more
 * spaces or tabs, then the secret, which runs to the end of the line minus
 * trailing blanks (and a CR before the LF).  The secret is read as:
 *
 *   "hex:" + hex digits   -> those octets (an error if not valid hex)
 *   "text:" + anything    -> the rest of the line, literally
 *   [0x|0X] + hex digits  -> those octets, when the digits are non-empty,
 *                            even in number and all hex (twampd's pfs files,
 *                            e.g. "labuser 6c6162736563726574")
 *   anything else         -> the literal text
 *
 * So a passphrase that happens to look like hex ("deadbeef", "0x1234")
 * must be written "text:deadbeef", and one with leading or trailing blanks
 * must be given in hex.  Secrets are 1 to CRYPTO_SECRET_MAX octets and hold
 * no CR or LF octet even when given in hex (RFC 5357 §3.1, checklist D12);
 * text secrets hold no control characters.  Blank lines are ignored; a
 * KeyID may appear only once per file.
 */
struct crypto_key {
	char keyid[CRYPTO_KEYID_MAX + 1];    /* NUL-terminated */
	size_t keyid_len;
	uint8_t secret[CRYPTO_SECRET_MAX];
	size_t secret_len;
};

struct crypto_keyfile {
	struct crypto_key *keys;             /* owned; freed by crypto_keyfile_free() */
	size_t n;
	size_t cap;                          /* allocated entries */
};

/*
 * Parses one line (without or with its trailing "\n"/"\r\n"; len octets, no
 * NUL needed).  Returns 1 and fills *out for a key line, 0 for a blank or
 * comment line, -EINVAL for a malformed line with *why pointing at a static
 * English reason (why may be NULL).
 */
int crypto_keyfile_parse_line(const char *line, size_t len, struct crypto_key *out,
			      const char **why);

/*
 * Parses a whole key file held in text[0..len).  name is used in error
 * messages only.  On error, err (if not NULL) receives "name:line: reason"
 * and kf is left empty.  0, -EINVAL (syntax, duplicate KeyID), -ENOMEM.
 * kf must be zeroed or freed before; the caller frees it.
 */
int crypto_keyfile_parse(const char *name, const char *text, size_t len,
			 struct crypto_keyfile *kf, char *err, size_t err_len);

/*
 * Reads and parses the file at path (as crypto_keyfile_parse).  Open and
 * read errors return -errno with err = "path: strerror".
 */
int crypto_keyfile_load(const char *path, struct crypto_keyfile *kf, char *err, size_t err_len);

/* The key named keyid[0..len) (exact octets), or NULL. */
const struct crypto_key *crypto_keyfile_find(const struct crypto_keyfile *kf,
					     const void *keyid, size_t len);

/* Wipes and frees every key; kf becomes empty. */
void crypto_keyfile_free(struct crypto_keyfile *kf);

#endif
