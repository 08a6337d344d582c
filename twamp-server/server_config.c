/*
 * twamp-server's option table (see server_config.h).  Defaults follow the
 * RFCs where they name one (REFWAIT 900 s, RFC 5357 §4.2; DSCP copied for
 * TWAMP-Light, RFC 7750 §2.2.1) and are otherwise chosen so that a server
 * started with no configuration is safe to expose: bounded state, no files
 * written.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "parse.h"
#include "server_config.h"

#define NS_PER_S 1000000000LL

#define OPT(key_, type_, field_, min_, max_, def_, names_, help_)                          \
	{ key_, type_, offsetof(struct server_config, field_),                               \
	  sizeof(((struct server_config *)0)->field_), min_, max_, def_, names_, help_ }

/* Same order as enum log_level, so the index converts directly. */
static const char *const log_level_names[] = { "err", "warn", "notice", "info", "debug", NULL };

const struct cfg_option server_config_tab[] = {
	OPT("listen", CFG_STRING_LIST, listen, 0, SERVER_LISTEN_MAX, "0.0.0.0:862,[::]:862", NULL,
	    "TWAMP-Light reflector sockets, ADDR[:PORT] (default port 862)"),
	OPT("stateful", CFG_BOOL, stateful, 0, 0, "true", NULL,
	    "own sequence counter per sender (false: copy the sender's, RFC 5357 App. I)"),
	OPT("refwait", CFG_DURATION, refwait, NS_PER_S, 86400 * NS_PER_S, "900s", NULL,
	    "forget a sender idle this long (REFWAIT, RFC 5357 4.2)"),
	OPT("max_sessions", CFG_INT, max_sessions, 1, 1000000, "4096", NULL,
	    "bound on per-sender reflector state"),
	OPT("dscp", CFG_STRING, dscp, 0, 0, "copy", NULL,
	    "DSCP of reflected packets: copy (the received one) or 0..63"),
	OPT("allow", CFG_STRING_LIST, allow, 0, CFG_LIST_MAX, NULL, NULL,
	    "answer only senders inside these CIDR prefixes (empty: everyone)"),
	OPT("user", CFG_STRING, user, 0, 0, "", NULL,
	    "drop privileges to this user after binding (empty: keep)"),
	OPT("stats_file", CFG_STRING, stats_file, 0, 0, "", NULL,
	    "write JSON counters to this file (empty: none)"),
	OPT("stats_interval", CFG_DURATION, stats_interval, 0, 3600 * NS_PER_S, "0s", NULL,
	    "how often to write stats_file (0s: at exit only)"),
	OPT("batch", CFG_INT, batch, 1, 1024, "32", NULL,
	    "datagrams per recvmmsg/sendmmsg call"),
	OPT("stamp", CFG_BOOL, stamp, 0, 0, "false", NULL,
	    "STAMP-aware replies (RFC 8762/8972 layout)"),
	OPT("dscp_ecn", CFG_BOOL, dscp_ecn, 0, 0, "false", NULL,
	    "RFC 7750 S-DSCP-ECN octet in replies"),
	OPT("tstamp", CFG_STRING, tstamp, 0, 0, "kernel", NULL,
	    "receive timestamps: kernel (falls back to user) or user"),
	OPT("log_level", CFG_ENUM, log_level, 0, 0, "notice", log_level_names,
	    "log up to this level: err, warn, notice, info or debug"),
	OPT("pid_file", CFG_STRING, pid_file, 0, 0, "", NULL,
	    "write the daemon's PID to this file (empty: none)"),
};

const size_t server_config_tab_len = sizeof(server_config_tab) / sizeof(server_config_tab[0]);

static int check_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int check_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		/* Values are quoted as given: keep the message on one line. */
		for (p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return -EINVAL;
}

int server_config_check(const struct server_config *c, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct parse_prefix p;
	socklen_t sl;
	uint64_t v;
	size_t i;
	int rc;

	if (strcmp(c->dscp, "copy") != 0) {
		rc = parse_uint(c->dscp, 0, 63, &v);
		if (rc == -ERANGE)
			return check_err(err, errlen, "key 'dscp': %s is out of range 0..63", c->dscp);
		if (rc < 0)
			return check_err(err, errlen, "key 'dscp': '%s' is neither 'copy' nor 0..63",
					 c->dscp);
	}
	if (strcmp(c->tstamp, "kernel") != 0 && strcmp(c->tstamp, "user") != 0)
		return check_err(err, errlen, "key 'tstamp': unknown value '%s' (valid: kernel, user)",
				 c->tstamp);
	for (i = 0; i < c->allow.n; i++) {
		rc = parse_prefix(c->allow.v[i], &p);
		if (rc == -ERANGE)
			return check_err(err, errlen, "key 'allow': '%s': prefix length out of range",
					 c->allow.v[i]);
		if (rc < 0)
			return check_err(err, errlen,
					 "key 'allow': '%s' is not an address prefix (ADDR[/LEN])",
					 c->allow.v[i]);
	}
	for (i = 0; i < c->listen.n; i++) {
		if (c->listen.v[i][0] == '\0')
			return check_err(err, errlen, "key 'listen': element %zu is empty", i + 1);
		/* Names resolve only at start; only what is wrong regardless is refused here. */
		if (parse_endpoint(c->listen.v[i], AF_UNSPEC, 862, 1, &ss, &sl) == -ERANGE)
			return check_err(err, errlen, "key 'listen': '%s': port out of range 0..65535",
					 c->listen.v[i]);
	}
	return 0;
}
