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

#include "sched.h"
#include "sock.h"
#include "stats.h"

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
	size_t padding;                     /* octets after the 14-octet TWAMP header */
	bool zero_padding;                  /* B8: all-zero padding instead of random (B7) */
	int dscp;                           /* 0..63 */
	int ttl;                            /* 1..255 */
	int64_t timeout_ns;                 /* -W */
	enum sock_ts_want tstamp;
	int64_t spin_ns;                    /* precise timer: busy-wait the last spin_ns */
	int64_t late_limit_ns;              /* skip a probe later than this; 0 = max(interval, 10 ms) */
	FILE *verbose;                      /* per-probe lines as replies arrive, or NULL */
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
