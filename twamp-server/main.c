/*
 * twamp-server: TWAMP-Light Session-Reflector daemon.
 *
 * Configuration comes from the typed table in server_config.c: defaults,
 * then the -c file, then command-line options, then one validation pass;
 * -n prints the result canonically and exits.  Sockets are bound before
 * privileges are dropped and before daemonising, so every error still
 * reaches the terminal as one clear line.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "parse.h"
#include "reflector.h"
#include "server_config.h"

#define PROG "twamp-server"
#define MAX_OVERRIDES 64

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

enum long_only {
	OPT_CONTROL = 256,
	OPT_NO_CONTROL,
	OPT_STATELESS,
	OPT_STATEFUL,
	OPT_REFWAIT,
	OPT_MAX_SESSIONS,
	OPT_DSCP,
	OPT_ALLOW,
	OPT_STAMP,
	OPT_DSCP_ECN,
	OPT_STATS,
	OPT_STATS_INTERVAL,
	OPT_USER,
	OPT_PID_FILE,
	OPT_BATCH,
	OPT_TSTAMP,
};

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "foreground", no_argument, NULL, 'f' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "check", no_argument, NULL, 'n' },
	{ "listen", required_argument, NULL, 'l' },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "no-control", no_argument, NULL, OPT_NO_CONTROL },
	{ "stateless", no_argument, NULL, OPT_STATELESS },
	{ "stateful", no_argument, NULL, OPT_STATEFUL },
	{ "refwait", required_argument, NULL, OPT_REFWAIT },
	{ "max-sessions", required_argument, NULL, OPT_MAX_SESSIONS },
	{ "dscp", required_argument, NULL, OPT_DSCP },
	{ "allow", required_argument, NULL, OPT_ALLOW },
	{ "stamp", no_argument, NULL, OPT_STAMP },
	{ "dscp-ecn", no_argument, NULL, OPT_DSCP_ECN },
	{ "stats", required_argument, NULL, OPT_STATS },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "user", required_argument, NULL, OPT_USER },
	{ "pid-file", required_argument, NULL, OPT_PID_FILE },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "tstamp", required_argument, NULL, OPT_TSTAMP },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("Usage: twamp-server [-c FILE] [-f] [-v] [-n] [options]\n"
	      "TWAMP-Light Session-Reflector (RFC 5357 Appendix I; STAMP-compatible).\n"
	      "\n"
	      "  -c, --config FILE        configuration file (libconfig syntax, see twampkit.conf(5))\n"
	      "  -f, --foreground         stay in the foreground, log to stderr\n"
	      "  -v, --verbose            more log output (repeat for debug)\n"
	      "  -n, --check              check the configuration, print it canonically, exit\n"
	      "  -l, --listen ADDR[:PORT] reflector socket (repeatable; default port 862;\n"
	      "                           default 0.0.0.0:862 and [::]:862)\n"
	      "      --no-control         no TWAMP-Control listener (the only mode in this version)\n"
	      "      --stateless          copy the sender's sequence number (RFC 5357 App. I)\n"
	      "      --stateful           own sequence counter per sender (default)\n"
	      "      --refwait DUR        forget a sender idle this long (default 900s)\n"
	      "      --max-sessions N     bound on per-sender state (default 4096)\n"
	      "      --dscp N|copy        DSCP of replies (default copy)\n"
	      "      --allow CIDR         answer only these senders (repeatable)\n"
	      "      --stamp              STAMP-aware replies (RFC 8762/8972 layout)\n"
	      "      --dscp-ecn           RFC 7750 S-DSCP-ECN octet in replies\n"
	      "      --stats FILE         write JSON counters there (at exit and every --stats-interval)\n"
	      "      --stats-interval DUR how often to write --stats (default 0: at exit only)\n"
	      "      --user USER          drop privileges to USER after binding\n"
	      "      --pid-file FILE      write the daemon's PID there\n"
	      "      --batch N            datagrams per recvmmsg/sendmmsg (default 32)\n"
	      "      --tstamp MODE        kernel (default, falls back to user) or user\n"
	      "  -h, --help               this help\n"
	      "  -V, --version            version\n"
	      "\n"
	      "Exit status: 0 after a clean shutdown (SIGTERM/SIGINT), 1 on configuration\n"
	      "errors, 2 when the service cannot start.\n", f);
}

struct override {
	const char *key;
	const char *value;
};

struct cmdline {
	const char *config_path;
	bool foreground;
	int verbose;
	bool check_only;
	struct override ov[MAX_OVERRIDES];
	size_t n_ov;
	char listen[4096];
	char allow[4096];
};

static int add_override(struct cmdline *cl, const char *key, const char *value)
{
	if (cl->n_ov == MAX_OVERRIDES) {
		fprintf(stderr, PROG ": too many options\n");
		return -1;
	}
	cl->ov[cl->n_ov++] = (struct override){ key, value };
	return 0;
}

static int append_list(char *list, size_t cap, const char *item)
{
	size_t used = strlen(list);
	int n = snprintf(list + used, cap - used, "%s%s", used ? "," : "", item);
	return (n < 0 || (size_t)n >= cap - used) ? -1 : 0;
}

/* 0 to continue, 1 to exit 0 (help/version), -1 to exit 1. */
static int parse_cmdline(struct cmdline *cl, int argc, char **argv)
{
	int opt;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:fvnl:hV", long_opts, NULL)) != -1) {
		int rc = 0;
		switch (opt) {
		case 'c': cl->config_path = optarg; break;
		case 'f': cl->foreground = true; break;
		case 'v': cl->verbose++; break;
		case 'n': cl->check_only = true; break;
		case 'l':
			if (append_list(cl->listen, sizeof(cl->listen), optarg) < 0) {
				fprintf(stderr, PROG ": too many --listen addresses\n");
				return -1;
			}
			break;
		case OPT_ALLOW:
			if (append_list(cl->allow, sizeof(cl->allow), optarg) < 0) {
				fprintf(stderr, PROG ": too many --allow prefixes\n");
				return -1;
			}
			break;
		case OPT_CONTROL:
			fprintf(stderr, PROG ": --control: TWAMP-Control is not part of this version yet; "
				"use --listen for TWAMP-Light\n");
			return -1;
		case OPT_NO_CONTROL: break;
		case OPT_STATELESS: rc = add_override(cl, "stateful", "no"); break;
		case OPT_STATEFUL: rc = add_override(cl, "stateful", "yes"); break;
		case OPT_REFWAIT: rc = add_override(cl, "refwait", optarg); break;
		case OPT_MAX_SESSIONS: rc = add_override(cl, "max_sessions", optarg); break;
		case OPT_DSCP: rc = add_override(cl, "dscp", optarg); break;
		case OPT_STAMP: rc = add_override(cl, "stamp", "yes"); break;
		case OPT_DSCP_ECN: rc = add_override(cl, "dscp_ecn", "yes"); break;
		case OPT_STATS: rc = add_override(cl, "stats_file", optarg); break;
		case OPT_STATS_INTERVAL: rc = add_override(cl, "stats_interval", optarg); break;
		case OPT_USER: rc = add_override(cl, "user", optarg); break;
		case OPT_PID_FILE: rc = add_override(cl, "pid_file", optarg); break;
		case OPT_BATCH: rc = add_override(cl, "batch", optarg); break;
		case OPT_TSTAMP: rc = add_override(cl, "tstamp", optarg); break;
		case 'h': usage(stdout); return 1;
		case 'V': printf(PROG " %s\n", PACKAGE_VERSION); return 1;
		case ':':
			fprintf(stderr, PROG ": option %s needs a value\n", argv[optind - 1]);
			return -1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind - 1]);
			return -1;
		}
		if (rc)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	if (cl->listen[0] && add_override(cl, "listen", cl->listen))
		return -1;
	if (cl->allow[0] && add_override(cl, "allow", cl->allow))
		return -1;
	return 0;
}

static int load_config(const struct cmdline *cl, struct server_config *sc)
{
	char err[CFG_ERR_LEN];
	if (cfg_set_defaults(server_config_tab, server_config_tab_len, sc, err, sizeof(err)) < 0 ||
	    (cl->config_path &&
	     cfg_load_file(server_config_tab, server_config_tab_len, sc, cl->config_path, err,
			   sizeof(err)) < 0)) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	for (size_t i = 0; i < cl->n_ov; i++) {
		if (cfg_set(server_config_tab, server_config_tab_len, sc, cl->ov[i].key,
			    cl->ov[i].value, err, sizeof(err)) < 0) {
			fprintf(stderr, PROG ": %s\n", err);
			return -1;
		}
	}
	if (server_config_check(sc, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	return 0;
}

static int drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		log_err("--user %s: no such user", user);
		return -1;
	}
	if (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		log_err("cannot drop privileges to %s: %s", user, strerror(errno));
		return -1;
	}
	/* Verify: regaining root must fail. */
	if (pw->pw_uid != 0 && setuid(0) == 0) {
		log_err("privilege drop to %s did not hold", user);
		return -1;
	}
	log_info("running as user %s (uid %u)", user, (unsigned)pw->pw_uid);
	return 0;
}

struct stats_ctx {
	const char *path;
};

static void write_stats(struct reflector *r, void *arg)
{
	const struct stats_ctx *ctx = arg;
	if (!ctx->path[0])
		return;
	/* Write a temporary file and rename it, so readers never see half a file. */
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%s.tmp", ctx->path);
	FILE *f = fopen(tmp, "w");
	if (!f) {
		log_warn("cannot write stats %s: %s", tmp, strerror(errno));
		return;
	}
	int rc = reflector_write_stats(r, f);
	if (fclose(f) != 0 || rc < 0 || rename(tmp, ctx->path) < 0)
		log_warn("cannot write stats %s: %s", ctx->path, strerror(errno));
}

/* Written before the privilege drop; owned by the final user so it can remove it at exit. */
static int write_pid_file(const char *path, const char *user)
{
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
		log_err("cannot write pid file %s: %s", path, strerror(errno));
		return -1;
	}
	struct passwd *pw = user[0] ? getpwnam(user) : NULL;
	if (pw && chown(path, pw->pw_uid, pw->pw_gid) < 0)
		log_warn("cannot hand pid file %s to %s: %s", path, user, strerror(errno));
	return 0;
}

int main(int argc, char **argv)
{
	struct cmdline cl;
	memset(&cl, 0, sizeof(cl));
	int rc = parse_cmdline(&cl, argc, argv);
	if (rc)
		return rc > 0 ? 0 : 1;

	static struct server_config sc;
	if (load_config(&cl, &sc) < 0)
		return 1;
	if (cl.check_only) {
		if (cfg_write_canonical(server_config_tab, server_config_tab_len, &sc, stdout) < 0)
			return 1;
		return 0;
	}

	/* Resolve the user before anything starts, while errors still reach the terminal. */
	if (sc.user[0] && !getpwnam(sc.user)) {
		fprintf(stderr, PROG ": --user %s: no such user\n", sc.user);
		return 2;
	}

	enum log_level level = (enum log_level)sc.log_level;
	for (int i = 0; i < cl.verbose && level < LOG_LEVEL_DEBUG; i++)
		level++;
	log_init(PROG, level, false);

	static struct parse_prefix allow[CFG_LIST_MAX];
	for (size_t i = 0; i < sc.allow.n; i++)
		parse_prefix(sc.allow.v[i], &allow[i]); /* validated by server_config_check */

	struct reflector_opts ro = {
		.stateful = sc.stateful,
		.refwait_ns = sc.refwait,
		.max_sessions = (size_t)sc.max_sessions,
		.dscp = strcmp(sc.dscp, "copy") ? atoi(sc.dscp) : -1,
		.stamp_aware = sc.stamp,
		.dscp_ecn = sc.dscp_ecn,
		.batch = (unsigned)sc.batch,
		.tstamp = strcmp(sc.tstamp, "user") ? SOCK_TS_KERNEL : SOCK_TS_USER,
		.allow = allow,
		.n_allow = sc.allow.n,
	};
	struct reflector *r = reflector_new(&ro);
	if (!r) {
		fprintf(stderr, PROG ": out of memory\n");
		return 2;
	}
	for (size_t i = 0; i < sc.listen.n; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *text = sc.listen.v[i];
		int err = parse_endpoint(text, AF_UNSPEC, 862, 0, &ss, &len);
		if (err == 0) {
			struct sock_caps caps;
			err = reflector_listen(r, (struct sockaddr *)&ss, len, &caps);
			if (err == 0) {
				log_notice("reflecting on %s (stateful=%s, T2 %s)", text,
					   sc.stateful ? "yes" : "no", sock_rx_mode_name(caps.rx));
				if (caps.rx == SOCK_RX_USER && ro.tstamp == SOCK_TS_KERNEL)
					log_warn("%s: no kernel receive timestamps, using user-space clock reads", text);
				if (!caps.recv_ttl)
					log_warn("%s: received TTL not readable, Sender TTL will be 255", text);
				continue;
			}
		}
		fprintf(stderr, PROG ": cannot listen on %s: %s\n", text,
			err == -EINVAL || err == -ENOENT ? "not an address[:port]" : strerror(-err));
		reflector_free(r);
		return 2;
	}

	if (!cl.foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, PROG ": cannot daemonize: %s\n", strerror(errno));
			reflector_free(r);
			return 2;
		}
		log_init(PROG, level, true);
	}
	/* The pid file is written with the privileges that own its directory. */
	if (sc.pid_file[0] && write_pid_file(sc.pid_file, sc.user) < 0) {
		reflector_free(r);
		return 2;
	}
	if (sc.user[0] && drop_privileges(sc.user) < 0) {
		reflector_free(r);
		return 2;
	}

	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct stats_ctx sctx = { .path = sc.stats_file };
	rc = reflector_run(r, &stop_requested, sc.stats_interval, write_stats, &sctx);
	struct reflector_counters c;
	reflector_get_counters(r, &c);
	log_notice("stopped: %llu received, %llu reflected", (unsigned long long)c.received,
		   (unsigned long long)c.reflected);
	reflector_free(r);
	if (sc.pid_file[0] && unlink(sc.pid_file) < 0)
		log_warn("cannot remove pid file %s: %s", sc.pid_file, strerror(errno));
	if (rc < 0) {
		log_err("reflector failed: %s", strerror(-rc));
		return 2;
	}
	return 0;
}
