/*
 * twamp-client: TWAMP Session-Sender.  Parses the command line, negotiates
 * the test session over TWAMP-Control when asked to (--control), runs the
 * sender, stops the session, and hands the result to the output funnel.
 * SIGINT and SIGTERM stop sending and still write a valid (partial) result.
 */
#include "autoconfig.h"

#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client_config.h"
#include "control.h"
#include "control_client.h"
#include "crypto.h"
#include "hostinfo.h"
#include "output.h"
#include "parse.h"
#include "sender.h"
#include "stats.h"
#include "tstamp.h"
#include "wire_control.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* Per probe number, TWAMP RTT minus ICMP RTT where both were answered. */
static int difference(const struct sender_result *sr, struct stats_dist *out)
{
	const struct sender_proto_result *t = &sr->p[PROBE_TWAMP], *i = &sr->p[PROBE_ICMP];
	size_t n = t->n_probes < i->n_probes ? t->n_probes : i->n_probes, k = 0;
	int64_t *d = malloc((n ? n : 1) * sizeof(*d));
	if (!d)
		return -ENOMEM;
	for (size_t j = 0; j < n; j++)
		if (t->probes[j].received && t->probes[j].ts_valid && i->probes[j].received)
			d[k++] = t->probes[j].rtt_ns - i->probes[j].rtt_ns;
	int rc = stats_dist_compute(d, k, out);
	free(d);
	return rc;
}

/* All probes in send order: probe j of each protocol, alternating as sent. */
static struct probe_result *merge_probes(const struct sender_result *sr, size_t *n_out)
{
	const struct sender_proto_result *t = &sr->p[PROBE_TWAMP], *i = &sr->p[PROBE_ICMP];
	size_t nt = t->active ? t->n_probes : 0, ni = i->active ? i->n_probes : 0;
	struct probe_result *all = malloc((nt + ni ? nt + ni : 1) * sizeof(*all));
	if (!all)
		return NULL;
	size_t k = 0;
	for (size_t j = 0; j < nt || j < ni; j++) {
		bool icmp_first = j & 1;
		if (icmp_first && j < ni)
			all[k++] = i->probes[j];
		if (j < nt)
			all[k++] = t->probes[j];
		if (!icmp_first && j < ni)
			all[k++] = i->probes[j];
	}
	*n_out = k;
	return all;
}

static int build_result(struct client_config *cfg, struct sender_result *sr, struct result *r,
			struct probe_result **merged, int64_t **sched_buf)
{
	memset(r, 0, sizeof(*r));
	r->tool_name = "twamp-client";
	r->tool_version = PACKAGE_VERSION;
	r->target = cfg->target_resolved;
	hostinfo_collect(&r->host);
	enum probe_proto first = sr->p[PROBE_TWAMP].active ? PROBE_TWAMP : PROBE_ICMP;
	const struct sender_proto_result *fp = &sr->p[first];
	snprintf(r->host.tstamp_rx, sizeof(r->host.tstamp_rx), "%s", sock_rx_mode_name(fp->caps.rx));
	snprintf(r->host.tstamp_tx, sizeof(r->host.tstamp_tx), "%s",
		 fp->t1_kernel ? sock_tx_mode_name(fp->caps.tx) : "user");
	r->config = cfg->kv;
	r->n_config = cfg->n_kv;
	r->interrupted = sr->interrupted;
	r->start_ns = sr->start_ns;
	r->end_ns = sr->end_ns;
	*merged = merge_probes(sr, &r->n_probes);
	if (!*merged)
		return -ENOMEM;
	r->probes = *merged;

	size_t nsched = 0;
	for (int p = 0; p < PROBE_NPROTO; p++)
		nsched += sr->p[p].active ? sr->p[p].n_probes : 0;
	*sched_buf = malloc((nsched ? nsched : 1) * 2 * sizeof(int64_t));
	if (!*sched_buf)
		return -ENOMEM;
	int64_t *late = *sched_buf, *call = *sched_buf + nsched;
	size_t k = 0;
	for (int p = 0; p < PROBE_NPROTO; p++) {
		const struct sender_proto_result *pr = &sr->p[p];
		if (!pr->active)
			continue;
		r->have[p] = true;
		int rc = stats_summarize(pr->probes, pr->n_probes, (enum probe_proto)p, pr->reordered,
					 &r->summary[p]);
		if (rc)
			return rc;
		r->summary[p].skipped = pr->skipped + pr->send_errors;
		r->schedule.skipped += pr->skipped;
		memcpy(late + k, pr->lateness_ns, pr->n_probes * sizeof(int64_t));
		memcpy(call + k, pr->send_call_ns, pr->n_probes * sizeof(int64_t));
		k += pr->n_probes;
	}
	int rc = stats_dist_compute(late, k, &r->schedule.lateness);
	if (!rc)
		rc = stats_dist_compute(call, k, &r->schedule.send_call);
	if (!rc && r->have[PROBE_TWAMP] && r->have[PROBE_ICMP]) {
		r->have_diff = true;
		rc = difference(sr, &r->diff);
	}
	return rc;
}

/* The secret of -u KEYID in -k FILE; keys stay loaded in kf until the caller frees it. */
static const struct crypto_key *find_key(const struct client_config *cfg, struct crypto_keyfile *kf,
					 char *err, size_t errlen)
{
	char kerr[400];
	if (crypto_keyfile_load(cfg->keyfile, kf, kerr, sizeof(kerr)) < 0) {
		snprintf(err, errlen, "key file: %s", kerr);
		return NULL;
	}
	const struct crypto_key *k = crypto_keyfile_find(kf, cfg->keyid, strlen(cfg->keyid));
	if (!k)
		snprintf(err, errlen, "KeyID '%s' is not in %s", cfg->keyid, cfg->keyfile);
	return k;
}

/*
 * Keyed TWAMP-Light (README): the KeyID's secret is 64 octets, AES
 * Session-key, HMAC Session-key and SID, provisioned identically on the
 * reflector; the test keys derive from them as in TWAMP (C21, K4).
 */
static int light_crypto(struct client_config *cfg, struct crypto_test_ctx *t, char *err,
			size_t errlen)
{
	struct crypto_keyfile kf;
	memset(&kf, 0, sizeof(kf));
	const struct crypto_key *k = find_key(cfg, &kf, err, errlen);
	int rc = -EINVAL;
	if (k && k->secret_len != 64) {
		snprintf(err, errlen,
			 "keyed TWAMP-Light needs a 64-octet secret for '%s' (AES key 16, HMAC key 32, "
			 "SID 16); it has %zu", cfg->keyid, k->secret_len);
	} else if (k) {
		uint8_t aes[CRYPTO_AES_KEY_LEN], hmac[CRYPTO_HMAC_KEY_LEN];
		rc = crypto_test_keys_derive(k->secret + 48, k->secret, k->secret + 16, aes, hmac);
		if (!rc)
			rc = crypto_test_init(t, cfg->send.sec, aes, hmac);
		crypto_wipe(aes, sizeof(aes));
		crypto_wipe(hmac, sizeof(hmac));
		if (rc)
			snprintf(err, errlen, "cannot set up the test keys");
	}
	crypto_keyfile_free(&kf);
	return rc;
}

static void hex16(const uint8_t *p, char *out)
{
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

/*
 * Full TWAMP: connect, agree on a mode, request one session for the UDP
 * socket the sender will use, start it.  On success the sender options
 * point at the reflector's test port, with the negotiated format and keys.
 */
static int control_setup(struct client_config *cfg, struct control_session *cs,
			 struct crypto_test_ctx *t, char *err, size_t errlen)
{
	struct sender_opts *o = &cfg->send;
	struct crypto_keyfile kf;
	memset(&kf, 0, sizeof(kf));
	const struct crypto_key *k = NULL;
	format_endpoint((const struct sockaddr *)&o->target, cfg->control_server_text,
			sizeof(cfg->control_server_text));
	if (cfg->keyid && !(k = find_key(cfg, &kf, err, errlen))) {
		crypto_keyfile_free(&kf);
		return -EINVAL;
	}
	struct control_client_opts co = {
		.server = o->target,
		.server_len = o->target_len,
		.source = o->source,
		.source_len = o->source_len,
		.want_mode = cfg->auth_mode,
		.features = cfg->features,
		.keyid = k ? (const uint8_t *)k->keyid : NULL,
		.keyid_len = k ? k->keyid_len : 0,
		.secret = k ? k->secret : NULL,
		.secret_len = k ? k->secret_len : 0,
		.max_count = cfg->max_count,
		.timeout_ns = cfg->control_timeout_ns,
	};
	int rc = control_open(cs, &co, err, errlen);
	crypto_keyfile_free(&kf);
	if (rc)
		return rc;
	cfg->greeting_count = cs->count;
	uint32_t got = cs->mode & ~WIRE_MODE_SECURITY_MASK;
	uint32_t missing = cfg->features & ~got;
	if (missing) {
		char names[96];
		wire_modes_str(missing, names, sizeof(names));
		fprintf(stderr, "twamp-client: the server does not offer %s; going on without it\n", names);
	}
	cfg->features = got;
	cfg->security = wire_mode_name(cs->mode & WIRE_MODE_SECURITY_MASK);
	o->sec = cs->sec;
	o->dscp_ecn = got & WIRE_MODE_DSCP_ECN;
	o->symmetrical = got & WIRE_MODE_SYMMETRICAL;
	o->reflect_len = (got & WIRE_MODE_REFLECT_OCTETS) ? cfg->reflect_len : 0;
	if (!cfg->padding_given)
		o->padding = client_default_padding(cfg);

	/* The test socket sits on the control connection's local address, so the
	 * Sender Address we announce is the one the packets carry. */
	struct sockaddr_storage local = cs->local;
	sock_addr_set_port(&local, o->source.ss_family != AF_UNSPEC ? sock_addr_port(&o->source) : 0);
	socklen_t llen = local.ss_family == AF_INET ? sizeof(struct sockaddr_in)
						    : sizeof(struct sockaddr_in6);
	int fd = sock_udp_open((struct sockaddr *)&local, llen, o->tstamp,
			       SOCK_F_TX_TS | SOCK_F_NONBLOCK, &o->twamp_caps);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open the test socket: %s", strerror(-fd));
		return fd;
	}
	llen = sizeof(local);
	getsockname(fd, (struct sockaddr *)&local, &llen);
	uint16_t octets = 0;
	crypto_random(&octets, sizeof(octets));
	struct control_request req = {
		.sender = (const struct sockaddr *)&local,
		.receiver_port = cfg->test_port,
		.padding_length = (uint32_t)o->padding,
		.dscp = (uint8_t)o->dscp,
		.timeout_ns = o->timeout_ns,
		.reflect_len = o->reflect_len,
		.octets_to_reflect = octets,
	};
	rc = control_request_start(cs, &req, err, errlen);
	if (rc) {
		close(fd);
		return rc;
	}
	o->have_twamp_fd = true;
	o->twamp_fd = fd;
	o->server_octets = cs->server_octets;
	o->target = cs->peer;
	sock_addr_set_port(&o->target, cs->port);
	cfg->negotiated_port = cs->port;
	hex16(cs->sid, cfg->sid_text);
	cfg->handshake_ns = cs->handshake_ns;
	cfg->setup_ns = cs->setup_ns;
	if (o->sec != WIRE_SEC_OPEN) {
		rc = crypto_test_init(t, o->sec, cs->test_aes, cs->test_hmac);
		if (rc) {
			snprintf(err, errlen, "cannot set up the test keys");
			return rc;
		}
		o->crypto = t;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct client_config cfg;
	char err[512];
	int rc = client_config_parse(&cfg, argc, argv, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "twamp-client: %s\n", err);
		return 2;
	}
	struct control_session cs;
	memset(&cs, 0, sizeof(cs));
	cs.tcp_fd = -1;
	struct crypto_test_ctx tctx;
	memset(&tctx, 0, sizeof(tctx));
	install_signals();
	if (cfg.control) {
		rc = control_setup(&cfg, &cs, &tctx, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "twamp-client: control %s: %s\n", cfg.control_server_text, err);
			control_close(&cs);
			crypto_test_free(&tctx);
			return 2;
		}
	} else if (cfg.send.sec != WIRE_SEC_OPEN) {
		if (light_crypto(&cfg, &tctx, err, sizeof(err)) < 0) {
			fprintf(stderr, "twamp-client: %s\n", err);
			crypto_test_free(&tctx);
			return 2;
		}
		cfg.send.crypto = &tctx;
	}
	client_config_export(&cfg);
	FILE *info = NULL;
	if (cfg.format == OUTPUT_TEXT && !cfg.quiet && !cfg.output_path)
		info = stdout;
	else if (cfg.verbose)
		info = stderr;
	if (cfg.control && info)
		fprintf(info,
			"TWAMP-Control %s: mode %s%s%s, SID %s, test port %u, handshake %.1f ms "
			"(Count %u), set-up %.1f ms\n",
			cfg.control_server_text, cfg.security, cfg.features ? ", " : "",
			cfg.features ? cfg.features_text : "", cfg.sid_text, cfg.negotiated_port,
			(double)cfg.handshake_ns / 1e6, cfg.greeting_count, (double)cfg.setup_ns / 1e6);
	if (cfg.verbose && cfg.format == OUTPUT_TEXT && !cfg.quiet)
		cfg.send.verbose = stdout;
	else if (cfg.verbose)
		cfg.send.verbose = stderr;

	FILE *out = stdout;
	if (cfg.output_path) {
		out = fopen(cfg.output_path, "w");
		if (!out) {
			fprintf(stderr, "twamp-client: cannot write %s: %s\n", cfg.output_path,
				strerror(errno));
			if (cfg.send.have_twamp_fd)
				close(cfg.send.twamp_fd);
			control_close(&cs);
			crypto_test_free(&tctx);
			return 2;
		}
	}

	struct sender_result sr;
	enum probe_proto failed = PROBE_TWAMP;
	rc = sender_run(&cfg.send, &stop_requested, &sr, &failed);
	if (cfg.control) {
		char cerr[512];
		if (control_stop(&cs, cerr, sizeof(cerr)) < 0)
			fprintf(stderr, "twamp-client: control %s: %s\n", cfg.control_server_text, cerr);
		control_close(&cs);
	}
	const struct sender_proto_result *tw = &sr.p[PROBE_TWAMP];
	if (tw->auth_failures)
		fprintf(stderr, "twamp-client: %llu replies failed the HMAC check and were discarded "
				"(wrong key?)\n", (unsigned long long)tw->auth_failures);
	if (tw->reflect_mismatch)
		fprintf(stderr, "twamp-client: %llu replies did not return the octets to be reflected "
				"(RFC 6038)\n", (unsigned long long)tw->reflect_mismatch);
	if (tw->active && cfg.n_kv + 4 <= CLIENT_CONFIG_KV_MAX) {
		cfg.kv[cfg.n_kv++] = (struct output_kv){ .key = "hmac_failures", .type = OUTPUT_KV_INT,
							 .i = (long long)tw->auth_failures };
		cfg.kv[cfg.n_kv++] = (struct output_kv){ .key = "reflect_mismatches",
							 .type = OUTPUT_KV_INT,
							 .i = (long long)tw->reflect_mismatch };
		if (cfg.send.dscp_ecn)
			cfg.kv[cfg.n_kv++] = (struct output_kv){ .key = "reflector_rx_dscp_ecn",
								 .type = OUTPUT_KV_INT,
								 .i = tw->s_dscp_ecn };
	}
	crypto_test_free(&tctx);
	if (rc < 0) {
		if (failed == PROBE_ICMP && rc == -EPERM)
			fprintf(stderr, "twamp-client: ICMP needs a raw socket (root or CAP_NET_RAW) or "
				"datagram ICMP sockets (sysctl net.ipv4.ping_group_range)\n");
		else
			fprintf(stderr, "twamp-client: cannot probe %s (%s): %s\n", cfg.target_resolved,
				probe_proto_name(failed), strerror(-rc));
		sender_result_free(&sr);
		if (out != stdout)
			fclose(out);
		return 2;
	}
	for (int p = 0; p < PROBE_NPROTO; p++)
		if (sr.p[p].active && sr.p[p].caps.rx == SOCK_RX_USER && cfg.send.tstamp == SOCK_TS_KERNEL)
			fprintf(stderr, "twamp-client: %s: kernel receive timestamps unavailable, "
				"using user-space clock reads\n", probe_proto_name((enum probe_proto)p));

	/* Which kind of ICMP socket the kernel gave us is part of the record. */
	if (sr.p[PROBE_ICMP].active && cfg.n_kv < CLIENT_CONFIG_KV_MAX)
		cfg.kv[cfg.n_kv++] = (struct output_kv){ .key = "icmp_socket", .type = OUTPUT_KV_STRING,
							 .s = sr.p[PROBE_ICMP].socket_kind };

	struct result res;
	struct probe_result *merged = NULL;
	int64_t *sched_buf = NULL;
	rc = build_result(&cfg, &sr, &res, &merged, &sched_buf);
	if (rc == 0) {
		bool to_stdout = out == stdout;
		if (!(cfg.quiet && to_stdout && cfg.format == OUTPUT_TEXT))
			rc = output_write(&res, cfg.format, out);
		/* A machine-readable result in a file still gets the human summary. */
		if (rc == 0 && !to_stdout && !cfg.quiet)
			rc = output_write(&res, OUTPUT_TEXT, stdout);
	}
	if (out != stdout && fclose(out) != 0 && rc == 0)
		rc = -EIO;
	free(merged);
	free(sched_buf);
	if (rc < 0) {
		fprintf(stderr, "twamp-client: cannot write the result: %s\n", strerror(-rc));
		sender_result_free(&sr);
		return 2;
	}
	uint64_t sent = 0, received = 0;
	for (int p = 0; p < PROBE_NPROTO; p++) {
		sent += res.have[p] ? res.summary[p].sent : 0;
		received += res.have[p] ? res.summary[p].received : 0;
	}
	sender_result_free(&sr);
	return (sent > 0 && received == 0) ? 1 : 0;
}
