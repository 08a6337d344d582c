/*
 * twamp-client: TWAMP-Light Session-Sender.  Parses the command line, runs
 * the sender, and hands the result to the output funnel.  SIGINT and
 * SIGTERM stop sending and still write a valid (partial) result.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_config.h"
#include "hostinfo.h"
#include "output.h"
#include "parse.h"
#include "sender.h"
#include "stats.h"

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
	client_config_export(&cfg);
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
			return 2;
		}
	}
	install_signals();

	struct sender_result sr;
	enum probe_proto failed = PROBE_TWAMP;
	rc = sender_run(&cfg.send, &stop_requested, &sr, &failed);
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
