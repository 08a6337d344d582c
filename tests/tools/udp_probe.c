/*
 * udp_probe: sends hand-made datagrams to a reflector and reports what
 * comes back, for the abuse and bad-input integration tests.
 *
 *   udp_probe [-r] [-w MS] HOST PORT SIZE...
 *
 * Each SIZE is sent once (zero-filled, or random with -r; "vec:HEX" sends
 * those octets); replies are collected for -w milliseconds (default 300)
 * after the last send.  Output, one line per datagram sent:
 *   "sent LEN reply LEN" or "sent LEN noreply"
 * Replies are matched to requests by arrival order only when sizes allow;
 * the tests send distinct sizes.  Exit 0, or 2 on usage/socket errors.
 */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAXQ 256
#define BUF 70000

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int main(int argc, char **argv)
{
	int random_fill = 0, wait_ms = 300, opt;
	while ((opt = getopt(argc, argv, "rw:")) != -1) {
		if (opt == 'r')
			random_fill = 1;
		else if (opt == 'w')
			wait_ms = atoi(optarg);
		else
			return 2;
	}
	if (argc - optind < 3 || argc - optind - 2 > MAXQ) {
		fprintf(stderr, "usage: udp_probe [-r] [-w MS] HOST PORT SIZE...\n");
		return 2;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
	if (getaddrinfo(argv[optind], argv[optind + 1], &hints, &ai) != 0) {
		fprintf(stderr, "udp_probe: cannot resolve %s\n", argv[optind]);
		return 2;
	}
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		perror("udp_probe");
		return 2;
	}
	static unsigned char buf[BUF];
	size_t sent_len[MAXQ];
	long reply_len[MAXQ];
	int n = argc - optind - 2;
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	for (int i = 0; i < n; i++) {
		const char *arg = argv[optind + 2 + i];
		size_t len = 0;
		if (!strncmp(arg, "vec:", 4)) {
			for (const char *p = arg + 4; p[0] && p[1] && len < BUF; p += 2)
				buf[len++] = (unsigned char)(hexval(p[0]) << 4 | hexval(p[1]));
		} else {
			len = strtoul(arg, NULL, 10);
			if (len > BUF)
				len = BUF;
			for (size_t k = 0; k < len; k++)
				buf[k] = random_fill ? (unsigned char)rand() : 0;
		}
		sent_len[i] = len;
		reply_len[i] = -1;
		if (send(fd, buf, len, 0) < 0 && errno != EMSGSIZE)
			fprintf(stderr, "udp_probe: send %zu: %s\n", len, strerror(errno));
		/* Collect any reply before the next send so order is unambiguous. */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, wait_ms) > 0) {
			ssize_t r = recv(fd, buf, BUF, 0);
			if (r >= 0)
				reply_len[i] = r;
		}
	}
	for (int i = 0; i < n; i++) {
		if (reply_len[i] >= 0)
			printf("sent %zu reply %ld\n", sent_len[i], reply_len[i]);
		else
			printf("sent %zu noreply\n", sent_len[i]);
	}
	freeaddrinfo(ai);
	close(fd);
	return 0;
}
