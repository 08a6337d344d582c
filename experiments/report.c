/*
 * Report computation and rendering.  The figures are computed once into a
 * model (pooled samples per design cell and protocol, their distribution,
 * bootstrap CI of the median, point means, the Mann-Whitney test and
 * increase against the cell's no-load baseline, the three findings); the
 * four formats only render that model, so they cannot disagree.  Text and
 * markdown share the table code; CSV is long format (one value per row) so
 * spreadsheets and pandas need no reshaping; JSON keeps numbers as
 * fixed-point strings in doubles (ms with 6 decimals: ns resolution) like
 * the result files.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "analysis.h"
#include "report.h"
#include "stats.h"

static const char *const format_names[] = {
	[REPORT_TEXT] = "text",
	[REPORT_MARKDOWN] = "markdown",
	[REPORT_CSV] = "csv",
	[REPORT_JSON] = "json",
};

int report_format_parse(const char *s, enum report_format *out)
{
	size_t i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum report_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *report_format_name(enum report_format f)
{
	if ((unsigned)f < sizeof(format_names) / sizeof(format_names[0]))
		return format_names[f];
	return "unknown";
}

/* --- model ------------------------------------------------------------------ */

/* Path segments between consecutive points, outermost first; the last is the receiver VM's. */
#define NSEG 7
static const char *const seg_names[NSEG] = {
	"sender-vm-stack",
	"sender-vm>sender-bridge",
	"sender-bridge>sender-host",
	"sender-host>receiver-host",
	"receiver-host>receiver-bridge",
	"receiver-bridge>receiver-vm",
	"inside-receiver-vm",
};
static const char *const seg_short[NSEG] = {
	"s.stack", "svm>sbr", "sbr>shost", "link", "rhost>rbr", "rbr>rvm", "r.vm",
};
static const char *const point_short[RPOINT_N] = {
	"tool", "s.vm", "s.bridge", "s.host", "r.host", "r.bridge", "r.vm",
};

/* One design cell (key) and protocol. */
struct cellp {
	bool present;
	struct result_samples tool;   /* pooled over repetitions */
	struct stats_dist d;
	bool have_ci;
	struct analysis_ci ci;
	bool have_base;               /* baseline of the same reservation/freq/nic has samples */
	double inc_ns;                /* median minus baseline median */
	bool have_mw;
	struct analysis_mw mw;        /* this cell (first sample) vs the baseline */
	bool have_pt[RPOINT_N];
	double pt_mean[RPOINT_N];     /* ns; [RPOINT_TOOL] = d.mean */
	size_t pt_n[RPOINT_N];
};

/* Load-type group: one load, location, reservation, rate and NIC; keys[first..first+count). */
struct group {
	struct results_key k;         /* bg_vms unused */
	size_t first, count;
	long baseline;                /* key index of the baseline, -1 when not measured */
	bool have_points;             /* some cell (baseline included) has capture data */
};

enum verdict { V_NOT_MEASURED = 0, V_HOLDS, V_DOES_NOT_HOLD };
static const char *const verdict_names[] = {"not measured", "holds", "does not hold"};

#define FMAXV 3
struct fcmp {
	char context[160];
	int bg_vms;
	size_t nv;
	char name[FMAXV][24];
	double inc_ns[FMAXV];
	bool supports;
};

struct finding {
	const char *id, *claim, *rule;
	enum verdict v;
	struct fcmp *c;
	size_t n, nsupport;
	char note[160];
};
#define NFINDINGS 3

struct model {
	const struct experiment *e;
	struct results_key *keys;
	size_t nkeys;
	struct cellp *cells;           /* nkeys x RUN_NPROTO */
	bool proto_any[RUN_NPROTO];
	struct group *groups;
	size_t ngroups;
	struct finding f[NFINDINGS];
};

static struct cellp *cell(const struct model *m, size_t key, enum run_proto p)
{
	return &m->cells[key * RUN_NPROTO + (size_t)p];
}

static long find_key(const struct model *m, const struct results_key *k)
{
	size_t lo = 0, hi = m->nkeys;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = results_key_cmp(&m->keys[mid], k);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static const char *res_name(bool r)
{
	return r ? "yes" : "no";
}

static int cell_compute(const struct model *m, size_t ki, enum run_proto p)
{
	struct cellp *c = cell(m, ki, p);
	int q, rc;

	rc = results_pool(m->e, &m->keys[ki], p, RPOINT_TOOL, &c->tool);
	if (rc < 0)
		return rc;
	c->present = c->tool.present;
	rc = stats_dist_compute(c->tool.rtt_ns, c->tool.n, &c->d);
	if (rc < 0)
		return rc;
	if (c->d.n > 0) {
		rc = analysis_median_ci(c->tool.rtt_ns, c->tool.n, ANALYSIS_BOOTSTRAP_B,
					ANALYSIS_CI_LEVEL, ANALYSIS_DEFAULT_SEED, &c->ci);
		if (rc < 0)
			return rc;
		c->have_ci = true;
		c->have_pt[RPOINT_TOOL] = true;
		c->pt_mean[RPOINT_TOOL] = c->d.mean;
		c->pt_n[RPOINT_TOOL] = c->d.n;
	}
	for (q = RPOINT_SENDER_VM; q < RPOINT_N; q++) {
		struct result_samples s;
		struct stats_dist d;

		rc = results_pool(m->e, &m->keys[ki], p, (enum result_point)q, &s);
		if (rc < 0)
			return rc;
		rc = stats_dist_compute(s.rtt_ns, s.n, &d);
		results_samples_free(&s);
		if (rc < 0)
			return rc;
		if (d.n > 0) {
			c->have_pt[q] = true;
			c->pt_mean[q] = d.mean;
			c->pt_n[q] = d.n;
		}
	}
	return 0;
}

/* Increase and Mann-Whitney against the baseline, for cells that have one. */
static int cell_vs_baseline(const struct model *m, size_t ki, enum run_proto p)
{
	struct results_key bk;
	struct cellp *c = cell(m, ki, p), *b;
	long bi;

	if (m->keys[ki].load == LOAD_NONE || c->d.n == 0)
		return 0;
	results_key_baseline(&m->keys[ki], &bk);
	bi = find_key(m, &bk);
	if (bi < 0)
		return 0;
	b = cell(m, (size_t)bi, p);
	if (b->d.n == 0)
		return 0;
	c->have_base = true;
	c->inc_ns = c->d.median - b->d.median;
	if (analysis_mann_whitney(c->tool.rtt_ns, c->tool.n, b->tool.rtt_ns, b->tool.n, &c->mw) < 0)
		return -ENOMEM;
	c->have_mw = true;
	return 0;
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = a, *y = b;

	if (x->k.load != y->k.load)
		return x->k.load < y->k.load ? -1 : 1;
	if (x->k.location != y->k.location)
		return x->k.location < y->k.location ? -1 : 1;
	if (x->k.reservation != y->k.reservation)
		return x->k.reservation ? 1 : -1;
	if (x->k.freq_hz != y->k.freq_hz)
		return x->k.freq_hz < y->k.freq_hz ? -1 : 1;
	return strcmp(x->k.nic, y->k.nic);
}

static bool same_group(const struct results_key *a, const struct results_key *b)
{
	return a->reservation == b->reservation && a->freq_hz == b->freq_hz &&
	       strcmp(a->nic, b->nic) == 0 && a->load == b->load && a->location == b->location;
}

static bool cell_has_points(const struct model *m, size_t ki)
{
	int p, q;

	for (p = 0; p < RUN_NPROTO; p++)
		for (q = RPOINT_SENDER_VM; q < RPOINT_N; q++)
			if (cell(m, ki, (enum run_proto)p)->have_pt[q])
				return true;
	return false;
}

static int build_groups(struct model *m)
{
	size_t i, j;

	m->groups = calloc(m->nkeys ? m->nkeys : 1, sizeof(*m->groups));
	if (!m->groups)
		return -ENOMEM;
	for (i = 0; i < m->nkeys; i = j) {
		struct group *g;
		struct results_key bk;

		for (j = i + 1; j < m->nkeys && same_group(&m->keys[i], &m->keys[j]); j++)
			;
		if (m->keys[i].load == LOAD_NONE)
			continue;
		g = &m->groups[m->ngroups++];
		g->k = m->keys[i];
		g->k.bg_vms = 0;
		g->first = i;
		g->count = j - i;
		results_key_baseline(&g->k, &bk);
		g->baseline = find_key(m, &bk);
		g->have_points = g->baseline >= 0 && cell_has_points(m, (size_t)g->baseline);
		for (size_t k = i; k < j; k++)
			g->have_points = g->have_points || cell_has_points(m, k);
	}
	if (m->ngroups > 1)
		qsort(m->groups, m->ngroups, sizeof(*m->groups), group_cmp);
	return 0;
}

/* --- findings ----------------------------------------------------------------- */

static struct fcmp *finding_add(struct finding *f)
{
	struct fcmp *p = realloc(f->c, (f->n + 1) * sizeof(*p));

	if (!p)
		return NULL;
	f->c = p;
	memset(&p[f->n], 0, sizeof(p[f->n]));
	return &p[f->n++];
}

static void finding_close(struct finding *f)
{
	size_t i;

	f->nsupport = 0;
	for (i = 0; i < f->n; i++)
		f->nsupport += f->c[i].supports;
	if (f->n == 0)
		f->v = V_NOT_MEASURED;
	else
		f->v = 2 * f->nsupport > f->n ? V_HOLDS : V_DOES_NOT_HOLD;
}

/* Median increase over the baseline of (k with load/location/bg set) for p, if both measured. */
static bool increase_at(const struct model *m, const struct results_key *k, enum run_proto p,
			double *inc)
{
	long ki = find_key(m, k);
	struct cellp *c;

	if (ki < 0)
		return false;
	c = cell(m, (size_t)ki, p);
	if (!c->have_base)
		return false;
	*inc = c->inc_ns;
	return true;
}

/*
 * Largest bg_vms at which every variant i (key vk[i], proto vp[i]) has an
 * increase over its baseline.  0 when there is none.
 */
static int largest_common_bg(const struct model *m, const struct results_key *vk,
			     const enum run_proto *vp, size_t nv)
{
	int best = 0;
	size_t i, v;

	for (i = 0; i < m->nkeys; i++) {
		int bg = m->keys[i].bg_vms;
		bool all = bg > best;

		for (v = 0; all && v < nv; v++) {
			struct results_key k = vk[v];
			double inc;

			k.bg_vms = bg;
			all = increase_at(m, &k, vp[v], &inc);
		}
		if (all)
			best = bg;
	}
	return best;
}

/* Fills a comparison at the largest common bg; false (nothing added) when there is none. */
static int compare_variants(const struct model *m, struct finding *f, const char *context,
			    const struct results_key *vk, const enum run_proto *vp,
			    const char *const *names, size_t nv, bool (*supports)(const struct fcmp *))
{
	struct fcmp *c;
	int bg = largest_common_bg(m, vk, vp, nv);
	size_t v;

	if (bg == 0)
		return 0;
	c = finding_add(f);
	if (!c)
		return -ENOMEM;
	snprintf(c->context, sizeof(c->context), "%s", context);
	c->bg_vms = bg;
	c->nv = nv;
	for (v = 0; v < nv; v++) {
		struct results_key k = vk[v];

		k.bg_vms = bg;
		snprintf(c->name[v], sizeof(c->name[v]), "%s", names[v]);
		increase_at(m, &k, vp[v], &c->inc_ns[v]);
	}
	c->supports = supports(c);
	return 0;
}

/* Variant 0 increases RTT strictly more than every other variant. */
static bool first_largest(const struct fcmp *c)
{
	size_t v;

	for (v = 1; v < c->nv; v++)
		if (!(c->inc_ns[0] > c->inc_ns[v]))
			return false;
	return true;
}

/* Distinct (reservation, freq, nic) as baseline keys: what a comparison holds fixed. */
static size_t settings(const struct model *m, struct results_key *out, size_t max)
{
	size_t i, j, n = 0;

	for (i = 0; i < m->nkeys; i++) {
		struct results_key b;
		bool seen = false;

		results_key_baseline(&m->keys[i], &b);
		for (j = 0; j < n && !seen; j++)
			seen = results_key_cmp(&out[j], &b) == 0;
		if (!seen && n < max)
			out[n++] = b;
	}
	return n;
}

#define MAX_SETTINGS 256

/* Claim 1: network load raises RTT more than cpu and io load. */
static int finding_network(struct model *m, const struct results_key *set, size_t nset)
{
	static const enum load_type order[] = {LOAD_NETWORK, LOAD_CPU, LOAD_IO};
	struct finding *f = &m->f[0];
	size_t s, t, nv;
	int p, loc, rc;

	f->id = "network-load-largest";
	f->claim = "Network load on the path raises RTT the most of the three load types";
	f->rule = "per protocol, location, reservation, rate and NIC: at the largest number of "
		  "background VMs that every measured load type shares, network load's median "
		  "increase over the no-load baseline is the largest; holds when true in more than "
		  "half of the comparisons";
	for (p = 0; p < RUN_NPROTO; p++)
		for (loc = LOC_SENDER; loc < LOC_NLOCATIONS; loc++)
			for (s = 0; s < nset; s++) {
				struct results_key vk[FMAXV];
				enum run_proto vp[FMAXV];
				const char *names[FMAXV];
				char ctx[160];

				nv = 0;
				for (t = 0; t < sizeof(order) / sizeof(order[0]); t++) {
					struct results_key k = set[s];
					size_t i;
					bool any = false;

					k.load = order[t];
					k.location = (enum load_location)loc;
					for (i = 0; i < m->nkeys && !any; i++)
						any = same_group(&m->keys[i], &k) &&
						      cell(m, i, (enum run_proto)p)->have_base;
					if (!any) {
						if (t == 0)
							break; /* no network load: nothing to compare */
						continue;
					}
					vk[nv] = k;
					vp[nv] = (enum run_proto)p;
					names[nv++] = load_type_name(order[t]);
				}
				if (nv < 2)
					continue;
				snprintf(ctx, sizeof(ctx), "%s, load on the %s, reservation %s, %d Hz, %s",
					 run_proto_name((enum run_proto)p),
					 load_location_name((enum load_location)loc),
					 res_name(set[s].reservation), set[s].freq_hz, set[s].nic);
				rc = compare_variants(m, f, ctx, vk, vp, names, nv, first_largest);
				if (rc < 0)
					return rc;
			}
	finding_close(f);
	return 0;
}

/* Claim 2: at the high rate, sender-side CPU load hurts more without a reserved core. */
static int finding_reservation(struct model *m, const struct results_key *set, size_t nset)
{
	static const char *const names[] = {"no reservation", "reservation"};
	struct finding *f = &m->f[1];
	int p, freq = 0, rc;
	size_t s, i;

	f->id = "cpu-sender-reservation";
	f->claim = "Sender-side CPU load raises the 1000 Hz RTT more without a reserved core than "
		   "with one";
	f->rule = "per protocol and NIC at 1000 Hz (else the highest rate above 1 Hz): at the "
		  "largest number of background VMs measured both with and without reservation, "
		  "the median increase over the no-load baseline of the same reservation is larger "
		  "without reservation; holds when true in more than half of the comparisons";
	for (i = 0; i < m->nkeys; i++) {
		if (m->keys[i].freq_hz == 1000) {
			freq = 1000;
			break;
		}
		if (m->keys[i].freq_hz > 1 && m->keys[i].freq_hz > freq)
			freq = m->keys[i].freq_hz;
	}
	if (freq == 0) {
		snprintf(f->note, sizeof(f->note), "no scenario probes faster than 1 Hz");
		finding_close(f);
		return 0;
	}
	if (freq != 1000)
		snprintf(f->note, sizeof(f->note), "1000 Hz not measured; checked at %d Hz", freq);
	for (p = 0; p < RUN_NPROTO; p++)
		for (s = 0; s < nset; s++) {
			struct results_key vk[2];
			enum run_proto vp[2] = {(enum run_proto)p, (enum run_proto)p};
			char ctx[160];

			/* One comparison per NIC: take it from the reservation-less setting. */
			if (set[s].reservation || set[s].freq_hz != freq)
				continue;
			vk[0] = set[s];
			vk[0].load = LOAD_CPU;
			vk[0].location = LOC_SENDER;
			vk[1] = vk[0];
			vk[1].reservation = true;
			snprintf(ctx, sizeof(ctx), "%s, cpu load on the sender, %d Hz, %s",
				 run_proto_name((enum run_proto)p), freq, set[s].nic);
			rc = compare_variants(m, f, ctx, vk, vp, names, 2, first_largest);
			if (rc < 0)
				return rc;
		}
	finding_close(f);
	return 0;
}

/* Claim 3: receiver-side CPU load affects TWAMP more than ICMP (twamp-client's and ping). */
static int finding_receiver(struct model *m, const struct results_key *set, size_t nset)
{
	static const enum run_proto refs[] = {RUN_ICMP, RUN_PING};
	struct finding *f = &m->f[2];
	size_t s, r;
	int rc;

	f->id = "cpu-receiver-twamp";
	f->claim = "Receiver-side CPU load affects TWAMP more than ICMP";
	f->rule = "per reservation, rate, NIC and ICMP prober (twamp-client icmp, iputils ping): at "
		  "the largest number of background VMs both protocols share, TWAMP's median "
		  "increase over its no-load baseline is larger than the ICMP prober's; holds when "
		  "true in more than half of the comparisons";
	for (s = 0; s < nset; s++)
		for (r = 0; r < sizeof(refs) / sizeof(refs[0]); r++) {
			struct results_key vk[2];
			enum run_proto vp[2] = {RUN_TWAMP, refs[r]};
			const char *names[2] = {"twamp", run_proto_name(refs[r])};
			char ctx[160];

			vk[0] = set[s];
			vk[0].load = LOAD_CPU;
			vk[0].location = LOC_RECEIVER;
			vk[1] = vk[0];
			snprintf(ctx, sizeof(ctx), "twamp vs %s, cpu load on the receiver, "
				 "reservation %s, %d Hz, %s", run_proto_name(refs[r]),
				 res_name(set[s].reservation), set[s].freq_hz, set[s].nic);
			rc = compare_variants(m, f, ctx, vk, vp, names, 2, first_largest);
			if (rc < 0)
				return rc;
		}
	finding_close(f);
	return 0;
}

static void model_free(struct model *m)
{
	size_t i;
	int p;

	if (m->cells)
		for (i = 0; i < m->nkeys; i++)
			for (p = 0; p < RUN_NPROTO; p++)
				results_samples_free(&cell(m, i, (enum run_proto)p)->tool);
	free(m->cells);
	free(m->keys);
	free(m->groups);
	for (i = 0; i < NFINDINGS; i++)
		free(m->f[i].c);
}

static int model_build(struct model *m, const struct experiment *e)
{
	struct results_key *set = NULL;
	size_t i, nset;
	int p, rc;

	memset(m, 0, sizeof(*m));
	m->e = e;
	rc = results_keys(e, &m->keys, &m->nkeys);
	if (rc < 0)
		return rc;
	m->cells = calloc(m->nkeys ? m->nkeys * RUN_NPROTO : 1, sizeof(*m->cells));
	if (!m->cells)
		return -ENOMEM;
	for (i = 0; i < m->nkeys; i++)
		for (p = 0; p < RUN_NPROTO; p++) {
			rc = cell_compute(m, i, (enum run_proto)p);
			if (rc < 0)
				return rc;
			if (cell(m, i, (enum run_proto)p)->present)
				m->proto_any[p] = true;
		}
	for (i = 0; i < m->nkeys; i++)
		for (p = 0; p < RUN_NPROTO; p++) {
			rc = cell_vs_baseline(m, i, (enum run_proto)p);
			if (rc < 0)
				return rc;
		}
	rc = build_groups(m);
	if (rc < 0)
		return rc;
	set = calloc(MAX_SETTINGS, sizeof(*set));
	if (!set)
		return -ENOMEM;
	nset = settings(m, set, MAX_SETTINGS);
	rc = finding_network(m, set, nset);
	if (rc == 0)
		rc = finding_reservation(m, set, nset);
	if (rc == 0)
		rc = finding_receiver(m, set, nset);
	free(set);
	return rc;
}

/* --- number formatting ------------------------------------------------------ */

static const char *fixed(char *buf, size_t size, double v, int decimals)
{
	char *p;

	snprintf(buf, size, "%.*f", decimals, v);
	if (buf[0] == '-') {
		for (p = buf + 1; *p == '0' || *p == '.'; p++)
			;
		if (*p == '\0')
			memmove(buf, buf + 1, strlen(buf));
	}
	return buf;
}

/* ns -> ms, 3 decimals (us) for tables, 6 (ns) for csv/json. */
static const char *ms(char *buf, size_t size, double ns, int decimals)
{
	return fixed(buf, size, ns / 1e6, decimals);
}

static const char *signed_ms(char *buf, size_t size, double ns, int decimals)
{
	char tmp[40];

	fixed(tmp, sizeof(tmp), ns / 1e6, decimals);
	snprintf(buf, size, "%s%s", tmp[0] == '-' ? "" : "+", tmp);
	return buf;
}

static const char *pval(char *buf, size_t size, double p)
{
	snprintf(buf, size, "%.2g", p);
	return buf;
}

static const char *when(char *buf, size_t size, int64_t ns)
{
	struct tm tm;
	time_t t = (time_t)(ns / 1000000000);

	if (ns <= 0 || !gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, size, "unknown");
	return buf;
}

static double loss_pct(const struct cellp *c)
{
	return c->tool.sent ? (double)c->tool.lost * 100.0 / (double)c->tool.sent : 0.0;
}

/* --- tables (text, markdown) -------------------------------------------------- */

#define CELL 56
struct table {
	size_t ncols, nrows, cap;
	char (*c)[CELL];          /* row 0 is the header */
	bool left[16];
	int err;
};

static int table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	if (ncols == 0 || ncols > 64)
		return -EINVAL;
	t->ncols = ncols;
	return 0;
}

static void table_free(struct table *t)
{
	free(t->c);
	t->c = NULL;
}

/* Appends a row of empty cells; returns its index (0 = the header). */
static size_t table_row(struct table *t)
{
	if (t->err)
		return 0;
	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char(*p)[CELL] = realloc(t->c, cap * t->ncols * sizeof(*p));

		if (!p) {
			t->err = -ENOMEM;
			return 0;
		}
		t->c = p;
		t->cap = cap;
	}
	memset(t->c[t->nrows * t->ncols], 0, t->ncols * sizeof(*t->c));
	return t->nrows++;
}

static void table_set(struct table *t, size_t row, size_t col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void table_set(struct table *t, size_t row, size_t col, const char *fmt, ...)
{
	va_list ap;

	if (t->err || row >= t->nrows || col >= t->ncols)
		return;
	va_start(ap, fmt);
	vsnprintf(t->c[row * t->ncols + col], CELL, fmt, ap);
	va_end(ap);
}

static const char *table_get(const struct table *t, size_t row, size_t col)
{
	const char *s = t->c[row * t->ncols + col];

	return s[0] ? s : "-";
}

static void table_emit(FILE *f, enum report_format fmt, const struct table *t)
{
	size_t w[64] = {0}, r, c;

	if (t->err || t->nrows == 0)
		return;
	if (fmt == REPORT_MARKDOWN) {
		for (r = 0; r < t->nrows; r++) {
			for (c = 0; c < t->ncols; c++)
				fprintf(f, "| %s ", table_get(t, r, c));
			fputs("|\n", f);
			if (r == 0) {
				for (c = 0; c < t->ncols; c++)
					fputs(c < 16 && t->left[c] ? "|:---" : "|---:", f);
				fputs("|\n", f);
			}
		}
		fputc('\n', f);
		return;
	}
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t l = strlen(table_get(t, r, c));

			if (l > w[c])
				w[c] = l;
		}
	for (r = 0; r < t->nrows; r++) {
		fputs("  ", f);
		for (c = 0; c < t->ncols; c++) {
			bool left = c < 16 && t->left[c];

			fprintf(f, left ? "%-*s" : "%*s", (int)w[c], table_get(t, r, c));
			if (c + 1 < t->ncols)
				fputs("  ", f);
		}
		fputc('\n', f);
	}
	fputc('\n', f);
}

static void heading(FILE *f, enum report_format fmt, int level, const char *fmt_s, ...)
	__attribute__((format(printf, 4, 5)));

static void heading(FILE *f, enum report_format fmt, int level, const char *fmt_s, ...)
{
	va_list ap;

	if (fmt == REPORT_MARKDOWN)
		fprintf(f, "%.*s ", level + 1, "####");
	else
		fputs(level == 1 ? "== " : "-- ", f);
	va_start(ap, fmt_s);
	vfprintf(f, fmt_s, ap);
	va_end(ap);
	fputs(fmt == REPORT_MARKDOWN ? "\n\n" : (level == 1 ? " ==\n\n" : " --\n"), f);
}

static const char *group_title(char *buf, size_t size, const struct results_key *k)
{
	snprintf(buf, size, "%s load on the %s, reservation %s, %d Hz, %s", load_type_name(k->load),
		 load_location_name(k->location), res_name(k->reservation), k->freq_hz, k->nic);
	return buf;
}

/* Key indices of a group's columns: the baseline (or -1) then its bg_vms values. */
static size_t group_columns(const struct group *g, long *cols, size_t max)
{
	size_t n = 0, i;

	cols[n++] = g->baseline;
	for (i = 0; i < g->count && n < max; i++)
		cols[n++] = (long)(g->first + i);
	return n;
}

/* (a) */
static void emit_table2(FILE *f, enum report_format fmt, const struct model *m)
{
	struct table t;
	int p;

	heading(f, fmt, 1, "Table II: RTT without background load (ms)");
	for (p = 0; p < RUN_NPROTO; p++) {
		size_t r, freq_i, i;
		bool any = false;

		if (!m->proto_any[p])
			continue;
		heading(f, fmt, 2, "%s", run_proto_name((enum run_proto)p));
		if (table_init(&t, 10) < 0)
			return;
		t.left[0] = t.left[1] = t.left[2] = true;
		r = table_row(&t);
		table_set(&t, r, 0, "freq_hz");
		table_set(&t, r, 1, "nic");
		table_set(&t, r, 2, "reservation");
		table_set(&t, r, 3, "n");
		table_set(&t, r, 4, "loss_%%");
		table_set(&t, r, 5, "min");
		table_set(&t, r, 6, "median");
		table_set(&t, r, 7, "max");
		table_set(&t, r, 8, "avg");
		table_set(&t, r, 9, "sd");
		/* Rows freq x nic x reservation: keys are ordered reservation-first, so walk twice. */
		for (freq_i = 0; freq_i < m->nkeys; freq_i++) {
			const struct results_key *k = &m->keys[freq_i];
			bool first = true;

			if (k->load != LOAD_NONE)
				continue;
			/* Visit each (freq, nic) once, at its first baseline key. */
			for (i = 0; i < freq_i && first; i++)
				first = !(m->keys[i].load == LOAD_NONE && m->keys[i].freq_hz == k->freq_hz &&
					  strcmp(m->keys[i].nic, k->nic) == 0);
			if (!first)
				continue;
			for (i = 0; i < m->nkeys; i++) {
				const struct results_key *kk = &m->keys[i];
				const struct cellp *c = cell(m, i, (enum run_proto)p);
				char a[48];

				if (kk->load != LOAD_NONE || kk->freq_hz != k->freq_hz ||
				    strcmp(kk->nic, k->nic) != 0 || !c->present)
					continue;
				any = true;
				r = table_row(&t);
				table_set(&t, r, 0, "%d", kk->freq_hz);
				table_set(&t, r, 1, "%s", kk->nic);
				table_set(&t, r, 2, "%s", res_name(kk->reservation));
				table_set(&t, r, 3, "%zu", c->d.n);
				table_set(&t, r, 4, "%s", fixed(a, sizeof(a), loss_pct(c), 1));
				if (c->d.n == 0)
					continue;
				table_set(&t, r, 5, "%s", ms(a, sizeof(a), c->d.min, 3));
				table_set(&t, r, 6, "%s", ms(a, sizeof(a), c->d.median, 3));
				table_set(&t, r, 7, "%s", ms(a, sizeof(a), c->d.max, 3));
				table_set(&t, r, 8, "%s", ms(a, sizeof(a), c->d.mean, 3));
				table_set(&t, r, 9, "%s", ms(a, sizeof(a), c->d.sd, 3));
			}
		}
		if (any)
			table_emit(f, fmt, &t);
		else
			fputs("  (no scenarios without load)\n\n", f);
		table_free(&t);
	}
}

static bool group_has_proto(const struct model *m, const struct group *g, enum run_proto p)
{
	size_t i;

	if (g->baseline >= 0 && cell(m, (size_t)g->baseline, p)->d.n > 0)
		return true;
	for (i = 0; i < g->count; i++)
		if (cell(m, g->first + i, p)->d.n > 0)
			return true;
	return false;
}

/* (b) */
static void emit_sensitivity(FILE *f, enum report_format fmt, const struct model *m)
{
	static const char *const diff_label[RUN_NPROTO] = {[RUN_PING] = "twamp-ping",
							    [RUN_ICMP] = "twamp-icmp"};
	size_t gi;

	heading(f, fmt, 1, "Sensitivity to background load (ms)");
	if (m->ngroups == 0) {
		fputs("  (no scenarios with background load)\n\n", f);
		return;
	}
	fprintf(f, "Columns: number of background VMs (0 = no-load baseline of the same reservation, "
		   "rate and NIC).  CI95: percentile bootstrap of the median, B = %d; "
		   "p: two-sided Mann-Whitney U against the baseline.\n\n",
		ANALYSIS_BOOTSTRAP_B);
	for (gi = 0; gi < m->ngroups; gi++) {
		const struct group *g = &m->groups[gi];
		long cols[MATRIX_MAX_VALUES + 1];
		size_t nc = group_columns(g, cols, MATRIX_MAX_VALUES + 1), c, r;
		struct table t;
		char title[160], a[48], b[48];
		int p;

		heading(f, fmt, 2, "%s", group_title(title, sizeof(title), &g->k));
		if (table_init(&t, nc + 1) < 0)
			return;
		t.left[0] = true;
		r = table_row(&t);
		table_set(&t, r, 0, "bg_vms");
		for (c = 0; c < nc; c++)
			table_set(&t, r, c + 1, "%d", cols[c] < 0 ? 0 : m->keys[cols[c]].bg_vms);
		for (p = 0; p < RUN_NPROTO; p++) {
			const char *pn = run_proto_name((enum run_proto)p);
			size_t rn, rmed, rci, rp99, rinc, rp;

			if (!group_has_proto(m, g, (enum run_proto)p))
				continue;
			rn = table_row(&t);
			rmed = table_row(&t);
			rci = table_row(&t);
			rp99 = table_row(&t);
			rinc = table_row(&t);
			rp = table_row(&t);
			table_set(&t, rn, 0, "%s n", pn);
			table_set(&t, rmed, 0, "%s median", pn);
			table_set(&t, rci, 0, "%s CI95", pn);
			table_set(&t, rp99, 0, "%s p99", pn);
			table_set(&t, rinc, 0, "%s increase", pn);
			table_set(&t, rp, 0, "%s p", pn);
			for (c = 0; c < nc; c++) {
				const struct cellp *x;

				if (cols[c] < 0)
					continue;
				x = cell(m, (size_t)cols[c], (enum run_proto)p);
				if (!x->present)
					continue;
				table_set(&t, rn, c + 1, "%zu", x->d.n);
				if (x->d.n == 0)
					continue;
				table_set(&t, rmed, c + 1, "%s", ms(a, sizeof(a), x->d.median, 3));
				table_set(&t, rci, c + 1, "[%s,%s]", ms(a, sizeof(a), x->ci.lo, 3),
					  ms(b, sizeof(b), x->ci.hi, 3));
				table_set(&t, rp99, c + 1, "%s", ms(a, sizeof(a), x->d.p99, 3));
				if (x->have_base)
					table_set(&t, rinc, c + 1, "%s",
						  signed_ms(a, sizeof(a), x->inc_ns, 3));
				if (x->have_mw)
					table_set(&t, rp, c + 1, "%s", pval(a, sizeof(a), x->mw.p));
			}
		}
		for (p = RUN_PING; p <= RUN_ICMP; p++) {
			size_t rd;

			if (!group_has_proto(m, g, RUN_TWAMP) || !group_has_proto(m, g, (enum run_proto)p))
				continue;
			rd = table_row(&t);
			table_set(&t, rd, 0, "%s median", diff_label[p]);
			for (c = 0; c < nc; c++) {
				const struct cellp *tw, *ic;

				if (cols[c] < 0)
					continue;
				tw = cell(m, (size_t)cols[c], RUN_TWAMP);
				ic = cell(m, (size_t)cols[c], (enum run_proto)p);
				if (tw->d.n > 0 && ic->d.n > 0)
					table_set(&t, rd, c + 1, "%s",
						  signed_ms(a, sizeof(a), tw->d.median - ic->d.median, 3));
			}
		}
		table_emit(f, fmt, &t);
		table_free(&t);
	}
}

/* Share of segment s of the tool RTT, in percent; false when a mean is missing. */
static bool segment_share(const struct cellp *c, int s, double *pct)
{
	double outer, inner;

	if (!c->have_pt[RPOINT_TOOL] || !(c->pt_mean[RPOINT_TOOL] > 0.0))
		return false;
	if (s == NSEG - 1) {
		if (!c->have_pt[RPOINT_RECEIVER_VM])
			return false;
		*pct = c->pt_mean[RPOINT_RECEIVER_VM] * 100.0 / c->pt_mean[RPOINT_TOOL];
		return true;
	}
	if (!c->have_pt[s] || !c->have_pt[s + 1])
		return false;
	outer = c->pt_mean[s];
	inner = c->pt_mean[s + 1];
	*pct = (outer - inner) * 100.0 / c->pt_mean[RPOINT_TOOL];
	return true;
}

static bool cell_points_any(const struct cellp *c)
{
	int q;

	for (q = RPOINT_SENDER_VM; q < RPOINT_N; q++)
		if (c->have_pt[q])
			return true;
	return false;
}

/* (c) */
static void emit_points(FILE *f, enum report_format fmt, const struct model *m)
{
	size_t gi, nshown = 0;

	heading(f, fmt, 1, "Capture points: mean RTT and share of the tool's RTT");
	fputs("Mean RTT (ms) seen at each capture point (request out to reply in at that point), "
	      "and each path segment's share (%) of the tool's mean RTT: s.stack = tool - sender VM "
	      "interface, svm>sbr = sender VM to sender bridge, sbr>shost, link = sender host to "
	      "receiver host, rhost>rbr, rbr>rvm, r.vm = inside the receiver VM.\n\n",
	      f);
	for (gi = 0; gi < m->ngroups; gi++) {
		const struct group *g = &m->groups[gi];
		long cols[MATRIX_MAX_VALUES + 1];
		size_t nc = group_columns(g, cols, MATRIX_MAX_VALUES + 1), c, r;
		struct table tm, ts;
		char title[160], a[48];
		int p, q;

		if (!g->have_points)
			continue;
		nshown++;
		heading(f, fmt, 2, "%s", group_title(title, sizeof(title), &g->k));
		if (table_init(&tm, 2 + RPOINT_N) < 0 || table_init(&ts, 2 + NSEG) < 0)
			return;
		tm.left[0] = tm.left[1] = ts.left[0] = ts.left[1] = true;
		r = table_row(&tm);
		table_set(&tm, r, 0, "bg_vms");
		table_set(&tm, r, 1, "proto");
		for (q = 0; q < RPOINT_N; q++)
			table_set(&tm, r, 2 + (size_t)q, "%s", point_short[q]);
		r = table_row(&ts);
		table_set(&ts, r, 0, "bg_vms");
		table_set(&ts, r, 1, "proto");
		for (q = 0; q < NSEG; q++)
			table_set(&ts, r, 2 + (size_t)q, "%s%%", seg_short[q]);
		for (c = 0; c < nc; c++) {
			if (cols[c] < 0)
				continue;
			for (p = 0; p < RUN_NPROTO; p++) {
				const struct cellp *x = cell(m, (size_t)cols[c], (enum run_proto)p);
				int bg = m->keys[cols[c]].bg_vms;
				size_t rm, rs;
				double pct;

				if (!cell_points_any(x))
					continue;
				rm = table_row(&tm);
				rs = table_row(&ts);
				table_set(&tm, rm, 0, "%d", bg);
				table_set(&tm, rm, 1, "%s", run_proto_name((enum run_proto)p));
				table_set(&ts, rs, 0, "%d", bg);
				table_set(&ts, rs, 1, "%s", run_proto_name((enum run_proto)p));
				for (q = 0; q < RPOINT_N; q++)
					if (x->have_pt[q])
						table_set(&tm, rm, 2 + (size_t)q, "%s",
							  ms(a, sizeof(a), x->pt_mean[q], 3));
				for (q = 0; q < NSEG; q++)
					if (segment_share(x, q, &pct))
						table_set(&ts, rs, 2 + (size_t)q, "%s",
							  fixed(a, sizeof(a), pct, 1));
			}
		}
		table_emit(f, fmt, &tm);
		table_emit(f, fmt, &ts);
		table_free(&tm);
		table_free(&ts);
	}
	if (nshown == 0)
		fputs("  (no capture-point data)\n\n", f);
}

/* (d) */
static void emit_findings(FILE *f, enum report_format fmt, const struct model *m)
{
	int i;
	size_t j, v;

	heading(f, fmt, 1, "Findings");
	for (i = 0; i < NFINDINGS; i++) {
		const struct finding *x = &m->f[i];
		bool md = fmt == REPORT_MARKDOWN;

		fprintf(f, md ? "%d. **%s: %s**" : "%d. %s: %s", i + 1, x->claim, verdict_names[x->v]);
		if (x->n > 0)
			fprintf(f, " (supported by %zu of %zu comparisons)", x->nsupport, x->n);
		fputc('\n', f);
		fprintf(f, md ? "   - rule: %s\n" : "   rule: %s\n", x->rule);
		if (x->note[0])
			fprintf(f, md ? "   - note: %s\n" : "   note: %s\n", x->note);
		for (j = 0; j < x->n; j++) {
			const struct fcmp *c = &x->c[j];
			char a[48];

			fprintf(f, md ? "   - %s, %d VMs:" : "   %s, %d VMs:", c->context, c->bg_vms);
			for (v = 0; v < c->nv; v++)
				fprintf(f, "%s %s %s ms", v ? "," : "", c->name[v],
					signed_ms(a, sizeof(a), c->inc_ns[v], 3));
			fprintf(f, " -> %s\n", c->supports ? "supports" : "contradicts");
		}
		fputc('\n', f);
	}
}

static void emit_header(FILE *f, enum report_format fmt, const struct model *m)
{
	const struct experiment *e = m->e;
	char a[48], b[48];

	if (fmt == REPORT_MARKDOWN)
		fprintf(f, "# twamp-experiment report: %s\n\n", e->dir);
	else
		fprintf(f, "twamp-experiment report: %s\n", e->dir);
	fprintf(f, "backend %s, matrix %s, %zu finished scenarios (%zu unfinished ignored), "
		   "started %s, finished %s\n",
		e->backend[0] ? e->backend : "unknown",
		e->matrix_name[0] ? e->matrix_name : "unknown", e->n_scen, e->n_unfinished,
		when(a, sizeof(a), e->started_ns), when(b, sizeof(b), e->finished_ns));
	fputs("RTT in ms as each tool measured it (ping = iputils ping, icmp = twamp-client's ICMP "
	      "prober, twamp = TWAMP-Light), warm-up probes excluded, repetitions pooled.\n\n",
	      f);
}

static void write_tables(FILE *f, enum report_format fmt, const struct model *m)
{
	emit_header(f, fmt, m);
	emit_table2(f, fmt, m);
	emit_sensitivity(f, fmt, m);
	emit_points(f, fmt, m);
	emit_findings(f, fmt, m);
}

/* --- CSV ------------------------------------------------------------------------ */

static void csv_row(FILE *f, const char *section, const char *proto, const struct results_key *k,
		    int bg, const char *metric, const char *value)
{
	fprintf(f, "%s,%s,", section, proto ? proto : "");
	if (k)
		fprintf(f, "%s,%s,%s,%d,%s,", load_type_name(k->load), load_location_name(k->location),
			res_name(k->reservation), k->freq_hz, k->nic);
	else
		fputs(",,,,,", f);
	if (bg >= 0)
		fprintf(f, "%d", bg);
	fprintf(f, ",%s,", metric);
	/* Context strings of findings contain commas. */
	if (strpbrk(value, ",\"")) {
		fputc('"', f);
		for (; *value; value++) {
			if (*value == '"')
				fputc('"', f);
			fputc(*value, f);
		}
		fputc('"', f);
	} else {
		fputs(value, f);
	}
	fputc('\n', f);
}

static void csv_cell(FILE *f, const char *section, const struct model *m, size_t ki,
		     enum run_proto p, const struct results_key *gk)
{
	const struct cellp *c = cell(m, ki, p);
	const char *pn = run_proto_name(p);
	int bg = m->keys[ki].bg_vms;
	char a[48];

	snprintf(a, sizeof(a), "%zu", c->d.n);
	csv_row(f, section, pn, gk, bg, "n", a);
	csv_row(f, section, pn, gk, bg, "loss_pct", fixed(a, sizeof(a), loss_pct(c), 6));
	if (c->d.n == 0)
		return;
	csv_row(f, section, pn, gk, bg, "min_ms", ms(a, sizeof(a), c->d.min, 6));
	csv_row(f, section, pn, gk, bg, "median_ms", ms(a, sizeof(a), c->d.median, 6));
	csv_row(f, section, pn, gk, bg, "max_ms", ms(a, sizeof(a), c->d.max, 6));
	csv_row(f, section, pn, gk, bg, "mean_ms", ms(a, sizeof(a), c->d.mean, 6));
	csv_row(f, section, pn, gk, bg, "sd_ms", ms(a, sizeof(a), c->d.sd, 6));
	csv_row(f, section, pn, gk, bg, "p99_ms", ms(a, sizeof(a), c->d.p99, 6));
	csv_row(f, section, pn, gk, bg, "ci95_lo_ms", ms(a, sizeof(a), c->ci.lo, 6));
	csv_row(f, section, pn, gk, bg, "ci95_hi_ms", ms(a, sizeof(a), c->ci.hi, 6));
	if (c->have_base)
		csv_row(f, section, pn, gk, bg, "increase_ms", ms(a, sizeof(a), c->inc_ns, 6));
	if (c->have_mw) {
		snprintf(a, sizeof(a), "%.1f", c->mw.u);
		csv_row(f, section, pn, gk, bg, "mw_u", a);
		csv_row(f, section, pn, gk, bg, "mw_z", fixed(a, sizeof(a), c->mw.z, 6));
		snprintf(a, sizeof(a), "%.6g", c->mw.p);
		csv_row(f, section, pn, gk, bg, "mw_p", a);
	}
}

static void write_csv(FILE *f, const struct model *m)
{
	size_t i, gi, j, v;
	int p, q;
	char a[64], metric[96];

	fputs(REPORT_CSV_HEADER "\n", f);
	for (i = 0; i < m->nkeys; i++)
		for (p = 0; p < RUN_NPROTO; p++)
			if (m->keys[i].load == LOAD_NONE && cell(m, i, (enum run_proto)p)->present)
				csv_cell(f, "table2", m, i, (enum run_proto)p, &m->keys[i]);
	for (gi = 0; gi < m->ngroups; gi++) {
		const struct group *g = &m->groups[gi];
		long cols[MATRIX_MAX_VALUES + 1];
		size_t nc = group_columns(g, cols, MATRIX_MAX_VALUES + 1), c;

		for (c = 0; c < nc; c++) {
			const struct cellp *tw;

			if (cols[c] < 0)
				continue;
			for (p = 0; p < RUN_NPROTO; p++)
				if (cell(m, (size_t)cols[c], (enum run_proto)p)->present)
					csv_cell(f, "sensitivity", m, (size_t)cols[c], (enum run_proto)p,
						 &g->k);
			tw = cell(m, (size_t)cols[c], RUN_TWAMP);
			for (p = RUN_PING; p <= RUN_ICMP; p++) {
				const struct cellp *ic = cell(m, (size_t)cols[c], (enum run_proto)p);

				if (tw->d.n == 0 || ic->d.n == 0)
					continue;
				snprintf(metric, sizeof(metric), "twamp_minus_%s_median_ms",
					 run_proto_name((enum run_proto)p));
				csv_row(f, "sensitivity", "twamp", &g->k, m->keys[cols[c]].bg_vms, metric,
					ms(a, sizeof(a), tw->d.median - ic->d.median, 6));
			}
			for (p = 0; p < RUN_NPROTO; p++) {
				const struct cellp *x = cell(m, (size_t)cols[c], (enum run_proto)p);
				int bg = m->keys[cols[c]].bg_vms;
				double pct;

				if (!cell_points_any(x))
					continue;
				for (q = 0; q < RPOINT_N; q++) {
					if (!x->have_pt[q])
						continue;
					snprintf(metric, sizeof(metric), "mean_ms:%s",
						 result_point_name((enum result_point)q));
					csv_row(f, "points", run_proto_name((enum run_proto)p), &g->k, bg,
						metric, ms(a, sizeof(a), x->pt_mean[q], 6));
				}
				for (q = 0; q < NSEG; q++) {
					if (!segment_share(x, q, &pct))
						continue;
					snprintf(metric, sizeof(metric), "share_pct:%s", seg_names[q]);
					csv_row(f, "points", run_proto_name((enum run_proto)p), &g->k, bg,
						metric, fixed(a, sizeof(a), pct, 6));
				}
			}
		}
	}
	for (i = 0; i < NFINDINGS; i++) {
		const struct finding *x = &m->f[i];

		snprintf(metric, sizeof(metric), "%s:verdict", x->id);
		csv_row(f, "findings", NULL, NULL, -1, metric, verdict_names[x->v]);
		for (j = 0; j < x->n; j++) {
			const struct fcmp *c = &x->c[j];

			snprintf(metric, sizeof(metric), "%s:context", x->id);
			csv_row(f, "findings", NULL, NULL, c->bg_vms, metric, c->context);
			for (v = 0; v < c->nv; v++) {
				snprintf(metric, sizeof(metric), "%s:increase_ms:%s", x->id, c->name[v]);
				csv_row(f, "findings", NULL, NULL, c->bg_vms, metric,
					ms(a, sizeof(a), c->inc_ns[v], 6));
			}
		}
	}
}

/* --- JSON ------------------------------------------------------------------------ */

static int jadd(json_object *o, const char *k, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, k, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int jpush(json_object *a, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_array_add(a, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

static int jfixed(json_object *o, const char *k, double v, int decimals)
{
	char buf[64];

	if (!isfinite(v))
		return json_object_object_add(o, k, NULL) != 0 ? -ENOMEM : 0;
	return jadd(o, k, json_object_new_double_s(v, fixed(buf, sizeof(buf), v, decimals)));
}

static int jms(json_object *o, const char *k, double ns)
{
	return jfixed(o, k, ns / 1e6, 6);
}

static int jstr(json_object *o, const char *k, const char *s)
{
	return jadd(o, k, json_object_new_string(s));
}

static int jint(json_object *o, const char *k, int64_t v)
{
	return jadd(o, k, json_object_new_int64(v));
}

#define JTRY(expr)                                                                                 \
	do {                                                                                       \
		if ((expr) < 0)                                                                    \
			goto fail;                                                                 \
	} while (0)

static int jkey(json_object *o, const struct results_key *k, bool with_bg)
{
	JTRY(jstr(o, "load_type", load_type_name(k->load)));
	JTRY(jstr(o, "load_location", load_location_name(k->location)));
	JTRY(jadd(o, "reservation", json_object_new_boolean(k->reservation)));
	JTRY(jint(o, "freq_hz", k->freq_hz));
	JTRY(jstr(o, "nic", k->nic));
	if (with_bg)
		JTRY(jint(o, "bg_vms", k->bg_vms));
	return 0;
fail:
	return -ENOMEM;
}

static json_object *jcell(const struct model *m, size_t ki, enum run_proto p)
{
	const struct cellp *c = cell(m, ki, p);
	json_object *o = json_object_new_object(), *pts = NULL, *sh;
	int q;

	if (!o)
		return NULL;
	JTRY(jstr(o, "proto", run_proto_name(p)));
	JTRY(jint(o, "bg_vms", m->keys[ki].bg_vms));
	JTRY(jint(o, "n", (int64_t)c->d.n));
	JTRY(jint(o, "sent", (int64_t)c->tool.sent));
	JTRY(jint(o, "lost", (int64_t)c->tool.lost));
	JTRY(jfixed(o, "loss_pct", loss_pct(c), 6));
	if (c->d.n > 0) {
		JTRY(jms(o, "min_ms", c->d.min));
		JTRY(jms(o, "median_ms", c->d.median));
		JTRY(jms(o, "max_ms", c->d.max));
		JTRY(jms(o, "mean_ms", c->d.mean));
		JTRY(jms(o, "sd_ms", c->d.sd));
		JTRY(jms(o, "p99_ms", c->d.p99));
		JTRY(jms(o, "ci95_lo_ms", c->ci.lo));
		JTRY(jms(o, "ci95_hi_ms", c->ci.hi));
	}
	if (c->have_base)
		JTRY(jms(o, "increase_ms", c->inc_ns));
	if (c->have_mw) {
		json_object *mw = json_object_new_object();
		char buf[48];

		JTRY(jadd(o, "mann_whitney", mw));
		JTRY(jfixed(mw, "u", c->mw.u, 1));
		JTRY(jfixed(mw, "z", c->mw.z, 6));
		snprintf(buf, sizeof(buf), "%.6g", c->mw.p);
		JTRY(jadd(mw, "p", json_object_new_double_s(c->mw.p, buf)));
	}
	if (cell_points_any(c)) {
		pts = json_object_new_object();
		JTRY(jadd(o, "points_mean_ms", pts));
		for (q = 0; q < RPOINT_N; q++)
			if (c->have_pt[q])
				JTRY(jms(pts, result_point_name((enum result_point)q), c->pt_mean[q]));
		sh = json_object_new_object();
		JTRY(jadd(o, "segment_share_pct", sh));
		for (q = 0; q < NSEG; q++) {
			double pct;

			if (segment_share(c, q, &pct))
				JTRY(jfixed(sh, seg_names[q], pct, 6));
		}
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}

static json_object *json_build(const struct model *m)
{
	const struct experiment *e = m->e;
	json_object *root = json_object_new_object(), *a, *g, *cells, *x;
	size_t i, j, v, gi;
	int p;

	if (!root)
		return NULL;
	JTRY(jstr(root, "schema", REPORT_SCHEMA));
	JTRY(jstr(root, "dir", e->dir));
	JTRY(jstr(root, "backend", e->backend));
	JTRY(jstr(root, "matrix", e->matrix_name));
	JTRY(jint(root, "scenarios", (int64_t)e->n_scen));
	JTRY(jint(root, "unfinished", (int64_t)e->n_unfinished));
	JTRY(jint(root, "bootstrap_b", ANALYSIS_BOOTSTRAP_B));
	JTRY(jfixed(root, "ci_level", ANALYSIS_CI_LEVEL, 2));

	a = json_object_new_array();
	JTRY(jadd(root, "table2", a));
	for (i = 0; i < m->nkeys; i++)
		for (p = 0; p < RUN_NPROTO; p++) {
			if (m->keys[i].load != LOAD_NONE || !cell(m, i, (enum run_proto)p)->present)
				continue;
			x = jcell(m, i, (enum run_proto)p);
			JTRY(jpush(a, x));
			JTRY(jkey(x, &m->keys[i], false));
		}

	a = json_object_new_array();
	JTRY(jadd(root, "sensitivity", a));
	for (gi = 0; gi < m->ngroups; gi++) {
		const struct group *gr = &m->groups[gi];
		long cols[MATRIX_MAX_VALUES + 1];
		size_t nc = group_columns(gr, cols, MATRIX_MAX_VALUES + 1), c;
		json_object *bgs, *diffs;

		g = json_object_new_object();
		JTRY(jpush(a, g));
		JTRY(jkey(g, &gr->k, false));
		bgs = json_object_new_array();
		JTRY(jadd(g, "bg_vms", bgs));
		cells = json_object_new_array();
		JTRY(jadd(g, "cells", cells));
		diffs = json_object_new_array();
		JTRY(jadd(g, "differences", diffs));
		for (c = 0; c < nc; c++) {
			const struct cellp *tw;

			if (cols[c] < 0)
				continue;
			JTRY(jpush(bgs, json_object_new_int(m->keys[cols[c]].bg_vms)));
			for (p = 0; p < RUN_NPROTO; p++)
				if (cell(m, (size_t)cols[c], (enum run_proto)p)->present)
					JTRY(jpush(cells, jcell(m, (size_t)cols[c], (enum run_proto)p)));
			tw = cell(m, (size_t)cols[c], RUN_TWAMP);
			for (p = RUN_PING; p <= RUN_ICMP; p++) {
				const struct cellp *ic = cell(m, (size_t)cols[c], (enum run_proto)p);
				char k[48];

				if (tw->d.n == 0 || ic->d.n == 0)
					continue;
				x = json_object_new_object();
				JTRY(jpush(diffs, x));
				JTRY(jint(x, "bg_vms", m->keys[cols[c]].bg_vms));
				snprintf(k, sizeof(k), "twamp_minus_%s_median_ms",
					 run_proto_name((enum run_proto)p));
				JTRY(jms(x, k, tw->d.median - ic->d.median));
			}
		}
	}

	a = json_object_new_array();
	JTRY(jadd(root, "findings", a));
	for (i = 0; i < NFINDINGS; i++) {
		const struct finding *f = &m->f[i];
		json_object *cmps;

		g = json_object_new_object();
		JTRY(jpush(a, g));
		JTRY(jstr(g, "id", f->id));
		JTRY(jstr(g, "claim", f->claim));
		JTRY(jstr(g, "verdict", verdict_names[f->v]));
		JTRY(jstr(g, "rule", f->rule));
		if (f->note[0])
			JTRY(jstr(g, "note", f->note));
		JTRY(jint(g, "supporting", (int64_t)f->nsupport));
		cmps = json_object_new_array();
		JTRY(jadd(g, "comparisons", cmps));
		for (j = 0; j < f->n; j++) {
			json_object *inc;

			x = json_object_new_object();
			JTRY(jpush(cmps, x));
			JTRY(jstr(x, "context", f->c[j].context));
			JTRY(jint(x, "bg_vms", f->c[j].bg_vms));
			inc = json_object_new_object();
			JTRY(jadd(x, "increase_ms", inc));
			for (v = 0; v < f->c[j].nv; v++)
				JTRY(jms(inc, f->c[j].name[v], f->c[j].inc_ns[v]));
			JTRY(jadd(x, "supports", json_object_new_boolean(f->c[j].supports)));
		}
	}
	return root;
fail:
	json_object_put(root);
	return NULL;
}

static int write_json(FILE *f, const struct model *m)
{
	json_object *root = json_build(m);
	const char *s;
	int rc = 0;

	if (!root)
		return -ENOMEM;
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		rc = -ENOMEM;
	else if (fputs(s, f) == EOF || fputc('\n', f) == EOF)
		rc = -EIO;
	json_object_put(root);
	return rc;
}

int report_write(const struct experiment *e, enum report_format fmt, FILE *out)
{
	struct model m;
	int rc;

	if (!e || !out || (unsigned)fmt > REPORT_JSON)
		return -EINVAL;
	rc = model_build(&m, e);
	if (rc < 0)
		goto out;
	switch (fmt) {
	case REPORT_TEXT:
	case REPORT_MARKDOWN:
		write_tables(out, fmt, &m);
		break;
	case REPORT_CSV:
		write_csv(out, &m);
		break;
	case REPORT_JSON:
		rc = write_json(out, &m);
		break;
	}
	if (rc == 0 && (fflush(out) == EOF || ferror(out)))
		rc = -EIO;
out:
	model_free(&m);
	return rc;
}
