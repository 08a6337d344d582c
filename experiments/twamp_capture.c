/*
 * twamp-capture: where on the path is round-trip time spent?  Captures at
 * several points at once (live interfaces, possibly in other network
 * namespaces, or pcap/pcapng files), recognises TWAMP-Test, STAMP and ICMP
 * echo, pairs each request with its reply at every point and reports the
 * per-point RTT of every probe plus a distribution per point and protocol
 * (DESIGN.md §2, result schema "twampkit.capture/1").  A live capture runs
 * until -d expires or SIGINT/SIGTERM, and still writes its result then: the
 * frames already in the kernel ring are drained first.
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "capture.h"
#include "capture_match.h"
#include "hostinfo.h"
#include "output.h"
#include "parse.h"
#include "stats.h"
#include "tstamp.h"

#define PROG "twamp-capture"
#define SCHEMA "twampkit.capture/1"
#define MAX_POINT_NAME 64
#define DRAIN_BUDGET 4096 /* frames per point per poll round, so no point starves */

struct point {
	char name[MAX_POINT_NAME + 1];
	const char *spec;            /* IFACE[@NETNS] or FILE, from argv */
	bool file;
	struct capture_handle *h;
	int linktype;
	uint64_t packets;            /* frames read */
	uint64_t malformed;          /* frames with truncated or contradictory headers */
	bool have_kstats;
	uint64_t kernel_dropped;     /* pcap_stats, live only */
};

struct opts {
	struct point points[MATCH_MAX_POINTS];
	size_t npoints;
	size_t order[MATCH_MAX_POINTS]; /* path position -> index in points[] */
	const char *point_order;
	struct capture_ports ports;
	const char *write_dir;
	int64_t duration_ns;
	enum output_format format;
	const char *output;
	struct match_limits lim;
};

enum long_only {
	OPT_TWAMP_PORT = 256,
	OPT_POINT_ORDER,
	OPT_MAX_PROBES,
	OPT_TIMEOUT,
};

static const struct option long_opts[] = {
	{ "interface", required_argument, NULL, 'i' },
	{ "read", required_argument, NULL, 'r' },
	{ "twamp-port", required_argument, NULL, OPT_TWAMP_PORT },
	{ "write", required_argument, NULL, 'w' },
	{ "duration", required_argument, NULL, 'd' },
	{ "format", required_argument, NULL, 'F' },
	{ "output", required_argument, NULL, 'o' },
	{ "point-order", required_argument, NULL, OPT_POINT_ORDER },
	{ "max-probes", required_argument, NULL, OPT_MAX_PROBES },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: poll returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void usage(FILE *f)
{
	fputs("Usage: " PROG " [-i POINT=IFACE[@NETNS]]... [-r POINT=FILE]... [options]\n"
	      "Per-capture-point round-trip times of TWAMP-Test, STAMP and ICMP echo probes.\n"
	      "\n"
	      "  -i, --interface POINT=IFACE[@NETNS]  capture live on IFACE (in network namespace\n"
	      "                         NETNS, a name under /var/run/netns or a path) (repeatable)\n"
	      "  -r, --read POINT=FILE  read a pcap or pcapng file instead (repeatable)\n"
	      "      --twamp-port N     UDP port of a TWAMP/STAMP reflector (repeatable; 862 always)\n"
	      "  -w, --write DIR        keep each live point's frames in DIR/POINT.pcap\n"
	      "  -d, --duration DUR     stop a live capture after DUR (else at SIGINT/SIGTERM)\n"
	      "  -F, --format FMT       text (default), json or csv\n"
	      "  -o, --output FILE      write the result there instead of stdout\n"
	      "      --point-order A,B  the points in path order, sender side first\n"
	      "                         (default: the order given)\n"
	      "      --max-probes N     probe records kept (default 1000000; more are counted)\n"
	      "      --timeout DUR      oldest request a reply without readable sequence number\n"
	      "                         may be paired with (default 2s)\n"
	      "  -h, --help             this help\n"
	      "  -V, --version          version\n"
	      "\n"
	      "POINT names use letters, digits, '.', '_' and '-'. Durations: 1s, 10ms, 250us, 0.5.\n"
	      "Exit status: 0 on success, 2 on errors.\n",
	      f);
}

static bool valid_point_name(const char *s, size_t n)
{
	if (n == 0 || n > MAX_POINT_NAME || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return false;
	}
	return true;
}

static int add_point(struct opts *o, const char *arg, bool file, char *err, size_t errlen)
{
	const char *eq = strchr(arg, '=');

	if (!eq || !eq[1]) {
		snprintf(err, errlen, "%s: expected POINT=%s", arg, file ? "FILE" : "IFACE[@NETNS]");
		return -EINVAL;
	}
	size_t n = (size_t)(eq - arg);
	if (!valid_point_name(arg, n)) {
		snprintf(err, errlen, "bad point name in %s (letters, digits, '.', '_', '-')", arg);
		return -EINVAL;
	}
	if (o->npoints >= MATCH_MAX_POINTS) {
		snprintf(err, errlen, "at most %d capture points", MATCH_MAX_POINTS);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->npoints; i++) {
		if (strlen(o->points[i].name) == n && memcmp(o->points[i].name, arg, n) == 0) {
			snprintf(err, errlen, "point %.*s given twice", (int)n, arg);
			return -EINVAL;
		}
	}
	struct point *p = &o->points[o->npoints++];
	memcpy(p->name, arg, n);
	p->name[n] = '\0';
	p->spec = eq + 1;
	p->file = file;
	return 0;
}

static int find_point(const struct opts *o, const char *name, size_t n)
{
	for (size_t i = 0; i < o->npoints; i++)
		if (strlen(o->points[i].name) == n && memcmp(o->points[i].name, name, n) == 0)
			return (int)i;
	return -1;
}

static int set_order(struct opts *o, char *err, size_t errlen)
{
	bool used[MATCH_MAX_POINTS] = { false };
	size_t k = 0;

	if (!o->point_order) {
		for (size_t i = 0; i < o->npoints; i++)
			o->order[i] = i;
		return 0;
	}
	for (const char *s = o->point_order; *s;) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		int i = find_point(o, s, n);
		if (i < 0) {
			snprintf(err, errlen, "--point-order: %.*s is not a capture point", (int)n, s);
			return -EINVAL;
		}
		if (used[i]) {
			snprintf(err, errlen, "--point-order: %.*s listed twice", (int)n, s);
			return -EINVAL;
		}
		used[i] = true;
		o->order[k++] = (size_t)i;
		s += n;
		if (*s == ',')
			s++;
	}
	if (k != o->npoints) {
		for (size_t i = 0; i < o->npoints; i++) {
			if (!used[i]) {
				snprintf(err, errlen, "--point-order does not place point %s",
					 o->points[i].name);
				break;
			}
		}
		return -EINVAL;
	}
	return 0;
}

/* 1: help/version printed; 0: run; <0: err set. */
static int parse_args(struct opts *o, int argc, char **argv, char *err, size_t errlen)
{
	uint64_t u;
	int c, rc;
	bool live = false, files = false;

	memset(o, 0, sizeof(*o));
	o->format = OUTPUT_TEXT;
	capture_ports_add(&o->ports, CAPTURE_TWAMP_PORT);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:r:w:d:F:o:hV", long_opts, NULL)) != -1) {
		switch (c) {
		case 'i':
		case 'r':
			rc = add_point(o, optarg, c == 'r', err, errlen);
			if (rc < 0)
				return rc;
			live |= c == 'i';
			files |= c == 'r';
			break;
		case OPT_TWAMP_PORT:
			if (parse_uint(optarg, 1, 65535, &u) < 0) {
				snprintf(err, errlen, "--twamp-port: %s is not a port 1..65535", optarg);
				return -EINVAL;
			}
			if (capture_ports_add(&o->ports, (uint16_t)u) < 0) {
				snprintf(err, errlen, "--twamp-port: at most %d ports", CAPTURE_MAX_PORTS);
				return -EINVAL;
			}
			break;
		case 'w':
			o->write_dir = optarg;
			break;
		case 'd':
			if (parse_duration_ns(optarg, &o->duration_ns) < 0 || o->duration_ns == 0) {
				snprintf(err, errlen, "-d: bad duration %s", optarg);
				return -EINVAL;
			}
			break;
		case 'F':
			if (output_format_parse(optarg, &o->format) < 0) {
				snprintf(err, errlen, "-F: %s is not text, json or csv", optarg);
				return -EINVAL;
			}
			break;
		case 'o':
			o->output = optarg;
			break;
		case OPT_POINT_ORDER:
			o->point_order = optarg;
			break;
		case OPT_MAX_PROBES:
			if (parse_uint(optarg, 1, UINT32_MAX - 1, &u) < 0) {
				snprintf(err, errlen, "--max-probes: bad count %s", optarg);
				return -EINVAL;
			}
			o->lim.max_probes = (size_t)u;
			break;
		case OPT_TIMEOUT:
			if (parse_duration_ns(optarg, &o->lim.fifo_timeout_ns) < 0 ||
			    o->lim.fifo_timeout_ns == 0) {
				snprintf(err, errlen, "--timeout: bad duration %s", optarg);
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf(PROG " %s\n", PACKAGE_VERSION);
			return 1;
		case ':':
			snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
			return -EINVAL;
		default:
			snprintf(err, errlen, "unknown option %s (see --help)", argv[optind - 1]);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument %s (see --help)", argv[optind]);
		return -EINVAL;
	}
	if (o->npoints == 0) {
		snprintf(err, errlen, "no capture point: give -i POINT=IFACE or -r POINT=FILE");
		return -EINVAL;
	}
	if (live && files) {
		snprintf(err, errlen, "-i and -r cannot be mixed: live and file clocks differ");
		return -EINVAL;
	}
	if (files && o->duration_ns) {
		snprintf(err, errlen, "-d applies to live capture only");
		return -EINVAL;
	}
	if (files && o->write_dir) {
		snprintf(err, errlen, "-w applies to live capture only");
		return -EINVAL;
	}
	return set_order(o, err, errlen);
}

/* --- capture ------------------------------------------------------------------ */

static void take_frame(struct point *p, size_t pos, struct match *m,
		       const struct capture_ports *ports, const struct capture_frame *f)
{
	struct capture_obs obs;

	p->packets++;
	int rc = capture_parse_frame(p->linktype, f->data, f->caplen, f->wirelen, ports, &obs);
	if (rc < 0) {
		p->malformed++;
		return;
	}
	if (obs.kind != CAPTURE_OTHER)
		(void)match_observe(m, pos, &obs, f->ts_ns); /* -ENOMEM loses this observation only */
}

/* Reads what is waiting (budget 0: all of it).  0, or <0 with err set. */
static int drain(struct point *p, size_t pos, struct match *m, const struct capture_ports *ports,
		 size_t budget, char *err, size_t errlen)
{
	struct capture_frame f;
	char e[512] = "";

	for (size_t n = 0; budget == 0 || n < budget; n++) {
		int rc = capture_next(p->h, &f, e, sizeof(e));
		if (rc == 0)
			return 0;
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", p->name, e);
			return rc;
		}
		take_frame(p, pos, m, ports, &f);
	}
	return 0;
}

static int open_points(struct opts *o, char *err, size_t errlen)
{
	char e[768];

	if (o->write_dir && mkdir(o->write_dir, 0755) != 0 && errno != EEXIST) {
		int saved = errno;
		snprintf(err, errlen, "-w: cannot create %s: %s", o->write_dir, strerror(saved));
		return -saved;
	}
	for (size_t i = 0; i < o->npoints; i++) {
		struct point *p = &o->points[i];
		int rc = p->file ? capture_open_file(p->spec, &p->h, e, sizeof(e))
				 : capture_open_live(p->spec, &o->ports, &p->h, e, sizeof(e));
		if (rc < 0) {
			snprintf(err, errlen, "%s: %s", p->name, e);
			return rc;
		}
		p->linktype = capture_linktype(p->h);
		if (o->write_dir) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s.pcap", o->write_dir, p->name);
			rc = capture_dump_open(p->h, path, e, sizeof(e));
			if (rc < 0) {
				snprintf(err, errlen, "%s: %s", p->name, e);
				return rc;
			}
		}
	}
	return 0;
}

static int run_files(struct opts *o, struct match *m, char *err, size_t errlen)
{
	for (size_t k = 0; k < o->npoints; k++) {
		struct point *p = &o->points[o->order[k]];
		int rc = drain(p, k, m, &o->ports, 0, err, errlen);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int run_live(struct opts *o, struct match *m, bool *interrupted, char *err, size_t errlen)
{
	struct pollfd pfd[MATCH_MAX_POINTS];
	int64_t deadline = o->duration_ns ? ts_monotonic_ns() + o->duration_ns : 0;
	int rc = 0;

	for (size_t k = 0; k < o->npoints; k++) {
		pfd[k].fd = capture_fd(o->points[o->order[k]].h);
		pfd[k].events = POLLIN;
	}
	fprintf(stderr, PROG ": capturing on %zu point%s\n", o->npoints, o->npoints == 1 ? "" : "s");
	fflush(stderr);
	while (!stop_requested && rc == 0) {
		int timeout = 200;
		if (deadline) {
			int64_t left = deadline - ts_monotonic_ns();
			if (left <= 0)
				break;
			if (left / 1000000 + 1 < timeout)
				timeout = (int)(left / 1000000 + 1);
		}
		int n = poll(pfd, o->npoints, timeout);
		if (n < 0 && errno != EINTR) {
			int e = errno;
			snprintf(err, errlen, "poll: %s", strerror(e));
			return -e;
		}
		for (size_t k = 0; k < o->npoints && n > 0 && rc == 0; k++)
			if (pfd[k].revents)
				rc = drain(&o->points[o->order[k]], k, m, &o->ports, DRAIN_BUDGET,
					   err, errlen);
	}
	*interrupted = stop_requested != 0;
	/* frames captured before the stop are still in the rings */
	for (size_t k = 0; k < o->npoints && rc == 0; k++)
		rc = drain(&o->points[o->order[k]], k, m, &o->ports, 0, err, errlen);
	for (size_t k = 0; k < o->npoints; k++) {
		struct point *p = &o->points[o->order[k]];
		uint64_t recv;
		p->have_kstats = capture_stats(p->h, &recv, &p->kernel_dropped) == 0;
	}
	return rc;
}

/* --- output: JSON ----------------------------------------------------------------- */

#define TRY(expr)                                                                                  \
	do {                                                                                       \
		rc = (expr);                                                                       \
		if (rc < 0)                                                                        \
			goto fail;                                                                 \
	} while (0)

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

static int jadd_count(json_object *o, const char *k, uint64_t v)
{
	return jadd_i64(o, k, v > INT64_MAX ? INT64_MAX : (int64_t)v);
}

static int jadd_str(json_object *o, const char *k, const char *s)
{
	return s ? jadd(o, k, json_object_new_string(s)) : jadd_null(o, k);
}

/* ms with ns resolution, serialised from a fixed-point string (no binary noise). */
static int jadd_ms(json_object *o, const char *k, double ns)
{
	char buf[64];

	if (!isfinite(ns))
		return jadd_null(o, k);
	snprintf(buf, sizeof(buf), "%.6f", ns / 1e6);
	if (strcmp(buf, "-0.000000") == 0)
		memmove(buf, buf + 1, strlen(buf));
	return jadd(o, k, json_object_new_double_s(ns / 1e6, buf));
}

static int jadd_arr_str(json_object *arr, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (!v)
		return -ENOMEM;
	if (json_object_array_add(arr, v) != 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* D+n: the DESIGN.md §3 distribution in ms plus the matching counts. */
static int jadd_point_proto(json_object *o, const char *k, const struct match *m, size_t pos,
			    enum probe_proto proto)
{
	struct stats_dist d;
	struct match_counts c;
	json_object *j = json_object_new_object();
	int rc;

	if (!j)
		return -ENOMEM;
	TRY(match_point_dist(m, pos, proto, &d));
	match_get_counts(m, pos, proto, &c);
	TRY(jadd_count(j, "n", d.n));
	const double *vals[] = { &d.min, &d.p25, &d.median, &d.p75, &d.p90,
				 &d.p99, &d.max, &d.mean, &d.sd };
	const char *names[] = { "min", "p25", "median", "p75", "p90", "p99", "max", "mean", "sd" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		TRY(d.n ? jadd_ms(j, names[i], *vals[i]) : jadd_null(j, names[i]));
	TRY(jadd_count(j, "requests", c.requests));
	TRY(jadd_count(j, "replies", c.replies));
	TRY(jadd_count(j, "matched", c.matched));
	TRY(jadd_count(j, "unmatched", c.unmatched));
	TRY(jadd_count(j, "orphan_replies", c.orphan_replies));
	TRY(jadd_count(j, "duplicates", c.duplicates));
	TRY(jadd_count(j, "overflow", c.overflow));
	TRY(jadd_count(j, "matched_by_order", c.by_order));
	TRY(jadd_count(j, "matched_by_timestamp", c.by_timestamp));
	return jadd(o, k, j);
fail:
	json_object_put(j);
	return rc;
}

static json_object *json_point(const struct opts *o, const struct point *p, size_t pos,
			       const struct match *m, int *rc_out)
{
	json_object *j = json_object_new_object();
	char lb[32];
	int rc = -ENOMEM;

	if (!j)
		goto fail;
	TRY(jadd_str(j, p->file ? "file" : "iface", p->spec));
	TRY(jadd_str(j, "linktype", capture_linktype_name(p->linktype, lb, sizeof(lb))));
	TRY(jadd_str(j, "tstamp_precision", capture_precision_name(p->h)));
	TRY(jadd_count(j, "packets", p->packets));
	TRY(jadd_count(j, "malformed", p->malformed));
	TRY(p->have_kstats ? jadd_count(j, "dropped", p->kernel_dropped) : jadd_null(j, "dropped"));
	TRY(jadd_point_proto(j, "twamp", m, pos, PROBE_TWAMP));
	TRY(jadd_point_proto(j, "icmp", m, pos, PROBE_ICMP));
	(void)o;
	return j;
fail:
	json_object_put(j);
	*rc_out = rc;
	return NULL;
}

static int jadd_probe(json_object *arr, const struct opts *o, const struct match *m, size_t i)
{
	struct match_probe_view v;
	char flow[128];
	json_object *j = json_object_new_object(), *r = NULL;
	int rc = -ENOMEM;

	if (!j)
		return -ENOMEM;
	match_probe_get(m, i, &v);
	match_flow_format(v.flow, flow, sizeof(flow));
	TRY(jadd_str(j, "proto", probe_proto_name(v.proto)));
	TRY(jadd_str(j, "flow", flow));
	TRY(jadd_i64(j, "seq", v.seq));
	r = json_object_new_object();
	if (!r)
		goto fail;
	for (size_t k = 0; k < o->npoints; k++) {
		int64_t rtt;
		const char *name = o->points[o->order[k]].name;
		if (match_probe_rtt(m, i, k, &rtt))
			rc = jadd_i64(r, name, rtt);
		else
			rc = jadd_null(r, name);
		if (rc < 0) {
			json_object_put(r);
			goto fail;
		}
	}
	TRY(jadd(j, "rtt_ns", r));
	if (json_object_array_add(arr, j) != 0)
		goto fail;
	return 0;
fail:
	json_object_put(j);
	return rc;
}

static int jadd_missing(json_object *arr, const struct opts *o, const struct match *m, size_t i)
{
	struct match_probe_view v;
	char flow[128];
	size_t after;
	enum match_where w = match_probe_where(m, i, &after);
	json_object *j, *req = NULL, *rep = NULL;
	int rc = -ENOMEM;

	if (w == MATCH_COMPLETE)
		return 0;
	j = json_object_new_object();
	if (!j)
		return -ENOMEM;
	match_probe_get(m, i, &v);
	match_flow_format(v.flow, flow, sizeof(flow));
	TRY(jadd_str(j, "proto", probe_proto_name(v.proto)));
	TRY(jadd_str(j, "flow", flow));
	TRY(jadd_i64(j, "seq", v.seq));
	TRY(jadd_str(j, "where", match_where_name(w)));
	/* the last point the packet was seen at before it vanished */
	TRY(w == MATCH_IRREGULAR ? jadd_null(j, "last_seen")
				 : jadd_str(j, "last_seen", o->points[o->order[after]].name));
	req = json_object_new_array();
	rep = json_object_new_array();
	if (!req || !rep)
		goto fail_arrays;
	for (size_t k = 0; k < o->npoints; k++) {
		const char *name = o->points[o->order[k]].name;
		if (!match_probe_request_seen(m, i, k) && jadd_arr_str(req, name) < 0)
			goto fail_arrays;
		if (!match_probe_reply_seen(m, i, k) && jadd_arr_str(rep, name) < 0)
			goto fail_arrays;
	}
	TRY(jadd(j, "request_missing", req));
	req = NULL;
	TRY(jadd(j, "reply_missing", rep));
	rep = NULL;
	if (json_object_array_add(arr, j) != 0)
		goto fail;
	return 0;
fail_arrays:
	rc = -ENOMEM;
fail:
	json_object_put(req);
	json_object_put(rep);
	json_object_put(j);
	return rc;
}

struct run_info {
	int64_t start_ns, end_ns;
	bool interrupted;
};

static int write_json(FILE *f, const struct opts *o, const struct match *m,
		      const struct run_info *ri)
{
	json_object *root = json_object_new_object(), *x;
	struct host_info host;
	int rc = -ENOMEM;

	if (!root)
		return -ENOMEM;
	TRY(jadd_str(root, "schema", SCHEMA));
	x = json_object_new_object();
	if (!x || jadd_str(x, "name", PROG) < 0 || jadd_str(x, "version", PACKAGE_VERSION) < 0) {
		json_object_put(x);
		goto fail;
	}
	TRY(jadd(root, "tool", x));
	hostinfo_collect(&host);
	x = json_object_new_object();
	if (!x || jadd_str(x, "hostname", host.hostname) < 0 ||
	    jadd_str(x, "kernel", host.kernel) < 0 ||
	    jadd_str(x, "clocksource", host.clocksource) < 0) {
		json_object_put(x);
		goto fail;
	}
	TRY(jadd(root, "host", x));

	x = json_object_new_object();
	if (!x)
		goto fail;
	json_object *ports = json_object_new_array(), *order = json_object_new_array();
	rc = (!ports || !order) ? -ENOMEM : 0;
	for (size_t i = 0; rc == 0 && i < o->ports.n; i++) {
		json_object *v = json_object_new_int(o->ports.port[i]);
		if (!v || json_object_array_add(ports, v) != 0) {
			json_object_put(v);
			rc = -ENOMEM;
		}
	}
	for (size_t k = 0; rc == 0 && k < o->npoints; k++)
		rc = jadd_arr_str(order, o->points[o->order[k]].name);
	if (rc == 0) {
		rc = jadd(x, "twamp_ports", ports);
		ports = NULL;
	}
	if (rc == 0) {
		rc = jadd(x, "point_order", order);
		order = NULL;
	}
	json_object_put(ports);
	json_object_put(order);
	if (rc == 0)
		rc = o->duration_ns ? jadd_i64(x, "duration_ns", o->duration_ns)
				    : jadd_null(x, "duration_ns");
	if (rc == 0)
		rc = jadd_i64(x, "fifo_timeout_ns", o->lim.fifo_timeout_ns
							    ? o->lim.fifo_timeout_ns
							    : MATCH_DEFAULT_FIFO_TIMEOUT_NS);
	if (rc == 0)
		rc = jadd_count(x, "max_probes",
				o->lim.max_probes ? o->lim.max_probes : MATCH_DEFAULT_MAX_PROBES);
	if (rc < 0) {
		json_object_put(x);
		goto fail;
	}
	TRY(jadd(root, "config", x));
	TRY(jadd_i64(root, "start_ns", ri->start_ns));
	TRY(jadd_i64(root, "end_ns", ri->end_ns));
	TRY(jadd(root, "interrupted", json_object_new_boolean(ri->interrupted)));

	x = json_object_new_object();
	if (!x)
		goto fail;
	for (size_t k = 0; k < o->npoints; k++) {
		const struct point *p = &o->points[o->order[k]];
		json_object *pj = json_point(o, p, k, m, &rc);
		if (!pj || jadd(x, p->name, pj) < 0) {
			json_object_put(x);
			rc = -ENOMEM;
			goto fail;
		}
	}
	TRY(jadd(root, "points", x));

	json_object *probes = json_object_new_array(), *missing = json_object_new_array();
	rc = (!probes || !missing) ? -ENOMEM : 0;
	for (size_t i = 0; rc == 0 && i < match_nprobes(m); i++)
		rc = jadd_probe(probes, o, m, i);
	for (size_t i = 0; rc == 0 && i < match_nprobes(m); i++)
		rc = jadd_missing(missing, o, m, i);
	if (rc == 0) {
		rc = jadd(root, "probes", probes);
		probes = NULL;
	}
	if (rc == 0) {
		rc = jadd(root, "missing", missing);
		missing = NULL;
	}
	json_object_put(probes);
	json_object_put(missing);
	if (rc < 0)
		goto fail;

	const char *s = json_object_to_json_string_ext(
		root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = (s && fprintf(f, "%s\n", s) >= 0) ? 0 : -EIO;
fail:
	json_object_put(root);
	return rc;
}

/* --- output: CSV and text ------------------------------------------------------- */

static int write_csv(FILE *f, const struct opts *o, const struct match *m)
{
	fprintf(f, "proto,flow,seq,point,rtt_ns\n");
	for (size_t i = 0; i < match_nprobes(m); i++) {
		struct match_probe_view v;
		char flow[128];
		match_probe_get(m, i, &v);
		match_flow_format(v.flow, flow, sizeof(flow));
		for (size_t k = 0; k < o->npoints; k++) {
			int64_t rtt;
			fprintf(f, "%s,%s,%" PRIu32 ",%s,", probe_proto_name(v.proto), flow, v.seq,
				o->points[o->order[k]].name);
			if (match_probe_rtt(m, i, k, &rtt))
				fprintf(f, "%" PRId64, rtt);
			fputc('\n', f);
		}
	}
	return ferror(f) ? -EIO : 0;
}

static void ms_text(char *buf, size_t len, const struct stats_dist *d, double v)
{
	if (d->n)
		snprintf(buf, len, "%.3f", v / 1e6);
	else
		snprintf(buf, len, "-");
}

static int write_text(FILE *f, const struct opts *o, const struct match *m,
		      const struct run_info *ri)
{
	static const enum probe_proto protos[] = { PROBE_TWAMP, PROBE_ICMP };
	size_t width = 5;

	for (size_t k = 0; k < o->npoints; k++)
		if (strlen(o->points[k].name) > width)
			width = strlen(o->points[k].name);
	fprintf(f, "%s: %zu point%s%s\n", PROG, o->npoints, o->npoints == 1 ? "" : "s",
		ri->interrupted ? " (stopped by signal)" : "");
	for (size_t k = 0; k < o->npoints; k++) {
		const struct point *p = &o->points[o->order[k]];
		char lb[32];
		fprintf(f, "  %-*s %s %s, %s, %s timestamps, %" PRIu64 " frames", (int)width, p->name,
			p->file ? "file" : "iface", p->spec,
			capture_linktype_name(p->linktype, lb, sizeof(lb)),
			capture_precision_name(p->h), p->packets);
		if (p->malformed)
			fprintf(f, ", %" PRIu64 " malformed", p->malformed);
		if (p->have_kstats)
			fprintf(f, ", %" PRIu64 " dropped by the kernel", p->kernel_dropped);
		fputc('\n', f);
	}
	for (size_t pi = 0; pi < 2; pi++) {
		enum probe_proto proto = protos[pi];
		bool any = false;
		for (size_t k = 0; k < o->npoints; k++) {
			struct match_counts c;
			match_get_counts(m, k, proto, &c);
			any |= c.requests || c.replies;
		}
		if (!any)
			continue;
		fprintf(f, "\n--- %s round-trip per capture point (ms) ---\n",
			proto == PROBE_TWAMP ? "TWAMP" : "ICMP");
		fprintf(f, "%-*s %7s %9s %9s %9s %9s %9s %7s %7s\n", (int)width, "point", "n", "min",
			"median", "p99", "max", "mean", "unmatch", "dup");
		for (size_t k = 0; k < o->npoints; k++) {
			struct stats_dist d;
			struct match_counts c;
			char a[5][32];
			int rc = match_point_dist(m, k, proto, &d);
			if (rc < 0)
				return rc;
			match_get_counts(m, k, proto, &c);
			ms_text(a[0], sizeof(a[0]), &d, d.min);
			ms_text(a[1], sizeof(a[1]), &d, d.median);
			ms_text(a[2], sizeof(a[2]), &d, d.p99);
			ms_text(a[3], sizeof(a[3]), &d, d.max);
			ms_text(a[4], sizeof(a[4]), &d, d.mean);
			fprintf(f, "%-*s %7zu %9s %9s %9s %9s %9s %7" PRIu64 " %7" PRIu64 "\n",
				(int)width, o->points[o->order[k]].name, d.n, a[0], a[1], a[2], a[3],
				a[4], c.unmatched, c.duplicates);
		}
	}
	uint64_t where[MATCH_IRREGULAR + 1] = { 0 };
	for (size_t i = 0; i < match_nprobes(m); i++)
		where[match_probe_where(m, i, NULL)]++;
	fprintf(f,
		"\n%zu probes, %" PRIu64 " complete at every point; missing: %" PRIu64
		" request lost, %" PRIu64 " reply lost, %" PRIu64 " no reply, %" PRIu64
		" irregular\n",
		match_nprobes(m), where[MATCH_COMPLETE], where[MATCH_REQUEST_LOST],
		where[MATCH_REPLY_LOST], where[MATCH_NO_REPLY], where[MATCH_IRREGULAR]);
	return ferror(f) ? -EIO : 0;
}

/* --- main ------------------------------------------------------------------------ */

static void close_points(struct opts *o)
{
	for (size_t i = 0; i < o->npoints; i++) {
		capture_close(o->points[i].h);
		o->points[i].h = NULL;
	}
}

int main(int argc, char **argv)
{
	static struct opts o;
	char err[1024] = "";
	struct match *m = NULL;
	struct run_info ri = { 0, 0, false };
	int rc = parse_args(&o, argc, argv, err, sizeof(err));

	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	install_signals();
	rc = match_new(o.npoints, &o.lim, &m);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", strerror(-rc));
		return 2;
	}
	rc = open_points(&o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		close_points(&o);
		match_free(m);
		return 2;
	}
	FILE *out = stdout;
	if (o.output) {
		out = fopen(o.output, "w");
		if (!out) {
			fprintf(stderr, PROG ": cannot write %s: %s\n", o.output, strerror(errno));
			close_points(&o);
			match_free(m);
			return 2;
		}
	}
	ri.start_ns = ts_realtime_ns();
	bool live = !o.points[0].file;
	rc = live ? run_live(&o, m, &ri.interrupted, err, sizeof(err))
		  : run_files(&o, m, err, sizeof(err));
	ri.end_ns = ts_realtime_ns();
	int status = 0;
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		status = 2;
	}
	/* a live capture cut short by an error still reports what it saw */
	if (rc == 0 || live) {
		int wrc;
		if (o.format == OUTPUT_JSON)
			wrc = write_json(out, &o, m, &ri);
		else if (o.format == OUTPUT_CSV)
			wrc = write_csv(out, &o, m);
		else
			wrc = write_text(out, &o, m, &ri);
		if (wrc < 0) {
			fprintf(stderr, PROG ": cannot write the result: %s\n", strerror(-wrc));
			status = 2;
		}
	}
	close_points(&o); /* flushes the -w dumps */
	if (out != stdout && fclose(out) != 0) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", o.output, strerror(errno));
		status = 2;
	}
	match_free(m);
	return status;
}
