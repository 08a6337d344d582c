/*
 * The one output funnel for results: text (ping/twping habits), JSON
 * (schema "twampkit.result/1", DESIGN.md §3, via json-c) and CSV (one row
 * per probe).  Programs fill a struct result and call output_write once at
 * the end (or on SIGINT with what they have); per-probe text lines for -v
 * go through output_text_probe as replies arrive.
 */
#ifndef TK_OUTPUT_H
#define TK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "hostinfo.h"
#include "stats.h"

#define OUTPUT_SCHEMA "twampkit.result/1"

enum output_format {
	OUTPUT_TEXT = 0,
	OUTPUT_JSON,
	OUTPUT_CSV,
};

int output_format_parse(const char *s, enum output_format *out);
const char *output_format_name(enum output_format f);

/* One entry of the "config" object: every option in effect. */
enum output_kv_type { OUTPUT_KV_STRING, OUTPUT_KV_INT, OUTPUT_KV_BOOL, OUTPUT_KV_DOUBLE };
struct output_kv {
	const char *key;
	enum output_kv_type type;
	const char *s;
	long long i;
	bool b;
	double d;
};

/* Schedule adherence of the sender (DESIGN.md §3 "schedule"). */
struct output_schedule {
	struct stats_dist lateness;   /* send time minus deadline, ns */
	struct stats_dist send_call;  /* duration of the send system call, ns */
	uint64_t skipped;
};

struct result {
	const char *tool_name;
	const char *tool_version;
	const char *target;           /* "HOST:PORT" as resolved */
	struct host_info host;
	const struct output_kv *config;
	size_t n_config;
	const struct probe_result *probes;   /* in send order; may mix protocols */
	size_t n_probes;
	bool have[PROBE_NPROTO];             /* which protocols ran */
	struct stats_summary summary[PROBE_NPROTO];
	struct output_schedule schedule;
	/* TWAMP and ICMP interleaved: per probe number, TWAMP RTT minus ICMP RTT (ns). */
	bool have_diff;
	struct stats_dist diff;
	bool interrupted;                    /* run cut short (SIGINT): partial but valid */
	int64_t start_ns, end_ns;            /* Unix ns */
};

/*
 * Writes the whole result to f in format fmt.  Text: a summary per protocol
 * ("N sent, N received, x% loss" and "rtt min/median/max/mean/sd").  JSON: one object,
 * integer ns for instants and durations in probes, ms doubles in the
 * summary, null for figures that have no samples.  CSV: a header line and
 * one row per probe.  Returns 0, -ENOMEM or -EIO.
 */
int output_write(const struct result *r, enum output_format fmt, FILE *f);

/* One per-probe text line (ping habit), for -v while the run goes. */
void output_text_probe(FILE *f, const struct probe_result *p);

#endif
