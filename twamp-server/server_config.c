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

#include "control.h"
#include "parse.h"
#include "server_config.h"
#include "wire_control.h"
#include "wire_test.h"

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
	OPT("keys", CFG_STRING, keys, 0, 0, "", NULL,
	    "shared secrets, one 'KeyID secret' per line (control auth/enc/mixed, keyed Light)"),
	OPT("light_security", CFG_STRING, light_security, 0, 0, "open", NULL,
	    "TWAMP-Light test packets: open, auth or enc (keyed: needs light_key)"),
	OPT("light_key", CFG_STRING, light_key, 0, 0, "", NULL,
	    "KeyID whose 64-octet secret is AES key, HMAC key and SID for keyed Light"),
	OPT("control.listen", CFG_STRING_LIST, control_listen, 0, SERVER_LISTEN_MAX,
	    "0.0.0.0:862,[::]:862", NULL,
	    "TWAMP-Control listeners, TCP ADDR[:PORT] (default port 862; empty: no control)"),
	OPT("control.modes", CFG_STRING, control_modes, 0, 0, "open", NULL,
	    "security modes offered: open, auth, enc, mixed (comma-separated)"),
	OPT("control.features", CFG_STRING, control_features, 0, 0,
	    "isc,reflect-octets,symmetrical,dscp-ecn", NULL,
	    "extensions offered: isc, reflect-octets, symmetrical, dscp-ecn, or none"),
	OPT("control.count", CFG_INT, control_count, 1024, 1 << 30, "32768", NULL,
	    "PBKDF2 iteration Count of the greeting (power of two >= 1024)"),
	OPT("control.servwait", CFG_DURATION, control_servwait, NS_PER_S, 86400 * NS_PER_S, "900s",
	    NULL, "close a control connection idle this long (SERVWAIT, RFC 5357 3.1)"),
	OPT("control.test_ports", CFG_STRING, control_test_ports, 0, 0, "18760-19759", NULL,
	    "UDP ports for test sessions, LO-HI (0: any free port)"),
	OPT("control.max_connections", CFG_INT, control_max_connections, 1, 65536, "256", NULL,
	    "control connections at once"),
	OPT("control.max_per_source", CFG_INT, control_max_per_source, 1, 65536, "16", NULL,
	    "control connections at once from one address"),
	OPT("control.max_sessions", CFG_INT, control_max_sessions, 1, 64, "16", NULL,
	    "test sessions per control connection"),
	OPT("control.max_sessions_per_source", CFG_INT, control_max_sessions_per_source, 1, 65536,
	    "64", NULL, "test sessions at once for one address"),
	OPT("control.max_timeout", CFG_DURATION, control_max_timeout, 0, 3600 * NS_PER_S, "60s", NULL,
	    "bound on a session's Timeout (reflecting after Stop-Sessions)"),
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

/* "LO-HI" or "0". */
static int parse_port_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	uint64_t a, b;
	char buf[32];
	const char *dash = strchr(s, '-');

	if (!strcmp(s, "0")) {
		*lo = *hi = 0;
		return 0;
	}
	if (!dash || (size_t)(dash - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (parse_uint(buf, 1, 65535, &a) < 0 || parse_uint(dash + 1, 1, 65535, &b) < 0 || a > b)
		return -EINVAL;
	*lo = (uint16_t)a;
	*hi = (uint16_t)b;
	return 0;
}

int server_config_check(const struct server_config *c, char *err, size_t errlen)
{
	return server_config_derive(c, NULL, err, errlen);
}

int server_config_derive(const struct server_config *c, struct server_derived *d, char *err,
			 size_t errlen)
{
	struct server_derived local;
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
	for (i = 0; i < c->control_listen.n; i++) {
		if (c->control_listen.v[i][0] == '\0')
			return check_err(err, errlen, "key 'control.listen': element %zu is empty", i + 1);
		if (parse_endpoint(c->control_listen.v[i], AF_UNSPEC, 862, 1, &ss, &sl) == -ERANGE)
			return check_err(err, errlen,
					 "key 'control.listen': '%s': port out of range 0..65535",
					 c->control_listen.v[i]);
	}
	if (!d)
		d = &local;
	memset(d, 0, sizeof(*d));
	const char *bad = NULL;
	if (ctrl_modes_parse_list(c->control_modes, &d->control_modes, &bad) < 0 ||
	    (d->control_modes & ~WIRE_MODE_SECURITY_MASK))
		return check_err(err, errlen,
				 "key 'control.modes': '%s' is not a list of open, auth, enc, mixed",
				 c->control_modes);
	if (d->control_modes == 0)
		return check_err(err, errlen, "key 'control.modes': no mode given");
	if (ctrl_modes_parse_list(c->control_features, &d->control_features, &bad) < 0 ||
	    (d->control_features & WIRE_MODE_SECURITY_MASK) ||
	    (d->control_features & ~(uint32_t)(WIRE_MODE_ISC | WIRE_MODE_REFLECT_OCTETS |
					       WIRE_MODE_SYMMETRICAL | WIRE_MODE_DSCP_ECN)))
		return check_err(err, errlen,
				 "key 'control.features': '%s' is not a list of isc, reflect-octets, "
				 "symmetrical, dscp-ecn (or none)",
				 c->control_features);
	if (c->control_count & (c->control_count - 1))
		return check_err(err, errlen,
				 "key 'control.count': %lld is not a power of two (RFC 4656 3.1)",
				 (long long)c->control_count);
	if (parse_port_range(c->control_test_ports, &d->port_lo, &d->port_hi) < 0)
		return check_err(err, errlen,
				 "key 'control.test_ports': '%s' is not LO-HI (1..65535) or 0",
				 c->control_test_ports);
	if ((d->control_modes & ~WIRE_MODE_OPEN) && c->control_listen.n && !c->keys[0])
		return check_err(err, errlen,
				 "key 'control.modes': '%s' needs a key file (key 'keys', option -k)",
				 c->control_modes);
	uint32_t lsec = ctrl_mode_parse(c->light_security);
	if (lsec == WIRE_MODE_OPEN)
		d->light_sec = WIRE_SEC_OPEN;
	else if (lsec == WIRE_MODE_AUTH)
		d->light_sec = WIRE_SEC_AUTH;
	else if (lsec == WIRE_MODE_ENC)
		d->light_sec = WIRE_SEC_ENC;
	else
		return check_err(err, errlen,
				 "key 'light_security': '%s' is not open, auth or enc", c->light_security);
	if (d->light_sec != WIRE_SEC_OPEN && (!c->keys[0] || !c->light_key[0]))
		return check_err(err, errlen,
				 "key 'light_security': '%s' needs a key file (keys) and light_key",
				 c->light_security);
	return 0;
}
