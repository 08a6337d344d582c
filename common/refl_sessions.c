/*
 * Session table of the stateful TWAMP-Light reflector (see refl_sessions.h).
 * The reflector answers whoever sends to it, so every structure here is
 * sized once for max_sessions and addressed by 32-bit indices: a hash table
 * with chaining through the entries, a doubly-linked LRU list (head = most
 * recently used) and a free list.  Packets from spoofed sources can then
 * only recycle entries, never grow memory or chains: the bucket hash is
 * SipHash-1-3 under a key drawn from getrandom() at creation, so a remote
 * sender who does not know the key cannot choose 5-tuples that pile into
 * one bucket.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/random.h>
#endif

#include "refl_sessions.h"

#define REFL_NIL UINT32_MAX
/* Keeps 2 * max_sessions buckets and every index below REFL_NIL. */
#define REFL_MAX_SESSIONS (1u << 28)
#define REFL_KEY_OCTETS 36

struct refl_table {
	struct refl_session *ent;    /* max entries, preallocated */
	uint32_t *bucket;            /* heads of the hash chains */
	uint32_t bucket_mask;        /* bucket count - 1 (power of two) */
	uint32_t max;
	uint32_t lru_head;           /* most recently used */
	uint32_t lru_tail;           /* least recently used: expiry and eviction start here */
	uint32_t free_head;          /* free entries chained through hnext */
	int64_t refwait_ns;
	uint64_t sip_k0, sip_k1;
	struct refl_table_stats stats;
};

/* --- SipHash-1-3 (Aumasson & Bernstein), 64-bit output ------------------ */

#define REFL_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void refl_sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = REFL_ROTL(v[1], 13); v[1] ^= v[0]; v[0] = REFL_ROTL(v[0], 32);
	v[2] += v[3]; v[3] = REFL_ROTL(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = REFL_ROTL(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = REFL_ROTL(v[1], 17); v[1] ^= v[2]; v[2] = REFL_ROTL(v[2], 32);
}

static uint64_t refl_load_le64(const uint8_t *p)
{
	uint64_t r = 0;

	for (int i = 7; i >= 0; i--)
		r = (r << 8) | p[i];
	return r;
}

static uint64_t refl_siphash13(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v[4] = {
		0x736f6d6570736575ULL ^ k0, 0x646f72616e646f6dULL ^ k1,
		0x6c7967656e657261ULL ^ k0, 0x7465646279746573ULL ^ k1,
	};
	size_t full = len & ~(size_t)7;
	uint64_t b = (uint64_t)len << 56;
	uint64_t m;

	for (size_t i = 0; i < full; i += 8) {
		m = refl_load_le64(in + i);
		v[3] ^= m;
		refl_sip_round(v);
		v[0] ^= m;
	}
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v[3] ^= b;
	refl_sip_round(v);
	v[0] ^= b;
	v[2] ^= 0xff;
	refl_sip_round(v);
	refl_sip_round(v);
	refl_sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* --- keys ------------------------------------------------------------------ */

static void refl_key_set_addr(uint8_t out[16], uint16_t *port, const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET) {
		struct sockaddr_in sin;

		/* Copy out: the caller's buffer need not be aligned for sockaddr_in. */
		memcpy(&sin, sa, sizeof(sin));
		memset(out, 0, 10);
		out[10] = 0xff;
		out[11] = 0xff;
		memcpy(out + 12, &sin.sin_addr.s_addr, 4);
		*port = ntohs(sin.sin_port);
	} else {
		struct sockaddr_in6 sin6;

		memcpy(&sin6, sa, sizeof(sin6));
		memcpy(out, sin6.sin6_addr.s6_addr, 16);
		*port = ntohs(sin6.sin6_port);
	}
}

int refl_key_from_addrs(struct refl_key *key, const struct sockaddr *local,
			const struct sockaddr *remote)
{
	if (key == NULL || local == NULL || remote == NULL)
		return -EINVAL;
	if ((local->sa_family != AF_INET && local->sa_family != AF_INET6) ||
	    (remote->sa_family != AF_INET && remote->sa_family != AF_INET6))
		return -EAFNOSUPPORT;
	memset(key, 0, sizeof(*key));
	/*
	 * Families may differ (a dual-stack socket reports v4-mapped IPv6 for
	 * one side); mapping IPv4 to ::ffff:a.b.c.d makes both spellings one key.
	 * The IPv6 scope id is not part of the key: link-local senders with the
	 * same address on two interfaces share a session.
	 */
	refl_key_set_addr(key->local, &key->local_port, local);
	refl_key_set_addr(key->remote, &key->remote_port, remote);
	return 0;
}

static bool refl_key_equal(const struct refl_key *a, const struct refl_key *b)
{
	return a->local_port == b->local_port && a->remote_port == b->remote_port &&
	       memcmp(a->remote, b->remote, 16) == 0 &&
	       memcmp(a->local, b->local, 16) == 0;
}

static uint32_t refl_bucket_of(const struct refl_table *t, const struct refl_key *k)
{
	uint8_t buf[REFL_KEY_OCTETS];

	/* Serialized field by field so struct padding never reaches the hash. */
	memcpy(buf, k->local, 16);
	memcpy(buf + 16, k->remote, 16);
	buf[32] = (uint8_t)(k->local_port >> 8);
	buf[33] = (uint8_t)k->local_port;
	buf[34] = (uint8_t)(k->remote_port >> 8);
	buf[35] = (uint8_t)k->remote_port;
	return (uint32_t)refl_siphash13(t->sip_k0, t->sip_k1, buf, sizeof(buf)) &
	       t->bucket_mask;
}

/* --- table ----------------------------------------------------------------- */

/*
 * The hash key needs no more than unpredictability to a remote sender.
 * GRND_NONBLOCK keeps a reflector started early at boot from hanging; if
 * the kernel cannot supply bytes yet, clocks, pid and an address are mixed
 * instead: weaker, but collisions then only cost speed, never correctness.
 */
static void refl_seed(struct refl_table *t)
{
	uint64_t k[2] = { 0, 0 };
	bool ok = false;

#ifdef __linux__
	ssize_t n;

	do {
		n = getrandom(k, sizeof(k), GRND_NONBLOCK);
	} while (n < 0 && errno == EINTR);
	ok = n == (ssize_t)sizeof(k);
#endif
	if (!ok) {
		struct timespec a, b;
		uint8_t mix[40];

		clock_gettime(CLOCK_REALTIME, &a);
		clock_gettime(CLOCK_MONOTONIC, &b);
		memset(mix, 0, sizeof(mix));
		memcpy(mix, &a, sizeof(a) < 16 ? sizeof(a) : 16);
		memcpy(mix + 16, &b, sizeof(b) < 16 ? sizeof(b) : 16);
		mix[32] = (uint8_t)getpid();
		mix[33] = (uint8_t)(getpid() >> 8);
		k[0] = refl_siphash13((uint64_t)(uintptr_t)t, 0x5eed, mix, sizeof(mix));
		k[1] = refl_siphash13(k[0], (uint64_t)(uintptr_t)&k, mix, sizeof(mix));
	}
	t->sip_k0 = k[0];
	t->sip_k1 = k[1];
}

struct refl_table *refl_table_new(size_t max_sessions, int64_t refwait_ns)
{
	struct refl_table *t;
	size_t nb = 2;

	if (max_sessions < 1 || max_sessions > REFL_MAX_SESSIONS || refwait_ns <= 0)
		return NULL;
	while (nb < 2 * max_sessions)
		nb <<= 1;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->ent = calloc(max_sessions, sizeof(*t->ent));
	t->bucket = malloc(nb * sizeof(*t->bucket));
	if (t->ent == NULL || t->bucket == NULL) {
		refl_table_free(t);
		return NULL;
	}
	t->max = (uint32_t)max_sessions;
	t->bucket_mask = (uint32_t)(nb - 1);
	t->refwait_ns = refwait_ns;
	for (size_t i = 0; i < nb; i++)
		t->bucket[i] = REFL_NIL;
	for (uint32_t i = 0; i < t->max; i++) {
		t->ent[i].hnext = i + 1 < t->max ? i + 1 : REFL_NIL;
		t->ent[i].lru_prev = t->ent[i].lru_next = REFL_NIL;
	}
	t->free_head = 0;
	t->lru_head = t->lru_tail = REFL_NIL;
	refl_seed(t);
	return t;
}

void refl_table_free(struct refl_table *t)
{
	if (t == NULL)
		return;
	free(t->ent);
	free(t->bucket);
	free(t);
}

static void refl_lru_unlink(struct refl_table *t, uint32_t i)
{
	struct refl_session *e = &t->ent[i];

	if (e->lru_prev != REFL_NIL)
		t->ent[e->lru_prev].lru_next = e->lru_next;
	else
		t->lru_head = e->lru_next;
	if (e->lru_next != REFL_NIL)
		t->ent[e->lru_next].lru_prev = e->lru_prev;
	else
		t->lru_tail = e->lru_prev;
	e->lru_prev = e->lru_next = REFL_NIL;
}

static void refl_lru_push_head(struct refl_table *t, uint32_t i)
{
	struct refl_session *e = &t->ent[i];

	e->lru_prev = REFL_NIL;
	e->lru_next = t->lru_head;
	if (t->lru_head != REFL_NIL)
		t->ent[t->lru_head].lru_prev = i;
	else
		t->lru_tail = i;
	t->lru_head = i;
}

/* Chains are short (load <= 1/2 under a secret hash), so a walk to unlink is cheap. */
static void refl_hash_unlink(struct refl_table *t, uint32_t i)
{
	uint32_t *link = &t->bucket[refl_bucket_of(t, &t->ent[i].key)];

	while (*link != REFL_NIL) {
		if (*link == i) {
			*link = t->ent[i].hnext;
			break;
		}
		link = &t->ent[*link].hnext;
	}
	t->ent[i].hnext = REFL_NIL;
}

/* Returns entry i to the free list. */
static void refl_release(struct refl_table *t, uint32_t i)
{
	refl_hash_unlink(t, i);
	refl_lru_unlink(t, i);
	t->ent[i].in_use = false;
	t->ent[i].hnext = t->free_head;
	t->free_head = i;
	t->stats.active--;
}

static bool refl_is_expired(const struct refl_table *t, const struct refl_session *e,
			    int64_t now_ns)
{
	int64_t idle;

	/* A clock that went backwards (caller mix-up) counts as no idle time. */
	if (__builtin_sub_overflow(now_ns, e->last_ns, &idle))
		return now_ns > e->last_ns;
	return idle > t->refwait_ns;
}

static uint32_t refl_lookup(const struct refl_table *t, const struct refl_key *key,
			    uint32_t bucket)
{
	uint32_t i = t->bucket[bucket];

	while (i != REFL_NIL && !refl_key_equal(&t->ent[i].key, key))
		i = t->ent[i].hnext;
	return i;
}

struct refl_session *refl_table_get(struct refl_table *t, const struct refl_key *key,
				    int64_t now_ns, bool *created, bool *evicted)
{
	uint32_t b = refl_bucket_of(t, key);
	uint32_t i = refl_lookup(t, key, b);
	struct refl_session *e;
	bool made = false, evict = false;

	if (i != REFL_NIL) {
		e = &t->ent[i];
		if (refl_is_expired(t, e, now_ns)) {
			/* RFC 5357 §4.2: after REFWAIT the old session is over (C24). */
			t->stats.expired++;
			t->stats.created++;
			e->next_seq = 0;
			e->packets = 0;
			e->first_ns = now_ns;
			made = true;
		}
		refl_lru_unlink(t, i);
	} else {
		if (t->free_head == REFL_NIL) {
			uint32_t victim = t->lru_tail;

			/* An idle-past-REFWAIT victim is an expiry, not a loss to pressure. */
			if (refl_is_expired(t, &t->ent[victim], now_ns)) {
				t->stats.expired++;
			} else {
				t->stats.evicted++;
				evict = true;
			}
			refl_release(t, victim);
		}
		i = t->free_head;
		e = &t->ent[i];
		t->free_head = e->hnext;
		memset(e, 0, sizeof(*e));
		e->key = *key;
		e->first_ns = now_ns;
		e->in_use = true;
		e->hnext = t->bucket[b];
		t->bucket[b] = i;
		t->stats.created++;
		t->stats.active++;
		made = true;
	}
	e->last_ns = now_ns;
	refl_lru_push_head(t, i);
	if (created != NULL)
		*created = made;
	if (evicted != NULL)
		*evicted = evict;
	return e;
}

struct refl_session *refl_table_find(struct refl_table *t, const struct refl_key *key,
				     int64_t now_ns)
{
	uint32_t i = refl_lookup(t, key, refl_bucket_of(t, key));

	if (i == REFL_NIL || refl_is_expired(t, &t->ent[i], now_ns))
		return NULL;
	return &t->ent[i];
}

size_t refl_table_expire(struct refl_table *t, int64_t now_ns)
{
	size_t n = 0;

	/*
	 * The LRU list is ordered by last use, so the first live entry from
	 * the old end ends the walk: cost is proportional to what is freed.
	 * That order holds as long as callers never pass a now_ns older than
	 * one already used (a monotonic clock).
	 */
	while (t->lru_tail != REFL_NIL &&
	       refl_is_expired(t, &t->ent[t->lru_tail], now_ns)) {
		refl_release(t, t->lru_tail);
		t->stats.expired++;
		n++;
	}
	return n;
}

void refl_table_get_stats(const struct refl_table *t, struct refl_table_stats *out)
{
	*out = t->stats;
}
