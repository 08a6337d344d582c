/*
 * A misbehaving TWAMP-Control client for the integration tests, in three
 * modes:
 *
 *   ctrl_peer hold N ADDR PORT        open N connections, read each Server
 *                                     Greeting, print "greetings G modes0 Z
 *                                     failed F", then keep them open until
 *                                     SIGTERM (idle connections, floods)
 *   ctrl_peer stall ADDR PORT SECS    read the greeting, send nothing, print
 *                                     "closed after X.X s" when the server
 *                                     closes, or "open after SECS s"
 *   ctrl_peer send ADDR PORT HEX...   read the greeting, send the octets
 *                                     (each HEX argument one write; "wait"
 *                                     pauses 0.3 s), then print on one line
 *                                     everything the server sends, in hex,
 *                                     and on a second "eof" or "open" (no
 *                                     more for 1.5 s)
 *
 * Malformed, truncated and out-of-place messages are written as hex by the
 * test, so the tool needs no knowledge of the protocol.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int connect_to(const char *addr, const char *port)
{
	struct sockaddr_in6 s6;
	struct sockaddr_in s4;
	int fd;

	memset(&s4, 0, sizeof(s4));
	memset(&s6, 0, sizeof(s6));
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1) {
		s4.sin_family = AF_INET;
		s4.sin_port = htons((uint16_t)atoi(port));
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&s4, sizeof(s4)) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) != 1)
		return -1;
	s6.sin6_family = AF_INET6;
	s6.sin6_port = htons((uint16_t)atoi(port));
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads exactly n octets within timeout_s; the count read. */
static size_t read_n(int fd, uint8_t *buf, size_t n, double timeout_s)
{
	size_t got = 0;
	double end = now_s() + timeout_s;
	while (got < n) {
		double left = end - now_s();
		if (left <= 0)
			break;
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
			break;
		ssize_t k = read(fd, buf + got, n - got);
		if (k <= 0)
			break;
		got += (size_t)k;
	}
	return got;
}

static volatile sig_atomic_t done;

static void on_term(int sig)
{
	(void)sig;
	done = 1;
}

static int hold(int n, const char *addr, const char *port)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	int *fds = calloc((size_t)n, sizeof(int));
	int greetings = 0, modes0 = 0, failed = 0;
	if (!fds)
		return 1;
	for (int i = 0; i < n; i++) {
		fds[i] = connect_to(addr, port);
		if (fds[i] < 0) {
			failed++;
			continue;
		}
		uint8_t g[64];
		if (read_n(fds[i], g, sizeof(g), 5) == sizeof(g)) {
			greetings++;
			if (!(g[12] | g[13] | g[14] | g[15]))
				modes0++;
		}
	}
	printf("greetings %d modes0 %d failed %d\n", greetings, modes0, failed);
	fflush(stdout);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	while (!done)
		pause();
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return 0;
}

static int stall(const char *addr, const char *port, double secs)
{
	int fd = connect_to(addr, port);
	uint8_t g[64], b[256];
	if (fd < 0 || read_n(fd, g, sizeof(g), 5) != sizeof(g)) {
		printf("no greeting\n");
		return 1;
	}
	double t0 = now_s();
	for (;;) {
		double left = t0 + secs - now_s();
		if (left <= 0) {
			printf("open after %.0f s\n", secs);
			return 0;
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, (int)(left * 1000) + 1) > 0) {
			ssize_t k = read(fd, b, sizeof(b));
			if (k <= 0) {
				printf("closed after %.1f s\n", now_s() - t0);
				return 0;
			}
		}
	}
}

static int unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	for (; *s; s++) {
		if (*s == ' ' || *s == ':' || *s == '.')
			continue;
		unsigned v;
		if (n == cap || sscanf(s, "%2x", &v) != 1 || !s[1])
			return -1;
		out[n++] = (uint8_t)v;
		s++;
	}
	return (int)n;
}

static int send_hex(const char *addr, const char *port, int argc, char **argv)
{
	int fd = connect_to(addr, port);
	uint8_t g[64], buf[4096];
	if (fd < 0 || read_n(fd, g, sizeof(g), 5) != sizeof(g)) {
		printf("no greeting\n");
		return 1;
	}
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "wait")) {
			usleep(300000);
			continue;
		}
		int n = unhex(argv[i], buf, sizeof(buf));
		if (n < 0) {
			fprintf(stderr, "ctrl_peer: bad hex '%s'\n", argv[i]);
			return 2;
		}
		if (write(fd, buf, (size_t)n) != n)
			break;
	}
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 1500) <= 0) {
			printf("\nopen\n");
			return 0;
		}
		ssize_t k = read(fd, buf, sizeof(buf));
		if (k <= 0) {
			printf("\neof\n");
			return 0;
		}
		for (ssize_t i = 0; i < k; i++)
			printf("%02x", buf[i]);
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "hold"))
		return hold(atoi(argv[2]), argv[3], argv[4]);
	if (argc == 5 && !strcmp(argv[1], "stall"))
		return stall(argv[2], argv[3], atof(argv[4]));
	if (argc >= 4 && !strcmp(argv[1], "send"))
		return send_hex(argv[2], argv[3], argc - 4, argv + 4);
	fprintf(stderr, "usage: ctrl_peer hold N ADDR PORT | stall ADDR PORT SECS | "
			"send ADDR PORT HEX...\n");
	return 2;
}
