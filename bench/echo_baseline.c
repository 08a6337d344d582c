/*
 * echo_baseline: the bare UDP echo that make bench measures the reflector
 * against.  It does the least any reflector must do (recvmmsg a batch,
 * sendmmsg it back to the senders) and nothing else: no parsing, no
 * timestamps, no per-sender state, so the ratio "reflector / echo" isolates
 * what twamp-server adds.  Blocking by default like twamp-server; -s spins
 * on MSG_DONTWAIT instead.  Stops at SIGINT/SIGTERM and prints its counters
 * to stderr.
 *
 *   echo_baseline [-b BATCH] [-s] ADDR:PORT
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_BATCH 256
#define SLOT 2048

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
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

int main(int argc, char **argv)
{
	int batch = 32, spin = 0, opt;
	while ((opt = getopt(argc, argv, "b:s")) != -1) {
		if (opt == 'b')
			batch = atoi(optarg);
		else if (opt == 's')
			spin = 1;
		else
			return 2;
	}
	struct sockaddr_in sa;
	if (optind != argc - 1 || batch < 1 || batch > MAX_BATCH || parse_addr(argv[optind], &sa)) {
		fprintf(stderr, "usage: echo_baseline [-b BATCH] [-s] ADDR:PORT\n");
		return 2;
	}
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int rcvbuf = 4 << 20;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		perror("echo_baseline");
		return 2;
	}
	struct sigaction sact = { .sa_handler = on_signal };
	sigaction(SIGINT, &sact, NULL);
	sigaction(SIGTERM, &sact, NULL);

	static unsigned char bufs[MAX_BATCH][SLOT];
	static struct sockaddr_in peers[MAX_BATCH];
	static struct iovec iov[MAX_BATCH];
	static struct mmsghdr msgs[MAX_BATCH];
	unsigned long long received = 0, sent = 0;
	while (!stop_flag) {
		for (int i = 0; i < batch; i++) {
			iov[i] = (struct iovec){ .iov_base = bufs[i], .iov_len = SLOT };
			msgs[i].msg_hdr = (struct msghdr){
				.msg_name = &peers[i], .msg_namelen = sizeof(peers[i]),
				.msg_iov = &iov[i], .msg_iovlen = 1,
			};
		}
		int n = recvmmsg(fd, msgs, (unsigned)batch, spin ? MSG_DONTWAIT : MSG_WAITFORONE, NULL);
		if (n <= 0)
			continue;
		received += (unsigned)n;
		for (int i = 0; i < n; i++)
			iov[i].iov_len = msgs[i].msg_len;
		int done = 0;
		while (done < n) {
			int k = sendmmsg(fd, msgs + done, (unsigned)(n - done), 0);
			if (k <= 0)
				break;
			done += k;
		}
		sent += (unsigned)done;
	}
	fprintf(stderr, "echo_baseline: %llu received, %llu sent\n", received, sent);
	close(fd);
	return 0;
}
