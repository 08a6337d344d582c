/*
 * Run-directory reader and summary.csv writer.  Everything downstream (the
 * summary, the report, the plots) reads the per-probe records rather than
 * the summaries inside the result files, so the warm-up cut, loss counting
 * and pooling of repetitions happen in one place and figures from ping,
 * twamp-client and the capture points are computed the same way.  Files
 * the runner owns are read strictly: a malformed one stops the load with
 * its name (and line), since silently skipping it would bias the report.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "results.h"
#include "stats.h"

static const char *const point_names[RPOINT_N] = {
	[RPOINT_TOOL] = "tool",
	[RPOINT_SENDER_VM] = "sender-vm",
	[RPOINT_SENDER_BRIDGE] = "sender-bridge",
	[RPOINT_SENDER_HOST] = "sender-host",
	[RPOINT_RECEIVER_HOST] = "receiver-host",
	[RPOINT_RECEIVER_BRIDGE] = "receiver-bridge",
	[RPOINT_RECEIVER_VM] = "receiver-vm",
};

const char *result_point_name(enum result_point p)
{
	if ((unsigned)p < RPOINT_N)
		return point_names[p];
	return "unknown";
}

int result_point_parse(const char *s, enum result_point *out)
{
	int i;

	if (!s || !out)
		return -EINVAL;
	for (i = 0; i < RPOINT_N; i++) {
		if (strcmp(s, point_names[i]) == 0) {
			*out = (enum result_point)i;
			return 0;
		}
	}
	return -EINVAL;
}

static void set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* snprintf for paths: a path that does not fit is an error, not a truncated name. */
static int path_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* --- samples -------------------------------------------------------------- */

static int samples_add(struct result_samples *s, int64_t v)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 128;
		int64_t *p;

		if (cap > SIZE_MAX / sizeof(*p))
			return -ENOMEM;
		p = realloc(s->rtt_ns, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		s->rtt_ns = p;
		s->cap = cap;
	}
	s->rtt_ns[s->n++] = v;
	return 0;
}

void results_samples_free(struct result_samples *s)
{
	if (!s)
		return;
	free(s->rtt_ns);
	memset(s, 0, sizeof(*s));
}

/* --- keys ----------------------------------------------------------------- */

void results_key_of(const struct scenario *sc, struct results_key *k)
{
	memset(k, 0, sizeof(*k));
	k->reservation = sc->reservation;
	k->load = sc->load;
	k->location = sc->load == LOAD_NONE ? LOC_NONE : sc->location;
	k->bg_vms = sc->load == LOAD_NONE ? 0 : sc->bg_vms;
	snprintf(k->nic, sizeof(k->nic), "%s", sc->nic);
	k->freq_hz = sc->freq_hz;
}

int results_key_cmp(const struct results_key *a, const struct results_key *b)
{
	int c;

	if (a->reservation != b->reservation)
		return a->reservation ? 1 : -1;
	if (a->freq_hz != b->freq_hz)
		return a->freq_hz < b->freq_hz ? -1 : 1;
	c = strcmp(a->nic, b->nic);
	if (c)
		return c < 0 ? -1 : 1;
	if (a->load != b->load)
		return a->load < b->load ? -1 : 1;
	if (a->location != b->location)
		return a->location < b->location ? -1 : 1;
	if (a->bg_vms != b->bg_vms)
		return a->bg_vms < b->bg_vms ? -1 : 1;
	return 0;
}

void results_key_baseline(const struct results_key *k, struct results_key *out)
{
	struct results_key b = *k;

	b.load = LOAD_NONE;
	b.location = LOC_NONE;
	b.bg_vms = 0;
	*out = b;
}

static int cmp_key_qsort(const void *a, const void *b)
{
	struct results_key x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return results_key_cmp(&x, &y);
}

int results_keys(const struct experiment *e, struct results_key **out, size_t *n)
{
	struct results_key *k;
	size_t i, m = 0;

	if (!e || !out || !n)
		return -EINVAL;
	*out = NULL;
	*n = 0;
	if (e->n_scen == 0)
		return 0;
	k = calloc(e->n_scen, sizeof(*k));
	if (!k)
		return -ENOMEM;
	for (i = 0; i < e->n_scen; i++)
		results_key_of(&e->scen[i].sc, &k[i]);
	qsort(k, e->n_scen, sizeof(*k), cmp_key_qsort);
	for (i = 0; i < e->n_scen; i++)
		if (m == 0 || results_key_cmp(&k[m - 1], &k[i]) != 0)
			k[m++] = k[i];
	*out = k;
	*n = m;
	return 0;
}

int results_pool(const struct experiment *e, const struct results_key *k, enum run_proto proto,
		 enum result_point pt, struct result_samples *out)
{
	size_t i, j;
	int rc;

	if (!e || !k || !out || (unsigned)proto >= RUN_NPROTO || (unsigned)pt >= RPOINT_N)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	for (i = 0; i < e->n_scen; i++) {
		const struct result_samples *s = &e->scen[i].s[proto][pt];
		struct results_key sk;

		results_key_of(&e->scen[i].sc, &sk);
		if (!s->present || results_key_cmp(&sk, k) != 0)
			continue;
		out->present = true;
		out->sent += s->sent;
		out->lost += s->lost;
		for (j = 0; j < s->n; j++) {
			rc = samples_add(out, s->rtt_ns[j]);
			if (rc < 0) {
				results_samples_free(out);
				return rc;
			}
		}
	}
	return 0;
}

/* --- loading -------------------------------------------------------------- */

static void scenario_free_samples(struct result_scenario *r)
{
	int p, q;

	for (p = 0; p < RUN_NPROTO; p++)
		for (q = 0; q < RPOINT_N; q++)
			results_samples_free(&r->s[p][q]);
}

void results_free(struct experiment *e)
{
	size_t i;

	if (!e)
		return;
	for (i = 0; i < e->n_scen; i++)
		scenario_free_samples(&e->scen[i]);
	free(e->scen);
	if (e->manifest)
		json_object_put(e->manifest);
	free(e->dir);
	free(e);
}

static bool file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Parses path as JSON.  -ENOENT when missing, -EBADMSG when not JSON. */
static int read_json(const char *path, json_object **out, char *err, size_t errlen)
{
	json_object *o;

	*out = NULL;
	if (!file_exists(path)) {
		set_err(err, errlen, "%s: no such file", path);
		return -ENOENT;
	}
	o = json_object_from_file(path);
	if (!o) {
		const char *why = json_util_get_last_err();
		size_t len = why ? strlen(why) : 0;

		/* json-c's message ends with a newline. */
		while (len > 0 && (why[len - 1] == '\n' || why[len - 1] == '\r'))
			len--;
		set_err(err, errlen, "%s: not valid JSON (%.*s)", path, (int)len, why ? why : "");
		return -EBADMSG;
	}
	*out = o;
	return 0;
}

static const char *json_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static bool jbool(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

static int64_t json_i64(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return 0;
	return json_object_get_int64(v);
}

/*
 * The probes of a twampkit.result/1 file.  ping.json carries proto "icmp"
 * records that belong to the ping protocol (as_ping); a TWAMP record there
 * is a malformed file.
 */
static int load_result_file(const char *path, bool as_ping, struct result_scenario *r, char *err,
			    size_t errlen)
{
	json_object *root, *probes, *p, *v;
	const char *schema, *proto;
	size_t i, n;
	int rc;

	rc = read_json(path, &root, err, errlen);
	if (rc < 0)
		return rc;
	rc = -EBADMSG;
	schema = json_str(root, "schema");
	if (!schema || strcmp(schema, "twampkit.result/1") != 0) {
		set_err(err, errlen, "%s: schema is not twampkit.result/1", path);
		goto out;
	}
	if (!json_object_object_get_ex(root, "probes", &probes) ||
	    !json_object_is_type(probes, json_type_array)) {
		set_err(err, errlen, "%s: no \"probes\" array", path);
		goto out;
	}
	n = json_object_array_length(probes);
	for (i = 0; i < n; i++) {
		struct result_samples *s;
		enum run_proto rp;
		int64_t seq;

		p = json_object_array_get_idx(probes, i);
		proto = p && json_object_is_type(p, json_type_object) ? json_str(p, "proto") : NULL;
		if (!proto || !json_object_object_get_ex(p, "seq", &v) ||
		    !json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0) {
			set_err(err, errlen, "%s: probe %zu lacks proto or seq", path, i);
			goto out;
		}
		seq = json_object_get_int64(v);
		if (strcmp(proto, "icmp") == 0)
			rp = as_ping ? RUN_PING : RUN_ICMP;
		else if (strcmp(proto, "twamp") == 0 && !as_ping)
			rp = RUN_TWAMP;
		else {
			set_err(err, errlen, "%s: probe %zu has unexpected proto \"%s\"", path, i,
				proto);
			goto out;
		}
		s = &r->s[rp][RPOINT_TOOL];
		s->present = true;
		if (seq < r->sc.warmup || jbool(p, "skipped"))
			continue;
		s->sent++;
		if (jbool(p, "lost")) {
			s->lost++;
			continue;
		}
		/* A reply with unusable timestamps (rtt_ns null) is neither lost nor a sample. */
		if (json_object_object_get_ex(p, "rtt_ns", &v) && json_object_is_type(v, json_type_int)) {
			if (samples_add(s, json_object_get_int64(v)) < 0) {
				rc = -ENOMEM;
				set_err(err, errlen, "out of memory");
				goto out;
			}
		}
	}
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

static bool parse_i64(const char *s, int64_t *out)
{
	char *end;
	long long v;

	if (!*s)
		return false;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end)
		return false;
	*out = v;
	return true;
}

/* points.csv: "proto,seq,point,rtt_ns", empty rtt_ns = not matched at that point. */
static int load_points(const char *path, struct result_scenario *r, char *err, size_t errlen)
{
	FILE *f;
	char *line = NULL, *fld[4], *p;
	size_t cap = 0, lineno = 0;
	ssize_t len;
	int rc = 0, i;

	f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		rc = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return rc;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		struct result_samples *s;
		enum run_proto rp;
		enum result_point pt;
		int64_t seq, rtt = 0;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (lineno == 1) {
			if (strcmp(line, "proto,seq,point,rtt_ns") != 0) {
				set_err(err, errlen, "%s:1: header is not proto,seq,point,rtt_ns", path);
				rc = -EBADMSG;
				break;
			}
			continue;
		}
		if (len == 0)
			continue;
		p = line;
		for (i = 0; i < 4; i++) {
			fld[i] = p;
			p = strchr(p, ',');
			if (!p)
				break;
			*p++ = '\0';
		}
		if (i != 3 || run_proto_parse(fld[0], &rp) < 0 || !parse_i64(fld[1], &seq) ||
		    seq < 0 || result_point_parse(fld[2], &pt) < 0 || pt == RPOINT_TOOL ||
		    (*fld[3] && !parse_i64(fld[3], &rtt))) {
			set_err(err, errlen, "%s:%zu: malformed line", path, lineno);
			rc = -EBADMSG;
			break;
		}
		s = &r->s[rp][pt];
		s->present = true;
		if (seq < r->sc.warmup)
			continue;
		s->sent++;
		if (!*fld[3]) {
			s->lost++;
			continue;
		}
		if (samples_add(s, rtt) < 0) {
			set_err(err, errlen, "out of memory");
			rc = -ENOMEM;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		set_err(err, errlen, "%s: read error", path);
		rc = -EIO;
	}
	free(line);
	fclose(f);
	return rc;
}

static int load_scenario(const char *sdir, const char *name, struct result_scenario *r, char *err,
			 size_t errlen)
{
	char path[PATH_MAX];
	json_object *params;
	int rc;

	memset(r, 0, sizeof(*r));
	if (path_fmt(path, sizeof(path), "%s/params.json", sdir) < 0) {
		set_err(err, errlen, "%s: path too long", sdir);
		return -ENAMETOOLONG;
	}
	rc = read_json(path, &params, err, errlen);
	if (rc < 0)
		return rc;
	rc = scenario_from_json(params, &r->sc);
	json_object_put(params);
	if (rc < 0) {
		set_err(err, errlen, "%s: not a scenario description", path);
		return -EBADMSG;
	}
	if (!r->sc.id[0])
		snprintf(r->sc.id, sizeof(r->sc.id), "%.*s", (int)sizeof(r->sc.id) - 1, name);
	if (r->sc.warmup < 0)
		r->sc.warmup = 0;

	path_fmt(path, sizeof(path), "%s/client.json", sdir); /* shorter than params.json */
	if (file_exists(path) && (rc = load_result_file(path, false, r, err, errlen)) < 0)
		goto fail;
	path_fmt(path, sizeof(path), "%s/ping.json", sdir); /* shorter than params.json */
	if (file_exists(path) && (rc = load_result_file(path, true, r, err, errlen)) < 0)
		goto fail;
	path_fmt(path, sizeof(path), "%s/points.csv", sdir); /* shorter than params.json */
	rc = load_points(path, r, err, errlen);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	scenario_free_samples(r);
	return rc;
}

static int cmp_scenario(const void *a, const void *b)
{
	const struct result_scenario *x = a, *y = b;
	struct results_key kx, ky;
	int c;

	results_key_of(&x->sc, &kx);
	results_key_of(&y->sc, &ky);
	c = results_key_cmp(&kx, &ky);
	if (c)
		return c;
	if (x->sc.rep != y->sc.rep)
		return x->sc.rep < y->sc.rep ? -1 : 1;
	return strcmp(x->sc.id, y->sc.id);
}

static int load_manifest(struct experiment *e, char *err, size_t errlen)
{
	char path[PATH_MAX];
	json_object *m;
	const char *s;
	int rc;

	if (path_fmt(path, sizeof(path), "%s/manifest.json", e->dir) < 0) {
		set_err(err, errlen, "%s: path too long", e->dir);
		return -ENAMETOOLONG;
	}
	rc = read_json(path, &e->manifest, err, errlen);
	if (rc < 0)
		return rc;
	s = json_str(e->manifest, "schema");
	if (!s || strcmp(s, RESULTS_MANIFEST_SCHEMA) != 0) {
		set_err(err, errlen, "%s: schema is not %s", path, RESULTS_MANIFEST_SCHEMA);
		return -EBADMSG;
	}
	s = json_str(e->manifest, "backend");
	snprintf(e->backend, sizeof(e->backend), "%s", s ? s : "");
	if (json_object_object_get_ex(e->manifest, "matrix", &m) &&
	    json_object_is_type(m, json_type_object) && (s = json_str(m, "name")))
		snprintf(e->matrix_name, sizeof(e->matrix_name), "%s", s);
	e->started_ns = json_i64(e->manifest, "started_ns");
	e->finished_ns = json_i64(e->manifest, "finished_ns");
	return 0;
}

int results_load(const char *dir, struct experiment **out, char *err, size_t errlen)
{
	struct experiment *e;
	char sdir[PATH_MAX], path[PATH_MAX];
	struct dirent *de;
	size_t cap = 0;
	DIR *d;
	int rc;

	if (!dir || !out)
		return -EINVAL;
	*out = NULL;
	e = calloc(1, sizeof(*e));
	if (!e || !(e->dir = strdup(dir))) {
		free(e);
		set_err(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = load_manifest(e, err, errlen);
	if (rc < 0)
		goto fail;

	/* Leaves room for "/<scenario>/params.json" and friends. */
	if (strlen(dir) > PATH_MAX - 512 || path_fmt(sdir, sizeof(sdir), "%s/scenarios", dir) < 0) {
		rc = -ENAMETOOLONG;
		set_err(err, errlen, "%s: path too long", dir);
		goto fail;
	}
	d = opendir(sdir);
	if (!d) {
		if (errno == ENOENT) /* nothing run yet */
			goto done;
		rc = -errno;
		set_err(err, errlen, "%s: %s", sdir, strerror(errno));
		goto fail;
	}
	while ((de = readdir(d))) {
		struct stat st;

		if (de->d_name[0] == '.')
			continue;
		if (path_fmt(path, sizeof(path), "%s/%s/done", sdir, de->d_name) < 0 ||
		    path_fmt(path, sizeof(path), "%s/%s", sdir, de->d_name) < 0 ||
		    stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		path_fmt(path, sizeof(path), "%s/%s/done", sdir, de->d_name);
		if (!file_exists(path)) {
			e->n_unfinished++;
			continue;
		}
		if (e->n_scen == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct result_scenario *p = realloc(e->scen, ncap * sizeof(*p));

			if (!p) {
				closedir(d);
				rc = -ENOMEM;
				set_err(err, errlen, "out of memory");
				goto fail;
			}
			e->scen = p;
			cap = ncap;
		}
		path_fmt(path, sizeof(path), "%s/%s", sdir, de->d_name);
		rc = load_scenario(path, de->d_name, &e->scen[e->n_scen], err, errlen);
		if (rc < 0) {
			closedir(d);
			goto fail;
		}
		e->n_scen++;
	}
	closedir(d);
	if (e->n_scen > 1)
		qsort(e->scen, e->n_scen, sizeof(*e->scen), cmp_scenario);
done:
	*out = e;
	return 0;
fail:
	results_free(e);
	return rc;
}

/* --- summary.csv ------------------------------------------------------------ */

/* Fixed 6 decimals, without "-0.000000". */
static void put_fixed(FILE *f, double v)
{
	char buf[64], *p;

	snprintf(buf, sizeof(buf), "%.6f", v);
	if (buf[0] == '-') {
		for (p = buf + 1; *p == '0' || *p == '.'; p++)
			;
		if (*p == '\0')
			memmove(buf, buf + 1, strlen(buf));
	}
	fputs(buf, f);
}

/* RFC 4180 quoting when needed; ids and NIC names normally need none. */
static void put_csv_str(FILE *f, const char *s)
{
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, f);
		return;
	}
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

static int summary_row(FILE *f, const struct scenario *sc, enum run_proto proto,
		       enum result_point pt, const struct result_samples *s)
{
	struct stats_dist d;
	int rc;

	rc = stats_dist_compute(s->rtt_ns, s->n, &d);
	if (rc < 0)
		return rc;
	put_csv_str(f, sc->id);
	fprintf(f, ",%s,%s,%s,%d,", sc->reservation ? "yes" : "no", load_type_name(sc->load),
		load_location_name(sc->load == LOAD_NONE ? LOC_NONE : sc->location),
		sc->load == LOAD_NONE ? 0 : sc->bg_vms);
	put_csv_str(f, sc->nic);
	fprintf(f, ",%d,%s,%s,%zu", sc->freq_hz, run_proto_name(proto), result_point_name(pt), s->n);
	if (d.n > 0) {
		const double v[] = {d.min, d.median, d.max, d.mean, d.sd, d.p99};
		size_t i;

		for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			fputc(',', f);
			put_fixed(f, v[i] / 1e6);
		}
	} else {
		fputs(",,,,,,", f);
	}
	fputc(',', f);
	if (pt == RPOINT_TOOL && s->sent > 0)
		put_fixed(f, (double)s->lost * 100.0 / (double)s->sent);
	fputc('\n', f);
	return 0;
}

int results_summary_write(const struct experiment *e, FILE *f)
{
	size_t i;
	int p, q, rc;

	if (!e || !f)
		return -EINVAL;
	fputs(RESULTS_SUMMARY_HEADER "\n", f);
	for (i = 0; i < e->n_scen; i++)
		for (p = 0; p < RUN_NPROTO; p++)
			for (q = 0; q < RPOINT_N; q++) {
				const struct result_samples *s = &e->scen[i].s[p][q];

				if (!s->present)
					continue;
				rc = summary_row(f, &e->scen[i].sc, (enum run_proto)p,
						 (enum result_point)q, s);
				if (rc < 0)
					return rc;
			}
	if (fflush(f) == EOF || ferror(f))
		return -EIO;
	return 0;
}

int results_write_summary(const char *dir, char *err, size_t errlen)
{
	struct experiment *e = NULL;
	char tmp[PATH_MAX], dst[PATH_MAX];
	FILE *f;
	int fd, rc;

	if (!dir)
		return -EINVAL;
	rc = results_load(dir, &e, err, errlen);
	if (rc < 0)
		return rc;
	if (path_fmt(dst, sizeof(dst), "%s/summary.csv", dir) < 0 ||
	    path_fmt(tmp, sizeof(tmp), "%s/.summary.csv.XXXXXX", dir) < 0) {
		results_free(e);
		set_err(err, errlen, "%s: path too long", dir);
		return -ENAMETOOLONG;
	}
	fd = mkstemp(tmp);
	if (fd < 0) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", tmp, strerror(errno));
		results_free(e);
		return rc;
	}
	/* mkstemp creates 0600; summary.csv is as readable as the rest of the run. */
	(void)fchmod(fd, 0644);
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		goto fail;
	}
	rc = results_summary_write(e, f);
	if (rc == 0 && fsync(fileno(f)) < 0)
		rc = -errno;
	if (fclose(f) == EOF && rc == 0)
		rc = -EIO;
	if (rc < 0)
		goto fail;
	if (rename(tmp, dst) < 0) {
		rc = -errno;
		goto fail;
	}
	results_free(e);
	return 0;
fail:
	set_err(err, errlen, "%s: %s", dst, strerror(-rc));
	unlink(tmp);
	results_free(e);
	return rc;
}
