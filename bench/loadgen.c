/*
 * loadgen: the load generator of make bench.  It sends TWAMP-Test
 * unauthenticated packets (RFC 5357 §4.1.2: Sequence Number, Timestamp,
 * Error Estimate, padding) to a reflector from N distinct senders and
 * counts the replies.  The senders are distinct source addresses of one
 * socket (127.1.x.y, chosen per datagram with IP_PKTINFO), so 10,000 of
 * them cost one descriptor and the reflector still sees 10,000 5-tuples.
 *
 * Two modes.  Closed loop (-w WINDOW, the default): at most WINDOW
 * datagrams in flight, so neither side's socket buffer can overflow and
 * the achieved rate is the highest rate without loss; a window that stalls
 * for 20 ms is written off as lost.  Open loop (-r RATE): paced sends,
 * losses are whatever did not come back.  With -p PID the reflector's CPU
 * time (all its threads, /proc/PID/task/N/schedstat) over the measured
 * interval is read too, which turns the rate into packets per second per
 * core: on loopback the generator and the reflector do mirror-image work,
 * so a cheap reflector is never saturated and only its CPU time tells its
 * capacity.  One JSON object on stdout.
 *
 *   loadgen [-n SENDERS] [-s SIZE] [-w WINDOW | -r RATE] [-d SECONDS]
 *           [-W WARMUP] [-p PID] [-b BATCH] ADDR:PORT
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64
#define MAX_SIZE 1472
#define MIN_SIZE 14
#define STALL_NS 20000000LL

struct opts {
	long senders, size, window, batch;
	double rate, duration_s, warmup_s;
	long pid;
	struct sockaddr_in dst;
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sum of on-CPU time of every thread of PID, in ns; -1 when unreadable. */
static long long cpu_ns_of(long pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%ld/task", pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	long long total = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char p2[320];
		snprintf(p2, sizeof(p2), "/proc/%ld/task/%s/schedstat", pid, e->d_name);
		FILE *f = fopen(p2, "r");
		long long v = 0;
		if (f) {
			if (fscanf(f, "%lld", &v) == 1)
				total += v;
			fclose(f);
		}
	}
	closedir(d);
	return total;
}

static int parse_addr(const char *arg, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(arg, ':');
	if (!colon || (size_t)(colon - arg) >= sizeof(host))
		return -EINVAL;
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -EINVAL;
}

static void put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

/* TWAMP-Test unauthenticated sender packet: seq, NTP timestamp, error estimate. */
static void fill_probe(unsigned char *p, uint32_t seq)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	put32(p, seq);
	put32(p + 4, (uint32_t)(ts.tv_sec + 2208988800UL));
	put32(p + 8, (uint32_t)(((uint64_t)ts.tv_nsec << 32) / 1000000000ULL));
	p[12] = 0x00; /* Error Estimate: S=0 (not synchronized), Scale 0, Multiplier 1 */
	p[13] = 0x01;
}

struct gen {
	int fd;
	const struct opts *o;
	unsigned char buf[MAX_BATCH][MAX_SIZE];
	union {
		char c[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} ctl[MAX_BATCH];
	struct iovec iov[MAX_BATCH];
	struct mmsghdr msgs[MAX_BATCH];
	unsigned char rbuf[MAX_BATCH][MAX_SIZE];
	struct iovec riov[MAX_BATCH];
	struct mmsghdr rmsgs[MAX_BATCH];
	struct sockaddr_in dst; /* a copy msg_name may point at (not const) */
	uint32_t seq;
	unsigned long long sent, received;
};

static int send_batch(struct gen *g, int count)
{
	const struct opts *o = g->o;
	for (int i = 0; i < count; i++) {
		uint32_t s = g->seq + (uint32_t)i;
		uint32_t who = s % (uint32_t)o->senders;
		fill_probe(g->buf[i], s);
		g->iov[i] = (struct iovec){ .iov_base = g->buf[i], .iov_len = (size_t)o->size };
		struct msghdr *h = &g->msgs[i].msg_hdr;
		*h = (struct msghdr){
			.msg_name = &g->dst, .msg_namelen = sizeof(g->dst),
			.msg_iov = &g->iov[i], .msg_iovlen = 1,
			.msg_control = g->ctl[i].c, .msg_controllen = sizeof(g->ctl[i].c),
		};
		struct cmsghdr *c = CMSG_FIRSTHDR(h);
		c->cmsg_level = IPPROTO_IP;
		c->cmsg_type = IP_PKTINFO;
		c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
		struct in_pktinfo pi = { 0 };
		/* 127.1.0.1 upwards: the whole of 127/8 is local on lo. */
		pi.ipi_spec_dst.s_addr = htonl(0x7f010000u + 1 + who);
		memcpy(CMSG_DATA(c), &pi, sizeof(pi));
	}
	int done = 0;
	while (done < count) {
		int k = sendmmsg(g->fd, g->msgs + done, (unsigned)(count - done), 0);
		if (k < 0) {
			if (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)
				break;
			perror("loadgen: sendmmsg");
			exit(2);
		}
		done += k;
	}
	g->seq += (uint32_t)done;
	g->sent += (unsigned)done;
	return done;
}

static int drain(struct gen *g)
{
	int total = 0;
	for (;;) {
		for (int i = 0; i < MAX_BATCH; i++) {
			g->riov[i] = (struct iovec){ .iov_base = g->rbuf[i], .iov_len = MAX_SIZE };
			g->rmsgs[i].msg_hdr = (struct msghdr){ .msg_iov = &g->riov[i], .msg_iovlen = 1 };
		}
		int n = recvmmsg(g->fd, g->rmsgs, MAX_BATCH, MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		total += n;
	}
	g->received += (unsigned)total;
	return total;
}

static void wait_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	poll(&p, 1, ms);
}

/* Runs for dur_ns; returns when done.  Counters accumulate in g. */
static void run_closed(struct gen *g, int64_t dur_ns, unsigned long long *lost)
{
	int64_t end = now_ns() + dur_ns, last_progress = now_ns();
	long inflight = 0;
	while (now_ns() < end) {
		while (inflight < g->o->window) {
			long want = g->o->window - inflight;
			if (want > g->o->batch)
				want = g->o->batch;
			int k = send_batch(g, (int)want);
			inflight += k;
			if (k < want)
				break;
		}
		int got = drain(g);
		if (got > 0) {
			inflight -= got;
			if (inflight < 0)
				inflight = 0;
			last_progress = now_ns();
		} else if (now_ns() - last_progress > STALL_NS) {
			*lost += (unsigned long long)inflight;
			inflight = 0;
			last_progress = now_ns();
		} else {
			wait_readable(g->fd, 1);
		}
	}
	/* Let the last window come home so it is not counted as lost. */
	int64_t tail = now_ns() + 50000000LL;
	while (inflight > 0 && now_ns() < tail) {
		wait_readable(g->fd, 5);
		inflight -= drain(g);
	}
	if (inflight > 0)
		*lost += (unsigned long long)inflight;
}

static void run_open(struct gen *g, int64_t dur_ns)
{
	int64_t start = now_ns(), end = start + dur_ns;
	double per_ns = g->o->rate / 1e9;
	unsigned long long base = g->sent;
	for (;;) {
		int64_t t = now_ns();
		if (t >= end)
			break;
		long due = (long)((double)(t - start) * per_ns) - (long)(g->sent - base);
		if (due > g->o->batch)
			due = g->o->batch;
		if (due > 0)
			send_batch(g, (int)due);
		drain(g);
	}
	int64_t tail = now_ns() + 100000000LL;
	while (now_ns() < tail) {
		wait_readable(g->fd, 10);
		drain(g);
	}
}

static void usage(void)
{
	fprintf(stderr, "usage: loadgen [-n SENDERS] [-s SIZE] [-w WINDOW | -r RATE] [-d SECONDS]\n"
			"               [-W WARMUP] [-p PID] [-b BATCH] ADDR:PORT\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct opts o = { .senders = 1, .size = 64, .window = 128, .batch = 32,
			  .duration_s = 1.0, .warmup_s = 0.2, .pid = 0 };
	int opt;
	while ((opt = getopt(argc, argv, "n:s:w:r:d:W:p:b:")) != -1) {
		switch (opt) {
		case 'n': o.senders = atol(optarg); break;
		case 's': o.size = atol(optarg); break;
		case 'w': o.window = atol(optarg); break;
		case 'r': o.rate = atof(optarg); break;
		case 'd': o.duration_s = atof(optarg); break;
		case 'W': o.warmup_s = atof(optarg); break;
		case 'p': o.pid = atol(optarg); break;
		case 'b': o.batch = atol(optarg); break;
		default: usage();
		}
	}
	if (optind != argc - 1 || parse_addr(argv[optind], &o.dst) || o.senders < 1 ||
	    o.senders > 65000 || o.size < MIN_SIZE || o.size > MAX_SIZE || o.window < 1 ||
	    o.batch < 1 || o.batch > MAX_BATCH || o.duration_s <= 0 || o.duration_s > 60 ||
	    o.warmup_s < 0 || o.warmup_s > 10 || o.rate < 0 || o.rate > 1e7)
		usage();

	static struct gen g;
	g.o = &o;
	g.dst = o.dst;
	g.fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 16 << 20;
	if (g.fd < 0 || (setsockopt(g.fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big)) < 0 &&
			 setsockopt(g.fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big)) < 0)) {
		perror("loadgen: socket");
		return 2;
	}
	/* On loopback a datagram stays charged to the sender's send buffer until
	 * the reflector has read it: a small one would pace us, not the reflector. */
	if (setsockopt(g.fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big)) < 0)
		setsockopt(g.fd, SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	struct sockaddr_in any = { .sin_family = AF_INET };
	if (bind(g.fd, (struct sockaddr *)&any, sizeof(any)) < 0) {
		perror("loadgen: bind");
		return 2;
	}
	for (long i = 0; i < MAX_BATCH; i++)
		memset(g.buf[i] + 14, 0, MAX_SIZE - 14);

	unsigned long long lost = 0;
	/* Warm-up: every sender's state is created before measuring. */
	if (o.warmup_s > 0 || o.senders > 1) {
		int64_t w = (int64_t)(o.warmup_s * 1e9);
		if (w < 1000000)
			w = 1000000;
		if (o.rate > 0)
			run_open(&g, w);
		else
			run_closed(&g, w, &lost);
	}
	unsigned long long s0 = g.sent, r0 = g.received, l0 = lost;
	long long c0 = o.pid ? cpu_ns_of(o.pid) : -1;
	int64_t t0 = now_ns();
	if (o.rate > 0)
		run_open(&g, (int64_t)(o.duration_s * 1e9));
	else
		run_closed(&g, (int64_t)(o.duration_s * 1e9), &lost);
	int64_t t1 = now_ns();
	long long c1 = o.pid ? cpu_ns_of(o.pid) : -1;

	unsigned long long sent = g.sent - s0, recv = g.received - r0;
	if (o.rate > 0)
		lost = sent > recv ? sent - recv : 0;
	else
		lost -= l0;
	double secs = (double)(t1 - t0) / 1e9;
	double pps = (double)recv / secs;
	printf("{\"mode\":\"%s\",\"senders\":%ld,\"size\":%ld,\"sent\":%llu,\"received\":%llu,"
	       "\"lost\":%llu,\"loss_pct\":%.6f,\"seconds\":%.6f,\"pps\":%.1f",
	       o.rate > 0 ? "open" : "closed", o.senders, o.size, sent, recv, lost,
	       sent ? 100.0 * (double)lost / (double)sent : 0.0, secs, pps);
	if (c0 >= 0 && c1 >= c0) {
		double cpu = (double)(c1 - c0) / 1e9;
		printf(",\"target_cpu_s\":%.6f,\"target_cpu_share\":%.4f,\"pps_per_core\":%.1f", cpu,
		       cpu / secs, cpu > 0 ? (double)recv / cpu : 0.0);
	}
	printf("}\n");
	close(g.fd);
	return 0;
}
