/*
 * The Session-Sender: TWAMP-Light and/or ICMP echo on one schedule.
 *
 * One event loop drives every protocol: at each absolute deadline probe i
 * of each active protocol is sent back to back (the order alternates with
 * i, so neither protocol is always first), and replies are received in
 * between, so sending never waits for a reply.  Per probe it keeps T1 as
 * written in the packet and as stamped by the kernel, T2 and T3 from a
 * TWAMP reply and T4 from the kernel; figures are derived at the end, once
 * every TX timestamp has been read back.
 */
#ifndef TK_SENDER_H
#define TK_SENDER_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "crypto.h"
#include "sched.h"
#include "sock.h"
#include "stats.h"
#include "wire_test.h"

struct sender_opts {
	struct sockaddr_storage target;     /* TWAMP reflector address and port */
	socklen_t target_len;
	struct sockaddr_storage source;     /* -S; family AF_UNSPEC when not given */
	socklen_t source_len;
	bool proto[PROBE_NPROTO];           /* which protocols to run */
	uint64_t count;                     /* probes per protocol (0 = use duration) */
	int64_t duration_ns;                /* with count 0 */
	int64_t interval_ns;
	enum sched_kind schedule;
	uint64_t seed;                      /* Poisson gaps and padding */
	size_t padding;                     /* octets after the TWAMP sender header (Padding Length) */
	bool zero_padding;                  /* B8: all-zero padding instead of random (B7) */
	int dscp;                           /* 0..63 */
	int ttl;                            /* 1..255 */
	int64_t timeout_ns;                 /* -W */
	enum sock_ts_want tstamp;
	int64_t spin_ns;                    /* precise timer: busy-wait the last spin_ns */
	int64_t late_limit_ns;              /* skip a probe later than this; 0 = max(interval, 10 ms) */
	FILE *verbose;                      /* per-probe lines as replies arrive, or NULL */
	/* Test-packet format and security (full TWAMP, keyed Light). */
	enum wire_security sec;             /* OPEN (also mixed mode), AUTH, ENC */
	struct crypto_test_ctx *crypto;     /* AUTH/ENC: the session's keys (B11-B14) */
	bool dscp_ecn;                      /* RFC 7750: replies carry S-DSCP-ECN */
	bool symmetrical;                   /* RFC 6038 Symmetrical Size: MBZ up to the reflector header */
	size_t reflect_len;                 /* RFC 6038 Reflect Octets: padding octets to get back */
	uint16_t server_octets;             /* RFC 6038: first 2 of them when non-zero */
	/* An already bound TWAMP socket (the port was announced over TWAMP-Control). */
	bool have_twamp_fd;
	int twamp_fd;                       /* sender_run takes it over and closes it */
	struct sock_caps twamp_caps;
};

/* What one protocol produced. */
struct sender_proto_result {
	bool active;
	struct probe_result *probes;        /* index = probe number (= TWAMP sequence number) */
	size_t n_probes;                    /* probes actually sent */
	uint64_t skipped;                   /* later than the late limit: not sent */
	uint64_t send_errors;               /* the send call failed: not sent */
	uint64_t reordered;
	uint64_t late;                      /* replies after the timeout (counted lost) */
	uint64_t foreign;                   /* datagrams that were no reply of ours */
	uint64_t auth_failures;             /* replies failing the HMAC check (B14), discarded */
	uint64_t reflect_mismatch;          /* RFC 6038: replies without our to-be-reflected octets */
	int s_dscp_ecn;                     /* RFC 7750: S-DSCP-ECN of the first reply, -1 none */
	uint64_t s_dscp_ecn_changes;        /* replies whose S-DSCP-ECN differs from the first */
	uint64_t t1_kernel;                 /* probes whose T1 is the kernel TX time */
	int64_t *lateness_ns;               /* per sent probe: send time - deadline */
	int64_t *send_call_ns;              /* per sent probe: duration of the send call */
	struct sock_caps caps;
	const char *socket_kind;            /* "udp", "raw", "datagram" */
};

struct sender_result {
	struct sender_proto_result p[PROBE_NPROTO];
	uint64_t scheduled;                 /* deadlines passed */
	bool interrupted;
	int64_t start_ns, end_ns;           /* Unix ns */
};

/*
 * Runs the whole session.  0 or -errno (socket set-up failed; *failed_proto
 * says which protocol's socket, when not NULL).  Free with sender_result_free.
 */
int sender_run(const struct sender_opts *o, volatile sig_atomic_t *stop, struct sender_result *res,
	       enum probe_proto *failed_proto);
void sender_result_free(struct sender_result *res);

#endif
