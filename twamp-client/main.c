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

static int build_result(struct client_config *cfg, struct sender_result *sr, struct result *r)
{
	memset(r, 0, sizeof(*r));
	r->tool_name = "twamp-client";
	r->tool_version = PACKAGE_VERSION;
	r->target = cfg->kv[3].s;
	hostinfo_collect(&r->host);
	snprintf(r->host.tstamp_rx, sizeof(r->host.tstamp_rx), "%s", sock_rx_mode_name(sr->caps.rx));
	snprintf(r->host.tstamp_tx, sizeof(r->host.tstamp_tx), "%s",
		 sr->t1_kernel ? sock_tx_mode_name(sr->caps.tx) : "user");
	r->config = cfg->kv;
	r->n_config = cfg->n_kv;
	r->probes = sr->probes;
	r->n_probes = sr->n_probes;
	r->have[PROBE_TWAMP] = true;
	r->interrupted = sr->interrupted;
	r->start_ns = sr->start_ns;
	r->end_ns = sr->end_ns;
	int rc = stats_summarize(sr->probes, sr->n_probes, PROBE_TWAMP, sr->reordered,
				 &r->summary[PROBE_TWAMP]);
	if (rc)
		return rc;
	r->summary[PROBE_TWAMP].skipped = sr->skipped + sr->send_errors;
	r->schedule.skipped = sr->skipped;
	rc = stats_dist_compute(sr->lateness_ns, sr->n_probes, &r->schedule.lateness);
	if (!rc)
		rc = stats_dist_compute(sr->send_call_ns, sr->n_probes, &r->schedule.send_call);
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
	rc = sender_run(&cfg.send, &stop_requested, &sr);
	if (rc < 0) {
		char where[300];
		format_endpoint((const struct sockaddr *)&cfg.send.target, where, sizeof(where));
		fprintf(stderr, "twamp-client: cannot probe %s: %s\n", where, strerror(-rc));
		sender_result_free(&sr);
		if (out != stdout)
			fclose(out);
		return 2;
	}
	if (sr.caps.rx == SOCK_RX_USER && cfg.send.tstamp == SOCK_TS_KERNEL)
		fprintf(stderr, "twamp-client: kernel receive timestamps unavailable, using user-space clock reads\n");

	struct result res;
	rc = build_result(&cfg, &sr, &res);
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
	if (rc < 0) {
		fprintf(stderr, "twamp-client: cannot write the result: %s\n", strerror(-rc));
		sender_result_free(&sr);
		return 2;
	}
	int status = (sr.n_probes > 0 && res.summary[PROBE_TWAMP].received == 0) ? 1 : 0;
	sender_result_free(&sr);
	return status;
}
