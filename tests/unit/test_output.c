/*
 * Unit tests for common/output (and the host metadata it records): a result
 * with both protocols, a lost, a duplicated, a skipped and a corrupt-
 * timestamp probe is written as JSON, CSV and text into memory; the JSON is
 * parsed back with json-c and checked key by key against DESIGN.md §3
 * (schema "twampkit.result/1"), the CSV row by row, the text line by line.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "hostinfo.h"
#include "output.h"

#define T0 1700000000000000000LL /* Unix ns of the first send */

struct fixture {
	struct probe_result probes[10];
	struct output_kv config[5];
	struct result r;
};

/* A TWAMP reply: fwd, proc and bwd in ns, clocks synchronized. */
static struct probe_result twamp_rx(uint32_t seq, int64_t t1, int64_t fwd, int64_t proc, int64_t bwd)
{
	struct probe_result p;

	memset(&p, 0, sizeof(p));
	p.proto = PROBE_TWAMP;
	p.seq = seq;
	p.refl_seq = seq;
	p.t1_ns = t1;
	p.t2_ns = t1 + fwd;
	p.t3_ns = p.t2_ns + proc;
	p.t4_ns = p.t3_ns + bwd;
	p.rtt_ns = fwd + bwd;
	p.fwd_ns = fwd;
	p.bwd_ns = bwd;
	p.proc_ns = proc;
	p.ttl = 255;
	p.sent = true;
	p.received = true;
	p.one_way_valid = true;
	p.ts_valid = true;
	p.t1_src = TS_SRC_KERNEL;
	p.t4_src = TS_SRC_KERNEL;
	return p;
}

static struct probe_result icmp_rx(uint32_t seq, int64_t t1, int64_t rtt)
{
	struct probe_result p;

	memset(&p, 0, sizeof(p));
	p.proto = PROBE_ICMP;
	p.seq = seq;
	p.refl_seq = seq;
	p.t1_ns = t1;
	p.t4_ns = t1 + rtt;
	p.rtt_ns = rtt;
	p.ttl = 64;
	p.sent = true;
	p.received = true;
	p.ts_valid = true;
	return p;
}

static struct probe_result as_lost(struct probe_result p)
{
	p.received = false;
	p.t2_ns = p.t3_ns = p.t4_ns = 0;
	p.one_way_valid = false;
	p.ts_valid = false;
	p.ttl = -1;
	return p;
}

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));
	struct probe_result *p;
	struct result *r;
	const int64_t lateness[] = {1000, 3000, 2000};

	if (!fx)
		return -1;
	p = fx->probes;
	r = &fx->r;
	/* Interleaved in send order, as twamp-client -P twamp,icmp records them. */
	p[0] = twamp_rx(0, T0, 20000, 5000, 25000);                    /* rtt 45 us */
	p[1] = icmp_rx(0, T0 + 500000, 30000);
	p[2] = twamp_rx(1, T0 + 1000000, 25000, 5000, 30000);          /* rtt 55 us */
	p[2].dup = 1;
	p[3] = as_lost(icmp_rx(1, T0 + 1500000, 0));
	p[4] = as_lost(twamp_rx(2, T0 + 2000000, 0, 0, 0));
	p[5] = icmp_rx(2, T0 + 2500000, 40000);
	p[6] = as_lost(twamp_rx(3, 0, 0, 0, 0));                       /* skipped */
	p[6].sent = false;
	p[7] = twamp_rx(4, T0 + 4000000, 30000, 5000, 35000);          /* rtt 65 us */
	p[8] = twamp_rx(5, T0 + 5000000, 30000, 5000, 35000);
	p[8].ts_valid = false; /* Multiplier 0 in an Error Estimate (A10) */
	p[8].rtt_ns = 999999999;
	p[8].one_way_valid = false;
	p[9] = icmp_rx(3, T0 + 5500000, 50000);
	p[9].dup = 2;

	fx->config[0] = (struct output_kv){.key = "interval", .type = OUTPUT_KV_DOUBLE, .d = 0.001};
	fx->config[1] = (struct output_kv){.key = "count", .type = OUTPUT_KV_INT, .i = 100};
	fx->config[2] = (struct output_kv){.key = "protocol", .type = OUTPUT_KV_STRING, .s = "twamp,icmp"};
	fx->config[3] = (struct output_kv){.key = "control", .type = OUTPUT_KV_BOOL, .b = false};
	fx->config[4] = (struct output_kv){.key = "source", .type = OUTPUT_KV_STRING, .s = NULL};

	r->tool_name = "twamp-client";
	r->tool_version = "0.1";
	r->target = "127.0.0.1:18620";
	snprintf(r->host.hostname, sizeof(r->host.hostname), "testhost");
	snprintf(r->host.kernel, sizeof(r->host.kernel), "Linux 6.1.0");
	snprintf(r->host.machine, sizeof(r->host.machine), "x86_64");
	snprintf(r->host.clocksource, sizeof(r->host.clocksource), "tsc");
	r->host.ncpu = 4;
	r->host.clock_status_known = true;
	r->host.clock.synced = false;
	r->host.clock.max_error_ns = 16000000;
	snprintf(r->host.tstamp_rx, sizeof(r->host.tstamp_rx), "kernel");
	snprintf(r->host.tstamp_tx, sizeof(r->host.tstamp_tx), "user");
	r->config = fx->config;
	r->n_config = 5;
	r->probes = p;
	r->n_probes = 10;
	r->have[PROBE_TWAMP] = true;
	r->have[PROBE_ICMP] = true;
	if (stats_summarize(p, 10, PROBE_TWAMP, 0, &r->summary[PROBE_TWAMP]) != 0 ||
	    stats_summarize(p, 10, PROBE_ICMP, 1, &r->summary[PROBE_ICMP]) != 0 ||
	    stats_dist_compute(lateness, 3, &r->schedule.lateness) != 0) {
		free(fx);
		return -1;
	}
	r->schedule.skipped = 1;
	r->interrupted = true;
	r->start_ns = T0 - 1000;
	r->end_ns = T0 + 9000000;
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

/* Writes r in fmt to memory; the caller frees the string. */
static char *render(const struct result *r, enum output_format fmt)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(output_write(r, fmt, f), 0);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

/* --- JSON helpers ---------------------------------------------------------- */

static json_object *get_at(json_object *o, const char *k, const char *file, int line)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, k, &v)) {
		print_error("key \"%s\" missing\n", k);
		_fail(file, line);
	}
	return v;
}
#define get(o, k) get_at((o), (k), __FILE__, __LINE__)

#define assert_json_null(o, k) assert_true(get((o), (k)) == NULL)
#define assert_json_int(o, k, v)                                                                   \
	do {                                                                                       \
		json_object *v_ = get((o), (k));                                                   \
		assert_true(json_object_is_type(v_, json_type_int));                               \
		assert_true(json_object_get_int64(v_) == (int64_t)(v));                            \
	} while (0)
#define assert_json_bool(o, k, v)                                                                  \
	do {                                                                                       \
		json_object *v_ = get((o), (k));                                                   \
		assert_true(json_object_is_type(v_, json_type_boolean));                           \
		assert_int_equal(json_object_get_boolean(v_), (v));                                \
	} while (0)
#define assert_json_str(o, k, v)                                                                   \
	do {                                                                                       \
		json_object *v_ = get((o), (k));                                                   \
		assert_true(json_object_is_type(v_, json_type_string));                            \
		assert_string_equal(json_object_get_string(v_), (v));                              \
	} while (0)
#define assert_json_double(o, k, v)                                                                \
	do {                                                                                       \
		json_object *v_ = get((o), (k));                                                   \
		assert_true(json_object_is_type(v_, json_type_double));                            \
		assert_true(fabs(json_object_get_double(v_) - (v)) < 1e-9);                        \
	} while (0)

static json_object *parse_json(const struct result *r)
{
	char *text = render(r, OUTPUT_JSON);
	size_t len = strlen(text);
	json_object *root;

	assert_true(len > 2 && text[len - 1] == '\n' && text[len - 2] == '}');
	root = json_tokener_parse(text);
	free(text);
	assert_non_null(root);
	return root;
}

static void assert_dist_keys(json_object *d, size_t n)
{
	static const char *const keys[] = {"min", "p25", "median", "p75", "p90", "p99", "max",
					   "mean", "sd"};
	size_t i;

	assert_true(json_object_is_type(d, json_type_object));
	assert_json_int(d, "n", n);
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		assert_true(json_object_is_type(get(d, keys[i]), json_type_double));
	assert_int_equal(json_object_object_length(d), 10);
}

static void assert_summary_keys(json_object *s)
{
	static const char *const keys[] = {"sent", "received", "lost", "loss_pct", "duplicates",
					   "reordered", "skipped", "invalid_ts", "loss_split",
					   "one_way_valid", "rtt_ms", "fwd_ms", "bwd_ms",
					   "proc_ms", "ipdv_ms"};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		(void)get(s, keys[i]);
	assert_int_equal(json_object_object_length(s), 15);
}

/* --- JSON ------------------------------------------------------------------ */

static void test_json_top(void **state)
{
	struct fixture *fx = *state;
	json_object *root = parse_json(&fx->r), *o;

	assert_json_str(root, "schema", "twampkit.result/1");
	o = get(root, "tool");
	assert_json_str(o, "name", "twamp-client");
	assert_json_str(o, "version", "0.1");

	o = get(root, "host");
	assert_json_str(o, "hostname", "testhost");
	assert_json_str(o, "kernel", "Linux 6.1.0");
	assert_json_str(o, "machine", "x86_64");
	assert_json_str(o, "clocksource", "tsc");
	assert_json_int(o, "ncpu", 4);
	assert_json_bool(o, "clock_synced", 0);
	assert_json_int(o, "clock_max_error_ns", 16000000);
	assert_json_str(o, "tstamp_rx", "kernel");
	assert_json_str(o, "tstamp_tx", "user");
	assert_int_equal(json_object_object_length(o), 9);

	assert_json_str(root, "target", "127.0.0.1:18620");
	assert_json_int(root, "start_ns", T0 - 1000);
	assert_json_int(root, "end_ns", T0 + 9000000);
	assert_json_bool(root, "interrupted", 1);

	o = get(root, "config");
	assert_json_double(o, "interval", 0.001);
	assert_json_int(o, "count", 100);
	assert_json_str(o, "protocol", "twamp,icmp");
	assert_json_bool(o, "control", 0);
	assert_json_null(o, "source");
	assert_int_equal(json_object_object_length(o), 5);

	assert_true(json_object_is_type(get(root, "probes"), json_type_array));
	assert_true(json_object_is_type(get(root, "summary"), json_type_object));
	json_object_put(root);
}

static void test_json_probes(void **state)
{
	static const char *const keys[] = {"proto", "seq", "refl_seq", "t1_ns", "t1_wire_ns",
					   "t1_src", "t2_ns", "t3_ns", "t4_ns", "t4_src", "rtt_ns",
					   "fwd_ns", "bwd_ns", "proc_ns", "ttl", "lost", "dup",
					   "one_way_valid"};
	struct fixture *fx = *state;
	json_object *root = parse_json(&fx->r), *arr = get(root, "probes"), *p;
	size_t i, k;

	assert_int_equal(json_object_array_length(arr), 10);
	for (i = 0; i < 10; i++) {
		p = json_object_array_get_idx(arr, i);
		for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			(void)get(p, keys[k]);
		/* "skipped" only on the skipped probe, "ts_valid" only on the corrupt one. */
		assert_int_equal(json_object_object_get_ex(p, "skipped", NULL), i == 6);
		assert_int_equal(json_object_object_get_ex(p, "ts_valid", NULL), i == 8);
		assert_int_equal(json_object_object_length(p), 18 + (i == 6 || i == 8));
	}

	/* A TWAMP reply: every value known. */
	p = json_object_array_get_idx(arr, 0);
	assert_json_str(p, "proto", "twamp");
	assert_json_int(p, "seq", 0);
	assert_json_int(p, "refl_seq", 0);
	assert_json_int(p, "t1_ns", T0);
	/* No separate wire value recorded: the wire T1 is the T1 used. */
	assert_json_int(p, "t1_wire_ns", T0);
	assert_json_str(p, "t1_src", "kernel");
	assert_json_int(p, "t2_ns", T0 + 20000);
	assert_json_int(p, "t3_ns", T0 + 25000);
	assert_json_int(p, "t4_ns", T0 + 50000);
	assert_json_int(p, "rtt_ns", 45000);
	assert_json_int(p, "fwd_ns", 20000);
	assert_json_int(p, "bwd_ns", 25000);
	assert_json_int(p, "proc_ns", 5000);
	assert_json_int(p, "ttl", 255);
	assert_json_bool(p, "lost", 0);
	assert_json_int(p, "dup", 0);
	assert_json_bool(p, "one_way_valid", 1);

	/* ICMP reply: no reflector times, no one-way, no processing. */
	p = json_object_array_get_idx(arr, 1);
	assert_json_str(p, "proto", "icmp");
	assert_json_int(p, "t1_ns", T0 + 500000);
	assert_json_null(p, "t2_ns");
	assert_json_null(p, "t3_ns");
	assert_json_int(p, "t4_ns", T0 + 530000);
	assert_json_int(p, "rtt_ns", 30000);
	assert_json_null(p, "fwd_ns");
	assert_json_null(p, "bwd_ns");
	assert_json_null(p, "proc_ns");
	assert_json_int(p, "ttl", 64);

	/* The duplicate. */
	assert_json_int(json_object_array_get_idx(arr, 2), "dup", 1);

	/* Lost TWAMP probe: send time known, everything after it null. */
	p = json_object_array_get_idx(arr, 4);
	assert_json_int(p, "seq", 2);
	assert_json_int(p, "t1_ns", T0 + 2000000);
	assert_json_null(p, "refl_seq");
	assert_json_null(p, "t2_ns");
	assert_json_null(p, "t3_ns");
	assert_json_null(p, "t4_ns");
	assert_json_null(p, "rtt_ns");
	assert_json_null(p, "fwd_ns");
	assert_json_null(p, "bwd_ns");
	assert_json_null(p, "proc_ns");
	assert_json_null(p, "ttl");
	assert_json_bool(p, "lost", 1);

	/* Skipped: not sent, so not lost either. */
	p = json_object_array_get_idx(arr, 6);
	assert_json_bool(p, "skipped", 1);
	assert_json_bool(p, "lost", 0);
	assert_json_null(p, "t1_ns");
	assert_json_null(p, "rtt_ns");

	/* Corrupt timestamps (A10): the reply arrived, its delays are not trusted. */
	p = json_object_array_get_idx(arr, 8);
	assert_json_bool(p, "ts_valid", 0);
	assert_json_bool(p, "lost", 0);
	assert_json_null(p, "rtt_ns");
	assert_json_null(p, "proc_ns");
	assert_json_int(p, "t4_ns", T0 + 5070000);
	json_object_put(root);
}

static void test_json_summary(void **state)
{
	struct fixture *fx = *state;
	json_object *root = parse_json(&fx->r), *sum = get(root, "summary"), *s, *d;

	assert_int_equal(json_object_object_length(sum), 3); /* twamp, icmp, schedule */

	s = get(sum, "twamp");
	assert_summary_keys(s);
	assert_json_int(s, "sent", 5);
	assert_json_int(s, "received", 4);
	assert_json_int(s, "lost", 1);
	assert_json_double(s, "loss_pct", 20.0);
	assert_json_int(s, "duplicates", 1);
	assert_json_int(s, "reordered", 0);
	assert_json_int(s, "skipped", 1);
	assert_json_int(s, "invalid_ts", 1);
	assert_json_null(s, "loss_split"); /* refl_seq == seq: not separable */
	assert_json_bool(s, "one_way_valid", 1);
	d = get(s, "rtt_ms");
	assert_dist_keys(d, 3); /* 45, 55, 65 us; the corrupt one excluded */
	assert_json_double(d, "min", 0.045);
	assert_json_double(d, "median", 0.055);
	assert_json_double(d, "max", 0.065);
	assert_json_double(d, "mean", 0.055);
	assert_json_double(d, "sd", 0.01);
	assert_json_double(d, "p25", 0.05);
	assert_json_double(d, "p99", 0.0648); /* h = 1.98 */
	d = get(s, "fwd_ms");
	assert_dist_keys(d, 3);
	assert_json_double(d, "median", 0.025);
	d = get(s, "bwd_ms");
	assert_dist_keys(d, 3);
	assert_json_double(d, "median", 0.03);
	d = get(s, "proc_ms");
	assert_dist_keys(d, 3);
	assert_json_double(d, "median", 0.005);
	d = get(s, "ipdv_ms");
	assert_dist_keys(d, 1); /* only (0,1): 2 lost, 3 skipped, 5 corrupt */
	assert_json_double(d, "median", 0.01);

	s = get(sum, "icmp");
	assert_summary_keys(s);
	assert_json_int(s, "sent", 4);
	assert_json_int(s, "received", 3);
	assert_json_int(s, "lost", 1);
	assert_json_double(s, "loss_pct", 25.0);
	assert_json_int(s, "duplicates", 2);
	assert_json_int(s, "reordered", 1);
	assert_json_int(s, "skipped", 0);
	assert_json_null(s, "loss_split");
	assert_json_bool(s, "one_way_valid", 0);
	assert_json_null(s, "fwd_ms");
	assert_json_null(s, "bwd_ms");
	assert_json_null(s, "proc_ms");
	d = get(s, "rtt_ms");
	assert_dist_keys(d, 3);
	assert_json_double(d, "median", 0.04);
	assert_json_double(d, "p90", 0.048);
	d = get(s, "ipdv_ms");
	assert_dist_keys(d, 1); /* only (2,3): 1 was lost */
	assert_json_double(d, "median", 0.01);

	s = get(sum, "schedule");
	assert_int_equal(json_object_object_length(s), 3);
	assert_json_int(s, "skipped", 1);
	d = get(s, "lateness_us");
	assert_dist_keys(d, 3);
	assert_json_double(d, "median", 2.0);
	assert_json_double(d, "p99", 2.98);
	assert_json_null(s, "send_call_us");
	json_object_put(root);
}

static void test_json_text_form(void **state)
{
	struct fixture *fx = *state;
	char *text = render(&fx->r, OUTPUT_JSON);

	/* Fixed decimals, no binary noise, slashes not escaped. */
	assert_non_null(strstr(text, "\"median\": 0.055000,"));
	assert_non_null(strstr(text, "\"loss_pct\": 20.000000,"));
	assert_non_null(strstr(text, "\"p99\": 2.980,"));
	assert_non_null(strstr(text, "\"interval\": 0.001,"));
	assert_non_null(strstr(text, "\"sd\": 0.010000\n"));
	assert_null(strstr(text, "\"rtt_ns\": 999999999")); /* the corrupt probe's rtt */
	assert_null(strstr(text, "\\/"));
	free(text);
}

static void test_json_variants(void **state)
{
	struct fixture *fx = *state;
	struct result r = fx->r;
	json_object *root, *o, *s;

	/* Only protocols that ran; split shown when known; unknown clock is null. */
	r.have[PROBE_ICMP] = false;
	r.summary[PROBE_TWAMP].loss_split_valid = true;
	r.summary[PROBE_TWAMP].fwd_lost = 1;
	r.summary[PROBE_TWAMP].bwd_lost = 0;
	r.summary[PROBE_TWAMP].one_way_valid = false;
	r.host.clock_status_known = false;
	r.host.ncpu = 0;
	r.start_ns = 0;
	r.target = "[::1]:862";
	r.config = NULL;
	r.n_config = 3;
	root = parse_json(&r);
	o = get(root, "host");
	assert_json_null(o, "clock_synced");
	assert_json_null(o, "clock_max_error_ns");
	assert_json_null(o, "ncpu");
	assert_json_null(root, "start_ns");
	assert_json_str(root, "target", "[::1]:862");
	assert_int_equal(json_object_object_length(get(root, "config")), 0);
	o = get(root, "summary");
	assert_false(json_object_object_get_ex(o, "icmp", NULL));
	s = get(o, "twamp");
	o = get(s, "loss_split");
	assert_json_int(o, "forward", 1);
	assert_json_int(o, "reverse", 0);
	/* Without synchronized clocks one-way figures are withheld. */
	assert_json_null(s, "fwd_ms");
	assert_json_null(s, "bwd_ms");
	json_object_put(root);

	/* An empty run still yields a complete document. */
	memset(&r, 0, sizeof(r));
	root = parse_json(&r);
	assert_json_str(root, "schema", OUTPUT_SCHEMA);
	assert_json_null(root, "target");
	assert_int_equal(json_object_array_length(get(root, "probes")), 0);
	o = get(get(root, "summary"), "schedule");
	assert_json_null(o, "lateness_us");
	assert_json_int(o, "skipped", 0);
	json_object_put(root);
}

/* --- CSV ------------------------------------------------------------------- */

static void test_csv(void **state)
{
	static const char *const want[] = {
		"proto,seq,refl_seq,t1_ns,t2_ns,t3_ns,t4_ns,rtt_ns,fwd_ns,bwd_ns,proc_ns,ttl,lost,dup",
		"twamp,0,0,1700000000000000000,1700000000000020000,1700000000000025000,"
		"1700000000000050000,45000,20000,25000,5000,255,0,0",
		"icmp,0,0,1700000000000500000,,,1700000000000530000,30000,,,,64,0,0",
		"twamp,1,1,1700000000001000000,1700000000001025000,1700000000001030000,"
		"1700000000001060000,55000,25000,30000,5000,255,0,1",
		"icmp,1,,1700000000001500000,,,,,,,,,1,0",
		"twamp,2,,1700000000002000000,,,,,,,,,1,0",
		"icmp,2,2,1700000000002500000,,,1700000000002540000,40000,,,,64,0,0",
		"twamp,3,,,,,,,,,,,0,0",
		"twamp,4,4,1700000000004000000,1700000000004030000,1700000000004035000,"
		"1700000000004070000,65000,30000,35000,5000,255,0,0",
		"twamp,5,5,1700000000005000000,1700000000005030000,1700000000005035000,"
		"1700000000005070000,,,,,255,0,0",
		"icmp,3,3,1700000000005500000,,,1700000000005550000,50000,,,,64,0,2",
	};
	struct fixture *fx = *state;
	char *text = render(&fx->r, OUTPUT_CSV), *line, *save = NULL;
	size_t n = 0;

	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(n < sizeof(want) / sizeof(want[0]));
		assert_string_equal(line, want[n]);
		n++;
	}
	assert_int_equal(n, 11); /* header + one row per probe */
	free(text);
}

/* --- text ------------------------------------------------------------------ */

static void test_text_summary(void **state)
{
	struct fixture *fx = *state;
	char *text = render(&fx->r, OUTPUT_TEXT);
	const char *want =
		"--- 127.0.0.1:18620 twamp statistics ---\n"
		"5 sent, 4 received, 20% loss, 1 duplicates, 0 reordered, 1 skipped, "
		"1 invalid timestamps\n"
		"rtt min/median/max/mean/sd = 0.045/0.055/0.065/0.055/0.010 ms\n"
		"rtt p25/p75/p90/p99 = 0.050/0.060/0.063/0.065 ms\n"
		"one-way fwd/bwd median = 0.025/0.030 ms\n"
		"reflector processing median = 0.005 ms\n"
		"ipdv median/p99 = 0.010/0.010 ms\n"
		"--- 127.0.0.1:18620 icmp statistics ---\n"
		"4 sent, 3 received, 25% loss, 2 duplicates, 1 reordered\n"
		"rtt min/median/max/mean/sd = 0.030/0.040/0.050/0.040/0.010 ms\n"
		"rtt p25/p75/p90/p99 = 0.035/0.045/0.048/0.050 ms\n"
		"ipdv median/p99 = 0.010/0.010 ms\n"
		"schedule: lateness median/p99 = 2.000/2.980 us, 1 skipped\n"
		"interrupted: partial results\n";

	assert_string_equal(text, want);
	free(text);
}

static void test_text_variants(void **state)
{
	struct fixture *fx = *state;
	struct result r = fx->r;
	char *text;

	r.have[PROBE_ICMP] = false;
	r.interrupted = false;
	r.summary[PROBE_TWAMP].one_way_valid = false;
	r.summary[PROBE_TWAMP].loss_split_valid = true;
	r.summary[PROBE_TWAMP].fwd_lost = 1;
	r.summary[PROBE_TWAMP].bwd_lost = 0;
	memset(&r.schedule.lateness, 0, sizeof(r.schedule.lateness));
	text = render(&r, OUTPUT_TEXT);
	assert_non_null(strstr(text, "loss forward/reverse = 1/0\n"));
	assert_non_null(strstr(text, "one-way delays: clocks not synchronized\n"));
	assert_non_null(strstr(text, "schedule: 1 skipped\n"));
	assert_null(strstr(text, "icmp"));
	assert_null(strstr(text, "interrupted"));
	free(text);

	/* Nothing received: counts only, like ping. */
	memset(&r.summary[PROBE_TWAMP], 0, sizeof(r.summary[PROBE_TWAMP]));
	r.summary[PROBE_TWAMP].sent = 3;
	r.summary[PROBE_TWAMP].lost = 3;
	r.summary[PROBE_TWAMP].loss_pct = 100.0;
	text = render(&r, OUTPUT_TEXT);
	assert_non_null(strstr(text, "3 sent, 0 received, 100% loss, 0 duplicates, 0 reordered\n"));
	assert_null(strstr(text, "rtt"));
	free(text);
}

static void test_text_probe(void **state)
{
	static const char *const want =
		"twamp seq=0 rtt=0.045 ms fwd=0.020 ms bwd=0.025 ms proc=0.005 ms ttl=255\n"
		"icmp seq=0 rtt=0.030 ms ttl=64\n"
		"twamp seq=1 rtt=0.055 ms fwd=0.025 ms bwd=0.030 ms proc=0.005 ms ttl=255 (DUP x1)\n"
		"icmp seq=1 lost\n"
		"twamp seq=2 lost\n"
		"icmp seq=2 rtt=0.040 ms ttl=64\n"
		"twamp seq=3 skipped\n"
		"twamp seq=4 rtt=0.065 ms fwd=0.030 ms bwd=0.035 ms proc=0.005 ms ttl=255\n"
		"twamp seq=5 invalid timestamps ttl=255\n"
		"icmp seq=3 rtt=0.050 ms ttl=64 (DUP x2)\n";
	struct fixture *fx = *state;
	char *buf = NULL;
	size_t len = 0, i;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	for (i = 0; i < fx->r.n_probes; i++)
		output_text_probe(f, &fx->probes[i]);
	output_text_probe(f, NULL); /* ignored */
	output_text_probe(NULL, &fx->probes[0]);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(buf, want);
	free(buf);
}

/* --- formats and errors ---------------------------------------------------- */

static void test_format_parse(void **state)
{
	enum output_format f = OUTPUT_CSV;

	(void)state;
	assert_int_equal(output_format_parse("text", &f), 0);
	assert_int_equal(f, OUTPUT_TEXT);
	assert_int_equal(output_format_parse("json", &f), 0);
	assert_int_equal(f, OUTPUT_JSON);
	assert_int_equal(output_format_parse("csv", &f), 0);
	assert_int_equal(f, OUTPUT_CSV);
	assert_int_equal(output_format_parse("JSON", &f), -EINVAL);
	assert_int_equal(output_format_parse("xml", &f), -EINVAL);
	assert_int_equal(output_format_parse("", &f), -EINVAL);
	assert_int_equal(output_format_parse(NULL, &f), -EINVAL);
	assert_int_equal(output_format_parse("csv", NULL), -EINVAL);
	assert_int_equal(f, OUTPUT_CSV);
	assert_string_equal(output_format_name(OUTPUT_TEXT), "text");
	assert_string_equal(output_format_name(OUTPUT_JSON), "json");
	assert_string_equal(output_format_name(OUTPUT_CSV), "csv");
	assert_string_equal(output_format_name((enum output_format)9), "unknown");
}

static void test_write_errors(void **state)
{
	struct fixture *fx = *state;
	FILE *f;

	assert_int_equal(output_write(NULL, OUTPUT_JSON, stdout), -EINVAL);
	assert_int_equal(output_write(&fx->r, OUTPUT_JSON, NULL), -EINVAL);
	f = tmpfile();
	assert_non_null(f);
	assert_int_equal(output_write(&fx->r, (enum output_format)9, f), -EINVAL);
	assert_int_equal(ftell(f), 0); /* nothing written */
	fclose(f);

	/* A stream that cannot take the output reports -EIO, never success. */
	f = fopen("/dev/full", "w");
	if (f) {
		assert_int_equal(output_write(&fx->r, OUTPUT_JSON, f), -EIO);
		assert_int_equal(output_write(&fx->r, OUTPUT_CSV, f), -EIO);
		fclose(f);
	}
	f = fopen("/dev/null", "r");
	assert_non_null(f);
	assert_int_equal(output_write(&fx->r, OUTPUT_TEXT, f), -EIO);
	fclose(f);
}

/* --- host metadata ------------------------------------------------------------ */

static void test_hostinfo_collect(void **state)
{
	struct host_info h;
	struct utsname u;
	char kernel[sizeof(h.kernel)];

	(void)state;
	memset(&h, 0x5a, sizeof(h));
	hostinfo_collect(&h);
	assert_int_equal(uname(&u), 0);
	snprintf(kernel, sizeof(kernel), "%.60s %.60s", u.sysname, u.release);
	assert_string_equal(h.kernel, kernel);
	assert_string_equal(h.machine, u.machine);
	assert_true(h.hostname[0] != '\0' && memchr(h.hostname, '\0', sizeof(h.hostname)));
	assert_true(h.clocksource[0] != '\0' && !strchr(h.clocksource, '\n'));
	assert_true(h.ncpu >= 1);
	/* The program fills the timestamping mode once it knows it. */
	assert_string_equal(h.tstamp_rx, "unknown");
	assert_string_equal(h.tstamp_tx, "unknown");
	if (!h.clock_status_known)
		assert_false(h.clock.synced);
	hostinfo_collect(NULL); /* no crash */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json_top, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_probes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_text_form, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_csv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_variants, setup, teardown),
		cmocka_unit_test_setup_teardown(test_text_probe, setup, teardown),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test_setup_teardown(test_write_errors, setup, teardown),
		cmocka_unit_test(test_hostinfo_collect),
	};

	return cmocka_run_group_tests_name("output", tests, NULL, NULL);
}
