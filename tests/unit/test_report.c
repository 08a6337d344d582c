/*
 * Unit tests for experiments/results, report and plot over synthetic run
 * directories built here in C: manifest.json, params.json from
 * scenario_to_json, client.json and ping.json written by output_write (the
 * real twampkit.result/1 format), points.csv.  The RTTs carry planted
 * effects with exactly known medians, so summary.csv rows, report tables
 * and findings are checked to the nanosecond: network load adds 1 ms,
 * sender CPU load adds 0.3 ms without and 0.1 ms with a reserved core, and
 * receiver CPU load adds 0.5 ms to TWAMP but 0.2 ms to ICMP (all at 8
 * background VMs, a quarter of that at 2).  Warm-up probes carry 50 ms and
 * unfinished scenarios absurd values: neither may show anywhere.  A second
 * run with the effects reversed (and no network load) checks "does not
 * hold" and "not measured".
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "matrix.h"
#include "output.h"
#include "plot.h"
#include "report.h"
#include "results.h"
#include "stats.h"

#define PROBES 40
#define WARMUP 2
#define US 1000LL
#define MS 1000000LL

/* cmocka 1.1 only compares floats; figures here need double precision. */
static void near_at(double got, double want, double eps, const char *file, int line)
{
	if (!(fabs(got - want) <= eps)) {
		print_error("%.17g != %.17g (eps %g)\n", got, want, eps);
		_fail(file, line);
	}
}
#define assert_near(got, want, eps) near_at((got), (want), (eps), __FILE__, __LINE__)

/* --- synthetic run directories ---------------------------------------------- */

enum variant {
	V_PLANTED = 0, /* the three claims hold */
	V_REVERSED,    /* claims 2 and 3 contradicted, no network load at all */
};

struct plan {
	bool reservation;
	enum load_type load;
	enum load_location loc;
	int bg;
	int freq;
	int rep;
	bool done;
	bool points;
	int lost_ping_seq;   /* -1: none */
	bool wild;           /* unfinished garbage: +900 ms */
};

static int64_t base_ns(enum run_proto p, int freq)
{
	static const int64_t fast[RUN_NPROTO] = {[RUN_PING] = 180 * US, [RUN_ICMP] = 150 * US,
						 [RUN_TWAMP] = 200 * US};

	return fast[p] + (freq == 1 ? 70 * US : 0);
}

/* Effect at 8 background VMs; scaled by bg/8 (all values divisible by 4). */
static int64_t effect_ns(const struct plan *pl, enum run_proto p, enum variant v)
{
	int64_t e = 0;

	switch (pl->load) {
	case LOAD_NETWORK:
		e = 1000 * US;
		break;
	case LOAD_CPU:
		if (pl->loc == LOC_SENDER)
			e = (pl->reservation == (v == V_PLANTED)) ? 100 * US : 300 * US;
		else if (v == V_PLANTED)
			e = p == RUN_TWAMP ? 500 * US : 200 * US;
		else
			e = p == RUN_TWAMP ? 100 * US : 400 * US;
		break;
	case LOAD_IO:
		e = 50 * US;
		break;
	default:
		break;
	}
	if (pl->wild)
		e += 900 * MS;
	return e * pl->bg / 8;
}

/* Probe seq's tool RTT: warm-up 50 ms, then base + 0, 2, ... 18 us (median +9 us) + effect. */
static int64_t rtt_of(const struct plan *pl, enum run_proto p, enum variant v, int seq)
{
	if (seq < WARMUP)
		return 50 * MS;
	return base_ns(p, pl->freq) + (int64_t)((seq - WARMUP) % 10) * 2 * US + effect_ns(pl, p, v);
}

/* Offsets of the capture points inside the tool's RTT (us): stack 20, bridges 10, link 60. */
static const int64_t point_offset_us[RPOINT_N] = {0, 20, 30, 40, 100, 110, 120};

static bool is_lost(const struct plan *pl, enum run_proto p, int seq)
{
	return p == RUN_PING && seq == pl->lost_ping_seq;
}

static void make_id(const struct plan *pl, char *buf, size_t size)
{
	if (pl->load == LOAD_NONE)
		snprintf(buf, size, "res%d-none-n000-veth-f%d-r%d", pl->reservation, pl->freq, pl->rep);
	else
		snprintf(buf, size, "res%d-%s-%s-n%03d-veth-f%d-r%d", pl->reservation,
			 load_type_name(pl->load), load_location_name(pl->loc), pl->bg, pl->freq,
			 pl->rep);
}

static void fill_probe(struct probe_result *pr, enum probe_proto proto, int seq, int64_t rtt,
		       bool lost)
{
	int64_t t1 = INT64_C(1700000000000000000) + (int64_t)seq * MS;

	memset(pr, 0, sizeof(*pr));
	pr->proto = proto;
	pr->seq = (uint32_t)seq;
	pr->refl_seq = (uint32_t)seq;
	pr->t1_ns = t1;
	pr->t1_src = TS_SRC_KERNEL;
	pr->sent = true;
	pr->ttl = -1;
	if (lost)
		return;
	pr->received = true;
	pr->ts_valid = true;
	pr->t4_ns = t1 + rtt;
	pr->t4_src = TS_SRC_KERNEL;
	pr->rtt_ns = rtt;
	pr->ttl = 64;
	if (proto == PROBE_TWAMP) {
		pr->t2_ns = t1 + rtt / 2;
		pr->t3_ns = pr->t2_ns;
	}
}

static void write_result(const char *path, const char *tool, const struct probe_result *pr,
			 size_t n, bool twamp, bool icmp)
{
	struct result r;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.tool_name = tool;
	r.tool_version = "test";
	r.target = "198.18.10.2:862";
	r.probes = pr;
	r.n_probes = n;
	r.have[PROBE_TWAMP] = twamp;
	r.have[PROBE_ICMP] = icmp;
	if (twamp)
		assert_int_equal(stats_summarize(pr, n, PROBE_TWAMP, 0, &r.summary[PROBE_TWAMP]), 0);
	if (icmp)
		assert_int_equal(stats_summarize(pr, n, PROBE_ICMP, 0, &r.summary[PROBE_ICMP]), 0);
	r.start_ns = INT64_C(1700000000000000000);
	r.end_ns = r.start_ns + 60 * INT64_C(1000000000);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(output_write(&r, OUTPUT_JSON, f), 0);
	assert_int_equal(fclose(f), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void write_scenario(const char *dir, const struct plan *pl, enum variant v)
{
	struct probe_result client[2 * (PROBES + WARMUP)], ping[PROBES + WARMUP];
	char id[96], sdir[PATH_MAX], path[PATH_MAX + 32];
	struct scenario sc;
	json_object *params;
	FILE *f;
	int seq, p, q;

	memset(&sc, 0, sizeof(sc));
	make_id(pl, id, sizeof(id));
	snprintf(sc.id, sizeof(sc.id), "%s", id);
	sc.reservation = pl->reservation;
	sc.load = pl->load;
	sc.location = pl->loc;
	sc.bg_vms = pl->bg;
	snprintf(sc.nic, sizeof(sc.nic), "veth");
	sc.freq_hz = pl->freq;
	sc.rep = pl->rep;
	sc.proto[RUN_PING] = sc.proto[RUN_ICMP] = sc.proto[RUN_TWAMP] = true;
	sc.probes = PROBES;
	sc.warmup = WARMUP;

	snprintf(sdir, sizeof(sdir), "%s/scenarios/%s", dir, id);
	assert_int_equal(mkdir(sdir, 0755), 0);
	params = scenario_to_json(&sc, NULL);
	assert_non_null(params);
	snprintf(path, sizeof(path), "%s/params.json", sdir);
	assert_int_equal(json_object_to_file_ext(path, params, JSON_C_TO_STRING_PRETTY), 0);
	json_object_put(params);

	/* twamp-client interleaves: twamp seq i, icmp seq i, ... */
	for (seq = 0; seq < PROBES + WARMUP; seq++) {
		fill_probe(&client[2 * seq], PROBE_TWAMP, seq, rtt_of(pl, RUN_TWAMP, v, seq), false);
		fill_probe(&client[2 * seq + 1], PROBE_ICMP, seq, rtt_of(pl, RUN_ICMP, v, seq), false);
		fill_probe(&ping[seq], PROBE_ICMP, seq, rtt_of(pl, RUN_PING, v, seq),
			   is_lost(pl, RUN_PING, seq));
	}
	snprintf(path, sizeof(path), "%s/client.json", sdir);
	write_result(path, "twamp-client", client, 2 * (PROBES + WARMUP), true, true);
	snprintf(path, sizeof(path), "%s/ping.json", sdir);
	write_result(path, "ping", ping, PROBES + WARMUP, false, true);

	if (pl->points) {
		snprintf(path, sizeof(path), "%s/points.csv", sdir);
		f = fopen(path, "w");
		assert_non_null(f);
		fputs("proto,seq,point,rtt_ns\n", f);
		for (p = 0; p < RUN_NPROTO; p++)
			for (seq = 0; seq < PROBES + WARMUP; seq++)
				for (q = RPOINT_SENDER_VM; q < RPOINT_N; q++) {
					fprintf(f, "%s,%d,%s,", run_proto_name((enum run_proto)p), seq,
						result_point_name((enum result_point)q));
					if (!is_lost(pl, (enum run_proto)p, seq))
						fprintf(f, "%lld",
							(long long)(rtt_of(pl, (enum run_proto)p, v, seq) -
								    point_offset_us[q] * US));
					fputc('\n', f);
				}
		assert_int_equal(fclose(f), 0);
	}
	if (pl->done) {
		snprintf(path, sizeof(path), "%s/done", sdir);
		write_text(path, "");
	}
}

static void make_run_dir(char *dir, size_t size)
{
	char path[PATH_MAX + 32];

	snprintf(dir, size, "%s/tk-report-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	write_text(path, "{\"schema\": \"twampkit.experiment/1\", \"backend\": \"netns\", "
			 "\"matrix\": {\"name\": \"synthetic\"}, \"host\": {}, "
			 "\"started_ns\": 1700000000000000000, \"finished_ns\": 1700000600000000000}\n");
	snprintf(path, sizeof(path), "%s/scenarios", dir);
	assert_int_equal(mkdir(path, 0755), 0);
}

static const struct plan plan_default = {
	.reservation = false, .load = LOAD_NONE, .loc = LOC_NONE, .bg = 0, .freq = 1000,
	.rep = 1, .done = true, .points = true, .lost_ping_seq = -1, .wild = false,
};

/*
 * The planted run: baselines (res no/yes at 1000 Hz with capture, res no at
 * 1 Hz without), every load x location x reservation at 2 and 8 VMs, a
 * second repetition of network/sender/res no/8, ping probe 7 lost in
 * io/sender/res no/8, and two unfinished scenarios.  28 finished.
 */
static void build_planted(char *dir, size_t size)
{
	static const enum load_type loads[] = {LOAD_CPU, LOAD_NETWORK, LOAD_IO};
	struct plan pl;
	int r, l, loc, b;

	make_run_dir(dir, size);
	for (r = 0; r < 2; r++) {
		pl = plan_default;
		pl.reservation = r;
		write_scenario(dir, &pl, V_PLANTED);
		for (l = 0; l < 3; l++)
			for (loc = LOC_SENDER; loc <= LOC_RECEIVER; loc++)
				for (b = 2; b <= 8; b += 6) {
					pl = plan_default;
					pl.reservation = r;
					pl.load = loads[l];
					pl.loc = (enum load_location)loc;
					pl.bg = b;
					if (!r && loads[l] == LOAD_IO && loc == LOC_SENDER && b == 8)
						pl.lost_ping_seq = 7;
					write_scenario(dir, &pl, V_PLANTED);
				}
	}
	pl = plan_default;
	pl.freq = 1;
	pl.points = false;
	write_scenario(dir, &pl, V_PLANTED);
	pl = plan_default;
	pl.load = LOAD_NETWORK;
	pl.loc = LOC_SENDER;
	pl.bg = 8;
	pl.rep = 2;
	write_scenario(dir, &pl, V_PLANTED);
	/* Unfinished: a new bg count and a third repetition, both absurd. */
	pl.rep = 3;
	pl.done = false;
	pl.wild = true;
	write_scenario(dir, &pl, V_PLANTED);
	pl = plan_default;
	pl.load = LOAD_CPU;
	pl.loc = LOC_SENDER;
	pl.bg = 16;
	pl.done = false;
	pl.wild = true;
	write_scenario(dir, &pl, V_PLANTED);
}

/* Reversed: baseline + cpu sender (both reservations) and cpu receiver at 8 VMs. */
static void build_reversed(char *dir, size_t size)
{
	struct plan pl;
	int r;

	make_run_dir(dir, size);
	for (r = 0; r < 2; r++) {
		pl = plan_default;
		pl.reservation = r;
		write_scenario(dir, &pl, V_REVERSED);
		pl.load = LOAD_CPU;
		pl.loc = LOC_SENDER;
		pl.bg = 8;
		write_scenario(dir, &pl, V_REVERSED);
		pl.loc = LOC_RECEIVER;
		write_scenario(dir, &pl, V_REVERSED);
	}
}

static void rm_rf(const char *path)
{
	char cmd[PATH_MAX + 16];

	/* Only our own mkdtemp directories. */
	assert_true(strstr(path, "/tk-report-") != NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long len;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	len = ftell(f);
	assert_true(len >= 0);
	rewind(f);
	buf = malloc((size_t)len + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	buf[len] = '\0';
	fclose(f);
	return buf;
}

static char *report_string(const struct experiment *e, enum report_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(report_write(e, fmt, f), 0);
	fclose(f);
	return buf;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* --- fixtures ---------------------------------------------------------------------- */

struct fx {
	char dir[PATH_MAX];
	struct experiment *e;
};

static int setup_planted(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256] = "";

	if (!fx)
		return -1;
	build_planted(fx->dir, sizeof(fx->dir));
	if (results_load(fx->dir, &fx->e, err, sizeof(err)) != 0) {
		print_error("load: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int setup_reversed(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char err[256] = "";

	if (!fx)
		return -1;
	build_reversed(fx->dir, sizeof(fx->dir));
	if (results_load(fx->dir, &fx->e, err, sizeof(err)) != 0) {
		print_error("load: %s\n", err);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown_fx(void **state)
{
	struct fx *fx = *state;

	results_free(fx->e);
	rm_rf(fx->dir);
	free(fx);
	return 0;
}

/* --- results and summary.csv ------------------------------------------------------- */

static void test_load_counts(void **state)
{
	struct fx *fx = *state;
	const struct experiment *e = fx->e;
	size_t i;

	assert_int_equal(e->n_scen, 28);
	assert_int_equal(e->n_unfinished, 2);
	assert_string_equal(e->backend, "netns");
	assert_string_equal(e->matrix_name, "synthetic");
	assert_true(e->started_ns == INT64_C(1700000000000000000));
	for (i = 0; i < e->n_scen; i++) {
		const struct result_scenario *s = &e->scen[i];

		assert_int_not_equal(s->sc.bg_vms, 16);
		assert_true(s->sc.rep <= 2);
		/* Warm-up dropped: 40 of 42 probes per protocol. */
		assert_int_equal(s->s[RUN_TWAMP][RPOINT_TOOL].sent, PROBES);
		assert_int_equal(s->s[RUN_TWAMP][RPOINT_TOOL].n, PROBES);
		assert_true(s->s[RUN_ICMP][RPOINT_TOOL].present);
		assert_true(s->s[RUN_PING][RPOINT_TOOL].present);
	}
}

/* Finds the summary.csv line for scenario/proto/point; NULL if none. */
static const char *find_row(const char *csv, const char *id, const char *proto, const char *point)
{
	char key[256];
	const char *p = csv;
	size_t klen;

	snprintf(key, sizeof(key), "%s,", id);
	klen = strlen(key);
	while ((p = strstr(p, key))) {
		if (p == csv || p[-1] == '\n') {
			const char *eol = strchr(p, '\n');
			char line[512], want[64];

			snprintf(line, sizeof(line), "%.*s", (int)(eol ? eol - p : (long)strlen(p)), p);
			snprintf(want, sizeof(want), ",%s,%s,", proto, point);
			if (strstr(line, want))
				return p;
		}
		p += klen;
	}
	return NULL;
}

static void assert_row(const char *csv, const char *id, const char *proto, const char *point,
		       const char *want)
{
	const char *p = find_row(csv, id, proto, point);
	const char *eol;

	if (!p) {
		print_error("no row %s %s %s\n", id, proto, point);
		fail();
	}
	eol = strchr(p, '\n');
	assert_non_null(eol);
	if ((size_t)(eol - p) != strlen(want) || strncmp(p, want, strlen(want)) != 0) {
		print_error("row  %.*s\nwant %s\n", (int)(eol - p), p, want);
		fail();
	}
}

static void test_summary_csv(void **state)
{
	struct fx *fx = *state;
	char err[256] = "", path[PATH_MAX + 32];
	struct dirent *de;
	char *csv;
	DIR *d;

	assert_int_equal(results_write_summary(fx->dir, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/summary.csv", fx->dir);
	csv = slurp(path);
	assert_memory_equal(csv, RESULTS_SUMMARY_HEADER "\n", strlen(RESULTS_SUMMARY_HEADER) + 1);
	assert_string_equal(RESULTS_SUMMARY_HEADER,
			    "scenario,reservation,load_type,load_location,bg_vms,nic,freq_hz,proto,"
			    "point,n,min_ms,median_ms,max_ms,mean_ms,sd_ms,p99_ms,loss_pct");
	/* 27 scenarios with capture x 3 protocols x 7 points + 3 tool rows for the 1 Hz one. */
	assert_int_equal(count_lines(csv), 1 + 27 * 21 + 3);

	/*
	 * Network, 8 VMs, twamp: 0.200 + 1.000 ms + 0..18 us in steps of 2.
	 * sd: deviations +-1..9 us, 4 each: sqrt(4 * 330 / 39) = 5.817745 us.
	 */
	assert_row(csv, "res0-network-sender-n008-veth-f1000-r1", "twamp", "tool",
		   "res0-network-sender-n008-veth-f1000-r1,no,network,sender,8,veth,1000,twamp,tool,"
		   "40,1.200000,1.209000,1.218000,1.209000,0.005818,1.218000,0.000000");
	/* The sender VM point sees 20 us less; loss_pct is empty off the tool. */
	assert_row(csv, "res0-network-sender-n008-veth-f1000-r1", "twamp", "sender-vm",
		   "res0-network-sender-n008-veth-f1000-r1,no,network,sender,8,veth,1000,twamp,"
		   "sender-vm,40,1.180000,1.189000,1.198000,1.189000,0.005818,1.198000,");
	/* Quarter effect at 2 VMs, reservation yes: cpu receiver twamp 0.2 + 0.125 ms. */
	assert_row(csv, "res1-cpu-receiver-n002-veth-f1000-r1", "twamp", "tool",
		   "res1-cpu-receiver-n002-veth-f1000-r1,yes,cpu,receiver,2,veth,1000,twamp,tool,"
		   "40,0.325000,0.334000,0.343000,0.334000,0.005818,0.343000,0.000000");
	/* Baseline ping at 1 Hz: 0.250 ms, no capture. */
	assert_row(csv, "res0-none-n000-veth-f1-r1", "ping", "tool",
		   "res0-none-n000-veth-f1-r1,no,none,none,0,veth,1,ping,tool,"
		   "40,0.250000,0.259000,0.268000,0.259000,0.005818,0.268000,0.000000");
	assert_null(find_row(csv, "res0-none-n000-veth-f1-r1", "ping", "sender-vm"));
	/*
	 * ping probe 7 lost (jitter (7-2)%10*2 = 10 us): 39 samples, 1/40 = 2.5% loss.
	 * Sorted: 0,2,4,6,8 x4, 10 x3, ...: median (h = 19) is 8 us; io adds 50 us.
	 * mean = 350 / 39 = 8.974359 us; sd = sqrt((4460 - 350^2/39) / 38) = 5.891509 us.
	 */
	assert_row(csv, "res0-io-sender-n008-veth-f1000-r1", "ping", "tool",
		   "res0-io-sender-n008-veth-f1000-r1,no,io,sender,8,veth,1000,ping,tool,"
		   "39,0.230000,0.238000,0.248000,0.238974,0.005892,0.248000,2.500000");
	/* The lost probe is an empty RTT at each point: n 39 there too, no loss column. */
	assert_row(csv, "res0-io-sender-n008-veth-f1000-r1", "ping", "receiver-vm",
		   "res0-io-sender-n008-veth-f1000-r1,no,io,sender,8,veth,1000,ping,receiver-vm,"
		   "39,0.110000,0.118000,0.128000,0.118974,0.005892,0.128000,");
	/* Unfinished scenarios and warm-up values appear nowhere. */
	assert_null(strstr(csv, "n016"));
	assert_null(strstr(csv, "-r3"));
	assert_null(strstr(csv, ",50.0"));
	assert_null(strstr(csv, ",900."));
	free(csv);

	/* No temporary file left behind. */
	d = opendir(fx->dir);
	assert_non_null(d);
	while ((de = readdir(d)))
		assert_null(strstr(de->d_name, ".summary.csv."));
	closedir(d);

	/* Rewriting replaces the file (the runner calls this after each scenario). */
	assert_int_equal(results_write_summary(fx->dir, err, sizeof(err)), 0);
	csv = slurp(path);
	assert_int_equal(count_lines(csv), 1 + 27 * 21 + 3);
	free(csv);
}

static void test_pool_repetitions(void **state)
{
	struct fx *fx = *state;
	struct results_key k;
	struct result_samples s;
	size_t i;

	memset(&k, 0, sizeof(k));
	k.load = LOAD_NETWORK;
	k.location = LOC_SENDER;
	k.bg_vms = 8;
	snprintf(k.nic, sizeof(k.nic), "veth");
	k.freq_hz = 1000;
	assert_int_equal(results_pool(fx->e, &k, RUN_TWAMP, RPOINT_TOOL, &s), 0);
	assert_true(s.present);
	assert_int_equal(s.n, 2 * PROBES); /* reps 1 and 2; rep 3 is unfinished */
	assert_int_equal(s.sent, 2 * PROBES);
	for (i = 0; i < s.n; i++)
		assert_true(s.rtt_ns[i] >= 1200 * US && s.rtt_ns[i] <= 1218 * US);
	results_samples_free(&s);

	k.bg_vms = 16;
	assert_int_equal(results_pool(fx->e, &k, RUN_TWAMP, RPOINT_TOOL, &s), 0);
	assert_false(s.present);
	assert_int_equal(s.n, 0);
	results_samples_free(&s);
}

/* --- report -------------------------------------------------------------------------- */

static json_object *report_json(const struct experiment *e)
{
	char *s = report_string(e, REPORT_JSON);
	json_object *o = json_tokener_parse(s);

	free(s);
	assert_non_null(o);
	return o;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v)) {
		print_error("no key %s\n", key);
		fail();
	}
	return v;
}

/* The sensitivity cell of a group and protocol at bg_vms. */
static json_object *sens_cell(json_object *root, const char *load, const char *loc, bool res,
			      const char *proto, int bg)
{
	json_object *groups = jget(root, "sensitivity");
	size_t i, j;

	for (i = 0; i < json_object_array_length(groups); i++) {
		json_object *g = json_object_array_get_idx(groups, i), *cells;

		if (strcmp(json_object_get_string(jget(g, "load_type")), load) != 0 ||
		    strcmp(json_object_get_string(jget(g, "load_location")), loc) != 0 ||
		    json_object_get_boolean(jget(g, "reservation")) != res ||
		    json_object_get_int(jget(g, "freq_hz")) != 1000)
			continue;
		cells = jget(g, "cells");
		for (j = 0; j < json_object_array_length(cells); j++) {
			json_object *c = json_object_array_get_idx(cells, j);

			if (strcmp(json_object_get_string(jget(c, "proto")), proto) == 0 &&
			    json_object_get_int(jget(c, "bg_vms")) == bg)
				return c;
		}
	}
	print_error("no cell %s %s %d %s %d\n", load, loc, res, proto, bg);
	fail();
	return NULL;
}

static double jd(json_object *o, const char *key)
{
	return json_object_get_double(jget(o, key));
}

static size_t ncomparisons(json_object *findings, size_t i)
{
	return json_object_array_length(jget(json_object_array_get_idx(findings, i), "comparisons"));
}

static void test_report_json(void **state)
{
	struct fx *fx = *state;
	json_object *root = report_json(fx->e), *c, *t2, *f, *diffs;
	size_t i;
	bool found = false;

	assert_string_equal(json_object_get_string(jget(root, "schema")), "twampkit.report/1");
	assert_int_equal(json_object_get_int(jget(root, "scenarios")), 28);
	assert_int_equal(json_object_get_int(jget(root, "unfinished")), 2);

	/* Table II: twamp, 1000 Hz, veth, no reservation: 0.200..0.218 ms. */
	t2 = jget(root, "table2");
	assert_int_equal(json_object_array_length(t2), 3 * 3); /* 3 settings x 3 protocols */
	for (i = 0; i < json_object_array_length(t2); i++) {
		json_object *r = json_object_array_get_idx(t2, i);

		if (strcmp(json_object_get_string(jget(r, "proto")), "twamp") != 0 ||
		    json_object_get_int(jget(r, "freq_hz")) != 1000 ||
		    json_object_get_boolean(jget(r, "reservation")))
			continue;
		found = true;
		assert_int_equal(json_object_get_int(jget(r, "n")), 40);
		assert_near(jd(r, "min_ms"), 0.2, 1e-12);
		assert_near(jd(r, "median_ms"), 0.209, 1e-12);
		assert_near(jd(r, "max_ms"), 0.218, 1e-12);
		assert_near(jd(r, "mean_ms"), 0.209, 1e-12);
		assert_near(jd(r, "sd_ms"), 0.005818, 1e-12);
		assert_near(jd(r, "loss_pct"), 0.0, 0);
	}
	assert_true(found);

	/* Network, sender, no reservation, 8 VMs: 2 repetitions pooled, +1 ms. */
	c = sens_cell(root, "network", "sender", false, "twamp", 8);
	assert_int_equal(json_object_get_int(jget(c, "n")), 80);
	assert_near(jd(c, "median_ms"), 1.209, 1e-12);
	assert_near(jd(c, "increase_ms"), 1.0, 1e-12);
	assert_true(jd(c, "ci95_lo_ms") <= 1.209 && jd(c, "ci95_hi_ms") >= 1.209);
	assert_true(jd(c, "ci95_lo_ms") >= 1.2 && jd(c, "ci95_hi_ms") <= 1.218);
	/* Every loaded value exceeds every baseline value: U = n1 n2, tiny p. */
	assert_near(jd(jget(c, "mann_whitney"), "u"), 80.0 * 40.0, 0);
	assert_true(jd(jget(c, "mann_whitney"), "p") < 1e-12);
	/* The baseline column (bg 0) has no comparison with itself. */
	c = sens_cell(root, "network", "sender", false, "twamp", 0);
	assert_near(jd(c, "median_ms"), 0.209, 1e-12);
	assert_false(json_object_object_get_ex(c, "mann_whitney", NULL));
	/* Sender cpu: 0.3 ms without, 0.1 ms with reservation; at 2 VMs a quarter. */
	assert_near(jd(sens_cell(root, "cpu", "sender", false, "icmp", 8), "increase_ms"),
			    0.3, 1e-12);
	assert_near(jd(sens_cell(root, "cpu", "sender", true, "icmp", 8), "increase_ms"),
			    0.1, 1e-12);
	assert_near(jd(sens_cell(root, "cpu", "sender", false, "icmp", 2), "increase_ms"),
			    0.075, 1e-12);
	/* p99 of 0.759..0.777: h = 38.61 between two 18 us values. */
	assert_near(jd(sens_cell(root, "cpu", "receiver", false, "twamp", 8), "p99_ms"),
			    0.718, 1e-12);

	/* Difference rows: cpu receiver at 8 VMs: (0.2+0.5) - (0.15+0.2) = 0.35 ms vs icmp. */
	for (i = 0, found = false; i < json_object_array_length(jget(root, "sensitivity")); i++) {
		json_object *g = json_object_array_get_idx(jget(root, "sensitivity"), i);
		size_t j;

		if (strcmp(json_object_get_string(jget(g, "load_type")), "cpu") != 0 ||
		    strcmp(json_object_get_string(jget(g, "load_location")), "receiver") != 0 ||
		    json_object_get_boolean(jget(g, "reservation")))
			continue;
		diffs = jget(g, "differences");
		for (j = 0; j < json_object_array_length(diffs); j++) {
			json_object *d = json_object_array_get_idx(diffs, j);

			if (json_object_get_int(jget(d, "bg_vms")) != 8)
				continue;
			if (json_object_object_get_ex(d, "twamp_minus_icmp_median_ms", NULL)) {
				assert_near(jd(d, "twamp_minus_icmp_median_ms"), 0.35, 1e-12);
				found = true;
			} else {
				/* ping base 0.180: 0.709 - 0.389 */
				assert_near(jd(d, "twamp_minus_ping_median_ms"), 0.32, 1e-12);
			}
		}
	}
	assert_true(found);

	/* Capture points: baseline twamp mean 0.209 ms, link 60 us = 28.708134%. */
	c = sens_cell(root, "cpu", "sender", false, "twamp", 0);
	assert_near(jd(jget(c, "points_mean_ms"), "sender-vm"), 0.189, 1e-12);
	assert_near(jd(jget(c, "points_mean_ms"), "receiver-vm"), 0.089, 1e-12);
	assert_near(jd(jget(c, "segment_share_pct"), "sender-host>receiver-host"),
			    28.708134, 1e-9);
	assert_near(jd(jget(c, "segment_share_pct"), "sender-vm-stack"), 9.569378, 1e-9);
	assert_near(jd(jget(c, "segment_share_pct"), "inside-receiver-vm"), 42.583732,
			    1e-9);

	/* Findings: all three hold, with every comparison in favour. */
	f = jget(root, "findings");
	assert_int_equal(json_object_array_length(f), 3);
	for (i = 0; i < 3; i++) {
		json_object *x = json_object_array_get_idx(f, i);
		size_t n = json_object_array_length(jget(x, "comparisons"));

		assert_string_equal(json_object_get_string(jget(x, "verdict")), "holds");
		assert_int_equal(json_object_get_int(jget(x, "supporting")), n);
	}
	/* 3 protocols x 2 locations x 2 reservations; 3 protocols; 2 reservations x (icmp, ping). */
	assert_int_equal(ncomparisons(f, 0), 12);
	assert_int_equal(ncomparisons(f, 1), 3);
	assert_int_equal(ncomparisons(f, 2), 4);
	/* First comparison: ping, sender, no reservation; io's lost probe moves its median to +49 us. */
	c = json_object_array_get_idx(jget(json_object_array_get_idx(f, 0), "comparisons"), 0);
	assert_string_equal(json_object_get_string(jget(c, "context")),
			    "ping, load on the sender, reservation no, 1000 Hz, veth");
	assert_int_equal(json_object_get_int(jget(c, "bg_vms")), 8);
	assert_near(jd(jget(c, "increase_ms"), "network"), 1.0, 1e-12);
	assert_near(jd(jget(c, "increase_ms"), "cpu"), 0.3, 1e-12);
	assert_near(jd(jget(c, "increase_ms"), "io"), 0.049, 1e-12);
	assert_true(json_object_get_boolean(jget(c, "supports")));
	json_object_put(root);
}

static void test_report_text(void **state)
{
	struct fx *fx = *state;
	char *s = report_string(fx->e, REPORT_TEXT);

	assert_non_null(strstr(s, "28 finished scenarios (2 unfinished ignored)"));
	assert_non_null(strstr(s, "== Table II: RTT without background load (ms) =="));
	/* Table II row: freq, nic, reservation, n, loss, min/median/max/avg/sd. */
	assert_non_null(strstr(s, "1000     veth  no           40     0.0  0.200   0.209  0.218  0.209  "
				  "0.006"));
	assert_non_null(strstr(s, "-- network load on the sender, reservation no, 1000 Hz, veth --"));
	assert_non_null(strstr(s, "1.209"));
	assert_non_null(strstr(s, "+1.000"));
	assert_non_null(strstr(s, "twamp-icmp median"));
	assert_non_null(strstr(s, "twamp-ping median"));
	/* Pooled 80 samples: the CI of the median is tighter than with 40. */
	assert_non_null(strstr(s, "twamp CI95         [0.206,0.212]  [0.456,0.462]  [1.207,1.211]"));
	assert_non_null(strstr(s, "== Capture points"));
	assert_non_null(strstr(s, "28.7"));
	assert_non_null(strstr(s, "1. Network load on the path raises RTT the most of the three load "
				  "types: holds (supported by 12 of 12 comparisons)"));
	assert_non_null(strstr(s, "2. Sender-side CPU load raises the 1000 Hz RTT more without a "
				  "reserved core than with one: holds (supported by 3 of 3"));
	assert_non_null(strstr(s, "3. Receiver-side CPU load affects TWAMP more than ICMP: holds "
				  "(supported by 4 of 4"));
	assert_non_null(strstr(s, "twamp, load on the sender, reservation no, 1000 Hz, veth, 8 VMs: "
				  "network +1.000 ms, cpu +0.300 ms, io +0.050 ms -> supports"));
	assert_non_null(strstr(s, "twamp +0.500 ms, icmp +0.200 ms -> supports"));
	assert_null(strstr(s, "50.000"));
	assert_null(strstr(s, "900."));
	free(s);
}

static void test_report_markdown_csv(void **state)
{
	struct fx *fx = *state;
	char *s = report_string(fx->e, REPORT_MARKDOWN);

	assert_non_null(strstr(s, "# twamp-experiment report: "));
	assert_non_null(strstr(s, "## Table II"));
	assert_non_null(strstr(s, "| freq_hz | nic | reservation | n | loss_% |"));
	assert_non_null(strstr(s, "|:---|:---|:---|---:|"));
	assert_non_null(strstr(s, "| 1000 | veth | yes | 40 | 0.0 | 0.200 | 0.209 |"));
	assert_non_null(strstr(s, "**Network load on the path raises RTT the most of the three load "
				  "types: holds**"));
	free(s);

	s = report_string(fx->e, REPORT_CSV);
	assert_memory_equal(s, REPORT_CSV_HEADER "\n", strlen(REPORT_CSV_HEADER) + 1);
	assert_non_null(strstr(s, "\nsensitivity,twamp,network,sender,no,1000,veth,8,median_ms,"
				  "1.209000\n"));
	assert_non_null(strstr(s, "\nsensitivity,twamp,network,sender,no,1000,veth,8,n,80\n"));
	assert_non_null(strstr(s, "\nsensitivity,twamp,cpu,receiver,no,1000,veth,8,"
				  "twamp_minus_icmp_median_ms,0.350000\n"));
	assert_non_null(strstr(s, "\ntable2,ping,none,none,no,1,veth,0,median_ms,0.259000\n"));
	assert_non_null(strstr(s, "\nsensitivity,ping,io,sender,no,1000,veth,8,loss_pct,2.500000\n"));
	assert_non_null(strstr(s, "\npoints,twamp,cpu,sender,no,1000,veth,0,"
				  "share_pct:sender-host>receiver-host,28.708134\n"));
	assert_non_null(strstr(s, "\nfindings,,,,,,,,network-load-largest:verdict,holds\n"));
	assert_non_null(strstr(s, "\nfindings,,,,,,,,cpu-sender-reservation:verdict,holds\n"));
	assert_non_null(strstr(s, "\nfindings,,,,,,,,cpu-receiver-twamp:verdict,holds\n"));
	free(s);
}

static void test_report_reversed(void **state)
{
	struct fx *fx = *state;
	json_object *root = report_json(fx->e), *f;
	char *s;

	f = jget(root, "findings");
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(f, 0), "verdict")),
			    "not measured");
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(f, 1), "verdict")),
			    "does not hold");
	assert_string_equal(json_object_get_string(jget(json_object_array_get_idx(f, 2), "verdict")),
			    "does not hold");
	assert_int_equal(json_object_get_int(jget(json_object_array_get_idx(f, 1), "supporting")), 0);
	json_object_put(root);

	s = report_string(fx->e, REPORT_TEXT);
	assert_non_null(strstr(s, "1. Network load on the path raises RTT the most of the three load "
				  "types: not measured\n"));
	assert_non_null(strstr(s, "no reservation +0.100 ms, reservation +0.300 ms -> contradicts"));
	assert_non_null(strstr(s, "twamp +0.100 ms, icmp +0.400 ms -> contradicts"));
	free(s);
}

static void test_report_formats(void **state)
{
	enum report_format f;

	(void)state;
	assert_int_equal(report_format_parse("text", &f), 0);
	assert_int_equal(f, REPORT_TEXT);
	assert_int_equal(report_format_parse("markdown", &f), 0);
	assert_int_equal(f, REPORT_MARKDOWN);
	assert_int_equal(report_format_parse("csv", &f), 0);
	assert_int_equal(f, REPORT_CSV);
	assert_int_equal(report_format_parse("json", &f), 0);
	assert_int_equal(f, REPORT_JSON);
	assert_int_equal(report_format_parse("html", &f), -EINVAL);
	assert_int_equal(report_format_parse(NULL, &f), -EINVAL);
	assert_string_equal(report_format_name(REPORT_MARKDOWN), "markdown");
	assert_int_equal(report_write(NULL, REPORT_TEXT, stdout), -EINVAL);
}

/* An empty run (nothing finished yet) still reports, with every claim not measured. */
static void test_report_empty(void **state)
{
	char dir[PATH_MAX], err[256] = "";
	struct experiment *e = NULL;
	json_object *root, *f;
	char *s;
	size_t i;

	(void)state;
	make_run_dir(dir, sizeof(dir));
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(e->n_scen, 0);
	s = report_string(e, REPORT_TEXT);
	assert_non_null(strstr(s, "0 finished scenarios"));
	free(s);
	root = report_json(e);
	f = jget(root, "findings");
	for (i = 0; i < 3; i++)
		assert_string_equal(
			json_object_get_string(jget(json_object_array_get_idx(f, i), "verdict")),
			"not measured");
	json_object_put(root);
	assert_int_equal(results_write_summary(dir, err, sizeof(err)), 0);
	results_free(e);
	rm_rf(dir);
}

/* --- malformed run directories -------------------------------------------------------- */

static void test_load_errors(void **state)
{
	char dir[PATH_MAX], err[256], path[PATH_MAX + 64];
	static struct experiment dummy;
	struct experiment *e = &dummy;
	struct plan pl = plan_default;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/tk-report-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	assert_non_null(mkdtemp(dir));
	/* No manifest. */
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -ENOENT);
	assert_null(e);
	assert_non_null(strstr(err, "manifest.json"));
	/* Wrong schema. */
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	write_text(path, "{\"schema\": \"something/2\"}");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "twampkit.experiment/1"));
	write_text(path, "{\"schema\": ");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "not valid JSON"));
	rm_rf(dir);

	/* A finished scenario with a malformed points.csv line: file and line named. */
	make_run_dir(dir, sizeof(dir));
	write_scenario(dir, &pl, V_PLANTED);
	snprintf(path, sizeof(path), "%s/scenarios/res0-none-n000-veth-f1000-r1/points.csv", dir);
	write_text(path, "proto,seq,point,rtt_ns\ntwamp,2,sender-vm,100\ntwamp,3,moon,100\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "points.csv:3: malformed line"));
	write_text(path, "proto,seq,point,rtt_ns\ntwamp,x,sender-vm,100\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	write_text(path, "proto,seq,point,rtt_ns\nfoo,2,sender-vm,100\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	write_text(path, "proto,seq,point,rtt_ns\ntwamp,2,tool,100\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	write_text(path, "proto,seq,point,rtt_ns\ntwamp,2,sender-vm,100,7\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	write_text(path, "seq,proto,point,rtt_ns\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "points.csv:1: header"));
	/* summary.csv is not written when the load fails, and no temp file stays. */
	assert_int_equal(results_write_summary(dir, err, sizeof(err)), -EBADMSG);
	snprintf(path, sizeof(path), "%s/summary.csv", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	/* CRLF line ends and a blank line are accepted. */
	snprintf(path, sizeof(path), "%s/scenarios/res0-none-n000-veth-f1000-r1/points.csv", dir);
	write_text(path, "proto,seq,point,rtt_ns\r\ntwamp,2,sender-vm,100\r\n\r\ntwamp,3,sender-vm,\r\n");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(e->scen[0].s[RUN_TWAMP][RPOINT_SENDER_VM].n, 1);
	assert_int_equal(e->scen[0].s[RUN_TWAMP][RPOINT_SENDER_VM].lost, 1);
	results_free(e);

	/* Malformed client.json, then one with a TWAMP probe in ping.json. */
	snprintf(path, sizeof(path), "%s/scenarios/res0-none-n000-veth-f1000-r1/client.json", dir);
	write_text(path, "{\"schema\": \"twampkit.result/1\", \"probes\": [{\"seq\": 1}]}");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "client.json: probe 0 lacks proto or seq"));
	write_text(path, "{\"schema\": \"twampkit.result/1\", \"probes\": []}");
	snprintf(path, sizeof(path), "%s/scenarios/res0-none-n000-veth-f1000-r1/ping.json", dir);
	write_text(path, "{\"schema\": \"twampkit.result/1\", "
			 "\"probes\": [{\"proto\": \"twamp\", \"seq\": 1}]}");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "unexpected proto"));
	/* params.json that is not a scenario. */
	snprintf(path, sizeof(path), "%s/scenarios/res0-none-n000-veth-f1000-r1/params.json", dir);
	write_text(path, "{\"id\": \"x\"}");
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "params.json: not a scenario"));
	/* Unfinished: the broken scenario no longer matters. */
	snprintf(path, sizeof(path), "%s/scenarios/res0-none-n000-veth-f1000-r1/done", dir);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(e->n_scen, 0);
	assert_int_equal(e->n_unfinished, 1);
	results_free(e);
	assert_int_equal(results_load(NULL, &e, err, sizeof(err)), -EINVAL);
	rm_rf(dir);
}

/* --- plots ----------------------------------------------------------------------------- */

static bool gnuplot_available(void)
{
	return system("command -v gnuplot >/dev/null 2>&1") == 0;
}

static void check_image(const char *path, const char *format)
{
	static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	unsigned char head[256];
	struct stat st;
	size_t n;
	FILE *f;

	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size > 100);
	f = fopen(path, "rb");
	assert_non_null(f);
	n = fread(head, 1, sizeof(head) - 1, f);
	fclose(f);
	if (strcmp(format, "png") == 0) {
		assert_true(n >= 8);
		assert_memory_equal(head, png_sig, 8);
	} else {
		head[n] = '\0';
		assert_non_null(strstr((const char *)head, "<svg"));
	}
}

static void plot_run(struct fx *fx, const char *format)
{
	static const char *const names[] = {
		"fig2-cpu-sender-res0-ping-veth-1000hz",
		"fig2-cpu-sender-res0-icmp-veth-1000hz",
		"fig2-cpu-sender-res0-twamp-veth-1000hz",
		"fig2-cpu-sender-res0-protocols-veth-1000hz",
		"fig3-cpu-sender-res0-twamp-veth-1000hz",
		"fig3-cpu-receiver-res1-ping-veth-1000hz",
		"fig2-cpu-receiver-res1-protocols-veth-1000hz",
	};
	char outdir[PATH_MAX + 32], path[PATH_MAX + 160], err[256] = "", *list = NULL, *gp, *dat;
	size_t len = 0, i;
	FILE *lf;

	snprintf(outdir, sizeof(outdir), "%s/plots-%s", fx->dir, format);
	lf = open_memstream(&list, &len);
	assert_non_null(lf);
	if (plot_write(fx->e, outdir, format, lf, err, sizeof(err)) != 0) {
		print_error("plot: %s\n", err);
		fail();
	}
	fclose(lf);
	/* 4 groups (cpu x sender/receiver x reservation) x (3 fig2 + overlay + 3 fig3), script. */
	assert_int_equal(count_lines(list), 4 * 7 + 1);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.%s\n", outdir, names[i], format);
		assert_non_null(strstr(list, path));
		path[strlen(path) - 1] = '\0';
		check_image(path, format);
	}
	snprintf(path, sizeof(path), "%s/plots.gp\n", outdir);
	assert_non_null(strstr(list, path));
	free(list);

	/* The script names the key's whisker convention and the axis units. */
	snprintf(path, sizeof(path), "%s/plots.gp", outdir);
	gp = slurp(path);
	assert_non_null(strstr(gp, "whiskers p1-p99"));
	assert_non_null(strstr(gp, "set ylabel \"RTT (ms)\""));
	assert_non_null(strstr(gp, "set xlabel \"Number of background VMs (0 = no load)\""));
	assert_non_null(strstr(gp, "set xtics (\"0\" 0, \"8\" 1)"));
	free(gp);
	/* Data behind the box plot: baseline then 8 VMs (reversed run: cpu sender res0 +0.1 ms). */
	snprintf(path, sizeof(path), "%s/data/fig2-cpu-sender-res0-twamp-veth-1000hz.dat", outdir);
	dat = slurp(path);
	/* p1 h = 0.39 and p25 h = 9.75 fall between equal values: 0 and 4 us; p75 14, p99 18 us. */
	assert_non_null(strstr(dat, "\n0 0 40 0.200000 0.204000 0.209000 0.214000 0.218000 0.200000 "
				    "0.218000 0.209000\n"));
	assert_non_null(strstr(dat, "\n1 8 40 0.300000 0.304000 0.309000 0.314000 0.318000 0.300000 "
				    "0.318000 0.309000\n"));
	free(dat);
}

static void test_plot_png(void **state)
{
	if (!gnuplot_available())
		skip();
	plot_run(*state, "png");
}

static void test_plot_svg(void **state)
{
	if (!gnuplot_available())
		skip();
	plot_run(*state, "svg");
}

static void test_plot_errors(void **state)
{
	struct fx *fx = *state;
	char err[256] = "", outdir[PATH_MAX + 32], *old;

	snprintf(outdir, sizeof(outdir), "%s/plots-err", fx->dir);
	assert_int_equal(plot_write(fx->e, outdir, "jpeg", NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "png or svg"));
	assert_int_equal(plot_write(NULL, outdir, "png", NULL, err, sizeof(err)), -EINVAL);

	/* gnuplot missing: a clear error naming the package; script and data still written. */
	old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
	assert_int_equal(setenv("PATH", "/nonexistent-tk", 1), 0);
	assert_int_equal(plot_write(fx->e, outdir, "png", NULL, err, sizeof(err)), -ENOENT);
	if (old)
		setenv("PATH", old, 1);
	else
		unsetenv("PATH");
	free(old);
	assert_non_null(strstr(err, "gnuplot-nox"));
	snprintf(outdir + strlen(outdir), sizeof(outdir) - strlen(outdir), "/plots.gp");
	assert_int_equal(access(outdir, R_OK), 0);
}

/* Only baselines: nothing to plot. */
static void test_plot_nothing(void **state)
{
	char dir[PATH_MAX], err[256] = "";
	struct experiment *e = NULL;
	struct plan pl = plan_default;

	(void)state;
	make_run_dir(dir, sizeof(dir));
	write_scenario(dir, &pl, V_PLANTED);
	assert_int_equal(results_load(dir, &e, err, sizeof(err)), 0);
	assert_int_equal(plot_write(e, NULL, "svg", NULL, err, sizeof(err)), -ENODATA);
	results_free(e);
	rm_rf(dir);
}

int main(void)
{
#define PLANTED(t) cmocka_unit_test_setup_teardown(t, setup_planted, teardown_fx)
#define REVERSED(t) cmocka_unit_test_setup_teardown(t, setup_reversed, teardown_fx)
	const struct CMUnitTest tests[] = {
		PLANTED(test_load_counts),
		PLANTED(test_summary_csv),
		PLANTED(test_pool_repetitions),
		PLANTED(test_report_json),
		PLANTED(test_report_text),
		PLANTED(test_report_markdown_csv),
		REVERSED(test_report_reversed),
		REVERSED(test_plot_png),
		REVERSED(test_plot_svg),
		REVERSED(test_plot_errors),
		cmocka_unit_test(test_report_formats),
		cmocka_unit_test(test_report_empty),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_plot_nothing),
	};

	return cmocka_run_group_tests_name("report", tests, NULL, NULL);
}
