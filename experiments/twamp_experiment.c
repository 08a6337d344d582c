/*
 * twamp-experiment: runs the paper's load matrix on a testbed backend,
 * stores the results, prints the tables and draws the figures.
 *
 *   twamp-experiment run [-c MATRIX.cfg | --preset quick|ci|paper] [--backend netns|libvirt]
 *                        [-o DIR] [--resume] [--dry-run]
 *   twamp-experiment report DIR [--format text|markdown|csv|json]
 *   twamp-experiment plot DIR [--format png|svg]
 *   twamp-experiment image [-c MATRIX.cfg]      (libvirt backend: build the guest image)
 *   twamp-experiment clean
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#ifdef HAVE_LIBVIRT_BACKEND
#include "guest_image.h"
#endif
#include "matrix.h"
#include "plot.h"
#include "report.h"
#include "results.h"
#include "runner.h"

#define PROG "twamp-experiment"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void usage(FILE *f)
{
	fputs("Usage:\n"
	      "  twamp-experiment run [-c MATRIX.cfg | --preset quick|ci|paper] [--backend netns|libvirt]\n"
	      "                       [-o DIR] [--resume] [--dry-run]\n"
	      "  twamp-experiment report DIR [--format text|markdown|csv|json]\n"
	      "  twamp-experiment plot DIR [--format png|svg]\n"
	      "  twamp-experiment image [-c MATRIX.cfg]\n"
	      "  twamp-experiment clean\n"
	      "\n"
	      "run       run the load matrix (default preset quick, backend netns, -o results-DATE)\n"
	      "          -c FILE      matrix file (libconfig, see experiments/matrices/)\n"
	      "          --preset P   quick (the README demo), ci, paper (Table I in full)\n"
	      "          --backend B  netns (network namespaces on this host; root), or libvirt\n"
	      "                       (real VMs: kvm where /dev/kvm works, else qemu TCG)\n"
	      "          -o DIR       result directory\n"
	      "          --resume     continue an interrupted run in DIR\n"
	      "          --dry-run    list the scenarios and the estimated duration\n"
	      "report    print the tables (Table II, sensitivity, capture-point shares, findings)\n"
	      "plot      draw the figures with gnuplot into DIR/plots\n"
	      "image     build (or find in the cache) the libvirt guests' kernel and initramfs\n"
	      "clean     remove every testbed object (tk- namespaces, cgroups, domains, bridges)\n"
	      "          a crashed run left\n"
	      "\n"
	      "Exit status: 0 success, 1 usage or matrix errors, 2 run failures, 130 interrupted.\n", f);
}

/* Finds a sibling program: build tree (../twamp-server/twamp-server) or installed (same or sbin dir). */
static const char *find_program(const char *name, const char *subdir, char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = 0;
		char *dir = dirname(self);
		const char *cands[] = { "%s/../%s/%s", "%s/%s%s", "%s/../sbin/%s%s", "%s/../bin/%s%s" };
		for (int i = 0; i < 4; i++) {
			if (i == 0)
				snprintf(buf, len, cands[0], dir, subdir, name);
			else
				snprintf(buf, len, cands[i], dir, "", name);
			if (access(buf, X_OK) == 0)
				return buf;
		}
	}
	return NULL;
}

static int cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "preset", required_argument, NULL, 'p' },
		{ "backend", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "resume", no_argument, NULL, 'r' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg = NULL, *preset = NULL, *backend = "netns", *out = NULL;
	bool resume = false, dry = false;
	int opt;
	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":c:o:h", opts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfg = optarg; break;
		case 'p': preset = optarg; break;
		case 'b': backend = optarg; break;
		case 'o': out = optarg; break;
		case 'r': resume = true; break;
		case 'n': dry = true; break;
		case 'h': usage(stdout); return 0;
		case ':':
			fprintf(stderr, PROG ": option %s needs a value\n", argv[optind - 1]);
			return 1;
		default:
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n", argv[optind - 1]);
			return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return 1;
	}
	if (cfg && preset) {
		fprintf(stderr, PROG ": -c and --preset exclude each other\n");
		return 1;
	}
	static struct matrix m;
	char err[1024];
	int rc = cfg ? matrix_load_file(cfg, &m, err, sizeof(err))
		     : matrix_preset(preset ? preset : "quick", &m, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	const struct backend_ops *b = backend_find(backend);
	if (!b) {
		fprintf(stderr, PROG ": unknown backend '%s' (netns%s)\n", backend,
#ifdef HAVE_LIBVIRT_BACKEND
			", libvirt"
#else
			""
#endif
		);
		return 1;
	}
	if (dry) {
		struct scenario *scs;
		size_t n;
		if (matrix_expand(&m, &scs, &n, err, sizeof(err))) {
			fprintf(stderr, PROG ": %s\n", err);
			return 1;
		}
		if (b->group_by_vm_set)
			runner_group_by_vm_set(&m, scs, n); /* the order the run will take */
		double total = 0;
		printf("%-40s %6s %8s %6s %6s %8s %s\n", "scenario", "reserv", "load", "where", "bg_vms",
		       "freq_hz", "protocols");
		for (size_t i = 0; i < n; i++) {
			const struct scenario *s = &scs[i];
			double t = scenario_probe_seconds(s) + (double)m.settle_ns / 1e9 + 1.0;
			total += t;
			printf("%-40s %6s %8s %6s %6d %8d %s%s%s\n", s->id, s->reservation ? "yes" : "no",
			       load_type_name(s->load), load_location_name(s->location), s->bg_vms,
			       s->freq_hz, s->proto[RUN_PING] ? "ping " : "", s->proto[RUN_ICMP] ? "icmp " : "",
			       s->proto[RUN_TWAMP] ? "twamp" : "");
		}
		printf("%zu scenarios on backend %s; estimated duration %.0f s (%.1f min) "
		       "plus testbed set-up\n", n, b->name, total, total / 60);
		free(scs);
		return 0;
	}

	char outbuf[64];
	if (!out) {
		time_t t = time(NULL);
		struct tm tm;
		localtime_r(&t, &tm);
		strftime(outbuf, sizeof(outbuf), "results-%Y%m%d-%H%M%S", &tm);
		out = outbuf;
	}
	char server[PATH_MAX], client[PATH_MAX], capture[PATH_MAX];
	struct runner_opts ro = {
		.m = &m, .backend = b, .outdir = out, .resume = resume, .stop = &stop_requested,
		.server_path = find_program("twamp-server", "twamp-server", server, sizeof(server)),
		.client_path = find_program("twamp-client", "twamp-client", client, sizeof(client)),
		.capture_path = find_program("twamp-capture", "experiments", capture, sizeof(capture)),
	};
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	rc = runner_run(&ro, err, sizeof(err));
	if (rc == -EINTR) {
		fprintf(stderr, PROG ": interrupted; testbed removed; continue with: "
			PROG " run --resume -o %s%s%s\n", out, cfg ? " -c " : " --preset ",
			cfg ? cfg : (preset ? preset : "quick"));
		return 130;
	}
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return rc == -EEXIST || rc == -EINVAL ? 1 : 2;
	}
	printf("results in %s: twamp-experiment report %s; twamp-experiment plot %s\n", out, out, out);
	return 0;
}

static struct experiment *load_experiment(const char *dir)
{
	char err[512];
	struct experiment *e = NULL;
	if (results_load(dir, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return NULL;
	}
	return e;
}

static int cmd_report(int argc, char **argv)
{
	const char *format = "text";
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr, PROG ": report: unexpected '%s'\n", argv[i]);
			return 1;
		}
	}
	enum report_format f;
	if (!dir || report_format_parse(format, &f) < 0) {
		fprintf(stderr, PROG ": usage: report DIR [--format text|markdown|csv|json]\n");
		return 1;
	}
	struct experiment *e = load_experiment(dir);
	if (!e)
		return 2;
	int rc = report_write(e, f, stdout);
	results_free(e);
	if (rc < 0) {
		fprintf(stderr, PROG ": cannot write the report: %s\n", strerror(-rc));
		return 2;
	}
	return 0;
}

static int cmd_plot(int argc, char **argv)
{
	const char *format = "png";
	const char *dir = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strncmp(argv[i], "--format=", 9))
			format = argv[i] + 9;
		else if (argv[i][0] != '-' && !dir)
			dir = argv[i];
		else {
			fprintf(stderr, PROG ": plot: unexpected '%s'\n", argv[i]);
			return 1;
		}
	}
	if (!dir || (strcmp(format, "png") && strcmp(format, "svg"))) {
		fprintf(stderr, PROG ": usage: plot DIR [--format png|svg]\n");
		return 1;
	}
	struct experiment *e = load_experiment(dir);
	if (!e)
		return 2;
	char outdir[PATH_MAX], err[512];
	snprintf(outdir, sizeof(outdir), "%s/plots", dir);
	int rc = plot_write(e, outdir, format, stdout, err, sizeof(err));
	results_free(e);
	if (rc < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	return 0;
}

static int cmd_clean(void)
{
	char report[256], err[256];
	/* A live run's testbed is not a leftover: refuse instead of breaking it. */
	int lock = runner_lock(false, err, sizeof(err));
	if (lock < 0) {
		fprintf(stderr, PROG ": clean: %s\n", err);
		return 2;
	}
	int rc = backend_netns.clean(report, sizeof(report));
	printf("netns: %s\n", report);
#ifdef HAVE_LIBVIRT_BACKEND
	int rc2 = backend_libvirt.clean(report, sizeof(report));
	printf("libvirt: %s\n", report);
	if (rc2)
		rc = rc2;
#endif
	close(lock);
	return rc ? 2 : 0;
}

#ifdef HAVE_LIBVIRT_BACKEND
/* Builds the guest image a libvirt run would use, so the first run does not wait for it. */
static int cmd_image(int argc, char **argv)
{
	static struct matrix m;
	char err[1024];
	const char *cfg = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			cfg = argv[++i];
		} else {
			fprintf(stderr, PROG ": usage: image [-c MATRIX.cfg]\n");
			return 1;
		}
	}
	int rc = cfg ? matrix_load_file(cfg, &m, err, sizeof(err))
		     : matrix_preset("quick", &m, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	char server[PATH_MAX], client[PATH_MAX], init[PATH_MAX];
	const char *progs[] = { find_program("twamp-server", "twamp-server", server, sizeof(server)),
				find_program("twamp-client", "twamp-client", client, sizeof(client)),
				"ping", "stress-ng", "iperf3", "tcpdump" };
	if (!progs[0] || !progs[1]) {
		fprintf(stderr, PROG ": twamp-server or twamp-client not found (build twampkit first)\n");
		return 2;
	}
	struct guest_image_req req = {
		.cache_dir = m.image_cache, .kernel_package = m.kernel_package,
		.init_path = guest_image_find_init(init, sizeof(init)),
		.programs = progs, .n_programs = sizeof(progs) / sizeof(progs[0]),
	};
	if (!req.init_path) {
		fprintf(stderr, PROG ": the guest agent's init was not found (set TK_GUEST_INIT)\n");
		return 2;
	}
	struct guest_image img;
	rc = guest_image_build(&req, &img, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return 2;
	}
	printf("kernel  %s (%s, from %s)\ninitrd  %s (%s; %zu files, %.1f MiB unpacked)\nsha256  %s\n",
	       img.kernel, img.kernel_version, img.kernel_package, img.initrd,
	       img.cached ? "cached" : "built", img.files, (double)img.bytes / 1048576.0, img.hash);
	return 0;
}
#endif

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 1;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "report"))
		return cmd_report(argc - 1, argv + 1);
	if (!strcmp(cmd, "plot"))
		return cmd_plot(argc - 1, argv + 1);
	if (!strcmp(cmd, "clean"))
		return cmd_clean();
#ifdef HAVE_LIBVIRT_BACKEND
	if (!strcmp(cmd, "image"))
		return cmd_image(argc - 1, argv + 1);
#endif
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version")) {
		printf(PROG " %s\n", PACKAGE_VERSION);
		return 0;
	}
	fprintf(stderr, PROG ": unknown command '%s' (run, report, plot, image, clean)\n", cmd);
	return 1;
}
