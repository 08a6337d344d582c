/*
 * Unit tests for experiments/matrix.c: the presets and the files shipped in
 * experiments/matrices/ (which must load to the same values), the
 * expansion (exact scenario counts, stable ids, the seeded order pinned to
 * the generator), the probing-time estimate, every validation error with
 * its exact message and line, the tc-style link rate, the reservation
 * booleans, and the JSON round trip of scenarios.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <json-c/json.h>

#include "matrix.h"

#define S 1000000000LL

static char tmpdir[64];

static int setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_matrix.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/m.cfg", tmpdir);
	unlink(path);
	return rmdir(tmpdir);
}

/* Writes text to TMPDIR/m.cfg; returns its path (static buffer). */
static const char *write_cfg(const char *text)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/m.cfg", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* TK_SRCDIR from make check, else the source tree this file was compiled from. */
static void matrix_path(const char *name, char *buf, size_t size)
{
	const char *src = getenv("TK_SRCDIR");
	const char *file = __FILE__, *slash;
	int dir_len;

	if (src && *src) {
		snprintf(buf, size, "%s/experiments/matrices/%s", src, name);
		return;
	}
	slash = strrchr(file, '/');
	dir_len = slash ? (int)(slash - file) : 1;
	snprintf(buf, size, "%.*s/../../experiments/matrices/%s", dir_len, slash ? file : ".", name);
}

static size_t count_true(const bool *v, size_t n)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += v[i];
	return k;
}

/* Every field but the name. */
static void assert_matrix_equal(const struct matrix *a, const struct matrix *b)
{
	size_t i;

	assert_memory_equal(a->reservation, b->reservation, sizeof(a->reservation));
	assert_memory_equal(a->load, b->load, sizeof(a->load));
	assert_memory_equal(a->location, b->location, sizeof(a->location));
	assert_int_equal(a->n_bg_vms, b->n_bg_vms);
	for (i = 0; i < a->n_bg_vms; i++)
		assert_int_equal(a->bg_vms[i], b->bg_vms[i]);
	assert_int_equal(a->n_nic, b->n_nic);
	for (i = 0; i < a->n_nic; i++)
		assert_string_equal(a->nic[i], b->nic[i]);
	assert_int_equal(a->n_freq, b->n_freq);
	for (i = 0; i < a->n_freq; i++)
		assert_int_equal(a->freq_hz[i], b->freq_hz[i]);
	assert_memory_equal(a->proto, b->proto, sizeof(a->proto));
	assert_int_equal(a->probes, b->probes);
	assert_int_equal(a->warmup, b->warmup);
	assert_int_equal(a->repetitions, b->repetitions);
	assert_int_equal(a->seed, b->seed);
	assert_int_equal(a->settle_ns, b->settle_ns);
	assert_int_equal(a->link_rate_bps, b->link_rate_bps);
	assert_int_equal(a->link_burst_bytes, b->link_burst_bytes);
	assert_int_equal(a->link_latency_ns, b->link_latency_ns);
	assert_int_equal(a->cpu_workers, b->cpu_workers);
	assert_int_equal(a->io_workers, b->io_workers);
	assert_int_equal(a->net_streams, b->net_streams);
	assert_int_equal(a->capture, b->capture);
	assert_int_equal(a->keep_pcaps, b->keep_pcaps);
}

static void expand(const struct matrix *m, struct scenario **s, size_t *n)
{
	char err[256] = "";

	assert_int_equal(matrix_expand(m, s, n, err, sizeof(err)), 0);
	assert_string_equal(err, "");
}

static const struct scenario *find_id(const struct scenario *s, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s[i].id, id) == 0)
			return &s[i];
	return NULL;
}

static const struct scenario *must_find(const struct scenario *s, size_t n, const char *id)
{
	const struct scenario *x = find_id(s, n, id);

	if (!x) {
		fail_msg("no scenario %s", id);
		abort();
	}
	return x;
}

/* ---- names ---------------------------------------------------------------- */

static void test_names(void **state)
{
	enum load_type t;
	enum load_location l;
	enum run_proto p;
	int i;

	(void)state;
	for (i = 0; i < LOAD_NTYPES; i++) {
		assert_int_equal(load_type_parse(load_type_name((enum load_type)i), &t), 0);
		assert_int_equal(t, i);
	}
	for (i = 0; i < LOC_NLOCATIONS; i++) {
		assert_int_equal(load_location_parse(load_location_name((enum load_location)i), &l), 0);
		assert_int_equal(l, i);
	}
	for (i = 0; i < RUN_NPROTO; i++) {
		assert_int_equal(run_proto_parse(run_proto_name((enum run_proto)i), &p), 0);
		assert_int_equal(p, i);
	}
	assert_string_equal(load_type_name(LOAD_NETWORK), "network");
	assert_string_equal(load_location_name(LOC_RECEIVER), "receiver");
	assert_string_equal(load_location_name(LOC_NONE), "none");
	assert_string_equal(run_proto_name(RUN_TWAMP), "twamp");
	assert_string_equal(load_type_name(LOAD_NTYPES), "?");
	assert_string_equal(load_location_name(LOC_NLOCATIONS), "?");
	assert_string_equal(run_proto_name(RUN_NPROTO), "?");
	t = LOAD_IO;
	assert_int_equal(load_type_parse("CPU", &t), -EINVAL);
	assert_int_equal(load_type_parse("", &t), -EINVAL);
	assert_int_equal(load_type_parse(NULL, &t), -EINVAL);
	assert_int_equal(t, LOAD_IO); /* untouched on error */
	assert_int_equal(load_location_parse("snd", &l), -EINVAL);
	assert_int_equal(run_proto_parse("udp", &p), -EINVAL);
}

/* ---- presets and files ---------------------------------------------------- */

static void test_preset_quick(void **state)
{
	static struct matrix m;
	char err[256];

	(void)state;
	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "quick");
	assert_true(m.reservation[0] && m.reservation[1]);
	assert_int_equal(count_true(m.load, LOAD_NTYPES), 4);
	assert_false(m.location[LOC_NONE]);
	assert_true(m.location[LOC_SENDER] && m.location[LOC_RECEIVER]);
	assert_int_equal(m.n_bg_vms, 1);
	assert_int_equal(m.bg_vms[0], 4);
	assert_int_equal(m.n_nic, 1);
	assert_string_equal(m.nic[0], "virtio");
	assert_int_equal(m.n_freq, 2);
	assert_int_equal(m.freq_hz[0], 10);
	assert_int_equal(m.freq_hz[1], 1000);
	assert_int_equal(count_true(m.proto, RUN_NPROTO), 3);
	assert_int_equal(m.probes, 100);
	assert_int_equal(m.warmup, 5);
	assert_int_equal(m.repetitions, 1);
	assert_int_equal(m.seed, 1);
	assert_int_equal(m.settle_ns, 2 * S);
	assert_int_equal(m.link_rate_bps, 1000000000LL);
	assert_int_equal(m.link_burst_bytes, 0);
	assert_int_equal(m.link_latency_ns, 10000000LL);
	assert_int_equal(m.cpu_workers, 1);
	assert_int_equal(m.io_workers, 1);
	assert_int_equal(m.net_streams, 1);
	assert_true(m.capture);
	assert_false(m.keep_pcaps);
	assert_int_equal(matrix_max_bg_vms(&m), 4);
}

static void test_preset_ci_paper(void **state)
{
	static struct matrix m;
	static const int paper_bg[] = { 0, 1, 2, 4, 8, 16, 32, 64, 128 };
	char err[256];
	size_t i;

	(void)state;
	assert_int_equal(matrix_preset("ci", &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "ci");
	assert_true(!m.reservation[1] && m.reservation[0]);
	assert_true(m.load[LOAD_NONE] && m.load[LOAD_CPU] && m.load[LOAD_NETWORK] && !m.load[LOAD_IO]);
	assert_true(m.location[LOC_SENDER] && !m.location[LOC_RECEIVER]);
	assert_int_equal(m.n_bg_vms, 1);
	assert_int_equal(m.bg_vms[0], 1);
	assert_int_equal(m.n_freq, 1);
	assert_int_equal(m.freq_hz[0], 100);
	assert_int_equal(m.probes, 50);
	assert_int_equal(m.warmup, 2);
	assert_int_equal(m.settle_ns, S);
	assert_int_equal(matrix_max_bg_vms(&m), 1);

	assert_int_equal(matrix_preset("paper", &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "paper");
	assert_int_equal(m.n_bg_vms, 9);
	for (i = 0; i < 9; i++)
		assert_int_equal(m.bg_vms[i], paper_bg[i]);
	assert_int_equal(m.n_nic, 2);
	assert_string_equal(m.nic[0], "e1000");
	assert_string_equal(m.nic[1], "virtio");
	assert_int_equal(m.n_freq, 2);
	assert_int_equal(m.freq_hz[0], 1);
	assert_int_equal(m.freq_hz[1], 1000);
	assert_int_equal(m.probes, 100);
	assert_int_equal(m.repetitions, 1);
	assert_int_equal(matrix_max_bg_vms(&m), 128);

	assert_int_equal(matrix_preset("huge", &m, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "unknown preset 'huge' (valid: quick, ci, paper)");
	assert_int_equal(matrix_preset(NULL, &m, err, sizeof(err)), -ENOENT);
}

static void test_files_equal_presets(void **state)
{
	static const char *const names[] = { "quick", "ci", "paper" };
	static struct matrix file, preset;
	char path[512], err[512], want[32];
	size_t i;

	(void)state;
	for (i = 0; i < 3; i++) {
		snprintf(want, sizeof(want), "%s.cfg", names[i]);
		matrix_path(want, path, sizeof(path));
		err[0] = '\0';
		assert_int_equal(matrix_load_file(path, &file, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_string_equal(file.name, want);
		assert_int_equal(matrix_preset(names[i], &preset, err, sizeof(err)), 0);
		assert_matrix_equal(&file, &preset);
	}
}

/* ---- expansion ------------------------------------------------------------ */

static void test_expand_counts(void **state)
{
	static struct matrix m;
	struct scenario *s;
	size_t n, i, j, by_load[LOAD_NTYPES];
	double secs = 0;
	char err[256];

	(void)state;
	/* quick: 2 res x 2 freq (none) + 2 res x 3 loads x 2 locations x 1 count x 2 freq. */
	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	expand(&m, &s, &n);
	assert_int_equal(n, 28);
	memset(by_load, 0, sizeof(by_load));
	for (i = 0; i < n; i++) {
		by_load[s[i].load]++;
		assert_int_equal(s[i].index, i);
		assert_int_equal(s[i].probes, 100);
		assert_int_equal(s[i].warmup, 5);
		assert_true(s[i].proto[RUN_PING] && s[i].proto[RUN_ICMP] && s[i].proto[RUN_TWAMP]);
		if (s[i].load == LOAD_NONE) {
			assert_int_equal(s[i].location, LOC_NONE);
			assert_int_equal(s[i].bg_vms, 0);
		} else {
			assert_int_not_equal(s[i].location, LOC_NONE);
			assert_int_equal(s[i].bg_vms, 4);
		}
		for (j = 0; j < i; j++)
			assert_string_not_equal(s[i].id, s[j].id);
		secs += scenario_probe_seconds(&s[i]);
	}
	assert_int_equal(by_load[LOAD_NONE], 4);
	assert_int_equal(by_load[LOAD_CPU], 8);
	assert_int_equal(by_load[LOAD_NETWORK], 8);
	assert_int_equal(by_load[LOAD_IO], 8);
	/* 14 x 2 runs x 10.5 s + 14 x 2 runs x 0.105 s: the figure in quick.cfg. */
	assert_true(secs > 296.94 - 1e-6 && secs < 296.94 + 1e-6);
	free(s);

	assert_int_equal(matrix_preset("ci", &m, err, sizeof(err)), 0);
	expand(&m, &s, &n);
	assert_int_equal(n, 3);
	free(s);

	/* paper: 2 x 2 nic x 2 freq = 8 with no load, 3 x 2 x 2 x 8 counts x 2 x 2 = 384 loaded. */
	assert_int_equal(matrix_preset("paper", &m, err, sizeof(err)), 0);
	expand(&m, &s, &n);
	assert_int_equal(n, 392);
	secs = 0;
	for (i = 0; i < n; i++) {
		assert_false(s[i].load != LOAD_NONE && s[i].bg_vms == 0);
		secs += scenario_probe_seconds(&s[i]);
	}
	assert_true(secs > 41201.16 - 1e-6 && secs < 41201.16 + 1e-6);
	free(s);

	/* Repetitions multiply and number from 1. */
	assert_int_equal(matrix_preset("ci", &m, err, sizeof(err)), 0);
	m.repetitions = 3;
	expand(&m, &s, &n);
	assert_int_equal(n, 9);
	assert_non_null(find_id(s, n, "res0-cpu-snd-n001-virtio-f100-r3"));
	assert_null(find_id(s, n, "res0-cpu-snd-n001-virtio-f100-r0"));
	assert_null(find_id(s, n, "res0-cpu-snd-n001-virtio-f100-r4"));
	free(s);
}

static void test_expand_ids(void **state)
{
	static struct matrix m;
	const struct scenario *x;
	struct scenario *s;
	size_t n;
	char err[256];

	(void)state;
	assert_int_equal(matrix_preset("paper", &m, err, sizeof(err)), 0);
	expand(&m, &s, &n);
	x = must_find(s, n, "res1-cpu-snd-n008-virtio-f1000-r1");
	assert_true(x->reservation);
	assert_int_equal(x->load, LOAD_CPU);
	assert_int_equal(x->location, LOC_SENDER);
	assert_int_equal(x->bg_vms, 8);
	assert_string_equal(x->nic, "virtio");
	assert_int_equal(x->freq_hz, 1000);
	assert_int_equal(x->rep, 1);
	x = must_find(s, n, "res0-network-rcv-n128-e1000-f1-r1");
	assert_int_equal(x->location, LOC_RECEIVER);
	x = must_find(s, n, "res0-none-n000-e1000-f1-r1");
	assert_int_equal(x->load, LOAD_NONE);
	assert_int_equal(x->location, LOC_NONE);
	assert_non_null(find_id(s, n, "res1-io-rcv-n001-e1000-f1000-r1"));
	/* 0 background VMs appears only with load none. */
	assert_null(find_id(s, n, "res0-cpu-snd-n000-e1000-f1-r1"));
	free(s);
}

static void test_expand_order(void **state)
{
	static struct matrix m;
	struct scenario *a, *b;
	size_t na, nb, i, same = 0;
	char err[256];

	(void)state;
	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	expand(&m, &a, &na);
	expand(&m, &b, &nb);
	assert_int_equal(na, nb);
	for (i = 0; i < na; i++)
		assert_string_equal(a[i].id, b[i].id);
	/* Pinned: splitmix64 + Fisher-Yates must give this order on every platform. */
	assert_string_equal(a[0].id, "res0-network-rcv-n004-virtio-f10-r1");
	free(b);

	m.seed = 2;
	expand(&m, &b, &nb);
	assert_int_equal(na, nb);
	for (i = 0; i < na; i++) {
		same += strcmp(a[i].id, b[i].id) == 0;
		assert_non_null(find_id(a, na, b[i].id)); /* a permutation of the same set */
		assert_int_equal(b[i].index, i);
	}
	assert_true(same < na / 2);
	free(a);
	free(b);
}

static void test_expand_invalid(void **state)
{
	static struct matrix m;
	struct scenario *s = (struct scenario *)1;
	size_t n = 7;
	char err[256];

	(void)state;
	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	m.proto[RUN_PING] = m.proto[RUN_ICMP] = m.proto[RUN_TWAMP] = false;
	assert_int_equal(matrix_expand(&m, &s, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "matrix 'quick' is not valid");
	assert_null(s);
	assert_int_equal(n, 0);

	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	m.n_freq = 0;
	assert_int_equal(matrix_expand(&m, &s, &n, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "matrix 'quick' has no scenarios");

	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	m.freq_hz[0] = 0;
	assert_int_equal(matrix_expand(&m, &s, &n, err, sizeof(err)), -EINVAL);
	m.freq_hz[0] = 10;
	m.n_bg_vms = MATRIX_MAX_VALUES + 1;
	assert_int_equal(matrix_expand(&m, &s, &n, err, sizeof(err)), -EINVAL);
	m.n_bg_vms = 1;
	m.bg_vms[0] = MATRIX_MAX_BG_VMS + 1;
	assert_int_equal(matrix_expand(&m, &s, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(matrix_expand(NULL, &s, &n, err, sizeof(err)), -EINVAL);
	assert_int_equal(matrix_expand(&m, NULL, &n, err, sizeof(err)), -EINVAL);
}

static void test_probe_seconds(void **state)
{
	struct scenario s;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.probes = 100;
	s.warmup = 5;
	s.freq_hz = 10;
	s.proto[RUN_PING] = s.proto[RUN_ICMP] = s.proto[RUN_TWAMP] = true;
	assert_true(scenario_probe_seconds(&s) == 21.0); /* ping, then icmp+twamp together */
	s.proto[RUN_ICMP] = false;
	assert_true(scenario_probe_seconds(&s) == 21.0);
	s.proto[RUN_PING] = false;
	assert_true(scenario_probe_seconds(&s) == 10.5);
	s.proto[RUN_TWAMP] = false;
	s.proto[RUN_PING] = true;
	assert_true(scenario_probe_seconds(&s) == 10.5);
	s.proto[RUN_PING] = false;
	assert_true(scenario_probe_seconds(&s) == 0.0);
	s.proto[RUN_ICMP] = true;
	s.freq_hz = 1000;
	s.warmup = 0;
	assert_true(scenario_probe_seconds(&s) == 0.1);
	s.freq_hz = 0;
	assert_true(scenario_probe_seconds(&s) == 0.0);
}

/* ---- loading and validation ----------------------------------------------- */

static void test_load_values(void **state)
{
	static struct matrix m;
	char err[256];
	const char *p;

	(void)state;
	/* Keys not given keep the quick preset's values; lists come out sorted. */
	p = write_cfg("freq_hz = [1000, 1, 50];\n"
		      "bg_vms = [32, 1, 8];\n"
		      "nic = [\"veth\", \"e1000\"];\n"
		      "protocols = \"twamp\";\n"
		      "reservation = [\"with\"];\n"
		      "settle = 0.5;\n"
		      "link_latency = \"250us\";\n"
		      "link_burst = 65536;\n"
		      "seed = 12345678901;\n"
		      "capture = true; keep_pcaps = true;\n");
	assert_int_equal(matrix_load_file(p, &m, err, sizeof(err)), 0);
	assert_string_equal(m.name, "m.cfg");
	assert_int_equal(m.n_freq, 3);
	assert_int_equal(m.freq_hz[0], 1);
	assert_int_equal(m.freq_hz[1], 50);
	assert_int_equal(m.freq_hz[2], 1000);
	assert_int_equal(m.n_bg_vms, 3);
	assert_int_equal(m.bg_vms[0], 1);
	assert_int_equal(m.bg_vms[2], 32);
	assert_int_equal(m.n_nic, 2);
	assert_string_equal(m.nic[0], "e1000");
	assert_string_equal(m.nic[1], "veth");
	assert_true(m.proto[RUN_TWAMP] && !m.proto[RUN_ICMP] && !m.proto[RUN_PING]);
	assert_true(m.reservation[1] && !m.reservation[0]);
	assert_int_equal(m.settle_ns, S / 2);
	assert_int_equal(m.link_latency_ns, 250000);
	assert_int_equal(m.link_burst_bytes, 65536);
	assert_int_equal(m.seed, 12345678901ULL);
	assert_true(m.keep_pcaps);
	assert_int_equal(m.probes, 100); /* default */

	/* Load none alone needs neither background VMs nor a location. */
	p = write_cfg("load_type = [\"none\"];\nbg_vms = [];\nload_location = [];\n");
	assert_int_equal(matrix_load_file(p, &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_bg_vms, 0);
	assert_int_equal(matrix_max_bg_vms(&m), 0);
	/* bg_vms counts unused by load none do not size the testbed. */
	p = write_cfg("load_type = [\"none\"];\nbg_vms = [64];\n");
	assert_int_equal(matrix_load_file(p, &m, err, sizeof(err)), 0);
	assert_int_equal(matrix_max_bg_vms(&m), 0);
}

static void test_load_reservation(void **state)
{
	static const struct {
		const char *text;
		bool without, with;
	} ok[] = {
		{ "reservation = [true, false];", true, true },
		{ "reservation = true;", false, true },
		{ "reservation = FALSE", true, false }, /* no terminator, case-insensitive */
		{ "reservation = [\n  # true would be a comment\n  True /* false */ ];", false, true },
		{ "reservation = ( \"without\", true );", true, true },
		{ "reservation = [\"no\", \"Yes\"];", true, true },
		{ "reservation : [\"false\"];", true, false },
		/* Only reservation's own value is rewritten. */
		{ "capture = false;\nreservation = [true];\nkeep_pcaps = false;", false, true },
	};
	static struct matrix m;
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		err[0] = '\0';
		assert_int_equal(matrix_load_file(write_cfg(ok[i].text), &m, err, sizeof(err)), 0);
		assert_string_equal(err, "");
		assert_int_equal(m.reservation[0], ok[i].without);
		assert_int_equal(m.reservation[1], ok[i].with);
	}
	/* capture stayed a boolean (false), not a string, in the last case. */
	assert_false(m.capture);
}

struct bad_case {
	const char *text;
	int rc;
	const char *msg; /* after "PATH:" */
};

static void test_load_errors(void **state)
{
	static const struct bad_case bad[] = {
		/* From config.c's table. */
		{ "probez = 1;", -EINVAL, "1: unknown key 'probez' (did you mean 'probes'?)" },
		{ "link = { rate = \"1gbit\"; };", -EINVAL, "1: unknown key 'link'" },
		{ "\n\nprobes = 0;", -ERANGE, "3: key 'probes': 0 is out of range 1..100000" },
		{ "warmup = 10001;", -ERANGE, "1: key 'warmup': 10001 is out of range 0..10000" },
		{ "repetitions = 101;", -ERANGE,
		  "1: key 'repetitions': 101 is out of range 1..100" },
		{ "bg_vms = [1,\n 200];", -ERANGE,
		  "2: key 'bg_vms': element 2: 200 is out of range 0..128" },
		{ "freq_hz = [0];", -ERANGE, "1: key 'freq_hz': element 1: 0 is out of range 1..10000" },
		{ "probes = \"100\";", -EINVAL, "1: key 'probes': expected an integer, got a string" },
		{ "capture = 1;", -EINVAL, "1: key 'capture': expected true or false, got an integer" },
		{ "settle = \"2 s\";", -EINVAL,
		  "1: key 'settle': '2 s' is not a duration (such as 10ms, 1.5s, 2m)" },
		{ "link_latency = \"10us\";", -ERANGE,
		  "1: key 'link_latency': 10us is out of range 100us..10s" },
		{ "reservation = [1];", -EINVAL,
		  "1: key 'reservation': element 1: expected a string, got an integer" },
		{ "probes = 100\nwarmup = ;", -EINVAL, "2: syntax error" },
		/* Names inside lists. */
		{ "load_type = [\"cpu\", \"gpu\"];", -EINVAL,
		  "1: key 'load_type': element 2: unknown value 'gpu' (valid: none, cpu, network, io)" },
		{ "load_location = [\"none\"];", -EINVAL,
		  "1: key 'load_location': element 1: unknown value 'none' (valid: sender, receiver)" },
		{ "nic = [\"virtio\", \"rtl8139\"];", -EINVAL,
		  "1: key 'nic': element 2: unknown value 'rtl8139' (valid: e1000, virtio, veth)" },
		{ "protocols = [\"icmp\", \"owamp\"];", -EINVAL,
		  "1: key 'protocols': element 2: unknown value 'owamp' (valid: ping, icmp, twamp)" },
		{ "reservation = [\"maybe\"];", -EINVAL,
		  "1: key 'reservation': element 1: unknown value 'maybe' "
		  "(valid: no, yes, false, true, without, with)" },
		/* Duplicates, with the line of the repeated element. */
		{ "nic = [\"virtio\",\n  \"e1000\",\n  \"virtio\"];", -EINVAL,
		  "3: key 'nic': element 3: 'virtio' is given twice" },
		{ "bg_vms = [8, 1, 8];", -EINVAL, "1: key 'bg_vms': element 3: 8 is given twice" },
		{ "freq_hz = [1000, 10, 1000];", -EINVAL,
		  "1: key 'freq_hz': element 3: 1000 is given twice" },
		{ "protocols = [\"ping\", \"ping\"];", -EINVAL,
		  "1: key 'protocols': element 2: 'ping' is given twice" },
		{ "load_type = [\"io\", \"io\"];", -EINVAL,
		  "1: key 'load_type': element 2: 'io' is given twice" },
		{ "reservation = [\"no\", \"without\"];", -EINVAL,
		  "1: key 'reservation': element 2: 'without' is given twice" },
		{ "reservation = [true,\n true];", -EINVAL,
		  "2: key 'reservation': element 2: 'yes' is given twice" },
		{ "bg_vms = [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16];", -ERANGE,
		  "1: key 'bg_vms': more than 16 entries" },
		{ "nic = [\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\",\"l\","
		  "\"m\",\"n\",\"o\",\"p\",\"q\"];", -ERANGE, "1: key 'nic': more than 16 entries" },
		/* Nothing to run. */
		{ "protocols = [];", -EINVAL,
		  "1: key 'protocols': empty list, select at least one of ping, icmp, twamp" },
		{ "\nnic = [];", -EINVAL, "2: key 'nic': empty list, nothing would run" },
		{ "freq_hz = [];", -EINVAL, "1: key 'freq_hz': empty list, nothing would run" },
		{ "reservation = [];", -EINVAL, "1: key 'reservation': empty list, nothing would run" },
		{ "load_type = [];", -EINVAL, "1: key 'load_type': empty list, nothing would run" },
		/* Impossible combinations: the key's line, else a related key's, else 0. */
		{ "probes = 100;\nload_type = [\"cpu\"];\nbg_vms = [0];", -EINVAL,
		  "2: key 'load_type': cpu needs background VMs, but bg_vms has none above 0" },
		{ "\nbg_vms = [0];", -EINVAL,
		  "2: key 'load_type': cpu needs background VMs, but bg_vms has none above 0" },
		{ "load_type = [\"none\", \"io\"];\nbg_vms = [];", -EINVAL,
		  "1: key 'load_type': io needs background VMs, but bg_vms has none above 0" },
		{ "load_type = [\"network\"];\n\nload_location = [];", -EINVAL,
		  "3: key 'load_location': empty list, but load_type network needs a location "
		  "(sender, receiver)" },
		{ "\nload_location = [];", -EINVAL,
		  "2: key 'load_location': empty list, but load_type cpu needs a location "
		  "(sender, receiver)" },
		{ "capture = false;\nkeep_pcaps = true;", -EINVAL,
		  "2: key 'keep_pcaps': true needs capture = true" },
		{ "capture = false;\n\nkeep_pcaps = 1;", -EINVAL,
		  "3: key 'keep_pcaps': expected true or false, got an integer" },
		/* Link rate. */
		{ "link_rate = \"1gib\";", -EINVAL,
		  "1: key 'link_rate': '1gib' is not a rate (such as 100mbit, 1gbit; \"0\" = unshaped)" },
		{ "link_rate = \"\";", -EINVAL,
		  "1: key 'link_rate': '' is not a rate (such as 100mbit, 1gbit; \"0\" = unshaped)" },
		{ "link_rate = \"-1gbit\";", -EINVAL,
		  "1: key 'link_rate': '-1gbit' is not a rate (such as 100mbit, 1gbit; \"0\" = unshaped)" },
		{ "link_rate = \"1.5bit\";", -EINVAL,
		  "1: key 'link_rate': '1.5bit' is not a rate (such as 100mbit, 1gbit; \"0\" = unshaped)" },
		{ "link_rate = \"10tbit\";", -ERANGE,
		  "1: key 'link_rate': 10tbit is out of range 1kbit..1tbit (0 = unshaped)" },
		{ "link_rate = \"999bit\";", -ERANGE,
		  "1: key 'link_rate': 999bit is out of range 1kbit..1tbit (0 = unshaped)" },
		{ "link_rate = \"99999999999999999999gbit\";", -ERANGE,
		  "1: key 'link_rate': 99999999999999999999gbit is out of range 1kbit..1tbit "
		  "(0 = unshaped)" },
		{ "link_rate = 1000000;", -EINVAL,
		  "1: key 'link_rate': expected a string, got an integer" },
	};
	static struct matrix m, before;
	char err[512], want[512];
	const char *p;
	size_t i;

	(void)state;
	assert_int_equal(matrix_preset("ci", &before, err, sizeof(err)), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		m = before;
		p = write_cfg(bad[i].text);
		snprintf(want, sizeof(want), "%s:%s", p, bad[i].msg);
		err[0] = '\0';
		int rc = matrix_load_file(p, &m, err, sizeof(err));
		if (rc != bad[i].rc || strcmp(err, want) != 0)
			fail_msg("case %zu (%s): rc %d, '%s'", i, bad[i].text, rc, err);
		assert_matrix_equal(&m, &before); /* all or nothing */
		assert_string_equal(m.name, "ci");
	}
}

static void test_load_file_errors(void **state)
{
	static struct matrix m;
	char err[512], want[512], path[160];
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/missing.cfg", tmpdir);
	assert_int_equal(matrix_load_file(path, &m, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", path);
	assert_string_equal(err, want);
	assert_int_equal(matrix_load_file(NULL, &m, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "no matrix file name");

	snprintf(path, sizeof(path), "%s/m.cfg", tmpdir);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite("probes = 1;\0", 1, 12, f), 12);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(matrix_load_file(path, &m, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s: contains a NUL byte (not a text file)", path);
	assert_string_equal(err, want);

	write_cfg("@include \"/etc/passwd\"\n");
	assert_int_equal(matrix_load_file(path, &m, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:1: @include is not supported", path);
	assert_string_equal(err, want);
}

static void test_link_rate(void **state)
{
	static const struct {
		const char *text;
		int64_t bps;
	} ok[] = {
		{ "0", 0 },
		{ "0bit", 0 },
		{ "1gbit", 1000000000LL },
		{ "1GBit", 1000000000LL },
		{ "100mbit", 100000000LL },
		{ "1.5mbit", 1500000LL },
		{ "2500000", 2500000LL },
		{ "1000bit", 1000 },
		{ "1kbit", 1000 },
		{ "1mibit", 1048576LL },
		{ "1.5kibit", 1536 },
		{ "10kbps", 80000LL }, /* tc: bps are bytes per second */
		{ "1.25gbps", 10000000000LL },
		{ "1tbit", 1000000000000LL },
		{ "0.000000001tbit", 1000 },
	};
	static struct matrix m;
	char text[64], err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		snprintf(text, sizeof(text), "link_rate = \"%s\";", ok[i].text);
		err[0] = '\0';
		if (matrix_load_file(write_cfg(text), &m, err, sizeof(err)) != 0)
			fail_msg("%s: %s", ok[i].text, err);
		assert_int_equal(m.link_rate_bps, ok[i].bps);
	}
}

/* ---- JSON ----------------------------------------------------------------- */

static void assert_scenario_equal(const struct scenario *a, const struct scenario *b)
{
	assert_string_equal(a->id, b->id);
	assert_int_equal(a->index, b->index);
	assert_int_equal(a->reservation, b->reservation);
	assert_int_equal(a->load, b->load);
	assert_int_equal(a->location, b->location);
	assert_int_equal(a->bg_vms, b->bg_vms);
	assert_string_equal(a->nic, b->nic);
	assert_int_equal(a->freq_hz, b->freq_hz);
	assert_int_equal(a->rep, b->rep);
	assert_memory_equal(a->proto, b->proto, sizeof(a->proto));
	assert_int_equal(a->probes, b->probes);
	assert_int_equal(a->warmup, b->warmup);
}

static void test_json_round_trip(void **state)
{
	static struct matrix m;
	struct scenario *s, back;
	json_object *o;
	size_t n, i;
	char err[256];

	(void)state;
	assert_int_equal(matrix_preset("paper", &m, err, sizeof(err)), 0);
	expand(&m, &s, &n);
	for (i = 0; i < n; i++) {
		o = scenario_to_json(&s[i], NULL);
		assert_non_null(o);
		memset(&back, 0x55, sizeof(back));
		assert_int_equal(scenario_from_json(o, &back), 0);
		assert_scenario_equal(&s[i], &back);
		json_object_put(o);
	}

	/* Exact text of one scenario, the netns backend renaming the NIC. */
	const struct scenario *x = must_find(s, n, "res1-cpu-snd-n008-virtio-f1000-r1");
	o = scenario_to_json(x, "veth");
	char want[512];
	snprintf(want, sizeof(want),
		 "{\"id\":\"res1-cpu-snd-n008-virtio-f1000-r1\",\"index\":%zu,\"reservation\":true,"
		 "\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,\"nic\":\"veth\","
		 "\"matrix_nic\":\"virtio\",\"freq_hz\":1000,\"rep\":1,"
		 "\"protocols\":[\"ping\",\"icmp\",\"twamp\"],\"probes\":100,\"warmup\":5}",
		 x->index);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN), want);
	assert_int_equal(scenario_from_json(o, &back), 0);
	assert_string_equal(back.nic, "veth"); /* what ran */
	assert_string_equal(back.id, x->id);   /* what --resume matches */
	json_object_put(o);
	/* The same NIC name adds nothing. */
	o = scenario_to_json(x, "virtio");
	assert_false(json_object_object_get_ex(o, "matrix_nic", NULL));
	json_object_put(o);
	free(s);
}

static void test_json_from_bad(void **state)
{
	static const char *const bad[] = {
		"[]",
		"{}",
		/* each field wrong in turn */
		"{\"reservation\":\"yes\",\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"gpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"none\",\"load_location\":\"sender\",\"bg_vms\":0,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"none\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":129,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"a-very-long-nic-name\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,"
		"\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":0,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":0,\"protocols\":[],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[\"udp\"],\"probes\":1,"
		"\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[1],\"probes\":1,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":0,\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":-1}",
		"{\"id\":7,\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\","
		"\"bg_vms\":8,\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,"
		"\"warmup\":0}",
		"{\"reservation\":true,\"load_type\":\"cpu\",\"load_location\":\"sender\",\"bg_vms\":8.5,"
		"\"nic\":\"virtio\",\"freq_hz\":10,\"rep\":1,\"protocols\":[],\"probes\":1,\"warmup\":0}",
	};
	static const char good[] =
		"{\"reservation\":false,\"load_type\":\"io\",\"load_location\":\"receiver\",\"bg_vms\":2,"
		"\"nic\":\"e1000\",\"freq_hz\":1,\"rep\":2,\"protocols\":[\"icmp\"],\"probes\":7,"
		"\"warmup\":3}";
	struct scenario s, keep;
	json_object *o;
	size_t i;

	(void)state;
	memset(&keep, 0x11, sizeof(keep));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		o = json_tokener_parse(bad[i]);
		assert_non_null(o);
		s = keep;
		if (scenario_from_json(o, &s) != -EINVAL)
			fail_msg("case %zu accepted: %s", i, bad[i]);
		assert_memory_equal(&s, &keep, sizeof(s)); /* untouched */
		json_object_put(o);
	}
	assert_int_equal(scenario_from_json(NULL, &s), -EINVAL);

	/* id and index are optional. */
	o = json_tokener_parse(good);
	assert_int_equal(scenario_from_json(o, &s), 0);
	assert_string_equal(s.id, "");
	assert_int_equal(s.index, 0);
	assert_false(s.reservation);
	assert_int_equal(s.load, LOAD_IO);
	assert_int_equal(s.location, LOC_RECEIVER);
	assert_int_equal(s.bg_vms, 2);
	assert_string_equal(s.nic, "e1000");
	assert_int_equal(s.freq_hz, 1);
	assert_int_equal(s.rep, 2);
	assert_true(s.proto[RUN_ICMP] && !s.proto[RUN_PING] && !s.proto[RUN_TWAMP]);
	assert_int_equal(s.probes, 7);
	assert_int_equal(s.warmup, 3);
	json_object_put(o);
}

static void test_matrix_json(void **state)
{
	static struct matrix m;
	json_object *o;
	char err[256];

	(void)state;
	assert_int_equal(matrix_preset("ci", &m, err, sizeof(err)), 0);
	o = matrix_to_json(&m);
	assert_non_null(o);
	assert_string_equal(
		json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
		"{\"name\":\"ci\",\"reservation\":[false],\"load_type\":[\"none\",\"cpu\",\"network\"],"
		"\"load_location\":[\"sender\"],\"bg_vms\":[1],\"nic\":[\"virtio\"],\"freq_hz\":[100],"
		"\"protocols\":[\"ping\",\"icmp\",\"twamp\"],\"probes\":50,\"warmup\":2,"
		"\"repetitions\":1,\"seed\":1,\"settle_ns\":1000000000,\"link_rate_bps\":1000000000,"
		"\"link_burst_bytes\":0,\"link_latency_ns\":10000000,\"cpu_workers\":1,"
		"\"io_workers\":1,\"net_streams\":1,\"capture\":true,\"keep_pcaps\":false}");
	json_object_put(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_preset_quick),
		cmocka_unit_test(test_preset_ci_paper),
		cmocka_unit_test(test_files_equal_presets),
		cmocka_unit_test(test_expand_counts),
		cmocka_unit_test(test_expand_ids),
		cmocka_unit_test(test_expand_order),
		cmocka_unit_test(test_expand_invalid),
		cmocka_unit_test(test_probe_seconds),
		cmocka_unit_test(test_load_values),
		cmocka_unit_test(test_load_reservation),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_file_errors),
		cmocka_unit_test(test_link_rate),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_from_bad),
		cmocka_unit_test(test_matrix_json),
	};

	return cmocka_run_group_tests_name("matrix", tests, setup_dir, remove_dir);
}
