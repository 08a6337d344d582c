/*
 * Per-sender state of a stateful TWAMP-Light reflector (spec twamp-test.md
 * §6.3, checklist C7, C24, C32): sessions keyed by the 5-tuple, each with
 * its own reflector sequence counter, freed after REFWAIT of inactivity.
 * All memory is allocated once at creation for max_sessions entries; when
 * the table is full the least recently used session is evicted (counted),
 * so a flood of spoofed senders cannot grow state.  Lookups are O(1)
 * through an open hash table; no allocation per packet.
 */
#ifndef TK_REFL_SESSIONS_H
#define TK_REFL_SESSIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* UDP 5-tuple (protocol implied).  IPv4 addresses are stored v4-mapped. */
struct refl_key {
	uint8_t local[16];
	uint8_t remote[16];
	uint16_t local_port;
	uint16_t remote_port;
};

struct refl_session {
	struct refl_key key;
	uint32_t next_seq;       /* reflector Sequence Number for the next reply */
	uint64_t packets;        /* packets reflected in this session */
	int64_t first_ns;        /* monotonic time of the first packet */
	int64_t last_ns;         /* monotonic time of the last packet */
	/* private: links of the LRU list and hash chain */
	uint32_t lru_prev, lru_next, hnext;
	bool in_use;
};

struct refl_table_stats {
	uint64_t created;
	uint64_t expired;        /* REFWAIT */
	uint64_t evicted;        /* table full, least recently used dropped */
	size_t active;
};

struct refl_table;

/* Builds a key from local and remote socket addresses (AF_INET/AF_INET6). 0 or -EAFNOSUPPORT. */
int refl_key_from_addrs(struct refl_key *key, const struct sockaddr *local,
			const struct sockaddr *remote);

/* max_sessions >= 1; refwait_ns > 0.  NULL on allocation failure.  Caller frees with refl_table_free. */
struct refl_table *refl_table_new(size_t max_sessions, int64_t refwait_ns);
void refl_table_free(struct refl_table *t);

/*
 * The session for key, created if absent (evicting the least recently used
 * one when full; *evicted set if so).  Refreshes its last-use time to now_ns.
 * A session idle for more than REFWAIT is treated as gone: it restarts at
 * sequence 0.  Never NULL.
 */
struct refl_session *refl_table_get(struct refl_table *t, const struct refl_key *key,
				    int64_t now_ns, bool *created, bool *evicted);

/* Lookup without creating; NULL when absent or expired. */
struct refl_session *refl_table_find(struct refl_table *t, const struct refl_key *key,
				     int64_t now_ns);

/* Frees every session idle for more than REFWAIT; returns how many. */
size_t refl_table_expire(struct refl_table *t, int64_t now_ns);

void refl_table_get_stats(const struct refl_table *t, struct refl_table_stats *out);

#endif
