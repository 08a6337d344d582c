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
};

extern const struct cfg_option server_config_tab[];
extern const size_t server_config_tab_len;

/*
 * Cross-checks after loading: dscp, allow prefixes, tstamp mode, listen
 * ports.  0, or -EINVAL with a one-line "key 'dscp': ..." message in err.
 */
int server_config_check(const struct server_config *c, char *err, size_t errlen);

#endif
