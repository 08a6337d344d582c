/*
 * gnuplot driver for the experiment figures.  All figures go into one
 * script run by one gnuplot process (starting gnuplot per figure costs more
 * than drawing); every figure reads its own data file, written here with
 * fixed-point ms values and "?" for what was not measured, so the numbers
 * in a figure can be checked against the report.  The background-VM axis is
 * categorical (0, 1, 2, 4 ... 128 evenly spaced, as in the paper) since a
 * linear axis would squeeze the small counts together.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis.h"
#include "plot.h"
#include "stats.h"

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

/* snprintf for paths; outdir is checked once to leave room for every name below it. */
static void path_fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void path_fmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

static const char *const proto_legend[RUN_NPROTO] = {
	[RUN_PING] = "ping (iputils)",
	[RUN_ICMP] = "icmp (twamp-client)",
	[RUN_TWAMP] = "twamp (TWAMP-Light)",
};

static const char *const point_legend[RPOINT_N] = {
	"tool", "sender VM", "sender bridge", "sender host", "receiver host", "receiver bridge",
	"receiver VM",
};

struct plotctx {
	const struct experiment *e;
	const char *fmt;
	char outdir[PATH_MAX];
	FILE *gp;
	char (*names)[128];        /* image file names, relative to outdir */
	size_t n, cap;
	struct results_key *keys;
	size_t nkeys;
	char *err;
	size_t errlen;
};

/* A figure group: one load, location, reservation, rate, NIC; its columns are key indices. */
struct pgroup {
	struct results_key k;
	long cols[MATRIX_MAX_VALUES + 1];   /* baseline first (when measured), then bg_vms ascending */
	size_t ncols;
};

static int add_name(struct plotctx *c, const char *name)
{
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;
		char(*p)[128] = realloc(c->names, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		c->names = p;
		c->cap = cap;
	}
	snprintf(c->names[c->n++], sizeof(c->names[0]), "%s", name);
	return 0;
}

/* File-name-safe copy: letters, digits, '-' and '_' only. */
static void safe_name(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; *src && i + 1 < size; src++)
		dst[i++] = (*src >= 'a' && *src <= 'z') || (*src >= 'A' && *src <= 'Z') ||
				   (*src >= '0' && *src <= '9') || *src == '-' || *src == '_'
			   ? *src
			   : '_';
	dst[i] = '\0';
}

static void fig_base(char *buf, size_t size, const char *kind, const struct results_key *k,
		     const char *what)
{
	char nic[32];

	safe_name(nic, sizeof(nic), k->nic);
	snprintf(buf, size, "%s-%s-%s-res%d-%s-%s-%dhz", kind, load_type_name(k->load),
		 load_location_name(k->location), k->reservation ? 1 : 0, what, nic, k->freq_hz);
}

static void group_desc(char *buf, size_t size, const struct results_key *k)
{
	char nic[32];

	/* Quotes would end the gnuplot string. */
	safe_name(nic, sizeof(nic), k->nic);
	snprintf(buf, size, "%s load on the %s, %s, %d Hz, %s", load_type_name(k->load),
		 load_location_name(k->location),
		 k->reservation ? "reserved core" : "no reserved core", k->freq_hz, nic);
}

static int open_data(struct plotctx *c, const char *base, FILE **out)
{
	char path[PATH_MAX];
	int rc;

	path_fmt(path, sizeof(path), "%s/data/%s.dat", c->outdir, base);
	*out = fopen(path, "w");
	if (*out)
		return 0;
	rc = -errno;
	set_err(c->err, c->errlen, "%s: %s", path, strerror(-rc));
	return rc;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x, y;

	memcpy(&x, a, sizeof(x));
	memcpy(&y, b, sizeof(y));
	return (x > y) - (x < y);
}

static int close_data(struct plotctx *c, FILE *f, const char *base)
{
	if (ferror(f) | (fclose(f) == EOF)) {
		set_err(c->err, c->errlen, "%s/data/%s.dat: write error", c->outdir, base);
		return -EIO;
	}
	return 0;
}

static void put_ms(FILE *f, bool known, double ns)
{
	if (known)
		fprintf(f, " %.6f", ns / 1e6);
	else
		fputs(" ?", f);
}

/* Common frame of a figure: output, labels, categorical x axis. */
static int figure_begin(struct plotctx *c, const char *base, const struct pgroup *g,
			const char *title, const char *ylabel)
{
	char name[128];
	size_t i;
	int rc;

	snprintf(name, sizeof(name), "%s.%s", base, c->fmt);
	rc = add_name(c, name);
	if (rc < 0)
		return rc;
	fprintf(c->gp, "\n# --- %s\nreset\n", name);
	fprintf(c->gp, "set output \"%s\"\n", name);
	fprintf(c->gp, "set title \"%s\"\n", title);
	fputs("set xlabel \"Number of background VMs (0 = no load)\"\n", c->gp);
	fprintf(c->gp, "set ylabel \"%s\"\n", ylabel);
	fputs("set datafile missing \"?\"\nset grid ytics\nset key outside right top box\n"
	      "set yrange [0:*]\n",
	      c->gp);
	fprintf(c->gp, "set xrange [-0.6:%zu.6]\nset xtics (", g->ncols - 1);
	for (i = 0; i < g->ncols; i++)
		fprintf(c->gp, "%s\"%d\" %zu", i ? ", " : "",
			g->cols[i] < 0 ? 0 : c->keys[g->cols[i]].bg_vms, i);
	fputs(")\n", c->gp);
	return 0;
}

static void figure_end(struct plotctx *c)
{
	fputs("unset output\n", c->gp);
}

/* Fig. 2: box per column, p25..p75 box, p1/p99 whiskers, median bar. */
static int fig2_proto(struct plotctx *c, const struct pgroup *g, enum run_proto p)
{
	char base[112], desc[128], title[256];
	size_t i, nrows = 0;
	FILE *f = NULL;
	int rc = 0;

	fig_base(base, sizeof(base), "fig2", &g->k, run_proto_name(p));
	for (i = 0; i < g->ncols; i++) {
		struct result_samples s;
		struct stats_dist d;
		int64_t *sorted = NULL;

		rc = results_pool(c->e, &c->keys[g->cols[i]], p, RPOINT_TOOL, &s);
		if (rc < 0)
			goto out;
		if (s.n == 0) {
			results_samples_free(&s);
			continue;
		}
		rc = stats_dist_compute(s.rtt_ns, s.n, &d);
		sorted = rc == 0 ? malloc(s.n * sizeof(*sorted)) : NULL;
		if (rc == 0 && !sorted)
			rc = -ENOMEM;
		if (rc == 0 && !f)
			rc = open_data(c, base, &f);
		if (rc < 0) {
			free(sorted);
			results_samples_free(&s);
			goto out;
		}
		if (nrows == 0)
			fputs("# pos bg_vms n p1_ms p25_ms median_ms p75_ms p99_ms min_ms max_ms mean_ms\n",
			      f);
		memcpy(sorted, s.rtt_ns, s.n * sizeof(*sorted));
		/* stats_dist_compute sorted its own copy; the p1 needs one here. */
		qsort(sorted, s.n, sizeof(*sorted), cmp_i64);
		fprintf(f, "%zu %d %zu", i, c->keys[g->cols[i]].bg_vms, s.n);
		put_ms(f, true, stats_percentile_sorted(sorted, s.n, 1.0));
		put_ms(f, true, d.p25);
		put_ms(f, true, d.median);
		put_ms(f, true, d.p75);
		put_ms(f, true, d.p99);
		put_ms(f, true, d.min);
		put_ms(f, true, d.max);
		put_ms(f, true, d.mean);
		fputc('\n', f);
		nrows++;
		free(sorted);
		results_samples_free(&s);
	}
	if (!f)
		return 0;
	rc = close_data(c, f, base);
	f = NULL;
	if (rc < 0)
		return rc;
	group_desc(desc, sizeof(desc), &g->k);
	snprintf(title, sizeof(title), "RTT vs background VMs, %s: %s", proto_legend[p], desc);
	rc = figure_begin(c, base, g, title, "RTT (ms)");
	if (rc < 0)
		return rc;
	fputs("set boxwidth 0.5\nset style fill solid 0.3 border -1\n", c->gp);
	fprintf(c->gp,
		"plot \"data/%s.dat\" using 1:5:4:8:7 with candlesticks whiskerbars 0.5 lc rgb \"#4a7ab5\" "
		"title \"box p25-p75, whiskers p1-p99\", \\\n"
		"     \"\" using 1:6:6:6:6 with candlesticks lc rgb \"black\" lw 2 title \"median\"\n",
		base);
	figure_end(c);
	return 0;
out:
	if (f)
		fclose(f);
	return rc;
}

/* Overlay: the protocols' medians with their bootstrap CI. */
static int fig2_overlay(struct plotctx *c, const struct pgroup *g)
{
	char base[112], desc[128], title[256];
	bool have[RUN_NPROTO] = {false};
	size_t i, nplot = 0;
	FILE *f;
	int p, rc = 0, col;

	fig_base(base, sizeof(base), "fig2", &g->k, "protocols");
	rc = open_data(c, base, &f);
	if (rc < 0)
		return rc;
	fputs("# pos bg_vms", f);
	for (p = 0; p < RUN_NPROTO; p++)
		fprintf(f, " %s_median_ms %s_ci95_lo_ms %s_ci95_hi_ms", run_proto_name((enum run_proto)p),
			run_proto_name((enum run_proto)p), run_proto_name((enum run_proto)p));
	fputc('\n', f);
	for (i = 0; i < g->ncols; i++) {
		fprintf(f, "%zu %d", i, c->keys[g->cols[i]].bg_vms);
		for (p = 0; p < RUN_NPROTO; p++) {
			struct result_samples s;
			struct analysis_ci ci;

			rc = results_pool(c->e, &c->keys[g->cols[i]], (enum run_proto)p, RPOINT_TOOL, &s);
			if (rc < 0)
				goto out;
			if (s.n == 0) {
				fputs(" ? ? ?", f);
				results_samples_free(&s);
				continue;
			}
			rc = analysis_median_ci(s.rtt_ns, s.n, ANALYSIS_BOOTSTRAP_B, ANALYSIS_CI_LEVEL,
						ANALYSIS_DEFAULT_SEED, &ci);
			results_samples_free(&s);
			if (rc < 0)
				goto out;
			have[p] = true;
			put_ms(f, true, ci.estimate);
			put_ms(f, true, ci.lo);
			put_ms(f, true, ci.hi);
		}
		fputc('\n', f);
	}
	rc = close_data(c, f, base);
	f = NULL;
	if (rc < 0)
		return rc;
	for (p = 0; p < RUN_NPROTO; p++)
		nplot += have[p];
	if (nplot == 0)
		return 0;
	group_desc(desc, sizeof(desc), &g->k);
	snprintf(title, sizeof(title), "Median RTT per protocol (95%% bootstrap CI): %s", desc);
	rc = figure_begin(c, base, g, title, "median RTT (ms)");
	if (rc < 0)
		return rc;
	fputs("plot ", c->gp);
	for (p = 0, i = 0; p < RUN_NPROTO; p++) {
		if (!have[p])
			continue;
		col = 3 + 3 * p;
		/* Small horizontal offsets keep the error bars apart. */
		fprintf(c->gp, "%s\"data/%s.dat\" using ($1%+.2f):%d:%d:%d with yerrorlines lw 2 pt %d "
			       "title \"%s\"",
			i++ ? ", \\\n     " : "", base, (p - 1) * 0.08, col, col + 1, col + 2, 5 + 2 * p,
			proto_legend[p]);
	}
	fputc('\n', c->gp);
	figure_end(c);
	return 0;
out:
	if (f)
		fclose(f);
	return rc;
}

/* Fig. 3: mean RTT at each point vs background VMs. */
static int fig3_proto(struct plotctx *c, const struct pgroup *g, enum run_proto p)
{
	char base[112], desc[128], title[256];
	double mean[MATRIX_MAX_VALUES + 1][RPOINT_N];
	bool known[MATRIX_MAX_VALUES + 1][RPOINT_N], have_pt[RPOINT_N] = {false}, any_capture = false;
	size_t i, nplot = 0;
	FILE *f;
	int q, rc;

	for (i = 0; i < g->ncols; i++)
		for (q = 0; q < RPOINT_N; q++) {
			struct result_samples s;
			struct stats_dist d;

			rc = results_pool(c->e, &c->keys[g->cols[i]], p, (enum result_point)q, &s);
			if (rc < 0)
				return rc;
			rc = stats_dist_compute(s.rtt_ns, s.n, &d);
			results_samples_free(&s);
			if (rc < 0)
				return rc;
			known[i][q] = d.n > 0;
			mean[i][q] = d.mean;
			if (d.n > 0) {
				have_pt[q] = true;
				any_capture = any_capture || q != RPOINT_TOOL;
			}
		}
	if (!any_capture)
		return 0;
	fig_base(base, sizeof(base), "fig3", &g->k, run_proto_name(p));
	rc = open_data(c, base, &f);
	if (rc < 0)
		return rc;
	fputs("# pos bg_vms", f);
	for (q = 0; q < RPOINT_N; q++)
		fprintf(f, " %s_mean_ms", result_point_name((enum result_point)q));
	fputc('\n', f);
	for (i = 0; i < g->ncols; i++) {
		fprintf(f, "%zu %d", i, c->keys[g->cols[i]].bg_vms);
		for (q = 0; q < RPOINT_N; q++)
			put_ms(f, known[i][q], mean[i][q]);
		fputc('\n', f);
	}
	rc = close_data(c, f, base);
	if (rc < 0)
		return rc;
	group_desc(desc, sizeof(desc), &g->k);
	snprintf(title, sizeof(title), "Mean RTT per capture point, %s: %s", proto_legend[p], desc);
	rc = figure_begin(c, base, g, title, "mean RTT (ms)");
	if (rc < 0)
		return rc;
	fputs("plot ", c->gp);
	for (q = 0; q < RPOINT_N; q++) {
		if (!have_pt[q])
			continue;
		fprintf(c->gp, "%s\"data/%s.dat\" using 1:%d with linespoints lw 2 pt %d title \"%s\"",
			nplot++ ? ", \\\n     " : "", base, 3 + q, 4 + q, point_legend[q]);
	}
	fputc('\n', c->gp);
	figure_end(c);
	return 0;
}

static bool same_group(const struct results_key *a, const struct results_key *b)
{
	return a->reservation == b->reservation && a->freq_hz == b->freq_hz &&
	       strcmp(a->nic, b->nic) == 0 && a->load == b->load && a->location == b->location;
}

static int draw_groups(struct plotctx *c)
{
	size_t i, j, k;
	int p, rc;

	for (i = 0; i < c->nkeys; i = j) {
		struct pgroup g;
		struct results_key bk;

		for (j = i + 1; j < c->nkeys && same_group(&c->keys[i], &c->keys[j]); j++)
			;
		if (c->keys[i].load == LOAD_NONE)
			continue;
		memset(&g, 0, sizeof(g));
		g.k = c->keys[i];
		results_key_baseline(&g.k, &bk);
		for (k = 0; k < c->nkeys; k++)
			if (results_key_cmp(&c->keys[k], &bk) == 0)
				g.cols[g.ncols++] = (long)k;
		for (k = i; k < j && g.ncols < MATRIX_MAX_VALUES + 1; k++)
			g.cols[g.ncols++] = (long)k;
		for (p = 0; p < RUN_NPROTO; p++) {
			rc = fig2_proto(c, &g, (enum run_proto)p);
			if (rc < 0)
				return rc;
		}
		rc = fig2_overlay(c, &g);
		if (rc < 0)
			return rc;
		for (p = 0; p < RUN_NPROTO; p++) {
			rc = fig3_proto(c, &g, (enum run_proto)p);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

static bool have_gnuplot(void)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];

	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");

		if (len > 0 && len + sizeof("/gnuplot") <= sizeof(buf)) {
			memcpy(buf, path, len);
			memcpy(buf + len, "/gnuplot", sizeof("/gnuplot"));
			if (access(buf, X_OK) == 0)
				return true;
		}
		path += len;
		if (*path == ':')
			path++;
	}
	return false;
}

/* gnuplot plots.gp in outdir; stdout discarded, stderr to gnuplot.log. */
static int run_gnuplot(struct plotctx *c)
{
	char log[PATH_MAX];
	int status, fd;
	pid_t pid;

	path_fmt(log, sizeof(log), "%s/gnuplot.log", c->outdir);
	pid = fork();
	if (pid < 0) {
		set_err(c->err, c->errlen, "fork: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR);
		if (fd >= 0) {
			dup2(fd, STDIN_FILENO);
			dup2(fd, STDOUT_FILENO);
			close(fd);
		}
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0)
			dup2(fd, STDERR_FILENO);
		if (chdir(c->outdir) < 0)
			_exit(126);
		execlp("gnuplot", "gnuplot", "plots.gp", (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			set_err(c->err, c->errlen, "waitpid: %s", strerror(errno));
			return -errno;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		set_err(c->err, c->errlen,
			"gnuplot could not be started: install the Debian package gnuplot-nox");
		return -ENOENT;
	}
	set_err(c->err, c->errlen, "gnuplot failed (%s %d), see %s",
		WIFEXITED(status) ? "exit status" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
	return -EIO;
}

static int make_dir(const char *path, char *err, size_t errlen)
{
	if (mkdir(path, 0755) == 0 || errno == EEXIST)
		return 0;
	set_err(err, errlen, "%s: %s", path, strerror(errno));
	return -errno;
}

int plot_write(const struct experiment *e, const char *outdir, const char *format, FILE *list,
	       char *err, size_t errlen)
{
	struct plotctx c;
	char path[PATH_MAX];
	size_t i;
	int rc;

	if (!e || !format)
		return -EINVAL;
	if (strcmp(format, "png") != 0 && strcmp(format, "svg") != 0) {
		set_err(err, errlen, "plot format must be png or svg, not \"%s\"", format);
		return -EINVAL;
	}
	memset(&c, 0, sizeof(c));
	c.e = e;
	c.fmt = format;
	c.err = err;
	c.errlen = errlen;
	if (strlen(outdir ? outdir : e->dir) > PATH_MAX - 256) {
		set_err(err, errlen, "%s: path too long", outdir ? outdir : e->dir);
		return -ENAMETOOLONG;
	}
	if (outdir)
		path_fmt(c.outdir, sizeof(c.outdir), "%s", outdir);
	else
		path_fmt(c.outdir, sizeof(c.outdir), "%s/plots", e->dir);
	rc = make_dir(c.outdir, err, errlen);
	if (rc < 0)
		return rc;
	path_fmt(path, sizeof(path), "%s/data", c.outdir);
	rc = make_dir(path, err, errlen);
	if (rc < 0)
		return rc;
	rc = results_keys(e, &c.keys, &c.nkeys);
	if (rc < 0)
		goto out;

	path_fmt(path, sizeof(path), "%s/plots.gp", c.outdir);
	c.gp = fopen(path, "w");
	if (!c.gp) {
		rc = -errno;
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	fprintf(c.gp, "# twamp-experiment figures of %s; run with: cd %s && gnuplot plots.gp\n",
		e->dir, c.outdir);
	if (strcmp(format, "svg") == 0)
		fputs("set terminal svg size 960,560 dynamic noenhanced font \"sans,11\" "
		      "background rgb \"white\"\n",
		      c.gp);
	else
		fputs("if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
		      "    set terminal pngcairo size 960,560 noenhanced font \"sans,10\"\n"
		      "} else {\n"
		      "    set terminal png size 960,560 noenhanced\n"
		      "}\n",
		      c.gp);
	rc = draw_groups(&c);
	if (fclose(c.gp) == EOF && rc == 0) {
		rc = -EIO;
		set_err(err, errlen, "%s: write error", path);
	}
	c.gp = NULL;
	if (rc < 0)
		goto out;
	if (c.n == 0) {
		set_err(err, errlen, "%s: no scenario with background load to plot", e->dir);
		rc = -ENODATA;
		goto out;
	}
	if (!have_gnuplot()) {
		set_err(err, errlen,
			"gnuplot not found in PATH: install the Debian package gnuplot-nox "
			"(script and data are in %s)",
			c.outdir);
		rc = -ENOENT;
		goto out;
	}
	rc = run_gnuplot(&c);
	if (rc < 0)
		goto out;
	for (i = 0; i < c.n; i++) {
		struct stat st;

		path_fmt(path, sizeof(path), "%s/%s", c.outdir, c.names[i]);
		if (stat(path, &st) < 0 || st.st_size == 0) {
			set_err(err, errlen, "gnuplot did not draw %s, see %s/gnuplot.log", path,
				c.outdir);
			rc = -EIO;
			goto out;
		}
		if (list)
			fprintf(list, "%s\n", path);
	}
	if (list)
		fprintf(list, "%s/plots.gp\n", c.outdir);
out:
	free(c.keys);
	free(c.names);
	return rc;
}
