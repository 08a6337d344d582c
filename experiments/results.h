/*
 * Reading a twamp-experiment run directory back (DESIGN.md §3): the
 * manifest, and for every finished scenario (those with a "done" marker)
 * its parameters and RTT samples per protocol (ping, icmp, twamp) and per
 * point: "tool" (the RTT each tool recorded itself) and the six capture
 * points of points.csv.  Warm-up probes (seq < warmup) are dropped here, so
 * every consumer (summary.csv, report, plots) sees the same samples.  Also
 * writes DIR/summary.csv, atomically, for the runner after each scenario.
 */
#ifndef TK_RESULTS_H
#define TK_RESULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "matrix.h"

#define RESULTS_MANIFEST_SCHEMA "twampkit.experiment/1"
#define RESULTS_SUMMARY_HEADER                                                                     \
	"scenario,reservation,load_type,load_location,bg_vms,nic,freq_hz,proto,point,n,min_ms,"    \
	"median_ms,max_ms,mean_ms,sd_ms,p99_ms,loss_pct"

/* Where an RTT was taken, outermost first: the tool, then the capture points in path order. */
enum result_point {
	RPOINT_TOOL = 0,
	RPOINT_SENDER_VM,
	RPOINT_SENDER_BRIDGE,
	RPOINT_SENDER_HOST,
	RPOINT_RECEIVER_HOST,
	RPOINT_RECEIVER_BRIDGE,
	RPOINT_RECEIVER_VM,
	RPOINT_N,
};

/* "tool", "sender-vm", ... "receiver-vm"; "unknown" out of range. */
const char *result_point_name(enum result_point p);
/* 0 or -EINVAL. */
int result_point_parse(const char *s, enum result_point *out);

/* RTT samples of one protocol at one point (warm-up excluded). */
struct result_samples {
	bool present;      /* the file that would hold them exists and named this proto/point */
	int64_t *rtt_ns;   /* usable RTTs in file order; malloc'd, owned */
	size_t n, cap;
	uint64_t sent;     /* tool: probes sent; capture point: probe rows */
	uint64_t lost;     /* tool: probes without a reply; capture point: rows without an RTT */
};

struct result_scenario {
	struct scenario sc;                                /* from params.json */
	struct result_samples s[RUN_NPROTO][RPOINT_N];
};

struct experiment {
	char *dir;                       /* as given to results_load; owned */
	struct json_object *manifest;    /* parsed manifest.json; owned (json_object_put) */
	char backend[32];                /* manifest "backend", "" when absent */
	char matrix_name[64];            /* manifest matrix.name, "" when absent */
	int64_t started_ns, finished_ns; /* 0 when absent */
	struct result_scenario *scen;    /* finished scenarios, sorted (results_key_cmp, then rep, id) */
	size_t n_scen;
	size_t n_unfinished;             /* scenario directories without "done", ignored */
};

/*
 * Loads dir.  Unfinished scenarios are counted and skipped; a finished one
 * with a missing or malformed params.json, client.json, ping.json or
 * points.csv is an error naming the file (and line for CSV).  Missing
 * result files are not errors: that protocol or point is simply absent.
 * *out is malloc'd; free with results_free.  0, -ENOENT (no manifest),
 * -EBADMSG (malformed file), -ENOMEM, or another -errno from the file
 * system; err gets a one-line message.
 */
int results_load(const char *dir, struct experiment **out, char *err, size_t errlen);
void results_free(struct experiment *e);

/* summary.csv content (header + one row per scenario x protocol x point with data) to f. 0 or -EIO. */
int results_summary_write(const struct experiment *e, FILE *f);

/*
 * Loads dir and writes dir/summary.csv through a temporary file and
 * rename(), so a reader never sees a half-written file.  0 or -errno with err.
 */
int results_write_summary(const char *dir, char *err, size_t errlen);

/*
 * The identity of a cell of the design: a scenario without its repetition.
 * Repetitions of the same cell are pooled by the report and the plots.
 */
struct results_key {
	bool reservation;
	enum load_type load;
	enum load_location location;
	int bg_vms;
	char nic[16];
	int freq_hz;
};

void results_key_of(const struct scenario *sc, struct results_key *k);
/* Order: reservation, freq, nic, load, location, bg_vms. */
int results_key_cmp(const struct results_key *a, const struct results_key *b);
/* The no-load baseline of k's reservation, freq and nic (load none, 0 background VMs). */
void results_key_baseline(const struct results_key *k, struct results_key *out);

/* Distinct keys of e's scenarios in results_key_cmp order.  *out malloc'd.  0 or -ENOMEM. */
int results_keys(const struct experiment *e, struct results_key **out, size_t *n);

/*
 * Pools the samples of every repetition of key k for proto and point into
 * out (which the caller frees with results_samples_free).  out->present is
 * false when no repetition had them.  0 or -ENOMEM.
 */
int results_pool(const struct experiment *e, const struct results_key *k, enum run_proto proto,
		 enum result_point pt, struct result_samples *out);
void results_samples_free(struct result_samples *s);

#endif
