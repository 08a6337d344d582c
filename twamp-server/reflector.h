/*
 * The Session-Reflector engine: listening sockets, batched receive and
 * send, per-sender state, drop counters.  Shared by the TWAMP-Light
 * listeners and the test sessions negotiated over TWAMP-Control, each with
 * its own security mode, test keys, DSCP and lifetime (RFC 5357 §4.2).
 * One poll loop serves them all, plus whatever descriptors a hook adds (the
 * TWAMP-Control server).
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
#include "wire_test.h"

struct pollfd;
struct json_object;

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
	/* Keyed TWAMP-Light (RFC 5357 App. I, checklist K3, K4): every Light
	 * listener uses this security, with test keys derived from provisioned
	 * session keys and SID; NULL keys for WIRE_SEC_OPEN. */
	enum wire_security light_sec;
	const uint8_t *light_test_aes;
	const uint8_t *light_test_hmac;
	size_t max_test_sessions;   /* bound on negotiated test sessions (0: 1024) */
};

/* Why a datagram got no reply; each reason has its own counter. */
enum reflector_drop {
	DROP_SHORT = 0,     /* shorter than the sender header (C30) */
	DROP_OVERSIZE,      /* larger than the receive buffer (truncated) */
	DROP_NOT_ALLOWED,   /* source outside --allow */
	DROP_SEND_ERROR,    /* the reply could not be sent */
	DROP_AUTH,          /* HMAC check failed (C20) */
	DROP_WRONG_SENDER,  /* test session: not from the negotiated Session-Sender */
	DROP_NOT_STARTED,   /* test session: before Start-Sessions */
	DROP_AFTER_STOP,    /* test session: after Stop-Sessions + Timeout (C22) */
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

/* ---- negotiated test sessions (TWAMP-Control) ---- */

struct reflector_session_params {
	const struct sockaddr *local;   /* address and port to receive on (port 0: any free) */
	socklen_t local_len;
	const struct sockaddr *peer;    /* the Session-Sender; its port 0 = any port */
	socklen_t peer_len;
	enum wire_security sec;         /* OPEN for open and mixed mode */
	const uint8_t *test_aes;        /* AUTH/ENC: keys from crypto_test_keys_derive */
	const uint8_t *test_hmac;
	int dscp;                       /* 0..63 from Type-P: every reply carries it (C12) */
	bool dscp_ecn;                  /* RFC 7750 S-DSCP-ECN octet */
	bool symmetrical;               /* RFC 6038 Symmetrical Size */
	int64_t refwait_ns;             /* discontinue a started session idle this long (C24) */
};

enum reflector_session_state {
	RSESS_FREE = 0,
	RSESS_ACCEPTED,                 /* bound, not yet started: packets dropped */
	RSESS_STARTED,
	RSESS_STOPPED,                  /* reflecting until its Timeout, then freed */
	RSESS_EXPIRED,                  /* REFWAIT passed: socket closed, waiting for Stop */
};

struct reflector_session_info {
	enum reflector_session_state state;
	uint16_t port;
	uint64_t received, reflected, dropped;
	int64_t last_ns;                /* monotonic time of the last packet (or of the start) */
};

/*
 * Binds a session socket and registers it (not yet started).  Returns the
 * session id (>= 0) and the bound port in *port, or -errno: -EADDRINUSE
 * when the port is taken (try another), -ENOSPC at max_test_sessions,
 * -EADDRNOTAVAIL when the address is not local.
 */
int reflector_session_open(struct reflector *r, const struct reflector_session_params *p,
			   uint16_t *port);
void reflector_session_start(struct reflector *r, int id);
/* Reflects for timeout_ns more (C23), then ignores the sender and frees itself (C22). */
void reflector_session_stop(struct reflector *r, int id, int64_t timeout_ns);
/* Frees the session now. */
void reflector_session_release(struct reflector *r, int id);
/* 0, or -ENOENT for a free id. */
int reflector_session_info(const struct reflector *r, int id, struct reflector_session_info *out);

/*
 * Extra descriptors served by the same loop.  Each round: nfds() bounds
 * what pollfds() may add; after poll, events() gets those entries back
 * with revents; tick() runs once per round (at least every 200 ms); stats()
 * adds the hook's figures to the --stats object.
 */
struct reflector_hook {
	size_t (*nfds)(void *arg);
	size_t (*pollfds)(void *arg, struct pollfd *pfd, size_t cap);
	void (*events)(void *arg, struct pollfd *pfd, size_t n);
	void (*tick)(void *arg, int64_t now_mono_ns);
	void (*stats)(void *arg, struct json_object *o);
	void *arg;
};

/* hook is copied; NULL removes it. */
void reflector_set_hook(struct reflector *r, const struct reflector_hook *hook);

/* Counters and session-table figures as a JSON object to f.  0 or -EIO. */
int reflector_write_stats(const struct reflector *r, FILE *f);

#endif
