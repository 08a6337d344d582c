/*
 * OpenSSL 3 EVP implementation of TWAMP's cryptography (see crypto.h).  All
 * ciphers run on whole 16-octet blocks with padding off, so every Update
 * returns exactly what it was given and Final is never needed: that is what
 * lets the control streams keep one CBC chain per direction for the life of
 * the connection (RFC 4656 §3.4), and lets the test-packet contexts be set
 * up once per session and only have their IV reset per packet (RFC 5357
 * §4.2.1 implementation note).  HMAC keys are passed again at every
 * restart instead of relying on a NULL-key re-init, whose behaviour changed
 * between OpenSSL 3.0 releases.  Decryption of a test packet happens in a
 * scratch copy so a forged packet leaves the caller's buffer untouched.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "crypto.h"

#define SHA1_LEN 20

static const uint8_t zero_iv[CRYPTO_IV_LEN];

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	if (len && !buf)
		return -EINVAL;
	while (len > 0) {
		int chunk = len > INT_MAX ? INT_MAX : (int)len;

		if (RAND_bytes(p, chunk) != 1)
			return -EIO;
		p += chunk;
		len -= (size_t)chunk;
	}
	return 0;
}

bool crypto_equal(const void *a, const void *b, size_t n)
{
	return CRYPTO_memcmp(a, b, n) == 0;
}

void crypto_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

int crypto_pbkdf2_sha1(const uint8_t *pass, size_t pass_len,
		       const uint8_t salt[CRYPTO_SALT_LEN], uint32_t count,
		       uint8_t out[CRYPTO_AES_KEY_LEN])
{
	if ((!pass && pass_len) || !salt || !out || count == 0 || count > INT_MAX ||
	    pass_len > INT_MAX)
		return -EINVAL;
	if (PKCS5_PBKDF2_HMAC(pass ? (const char *)pass : "", (int)pass_len, salt,
			      CRYPTO_SALT_LEN, (int)count, EVP_sha1(), CRYPTO_AES_KEY_LEN,
			      out) != 1)
		return -EIO;
	return 0;
}

/* One-shot AES-128 on whole blocks (ECB when iv is NULL, else CBC). */
static int aes_oneshot(bool encrypt, const uint8_t key[CRYPTO_AES_KEY_LEN], const uint8_t *iv,
		       const uint8_t *in, uint8_t *out, size_t len)
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	int outl = 0;
	int rc = -EIO;

	if (!ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(ctx, iv ? EVP_aes_128_cbc() : EVP_aes_128_ecb(), NULL, key, iv,
			      encrypt ? 1 : 0) == 1 &&
	    EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	    EVP_CipherUpdate(ctx, out, &outl, in, (int)len) == 1 && (size_t)outl == len)
		rc = 0;
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

int crypto_token_encrypt(const uint8_t k[CRYPTO_AES_KEY_LEN],
			 const uint8_t challenge[CRYPTO_CHALLENGE_LEN],
			 const struct crypto_session_keys *keys,
			 uint8_t token[CRYPTO_TOKEN_LEN])
{
	uint8_t plain[CRYPTO_TOKEN_LEN];

	if (!k || !challenge || !keys || !token)
		return -EINVAL;
	memcpy(plain, challenge, CRYPTO_CHALLENGE_LEN);
	memcpy(plain + 16, keys->aes, CRYPTO_AES_KEY_LEN);
	memcpy(plain + 32, keys->hmac, CRYPTO_HMAC_KEY_LEN);
	int rc = aes_oneshot(true, k, zero_iv, plain, token, sizeof(plain));
	crypto_wipe(plain, sizeof(plain));
	return rc;
}

int crypto_token_decrypt(const uint8_t k[CRYPTO_AES_KEY_LEN],
			 const uint8_t token[CRYPTO_TOKEN_LEN],
			 uint8_t challenge[CRYPTO_CHALLENGE_LEN],
			 struct crypto_session_keys *keys)
{
	uint8_t plain[CRYPTO_TOKEN_LEN];

	if (!k || !token || !challenge || !keys)
		return -EINVAL;
	int rc = aes_oneshot(false, k, zero_iv, token, plain, sizeof(plain));
	if (rc == 0) {
		memcpy(challenge, plain, CRYPTO_CHALLENGE_LEN);
		memcpy(keys->aes, plain + 16, CRYPTO_AES_KEY_LEN);
		memcpy(keys->hmac, plain + 32, CRYPTO_HMAC_KEY_LEN);
	}
	crypto_wipe(plain, sizeof(plain));
	return rc;
}

/* --- control stream ------------------------------------------------------ */

int crypto_stream_init(struct crypto_stream *s, enum crypto_dir dir,
		       const uint8_t key[CRYPTO_AES_KEY_LEN], const uint8_t iv[CRYPTO_IV_LEN])
{
	if (!s)
		return -EINVAL;
	s->ctx = NULL;
	s->dir = dir;
	if (!key || !iv || (dir != CRYPTO_ENCRYPT && dir != CRYPTO_DECRYPT))
		return -EINVAL;
	s->ctx = EVP_CIPHER_CTX_new();
	if (!s->ctx)
		return -ENOMEM;
	if (EVP_CipherInit_ex(s->ctx, EVP_aes_128_cbc(), NULL, key, iv,
			      dir == CRYPTO_ENCRYPT ? 1 : 0) != 1 ||
	    EVP_CIPHER_CTX_set_padding(s->ctx, 0) != 1)
		return -EIO;
	return 0;
}

int crypto_stream_apply(struct crypto_stream *s, uint8_t *buf, size_t len)
{
	int outl = 0;

	if (!s || !s->ctx || (len && !buf) || len % CRYPTO_BLOCK_LEN != 0 || len > INT_MAX)
		return -EINVAL;
	if (len == 0)
		return 0;
	if (EVP_CipherUpdate(s->ctx, buf, &outl, buf, (int)len) != 1 || (size_t)outl != len)
		return -EIO;
	return 0;
}

void crypto_stream_free(struct crypto_stream *s)
{
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->ctx); /* also cleanses the key schedule */
	s->ctx = NULL;
}

/* --- HMAC ---------------------------------------------------------------- */

/* A fresh HMAC-SHA1 context, initialised with key. */
static EVP_MAC_CTX *hmac_new(const uint8_t key[CRYPTO_HMAC_KEY_LEN])
{
	static char digest[] = "SHA1";
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
		OSSL_PARAM_construct_end(),
	};
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx;

	if (!mac)
		return NULL;
	ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac); /* the context holds its own reference */
	if (ctx && EVP_MAC_init(ctx, key, CRYPTO_HMAC_KEY_LEN, params) != 1) {
		EVP_MAC_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

/* Finishes the running HMAC into out (truncated) and restarts it with key. */
static int hmac_finish_restart(EVP_MAC_CTX *ctx, const uint8_t key[CRYPTO_HMAC_KEY_LEN],
			       uint8_t out[CRYPTO_HMAC_LEN])
{
	uint8_t full[SHA1_LEN];
	size_t outl = 0;
	int rc = 0;

	if (EVP_MAC_final(ctx, full, &outl, sizeof(full)) != 1 || outl != SHA1_LEN)
		rc = -EIO;
	else
		memcpy(out, full, CRYPTO_HMAC_LEN);
	if (EVP_MAC_init(ctx, key, CRYPTO_HMAC_KEY_LEN, NULL) != 1)
		rc = -EIO;
	crypto_wipe(full, sizeof(full));
	return rc;
}

int crypto_hmac_chain_init(struct crypto_hmac_chain *h, const uint8_t key[CRYPTO_HMAC_KEY_LEN])
{
	if (!h)
		return -EINVAL;
	h->ctx = NULL;
	if (!key)
		return -EINVAL;
	memcpy(h->key, key, CRYPTO_HMAC_KEY_LEN);
	h->ctx = hmac_new(key);
	return h->ctx ? 0 : -ENOMEM;
}

int crypto_hmac_chain_feed(struct crypto_hmac_chain *h, const void *p, size_t len)
{
	if (!h || !h->ctx || (len && !p))
		return -EINVAL;
	if (len == 0)
		return 0;
	return EVP_MAC_update(h->ctx, p, len) == 1 ? 0 : -EIO;
}

int crypto_hmac_chain_finish(struct crypto_hmac_chain *h, uint8_t out[CRYPTO_HMAC_LEN])
{
	if (!h || !h->ctx || !out)
		return -EINVAL;
	return hmac_finish_restart(h->ctx, h->key, out);
}

int crypto_hmac_chain_verify(struct crypto_hmac_chain *h, const uint8_t mac[CRYPTO_HMAC_LEN])
{
	uint8_t want[CRYPTO_HMAC_LEN];

	if (!h || !h->ctx || !mac)
		return -EINVAL;
	int rc = hmac_finish_restart(h->ctx, h->key, want);
	if (rc == 0 && !crypto_equal(want, mac, CRYPTO_HMAC_LEN))
		rc = -EBADMSG;
	return rc;
}

void crypto_hmac_chain_free(struct crypto_hmac_chain *h)
{
	if (!h)
		return;
	EVP_MAC_CTX_free(h->ctx);
	h->ctx = NULL;
	crypto_wipe(h->key, sizeof(h->key));
}

/* --- TWAMP-Test ---------------------------------------------------------- */

int crypto_test_keys_derive(const uint8_t sid[CRYPTO_SID_LEN],
			    const uint8_t aes_session_key[CRYPTO_AES_KEY_LEN],
			    const uint8_t hmac_session_key[CRYPTO_HMAC_KEY_LEN],
			    uint8_t test_aes[CRYPTO_AES_KEY_LEN],
			    uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN])
{
	if (!sid || !aes_session_key || !hmac_session_key || !test_aes || !test_hmac)
		return -EINVAL;
	int rc = aes_oneshot(true, sid, NULL, aes_session_key, test_aes, CRYPTO_AES_KEY_LEN);
	if (rc == 0)
		rc = aes_oneshot(true, sid, zero_iv, hmac_session_key, test_hmac,
				 CRYPTO_HMAC_KEY_LEN);
	return rc;
}

/* Protected span of a packet: HMAC over [0, covered), which is also what is encrypted. */
struct test_layout {
	size_t covered;
	size_t hmac_off;
	size_t hdr;
};

static int test_layout(enum wire_security sec, enum crypto_test_role role, struct test_layout *l)
{
	bool sender = role == CRYPTO_TEST_SENDER;

	if (role != CRYPTO_TEST_SENDER && role != CRYPTO_TEST_REFLECTOR)
		return -EINVAL;
	l->hdr = sender ? WIRE_SENDER_HDR_AUTH : WIRE_REFLECTOR_HDR_AUTH;
	l->hmac_off = l->hdr - CRYPTO_HMAC_LEN;
	if (sec == WIRE_SEC_AUTH)
		l->covered = CRYPTO_BLOCK_LEN;
	else if (sec == WIRE_SEC_ENC)
		l->covered = l->hmac_off;
	else
		return -EINVAL;
	return 0;
}

static EVP_CIPHER_CTX *test_cipher_new(enum wire_security sec, bool encrypt,
				       const uint8_t key[CRYPTO_AES_KEY_LEN])
{
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	const EVP_CIPHER *c = sec == WIRE_SEC_AUTH ? EVP_aes_128_ecb() : EVP_aes_128_cbc();

	if (ctx && (EVP_CipherInit_ex(ctx, c, NULL, key, sec == WIRE_SEC_AUTH ? NULL : zero_iv,
				      encrypt ? 1 : 0) != 1 ||
		    EVP_CIPHER_CTX_set_padding(ctx, 0) != 1)) {
		EVP_CIPHER_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

int crypto_test_init(struct crypto_test_ctx *t, enum wire_security sec,
		     const uint8_t test_aes[CRYPTO_AES_KEY_LEN],
		     const uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN])
{
	if (!t)
		return -EINVAL;
	memset(t, 0, sizeof(*t));
	t->sec = sec;
	if (sec == WIRE_SEC_OPEN)
		return 0;
	if ((sec != WIRE_SEC_AUTH && sec != WIRE_SEC_ENC) || !test_aes || !test_hmac)
		return -EINVAL;
	memcpy(t->hmac_key, test_hmac, CRYPTO_HMAC_KEY_LEN);
	t->enc = test_cipher_new(sec, true, test_aes);
	t->dec = test_cipher_new(sec, false, test_aes);
	t->mac = hmac_new(test_hmac);
	if (!t->enc || !t->dec || !t->mac)
		return -ENOMEM;
	return 0;
}

/*
 * Runs the packet cipher over in[0..len) into out.  CBC must not chain
 * from the previous packet (checklist B13), so its IV goes back to zero
 * first; padding is switched off again because a re-init may reset it.
 */
static int test_cipher(EVP_CIPHER_CTX *ctx, enum wire_security sec, const uint8_t *in,
		       uint8_t *out, size_t len)
{
	int outl = 0;

	if (sec == WIRE_SEC_ENC &&
	    (EVP_CipherInit_ex(ctx, NULL, NULL, NULL, zero_iv, -1) != 1 ||
	     EVP_CIPHER_CTX_set_padding(ctx, 0) != 1))
		return -EIO;
	if (EVP_CipherUpdate(ctx, out, &outl, in, (int)len) != 1 || (size_t)outl != len)
		return -EIO;
	return 0;
}

static int test_hmac(struct crypto_test_ctx *t, const uint8_t *p, size_t len,
		     uint8_t out[CRYPTO_HMAC_LEN])
{
	if (EVP_MAC_update(t->mac, p, len) != 1) {
		/* leave the context restarted for the next packet */
		(void)EVP_MAC_init(t->mac, t->hmac_key, CRYPTO_HMAC_KEY_LEN, NULL);
		return -EIO;
	}
	return hmac_finish_restart(t->mac, t->hmac_key, out);
}

int crypto_test_protect(struct crypto_test_ctx *t, enum crypto_test_role role,
			uint8_t *pkt, size_t len)
{
	struct test_layout l;

	if (!t || !pkt)
		return -EINVAL;
	if (t->sec == WIRE_SEC_OPEN)
		return 0;
	if (!t->enc || !t->mac || test_layout(t->sec, role, &l) != 0 || len < l.hdr)
		return -EINVAL;
	int rc = test_hmac(t, pkt, l.covered, pkt + l.hmac_off);
	if (rc == 0)
		rc = test_cipher(t->enc, t->sec, pkt, pkt, l.covered);
	return rc;
}

int crypto_test_unprotect(struct crypto_test_ctx *t, enum crypto_test_role role,
			  uint8_t *pkt, size_t len)
{
	uint8_t plain[WIRE_REFLECTOR_HDR_AUTH];
	uint8_t mac[CRYPTO_HMAC_LEN];
	struct test_layout l;

	if (!t || !pkt)
		return -EINVAL;
	if (t->sec == WIRE_SEC_OPEN)
		return 0;
	if (!t->dec || !t->mac || test_layout(t->sec, role, &l) != 0)
		return -EINVAL;
	if (len < l.hdr)
		return -EBADMSG;
	int rc = test_cipher(t->dec, t->sec, pkt, plain, l.covered);
	if (rc == 0)
		rc = test_hmac(t, plain, l.covered, mac);
	if (rc == 0 && !crypto_equal(mac, pkt + l.hmac_off, CRYPTO_HMAC_LEN))
		rc = -EBADMSG;
	if (rc == 0)
		memcpy(pkt, plain, l.covered);
	crypto_wipe(plain, sizeof(plain));
	return rc;
}

void crypto_test_free(struct crypto_test_ctx *t)
{
	if (!t)
		return;
	EVP_CIPHER_CTX_free(t->enc);
	EVP_CIPHER_CTX_free(t->dec);
	EVP_MAC_CTX_free(t->mac);
	t->enc = t->dec = NULL;
	t->mac = NULL;
	crypto_wipe(t->hmac_key, sizeof(t->hmac_key));
}

/* --- key file ------------------------------------------------------------ */

#define KEYFILE_MAX_SIZE (1024 * 1024)

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_ctrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int hex_val(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* True when s[0..n) is a non-empty, even run of hex digits (after an optional 0x). */
static bool looks_hex(const char *s, size_t n)
{
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n % 2 != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (hex_val(s[i]) < 0)
			return false;
	return true;
}

/* Decodes a string looks_hex() accepted; -EINVAL with *why when too long. */
static int hex_decode(const char *s, size_t n, struct crypto_key *out, const char **why)
{
	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n / 2 > CRYPTO_SECRET_MAX) {
		*why = "secret longer than 1024 octets";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i += 2)
		out->secret[i / 2] = (uint8_t)(hex_val(s[i]) << 4 | hex_val(s[i + 1]));
	out->secret_len = n / 2;
	return 0;
}

/* Strict UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. */
static bool utf8_valid(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = s[i];
		size_t need;
		uint32_t cp, min;

		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			need = 1, cp = c & 0x1f, min = 0x80;
		} else if ((c & 0xf0) == 0xe0) {
			need = 2, cp = c & 0x0f, min = 0x800;
		} else if ((c & 0xf8) == 0xf0) {
			need = 3, cp = c & 0x07, min = 0x10000;
		} else {
			return false;
		}
		if (n - i - 1 < need)
			return false;
		for (size_t k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += need + 1;
	}
	return true;
}

static int parse_secret(const char *s, size_t n, struct crypto_key *out, const char **why)
{
	bool text;

	if (n >= 4 && memcmp(s, "hex:", 4) == 0) {
		s += 4;
		n -= 4;
		if (!looks_hex(s, n)) {
			*why = "secret after \"hex:\" is not an even number of hex digits";
			return -EINVAL;
		}
		text = false;
	} else if (n >= 5 && memcmp(s, "text:", 5) == 0) {
		s += 5;
		n -= 5;
		text = true;
	} else {
		text = !looks_hex(s, n);
	}
	if (text) {
		if (n == 0) {
			*why = "empty secret";
			return -EINVAL;
		}
		if (n > CRYPTO_SECRET_MAX) {
			*why = "secret longer than 1024 octets";
			return -EINVAL;
		}
		for (size_t i = 0; i < n; i++)
			if (is_ctrl((unsigned char)s[i])) {
				*why = "control character in secret";
				return -EINVAL;
			}
		memcpy(out->secret, s, n);
		out->secret_len = n;
		return 0;
	}
	int rc = hex_decode(s, n, out, why);
	if (rc)
		return rc;
	/* RFC 5357 §3.1: the shared secret holds no newline, whatever its spelling (D12) */
	for (size_t i = 0; i < out->secret_len; i++)
		if (out->secret[i] == '\r' || out->secret[i] == '\n') {
			*why = "secret contains a CR or LF octet";
			return -EINVAL;
		}
	return 0;
}

int crypto_keyfile_parse_line(const char *line, size_t len, struct crypto_key *out,
			      const char **why)
{
	const char *dummy;
	size_t i = 0;

	if (!why)
		why = &dummy;
	*why = NULL;
	if ((!line && len) || !out) {
		*why = "invalid arguments";
		return -EINVAL;
	}
	if (len && line[len - 1] == '\n')
		len--;
	if (len && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len) || memchr(line, '\n', len) || memchr(line, '\r', len)) {
		*why = "NUL, CR or LF octet inside the line";
		return -EINVAL;
	}
	while (len && is_blank(line[len - 1]))
		len--;
	while (i < len && is_blank(line[i]))
		i++;
	if (i == len || line[i] == '#')
		return 0;

	size_t id_start = i;
	while (i < len && !is_blank(line[i]))
		i++;
	size_t id_len = i - id_start;
	if (id_len > CRYPTO_KEYID_MAX) {
		*why = "KeyID longer than 80 octets";
		return -EINVAL;
	}
	for (size_t k = id_start; k < i; k++)
		if (is_ctrl((unsigned char)line[k])) {
			*why = "control character in KeyID";
			return -EINVAL;
		}
	if (!utf8_valid((const unsigned char *)line + id_start, id_len)) {
		*why = "KeyID is not valid UTF-8";
		return -EINVAL;
	}
	while (i < len && is_blank(line[i]))
		i++;
	if (i == len) {
		*why = "missing secret after the KeyID";
		return -EINVAL;
	}

	memset(out, 0, sizeof(*out));
	memcpy(out->keyid, line + id_start, id_len);
	out->keyid[id_len] = '\0';
	out->keyid_len = id_len;
	int rc = parse_secret(line + i, len - i, out, why);
	if (rc) {
		crypto_wipe(out, sizeof(*out));
		return rc;
	}
	return 1;
}

/* Appends k; the array is moved by hand so old copies of secrets are wiped, not leaked. */
static int keyfile_add(struct crypto_keyfile *kf, const struct crypto_key *k)
{
	if (kf->n == kf->cap) {
		size_t cap = kf->cap ? 2 * kf->cap : 8;
		struct crypto_key *grown = calloc(cap, sizeof(*grown));

		if (!grown)
			return -ENOMEM;
		if (kf->n) {
			memcpy(grown, kf->keys, kf->n * sizeof(*grown));
			crypto_wipe(kf->keys, kf->n * sizeof(*kf->keys));
		}
		free(kf->keys);
		kf->keys = grown;
		kf->cap = cap;
	}
	kf->keys[kf->n++] = *k;
	return 0;
}

static void set_err(char *err, size_t err_len, const char *name, size_t line, const char *why)
{
	if (err && err_len)
		snprintf(err, err_len, "%s:%zu: %s", name ? name : "(keys)", line, why);
}

int crypto_keyfile_parse(const char *name, const char *text, size_t len,
			 struct crypto_keyfile *kf, char *err, size_t err_len)
{
	struct crypto_key k;
	size_t pos = 0, lineno = 0;
	int rc = 0;

	if (err && err_len)
		err[0] = '\0';
	if (!kf || (!text && len))
		return -EINVAL;
	kf->keys = NULL;
	kf->n = kf->cap = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) + 1 : len;
		const char *why = NULL;

		lineno++;
		rc = crypto_keyfile_parse_line(text + pos, end - pos, &k, &why);
		pos = end;
		if (rc < 0) {
			set_err(err, err_len, name, lineno, why);
			break;
		}
		if (rc == 0)
			continue;
		if (crypto_keyfile_find(kf, k.keyid, k.keyid_len)) {
			set_err(err, err_len, name, lineno, "duplicate KeyID");
			rc = -EINVAL;
			break;
		}
		rc = keyfile_add(kf, &k);
		if (rc < 0) {
			set_err(err, err_len, name, lineno, "out of memory");
			break;
		}
	}
	crypto_wipe(&k, sizeof(k));
	if (rc < 0) {
		crypto_keyfile_free(kf);
		return rc;
	}
	return 0;
}

int crypto_keyfile_load(const char *path, struct crypto_keyfile *kf, char *err, size_t err_len)
{
	struct stat st;
	char *buf = NULL;
	size_t n = 0;
	int rc;

	if (err && err_len)
		err[0] = '\0';
	if (!path || !kf)
		return -EINVAL;
	kf->keys = NULL;
	kf->n = kf->cap = 0;
	FILE *f = fopen(path, "r");
	if (!f) {
		rc = -errno;
		goto sys_err;
	}
	if (fstat(fileno(f), &st) != 0) {
		rc = -errno;
		goto sys_err;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto sys_err;
	}
	if (st.st_size > KEYFILE_MAX_SIZE) {
		rc = -EFBIG;
		goto sys_err;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		rc = -ENOMEM;
		goto sys_err;
	}
	n = fread(buf, 1, (size_t)st.st_size + 1, f);
	if (ferror(f) || n > (size_t)st.st_size) {
		rc = ferror(f) ? -EIO : -EFBIG; /* the file grew while being read */
		goto sys_err;
	}
	fclose(f);
	f = NULL;
	rc = crypto_keyfile_parse(path, buf, n, kf, err, err_len);
	crypto_wipe(buf, n);
	free(buf);
	return rc;

sys_err:
	if (err && err_len)
		snprintf(err, err_len, "%s: %s", path,
			 rc == -EINVAL ? "not a regular file" : strerror(-rc));
	if (f)
		fclose(f);
	if (buf) {
		crypto_wipe(buf, n);
		free(buf);
	}
	return rc;
}

const struct crypto_key *crypto_keyfile_find(const struct crypto_keyfile *kf,
					     const void *keyid, size_t len)
{
	if (!kf || (!keyid && len))
		return NULL;
	for (size_t i = 0; i < kf->n; i++)
		if (kf->keys[i].keyid_len == len && (len == 0 || memcmp(kf->keys[i].keyid, keyid, len) == 0))
			return &kf->keys[i];
	return NULL;
}

void crypto_keyfile_free(struct crypto_keyfile *kf)
{
	if (!kf)
		return;
	if (kf->keys) {
		crypto_wipe(kf->keys, kf->n * sizeof(*kf->keys));
		free(kf->keys);
	}
	kf->keys = NULL;
	kf->n = kf->cap = 0;
}
