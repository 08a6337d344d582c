/*
 * The output funnel: one place decides how a result looks as text, JSON
 * and CSV, so that the three never disagree about what is unknown.  A value
 * is unknown (JSON null, empty CSV field, absent from text) when it was not
 * measured: times left at 0, delays of lost or skipped probes, delays built
 * on corrupt timestamps (A10), one-way delays without synchronized clocks,
 * distributions without samples.  Doubles are serialised from fixed-point
 * strings (ns resolution: 6 decimals in ms, 3 in us) so files show no
 * binary floating-point noise.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "output.h"

#define NS_PER_MS 1e6
#define NS_PER_US 1e3

static const char *const format_names[] = {
	[OUTPUT_TEXT] = "text",
	[OUTPUT_JSON] = "json",
	[OUTPUT_CSV] = "csv",
};

int output_format_parse(const char *s, enum output_format *out)
{
	size_t i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
		if (strcmp(s, format_names[i]) == 0) {
			*out = (enum output_format)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *output_format_name(enum output_format f)
{
	if ((unsigned)f < sizeof(format_names) / sizeof(format_names[0]))
		return format_names[f];
	return "unknown";
}

/* Fixed-point rendering without "-0.000" for values that round to zero. */
static const char *fmt_fixed(char *buf, size_t size, double v, int decimals)
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

/* Which per-probe values are known; shared by JSON, CSV and text. */
struct probe_view {
	bool lost, has_reply, has_delay, has_one_way, has_proc, has_ttl;
};

static struct probe_view probe_view_of(const struct probe_result *p)
{
	struct probe_view v;

	v.lost = p->sent && !p->received;
	v.has_reply = p->sent && p->received;
	v.has_delay = v.has_reply && p->ts_valid;
	v.has_one_way = v.has_delay && p->one_way_valid;
	v.has_proc = v.has_delay && p->proto == PROBE_TWAMP;
	v.has_ttl = v.has_reply && p->ttl >= 0;
	return v;
}

/* --- JSON ---------------------------------------------------------------- */

/* Adds v under k; v == NULL means an allocation failed. */
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

static int jadd_null(json_object *o, const char *k)
{
	return json_object_object_add(o, k, NULL) != 0 ? -ENOMEM : 0;
}

static int jadd_i64(json_object *o, const char *k, int64_t v)
{
	return jadd(o, k, json_object_new_int64(v));
}

/* Counts: json-c >= 0.13 has no uint64 constructor; counts never reach 2^63. */
static int jadd_count(json_object *o, const char *k, uint64_t v)
{
	return jadd_i64(o, k, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static int jadd_i64_if(json_object *o, const char *k, int64_t v, bool known)
{
	return known ? jadd_i64(o, k, v) : jadd_null(o, k);
}

/* Instants: 0 means "not taken". */
static int jadd_time(json_object *o, const char *k, int64_t v, bool known)
{
	return jadd_i64_if(o, k, v, known && v != 0);
}

static int jadd_bool(json_object *o, const char *k, bool v)
{
	return jadd(o, k, json_object_new_boolean(v));
}

static int jadd_str(json_object *o, const char *k, const char *s)
{
	return s ? jadd(o, k, json_object_new_string(s)) : jadd_null(o, k);
}

static int jadd_fixed(json_object *o, const char *k, double v, int decimals)
{
	char buf[64];

	if (!isfinite(v))
		return jadd_null(o, k);
	fmt_fixed(buf, sizeof(buf), v, decimals);
	return jadd(o, k, json_object_new_double_s(v, buf));
}

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		rc = (expr);                                                                       \
		if (rc < 0)                                                                        \
			goto fail;                                                                 \
	} while (0)

/* D: a distribution in ns shown in the unit of div (ns per unit), or null. */
static int jadd_dist(json_object *o, const char *k, const struct stats_dist *d, double div,
		     int decimals)
{
	json_object *j;
	int rc;

	if (d->n == 0)
		return jadd_null(o, k);
	j = json_object_new_object();
	if (!j)
		return -ENOMEM;
	TRY(jadd_count(j, "n", d->n));
	TRY(jadd_fixed(j, "min", d->min / div, decimals));
	TRY(jadd_fixed(j, "p25", d->p25 / div, decimals));
	TRY(jadd_fixed(j, "median", d->median / div, decimals));
	TRY(jadd_fixed(j, "p75", d->p75 / div, decimals));
	TRY(jadd_fixed(j, "p90", d->p90 / div, decimals));
	TRY(jadd_fixed(j, "p99", d->p99 / div, decimals));
	TRY(jadd_fixed(j, "max", d->max / div, decimals));
	TRY(jadd_fixed(j, "mean", d->mean / div, decimals));
	TRY(jadd_fixed(j, "sd", d->sd / div, decimals));
	return jadd(o, k, j);
fail:
	json_object_put(j);
	return rc;
}

static json_object *json_host(const struct host_info *h, int *rc_out)
{
	json_object *j = json_object_new_object();
	int rc = -ENOMEM;

	if (!j)
		goto fail;
	TRY(jadd_str(j, "hostname", h->hostname));
	TRY(jadd_str(j, "kernel", h->kernel));
	TRY(jadd_str(j, "machine", h->machine));
	TRY(jadd_str(j, "clocksource", h->clocksource));
	TRY(jadd_i64_if(j, "ncpu", h->ncpu, h->ncpu > 0));
	if (h->clock_status_known) {
		TRY(jadd_bool(j, "clock_synced", h->clock.synced));
		TRY(jadd_count(j, "clock_max_error_ns", h->clock.max_error_ns));
	} else {
		TRY(jadd_null(j, "clock_synced"));
		TRY(jadd_null(j, "clock_max_error_ns"));
	}
	TRY(jadd_str(j, "tstamp_rx", h->tstamp_rx));
	TRY(jadd_str(j, "tstamp_tx", h->tstamp_tx));
	return j;
fail:
	json_object_put(j);
	*rc_out = rc;
	return NULL;
}

static int jadd_config(json_object *o, const struct output_kv *kv, size_t n)
{
	json_object *j = json_object_new_object();
	char buf[64];
	size_t i;
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		if (!kv[i].key)
			continue;
		switch (kv[i].type) {
		case OUTPUT_KV_STRING:
			TRY(jadd_str(j, kv[i].key, kv[i].s));
			break;
		case OUTPUT_KV_INT:
			TRY(jadd_i64(j, kv[i].key, kv[i].i));
			break;
		case OUTPUT_KV_BOOL:
			TRY(jadd_bool(j, kv[i].key, kv[i].b));
			break;
		case OUTPUT_KV_DOUBLE:
			/* %.15g: 0.001 stays 0.001, not 0.0010000000000000000208. */
			if (!isfinite(kv[i].d)) {
				TRY(jadd_null(j, kv[i].key));
				break;
			}
			snprintf(buf, sizeof(buf), "%.15g", kv[i].d);
			TRY(jadd(j, kv[i].key, json_object_new_double_s(kv[i].d, buf)));
			break;
		default:
			TRY(jadd_null(j, kv[i].key));
			break;
		}
	}
	return jadd(o, "config", j);
fail:
	json_object_put(j);
	return rc;
}

static int jadd_probe(json_object *arr, const struct probe_result *p)
{
	struct probe_view v = probe_view_of(p);
	json_object *j = json_object_new_object();
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	TRY(jadd_str(j, "proto", probe_proto_name(p->proto)));
	TRY(jadd_i64(j, "seq", p->seq));
	TRY(jadd_i64_if(j, "refl_seq", p->refl_seq, v.has_reply));
	TRY(jadd_time(j, "t1_ns", p->t1_ns, p->sent));
	TRY(jadd_time(j, "t1_wire_ns", p->t1_wire_ns ? p->t1_wire_ns : p->t1_ns, p->sent));
	TRY(jadd_str(j, "t1_src", ts_source_name(p->t1_src)));
	TRY(jadd_time(j, "t2_ns", p->t2_ns, v.has_reply));
	TRY(jadd_time(j, "t3_ns", p->t3_ns, v.has_reply));
	TRY(jadd_time(j, "t4_ns", p->t4_ns, v.has_reply));
	TRY(jadd_str(j, "t4_src", ts_source_name(v.has_reply ? p->t4_src : TS_SRC_NONE)));
	TRY(jadd_i64_if(j, "rtt_ns", p->rtt_ns, v.has_delay));
	TRY(jadd_i64_if(j, "fwd_ns", p->fwd_ns, v.has_one_way));
	TRY(jadd_i64_if(j, "bwd_ns", p->bwd_ns, v.has_one_way));
	TRY(jadd_i64_if(j, "proc_ns", p->proc_ns, v.has_proc));
	TRY(jadd_i64_if(j, "ttl", p->ttl, v.has_ttl));
	TRY(jadd_bool(j, "lost", v.lost));
	TRY(jadd_i64(j, "dup", p->dup));
	if (!p->sent)
		TRY(jadd_bool(j, "skipped", true));
	TRY(jadd_bool(j, "one_way_valid", p->one_way_valid));
	/* Only the exception is spelled out, like "skipped". */
	if (v.has_reply && !p->ts_valid)
		TRY(jadd_bool(j, "ts_valid", false));
	if (json_object_array_add(arr, j) != 0)
		goto fail;
	return 0;
fail:
	json_object_put(j);
	return rc;
}

static int jadd_summary(json_object *o, const char *k, const struct stats_summary *s)
{
	json_object *j = json_object_new_object(), *split;
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	TRY(jadd_count(j, "sent", s->sent));
	TRY(jadd_count(j, "received", s->received));
	TRY(jadd_count(j, "lost", s->lost));
	TRY(jadd_fixed(j, "loss_pct", s->loss_pct, 6));
	TRY(jadd_count(j, "duplicates", s->duplicates));
	TRY(jadd_count(j, "reordered", s->reordered));
	TRY(jadd_count(j, "skipped", s->skipped));
	TRY(jadd_count(j, "invalid_ts", s->invalid_ts));
	if (s->loss_split_valid) {
		split = json_object_new_object();
		rc = -ENOMEM;
		if (!split)
			goto fail;
		if (jadd_count(split, "forward", s->fwd_lost) < 0 ||
		    jadd_count(split, "reverse", s->bwd_lost) < 0) {
			json_object_put(split);
			goto fail;
		}
		TRY(jadd(j, "loss_split", split));
	} else {
		TRY(jadd_null(j, "loss_split"));
	}
	TRY(jadd_bool(j, "one_way_valid", s->one_way_valid));
	TRY(jadd_dist(j, "rtt_ms", &s->rtt, NS_PER_MS, 6));
	if (s->one_way_valid) {
		TRY(jadd_dist(j, "fwd_ms", &s->fwd, NS_PER_MS, 6));
		TRY(jadd_dist(j, "bwd_ms", &s->bwd, NS_PER_MS, 6));
	} else {
		TRY(jadd_null(j, "fwd_ms"));
		TRY(jadd_null(j, "bwd_ms"));
	}
	TRY(jadd_dist(j, "proc_ms", &s->proc, NS_PER_MS, 6));
	TRY(jadd_dist(j, "ipdv_ms", &s->ipdv, NS_PER_MS, 6));
	return jadd(o, k, j);
fail:
	json_object_put(j);
	return rc;
}

static int json_build(const struct result *r, json_object **out)
{
	json_object *root = json_object_new_object(), *j = NULL, *summary, *sched;
	size_t i;
	int rc = -ENOMEM, p;

	if (!root)
		return -ENOMEM;
	TRY(jadd_str(root, "schema", OUTPUT_SCHEMA));

	j = json_object_new_object();
	if (!j)
		goto fail;
	TRY(jadd_str(j, "name", r->tool_name));
	TRY(jadd_str(j, "version", r->tool_version));
	rc = jadd(root, "tool", j);
	j = NULL;
	if (rc < 0)
		goto fail;

	rc = -ENOMEM;
	j = json_host(&r->host, &rc);
	if (!j)
		goto fail;
	rc = jadd(root, "host", j);
	j = NULL;
	if (rc < 0)
		goto fail;

	TRY(jadd_str(root, "target", r->target));
	TRY(jadd_time(root, "start_ns", r->start_ns, true));
	TRY(jadd_time(root, "end_ns", r->end_ns, true));
	TRY(jadd_bool(root, "interrupted", r->interrupted));
	TRY(jadd_config(root, r->config, r->config ? r->n_config : 0));

	rc = -ENOMEM;
	j = json_object_new_array();
	if (!j)
		goto fail;
	for (i = 0; r->probes && i < r->n_probes; i++)
		TRY(jadd_probe(j, &r->probes[i]));
	rc = jadd(root, "probes", j);
	j = NULL;
	if (rc < 0)
		goto fail;

	rc = -ENOMEM;
	summary = json_object_new_object();
	if (!summary)
		goto fail;
	TRY(jadd(root, "summary", summary));
	for (p = 0; p < PROBE_NPROTO; p++)
		if (r->have[p])
			TRY(jadd_summary(summary, probe_proto_name((enum probe_proto)p),
					 &r->summary[p]));
	rc = -ENOMEM;
	sched = json_object_new_object();
	if (!sched)
		goto fail;
	TRY(jadd(summary, "schedule", sched));
	TRY(jadd_dist(sched, "lateness_us", &r->schedule.lateness, NS_PER_US, 3));
	TRY(jadd_count(sched, "skipped", r->schedule.skipped));
	TRY(jadd_dist(sched, "send_call_us", &r->schedule.send_call, NS_PER_US, 3));
	if (r->have_diff) {
		json_object *diff = json_object_new_object();
		rc = -ENOMEM;
		if (!diff)
			goto fail;
		TRY(jadd(summary, "difference", diff));
		TRY(jadd_count(diff, "pairs", r->diff.n));
		TRY(jadd_dist(diff, "twamp_minus_icmp_ms", &r->diff, NS_PER_MS, 6));
	}

	*out = root;
	return 0;
fail:
	json_object_put(j);
	json_object_put(root);
	return rc;
}

static int write_json(const struct result *r, FILE *f)
{
	json_object *root = NULL;
	const char *s;
	int rc;

	rc = json_build(r, &root);
	if (rc < 0)
		return rc;
	s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
							 JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		rc = -ENOMEM;
	else if (fputs(s, f) == EOF || fputc('\n', f) == EOF)
		rc = -EIO;
	json_object_put(root);
	return rc;
}

/* --- CSV ----------------------------------------------------------------- */

static void csv_i64(FILE *f, int64_t v, bool known)
{
	if (known)
		fprintf(f, ",%" PRId64, v);
	else
		fputc(',', f);
}

static void write_csv(const struct result *r, FILE *f)
{
	size_t i;

	fputs("proto,seq,refl_seq,t1_ns,t2_ns,t3_ns,t4_ns,rtt_ns,fwd_ns,bwd_ns,proc_ns,ttl,lost,dup\n",
	      f);
	for (i = 0; r->probes && i < r->n_probes; i++) {
		const struct probe_result *p = &r->probes[i];
		struct probe_view v = probe_view_of(p);

		fprintf(f, "%s,%" PRIu32, probe_proto_name(p->proto), p->seq);
		csv_i64(f, p->refl_seq, v.has_reply);
		csv_i64(f, p->t1_ns, p->sent && p->t1_ns != 0);
		csv_i64(f, p->t2_ns, v.has_reply && p->t2_ns != 0);
		csv_i64(f, p->t3_ns, v.has_reply && p->t3_ns != 0);
		csv_i64(f, p->t4_ns, v.has_reply && p->t4_ns != 0);
		csv_i64(f, p->rtt_ns, v.has_delay);
		csv_i64(f, p->fwd_ns, v.has_one_way);
		csv_i64(f, p->bwd_ns, v.has_one_way);
		csv_i64(f, p->proc_ns, v.has_proc);
		csv_i64(f, p->ttl, v.has_ttl);
		fprintf(f, ",%d,%u\n", v.lost ? 1 : 0, (unsigned)p->dup);
	}
}

/* --- text ---------------------------------------------------------------- */

/* ns -> "x.yyy" ms, as ping prints. */
static const char *ms3(char *buf, size_t size, double ns)
{
	return fmt_fixed(buf, size, ns / NS_PER_MS, 3);
}

void output_text_probe(FILE *f, const struct probe_result *p)
{
	struct probe_view v;
	char a[48], b[48];

	if (!f || !p)
		return;
	v = probe_view_of(p);
	fprintf(f, "%s seq=%" PRIu32, probe_proto_name(p->proto), p->seq);
	if (!p->sent) {
		fputs(" skipped\n", f);
		return;
	}
	if (v.lost) {
		fputs(" lost\n", f);
		return;
	}
	if (v.has_delay)
		fprintf(f, " rtt=%s ms", ms3(a, sizeof(a), (double)p->rtt_ns));
	else
		fputs(" invalid timestamps", f);
	if (v.has_one_way)
		fprintf(f, " fwd=%s ms bwd=%s ms", ms3(a, sizeof(a), (double)p->fwd_ns),
			ms3(b, sizeof(b), (double)p->bwd_ns));
	if (v.has_proc)
		fprintf(f, " proc=%s ms", ms3(a, sizeof(a), (double)p->proc_ns));
	if (v.has_ttl)
		fprintf(f, " ttl=%d", p->ttl);
	if (p->dup)
		fprintf(f, " (DUP x%u)", (unsigned)p->dup);
	fputc('\n', f);
}

static void text_summary(FILE *f, const char *target, enum probe_proto proto,
			 const struct stats_summary *s)
{
	char a[48], b[48], c[48], d[48], e[48];

	fprintf(f, "--- %s %s statistics ---\n", target ? target : "?", probe_proto_name(proto));
	fprintf(f, "%" PRIu64 " sent, %" PRIu64 " received, %g%% loss, %" PRIu64
		   " duplicates, %" PRIu64 " reordered",
		s->sent, s->received, s->loss_pct, s->duplicates, s->reordered);
	if (s->skipped)
		fprintf(f, ", %" PRIu64 " skipped", s->skipped);
	if (s->invalid_ts)
		fprintf(f, ", %" PRIu64 " invalid timestamps", s->invalid_ts);
	fputc('\n', f);
	if (s->loss_split_valid)
		fprintf(f, "loss forward/reverse = %" PRIu64 "/%" PRIu64 "\n", s->fwd_lost,
			s->bwd_lost);
	if (s->rtt.n == 0)
		return;
	fprintf(f, "rtt min/median/max/mean/sd = %s/%s/%s/%s/%s ms\n",
		ms3(a, sizeof(a), s->rtt.min), ms3(b, sizeof(b), s->rtt.median),
		ms3(c, sizeof(c), s->rtt.max), ms3(d, sizeof(d), s->rtt.mean),
		ms3(e, sizeof(e), s->rtt.sd));
	fprintf(f, "rtt p25/p75/p90/p99 = %s/%s/%s/%s ms\n", ms3(a, sizeof(a), s->rtt.p25),
		ms3(b, sizeof(b), s->rtt.p75), ms3(c, sizeof(c), s->rtt.p90),
		ms3(d, sizeof(d), s->rtt.p99));
	if (proto == PROBE_TWAMP) {
		if (s->one_way_valid && s->fwd.n > 0)
			fprintf(f, "one-way fwd/bwd median = %s/%s ms\n",
				ms3(a, sizeof(a), s->fwd.median), ms3(b, sizeof(b), s->bwd.median));
		else
			fputs("one-way delays: clocks not synchronized\n", f);
	}
	if (s->proc.n > 0)
		fprintf(f, "reflector processing median = %s ms\n",
			ms3(a, sizeof(a), s->proc.median));
	if (s->ipdv.n > 0)
		fprintf(f, "ipdv median/p99 = %s/%s ms\n", ms3(a, sizeof(a), s->ipdv.median),
			ms3(b, sizeof(b), s->ipdv.p99));
}

static void write_text(const struct result *r, FILE *f)
{
	char a[48], b[48], c[48], d[48];
	int p;

	for (p = 0; p < PROBE_NPROTO; p++)
		if (r->have[p])
			text_summary(f, r->target, (enum probe_proto)p, &r->summary[p]);
	if (r->schedule.lateness.n > 0)
		fprintf(f, "schedule: lateness median/p99 = %s/%s us, %" PRIu64 " skipped\n",
			fmt_fixed(a, sizeof(a), r->schedule.lateness.median / NS_PER_US, 3),
			fmt_fixed(b, sizeof(b), r->schedule.lateness.p99 / NS_PER_US, 3),
			r->schedule.skipped);
	else
		fprintf(f, "schedule: %" PRIu64 " skipped\n", r->schedule.skipped);
	if (r->have_diff && r->diff.n > 0)
		fprintf(f, "twamp - icmp rtt per probe (%zu pairs): min/median/max = %s/%s/%s ms, p99 %s ms\n",
			r->diff.n, ms3(a, sizeof(a), r->diff.min), ms3(b, sizeof(b), r->diff.median),
			ms3(c, sizeof(c), r->diff.max), ms3(d, sizeof(d), r->diff.p99));
	if (r->interrupted)
		fputs("interrupted: partial results\n", f);
}

int output_write(const struct result *r, enum output_format fmt, FILE *f)
{
	int rc = 0;

	if (!r || !f)
		return -EINVAL;
	switch (fmt) {
	case OUTPUT_TEXT:
		write_text(r, f);
		break;
	case OUTPUT_JSON:
		rc = write_json(r, f);
		break;
	case OUTPUT_CSV:
		write_csv(r, f);
		break;
	default:
		return -EINVAL;
	}
	if (rc < 0)
		return rc;
	if (fflush(f) == EOF || ferror(f))
		return -EIO;
	return 0;
}
