/*
 * Unit tests for common/config.c over a small table with every option type
 * and keys nested two groups deep: defaults, loading (values, exact error
 * messages with line numbers, unknown-key hints, all-or-nothing commit),
 * cfg_set for each type, the canonical writer (exact text, and a reload of
 * it gives the same struct), cfg_load_file, and twamp-server's table and
 * cross-checks.
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

#include "config.h"
#include "server_config.h" /* twamp-server's real table, linked in by the Makefile */

#define S 1000000000LL

struct tcfg {
	int64_t port;
	int64_t refl_wait;
	bool flag;
	int64_t wait;
	int64_t depth;
	char name[16];
	int mode;
	bool refl_stateful;
	struct cfg_string_list hosts;
	struct cfg_int_list ports;
	int64_t big;
	char tail[8];
};

static const char *const mode_names[] = { "fast", "slow", "auto", NULL };

#define T(key_, type_, field_, min_, max_, def_, names_, help_)                             \
	{ key_, type_, offsetof(struct tcfg, field_), sizeof(((struct tcfg *)0)->field_),    \
	  min_, max_, def_, names_, help_ }

/* Group members are interleaved with top-level keys on purpose. */
static const struct cfg_option tab[] = {
	T("port", CFG_INT, port, 1, 65535, "862", NULL, "UDP port"),
	T("reflector.refwait", CFG_DURATION, refl_wait, S, 86400 * S, "900s", NULL, "REFWAIT"),
	T("flag", CFG_BOOL, flag, 0, 0, "yes", NULL, "a flag"),
	T("wait", CFG_DURATION, wait, 1000, 3600 * S, "2s", NULL, "a wait"),
	T("reflector.inner.depth", CFG_INT, depth, 0, 10, "3", NULL, "nesting depth"),
	T("name", CFG_STRING, name, 0, 0, "tk", NULL, "a name"),
	T("mode", CFG_ENUM, mode, 0, 0, "auto", mode_names, "mode"),
	T("reflector.stateful", CFG_BOOL, refl_stateful, 0, 0, NULL, NULL, "stateful reflector"),
	T("hosts", CFG_STRING_LIST, hosts, 0, 3, "a,b", NULL, "hosts"),
	T("ports", CFG_INT_LIST, ports, 1, 65535, "862", NULL, "ports"),
	T("big", CFG_INT, big, -5000000000000LL, 5000000000000LL, "-3000000000", NULL,
	  "a big integer"),
	T("tail", CFG_STRING, tail, 0, 0, NULL, NULL, NULL),
};

#define NTAB (sizeof(tab) / sizeof(tab[0]))

static const char default_canonical[] =
	"# UDP port\n"
	"port = 862;\n"
	"\n"
	"reflector = {\n"
	"    # REFWAIT\n"
	"    refwait = \"15m\";\n"
	"\n"
	"    inner = {\n"
	"        # nesting depth\n"
	"        depth = 3;\n"
	"    };\n"
	"\n"
	"    # stateful reflector\n"
	"    stateful = false;\n"
	"};\n"
	"\n"
	"# a flag\n"
	"flag = true;\n"
	"\n"
	"# a wait\n"
	"wait = \"2s\";\n"
	"\n"
	"# a name\n"
	"name = \"tk\";\n"
	"\n"
	"# mode\n"
	"mode = \"auto\";\n"
	"\n"
	"# hosts\n"
	"hosts = [ \"a\", \"b\" ];\n"
	"\n"
	"# ports\n"
	"ports = [ 862 ];\n"
	"\n"
	"# a big integer\n"
	"big = -3000000000L;\n"
	"\n"
	"tail = \"\";\n";

static char err[CFG_ERR_LEN];

static void defaults(struct tcfg *c)
{
	memset(c, 0, sizeof(*c));
	err[0] = '\0';
	assert_int_equal(cfg_set_defaults(tab, NTAB, c, err, sizeof(err)), 0);
}

static int load(struct tcfg *c, const char *text)
{
	err[0] = '\0';
	return cfg_load_string(tab, NTAB, c, text, "t.cfg", err, sizeof(err));
}

static char *canonical(const struct cfg_option *t, size_t n, const void *obj)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(cfg_write_canonical(t, n, obj, f), 0);
	fclose(f);
	return buf;
}

static void assert_same(const struct tcfg *a, const struct tcfg *b)
{
	size_t i;

	assert_int_equal(a->port, b->port);
	assert_int_equal(a->refl_wait, b->refl_wait);
	assert_int_equal(a->flag, b->flag);
	assert_int_equal(a->wait, b->wait);
	assert_int_equal(a->depth, b->depth);
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->mode, b->mode);
	assert_int_equal(a->refl_stateful, b->refl_stateful);
	assert_int_equal(a->hosts.n, b->hosts.n);
	for (i = 0; i < a->hosts.n; i++)
		assert_string_equal(a->hosts.v[i], b->hosts.v[i]);
	assert_int_equal(a->ports.n, b->ports.n);
	for (i = 0; i < a->ports.n; i++)
		assert_int_equal(a->ports.v[i], b->ports.v[i]);
	assert_int_equal(a->big, b->big);
	assert_string_equal(a->tail, b->tail);
}

static void test_defaults(void **state)
{
	struct tcfg c;

	(void)state;
	defaults(&c);
	assert_int_equal(c.port, 862);
	assert_int_equal(c.refl_wait, 900 * S);
	assert_true(c.flag);
	assert_int_equal(c.wait, 2 * S);
	assert_int_equal(c.depth, 3);
	assert_string_equal(c.name, "tk");
	assert_int_equal(c.mode, 2);
	assert_false(c.refl_stateful); /* NULL default = zero */
	assert_int_equal(c.hosts.n, 2);
	assert_string_equal(c.hosts.v[0], "a");
	assert_string_equal(c.hosts.v[1], "b");
	assert_int_equal(c.ports.n, 1);
	assert_int_equal(c.ports.v[0], 862);
	assert_int_equal(c.big, -3000000000LL);
	assert_string_equal(c.tail, "");
	assert_ptr_equal(cfg_find(tab, NTAB, "reflector.inner.depth"), &tab[4]);
	assert_null(cfg_find(tab, NTAB, "reflector"));
	assert_null(cfg_find(tab, NTAB, "depth"));
}

static void test_bad_defaults(void **state)
{
	static const struct cfg_option bad_range[] = {
		T("port", CFG_INT, port, 1, 65535, "0", NULL, NULL),
	};
	static const struct cfg_option bad_size[] = {
		{ "port", CFG_INT, offsetof(struct tcfg, port), sizeof(int), 1, 2, "1", NULL, NULL },
	};
	static const struct cfg_option bad_enum[] = {
		T("mode", CFG_ENUM, mode, 0, 0, "auto", NULL, NULL),
	};
	struct tcfg c;

	(void)state;
	memset(&c, 0, sizeof(c));
	assert_int_equal(cfg_set_defaults(bad_range, 1, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "bad default: key 'port': 0 is out of range 1..65535");
	assert_int_equal(cfg_set_defaults(bad_size, 1, &c, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "key 'port': table entry has the wrong size");
	assert_int_equal(cfg_set_defaults(bad_enum, 1, &c, err, sizeof(err)), -EINVAL);
	assert_int_equal(cfg_load_string(bad_size, 1, &c, "port = 1;", "x", err, sizeof(err)),
			 -EINVAL);
}

static void test_load_values(void **state)
{
	struct tcfg c;

	(void)state;
	defaults(&c);
	assert_int_equal(load(&c,
			      "# every type\n"
			      "port = 18620;\n"
			      "flag = false;\n"
			      "wait = \"1.5ms\";\n"
			      "name = \"a \\\"b\\\"\";\n"
			      "mode = \"slow\";\n"
			      "hosts = ( \"x\", \"y\", \"z\" );\n"
			      "ports = [ 1, 65535 ];\n"
			      "big = -4999999999999;\n" /* no L: the pre-scan keeps all 64 bits */
			      "reflector = {\n"
			      "  refwait = 2;\n"
			      "  stateful = true;\n"
			      "  inner: { depth = 10; };\n"
			      "};\n"
			      "tail = \"t\";\n"),
			 0);
	assert_string_equal(err, "");
	assert_int_equal(c.port, 18620);
	assert_false(c.flag);
	assert_int_equal(c.wait, 1500000);
	assert_string_equal(c.name, "a \"b\"");
	assert_int_equal(c.mode, 1);
	assert_int_equal(c.hosts.n, 3);
	assert_string_equal(c.hosts.v[2], "z");
	assert_int_equal(c.ports.n, 2);
	assert_int_equal(c.ports.v[1], 65535);
	assert_int_equal(c.big, -4999999999999LL);
	assert_int_equal(c.refl_wait, 2 * S); /* C25: REFWAIT configurable */
	assert_true(c.refl_stateful);
	assert_int_equal(c.depth, 10);
	assert_string_equal(c.tail, "t");
}

/* Keys absent from the file keep their current value; scalars act as one-element lists. */
static void test_load_partial_and_scalar_lists(void **state)
{
	struct tcfg c;

	(void)state;
	defaults(&c);
	assert_int_equal(load(&c, "hosts = \"only\";\nports = 7;\nreflector = {};\n"), 0);
	assert_int_equal(c.hosts.n, 1);
	assert_string_equal(c.hosts.v[0], "only");
	assert_int_equal(c.ports.n, 1);
	assert_int_equal(c.ports.v[0], 7);
	assert_int_equal(c.port, 862);
	assert_int_equal(load(&c, "hosts = [];\nports = ();\n"), 0);
	assert_int_equal(c.hosts.n, 0);
	assert_int_equal(c.ports.n, 0);
	assert_int_equal(load(&c, ""), 0);
	assert_int_equal(load(&c, "# only a comment\n"), 0);
}

struct dur_case {
	const char *text;
	int64_t ns;
};

/* Durations in files: strings, integer seconds, float seconds (exact). */
static void test_load_durations(void **state)
{
	static const struct dur_case cases[] = {
		{ "wait = \"10ms\";", 10000000 },
		{ "wait = \"250us\";", 250000 },
		{ "wait = \"1000000ns\";", 1000000 },
		{ "wait = \"0.001\";", 1000000 },
		{ "wait = 0.001;", 1000000 },
		{ "wait = 0.1;", 100000000 },
		{ "wait = 1.5;", 1500000000 },
		{ "wait = 0.123456789;", 123456789 },
		{ "wait = 3;", 3 * S },
		{ "wait = 3600;", 3600 * S },
		{ "wait = 5.;", 5 * S },
		{ "wait = 2e-3;", 2000000 },
		{ "wait = \"1h\";", 3600 * S },
	};
	struct tcfg c;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		defaults(&c);
		if (load(&c, cases[i].text) != 0)
			fail_msg("'%s': %s", cases[i].text, err);
		if (c.wait != cases[i].ns)
			fail_msg("'%s' gave %lld ns", cases[i].text, (long long)c.wait);
	}
}

struct err_case {
	const char *text;
	int rc;
	const char *msg;
};

static const struct err_case err_cases[] = {
	/* ranges */
	{ "port = 0;", -ERANGE, "t.cfg:1: key 'port': 0 is out of range 1..65535" },
	{ "\n\nport = 70000;", -ERANGE, "t.cfg:3: key 'port': 70000 is out of range 1..65535" },
	{ "port = 4294967297;", -ERANGE,
	  "t.cfg:1: key 'port': 4294967297 is out of range 1..65535" }, /* not wrapped to 1 */
	{ "big = 5000000000001;", -ERANGE,
	  "t.cfg:1: key 'big': 5000000000001 is out of range -5000000000000..5000000000000" },
	{ "port = 99999999999999999999;", -ERANGE,
	  "t.cfg:1: integer 99999999999999999999 is out of range" },
	{ "port = 0x10000000000000000;", -ERANGE,
	  "t.cfg:1: integer 0x10000000000000000 is out of range" },
	{ "wait = \"0s\";", -ERANGE, "t.cfg:1: key 'wait': 0s is out of range 1us..1h" },
	{ "wait = 7200;", -ERANGE, "t.cfg:1: key 'wait': 2h is out of range 1us..1h" },
	{ "wait = -1;", -ERANGE, "t.cfg:1: key 'wait': -1s is out of range 1us..1h" },
	{ "wait = -0.5;", -ERANGE, "t.cfg:1: key 'wait': -0.5s is out of range 1us..1h" },
	{ "wait = 1e300;", -ERANGE, "t.cfg:1: key 'wait': 1e+300s is out of range 1us..1h" },
	{ "wait = \"99999999999999999999s\";", -ERANGE,
	  "t.cfg:1: key 'wait': 99999999999999999999s is out of range 1us..1h" },
	{ "reflector = {\n  inner = {\n    depth = 11;\n  };\n};", -ERANGE,
	  "t.cfg:3: key 'reflector.inner.depth': 11 is out of range 0..10" },
	/* malformed values */
	{ "wait = \"10 ms\";", -EINVAL,
	  "t.cfg:1: key 'wait': '10 ms' is not a duration (such as 10ms, 1.5s, 2m)" },
	{ "wait = \"-1s\";", -EINVAL,
	  "t.cfg:1: key 'wait': '-1s' is not a duration (such as 10ms, 1.5s, 2m)" },
	{ "wait = 1e-10;", -EINVAL,
	  "t.cfg:1: key 'wait': 1e-10 is not a whole number of nanoseconds" },
	{ "mode = \"turbo\";", -EINVAL,
	  "t.cfg:1: key 'mode': unknown value 'turbo' (valid: fast, slow, auto)" },
	{ "name = \"0123456789abcdef\";", -ERANGE,
	  "t.cfg:1: key 'name': value longer than 15 characters" },
	/* wrong types */
	{ "port = \"862\";", -EINVAL, "t.cfg:1: key 'port': expected an integer, got a string" },
	{ "port = 8.5;", -EINVAL, "t.cfg:1: key 'port': expected an integer, got a float" },
	{ "flag = 1;", -EINVAL, "t.cfg:1: key 'flag': expected true or false, got an integer" },
	{ "flag = \"yes\";", -EINVAL, "t.cfg:1: key 'flag': expected true or false, got a string" },
	{ "wait = true;", -EINVAL,
	  "t.cfg:1: key 'wait': expected a duration (a string such as \"10ms\" or seconds), "
	  "got a boolean" },
	{ "name = 5;", -EINVAL, "t.cfg:1: key 'name': expected a string, got an integer" },
	{ "mode = 1;", -EINVAL,
	  "t.cfg:1: key 'mode': expected a string (fast, slow, auto), got an integer" },
	{ "hosts = 5;", -EINVAL, "t.cfg:1: key 'hosts': expected a list of strings, got an integer" },
	{ "ports = \"1\";", -EINVAL,
	  "t.cfg:1: key 'ports': expected a list of integers, got a string" },
	{ "hosts = ( \"a\",\n 5 );", -EINVAL,
	  "t.cfg:2: key 'hosts': element 2: expected a string, got an integer" },
	{ "ports = ( 1,\n\n \"x\" );", -EINVAL,
	  "t.cfg:3: key 'ports': element 2: expected an integer, got a string" },
	{ "ports = [ 1, 0 ];", -ERANGE,
	  "t.cfg:1: key 'ports': element 2: 0 is out of range 1..65535" },
	{ "hosts = [ \"a\", \"b\", \"c\", \"d\" ];", -ERANGE,
	  "t.cfg:1: key 'hosts': more than 3 entries" },
	{ "reflector = 5;", -EINVAL, "t.cfg:1: key 'reflector': expected a group, got an integer" },
	{ "port = { x = 1; };", -EINVAL, "t.cfg:1: key 'port': expected an integer, got a group" },
	/* unknown keys, with and without a hint */
	{ "prot = 5;", -EINVAL, "t.cfg:1: unknown key 'prot' (did you mean 'port'?)" },
	{ "\nflags = true;", -EINVAL, "t.cfg:2: unknown key 'flags' (did you mean 'flag'?)" },
	{ "colour = 5;", -EINVAL, "t.cfg:1: unknown key 'colour'" },
	{ "reflectr = { refwait = 5; };", -EINVAL,
	  "t.cfg:1: unknown key 'reflectr' (did you mean 'reflector'?)" },
	{ "reflector = {\n refwai = 5;\n};", -EINVAL,
	  "t.cfg:2: unknown key 'reflector.refwai' (did you mean 'reflector.refwait'?)" },
	{ "reflector = { inner = { depht = 1; }; };", -EINVAL,
	  "t.cfg:1: unknown key 'reflector.inner.depht' (did you mean 'reflector.inner.depth'?)" },
	{ "refwait = 5;", -EINVAL, "t.cfg:1: unknown key 'refwait'" }, /* only inside its group */
	/* syntax */
	{ "port = 1;\nflag = ;", -EINVAL, "t.cfg:2: syntax error" },
	{ "port = = 1;", -EINVAL, "t.cfg:1: syntax error" },
	{ "wait = \"999ns\";", -ERANGE, "t.cfg:1: key 'wait': 999ns is out of range 1us..1h" },
	{ "port = 1; port = 2;", -EINVAL, "t.cfg:1: syntax error: duplicate setting name" },
	{ "hosts = [ \"a\", 1 ];", -EINVAL, "t.cfg:1: syntax error: mismatched element type in array" },
	{ "\n@include \"/etc/passwd\"\n", -EINVAL, "t.cfg:2: @include is not supported" },
	{ "name = \"unterminated;\n", -EINVAL, "t.cfg:2: syntax error" }, /* at EOF */
};

static void test_load_errors(void **state)
{
	struct tcfg c, before;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(err_cases) / sizeof(err_cases[0]); i++) {
		int rc;

		defaults(&c);
		/* A valid first line proves nothing is committed when a later one fails. */
		before = c;
		rc = load(&c, err_cases[i].text);
		if (rc != err_cases[i].rc || strcmp(err, err_cases[i].msg) != 0)
			fail_msg("case %zu '%s':\n got %d '%s'\nwant %d '%s'", i, err_cases[i].text,
				 rc, err, err_cases[i].rc, err_cases[i].msg);
		assert_memory_equal(&c, &before, sizeof(c));
	}
}

/* Nothing of a file is applied when any setting in it is wrong. */
static void test_load_all_or_nothing(void **state)
{
	struct tcfg c, before;

	(void)state;
	defaults(&c);
	before = c;
	assert_int_equal(load(&c, "port = 1;\nname = \"changed\";\nhosts = [\"q\"];\nmode = \"x\";\n"),
			 -EINVAL);
	assert_string_equal(err, "t.cfg:4: key 'mode': unknown value 'x' (valid: fast, slow, auto)");
	assert_memory_equal(&c, &before, sizeof(c));
}

static void test_cfg_set(void **state)
{
	struct tcfg c;

	(void)state;
	defaults(&c);
#define SET_OK(k, v) do { \
		err[0] = '\0'; \
		assert_int_equal(cfg_set(tab, NTAB, &c, k, v, err, sizeof(err)), 0); \
		assert_string_equal(err, ""); \
	} while (0)
#define SET_BAD(k, v, rc, msg) do { \
		assert_int_equal(cfg_set(tab, NTAB, &c, k, v, err, sizeof(err)), rc); \
		assert_string_equal(err, msg); \
	} while (0)
	SET_OK("port", "1");
	assert_int_equal(c.port, 1);
	SET_OK("port", "+65535");
	assert_int_equal(c.port, 65535);
	SET_BAD("port", "0", -ERANGE, "key 'port': 0 is out of range 1..65535");
	SET_BAD("port", "-1", -ERANGE, "key 'port': -1 is out of range 1..65535");
	SET_BAD("port", "99999999999999999999", -ERANGE,
		"key 'port': 99999999999999999999 is out of range 1..65535");
	SET_BAD("port", "12ab", -EINVAL, "key 'port': '12ab' is not an integer");
	SET_BAD("port", "", -EINVAL, "key 'port': '' is not an integer");
	assert_int_equal(c.port, 65535); /* failures leave the value */
	SET_OK("big", "-5000000000000");
	assert_int_equal(c.big, -5000000000000LL);

	SET_OK("flag", "no");
	assert_false(c.flag);
	SET_OK("flag", "ON");
	assert_true(c.flag);
	SET_OK("flag", "0");
	assert_false(c.flag);
	SET_OK("flag", "true");
	assert_true(c.flag);
	SET_OK("flag", "off");
	assert_false(c.flag);
	SET_OK("flag", "1");
	assert_true(c.flag);
	SET_OK("flag", "False");
	assert_false(c.flag);
	SET_OK("flag", "yes");
	assert_true(c.flag);
	SET_BAD("flag", "maybe", -EINVAL,
		"key 'flag': 'maybe' is not a boolean (yes/no, true/false, on/off, 1/0)");

	SET_OK("wait", "0.001");
	assert_int_equal(c.wait, 1000000);
	SET_OK("reflector.refwait", "2m");
	assert_int_equal(c.refl_wait, 120 * S);
	SET_BAD("reflector.refwait", "500ms", -ERANGE,
		"key 'reflector.refwait': 500ms is out of range 1s..1d");
	SET_BAD("wait", "fast", -EINVAL,
		"key 'wait': 'fast' is not a duration (such as 10ms, 1.5s, 2m)");

	SET_OK("name", "hello world");
	assert_string_equal(c.name, "hello world");
	SET_OK("name", "");
	assert_string_equal(c.name, "");
	SET_BAD("name", "0123456789abcdefg", -ERANGE, "key 'name': value longer than 15 characters");

	SET_OK("mode", "fast");
	assert_int_equal(c.mode, 0);
	SET_BAD("mode", "FAST", -EINVAL, "key 'mode': unknown value 'FAST' (valid: fast, slow, auto)");

	SET_OK("hosts", " p , q,r ");
	assert_int_equal(c.hosts.n, 3);
	assert_string_equal(c.hosts.v[0], "p");
	assert_string_equal(c.hosts.v[1], "q");
	assert_string_equal(c.hosts.v[2], "r");
	SET_OK("hosts", "[::1]:862");
	assert_int_equal(c.hosts.n, 1); /* replaced, not appended */
	assert_string_equal(c.hosts.v[0], "[::1]:862");
	SET_OK("hosts", "");
	assert_int_equal(c.hosts.n, 0);
	SET_BAD("hosts", "a,,b", -EINVAL, "key 'hosts': element 2 is empty");
	SET_BAD("hosts", "a,b,c,d", -ERANGE, "key 'hosts': more than 3 entries");
	assert_int_equal(c.hosts.n, 0);

	SET_OK("ports", "1,2, 3");
	assert_int_equal(c.ports.n, 3);
	assert_int_equal(c.ports.v[2], 3);
	SET_BAD("ports", "1,x", -EINVAL, "key 'ports': element 2: 'x' is not an integer");
	SET_BAD("ports", "1,65536", -ERANGE,
		"key 'ports': element 2: 65536 is out of range 1..65535");

	SET_OK("reflector.inner.depth", "0");
	assert_int_equal(c.depth, 0);
	SET_BAD("prot", "1", -ENOENT, "unknown key 'prot' (did you mean 'port'?)");
	SET_BAD("reflector", "1", -ENOENT, "unknown key 'reflector'");
	SET_BAD("xyzzy", "1", -ENOENT, "unknown key 'xyzzy'");
	SET_BAD("port", NULL, -EINVAL, "key 'port': missing value");
#undef SET_OK
#undef SET_BAD
}

static void test_format_value(void **state)
{
	static const char *const want[NTAB] = {
		"862", "15m", "true", "2s", "3", "tk", "auto", "false", "a,b", "862",
		"-3000000000", "",
	};
	struct tcfg c, d;
	char buf[128];
	size_t i;

	(void)state;
	defaults(&c);
	for (i = 0; i < NTAB; i++) {
		cfg_format_value(&tab[i], &c, buf, sizeof(buf));
		assert_string_equal(buf, want[i]);
	}
	/* Every formatted value is accepted back by cfg_set. */
	assert_int_equal(cfg_set(tab, NTAB, &c, "ports", "1,2,65535", err, sizeof(err)), 0);
	assert_int_equal(cfg_set(tab, NTAB, &c, "wait", "1500ns", err, sizeof(err)), 0);
	memset(&d, 0, sizeof(d));
	for (i = 0; i < NTAB; i++) {
		cfg_format_value(&tab[i], &c, buf, sizeof(buf));
		assert_int_equal(cfg_set(tab, NTAB, &d, tab[i].key, buf, err, sizeof(err)), 0);
	}
	assert_same(&c, &d);
	/* Truncation is safe. */
	cfg_format_value(&tab[8], &c, buf, 2);
	assert_string_equal(buf, "a");
}

static void test_canonical_defaults(void **state)
{
	struct tcfg c;
	char *out;

	(void)state;
	defaults(&c);
	out = canonical(tab, NTAB, &c);
	assert_string_equal(out, default_canonical);
	free(out);
}

static void test_canonical_round_trip(void **state)
{
	struct tcfg c, d;
	char *out, *out2;

	(void)state;
	defaults(&c);
	assert_int_equal(load(&c,
			      "port = 1; flag = false; wait = 0.000123;\n"
			      "name = \"q\\\"\\\\\\t\\n\\x01\\x7f\";\n" /* quote, backslash, controls */
			      "mode = \"fast\"; hosts = [ \"[::1]:862\", \"a b\", \"\" ];\n"
			      "ports = [ 1, 2, 3 ]; big = 4999999999999;\n"
			      "reflector = { stateful = true; refwait = \"86399999999999ns\";\n"
			      "  inner = { depth = 0; }; };\n"
			      "tail = \"\\xc3\\xa9\";\n"),
			 0);
	assert_string_equal(c.name, "q\"\\\t\n\x01\x7f");
	out = canonical(tab, NTAB, &c);
	assert_non_null(strstr(out, "name = \"q\\\"\\\\\\t\\n\\x01\\x7f\";\n"));
	assert_non_null(strstr(out, "big = 4999999999999L;\n"));
	assert_non_null(strstr(out, "wait = \"123us\";\n"));
	assert_non_null(strstr(out, "refwait = \"86399999999999ns\";\n"));
	assert_non_null(strstr(out, "hosts = [ \"[::1]:862\", \"a b\", \"\" ];\n"));

	/* Reload into a struct with other values: everything comes back. */
	memset(&d, 0x5a, sizeof(d));
	assert_int_equal(cfg_set_defaults(tab, NTAB, &d, err, sizeof(err)), 0);
	assert_int_equal(load(&d, out), 0);
	assert_same(&c, &d);
	/* And the output is a fixed point. */
	out2 = canonical(tab, NTAB, &d);
	assert_string_equal(out, out2);
	free(out);
	free(out2);
}

static void test_canonical_io_error(void **state)
{
	struct tcfg c;
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (!f)
		skip();
	defaults(&c);
	assert_int_equal(cfg_write_canonical(tab, NTAB, &c, f), -EIO);
	fclose(f);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/test_config.XXXXXX", dir[64], rel[64], *slash;
	struct tcfg c;
	FILE *f;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs("# test file\nport = 2;\n\nreflector = {\n  inner = { depth = 99; };\n};\n", f);
	fclose(f);

	/* The message names the file as given: run it by a relative name. */
	slash = strrchr(path, '/');
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	snprintf(rel, sizeof(rel), "%s", slash + 1);
	assert_int_equal(chdir(dir), 0);
	defaults(&c);
	assert_int_equal(cfg_load_file(tab, NTAB, &c, rel, err, sizeof(err)), -ERANGE);
	assert_true(strncmp(err, rel, strlen(rel)) == 0);
	assert_string_equal(err + strlen(rel),
			    ":5: key 'reflector.inner.depth': 99 is out of range 0..10");
	assert_int_equal(c.port, 862);

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("port = 2;\nwait = \"10ms\";\n", f);
	fclose(f);
	assert_int_equal(cfg_load_file(tab, NTAB, &c, path, err, sizeof(err)), 0);
	assert_int_equal(c.port, 2);
	assert_int_equal(c.wait, 10000000);

	/* A NUL byte would silently cut libconfig's view of the file. */
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite("port = 3;\n\0port = 4;\n", 1, 21, f);
	fclose(f);
	assert_int_equal(cfg_load_file(tab, NTAB, &c, rel, err, sizeof(err)), -EINVAL);
	assert_true(strstr(err, ": contains a NUL byte (not a text file)") != NULL);
	unlink(path);

	assert_int_equal(cfg_load_file(tab, NTAB, &c, "/nonexistent/x.cfg", err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "/nonexistent/x.cfg: No such file or directory");
	assert_int_equal(cfg_load_file(tab, NTAB, &c, "/", err, sizeof(err)), -EISDIR);
	assert_string_equal(err, "/: Is a directory");
	assert_int_equal(c.port, 2);
}

/* twamp-server's table: the documented defaults (C24 REFWAIT 900 s, H3 port 862). */
static void test_server_defaults(void **state)
{
	struct server_config sc;
	char *out;

	(void)state;
	memset(&sc, 0, sizeof(sc));
	assert_int_equal(cfg_set_defaults(server_config_tab, server_config_tab_len, &sc, err,
					  sizeof(err)),
			 0);
	assert_int_equal(sc.listen.n, 2);
	assert_string_equal(sc.listen.v[0], "0.0.0.0:862");
	assert_string_equal(sc.listen.v[1], "[::]:862");
	assert_true(sc.stateful);
	assert_int_equal(sc.refwait, 900 * S);
	assert_int_equal(sc.max_sessions, 4096);
	assert_string_equal(sc.dscp, "copy");
	assert_int_equal(sc.allow.n, 0);
	assert_string_equal(sc.user, "");
	assert_string_equal(sc.stats_file, "");
	assert_int_equal(sc.stats_interval, 0);
	assert_int_equal(sc.batch, 32);
	assert_false(sc.stamp);
	assert_false(sc.dscp_ecn);
	assert_string_equal(sc.tstamp, "kernel");
	assert_int_equal(sc.log_level, 2); /* LOG_LEVEL_NOTICE */
	assert_string_equal(sc.pid_file, "");
	assert_int_equal(server_config_check(&sc, err, sizeof(err)), 0);
	out = canonical(server_config_tab, server_config_tab_len, &sc);
	assert_non_null(strstr(out, "\nrefwait = \"15m\";\n"));
	assert_non_null(strstr(out, "\nlisten = [ \"0.0.0.0:862\", \"[::]:862\" ];\n"));
	free(out);
}

static void test_server_ranges(void **state)
{
	struct server_config sc;

	(void)state;
	assert_int_equal(cfg_set_defaults(server_config_tab, server_config_tab_len, &sc, err,
					  sizeof(err)),
			 0);
#define SSET(k, v) cfg_set(server_config_tab, server_config_tab_len, &sc, k, v, err, sizeof(err))
	assert_int_equal(SSET("refwait", "2s"), 0); /* C24 test value, C25 */
	assert_int_equal(sc.refwait, 2 * S);
	assert_int_equal(SSET("refwait", "999ms"), -ERANGE);
	assert_string_equal(err, "key 'refwait': 999ms is out of range 1s..1d");
	assert_int_equal(SSET("refwait", "1d"), 0);
	assert_int_equal(SSET("max_sessions", "0"), -ERANGE);
	assert_string_equal(err, "key 'max_sessions': 0 is out of range 1..1000000");
	assert_int_equal(SSET("batch", "1025"), -ERANGE);
	assert_int_equal(SSET("stats_interval", "61m"), -ERANGE);
	assert_string_equal(err, "key 'stats_interval': 61m is out of range 0s..1h");
	assert_int_equal(SSET("log_level", "debug"), 0);
	assert_int_equal(sc.log_level, 4);
	assert_int_equal(SSET("listen", "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17"), -ERANGE);
	assert_string_equal(err, "key 'listen': more than 16 entries");
	assert_int_equal(SSET("max_session", "5"), -ENOENT);
	assert_string_equal(err, "unknown key 'max_session' (did you mean 'max_sessions'?)");
#undef SSET
}

struct check_case {
	const char *key, *value, *msg;
};

static void test_server_check(void **state)
{
	static const struct check_case ok[] = {
		{ "dscp", "0", NULL },
		{ "dscp", "46", NULL },
		{ "dscp", "63", NULL },
		{ "allow", "192.0.2.0/24,2001:db8::/32,10.0.0.1", NULL },
		{ "tstamp", "user", NULL },
		{ "listen", "127.0.0.1:0,[::1]:18620,localhost:862", NULL },
	};
	static const struct check_case bad[] = {
		{ "dscp", "64", "key 'dscp': 64 is out of range 0..63" },
		{ "dscp", "ef", "key 'dscp': 'ef' is neither 'copy' nor 0..63" },
		{ "dscp", "-1", "key 'dscp': '-1' is neither 'copy' nor 0..63" },
		{ "dscp", "", "key 'dscp': '' is neither 'copy' nor 0..63" },
		{ "allow", "10.0.0.0/8,10.0.0.0/33",
		  "key 'allow': '10.0.0.0/33': prefix length out of range" },
		{ "allow", "10.0.0/8", "key 'allow': '10.0.0/8' is not an address prefix (ADDR[/LEN])" },
		{ "tstamp", "hw", "key 'tstamp': unknown value 'hw' (valid: kernel, user)" },
		{ "listen", "127.0.0.1:65536", "key 'listen': '127.0.0.1:65536': port out of range 0..65535" },
	};
	struct server_config sc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(cfg_set_defaults(server_config_tab, server_config_tab_len, &sc, err,
						  sizeof(err)),
				 0);
		assert_int_equal(cfg_set(server_config_tab, server_config_tab_len, &sc, ok[i].key,
					 ok[i].value, err, sizeof(err)),
				 0);
		if (server_config_check(&sc, err, sizeof(err)) != 0)
			fail_msg("%s=%s: %s", ok[i].key, ok[i].value, err);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(cfg_set_defaults(server_config_tab, server_config_tab_len, &sc, err,
						  sizeof(err)),
				 0);
		assert_int_equal(cfg_set(server_config_tab, server_config_tab_len, &sc, bad[i].key,
					 bad[i].value, err, sizeof(err)),
				 0);
		assert_int_equal(server_config_check(&sc, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, bad[i].msg);
	}
	/* An empty listen element can only come from a file. */
	assert_int_equal(cfg_set_defaults(server_config_tab, server_config_tab_len, &sc, err,
					  sizeof(err)),
			 0);
	assert_int_equal(cfg_load_string(server_config_tab, server_config_tab_len, &sc,
					 "listen = [ \"\" ];", "s.cfg", err, sizeof(err)),
			 0);
	assert_int_equal(server_config_check(&sc, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "key 'listen': element 1 is empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_bad_defaults),
		cmocka_unit_test(test_load_values),
		cmocka_unit_test(test_load_partial_and_scalar_lists),
		cmocka_unit_test(test_load_durations),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_all_or_nothing),
		cmocka_unit_test(test_cfg_set),
		cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_canonical_defaults),
		cmocka_unit_test(test_canonical_round_trip),
		cmocka_unit_test(test_canonical_io_error),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_server_ranges),
		cmocka_unit_test(test_server_check),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
