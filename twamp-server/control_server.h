/*
 * The TWAMP-Control server of twamp-server (RFC 5357 §3): TCP listeners and
 * connections served by the reflector's poll loop (reflector_set_hook), one
 * ctrl_server state machine (common/control.h) per connection, and the test
 * sessions it negotiates opened on the reflector engine with the mode,
 * keys, DSCP and ports agreed.  It enforces the connection limits (global
 * and per source address), the session limits, SERVWAIT and - through the
 * reflector - REFWAIT and the Stop Timeout, and logs every rejection in one
 * line naming the Accept value and the reason.
 */
#ifndef TK_CONTROL_SERVER_H
#define TK_CONTROL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto.h"
#include "parse.h"
#include "reflector.h"
#include "tstamp.h"

struct control_opts {
	uint32_t modes;                   /* offered: security and feature bits */
	uint32_t count;                   /* PBKDF2 Count of the greeting */
	const struct crypto_keyfile *keys;/* may be NULL when only open is offered */
	int64_t servwait_ns;              /* SERVWAIT */
	int64_t refwait_ns;               /* REFWAIT of the test sessions */
	int64_t max_timeout_ns;           /* bound on a session's Stop Timeout */
	uint16_t port_lo, port_hi;        /* test ports; 0, 0: kernel-chosen */
	size_t max_connections;
	size_t max_per_source;            /* connections from one address */
	size_t max_sessions;              /* test sessions per connection */
	size_t max_sessions_per_source;
	const struct parse_prefix *allow; /* NULL/0: everyone (shared with the reflector) */
	size_t n_allow;
	ntp64_t start_time;               /* Server-Start Start-Time: this instance's start (D17) */
};

struct control_server;

/* o is copied (keys and allow must outlive the server).  Registers the reflector hook. */
struct control_server *control_server_new(const struct control_opts *o, struct reflector *r);

/* Closes every connection (sessions go to their Timeout) and the listeners; r stays. */
void control_server_free(struct control_server *cs);

/* Binds a TCP listener.  0 or -errno. */
int control_server_listen(struct control_server *cs, const struct sockaddr *addr, socklen_t len);

/* The IPv4 address that goes into every SID (E11), as text, for the start-up log. */
const char *control_server_sid_addr(const struct control_server *cs, char *buf, size_t len);

#endif
