/*
 * The netns testbed: the paper's two hosts, their bridges, the measurement
 * VMs and the background VMs, all as network namespaces on this host.
 *
 *   tk-vs (198.18.0.1)          tk-vr (198.18.0.2)
 *    eth0                         eth0
 *     |  veth                       |  veth
 *   tk-vm --+-- tk-br --+        +-- tk-br --+-- tk-vm
 *   tk-bgN -+   (tk-hs) |        | (tk-hr)   +-- tk-bgN
 *                    tk-lnk-s == tk-lnk-r   (the "host NICs": a veth pair, tbf-shaped)
 *   background VMs tk-bgs<i> (198.18.1.i), tk-bgr<i> (198.18.2.i)
 *
 * The host link is shaped with tbf to a physical rate: an unshaped veth
 * moves tens of Gbit/s and network load would never queue.  (This kernel
 * has tbf, htb and pfifo but no netem/fq/fq_codel; tbf is what we use, and
 * the manifest says so.)  CPU reservation is a cgroup cpuset: the
 * measurement VMs' processes alone on the last CPU, background load on the
 * others; cgroup v1 and v2 both work.  The topology is built once at the
 * run's largest VM count; a scenario with fewer VMs leaves the rest idle.
 */
#include "autoconfig.h"
#include "backend.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec.h"

#define NS_HS "tk-hs"
#define NS_HR "tk-hr"
#define NS_VS "tk-vs"
#define NS_VR "tk-vr"
#define ADDR_VS "198.18.0.1"
#define ADDR_VR "198.18.0.2"
#define MAX_LOAD (MATRIX_MAX_BG_VMS * 2)
#define CG_PREFIX "tk-"
/* Processes the netns testbed started, for clean after a crash. */
#define PID_REGISTRY TK_RUN_DIR "/netns.pids"

struct cgroups {
	int version;                 /* 0: none usable, 1 or 2 */
	char meas[PATH_MAX];         /* cgroup.procs paths */
	char bg[PATH_MAX];
	char all[PATH_MAX];
	char meas_dir[PATH_MAX], bg_dir[PATH_MAX], all_dir[PATH_MAX];
	char meas_cpus[32], bg_cpus[32], all_cpus[32];
};

struct testbed {
	struct testbed_cfg cfg;
	int nbg;                     /* background VMs built per side */
	bool built;
	bool shaped;
	char shaping[160];
	struct cgroups cg;
	int ncpu;
	char versions[5][96];
	const struct scenario *sc;
	pid_t server_pid;
	pid_t load_pids[MAX_LOAD];
	bool load_reaped[MAX_LOAD];  /* leader already waited for: never signal its PID again */
	size_t n_load;
	pid_t capture_pid;
	char logdir[PATH_MAX];
};


static const char *const needed[][2] = {
	{ "ip", "iproute2" }, { "tc", "iproute2" }, { "ss", "iproute2" },
	{ "ping", "iputils-ping" }, { "stress-ng", "stress-ng" }, { "iperf3", "iperf3" },
};

static int netns_check(const struct testbed_cfg *cfg, char *err, size_t errlen)
{
	if (geteuid() != 0) {
		tk_errf(err, errlen, "the netns backend needs root (network namespaces, tc, cgroups)");
		return -EPERM;
	}
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++) {
		if (!exec_have_program(needed[i][0])) {
			tk_errf(err, errlen, "%s not found: apt-get install %s", needed[i][0], needed[i][1]);
			return -ENOENT;
		}
	}
	const char *progs[] = { cfg->server_path, cfg->client_path };
	for (size_t i = 0; i < 2; i++) {
		if (!progs[i] || access(progs[i], X_OK) != 0) {
			tk_errf(err, errlen, "%s not found (build twampkit first)",
			    progs[i] ? progs[i] : (i ? "twamp-client" : "twamp-server"));
			return -ENOENT;
		}
	}
	if (cfg->m->capture && (!cfg->capture_path || access(cfg->capture_path, X_OK) != 0)) {
		tk_errf(err, errlen, "matrix key 'capture': twamp-capture not found (configure found no libpcap: "
			"apt-get install libpcap-dev and rebuild, or set capture = false)");
		return -ENOENT;
	}
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (cfg->m->reservation[1] && ncpu < 2) {
		tk_errf(err, errlen, "matrix key 'reservation': a reserved core needs at least 2 CPUs, this host has %ld", ncpu);
		return -EINVAL;
	}
	return 0;
}

static const char *netns_nic_name(const struct testbed *tb, const char *requested)
{
	(void)tb;
	(void)requested;
	return "veth";
}

/* --- cgroups --------------------------------------------------------------- */

static bool read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = 0;
	return ok;
}

static int cg_make(const char *root, const char *name, const char *cpus, int version,
		   char *dir, size_t dirlen, char *procs, size_t procslen)
{
	snprintf(dir, dirlen, "%s/%s%s", root, CG_PREFIX, name);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	char path[PATH_MAX + 32];
	if (version == 1) {
		char mems[64] = "0";
		tk_path(path, sizeof(path), "%s/cpuset.mems", root);
		read_line(path, mems, sizeof(mems));
		tk_path(path, sizeof(path), "%s/cpuset.mems", dir);
		int rc = exec_write_file(path, mems);
		if (rc)
			return rc;
	}
	tk_path(path, sizeof(path), "%s/cpuset.cpus", dir);
	int rc = exec_write_file(path, cpus);
	if (rc)
		return rc;
	snprintf(procs, procslen, "%s/cgroup.procs", dir);
	return 0;
}

static void cg_setup(struct testbed *tb)
{
	struct cgroups *cg = &tb->cg;
	cg->version = 0;
	int n = tb->ncpu;
	if (n < 1)
		return;
	snprintf(cg->all_cpus, sizeof(cg->all_cpus), "0-%d", n - 1);
	snprintf(cg->meas_cpus, sizeof(cg->meas_cpus), "%d", n - 1);
	if (n >= 2)
		snprintf(cg->bg_cpus, sizeof(cg->bg_cpus), n == 2 ? "0" : "0-%d", n - 2);
	else
		snprintf(cg->bg_cpus, sizeof(cg->bg_cpus), "0");

	const char *root;
	int version;
	if (access("/sys/fs/cgroup/cpuset/cpuset.cpus", F_OK) == 0) {
		root = "/sys/fs/cgroup/cpuset";
		version = 1;
	} else if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) {
		root = "/sys/fs/cgroup";
		version = 2;
		/* The cpuset controller must be enabled for the children. */
		exec_write_file("/sys/fs/cgroup/cgroup.subtree_control", "+cpuset");
	} else {
		return;
	}
	if (cg_make(root, "meas", cg->meas_cpus, version, cg->meas_dir, sizeof(cg->meas_dir),
		    cg->meas, sizeof(cg->meas)) ||
	    cg_make(root, "bg", cg->bg_cpus, version, cg->bg_dir, sizeof(cg->bg_dir), cg->bg,
		    sizeof(cg->bg)) ||
	    cg_make(root, "all", cg->all_cpus, version, cg->all_dir, sizeof(cg->all_dir), cg->all,
		    sizeof(cg->all)))
		return;
	cg->version = version;
}

/* Where the measurement VMs' and the background VMs' processes go in this scenario. */
static const char *cg_for(const struct testbed *tb, bool measurement)
{
	if (tb->cg.version == 0)
		return NULL;
	if (!tb->sc || !tb->sc->reservation)
		return tb->cg.all;
	return measurement ? tb->cg.meas : tb->cg.bg;
}

/* --- topology -------------------------------------------------------------- */

static int add_vm(struct testbed *tb, const char *vm_ns, const char *host_ns, const char *port,
		  const char *addr, char *err, size_t errlen)
{
	(void)tb;
	EXEC_RUN("ip", "netns", "add", exec_arg(vm_ns));
	EXEC_RUN("ip", "link", "add", "eth0", "netns", exec_arg(vm_ns), "type", "veth", "peer", "name",
	    exec_arg(port), "netns", exec_arg(host_ns));
	EXEC_RUN("ip", "-n", exec_arg(host_ns), "link", "set", exec_arg(port), "master", "tk-br", "up");
	EXEC_RUN("ip", "-n", exec_arg(vm_ns), "link", "set", "lo", "up");
	char cidr[32];
	tk_path(cidr, sizeof(cidr), "%s/16", addr);
	EXEC_RUN("ip", "-n", exec_arg(vm_ns), "addr", "add", cidr, "dev", "eth0");
	EXEC_RUN("ip", "-n", exec_arg(vm_ns), "link", "set", "eth0", "up");
	return 0;
}

static int shape_link(struct testbed *tb, char *err, size_t errlen)
{
	const struct matrix *m = tb->cfg.m;
	if (m->link_rate_bps <= 0) {
		snprintf(tb->shaping, sizeof(tb->shaping), "unshaped (link_rate 0)");
		return 0;
	}
	char rate[32], burst[32], lat[32];
	snprintf(rate, sizeof(rate), "%lldbit", (long long)m->link_rate_bps);
	long long b = m->link_burst_bytes > 0 ? m->link_burst_bytes : m->link_rate_bps / 8 / 1000;
	if (b < 16384)
		b = 16384;
	snprintf(burst, sizeof(burst), "%lld", b);
	snprintf(lat, sizeof(lat), "%lldus",
		 (long long)((m->link_latency_ns > 0 ? m->link_latency_ns : 10000000) / 1000));
	char msg[160] = "";
	for (int side = 0; side < 2; side++) {
		char *const argv[] = { "tc", "-n", side ? NS_HR : NS_HS, "qdisc", "add", "dev",
				       side ? "tk-lnk-r" : "tk-lnk-s", "root", "tbf", "rate", rate,
				       "burst", burst, "latency", lat, NULL };
		int rc = exec_run_checked(msg, sizeof(msg), NULL, argv);
		if (rc) {
			snprintf(tb->shaping, sizeof(tb->shaping), "unshaped: tbf unavailable (%.100s)", msg);
			tk_errf(err, errlen, "cannot shape the host link with tbf: %s", msg);
			return rc;
		}
	}
	tb->shaped = true;
	snprintf(tb->shaping, sizeof(tb->shaping), "tbf rate %s burst %s latency %s, both directions",
		 rate, burst, lat);
	return 0;
}

static void tool_version(char *out, size_t len, char *const argv[])
{
	char path[] = "/tmp/tk-ver.XXXXXX";
	int fd = mkstemp(path);
	out[0] = 0;
	if (fd < 0)
		return;
	close(fd);
	struct exec_opts o = { .stdout_path = path };
	if (exec_run(argv, &o, 5000) >= 0) {
		char line[256] = "";
		if (read_line(path, line, sizeof(line)))
			snprintf(out, len, "%s", line);
	}
	unlink(path);
}

static int build(struct testbed *tb, char *err, size_t errlen)
{
	EXEC_RUN("ip", "netns", "add", NS_HS);
	EXEC_RUN("ip", "netns", "add", NS_HR);
	tb->built = true;
	const char *hosts[2] = { NS_HS, NS_HR };
	for (int i = 0; i < 2; i++) {
		EXEC_RUN("ip", "-n", exec_arg(hosts[i]), "link", "set", "lo", "up");
		EXEC_RUN("ip", "-n", exec_arg(hosts[i]), "link", "add", "tk-br", "type", "bridge");
		EXEC_RUN("ip", "-n", exec_arg(hosts[i]), "link", "set", "tk-br", "up");
	}
	EXEC_RUN("ip", "link", "add", "tk-lnk-s", "netns", NS_HS, "type", "veth", "peer", "name",
	    "tk-lnk-r", "netns", NS_HR);
	EXEC_RUN("ip", "-n", NS_HS, "link", "set", "tk-lnk-s", "master", "tk-br", "up");
	EXEC_RUN("ip", "-n", NS_HR, "link", "set", "tk-lnk-r", "master", "tk-br", "up");
	int rc = add_vm(tb, NS_VS, NS_HS, "tk-vm", ADDR_VS, err, errlen);
	if (!rc)
		rc = add_vm(tb, NS_VR, NS_HR, "tk-vm", ADDR_VR, err, errlen);
	for (int i = 1; !rc && i <= tb->nbg; i++) {
		char ns[32], port[16], addr[32];
		snprintf(port, sizeof(port), "tk-bg%d", i);
		snprintf(ns, sizeof(ns), "tk-bgs%d", i);
		snprintf(addr, sizeof(addr), "198.18.1.%d", i);
		rc = add_vm(tb, ns, NS_HS, port, addr, err, errlen);
		if (rc)
			break;
		snprintf(ns, sizeof(ns), "tk-bgr%d", i);
		snprintf(addr, sizeof(addr), "198.18.2.%d", i);
		rc = add_vm(tb, ns, NS_HR, port, addr, err, errlen);
	}
	if (!rc)
		rc = shape_link(tb, err, errlen);
	return rc;
}

static void netns_teardown(struct testbed *tb);

static int netns_prepare(const struct testbed_cfg *cfg, struct testbed **out, char *err,
			 size_t errlen)
{
	struct testbed *tb = calloc(1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	tb->cfg = *cfg;
	tb->nbg = cfg->max_bg_vms;
	tb->ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int killed;
	exec_registry_kill(PID_REGISTRY, &killed); /* a crashed run's leftovers */
	exec_registry_set(PID_REGISTRY);
	snprintf(tb->logdir, sizeof(tb->logdir), "%s", cfg->workdir);
	mkdir(tb->logdir, 0755);
	*out = tb;
	int rc = build(tb, err, errlen);
	if (rc)
		return rc;
	cg_setup(tb);
	if (cfg->m->reservation[1] && tb->cg.version == 0) {
		tk_errf(err, errlen, "matrix key 'reservation': no cgroup cpuset controller found "
			"(mount cgroup v1 cpuset or enable cpuset in cgroup v2)");
		return -ENOTSUP;
	}
	char *const ping_v[] = { "ping", "-V", NULL };
	char *const stress_v[] = { "stress-ng", "--version", NULL };
	char *const iperf_v[] = { "iperf3", "--version", NULL };
	char *const tc_v[] = { "tc", "-V", NULL };
	tool_version(tb->versions[0], sizeof(tb->versions[0]), ping_v);
	tool_version(tb->versions[1], sizeof(tb->versions[1]), stress_v);
	tool_version(tb->versions[2], sizeof(tb->versions[2]), iperf_v);
	tool_version(tb->versions[3], sizeof(tb->versions[3]), tc_v);
	return 0;
}

/* --- per scenario ---------------------------------------------------------- */

/* Waits until something in ns listens on port ("-Hlun" for UDP, "-Hltn" for TCP). */
static int wait_listen(const char *ns, const char *ss_flags, const char *port, int timeout_ms,
		       const char *logdir)
{
	char path[PATH_MAX];
	tk_path(path, sizeof(path), "%s/ss.out", logdir);
	char filter[32];
	tk_path(filter, sizeof(filter), "sport = :%s", port);
	char *const argv[] = { "ss", exec_arg(ss_flags), filter, NULL };
	for (int waited = 0; waited < timeout_ms; waited += 20) {
		struct exec_opts o = { .netns = ns, .stdout_path = path };
		if (exec_run(argv, &o, 5000) == 0) {
			struct stat st;
			if (stat(path, &st) == 0 && st.st_size > 0)
				return 0;
		}
		struct timespec nap = { 0, 20 * 1000000 };
		nanosleep(&nap, NULL);
	}
	return -ETIMEDOUT;
}

static int netns_scenario_begin(struct testbed *tb, const struct scenario *sc, char *err,
				size_t errlen)
{
	tb->sc = sc;
	char log[PATH_MAX];
	tk_path(log, sizeof(log), "%s/twamp-server.log", tb->logdir);
	char *const argv[] = { exec_arg(tb->cfg.server_path), "-f", "--no-control", "-l", ADDR_VR ":862", NULL };
	struct exec_opts o = { .netns = NS_VR, .cgroup_procs = cg_for(tb, true), .stdout_path = log,
			       .new_session = true };
	int rc = exec_spawn(argv, &o, &tb->server_pid);
	if (rc) {
		tk_errf(err, errlen, "cannot start twamp-server in %s: %s", NS_VR, strerror(-rc));
		return rc;
	}
	if (wait_listen(NS_VR, "-Hlun", "862", 5000, tb->logdir) < 0) {
		tk_errf(err, errlen, "twamp-server in %s did not start listening (see %s)", NS_VR, log);
		return -ETIMEDOUT;
	}
	return 0;
}

static int spawn_load(struct testbed *tb, const char *ns, char *const argv[], const char *tag,
		      int i, char *err, size_t errlen)
{
	if (tb->n_load == MAX_LOAD) {
		tk_errf(err, errlen, "too many load processes");
		return -E2BIG;
	}
	char log[PATH_MAX];
	tk_path(log, sizeof(log), "%s/load-%s-%d.log", tb->logdir, tag, i);
	struct exec_opts o = { .netns = ns, .cgroup_procs = cg_for(tb, false), .stdout_path = log,
			       .new_session = true };
	pid_t pid;
	int rc = exec_spawn(argv, &o, &pid);
	if (rc) {
		tk_errf(err, errlen, "cannot start %s in %s: %s", argv[0], ns, strerror(-rc));
		return rc;
	}
	tb->load_reaped[tb->n_load] = false;
	tb->load_pids[tb->n_load++] = pid;
	return 0;
}

static int netns_load_start(struct testbed *tb, const struct scenario *sc, char *err, size_t errlen)
{
	const struct matrix *m = tb->cfg.m;
	tb->n_load = 0;
	if (sc->load == LOAD_NONE)
		return 0;
	char workers[16], streams[16], path[PATH_MAX];
	int rc = 0;
	for (int i = 1; i <= sc->bg_vms && !rc; i++) {
		char ns_s[32], ns_r[32], ns_load[32];
		snprintf(ns_s, sizeof(ns_s), "tk-bgs%d", i);
		snprintf(ns_r, sizeof(ns_r), "tk-bgr%d", i);
		tk_path(ns_load, sizeof(ns_load), "%s", sc->location == LOC_RECEIVER ? ns_r : ns_s);
		switch (sc->load) {
		case LOAD_CPU: {
			snprintf(workers, sizeof(workers), "%d", m->cpu_workers > 0 ? m->cpu_workers : 1);
			char *const argv[] = { "stress-ng", "--cpu", workers, "--timeout", "3600",
					       "--quiet", NULL };
			rc = spawn_load(tb, ns_load, argv, "cpu", i, err, errlen);
			break;
		}
		case LOAD_IO: {
			snprintf(workers, sizeof(workers), "%d", m->io_workers > 0 ? m->io_workers : 1);
			tk_path(path, sizeof(path), "%s/io-%d", tb->logdir, i);
			mkdir(path, 0755);
			char *const argv[] = { "stress-ng", "--hdd", workers, "--hdd-bytes", "32m",
					       "--temp-path", path, "--timeout", "3600", "--quiet", NULL };
			rc = spawn_load(tb, ns_load, argv, "io", i, err, errlen);
			break;
		}
		case LOAD_NETWORK: {
			/* Flows cross the host link from the loaded side to the other one. */
			const char *srv_ns = sc->location == LOC_RECEIVER ? ns_s : ns_r;
			char srv_addr[32];
			snprintf(srv_addr, sizeof(srv_addr), "198.18.%d.%d",
				 sc->location == LOC_RECEIVER ? 1 : 2, i);
			char *const srv[] = { "iperf3", "-s", "-p", "5201", NULL };
			rc = spawn_load(tb, srv_ns, srv, "iperf3-server", i, err, errlen);
			if (rc)
				break;
			if (wait_listen(srv_ns, "-Hltn", "5201", 5000, tb->logdir) < 0) {
				tk_errf(err, errlen, "iperf3 server in %s did not start listening (logs in %s)",
					srv_ns, tb->logdir);
				rc = -ETIMEDOUT;
				break;
			}
			snprintf(streams, sizeof(streams), "%d", m->net_streams > 0 ? m->net_streams : 1);
			char *const cli[] = { "iperf3", "-c", srv_addr, "-p", "5201", "-t", "3600",
					      "-P", streams, NULL };
			rc = spawn_load(tb, ns_load, cli, "iperf3-client", i, err, errlen);
			break;
		}
		default:
			break;
		}
	}
	if (rc)
		return rc;
	/* Settle, then verify every load process is still running. */
	struct timespec settle = { m->settle_ns / 1000000000, m->settle_ns % 1000000000 };
	nanosleep(&settle, NULL);
	for (size_t k = 0; k < tb->n_load; k++) {
		pid_t w = waitpid(tb->load_pids[k], NULL, WNOHANG);
		if (w != 0) {
			tb->load_reaped[k] = true;
			tk_errf(err, errlen, "a %s load process exited early (logs in %s)",
			    load_type_name(sc->load), tb->logdir);
			return -ECHILD;
		}
	}
	return 0;
}

static int netns_load_stop(struct testbed *tb, char *err, size_t errlen)
{
	/* Each load runs in its own session: signal the whole group (stress-ng workers too). */
	for (size_t k = 0; k < tb->n_load; k++)
		kill(-tb->load_pids[k], SIGTERM);
	for (size_t k = 0; k < tb->n_load; k++)
		if (!tb->load_reaped[k])
			exec_stop(tb->load_pids[k], SIGTERM, 5000);
	for (size_t k = 0; k < tb->n_load; k++) {
		/* Verified gone: no process left in its group. */
		for (int tries = 0; kill(-tb->load_pids[k], 0) == 0; tries++) {
			if (tries == 100) {
				kill(-tb->load_pids[k], SIGKILL);
			} else if (tries > 300) {
				tk_errf(err, errlen, "load process group %d does not go away", (int)tb->load_pids[k]);
				return -EBUSY;
			}
			struct timespec nap = { 0, 10 * 1000000 };
			nanosleep(&nap, NULL);
		}
	}
	tb->n_load = 0;
	return 0;
}

static int netns_capture_start(struct testbed *tb, const char *json_path, const char *pcap_dir,
			       char *err, size_t errlen)
{
	char log[PATH_MAX];
	char *bin = exec_arg(tb->cfg.capture_path);
	if (!bin || access(bin, X_OK) != 0) {
		tk_errf(err, errlen, "twamp-capture not built (libpcap missing at configure time)");
		return -ENOENT;
	}
	tk_path(log, sizeof(log), "%s/twamp-capture.log", tb->logdir);
	char *argv[32];
	int n = 0;
	argv[n++] = bin;
	argv[n++] = "-i"; argv[n++] = "sender-vm=eth0@" NS_VS;
	argv[n++] = "-i"; argv[n++] = "sender-bridge=tk-br@" NS_HS;
	argv[n++] = "-i"; argv[n++] = "sender-host=tk-lnk-s@" NS_HS;
	argv[n++] = "-i"; argv[n++] = "receiver-host=tk-lnk-r@" NS_HR;
	argv[n++] = "-i"; argv[n++] = "receiver-bridge=tk-br@" NS_HR;
	argv[n++] = "-i"; argv[n++] = "receiver-vm=eth0@" NS_VR;
	argv[n++] = "-F"; argv[n++] = "json";
	argv[n++] = "-o"; argv[n++] = exec_arg(json_path);
	if (pcap_dir) {
		argv[n++] = "-w";
		argv[n++] = exec_arg(pcap_dir);
	}
	argv[n] = NULL;
	struct exec_opts o = { .cgroup_procs = cg_for(tb, false), .stdout_path = log,
			       .new_session = true };
	int rc = exec_spawn(argv, &o, &tb->capture_pid);
	if (rc) {
		tk_errf(err, errlen, "cannot start twamp-capture: %s", strerror(-rc));
		return rc;
	}
	/* Ready when it says so on its log (it prints once every handle is open). */
	for (int waited = 0; waited < 5000; waited += 10) {
		char line[256];
		if (read_line(log, line, sizeof(line)) && strstr(line, "capturing")) 
			return 0;
		if (waitpid(tb->capture_pid, NULL, WNOHANG) == tb->capture_pid) {
			tb->capture_pid = 0;
			tk_errf(err, errlen, "twamp-capture exited at start (see %s)", log);
			return -ECHILD;
		}
		struct timespec nap = { 0, 10 * 1000000 };
		nanosleep(&nap, NULL);
	}
	tk_errf(err, errlen, "twamp-capture did not become ready (see %s)", log);
	return -ETIMEDOUT;
}

static int netns_capture_stop(struct testbed *tb, char *err, size_t errlen)
{
	if (tb->capture_pid <= 0)
		return 0;
	/* Let the last replies reach every point before stopping. */
	struct timespec nap = { 0, 200 * 1000000 };
	nanosleep(&nap, NULL);
	kill(tb->capture_pid, SIGINT);
	int rc = exec_wait(tb->capture_pid, 10000);
	tb->capture_pid = 0;
	if (rc != 0) {
		tk_errf(err, errlen, "twamp-capture failed (%d), see %s/twamp-capture.log", rc, tb->logdir);
		return -EIO;
	}
	return 0;
}

static int netns_probe(struct testbed *tb, const struct probe_request *req, char *err, size_t errlen)
{
	char count[16], interval[32], log[PATH_MAX];
	snprintf(count, sizeof(count), "%d", req->count);
	int timeout_ms = (int)((int64_t)req->count * 1000 / req->freq_hz) + 30000;
	int rc;
	if (req->tool == PROBE_TOOL_CLIENT) {
		snprintf(interval, sizeof(interval), "%lldns", 1000000000LL / req->freq_hz);
		tk_path(log, sizeof(log), "%s/twamp-client.log", tb->logdir);
		const char *protos = req->twamp ? (req->icmp ? "twamp,icmp" : "twamp") : "icmp";
		char *const argv[] = { exec_arg(tb->cfg.client_path), "-P", exec_arg(protos), "-c", count, "-i", interval,
				       "-W", "1s", "-F", "json", "-o", exec_arg(req->out_path), "-q",
				       ADDR_VR ":862", NULL };
		struct exec_opts o = { .netns = NS_VS, .cgroup_procs = cg_for(tb, true),
				       .stdout_path = log, .new_session = true };
		rc = exec_run(argv, &o, timeout_ms);
		/* 0: answered; 1: nothing came back, still a valid (all lost) result. */
		if (rc == 0 || rc == 1)
			return 0;
		tk_errf(err, errlen, "twamp-client failed (%d), see %s", rc, log);
		return rc < 0 ? rc : -EIO;
	}
	/* iputils ping: -D wall-clock stamps, -n numeric, -W 1 s timeout per reply. */
	snprintf(interval, sizeof(interval), "%.6f", 1.0 / req->freq_hz);
	tk_path(log, sizeof(log), "%s/ping.err", tb->logdir);
	char *const argv[] = { "ping", "-D", "-n", "-c", count, "-i", interval, "-W", "1",
			       ADDR_VR, NULL };
	struct exec_opts o = { .netns = NS_VS, .cgroup_procs = cg_for(tb, true),
			       .stdout_path = req->out_path, .stderr_path = log, .new_session = true };
	rc = exec_run(argv, &o, timeout_ms);
	/* ping exits 1 when replies were missing: the output still tells what happened. */
	if (rc == 0 || rc == 1)
		return 0;
	tk_errf(err, errlen, "ping failed (%d), see %s", rc, log);
	return rc < 0 ? rc : -EIO;
}

static int netns_scenario_end(struct testbed *tb, char *err, size_t errlen)
{
	(void)err;
	(void)errlen;
	if (tb->capture_pid > 0) {
		exec_stop(tb->capture_pid, SIGINT, 5000);
		tb->capture_pid = 0;
	}
	if (tb->server_pid > 0) {
		exec_stop(tb->server_pid, SIGTERM, 5000);
		tb->server_pid = 0;
	}
	tb->sc = NULL;
	return 0;
}

static void netns_describe(const struct testbed *tb, json_object *manifest)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string("netns"));
	json_object_object_add(o, "nic_model", json_object_new_string("veth"));
	json_object_object_add(o, "bg_vms_per_side", json_object_new_int(tb->nbg));
	json_object_object_add(o, "host_link", json_object_new_string(tb->shaping));
	json_object_object_add(o, "link_shaped", json_object_new_boolean(tb->shaped));
	json_object_object_add(o, "qdisc_note", json_object_new_string(
		"tbf used for shaping; netem, fq and fq_codel are not required"));
	json_object *cg = json_object_new_object();
	json_object_object_add(cg, "version", json_object_new_int(tb->cg.version));
	json_object_object_add(cg, "measurement_cpus", json_object_new_string(tb->cg.meas_cpus));
	json_object_object_add(cg, "background_cpus", json_object_new_string(tb->cg.bg_cpus));
	json_object_object_add(cg, "all_cpus", json_object_new_string(tb->cg.all_cpus));
	json_object_object_add(o, "reservation", cg);
	json_object *addr = json_object_new_object();
	json_object_object_add(addr, "sender_vm", json_object_new_string(ADDR_VS));
	json_object_object_add(addr, "receiver_vm", json_object_new_string(ADDR_VR));
	json_object_object_add(o, "addresses", addr);
	json_object *points = json_object_new_object();
	json_object_object_add(points, "sender-vm", json_object_new_string("eth0@" NS_VS));
	json_object_object_add(points, "sender-bridge", json_object_new_string("tk-br@" NS_HS));
	json_object_object_add(points, "sender-host", json_object_new_string("tk-lnk-s@" NS_HS));
	json_object_object_add(points, "receiver-host", json_object_new_string("tk-lnk-r@" NS_HR));
	json_object_object_add(points, "receiver-bridge", json_object_new_string("tk-br@" NS_HR));
	json_object_object_add(points, "receiver-vm", json_object_new_string("eth0@" NS_VR));
	json_object_object_add(o, "capture_points", points);
	json_object_object_add(manifest, "testbed", o);

	json_object *tools = NULL;
	if (!json_object_object_get_ex(manifest, "tool_versions", &tools)) {
		tools = json_object_new_object();
		json_object_object_add(manifest, "tool_versions", tools);
	}
	const char *names[] = { "ping", "stress-ng", "iperf3", "tc" };
	for (int i = 0; i < 4; i++)
		json_object_object_add(tools, names[i], json_object_new_string(tb->versions[i]));
}

/* Kills every process inside namespace ns (they are the run's), then deletes it. */
static int remove_netns(const char *ns)
{
	char path[] = "/tmp/tk-pids.XXXXXX";
	int fd = mkstemp(path);
	if (fd >= 0) {
		close(fd);
		char *const argv[] = { "ip", "netns", "pids", exec_arg(ns), NULL };
		struct exec_opts o = { .stdout_path = path };
		if (exec_run(argv, &o, 5000) == 0) {
			FILE *f = fopen(path, "r");
			long pid;
			while (f && fscanf(f, "%ld", &pid) == 1)
				if (pid > 1)
					kill((pid_t)pid, SIGKILL);
			if (f)
				fclose(f);
		}
		unlink(path);
	}
	char *const del[] = { "ip", "netns", "del", exec_arg(ns), NULL };
	return exec_run(del, NULL, 10000) == 0 ? 0 : -EIO;
}

static void netns_teardown(struct testbed *tb)
{
	if (!tb)
		return;
	char err[256];
	netns_load_stop(tb, err, sizeof(err));
	netns_scenario_end(tb, err, sizeof(err));
	/* Only what this run built: VMs first, then the hosts. */
	for (int i = 1; i <= tb->nbg; i++) {
		char ns[32];
		snprintf(ns, sizeof(ns), "tk-bgs%d", i);
		remove_netns(ns);
		snprintf(ns, sizeof(ns), "tk-bgr%d", i);
		remove_netns(ns);
	}
	const char *fixed[] = { NS_VS, NS_VR, NS_HS, NS_HR };
	for (int i = 0; i < 4; i++)
		remove_netns(fixed[i]);
	const char *dirs[] = { tb->cg.meas_dir, tb->cg.bg_dir, tb->cg.all_dir };
	for (int i = 0; i < 3; i++)
		if (dirs[i][0])
			rmdir(dirs[i]);
	exec_registry_set(NULL);
	unlink(PID_REGISTRY);
	free(tb);
}

static int netns_clean(char *report, size_t len)
{
	int removed = 0, failed = 0, killed = 0;
	exec_registry_kill(PID_REGISTRY, &killed);
	DIR *d = opendir("/var/run/netns");
	if (d) {
		struct dirent *e;
		char names[1024][64];
		int n = 0;
		while ((e = readdir(d)) && n < 1024)
			if (!strncmp(e->d_name, "tk-", 3) &&
			    tk_path(names[n], sizeof(names[0]), "%s", e->d_name) == 0)
				n++;
		closedir(d);
		/* VMs first, then hosts: hosts hold the bridge ends of the VMs' veths. */
		for (int pass = 0; pass < 2; pass++)
			for (int i = 0; i < n; i++) {
				bool host = !strcmp(names[i], NS_HS) || !strcmp(names[i], NS_HR);
				if ((pass == 0) == host)
					continue;
				if (remove_netns(names[i]) == 0)
					removed++;
				else
					failed++;
			}
	}
	/* Cgroups: empty by now (their processes lived in the namespaces above). */
	const char *roots[] = { "/sys/fs/cgroup/cpuset", "/sys/fs/cgroup" };
	int cgroups = 0;
	for (int r = 0; r < 2; r++) {
		const char *names[] = { "tk-meas", "tk-bg", "tk-all" };
		for (int i = 0; i < 3; i++) {
			char dir[PATH_MAX];
			tk_path(dir, sizeof(dir), "%s/%s", roots[r], names[i]);
			if (rmdir(dir) == 0)
				cgroups++;
		}
	}
	snprintf(report, len, "%d processes stopped, %d namespaces and %d cgroups removed%s", killed,
		 removed, cgroups,
		 failed ? ", some namespaces could not be removed" : "");
	return failed ? -EBUSY : 0;
}

const struct backend_ops backend_netns = {
	.name = "netns",
	.check = netns_check,
	.prepare = netns_prepare,
	.nic_name = netns_nic_name,
	.scenario_begin = netns_scenario_begin,
	.load_start = netns_load_start,
	.load_stop = netns_load_stop,
	.capture_start = netns_capture_start,
	.capture_stop = netns_capture_stop,
	.probe = netns_probe,
	.scenario_end = netns_scenario_end,
	.describe = netns_describe,
	.teardown = netns_teardown,
	.clean = netns_clean,
};
