/*
 * twamp-server's configuration: the struct the daemon runs from and the
 * option table that fills it from defaults, the -c file and command-line
 * overrides (config.h), and that -n prints.  Checks that need more than a
 * type and a range (DSCP "copy", CIDR prefixes) live in
 * server_config_check, run once after every source has been applied.
 */
#ifndef TK_SERVER_CONFIG_H
#define TK_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define SERVER_LISTEN_MAX 16
#define SERVER_PATH_MAX 1024

struct server_config {
	struct cfg_string_list listen;  /* ADDR[:PORT], default port 862 */
	bool stateful;                  /* own sequence counter per sender */
	int64_t refwait;                /* ns, REFWAIT (RFC 5357 §4.2) */
	int64_t max_sessions;
	char dscp[16];                  /* "copy" or "0".."63" (server_config_check) */
	struct cfg_string_list allow;   /* CIDR prefixes; empty = everyone */
	char user[256];                 /* "" = no privilege drop */
	char stats_file[SERVER_PATH_MAX];
	int64_t stats_interval;         /* ns, 0 = only at exit */
	int64_t batch;                  /* recvmmsg/sendmmsg batch size */
	bool stamp;                     /* STAMP-aware replies */
	bool dscp_ecn;                  /* RFC 7750 S-DSCP-ECN octet */
	char tstamp[16];                /* "kernel" or "user" (server_config_check) */
	int log_level;                  /* index of "err".."debug" = enum log_level */
	char pid_file[SERVER_PATH_MAX];
	char keys[SERVER_PATH_MAX];     /* KeyID -> shared secret file (crypto.h format) */
	char light_security[16];        /* Light listeners: open, auth or enc */
	char light_key[CFG_STR_MAX];    /* KeyID of the provisioned Light keys */
	/* TWAMP-Control (group "control") */
	struct cfg_string_list control_listen;  /* ADDR[:PORT], TCP, default port 862 */
	char control_modes[64];         /* open,auth,enc,mixed */
	char control_features[96];      /* isc,reflect-octets,symmetrical,dscp-ecn or none */
	int64_t control_count;          /* PBKDF2 Count of the greeting: power of 2, >= 1024 */
	int64_t control_servwait;       /* ns, SERVWAIT (RFC 5357 §3.1) */
	char control_test_ports[32];    /* "LO-HI", or "0" for kernel-chosen ports */
	int64_t control_max_connections;
	int64_t control_max_per_source;
	int64_t control_max_sessions;   /* test sessions per connection */
	int64_t control_max_sessions_per_source;
	int64_t control_max_timeout;    /* ns, bound on a session's Timeout after Stop */
};

/* What server_config_check derived from the text values. */
struct server_derived {
	uint32_t control_modes;         /* security bits */
	uint32_t control_features;      /* feature bits */
	uint16_t port_lo, port_hi;      /* 0, 0: kernel-chosen */
	int light_sec;                  /* enum wire_security */
};

extern const struct cfg_option server_config_tab[];
extern const size_t server_config_tab_len;

/*
 * Cross-checks after loading: dscp, allow prefixes, tstamp mode, listen
 * ports, control modes and features, the PBKDF2 Count, the test port
 * range, keyed Light.  0, or -EINVAL with a one-line "key 'dscp': ..." message in err.
 */
int server_config_check(const struct server_config *c, char *err, size_t errlen);

/* As server_config_check, also returning the derived values (d may be NULL). */
int server_config_derive(const struct server_config *c, struct server_derived *d, char *err,
			 size_t errlen);

#endif
