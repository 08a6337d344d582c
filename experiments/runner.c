/*
 * Running the matrix.
 *
 * Each scenario is built in DIR/scenarios/<id>.tmp and renamed to <id>
 * once complete (its "done" marker written inside first), so a crash at
 * any point leaves either a finished scenario or a .tmp directory that
 * --resume deletes and redoes: never a half-written scenario that looks
 * finished, never a finished one done twice.  A lock file keeps two runs
 * from fighting over the same "tk-" testbed objects.
 */
#include "autoconfig.h"
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"
#include "hostinfo.h"
#include "output.h"
#include "ping_parse.h"
#include "results.h"
#include "tstamp.h"

#define LOCK_PATH TK_RUN_DIR "/experiment.lock"

static double now_s(void)
{
	return (double)ts_monotonic_ns() / 1e9;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int rm_rf(const char *path)
{
	if (access(path, F_OK) != 0)
		return 0;
	return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 ? -errno : 0;
}

static int write_json_atomic(const char *path, json_object *o)
{
	char tmp[PATH_MAX];
	tk_path(tmp, sizeof(tmp), "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	if (!f)
		return -errno;
	const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
							  JSON_C_TO_STRING_SPACED |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	int rc = fputs(text, f) < 0 || fputc('\n', f) == EOF ? -EIO : 0;
	if (fflush(f) != 0 || fsync(fileno(f)) != 0)
		rc = -EIO;
	if (fclose(f) != 0)
		rc = -EIO;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	return rc;
}

/* --- ping and capture conversions ------------------------------------------ */

int runner_ping_to_json(const char *ping_txt, const char *json_path, const char *target,
			char *err, size_t errlen)
{
	FILE *in = fopen(ping_txt, "r");
	if (!in) {
		tk_errf(err, errlen, "cannot read %s: %s", ping_txt, strerror(errno));
		return -errno;
	}
	struct ping_run run;
	ping_run_init(&run);
	char line[1024];
	int rc = 0;
	while (!rc && fgets(line, sizeof(line), in)) {
		line[strcspn(line, "\n")] = 0;
		rc = ping_run_feed(&run, line);
		if (rc == -EBADMSG)
			rc = 0; /* a line we cannot read does not void the run */
	}
	fclose(in);
	struct probe_result *probes = NULL;
	size_t n = 0;
	if (!rc)
		rc = ping_run_probes(&run, &probes, &n);
	if (rc) {
		ping_run_free(&run);
		tk_errf(err, errlen, "%s: no ping output to record (%s)", ping_txt, strerror(-rc));
		return rc;
	}
	struct result r;
	memset(&r, 0, sizeof(r));
	r.tool_name = "ping";
	r.tool_version = "iputils";
	r.target = target;
	hostinfo_collect(&r.host);
	snprintf(r.host.tstamp_rx, sizeof(r.host.tstamp_rx), "user (ping -D)");
	snprintf(r.host.tstamp_tx, sizeof(r.host.tstamp_tx), "user (ping)");
	struct output_kv kv[] = {
		{ .key = "protocol", .type = OUTPUT_KV_STRING, .s = "ping" },
		{ .key = "target", .type = OUTPUT_KV_STRING, .s = target },
	};
	r.config = kv;
	r.n_config = 2;
	r.probes = probes;
	r.n_probes = n;
	r.have[PROBE_ICMP] = true;
	if (n) {
		r.start_ns = probes[0].t1_ns;
		r.end_ns = probes[n - 1].t4_ns ? probes[n - 1].t4_ns : probes[n - 1].t1_ns;
	}
	rc = stats_summarize(probes, n, PROBE_ICMP, 0, &r.summary[PROBE_ICMP]);
	FILE *out = rc ? NULL : fopen(json_path, "w");
	if (!rc && !out)
		rc = -errno;
	if (!rc)
		rc = output_write(&r, OUTPUT_JSON, out);
	if (out && fclose(out) != 0 && !rc)
		rc = -EIO;
	free(probes);
	ping_run_free(&run);
	if (rc)
		tk_errf(err, errlen, "cannot write %s: %s", json_path, strerror(-rc));
	return rc;
}

int runner_points_append(const char *capture_json, FILE *csv, const char *only_proto,
			 const char *label, int seq_offset, char *err, size_t errlen)
{
	json_object *root = json_object_from_file(capture_json);
	json_object *probes;
	if (!root || !json_object_object_get_ex(root, "probes", &probes) ||
	    !json_object_is_type(probes, json_type_array)) {
		tk_errf(err, errlen, "%s: not a twamp-capture result", capture_json);
		json_object_put(root);
		return -EBADMSG;
	}
	size_t n = json_object_array_length(probes);
	for (size_t i = 0; i < n; i++) {
		json_object *p = json_object_array_get_idx(probes, i), *v, *rtts;
		if (!json_object_object_get_ex(p, "proto", &v))
			continue;
		const char *proto = json_object_get_string(v);
		if (only_proto && strcmp(proto, only_proto))
			continue;
		if (!json_object_object_get_ex(p, "seq", &v))
			continue;
		int64_t seq = json_object_get_int64(v) - seq_offset;
		if (!json_object_object_get_ex(p, "rtt_ns", &rtts) ||
		    !json_object_is_type(rtts, json_type_object))
			continue;
		json_object_object_foreach(rtts, point, val) {
			if (val && !json_object_is_type(val, json_type_null))
				fprintf(csv, "%s,%lld,%s,%lld\n", label ? label : proto, (long long)seq,
					point, (long long)json_object_get_int64(val));
			else
				fprintf(csv, "%s,%lld,%s,\n", label ? label : proto, (long long)seq, point);
		}
	}
	json_object_put(root);
	return ferror(csv) ? -EIO : 0;
}

/* --- one scenario ------------------------------------------------------------ */

struct overhead {
	double setup_s, probe_s, teardown_s;
};

static int run_scenario(const struct runner_opts *o, struct testbed *tb, const struct scenario *sc,
			const char *final_dir, struct overhead *ov, char *err, size_t errlen)
{
	const struct backend_ops *b = o->backend;
	char dir[PATH_MAX], path[PATH_MAX], path2[PATH_MAX];
	tk_path(dir, sizeof(dir), "%s.tmp", final_dir);
	rm_rf(dir);
	if (mkdir(dir, 0755) < 0) {
		tk_errf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	json_object *params = scenario_to_json(sc, b->nic_name ? b->nic_name(tb, sc->nic) : NULL);
	tk_path(path, sizeof(path), "%s/params.json", dir);
	int rc = params ? write_json_atomic(path, params) : -ENOMEM;
	json_object_put(params);
	if (rc) {
		tk_errf(err, errlen, "cannot write %s: %s", path, strerror(-rc));
		return rc;
	}

	double t0 = now_s();
	rc = b->scenario_begin(tb, sc, err, errlen);
	if (!rc)
		rc = b->load_start(tb, sc, err, errlen);
	double t1 = now_s();
	bool capture = o->m->capture;
	char pcaps[PATH_MAX];
	tk_path(pcaps, sizeof(pcaps), "%s/pcaps", dir);
	if (capture && o->m->keep_pcaps)
		mkdir(pcaps, 0755);
	int count = sc->probes + sc->warmup;

	/* twamp-client: twamp and icmp interleaved on one schedule. */
	if (!rc && (sc->proto[RUN_TWAMP] || sc->proto[RUN_ICMP])) {
		tk_path(path2, sizeof(path2), "%s/capture-client.json", dir);
		if (capture)
			rc = b->capture_start(tb, path2, o->m->keep_pcaps ? pcaps : NULL, err, errlen);
		tk_path(path, sizeof(path), "%s/client.json", dir);
		struct probe_request req = { .tool = PROBE_TOOL_CLIENT, .twamp = sc->proto[RUN_TWAMP],
					     .icmp = sc->proto[RUN_ICMP], .count = count,
					     .freq_hz = sc->freq_hz, .out_path = path };
		if (!rc)
			rc = b->probe(tb, &req, err, errlen);
		if (capture) {
			int rc2 = b->capture_stop(tb, err, errlen);
			if (!rc)
				rc = rc2;
		}
	}
	/* iputils ping, the paper's baseline, under the same load. */
	if (!rc && sc->proto[RUN_PING]) {
		tk_path(path2, sizeof(path2), "%s/capture-ping.json", dir);
		if (capture)
			rc = b->capture_start(tb, path2, NULL, err, errlen);
		tk_path(path, sizeof(path), "%s/ping.txt", dir);
		struct probe_request req = { .tool = PROBE_TOOL_PING, .count = count,
					     .freq_hz = sc->freq_hz, .out_path = path };
		if (!rc)
			rc = b->probe(tb, &req, err, errlen);
		if (capture) {
			int rc2 = b->capture_stop(tb, err, errlen);
			if (!rc)
				rc = rc2;
		}
		if (!rc) {
			tk_path(path2, sizeof(path2), "%s/ping.json", dir);
			rc = runner_ping_to_json(path, path2, "receiver-vm", err, errlen);
		}
	}
	double t2 = now_s();
	char err2[256];
	int rc_stop = b->load_stop(tb, rc ? err2 : err, rc ? sizeof(err2) : errlen);
	int rc_end = b->scenario_end(tb, rc ? err2 : err, rc ? sizeof(err2) : errlen);
	double t3 = now_s();
	if (!rc)
		rc = rc_stop ? rc_stop : rc_end;
	if (rc)
		return rc;

	if (capture) {
		tk_path(path, sizeof(path), "%s/points.csv", dir);
		FILE *csv = fopen(path, "w");
		if (!csv) {
			tk_errf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			return -errno;
		}
		fputs("proto,seq,point,rtt_ns\n", csv);
		if (sc->proto[RUN_TWAMP] || sc->proto[RUN_ICMP]) {
			tk_path(path2, sizeof(path2), "%s/capture-client.json", dir);
			rc = runner_points_append(path2, csv, NULL, NULL, 0, err, errlen);
		}
		if (!rc && sc->proto[RUN_PING]) {
			/* ping numbers its echoes from 1; the result file from 0. */
			tk_path(path2, sizeof(path2), "%s/capture-ping.json", dir);
			rc = runner_points_append(path2, csv, "icmp", "ping", 1, err, errlen);
		}
		if (fclose(csv) != 0 && !rc)
			rc = -EIO;
		if (rc)
			return rc;
	}
	ov->setup_s = t1 - t0;
	ov->probe_s = t2 - t1;
	ov->teardown_s = t3 - t2;
	json_object *ovj = json_object_new_object();
	json_object_object_add(ovj, "setup_s", json_object_new_double(ov->setup_s));
	json_object_object_add(ovj, "probe_s", json_object_new_double(ov->probe_s));
	json_object_object_add(ovj, "teardown_s", json_object_new_double(ov->teardown_s));
	tk_path(path, sizeof(path), "%s/timing.json", dir);
	write_json_atomic(path, ovj);
	json_object_put(ovj);

	/* Finished: marker inside, then one atomic rename makes it visible. */
	tk_path(path, sizeof(path), "%s/done", dir);
	FILE *f = fopen(path, "w");
	if (!f || fclose(f) != 0) {
		tk_errf(err, errlen, "cannot write %s", path);
		return -EIO;
	}
	if (rename(dir, final_dir) < 0) {
		tk_errf(err, errlen, "cannot rename %s: %s", dir, strerror(errno));
		return -errno;
	}
	return 0;
}

/* --- the whole run ----------------------------------------------------------- */

static int nic_rank(const struct matrix *m, const char *nic)
{
	for (size_t i = 0; i < m->n_nic; i++)
		if (!strcmp(m->nic[i], nic))
			return (int)i;
	return (int)m->n_nic;
}

void runner_group_by_vm_set(const struct matrix *m, struct scenario *scs, size_t n)
{
	/* Insertion sort: stable, so the seeded order survives inside each group. */
	for (size_t i = 1; i < n; i++) {
		struct scenario x = scs[i];
		int xr = nic_rank(m, x.nic);
		size_t j = i;
		while (j > 0) {
			int pr = nic_rank(m, scs[j - 1].nic);
			if (pr < xr || (pr == xr && scs[j - 1].bg_vms <= x.bg_vms))
				break;
			scs[j] = scs[j - 1];
			j--;
		}
		scs[j] = x;
	}
	for (size_t i = 0; i < n; i++)
		scs[i].index = i;
}

static void fmt_hms(char *buf, size_t len, double s)
{
	/* Clamped to 99 days: an estimate beyond that is no estimate. */
	int t = s < 0 ? 0 : s > 8553600 ? 8553600 : (int)(s + 0.5);
	snprintf(buf, len, "%02d:%02d:%02d", t / 3600, t / 60 % 60, t % 60);
}

static json_object *host_json(void)
{
	struct host_info h;
	hostinfo_collect(&h);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "hostname", json_object_new_string(h.hostname));
	json_object_object_add(o, "kernel", json_object_new_string(h.kernel));
	json_object_object_add(o, "machine", json_object_new_string(h.machine));
	json_object_object_add(o, "clocksource", json_object_new_string(h.clocksource));
	json_object_object_add(o, "ncpu", json_object_new_int(h.ncpu));
	json_object_object_add(o, "clock_synced", json_object_new_boolean(h.clock.synced));
	char model[256] = "unknown", line[512];
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "model name", 10)) {
			char *c = strchr(line, ':');
			if (c) {
				c += 1 + (c[1] == ' ');
				c[strcspn(c, "\n")] = 0;
				tk_path(model, sizeof(model), "%s", c);
			}
			break;
		}
	}
	if (f)
		fclose(f);
	json_object_object_add(o, "cpu_model", json_object_new_string(model));
	json_object_object_add(o, "virtualization",
			       json_object_new_string(access("/dev/kvm", F_OK) == 0 ? "kvm available"
										    : "no /dev/kvm"));
	return o;
}

int runner_lock(bool wait, char *err, size_t errlen)
{
	int fd = tk_run_open(LOCK_PATH, O_RDWR | O_CREAT);
	if (fd < 0) {
		tk_errf(err, errlen, "cannot open %s: %s", LOCK_PATH, strerror(-fd));
		return fd;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (!wait) {
		tk_errf(err, errlen, "another twamp-experiment run is active (it holds %s); "
		    "stop it first: its testbed is in use", LOCK_PATH);
		close(fd);
		return -EBUSY;
	}
	fprintf(stderr, "twamp-experiment: another run holds %s, waiting for it\n", LOCK_PATH);
	if (flock(fd, LOCK_EX) < 0) {
		tk_errf(err, errlen, "cannot lock %s: %s", LOCK_PATH, strerror(errno));
		close(fd);
		return -errno;
	}
	return fd;
}

int runner_run(const struct runner_opts *o, char *err, size_t errlen)
{
	struct scenario *scs = NULL;
	size_t n = 0;
	int rc = matrix_expand(o->m, &scs, &n, err, errlen);
	if (rc)
		return rc;
	if (o->backend->group_by_vm_set)
		runner_group_by_vm_set(o->m, scs, n);

	/* Lock first: a second run on the same -o must not pass the checks below while we wait. */
	int lock = runner_lock(true, err, errlen);
	if (lock < 0) {
		free(scs);
		return lock;
	}
	char path[PATH_MAX], sdir[PATH_MAX];
	tk_path(sdir, sizeof(sdir), "%s/scenarios", o->outdir);
	if (mkdir(o->outdir, 0755) < 0 && errno != EEXIST) {
		rc = -errno;
		tk_errf(err, errlen, "cannot create %s: %s", o->outdir, strerror(errno));
		free(scs);
		close(lock);
		return rc;
	}
	tk_path(path, sizeof(path), "%s/manifest.json", o->outdir);
	if (!o->resume && access(path, F_OK) == 0) {
		tk_errf(err, errlen, "%s already holds a run: use --resume to continue it, or another -o", o->outdir);
		free(scs);
		close(lock);
		return -EEXIST;
	}
	mkdir(sdir, 0755);
	exec_set_abort_flag(o->stop);

	/* Resume: finished scenarios stay, interrupted ones (.tmp) are redone. */
	size_t already = 0;
	bool *skip = calloc(n ? n : 1, sizeof(bool));
	for (size_t i = 0; skip && i < n; i++) {
		char d[PATH_MAX];
		tk_path(d, sizeof(d), "%s/%s/done", sdir, scs[i].id);
		if (access(d, F_OK) == 0) {
			skip[i] = true;
			already++;
		}
		tk_path(d, sizeof(d), "%s/%s.tmp", sdir, scs[i].id);
		rm_rf(d);
	}

	json_object *manifest = NULL;
	if (o->resume)
		manifest = json_object_from_file(path);
	if (!manifest) {
		manifest = json_object_new_object();
		json_object_object_add(manifest, "schema", json_object_new_string("twampkit.experiment/1"));
		json_object_object_add(manifest, "tool", json_object_new_string("twamp-experiment " PACKAGE_VERSION));
		json_object_object_add(manifest, "backend", json_object_new_string(o->backend->name));
		json_object_object_add(manifest, "matrix", matrix_to_json(o->m));
		json_object_object_add(manifest, "host", host_json());
		json_object_object_add(manifest, "started_ns", json_object_new_int64(ts_realtime_ns()));
		json_object *tools = json_object_new_object();
		json_object_object_add(tools, "twampkit", json_object_new_string(PACKAGE_VERSION));
		json_object_object_add(manifest, "tool_versions", tools);
	}
	json_object_object_add(manifest, "scenarios_total", json_object_new_int((int)n));
	json_object *runs = NULL;
	if (!json_object_object_get_ex(manifest, "sessions", &runs)) {
		runs = json_object_new_array();
		json_object_object_add(manifest, "sessions", runs);
	}
	json_object *session = json_object_new_object();
	json_object_object_add(session, "started_ns", json_object_new_int64(ts_realtime_ns()));
	json_object_object_add(session, "resumed", json_object_new_boolean(o->resume));
	json_object_object_add(session, "already_done", json_object_new_int((int)already));
	json_object_array_add(runs, session);
	write_json_atomic(path, manifest);

	char workdir[PATH_MAX];
	tk_path(workdir, sizeof(workdir), "%s/.work", o->outdir);
	mkdir(workdir, 0755);
	struct testbed_cfg cfg = {
		.m = o->m, .max_bg_vms = matrix_max_bg_vms(o->m),
		.server_path = o->server_path, .client_path = o->client_path,
		.capture_path = o->capture_path, .workdir = workdir, .stop = o->stop,
	};
	struct testbed *tb = NULL;
	double t_prep = now_s();
	rc = o->backend->check(&cfg, err, errlen);
	if (!rc)
		rc = o->backend->prepare(&cfg, &tb, err, errlen);
	double prepare_s = now_s() - t_prep;
	if (!rc && tb)
		o->backend->describe(tb, manifest);

	double start = now_s(), probe_total = 0, overhead_total = 0, est_left = 0;
	size_t done_now = 0;
	for (size_t i = 0; i < n; i++)
		if (!skip || !skip[i])
			est_left += scenario_probe_seconds(&scs[i]) + (double)o->m->settle_ns / 1e9 + 1.0;
	json_object *ovs = json_object_new_array();
	for (size_t i = 0; !rc && i < n; i++) {
		if (skip && skip[i])
			continue;
		if (*o->stop) {
			rc = -EINTR;
			break;
		}
		char elapsed[16], eta[16];
		fmt_hms(elapsed, sizeof(elapsed), now_s() - start);
		/* ETA from measured time per probe-second once we have some, else the estimate. */
		double left = 0;
		for (size_t k = i; k < n; k++)
			if (!skip || !skip[k])
				left += scenario_probe_seconds(&scs[k]);
		double factor = probe_total > 0 ? (probe_total + overhead_total) / probe_total : 1.0;
		fmt_hms(eta, sizeof(eta), done_now ? left * factor
						   : est_left);
		fprintf(stderr, "[%zu/%zu] %s  elapsed %s  eta %s\n", already + done_now + 1, n,
			scs[i].id, elapsed, eta);
		char final_dir[PATH_MAX];
		tk_path(final_dir, sizeof(final_dir), "%s/%s", sdir, scs[i].id);
		struct overhead ov = { 0, 0, 0 };
		rc = run_scenario(o, tb, &scs[i], final_dir, &ov, err, errlen);
		if (rc == -EINTR || (*o->stop && rc)) {
			rc = -EINTR;
			break;
		}
		if (rc) {
			char msg[512];
			tk_path(msg, sizeof(msg), "scenario %s: %s", scs[i].id, err);
			snprintf(err, errlen, "%s", msg);
			break;
		}
		done_now++;
		probe_total += ov.probe_s;
		overhead_total += ov.setup_s + ov.teardown_s;
		json_object *e = json_object_new_object();
		json_object_object_add(e, "id", json_object_new_string(scs[i].id));
		json_object_object_add(e, "setup_s", json_object_new_double(ov.setup_s));
		json_object_object_add(e, "probe_s", json_object_new_double(ov.probe_s));
		json_object_object_add(e, "teardown_s", json_object_new_double(ov.teardown_s));
		json_object_array_add(ovs, e);
		/* Which timestamps the probes really got, from the first client result. */
		json_object *ts = NULL;
		if (!json_object_object_get_ex(manifest, "timestamping", &ts)) {
			char cpath[PATH_MAX];
			tk_path(cpath, sizeof(cpath), "%s/client.json", final_dir);
			json_object *cr = json_object_from_file(cpath), *host, *rx, *tx;
			if (cr && json_object_object_get_ex(cr, "host", &host) &&
			    json_object_object_get_ex(host, "tstamp_rx", &rx) &&
			    json_object_object_get_ex(host, "tstamp_tx", &tx)) {
				ts = json_object_new_object();
				json_object_object_add(ts, "client_rx", json_object_get(rx));
				json_object_object_add(ts, "client_tx", json_object_get(tx));
				json_object_object_add(ts, "ping", json_object_new_string(
					"iputils ping -D: user-space clock reads"));
				json_object_object_add(ts, "capture", json_object_new_string(
					"libpcap, nanosecond precision where the platform offers it"));
				json_object_object_add(manifest, "timestamping", ts);
			}
			json_object_put(cr);
		}
		char serr[256];
		if (results_write_summary(o->outdir, serr, sizeof(serr)) < 0)
			fprintf(stderr, "twamp-experiment: summary.csv not updated: %s\n", serr);
	}
	/* Teardown must run to the end even after SIGINT: its commands are not aborted. */
	exec_set_abort_flag(NULL);
	double t_td = now_s();
	if (tb)
		o->backend->teardown(tb);
	double teardown_s = now_s() - t_td;

	json_object_object_add(session, "finished_ns", json_object_new_int64(ts_realtime_ns()));
	json_object_object_add(session, "scenarios_run", json_object_new_int((int)done_now));
	json_object_object_add(session, "result", json_object_new_string(
		rc == 0 ? "complete" : rc == -EINTR ? "interrupted" : "failed"));
	json_object *overhead = json_object_new_object();
	json_object_object_add(overhead, "prepare_s", json_object_new_double(prepare_s));
	json_object_object_add(overhead, "teardown_s", json_object_new_double(teardown_s));
	json_object_object_add(overhead, "scenario_setup_teardown_s", json_object_new_double(overhead_total));
	json_object_object_add(overhead, "probing_s", json_object_new_double(probe_total));
	json_object_object_add(overhead, "overhead_per_probe_second",
			       json_object_new_double(probe_total > 0 ? overhead_total / probe_total : 0));
	json_object_object_add(overhead, "scenarios", ovs);
	json_object_object_add(session, "overhead", overhead);
	if (rc == 0)
		json_object_object_add(manifest, "finished_ns", json_object_new_int64(ts_realtime_ns()));
	json_object_object_add(manifest, "scenarios_done", json_object_new_int((int)(already + done_now)));
	write_json_atomic(path, manifest);
	json_object_put(manifest);
	if (rc == 0)
		rm_rf(workdir); /* logs stay for a failed or interrupted run */
	free(skip);
	free(scs);
	close(lock);
	if (rc == 0)
		fprintf(stderr, "twamp-experiment: %zu scenarios done (%zu this time) in %.0f s; "
			"set-up and teardown took %.0f%% of the probing time\n", already + done_now,
			done_now, now_s() - start, probe_total > 0 ? 100 * overhead_total / probe_total : 0);
	return rc;
}
