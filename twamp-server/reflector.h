/*
 * The TWAMP-Light Session-Reflector engine: listening sockets, batched
 * receive and send, per-sender state, drop counters.  Shared by the Light
 * listeners and (later) the sessions negotiated over TWAMP-Control.
 */
#ifndef TK_REFLECTOR_H
#define TK_REFLECTOR_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "parse.h"
#include "sock.h"

struct reflector_opts {
	bool stateful;              /* own sequence counter per 5-tuple (else copy, C8) */
	int64_t refwait_ns;         /* REFWAIT for stateful sessions */
	size_t max_sessions;        /* bound on stateful sessions */
	int dscp;                   /* -1: copy the received DSCP; else 0..63 */
	bool stamp_aware;           /* STAMP-aware replies (stamp-compat.md R7/R8) */
	bool dscp_ecn;              /* RFC 7750 S-DSCP-ECN octet */
	unsigned batch;             /* recvmmsg/sendmmsg batch size */
	enum sock_ts_want tstamp;   /* kernel (default) or user timestamps */
	const struct parse_prefix *allow; /* NULL/0: everyone */
	size_t n_allow;
};

/* Why a datagram got no reply; each reason has its own counter. */
enum reflector_drop {
	DROP_SHORT = 0,     /* shorter than the sender header (C30) */
	DROP_OVERSIZE,      /* larger than the receive buffer (truncated) */
	DROP_NOT_ALLOWED,   /* source outside --allow */
	DROP_SEND_ERROR,    /* the reply could not be sent */
	DROP_NREASONS
};

struct reflector_counters {
	uint64_t received;
	uint64_t reflected;
	uint64_t dropped[DROP_NREASONS];
	uint64_t octets_in;
	uint64_t octets_out;
	uint64_t recv_errors;
	uint64_t rx_kernel_ts;      /* T2 from the kernel */
	uint64_t rx_user_ts;        /* T2 from the user-space fallback */
	uint64_t ttl_unknown;       /* Sender TTL written as 255 (C10) */
};

struct reflector;

const char *reflector_drop_name(enum reflector_drop d);

/* opts is copied (allow must outlive the reflector).  NULL on allocation failure. */
struct reflector *reflector_new(const struct reflector_opts *opts);
void reflector_free(struct reflector *r);

/* Binds a listener; 0 or -errno.  *caps tells what timestamping it got. */
int reflector_listen(struct reflector *r, const struct sockaddr *addr, socklen_t len,
		     struct sock_caps *caps);

/*
 * Serves until *stop becomes non-zero.  Every stats_interval_ns (0 = never)
 * and at the end, calls on_stats(r, arg) if set.  Returns 0 or -errno on a
 * fatal poll error.
 */
int reflector_run(struct reflector *r, volatile sig_atomic_t *stop,
		  int64_t stats_interval_ns, void (*on_stats)(struct reflector *, void *),
		  void *arg);

void reflector_get_counters(const struct reflector *r, struct reflector_counters *out);

/* Counters and session-table figures as a JSON object to f.  0 or -EIO. */
int reflector_write_stats(const struct reflector *r, FILE *f);

#endif
