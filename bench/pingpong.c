/*
 * pingpong: the round-trip floor that make bench holds twamp-client to.
 * One datagram outstanding at a time between a client and an echo child
 * (forked, each pinned to its own CPU with -a), RTT taken from the
 * kernel's software timestamps (SO_TIMESTAMPING: TX from the error queue,
 * RX from the control message), so it is the same kind of RTT that
 * twamp-client reports with --tstamp kernel.  Two wait modes, since the
 * floor depends on them: blocking (both sides sleep in recv, like
 * twamp-server and twamp-client) and spinning (-s: both poll with
 * MSG_DONTWAIT, so no wake-up is ever paid).  The user-space RTT (clock
 * read before send and after recv) is reported beside the kernel one.
 * Prints one JSON object.
 *
 *   pingpong [-s] [-c COUNT] [-i INTERVAL_US] [-z SIZE] [-a CPU,CPU]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_COUNT 1000000
#define MAX_SIZE 1472

static int64_t clock_ns(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void pin(int cpu)
{
	if (cpu < 0)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void echo_loop(int fd, int spin)
{
	unsigned char buf[MAX_SIZE];
	for (;;) {
		struct sockaddr_in peer;
		socklen_t plen = sizeof(peer);
		ssize_t n = recvfrom(fd, buf, sizeof(buf), spin ? MSG_DONTWAIT : 0,
				     (struct sockaddr *)&peer, &plen);
		if (n < 0)
			continue;
		sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&peer, plen);
	}
}

/* The software timestamp of a SCM_TIMESTAMPING control message, or 0. */
static int64_t cmsg_ts(struct msghdr *h)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPING) {
			struct timespec ts[3];
			memcpy(ts, CMSG_DATA(c), sizeof(ts));
			return (int64_t)ts[0].tv_sec * 1000000000LL + ts[0].tv_nsec;
		}
	}
	return 0;
}

/* Reads the TX timestamp of the datagram just sent from the error queue. */
static int64_t tx_ts(int fd)
{
	for (int tries = 0; tries < 100000; tries++) {
		union {
			char b[256];
			struct cmsghdr align;
		} ctl;
		unsigned char data[64];
		struct iovec iov = { data, sizeof(data) };
		struct msghdr h = { .msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
		if (recvmsg(fd, &h, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0)
			return cmsg_ts(&h);
		if (errno != EAGAIN && errno != EINTR)
			return 0;
	}
	return 0;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

static double pct(const int64_t *v, size_t n, double p)
{
	if (!n)
		return 0;
	double r = p * (double)(n - 1);
	size_t lo = (size_t)r;
	double f = r - (double)lo;
	return lo + 1 < n ? (double)v[lo] * (1 - f) + (double)v[lo + 1] * f : (double)v[lo];
}

static void print_dist(const char *name, int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
	printf("\"%s\":{\"n\":%zu,\"min\":%.3f,\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"max\":%.3f}",
	       name, n, n ? (double)v[0] / 1e3 : 0, pct(v, n, 0.5) / 1e3, pct(v, n, 0.9) / 1e3,
	       pct(v, n, 0.99) / 1e3, n ? (double)v[n - 1] / 1e3 : 0);
}

int main(int argc, char **argv)
{
	int spin = 0, opt, cpu_client = -1, cpu_echo = -1;
	long count = 1000, interval_us = 1000, size = 41;
	while ((opt = getopt(argc, argv, "sc:i:z:a:")) != -1) {
		switch (opt) {
		case 's': spin = 1; break;
		case 'c': count = atol(optarg); break;
		case 'i': interval_us = atol(optarg); break;
		case 'z': size = atol(optarg); break;
		case 'a':
			if (sscanf(optarg, "%d,%d", &cpu_client, &cpu_echo) != 2)
				return 2;
			break;
		default: return 2;
		}
	}
	if (optind != argc || count < 1 || count > MAX_COUNT || interval_us < 0 ||
	    interval_us > 1000000 || size < 1 || size > MAX_SIZE) {
		fprintf(stderr, "usage: pingpong [-s] [-c COUNT] [-i INTERVAL_US] [-z SIZE] [-a CPU,CPU]\n");
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t slen = sizeof(sa);
	int efd = socket(AF_INET, SOCK_DGRAM, 0);
	if (efd < 0 || bind(efd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(efd, (struct sockaddr *)&sa, &slen) < 0) {
		perror("pingpong: echo socket");
		return 2;
	}
	pid_t child = fork();
	if (child < 0) {
		perror("pingpong: fork");
		return 2;
	}
	if (child == 0) {
		pin(cpu_echo);
		echo_loop(efd, spin);
		_exit(0);
	}
	close(efd);
	pin(cpu_client);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int flags = SOF_TIMESTAMPING_SOFTWARE | SOF_TIMESTAMPING_TX_SOFTWARE |
		    SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_OPT_TSONLY;
	struct timeval tmo = { .tv_sec = 1 };
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof(flags)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo, sizeof(tmo)) < 0) {
		perror("pingpong: client socket");
		kill(child, SIGKILL);
		return 2;
	}
	int64_t *krtt = calloc((size_t)count, sizeof(*krtt));
	int64_t *urtt = calloc((size_t)count, sizeof(*urtt));
	if (!krtt || !urtt) {
		kill(child, SIGKILL);
		return 2;
	}
	unsigned char buf[MAX_SIZE] = { 0 };
	size_t nk = 0, nu = 0;
	long lost = 0, lost_run = 0;
	int64_t start = clock_ns(CLOCK_MONOTONIC) + 10000000LL;
	for (long i = 0; i < count; i++) {
		int64_t due = start + i * interval_us * 1000LL;
		if (spin) {
			while (clock_ns(CLOCK_MONOTONIC) < due)
				;
		} else {
			struct timespec ts = { (time_t)(due / 1000000000LL), (long)(due % 1000000000LL) };
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		}
		memcpy(buf, &i, sizeof(i));
		int64_t u1 = clock_ns(CLOCK_REALTIME);
		if (send(fd, buf, (size_t)size, 0) < 0) {
			lost++;
			continue;
		}
		union {
			char b[256];
			struct cmsghdr align;
		} ctl;
		unsigned char rbuf[MAX_SIZE];
		struct iovec iov = { rbuf, sizeof(rbuf) };
		struct msghdr h;
		ssize_t n;
		int64_t limit = clock_ns(CLOCK_MONOTONIC) + 1000000000LL;
		do {
			h = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1,
					     .msg_control = ctl.b, .msg_controllen = sizeof(ctl.b) };
			n = recvmsg(fd, &h, spin ? MSG_DONTWAIT : 0);
		} while (n < 0 && (errno == EAGAIN || errno == EINTR) && spin &&
			 clock_ns(CLOCK_MONOTONIC) < limit);
		int64_t u4 = clock_ns(CLOCK_REALTIME);
		long echoed;
		if (n < (ssize_t)sizeof(echoed)) {
			lost++;
			tx_ts(fd);
			/* A dead echo must not cost COUNT timeouts. */
			if (++lost_run >= 10)
				break;
			continue;
		}
		lost_run = 0;
		memcpy(&echoed, rbuf, sizeof(echoed));
		if (echoed != i) {
			lost++;
			continue;
		}
		int64_t k4 = cmsg_ts(&h), k1 = tx_ts(fd);
		urtt[nu++] = u4 - u1;
		if (k1 && k4)
			krtt[nk++] = k4 - k1;
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	printf("{\"mode\":\"%s\",\"count\":%ld,\"interval_us\":%ld,\"size\":%ld,\"lost\":%ld,",
	       spin ? "spin" : "block", count, interval_us, size, lost);
	print_dist("kernel_rtt_us", krtt, nk);
	printf(",");
	print_dist("user_rtt_us", urtt, nu);
	printf("}\n");
	free(krtt);
	free(urtt);
	return 0;
}
