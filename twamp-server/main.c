/*
 * twamp-server: TWAMP-Light Session-Reflector and TWAMP-Control server.
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
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "control_server.h"
#include "crypto.h"
#include "log.h"
#include "parse.h"
#include "reflector.h"
#include "server_config.h"
#include "tstamp.h"
#include "wire_control.h"

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
	OPT_MODES,
	OPT_FEATURES,
	OPT_COUNT,
	OPT_SERVWAIT,
	OPT_TEST_PORTS,
	OPT_MAX_CONNECTIONS,
	OPT_MAX_PER_SOURCE,
	OPT_MAX_TEST_SESSIONS,
	OPT_MAX_TEST_SESSIONS_PER_SOURCE,
	OPT_MAX_TIMEOUT,
	OPT_LIGHT_SECURITY,
	OPT_LIGHT_KEY,
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
	{ "keys", required_argument, NULL, 'k' },
	{ "modes", required_argument, NULL, OPT_MODES },
	{ "features", required_argument, NULL, OPT_FEATURES },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "servwait", required_argument, NULL, OPT_SERVWAIT },
	{ "test-ports", required_argument, NULL, OPT_TEST_PORTS },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNECTIONS },
	{ "max-connections-per-source", required_argument, NULL, OPT_MAX_PER_SOURCE },
	{ "max-test-sessions", required_argument, NULL, OPT_MAX_TEST_SESSIONS },
	{ "max-test-sessions-per-source", required_argument, NULL, OPT_MAX_TEST_SESSIONS_PER_SOURCE },
	{ "max-timeout", required_argument, NULL, OPT_MAX_TIMEOUT },
	{ "light-security", required_argument, NULL, OPT_LIGHT_SECURITY },
	{ "light-key", required_argument, NULL, OPT_LIGHT_KEY },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static void usage(FILE *f)
{
	fputs("Usage: twamp-server [-c FILE] [-f] [-v] [-n] [options]\n"
	      "TWAMP Session-Reflector: TWAMP-Light (RFC 5357 Appendix I; STAMP-compatible)\n"
	      "and the TWAMP-Control server (RFC 5357 §3) in one daemon.\n"
	      "\n"
	      "  -c, --config FILE        configuration file (libconfig syntax, see twampkit.conf(5))\n"
	      "  -f, --foreground         stay in the foreground, log to stderr\n"
	      "  -v, --verbose            more log output (repeat for debug)\n"
	      "  -n, --check              check the configuration, print it canonically, exit\n"
	      "  -l, --listen ADDR[:PORT] TWAMP-Light reflector socket (repeatable; default port 862;\n"
	      "                           default 0.0.0.0:862 and [::]:862)\n"
	      "      --stateless          copy the sender's sequence number (RFC 5357 App. I)\n"
	      "      --stateful           own sequence counter per sender (default)\n"
	      "      --refwait DUR        forget a sender / end a test session idle this long (900s)\n"
	      "      --max-sessions N     bound on per-sender Light state (default 4096)\n"
	      "      --dscp N|copy        DSCP of Light replies (default copy)\n"
	      "      --allow CIDR         answer only these senders, Light and control (repeatable)\n"
	      "      --stamp              STAMP-aware replies (RFC 8762/8972 layout)\n"
	      "      --dscp-ecn           RFC 7750 S-DSCP-ECN octet in Light replies\n"
	      "  -k, --keys FILE          shared secrets, 'KeyID secret' per line (control, keyed Light)\n"
	      "      --light-security M   Light test packets: open (default), auth or enc\n"
	      "      --light-key KEYID    keyed Light: the KeyID whose 64-octet secret holds the\n"
	      "                           AES key, HMAC key and SID (see README)\n"
	      "TWAMP-Control:\n"
	      "      --control ADDR[:PORT] control listener, TCP (repeatable; default port 862;\n"
	      "                           default 0.0.0.0:862 and [::]:862)\n"
	      "      --no-control         no TWAMP-Control listener\n"
	      "      --modes LIST         modes offered: open,auth,enc,mixed (default open)\n"
	      "      --features LIST      isc,reflect-octets,symmetrical,dscp-ecn (default all) or none\n"
	      "      --count N            PBKDF2 Count in the greeting, power of 2 >= 1024 (default 32768)\n"
	      "      --servwait DUR       close control connections idle this long (default 900s)\n"
	      "      --test-ports LO-HI   UDP ports of test sessions (default 18760-19759; 0: any)\n"
	      "      --max-connections N  control connections at once (default 256)\n"
	      "      --max-connections-per-source N   from one address (default 16)\n"
	      "      --max-test-sessions N           per control connection (default 16)\n"
	      "      --max-test-sessions-per-source N for one address (default 64)\n"
	      "      --max-timeout DUR    bound on a session's Stop Timeout (default 60s)\n"
	      "Other:\n"
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
	char control[4096];
	bool no_control;
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
	while ((opt = getopt_long(argc, argv, ":c:fvnl:k:hV", long_opts, NULL)) != -1) {
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
			if (append_list(cl->control, sizeof(cl->control), optarg) < 0) {
				fprintf(stderr, PROG ": too many --control addresses\n");
				return -1;
			}
			break;
		case OPT_NO_CONTROL: cl->no_control = true; break;
		case 'k': rc = add_override(cl, "keys", optarg); break;
		case OPT_MODES: rc = add_override(cl, "control.modes", optarg); break;
		case OPT_FEATURES: rc = add_override(cl, "control.features", optarg); break;
		case OPT_COUNT: rc = add_override(cl, "control.count", optarg); break;
		case OPT_SERVWAIT: rc = add_override(cl, "control.servwait", optarg); break;
		case OPT_TEST_PORTS: rc = add_override(cl, "control.test_ports", optarg); break;
		case OPT_MAX_CONNECTIONS: rc = add_override(cl, "control.max_connections", optarg); break;
		case OPT_MAX_PER_SOURCE: rc = add_override(cl, "control.max_per_source", optarg); break;
		case OPT_MAX_TEST_SESSIONS: rc = add_override(cl, "control.max_sessions", optarg); break;
		case OPT_MAX_TEST_SESSIONS_PER_SOURCE:
			rc = add_override(cl, "control.max_sessions_per_source", optarg);
			break;
		case OPT_MAX_TIMEOUT: rc = add_override(cl, "control.max_timeout", optarg); break;
		case OPT_LIGHT_SECURITY: rc = add_override(cl, "light_security", optarg); break;
		case OPT_LIGHT_KEY: rc = add_override(cl, "light_key", optarg); break;
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
	if (cl->no_control && cl->control[0]) {
		fprintf(stderr, PROG ": --control and --no-control exclude each other\n");
		return -1;
	}
	if (cl->control[0] && add_override(cl, "control.listen", cl->control))
		return -1;
	if (cl->no_control && add_override(cl, "control.listen", ""))
		return -1;
	return 0;
}

static int load_config(const struct cmdline *cl, struct server_config *sc, struct server_derived *d)
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
	if (server_config_derive(sc, d, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Keyed Light (README "Keyed TWAMP-Light"): the light_key's secret is
 * exactly 64 octets, the AES Session-key (16), the HMAC Session-key (32)
 * and the SID (16); the test keys derive from them as in TWAMP (C21).
 */
static int light_keys(const struct crypto_keyfile *kf, const char *keyid,
		      uint8_t aes[CRYPTO_AES_KEY_LEN], uint8_t hmac[CRYPTO_HMAC_KEY_LEN])
{
	const struct crypto_key *k = crypto_keyfile_find(kf, keyid, strlen(keyid));
	if (!k) {
		fprintf(stderr, PROG ": key 'light_key': KeyID '%s' is not in the key file\n", keyid);
		return -1;
	}
	if (k->secret_len != 64) {
		fprintf(stderr,
			PROG ": key 'light_key': the secret of '%s' has %zu octets; keyed Light needs 64 "
			     "(AES key 16, HMAC key 32, SID 16, e.g. hex:...)\n",
			keyid, k->secret_len);
		return -1;
	}
	return crypto_test_keys_derive(k->secret + 48, k->secret, k->secret + 16, aes, hmac) < 0 ? -1 : 0;
}

/* Room for many control connections and test sockets: the hard limit. */
static void raise_fd_limit(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
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
	struct server_derived sd;
	if (load_config(&cl, &sc, &sd) < 0)
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

	static struct crypto_keyfile keys;
	uint8_t light_aes[CRYPTO_AES_KEY_LEN], light_hmac[CRYPTO_HMAC_KEY_LEN];
	if (sc.keys[0]) {
		char kerr[512];
		if (crypto_keyfile_load(sc.keys, &keys, kerr, sizeof(kerr)) < 0) {
			fprintf(stderr, PROG ": key file: %s\n", kerr);
			return 1;
		}
	}
	if (sd.light_sec != WIRE_SEC_OPEN && light_keys(&keys, sc.light_key, light_aes, light_hmac) < 0) {
		crypto_keyfile_free(&keys);
		return 1;
	}
	raise_fd_limit();

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
		.light_sec = (enum wire_security)sd.light_sec,
		.light_test_aes = light_aes,
		.light_test_hmac = light_hmac,
		.max_test_sessions = (size_t)(sc.control_max_connections * sc.control_max_sessions),
	};
	struct reflector *r = reflector_new(&ro);
	crypto_wipe(light_aes, sizeof(light_aes));
	crypto_wipe(light_hmac, sizeof(light_hmac));
	if (!r) {
		fprintf(stderr, PROG ": out of memory\n");
		crypto_keyfile_free(&keys);
		return 2;
	}
	struct control_server *cs = NULL;
	if (sc.control_listen.n) {
		struct control_opts co = {
			.modes = sd.control_modes | sd.control_features,
			.count = (uint32_t)sc.control_count,
			.keys = &keys,
			.servwait_ns = sc.control_servwait,
			.refwait_ns = sc.refwait,
			.max_timeout_ns = sc.control_max_timeout,
			.port_lo = sd.port_lo,
			.port_hi = sd.port_hi,
			.max_connections = (size_t)sc.control_max_connections,
			.max_per_source = (size_t)sc.control_max_per_source,
			.max_sessions = (size_t)sc.control_max_sessions,
			.max_sessions_per_source = (size_t)sc.control_max_sessions_per_source,
			.allow = allow,
			.n_allow = sc.allow.n,
			.start_time = ts_ntp_from_unix_ns(ts_realtime_ns()),
		};
		cs = control_server_new(&co, r);
		if (!cs) {
			fprintf(stderr, PROG ": out of memory\n");
			reflector_free(r);
			crypto_keyfile_free(&keys);
			return 2;
		}
	}
	/*
	 * Control is on by default.  A listener that was asked for must work;
	 * the default one (TCP 862 on every address) may be out of reach for an
	 * unprivileged user running a Light reflector on a high port, or taken:
	 * then it is left out with a warning instead of failing the reflector.
	 */
	bool default_control = !cl.control[0] && sc.control_listen.n == 2 &&
			       !strcmp(sc.control_listen.v[0], "0.0.0.0:862") &&
			       !strcmp(sc.control_listen.v[1], "[::]:862");
	size_t control_bound = 0;
	for (size_t i = 0; i < sc.control_listen.n; i++) {
		struct sockaddr_storage ss;
		socklen_t len;
		const char *text = sc.control_listen.v[i];
		int err = parse_endpoint(text, AF_UNSPEC, 862, 0, &ss, &len);
		if (err == 0)
			err = control_server_listen(cs, (struct sockaddr *)&ss, len);
		if (err == 0) {
			control_bound++;
			continue;
		}
		if (default_control && (err == -EACCES || err == -EADDRINUSE || err == -EAFNOSUPPORT ||
					err == -EADDRNOTAVAIL)) {
			log_warn("TWAMP-Control not offered on %s: %s (set --control ADDR:PORT, or "
				 "--no-control)", text, strerror(-err));
			continue;
		}
		fprintf(stderr, PROG ": cannot listen for TWAMP-Control on %s: %s\n", text,
			err == -EINVAL || err == -ENOENT ? "not an address[:port]" : strerror(-err));
		control_server_free(cs);
		reflector_free(r);
		crypto_keyfile_free(&keys);
		return 2;
	}
	if (cs && control_bound == 0) {
		control_server_free(cs);
		cs = NULL;
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
		control_server_free(cs);
		reflector_free(r);
		crypto_keyfile_free(&keys);
		return 2;
	}
	if (cs) {
		char modes[128], sid[20];
		wire_modes_str(sd.control_modes | sd.control_features, modes, sizeof(modes));
		log_notice("TWAMP-Control on %s%s: modes %s, Count %lld, test ports %s, SERVWAIT %.0f s, "
			   "SID address %s",
			   sc.control_listen.v[0], sc.control_listen.n > 1 ? " and more" : "", modes,
			   (long long)sc.control_count, sc.control_test_ports,
			   (double)sc.control_servwait / 1e9, control_server_sid_addr(cs, sid, sizeof(sid)));
	}

	if (!cl.foreground) {
		if (daemon(0, 0) < 0) {
			fprintf(stderr, PROG ": cannot daemonize: %s\n", strerror(errno));
			control_server_free(cs);
			reflector_free(r);
			crypto_keyfile_free(&keys);
			return 2;
		}
		log_init(PROG, level, true);
	}
	/* The pid file is written with the privileges that own its directory. */
	if ((sc.pid_file[0] && write_pid_file(sc.pid_file, sc.user) < 0) ||
	    (sc.user[0] && drop_privileges(sc.user) < 0)) {
		control_server_free(cs);
		reflector_free(r);
		crypto_keyfile_free(&keys);
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
	control_server_free(cs);
	reflector_free(r);
	crypto_keyfile_free(&keys);
	if (sc.pid_file[0] && unlink(sc.pid_file) < 0)
		log_warn("cannot remove pid file %s: %s", sc.pid_file, strerror(errno));
	if (rc < 0) {
		log_err("reflector failed: %s", strerror(-rc));
		return 2;
	}
	return 0;
}
