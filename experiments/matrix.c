/*
 * The experiment matrix (see matrix.h): a libconfig file mapped through the
 * project's typed option table (common/config.h), so unknown keys, types
 * and ranges are refused with the same "FILE:LINE: key ..." messages as
 * every other configuration file.  The table's defaults are the "quick"
 * preset, and the other presets are short override texts loaded through
 * the very same path as a file, so a preset can never hold a value that a
 * file could not.
 *
 * Keys are flat (no groups): "load_type", "link_rate", ...  What the table
 * cannot express is checked afterwards, with the key's line taken from a
 * second libconfig parse: names inside lists (load types, locations, NIC
 * models, protocols), duplicates, the link rate's tc-style units, and
 * combinations that leave nothing or something impossible to run.
 *
 * "reservation" takes booleans as well as strings, a type the table has no
 * list of; boolean tokens inside its value are rewritten to the strings
 * "yes"/"no" before loading (same line, so line numbers stay right).
 *
 * Run order: scenarios are generated in nested-loop order and then shuffled
 * with Fisher-Yates over splitmix64 seeded with the matrix seed, integer
 * arithmetic only, so the order is the same on every platform.
 */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <libconfig.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "matrix.h"

#define NS_PER_S 1000000000LL
#define NS_PER_MS 1000000LL
#define MATRIX_FILE_MAX (1024 * 1024)
#define MATRIX_MAX_FREQ 10000
#define RATE_MIN_BPS 1000LL                  /* 1kbit: tc refuses less in practice */
#define RATE_MAX_BPS 1000000000000LL         /* 1tbit */

static const char *const load_names[LOAD_NTYPES] = { "none", "cpu", "network", "io" };
static const char *const location_names[LOC_NLOCATIONS] = { "none", "sender", "receiver" };
static const char *const location_short[LOC_NLOCATIONS] = { "none", "snd", "rcv" };
static const char *const proto_names[RUN_NPROTO] = { "ping", "icmp", "twamp" };
/* Canonical order of NIC models in a matrix (and in scenario generation). */
static const char *const nic_names[] = { "e1000", "virtio", "veth" };
#define N_NIC_NAMES (sizeof(nic_names) / sizeof(nic_names[0]))

const char *load_type_name(enum load_type t)
{
	return (unsigned)t < LOAD_NTYPES ? load_names[t] : "?";
}

const char *load_location_name(enum load_location l)
{
	return (unsigned)l < LOC_NLOCATIONS ? location_names[l] : "?";
}

const char *run_proto_name(enum run_proto p)
{
	return (unsigned)p < RUN_NPROTO ? proto_names[p] : "?";
}

static int name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	if (!s)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

int load_type_parse(const char *s, enum load_type *out)
{
	int i = name_index(load_names, LOAD_NTYPES, s);

	if (i < 0)
		return -EINVAL;
	*out = (enum load_type)i;
	return 0;
}

int load_location_parse(const char *s, enum load_location *out)
{
	int i = name_index(location_names, LOC_NLOCATIONS, s);

	if (i < 0)
		return -EINVAL;
	*out = (enum load_location)i;
	return 0;
}

int run_proto_parse(const char *s, enum run_proto *out)
{
	int i = name_index(proto_names, RUN_NPROTO, s);

	if (i < 0)
		return -EINVAL;
	*out = (enum run_proto)i;
	return 0;
}

/* ---- the option table ---------------------------------------------------- */

/* What libconfig maps onto; converted to struct matrix after validation. */
struct matrix_cfg {
	struct cfg_string_list reservation;
	struct cfg_string_list load_type;
	struct cfg_string_list load_location;
	struct cfg_int_list bg_vms;
	struct cfg_string_list nic;
	struct cfg_int_list freq_hz;
	struct cfg_string_list protocols;
	int64_t probes;
	int64_t warmup;
	int64_t repetitions;
	int64_t seed;
	int64_t settle;
	char link_rate[32];
	int64_t link_burst;
	int64_t link_latency;
	int64_t cpu_workers;
	int64_t io_workers;
	int64_t net_streams;
	bool capture;
	bool keep_pcaps;
	struct cfg_string_list libvirt_uri;
	struct cfg_string_list libvirt_bridge;
	char virt_type[8];
	int64_t guest_memory;
	int64_t guest_vcpus;
	char image_cache[256];
	char kernel_package[96];
};

#define OPT(key_, type_, field_, min_, max_, def_, help_)                                    \
	{ key_, type_, offsetof(struct matrix_cfg, field_),                                  \
	  sizeof(((struct matrix_cfg *)0)->field_), min_, max_, def_, NULL, help_ }

/* Defaults = the quick preset (see experiments/matrices/quick.cfg). */
static const struct cfg_option matrix_tab[] = {
	OPT("reservation", CFG_STRING_LIST, reservation, 0, MATRIX_MAX_VALUES, "no,yes",
	    "CPU core reserved for the measurement VM: no/yes (or false/true, without/with)"),
	OPT("load_type", CFG_STRING_LIST, load_type, 0, MATRIX_MAX_VALUES, "none,cpu,network,io",
	    "background load: none (0 VMs), cpu, network, io"),
	OPT("load_location", CFG_STRING_LIST, load_location, 0, MATRIX_MAX_VALUES,
	    "sender,receiver", "where the background VMs run: sender, receiver"),
	OPT("bg_vms", CFG_INT_LIST, bg_vms, 0, MATRIX_MAX_BG_VMS, "4",
	    "numbers of background VMs for the load types other than none (0..128)"),
	OPT("nic", CFG_STRING_LIST, nic, 0, MATRIX_MAX_VALUES, "virtio",
	    "NIC models: e1000, virtio (libvirt); veth (netns records veth anyway)"),
	OPT("freq_hz", CFG_INT_LIST, freq_hz, 1, MATRIX_MAX_FREQ, "10,1000",
	    "probe rates in Hz (1..10000)"),
	OPT("protocols", CFG_STRING_LIST, protocols, 0, MATRIX_MAX_VALUES, "ping,icmp,twamp",
	    "ping (iputils), icmp and twamp (twamp-client, interleaved in one run)"),
	OPT("probes", CFG_INT, probes, 1, 100000, "100", "probes per protocol per run"),
	OPT("warmup", CFG_INT, warmup, 0, 10000, "5",
	    "extra probes sent first and discarded"),
	OPT("repetitions", CFG_INT, repetitions, 1, 100, "1", "runs of every scenario"),
	OPT("seed", CFG_INT, seed, 0, INT64_MAX, "1", "seed of the random run order"),
	OPT("settle", CFG_DURATION, settle, 0, 3600 * NS_PER_S, "2s",
	    "load runs this long before probing starts"),
	OPT("link_rate", CFG_STRING, link_rate, 0, 0, "1gbit",
	    "host link rate, tc units (kbit, mbit, gbit; bps = bytes/s); \"0\" = unshaped"),
	OPT("link_burst", CFG_INT, link_burst, 0, 1073741824, "0",
	    "tbf burst in bytes (0: 1 ms at link_rate, at least 16 KiB)"),
	OPT("link_latency", CFG_DURATION, link_latency, 100000, 10 * NS_PER_S, "10ms",
	    "tbf latency: bound on the link queue"),
	OPT("cpu_workers", CFG_INT, cpu_workers, 0, 64, "1",
	    "stress-ng --cpu workers per background VM (0 = 1)"),
	OPT("io_workers", CFG_INT, io_workers, 1, 64, "1",
	    "stress-ng I/O workers per background VM"),
	OPT("net_streams", CFG_INT, net_streams, 1, 64, "1",
	    "iperf3 parallel streams per background VM pair"),
	OPT("capture", CFG_BOOL, capture, 0, 0, "true",
	    "capture at the six points (VM, bridge, host link; each side)"),
	OPT("keep_pcaps", CFG_BOOL, keep_pcaps, 0, 0, "false",
	    "keep the raw pcaps in the results (needs capture)"),
	OPT("libvirt_uri", CFG_STRING_LIST, libvirt_uri, 0, 2, "qemu:///system",
	    "libvirt: connection URI of the sender's host, then the receiver's (one = both)"),
	OPT("libvirt_bridge", CFG_STRING_LIST, libvirt_bridge, 0, 2, "",
	    "libvirt: existing bridge per host joined by the host link; none = create tk-brs/tk-brr"),
	OPT("virt_type", CFG_STRING, virt_type, 0, 0, "auto",
	    "libvirt: auto (kvm where /dev/kvm works, else qemu), kvm, qemu (TCG emulation)"),
	OPT("guest_memory", CFG_INT, guest_memory, 96, 65536, "192",
	    "libvirt: MiB per guest (Debian's kernel and the initramfs need about 96)"),
	OPT("guest_vcpus", CFG_INT, guest_vcpus, 1, 64, "1", "libvirt: vCPUs per guest"),
	OPT("image_cache", CFG_STRING, image_cache, 0, 0, "/var/cache/twampkit",
	    "libvirt: where the guest kernel and initramfs are kept"),
	OPT("kernel_package", CFG_STRING, kernel_package, 0, 0, "linux-image-amd64",
	    "libvirt: Debian kernel package the guests boot (downloaded, never installed)"),
};

#define MATRIX_TAB_LEN (sizeof(matrix_tab) / sizeof(matrix_tab[0]))

/* Option indices, for line lookups (same order as the table). */
enum {
	K_RESERVATION, K_LOAD_TYPE, K_LOAD_LOCATION, K_BG_VMS, K_NIC, K_FREQ_HZ, K_PROTOCOLS,
	K_PROBES, K_WARMUP, K_REPETITIONS, K_SEED, K_SETTLE, K_LINK_RATE, K_LINK_BURST,
	K_LINK_LATENCY, K_CPU_WORKERS, K_IO_WORKERS, K_NET_STREAMS, K_CAPTURE, K_KEEP_PCAPS,
	K_LIBVIRT_URI, K_LIBVIRT_BRIDGE, K_VIRT_TYPE, K_GUEST_MEMORY, K_GUEST_VCPUS, K_IMAGE_CACHE,
	K_KERNEL_PACKAGE, K_COUNT
};

/* Where each key (and each list element) sits in the file; 0 = absent. */
struct key_lines {
	unsigned key[K_COUNT];
	unsigned elem[K_COUNT][CFG_LIST_MAX];
};

/* ---- presets ------------------------------------------------------------- */

struct preset {
	const char *name;
	const char *text; /* over the defaults; experiments/matrices/NAME.cfg says the same */
};

static const struct preset presets[] = {
	{ "quick", "" },
	{ "ci",
	  "reservation = [\"no\"];\n"
	  "load_type = [\"none\", \"cpu\", \"network\"];\n"
	  "load_location = [\"sender\"];\n"
	  "bg_vms = [1];\n"
	  "freq_hz = [100];\n"
	  "probes = 50;\n"
	  "warmup = 2;\n"
	  "settle = \"1s\";\n" },
	{ "paper",
	  "bg_vms = [0, 1, 2, 4, 8, 16, 32, 64, 128];\n"
	  "nic = [\"e1000\", \"virtio\"];\n"
	  "freq_hz = [1, 1000];\n" },
};

/* ---- messages ------------------------------------------------------------ */

static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Values are quoted as the user wrote them: keep the message on one line. */
static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;
	char *p;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
		for (p = err; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f)
				*p = '?';
	}
	return rc;
}

static unsigned elem_line(const struct key_lines *kl, int k, size_t i)
{
	if (i < CFG_LIST_MAX && kl->elem[k][i])
		return kl->elem[k][i];
	return kl->key[k];
}

/* The first present key's line: the one named, else a related one, else 0. */
static unsigned line_of(const struct key_lines *kl, int k, int related)
{
	if (kl->key[k])
		return kl->key[k];
	return related >= 0 ? kl->key[related] : 0;
}

/* ---- the reservation rewrite (see the file comment) ---------------------- */

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-' || c == '*';
}

/* Skips blanks and comments; returns the next significant character's position. */
static const char *skip_space(const char *p)
{
	for (;;) {
		if (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n' || *p == '\f') {
			p++;
		} else if (*p == '#' || (p[0] == '/' && p[1] == '/')) {
			p += strcspn(p, "\n");
		} else if (p[0] == '/' && p[1] == '*') {
			const char *e = strstr(p + 2, "*/");

			p = e ? e + 2 : p + strlen(p);
		} else {
			return p;
		}
	}
}

static const char *skip_string(const char *p)
{
	for (p++; *p && *p != '"'; p++)
		if (*p == '\\' && p[1])
			p++;
	return *p ? p + 1 : p;
}

/* Start of the value of the top-level setting "reservation", or NULL. */
static const char *find_reservation(const char *text)
{
	const char *p = text;
	int depth = 0;

	for (;;) {
		p = skip_space(p);
		if (!*p)
			return NULL;
		if (*p == '"') {
			p = skip_string(p);
		} else if (*p == '{' || *p == '[' || *p == '(') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']' || *p == ')') {
			depth--;
			p++;
		} else if (is_name_char(*p)) {
			const char *s = p;

			while (is_name_char(*p))
				p++;
			if (depth == 0 && (size_t)(p - s) == 11 && strncmp(s, "reservation", 11) == 0 &&
			    (s == text || !is_name_char(s[-1]))) {
				const char *q = skip_space(p);

				if (*q == '=' || *q == ':')
					return skip_space(q + 1);
			}
		} else {
			p++;
		}
	}
}

/*
 * Copy of text with the boolean tokens of reservation's value (a scalar or
 * one bracketed list) replaced by "yes"/"no".  NULL on allocation failure.
 */
static char *rewrite_reservation(const char *text)
{
	const char *v = find_reservation(text), *p, *end;
	size_t len = strlen(text), o;
	char *out;
	int depth = 0;

	out = malloc(len + len / 2 + 8); /* "no" for "false" shrinks, "yes" for "true" grows by 1 */
	if (!out)
		return NULL;
	if (!v) {
		memcpy(out, text, len + 1);
		return out;
	}
	o = (size_t)(v - text);
	memcpy(out, text, o);
	p = v;
	end = NULL;
	while (*p && !end) {
		const char *q = skip_space(p);

		memcpy(out + o, p, (size_t)(q - p)); /* blanks and comments as they were */
		o += (size_t)(q - p);
		p = q;
		if (!*p)
			break;
		if (*p == '"') {
			q = skip_string(p);
		} else if (*p == '[' || *p == '(') {
			depth++;
			q = p + 1;
		} else if (*p == ']' || *p == ')') {
			depth--;
			q = p + 1;
		} else if (is_name_char(*p)) {
			for (q = p; is_name_char(*q); q++)
				;
			if ((q - p == 4 && strncasecmp(p, "true", 4) == 0) ||
			    (q - p == 5 && strncasecmp(p, "false", 5) == 0)) {
				const char *s = q - p == 4 ? "\"yes\"" : "\"no\"";

				memcpy(out + o, s, strlen(s));
				o += strlen(s);
				p = q;
				if (depth <= 0)
					end = p;
				continue;
			}
		} else {
			q = p + 1;
		}
		memcpy(out + o, p, (size_t)(q - p));
		o += (size_t)(q - p);
		p = q;
		if (depth <= 0)
			end = p; /* the scalar or the closing bracket ends the value */
	}
	memcpy(out + o, p, strlen(p) + 1);
	return out;
}

/* ---- lines of keys and elements ------------------------------------------ */

static void collect_lines(const char *text, struct key_lines *kl)
{
	config_t cfg;
	size_t k;

	memset(kl, 0, sizeof(*kl));
	config_init(&cfg);
	/* Called only once config.c accepted the text: no @include, valid syntax. */
	if (!config_read_string(&cfg, text)) {
		config_destroy(&cfg);
		return;
	}
	for (k = 0; k < K_COUNT; k++) {
		config_setting_t *s = config_lookup(&cfg, matrix_tab[k].key);
		int i, n;

		if (!s)
			continue;
		kl->key[k] = config_setting_source_line(s);
		if (!config_setting_is_aggregate(s))
			continue;
		n = config_setting_length(s);
		for (i = 0; i < n && i < CFG_LIST_MAX; i++) {
			config_setting_t *e = config_setting_get_elem(s, (unsigned)i);

			if (e)
				kl->elem[k][i] = config_setting_source_line(e);
		}
	}
	config_destroy(&cfg);
}

/* ---- link rate ----------------------------------------------------------- */

/*
 * tc(8) rate syntax: a decimal number (fraction allowed) and a unit; bit,
 * kbit, mbit, gbit, tbit (SI), kibit.. tibit (IEC), bps, kbps.. tbps and
 * kibps.. tibps in bytes per second as tc has them; no unit = bit/s.  The
 * result must be a whole number of bit/s.  "0" means unshaped.
 */
static int parse_rate_bps(const char *s, int64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "", 1 }, { "bit", 1 },
		{ "kbit", 1000ULL }, { "mbit", 1000000ULL }, { "gbit", 1000000000ULL },
		{ "tbit", 1000000000000ULL },
		{ "kibit", 1ULL << 10 }, { "mibit", 1ULL << 20 }, { "gibit", 1ULL << 30 },
		{ "tibit", 1ULL << 40 },
		{ "bps", 8 }, { "kbps", 8000ULL }, { "mbps", 8000000ULL }, { "gbps", 8000000000ULL },
		{ "tbps", 8000000000000ULL },
		{ "kibps", 8ULL << 10 }, { "mibps", 8ULL << 20 }, { "gibps", 8ULL << 30 },
		{ "tibps", 8ULL << 40 },
	};
	uint64_t ip = 0, frac = 0, fscale = 1;
	const char *p = s;
	size_t i, nd = 0, nf = 0;

	while (*p >= '0' && *p <= '9') {
		if (ip > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		ip = ip * 10 + (uint64_t)(*p++ - '0');
		nd++;
	}
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9') {
			if (nf >= 9)
				return -EINVAL; /* finer than any unit makes whole */
			frac = frac * 10 + (uint64_t)(*p++ - '0');
			fscale *= 10;
			nf++;
		}
		if (nf == 0)
			return -EINVAL;
	}
	if (nd == 0)
		return -EINVAL;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		uint64_t m = units[i].mult, q = m / fscale, r = m % fscale, whole, part;

		if (strcasecmp(p, units[i].unit) != 0)
			continue;
		if (ip > (uint64_t)INT64_MAX / m)
			return -ERANGE;
		whole = ip * m;
		/* frac / fscale * m, split as frac * q + frac * r / fscale so nothing overflows. */
		if ((frac * r) % fscale != 0)
			return -EINVAL; /* not a whole number of bit/s */
		if (q && frac > (uint64_t)INT64_MAX / q)
			return -ERANGE;
		part = frac * q + frac * r / fscale;
		if (part > (uint64_t)INT64_MAX - whole)
			return -ERANGE;
		*out = (int64_t)(whole + part);
		return 0;
	}
	return -EINVAL;
}

/* ---- conversion and validation ------------------------------------------- */

static int check_dups_int(const struct cfg_int_list *l, int k, const struct key_lines *kl,
			  const char *name, char *err, size_t errlen)
{
	size_t i, j;

	if (l->n > MATRIX_MAX_VALUES)
		return fail(err, errlen, -ERANGE, "%s:%u: key '%s': more than %d entries", name,
			    elem_line(kl, k, MATRIX_MAX_VALUES), matrix_tab[k].key,
			    MATRIX_MAX_VALUES);
	for (i = 1; i < l->n; i++)
		for (j = 0; j < i; j++)
			if (l->v[i] == l->v[j])
				return fail(err, errlen, -EINVAL,
					    "%s:%u: key '%s': element %zu: %" PRId64
					    " is given twice", name, elem_line(kl, k, i),
					    matrix_tab[k].key, i + 1, l->v[i]);
	return 0;
}

static int check_dups_str(const struct cfg_string_list *l, int k, const struct key_lines *kl,
			  const char *name, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 1; i < l->n; i++)
		for (j = 0; j < i; j++)
			if (strcmp(l->v[i], l->v[j]) == 0)
				return fail(err, errlen, -EINVAL,
					    "%s:%u: key '%s': element %zu: '%.32s' is given twice",
					    name, elem_line(kl, k, i), matrix_tab[k].key, i + 1,
					    l->v[i]);
	return 0;
}

static int check_nonempty(size_t n, int k, const struct key_lines *kl, const char *name,
			  const char *why, char *err, size_t errlen)
{
	if (n > 0)
		return 0;
	return fail(err, errlen, -EINVAL, "%s:%u: key '%s': empty list, %s", name, kl->key[k],
		    matrix_tab[k].key, why);
}

/* Looks each element up in names[0..nn); sets flags[index + base]. */
static int names_to_flags(const struct cfg_string_list *l, int k, const char *const *names,
			  size_t nn, size_t base, bool *flags, const char *valid,
			  const struct key_lines *kl, const char *name, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		int x = name_index(names + base, nn - base, l->v[i]);

		if (x < 0)
			return fail(err, errlen, -EINVAL,
				    "%s:%u: key '%s': element %zu: unknown value '%.32s' (valid: %s)",
				    name, elem_line(kl, k, i), matrix_tab[k].key, i + 1, l->v[i],
				    valid);
		flags[(size_t)x + base] = true;
	}
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int reservation_value(const char *s, bool *with)
{
	static const char *const yes[] = { "yes", "with", "true" };
	static const char *const no[] = { "no", "without", "false" };
	size_t i;

	for (i = 0; i < 3; i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*with = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*with = false;
			return 0;
		}
	}
	return -EINVAL;
}

static int cfg_to_matrix(const struct matrix_cfg *c, const struct key_lines *kl, const char *name,
			 struct matrix *m, char *err, size_t errlen)
{
	size_t i, j;
	int64_t bps;
	int rc, t;

	memset(m, 0, sizeof(*m));

	rc = check_nonempty(c->reservation.n, K_RESERVATION, kl, name, "nothing would run", err,
			    errlen);
	if (rc == 0)
		rc = check_dups_str(&c->reservation, K_RESERVATION, kl, name, err, errlen);
	if (rc < 0)
		return rc;
	for (i = 0; i < c->reservation.n; i++) {
		bool with;
		size_t k;

		if (reservation_value(c->reservation.v[i], &with) < 0)
			return fail(err, errlen, -EINVAL,
				    "%s:%u: key 'reservation': element %zu: unknown value '%.32s' "
				    "(valid: no, yes, false, true, without, with)",
				    name, elem_line(kl, K_RESERVATION, i), i + 1,
				    c->reservation.v[i]);
		/* "no" and "without" are different strings but the same value. */
		for (k = 0; k < i; k++) {
			bool prev;

			reservation_value(c->reservation.v[k], &prev);
			if (prev == with)
				return fail(err, errlen, -EINVAL,
					    "%s:%u: key 'reservation': element %zu: '%.32s' is given "
					    "twice", name, elem_line(kl, K_RESERVATION, i), i + 1,
					    c->reservation.v[i]);
		}
		m->reservation[with] = true;
	}

	rc = check_nonempty(c->load_type.n, K_LOAD_TYPE, kl, name, "nothing would run", err,
			    errlen);
	if (rc == 0)
		rc = check_dups_str(&c->load_type, K_LOAD_TYPE, kl, name, err, errlen);
	if (rc == 0)
		rc = names_to_flags(&c->load_type, K_LOAD_TYPE, load_names, LOAD_NTYPES, 0, m->load,
				    "none, cpu, network, io", kl, name, err, errlen);
	if (rc < 0)
		return rc;

	rc = check_dups_str(&c->load_location, K_LOAD_LOCATION, kl, name, err, errlen);
	if (rc == 0)
		rc = names_to_flags(&c->load_location, K_LOAD_LOCATION, location_names,
				    LOC_NLOCATIONS, LOC_SENDER, m->location, "sender, receiver", kl,
				    name, err, errlen);
	if (rc < 0)
		return rc;

	rc = check_dups_int(&c->bg_vms, K_BG_VMS, kl, name, err, errlen);
	if (rc < 0)
		return rc;
	for (i = 0; i < c->bg_vms.n; i++)
		m->bg_vms[i] = (int)c->bg_vms.v[i];
	m->n_bg_vms = c->bg_vms.n;
	qsort(m->bg_vms, m->n_bg_vms, sizeof(m->bg_vms[0]), cmp_int);

	rc = check_nonempty(c->nic.n, K_NIC, kl, name, "nothing would run", err, errlen);
	if (rc == 0)
		rc = check_dups_str(&c->nic, K_NIC, kl, name, err, errlen);
	if (rc < 0)
		return rc;
	{
		bool nic_on[N_NIC_NAMES] = { false };

		rc = names_to_flags(&c->nic, K_NIC, nic_names, N_NIC_NAMES, 0, nic_on,
				    "e1000, virtio, veth", kl, name, err, errlen);
		if (rc < 0)
			return rc;
		for (j = 0; j < N_NIC_NAMES; j++)
			if (nic_on[j])
				snprintf(m->nic[m->n_nic++], sizeof(m->nic[0]), "%s", nic_names[j]);
	}

	rc = check_nonempty(c->freq_hz.n, K_FREQ_HZ, kl, name, "nothing would run", err, errlen);
	if (rc == 0)
		rc = check_dups_int(&c->freq_hz, K_FREQ_HZ, kl, name, err, errlen);
	if (rc < 0)
		return rc;
	for (i = 0; i < c->freq_hz.n; i++)
		m->freq_hz[i] = (int)c->freq_hz.v[i];
	m->n_freq = c->freq_hz.n;
	qsort(m->freq_hz, m->n_freq, sizeof(m->freq_hz[0]), cmp_int);

	rc = check_nonempty(c->protocols.n, K_PROTOCOLS, kl, name,
			    "select at least one of ping, icmp, twamp", err, errlen);
	if (rc == 0)
		rc = check_dups_str(&c->protocols, K_PROTOCOLS, kl, name, err, errlen);
	if (rc == 0)
		rc = names_to_flags(&c->protocols, K_PROTOCOLS, proto_names, RUN_NPROTO, 0, m->proto,
				    "ping, icmp, twamp", kl, name, err, errlen);
	if (rc < 0)
		return rc;

	rc = parse_rate_bps(c->link_rate, &bps);
	if (rc == -ERANGE || (rc == 0 && bps != 0 && (bps < RATE_MIN_BPS || bps > RATE_MAX_BPS)))
		return fail(err, errlen, -ERANGE,
			    "%s:%u: key 'link_rate': %.32s is out of range 1kbit..1tbit (0 = unshaped)",
			    name, kl->key[K_LINK_RATE], c->link_rate);
	if (rc < 0)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key 'link_rate': '%.32s' is not a rate (such as 100mbit, 1gbit; "
			    "\"0\" = unshaped)", name, kl->key[K_LINK_RATE], c->link_rate);
	m->link_rate_bps = bps;

	/* Combinations. */
	for (t = LOAD_CPU; t < LOAD_NTYPES; t++) {
		if (!m->load[t])
			continue;
		if (m->n_bg_vms == 0 || m->bg_vms[m->n_bg_vms - 1] == 0)
			return fail(err, errlen, -EINVAL,
				    "%s:%u: key 'load_type': %s needs background VMs, but bg_vms has "
				    "none above 0", name, line_of(kl, K_LOAD_TYPE, K_BG_VMS),
				    load_names[t]);
		if (!m->location[LOC_SENDER] && !m->location[LOC_RECEIVER])
			return fail(err, errlen, -EINVAL,
				    "%s:%u: key 'load_location': empty list, but load_type %s needs a "
				    "location (sender, receiver)",
				    name, line_of(kl, K_LOAD_LOCATION, K_LOAD_TYPE), load_names[t]);
	}
	if (c->keep_pcaps && !c->capture)
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key 'keep_pcaps': true needs capture = true", name,
			    line_of(kl, K_KEEP_PCAPS, K_CAPTURE));

	m->probes = (int)c->probes;
	m->warmup = (int)c->warmup;
	m->repetitions = (int)c->repetitions;
	m->seed = (uint64_t)c->seed;
	m->settle_ns = c->settle;
	m->link_burst_bytes = c->link_burst;
	m->link_latency_ns = c->link_latency;
	m->cpu_workers = (int)c->cpu_workers;
	m->io_workers = (int)c->io_workers;
	m->net_streams = (int)c->net_streams;
	m->capture = c->capture;
	m->keep_pcaps = c->keep_pcaps;

	if (strcmp(c->virt_type, "auto") && strcmp(c->virt_type, "kvm") && strcmp(c->virt_type, "qemu"))
		return fail(err, errlen, -EINVAL,
			    "%s:%u: key 'virt_type': unknown value '%.32s' (valid: auto, kvm, qemu)",
			    name, kl->key[K_VIRT_TYPE], c->virt_type);
	snprintf(m->virt_type, sizeof(m->virt_type), "%s", c->virt_type);
	if (c->libvirt_uri.n == 0)
		return fail(err, errlen, -EINVAL, "%s:%u: key 'libvirt_uri': empty list, give one URI "
			    "(both sides on one host) or two", name, kl->key[K_LIBVIRT_URI]);
	for (i = 0; i < c->libvirt_uri.n && i < 2; i++) {
		if (strlen(c->libvirt_uri.v[i]) >= sizeof(m->libvirt_uri[0]) ||
		    !strstr(c->libvirt_uri.v[i], ":/"))
			return fail(err, errlen, -EINVAL, "%s:%u: key 'libvirt_uri': element %zu: "
				    "'%.64s' is not a libvirt URI (such as qemu:///system)", name,
				    elem_line(kl, K_LIBVIRT_URI, i), i + 1, c->libvirt_uri.v[i]);
		snprintf(m->libvirt_uri[i], sizeof(m->libvirt_uri[0]), "%s", c->libvirt_uri.v[i]);
	}
	m->n_libvirt_uri = c->libvirt_uri.n;
	if (c->libvirt_bridge.n == 1)
		return fail(err, errlen, -EINVAL, "%s:%u: key 'libvirt_bridge': give none or two "
			    "bridges (sender's host, receiver's host)", name, kl->key[K_LIBVIRT_BRIDGE]);
	for (i = 0; i < c->libvirt_bridge.n && i < 2; i++) {
		const char *b = c->libvirt_bridge.v[i];
		if (!*b || strlen(b) >= sizeof(m->libvirt_bridge[0]) || strspn(b,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != strlen(b))
			return fail(err, errlen, -EINVAL, "%s:%u: key 'libvirt_bridge': element %zu: "
				    "'%.32s' is not an interface name", name,
				    elem_line(kl, K_LIBVIRT_BRIDGE, i), i + 1, b);
		snprintf(m->libvirt_bridge[i], sizeof(m->libvirt_bridge[0]), "%.15s", b);
	}
	m->n_libvirt_bridge = c->libvirt_bridge.n;
	m->guest_memory_mib = (int)c->guest_memory;
	m->guest_vcpus = (int)c->guest_vcpus;
	snprintf(m->image_cache, sizeof(m->image_cache), "%s", c->image_cache);
	snprintf(m->kernel_package, sizeof(m->kernel_package), "%s", c->kernel_package);
	return 0;
}

/* Loads text over the defaults; name is the file name in messages. */
static int load_text(const char *text, const char *name, struct matrix *m, char *err,
		     size_t errlen)
{
	struct matrix_cfg *c = malloc(sizeof(*c));
	struct key_lines *kl = malloc(sizeof(*kl));
	char *fixed = rewrite_reservation(text);
	struct matrix tmp;
	int rc;

	if (!c || !kl || !fixed) {
		rc = fail(err, errlen, -ENOMEM, "%s: out of memory", name);
		goto out;
	}
	rc = cfg_set_defaults(matrix_tab, MATRIX_TAB_LEN, c, err, errlen);
	if (rc == 0)
		rc = cfg_load_string(matrix_tab, MATRIX_TAB_LEN, c, fixed, name, err, errlen);
	if (rc < 0)
		goto out;
	collect_lines(fixed, kl);
	rc = cfg_to_matrix(c, kl, name, &tmp, err, errlen);
	if (rc == 0)
		*m = tmp;
out:
	free(fixed);
	free(kl);
	free(c);
	return rc;
}

int matrix_preset(const char *name, struct matrix *m, char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; name && i < sizeof(presets) / sizeof(presets[0]); i++) {
		if (strcmp(presets[i].name, name) != 0)
			continue;
		rc = load_text(presets[i].text, presets[i].name, m, err, errlen);
		if (rc == 0)
			snprintf(m->name, sizeof(m->name), "%s", presets[i].name);
		return rc;
	}
	return fail(err, errlen, -ENOENT, "unknown preset '%.64s' (valid: quick, ci, paper)",
		    name ? name : "");
}

int matrix_load_file(const char *path, struct matrix *m, char *err, size_t errlen)
{
	const char *base;
	char *buf;
	size_t len = 0, got;
	FILE *f;
	int rc;

	if (!path || !m)
		return fail(err, errlen, -EINVAL, "no matrix file name");
	f = fopen(path, "re");
	if (!f) {
		rc = -errno;
		return fail(err, errlen, rc, "%s: %s", path, strerror(-rc));
	}
	buf = malloc(MATRIX_FILE_MAX + 1);
	if (!buf) {
		fclose(f);
		return fail(err, errlen, -ENOMEM, "%s: out of memory", path);
	}
	while ((got = fread(buf + len, 1, MATRIX_FILE_MAX + 1 - len, f)) > 0)
		len += got;
	if (ferror(f)) {
		rc = fail(err, errlen, -EIO, "%s: read error", path);
	} else if (len > MATRIX_FILE_MAX) {
		rc = fail(err, errlen, -EFBIG, "%s: larger than %d bytes", path, MATRIX_FILE_MAX);
	} else if (memchr(buf, '\0', len)) {
		rc = fail(err, errlen, -EINVAL, "%s: contains a NUL byte (not a text file)", path);
	} else {
		buf[len] = '\0';
		rc = load_text(buf, path, m, err, errlen);
		if (rc == 0) {
			base = strrchr(path, '/');
			snprintf(m->name, sizeof(m->name), "%.63s", base ? base + 1 : path);
		}
	}
	free(buf);
	fclose(f);
	return rc;
}

/* ---- expansion ----------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, bound): rejection of the short top range keeps it unbiased. */
static uint64_t rng_below(uint64_t *state, uint64_t bound)
{
	uint64_t threshold = (0 - bound) % bound, r;

	do
		r = splitmix64(state);
	while (r < threshold);
	return r % bound;
}

static void scenario_make_id(struct scenario *s)
{
	if (s->load == LOAD_NONE)
		snprintf(s->id, sizeof(s->id), "res%d-none-n%03d-%s-f%d-r%d", s->reservation ? 1 : 0,
			 s->bg_vms, s->nic, s->freq_hz, s->rep);
	else
		snprintf(s->id, sizeof(s->id), "res%d-%s-%s-n%03d-%s-f%d-r%d",
			 s->reservation ? 1 : 0, load_type_name(s->load),
			 location_short[s->location], s->bg_vms, s->nic, s->freq_hz, s->rep);
}

static bool matrix_sane(const struct matrix *m)
{
	size_t i;

	if (m->n_bg_vms > MATRIX_MAX_VALUES || m->n_nic > MATRIX_MAX_VALUES ||
	    m->n_freq > MATRIX_MAX_VALUES || m->probes < 1 || m->warmup < 0 || m->repetitions < 1 ||
	    m->repetitions > 100)
		return false;
	for (i = 0; i < m->n_bg_vms; i++)
		if (m->bg_vms[i] < 0 || m->bg_vms[i] > MATRIX_MAX_BG_VMS)
			return false;
	for (i = 0; i < m->n_freq; i++)
		if (m->freq_hz[i] < 1 || m->freq_hz[i] > MATRIX_MAX_FREQ)
			return false;
	for (i = 0; i < m->n_nic; i++)
		if (memchr(m->nic[i], '\0', sizeof(m->nic[i])) == NULL || !m->nic[i][0])
			return false;
	return m->proto[RUN_PING] || m->proto[RUN_ICMP] || m->proto[RUN_TWAMP];
}

/* Appends base once per nic x freq x repetition. */
static void add_cells(const struct matrix *m, const struct scenario *base, struct scenario *v,
		      size_t *k)
{
	size_t nic, f;
	int rep;

	for (nic = 0; nic < m->n_nic; nic++) {
		for (f = 0; f < m->n_freq; f++) {
			for (rep = 1; rep <= m->repetitions; rep++) {
				struct scenario *s = &v[(*k)++];

				*s = *base;
				snprintf(s->nic, sizeof(s->nic), "%s", m->nic[nic]);
				s->freq_hz = m->freq_hz[f];
				s->rep = rep;
				scenario_make_id(s);
			}
		}
	}
}

int matrix_expand(const struct matrix *m, struct scenario **out, size_t *n, char *err,
		  size_t errlen)
{
	struct scenario *v, base;
	size_t cap, k = 0, i, b;
	int res, t, loc;
	uint64_t state;

	if (!m || !out || !n)
		return fail(err, errlen, -EINVAL, "no matrix");
	*out = NULL;
	*n = 0;
	if (!matrix_sane(m))
		return fail(err, errlen, -EINVAL, "matrix '%.64s' is not valid", m->name);
	/* Upper bound: every load type at both locations and every count, none included. */
	cap = 2 * LOAD_NTYPES * 2 * (m->n_bg_vms + 1) * (m->n_nic ? m->n_nic : 1) *
	      (m->n_freq ? m->n_freq : 1) * (size_t)m->repetitions;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return fail(err, errlen, -ENOMEM, "out of memory");

	memset(&base, 0, sizeof(base));
	memcpy(base.proto, m->proto, sizeof(base.proto));
	base.probes = m->probes;
	base.warmup = m->warmup;
	for (res = 0; res < 2; res++) {
		if (!m->reservation[res])
			continue;
		base.reservation = res == 1;
		if (m->load[LOAD_NONE]) {
			base.load = LOAD_NONE;
			base.location = LOC_NONE;
			base.bg_vms = 0;
			add_cells(m, &base, v, &k);
		}
		for (t = LOAD_CPU; t < LOAD_NTYPES; t++) {
			if (!m->load[t])
				continue;
			base.load = (enum load_type)t;
			for (loc = LOC_SENDER; loc < LOC_NLOCATIONS; loc++) {
				if (!m->location[loc])
					continue;
				base.location = (enum load_location)loc;
				for (b = 0; b < m->n_bg_vms; b++) {
					if (m->bg_vms[b] == 0)
						continue; /* 0 VMs is load none */
					base.bg_vms = m->bg_vms[b];
					add_cells(m, &base, v, &k);
				}
			}
		}
	}
	if (k == 0) {
		free(v);
		return fail(err, errlen, -EINVAL, "matrix '%.64s' has no scenarios", m->name);
	}
	state = m->seed;
	for (i = k - 1; i > 0; i--) {
		size_t j = (size_t)rng_below(&state, (uint64_t)i + 1);
		struct scenario tmp = v[i];

		v[i] = v[j];
		v[j] = tmp;
	}
	for (i = 0; i < k; i++)
		v[i].index = i;
	*out = v;
	*n = k;
	return 0;
}

int matrix_max_bg_vms(const struct matrix *m)
{
	int t;

	for (t = LOAD_CPU; t < LOAD_NTYPES; t++)
		if (m->load[t] && m->n_bg_vms > 0 && m->n_bg_vms <= MATRIX_MAX_VALUES)
			return m->bg_vms[m->n_bg_vms - 1];
	return 0; /* load none runs without background VMs */
}

double scenario_probe_seconds(const struct scenario *s)
{
	int runs = (s->proto[RUN_PING] ? 1 : 0) + (s->proto[RUN_ICMP] || s->proto[RUN_TWAMP] ? 1 : 0);

	if (s->freq_hz <= 0)
		return 0;
	return (double)runs * (double)(s->probes + s->warmup) / (double)s->freq_hz;
}

/* ---- JSON ---------------------------------------------------------------- */

/* Adds v under key; v == NULL marks an earlier allocation failure. */
static bool jadd(json_object *o, const char *key, json_object *v)
{
	if (!v)
		return false;
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return false;
	}
	return true;
}

static json_object *names_array(const bool *flags, const char *const *names, size_t from,
				size_t to)
{
	json_object *a = json_object_new_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = from; i < to; i++) {
		json_object *s;

		if (!flags[i])
			continue;
		s = json_object_new_string(names[i]);
		if (!s || json_object_array_add(a, s) != 0) {
			json_object_put(s);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

static json_object *int_array(const int *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		json_object *x = json_object_new_int64(v[i]);

		if (!x || json_object_array_add(a, x) != 0) {
			json_object_put(x);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

json_object *matrix_to_json(const struct matrix *m)
{
	json_object *o = json_object_new_object(), *a;
	bool ok;
	size_t i;

	if (!o)
		return NULL;
	ok = jadd(o, "name", json_object_new_string(m->name));
	a = json_object_new_array();
	for (i = 0; a && i < 2; i++) {
		json_object *b;

		if (!m->reservation[i])
			continue;
		b = json_object_new_boolean(i == 1);
		if (!b || json_object_array_add(a, b) != 0) {
			json_object_put(b);
			ok = false;
		}
	}
	if (ok)
		ok = jadd(o, "reservation", a);
	else
		json_object_put(a);
	ok = ok && jadd(o, "load_type", names_array(m->load, load_names, 0, LOAD_NTYPES));
	ok = ok && jadd(o, "load_location",
			names_array(m->location, location_names, LOC_SENDER, LOC_NLOCATIONS));
	ok = ok && jadd(o, "bg_vms", int_array(m->bg_vms, m->n_bg_vms < MATRIX_MAX_VALUES
								   ? m->n_bg_vms : MATRIX_MAX_VALUES));
	a = json_object_new_array();
	for (i = 0; a && i < m->n_nic && i < MATRIX_MAX_VALUES; i++) {
		json_object *s = json_object_new_string_len(m->nic[i],
							     (int)strnlen(m->nic[i], sizeof(m->nic[i])));

		if (!s || json_object_array_add(a, s) != 0) {
			json_object_put(s);
			ok = false;
		}
	}
	if (ok)
		ok = jadd(o, "nic", a);
	else
		json_object_put(a);
	ok = ok && jadd(o, "freq_hz", int_array(m->freq_hz, m->n_freq < MATRIX_MAX_VALUES
								     ? m->n_freq : MATRIX_MAX_VALUES));
	ok = ok && jadd(o, "protocols", names_array(m->proto, proto_names, 0, RUN_NPROTO));
	ok = ok && jadd(o, "probes", json_object_new_int64(m->probes));
	ok = ok && jadd(o, "warmup", json_object_new_int64(m->warmup));
	ok = ok && jadd(o, "repetitions", json_object_new_int64(m->repetitions));
	ok = ok && jadd(o, "seed", json_object_new_uint64(m->seed));
	ok = ok && jadd(o, "settle_ns", json_object_new_int64(m->settle_ns));
	ok = ok && jadd(o, "link_rate_bps", json_object_new_int64(m->link_rate_bps));
	ok = ok && jadd(o, "link_burst_bytes", json_object_new_int64(m->link_burst_bytes));
	ok = ok && jadd(o, "link_latency_ns", json_object_new_int64(m->link_latency_ns));
	ok = ok && jadd(o, "cpu_workers", json_object_new_int64(m->cpu_workers));
	ok = ok && jadd(o, "io_workers", json_object_new_int64(m->io_workers));
	ok = ok && jadd(o, "net_streams", json_object_new_int64(m->net_streams));
	ok = ok && jadd(o, "capture", json_object_new_boolean(m->capture));
	ok = ok && jadd(o, "keep_pcaps", json_object_new_boolean(m->keep_pcaps));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

json_object *scenario_to_json(const struct scenario *s, const char *backend_nic)
{
	json_object *o = json_object_new_object();
	const char *nic = backend_nic ? backend_nic : s->nic;
	bool ok;

	if (!o)
		return NULL;
	ok = jadd(o, "id", json_object_new_string(s->id));
	ok = ok && jadd(o, "index", json_object_new_int64((int64_t)s->index));
	ok = ok && jadd(o, "reservation", json_object_new_boolean(s->reservation));
	ok = ok && jadd(o, "load_type", json_object_new_string(load_type_name(s->load)));
	ok = ok && jadd(o, "load_location",
			json_object_new_string(load_location_name(s->load == LOAD_NONE ? LOC_NONE
										 : s->location)));
	ok = ok && jadd(o, "bg_vms", json_object_new_int64(s->bg_vms));
	ok = ok && jadd(o, "nic", json_object_new_string(nic));
	/* The matrix's NIC stays on record: the id (and --resume) is made from it. */
	if (ok && strcmp(nic, s->nic) != 0)
		ok = jadd(o, "matrix_nic", json_object_new_string(s->nic));
	ok = ok && jadd(o, "freq_hz", json_object_new_int64(s->freq_hz));
	ok = ok && jadd(o, "rep", json_object_new_int64(s->rep));
	ok = ok && jadd(o, "protocols", names_array(s->proto, proto_names, 0, RUN_NPROTO));
	ok = ok && jadd(o, "probes", json_object_new_int64(s->probes));
	ok = ok && jadd(o, "warmup", json_object_new_int64(s->warmup));
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int jget(json_object *o, const char *key, json_type type, json_object **v)
{
	if (!json_object_object_get_ex(o, key, v) || !json_object_is_type(*v, type))
		return -EINVAL;
	return 0;
}

static int jget_int(json_object *o, const char *key, int64_t min, int64_t max, int *out)
{
	json_object *v;
	int64_t x;

	if (jget(o, key, json_type_int, &v) < 0)
		return -EINVAL;
	errno = 0;
	x = json_object_get_int64(v);
	if (errno || x < min || x > max)
		return -EINVAL;
	*out = (int)x;
	return 0;
}

static int jget_str(json_object *o, const char *key, char *buf, size_t len)
{
	json_object *v;
	const char *s;

	if (jget(o, key, json_type_string, &v) < 0)
		return -EINVAL;
	s = json_object_get_string(v);
	if (!s || strlen(s) >= len)
		return -EINVAL;
	memcpy(buf, s, strlen(s) + 1);
	return 0;
}

int scenario_from_json(json_object *o, struct scenario *s)
{
	struct scenario t;
	json_object *v;
	char name[32];
	int x;
	size_t i, n;

	if (!o || !s || !json_object_is_type(o, json_type_object))
		return -EINVAL;
	memset(&t, 0, sizeof(t));
	/* id and index are optional: a report can name a scenario by its directory. */
	if (json_object_object_get_ex(o, "id", &v) &&
	    jget_str(o, "id", t.id, sizeof(t.id)) < 0)
		return -EINVAL;
	if (json_object_object_get_ex(o, "index", &v)) {
		if (jget_int(o, "index", 0, INT32_MAX, &x) < 0)
			return -EINVAL;
		t.index = (size_t)x;
	}
	if (jget(o, "reservation", json_type_boolean, &v) < 0)
		return -EINVAL;
	t.reservation = json_object_get_boolean(v);
	if (jget_str(o, "load_type", name, sizeof(name)) < 0 || load_type_parse(name, &t.load) < 0)
		return -EINVAL;
	if (jget_str(o, "load_location", name, sizeof(name)) < 0 ||
	    load_location_parse(name, &t.location) < 0 ||
	    (t.load == LOAD_NONE) != (t.location == LOC_NONE))
		return -EINVAL;
	if (jget_int(o, "bg_vms", 0, MATRIX_MAX_BG_VMS, &t.bg_vms) < 0 ||
	    jget_str(o, "nic", t.nic, sizeof(t.nic)) < 0 ||
	    jget_int(o, "freq_hz", 1, MATRIX_MAX_FREQ, &t.freq_hz) < 0 ||
	    jget_int(o, "rep", 1, 100, &t.rep) < 0 ||
	    jget_int(o, "probes", 1, INT32_MAX, &t.probes) < 0 ||
	    jget_int(o, "warmup", 0, INT32_MAX, &t.warmup) < 0)
		return -EINVAL;
	if (jget(o, "protocols", json_type_array, &v) < 0)
		return -EINVAL;
	n = json_object_array_length(v);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(v, i);
		enum run_proto p;

		if (!e || !json_object_is_type(e, json_type_string) ||
		    run_proto_parse(json_object_get_string(e), &p) < 0)
			return -EINVAL;
		t.proto[p] = true;
	}
	*s = t;
	return 0;
}
