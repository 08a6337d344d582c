/*
 * twamp-client's TWAMP-Control side (RFC 5357 §3): a blocking exchange,
 * with a timeout on every step, around the ctrl_client state machine of
 * common/control.h - connect, greeting and mode choice, Set-Up-Response,
 * Server-Start, one Request-TW-Session for the UDP socket the sender will
 * use, Start-Sessions (or Start-N-Sessions with RFC 5938), and after the
 * test Stop-Sessions with the number of sessions started.
 */
#ifndef TK_CONTROL_CLIENT_H
#define TK_CONTROL_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "control.h"
#include "crypto.h"
#include "sock.h"

struct control_client_opts {
	struct sockaddr_storage server;      /* TWAMP-Control address and TCP port */
	socklen_t server_len;
	struct sockaddr_storage source;      /* -S (port ignored for TCP); AF_UNSPEC: none */
	socklen_t source_len;
	uint32_t want_mode;                  /* -A; 0: strongest */
	uint32_t features;                   /* wanted feature bits */
	const uint8_t *keyid;                /* NULL: open only */
	size_t keyid_len;
	const uint8_t *secret;
	size_t secret_len;
	uint32_t max_count;
	int64_t timeout_ns;                  /* connect and every reply */
};

/* The session as negotiated. */
struct control_session {
	int tcp_fd;
	struct ctrl_client cc;
	struct sockaddr_storage local;       /* the control connection's local address */
	struct sockaddr_storage peer;
	uint32_t mode;                       /* chosen Mode, security and feature bits */
	uint32_t count;                      /* the greeting's Count */
	enum wire_security sec;              /* test packets (mixed -> open) */
	uint8_t sid[16];
	uint16_t port;                       /* Accept-Session Port: where the test goes */
	uint16_t server_octets;              /* RFC 6038 */
	uint8_t test_aes[CRYPTO_AES_KEY_LEN];
	uint8_t test_hmac[CRYPTO_HMAC_KEY_LEN];
	int64_t t_connect_ns;                /* monotonic: connect() called */
	int64_t handshake_ns;                /* connect to Server-Start */
	int64_t setup_ns;                    /* connect to Start-Ack */
	bool started;
	int64_t timeout_ns;
};

/*
 * Connects and sets the connection up (through Server-Start).  0, or
 * -errno with a one-line reason in err (the server's Accept value and its
 * meaning, the mode problem, the Count, a timeout...).  Free with
 * control_close() in every case.
 */
int control_open(struct control_session *s, const struct control_client_opts *o, char *err,
		 size_t errlen);

struct control_request {
	const struct sockaddr *sender;       /* the UDP socket's bound address and port */
	uint16_t receiver_port;              /* 0: the server's choice */
	uint32_t padding_length;
	uint8_t dscp;
	int64_t timeout_ns;                  /* reflect this long after Stop-Sessions */
	uint16_t reflect_len;                /* RFC 6038 */
	uint16_t octets_to_reflect;
};

/* Request-TW-Session, then Start-Sessions; 0 or -errno with err. */
int control_request_start(struct control_session *s, const struct control_request *r,
			  char *err, size_t errlen);

/* Stop-Sessions (Number of Sessions 1) or Stop-N-Sessions; 0 or -errno with err. */
int control_stop(struct control_session *s, char *err, size_t errlen);

void control_close(struct control_session *s);

#endif
