/*
 * The libvirt testbed: the paper's hosts, bridges, measurement VMs and
 * background VMs as real guests, driven through the libvirt C API.
 *
 *   tk-vs (198.18.0.1)  tk-bgs<i> (198.18.1.i)     tk-vr (198.18.0.2)  tk-bgr<i> (198.18.2.i)
 *     | tap tk-t-vs        | tap tk-t-bs<i>           | tap tk-t-vr        | tap tk-t-br<i>
 *   tk-brs ------------------+-- tk-lnk-s == tk-lnk-r --+-- tk-brr
 *
 * With one libvirt URI both sides run on that host and the two bridges
 * and the veth pair joining them (the "host link") are made here; with two
 * URIs each side runs on its own host, on bridges the administrator made
 * and joined through the physical NIC (matrix key libvirt_bridge).
 *
 * Guests boot the kernel and initramfs of guest_image.c and run the agent
 * of guest_agent/init; commands reach it over the virtio-serial channel
 * through virDomainOpenChannel, so a remote host (qemu+ssh://) is driven
 * exactly like the local one.  Domains are transient and auto-destroyed
 * with the connection, so nothing survives the harness.  A VM set (NIC
 * model, number of background VMs) is booted once and kept while the
 * scenarios need it (the runner groups them); CPU reservation is applied
 * to the running domains by re-pinning (virDomainPinVcpuFlags and
 * virDomainPinEmulator), no reboot.
 */
#include "autoconfig.h"
#include "backend.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "exec.h"
#include "guest_image.h"
#include "libvirt_vm.h"
#include "tstamp.h"

#define ADDR_VS "198.18.0.1"
#define ADDR_VR "198.18.0.2"
#define BR_S "tk-brs"
#define BR_R "tk-brr"
#define LNK_S "tk-lnk-s"
#define LNK_R "tk-lnk-r"
#define MAX_VMS (2 + 2 * MATRIX_MAX_BG_VMS)
#define PID_REGISTRY TK_RUN_DIR "/libvirt.pids"
#define CONSOLE_DIR "/var/log/libvirt/qemu"
#define AGENT_HOLD 64

struct lvhost {
	char uri[256];
	virConnectPtr conn;
	int ncpus;
	char virt_type[8];
	char bridge[16];
	bool local;
	bool auto_type;              /* virt_type auto: kvm may still fall back to qemu */
	char kvm_note[200];          /* why kvm was not used, when it was offered */
	char hv_version[32];
};

struct vm {
	char name[32];
	char tap[24];                /* at most 15 used: tk-t-br128 */
	char addr[24];
	int side;                    /* 0 sender, 1 receiver */
	int index;                   /* 0 measurement, 1.. background */
	virDomainPtr dom;
	virStreamPtr st;
	char *buf;                   /* agent bytes received and not yet consumed */
	size_t len, cap;
	unsigned seq;
	int pinned;                  /* -1 unknown, 0 without, 1 with reservation */
	bool load;                   /* runs a load job now */
	bool iperf_server;
	double start_s;              /* virDomainCreateXML */
	double boot_s;               /* from then until the agent answered */
	char clocksource[32];
	long mem_total_kib, mem_avail_kib;
};

struct testbed {
	struct testbed_cfg cfg;
	struct lvhost hosts[2];
	int nhosts;
	bool made_net;               /* tk-brs, tk-brr, veth made here */
	bool host_capture;           /* host-side points are on this machine */
	struct vm vms[MAX_VMS];
	char nic[16];                /* NIC model of the running set, "" = none */
	int bg_running;              /* background VMs per side running */
	struct guest_image img;
	pthread_t ev_thread;
	bool ev_running;
	volatile int ev_stop;
	int ev_timer;
	const struct scenario *sc;
	bool server_running;
	pid_t capture_pid;
	char cap_dir[PATH_MAX];
	char cap_json[PATH_MAX];
	char cap_pcaps[PATH_MAX];
	bool cap_guest;
	char logdir[PATH_MAX];
	json_object *testbed_json;   /* held: boots are added as they happen */
	json_object *boots;
	char versions[4][96];
};

static double now_s(void)
{
	return (double)ts_monotonic_ns() / 1e9;
}

static void nap_ms(int ms)
{
	struct timespec t = { ms / 1000, (long)(ms % 1000) * 1000000L };
	nanosleep(&t, NULL);
}

static bool stopped(const struct testbed *tb)
{
	return tb->cfg.stop && *tb->cfg.stop;
}

static struct lvhost *host_of(struct testbed *tb, const struct vm *v)
{
	return &tb->hosts[tb->nhosts > 1 ? v->side : 0];
}

static bool uri_is_local(const char *uri)
{
	return !strncmp(uri, "qemu:///", 8) || !strncmp(uri, "test:///", 8);
}

/* --- the event loop libvirt streams need ------------------------------------ */

static void ev_tick(int timer, void *opaque)
{
	(void)timer;
	(void)opaque;
}

static void *ev_main(void *arg)
{
	struct testbed *tb = arg;
	while (!tb->ev_stop)
		virEventRunDefaultImpl();
	return NULL;
}

static int ev_start(struct testbed *tb, char *err, size_t errlen)
{
	static bool registered;
	if (!registered) {
		if (virEventRegisterDefaultImpl() < 0) {
			tk_errf(err, errlen, "cannot set up libvirt's event loop");
			return -EIO;
		}
		registered = true;
	}
	/* A periodic timer so the loop comes round to see ev_stop. */
	tb->ev_timer = virEventAddTimeout(100, ev_tick, NULL, NULL);
	tb->ev_stop = 0;
	if (pthread_create(&tb->ev_thread, NULL, ev_main, tb) != 0) {
		tk_errf(err, errlen, "cannot start the libvirt event thread");
		return -EAGAIN;
	}
	tb->ev_running = true;
	return 0;
}

static void ev_stop(struct testbed *tb)
{
	if (!tb->ev_running)
		return;
	tb->ev_stop = 1;
	pthread_join(tb->ev_thread, NULL);
	if (tb->ev_timer >= 0)
		virEventRemoveTimeout(tb->ev_timer);
	tb->ev_running = false;
}

/* --- the guest agent over the virtio-serial channel -------------------------- */

static int agent_open(struct testbed *tb, struct vm *v, char *err, size_t errlen)
{
	struct lvhost *h = host_of(tb, v);
	v->st = virStreamNew(h->conn, VIR_STREAM_NONBLOCK);
	if (!v->st) {
		tk_errf(err, errlen, "%s: cannot create a stream: %s", v->name, virGetLastErrorMessage());
		return -EIO;
	}
	if (virDomainOpenChannel(v->dom, LV_AGENT_CHANNEL, v->st, VIR_DOMAIN_CHANNEL_FORCE) < 0) {
		tk_errf(err, errlen, "%s: cannot open channel %s: %s", v->name, LV_AGENT_CHANNEL,
		    virGetLastErrorMessage());
		virStreamFree(v->st);
		v->st = NULL;
		return -EIO;
	}
	v->len = 0;
	return 0;
}

static void agent_close(struct vm *v)
{
	if (v->st) {
		virStreamAbort(v->st);
		virStreamFree(v->st);
		v->st = NULL;
	}
	free(v->buf);
	v->buf = NULL;
	v->len = v->cap = 0;
}

/* Reads what the stream has: >0 octets, 0 nothing now, -EPIPE closed, -EIO error. */
static int agent_pull(struct vm *v)
{
	if (v->cap - v->len < 65536) {
		size_t ncap = v->cap ? v->cap * 2 : 262144;
		char *nb = realloc(v->buf, ncap);
		if (!nb)
			return -ENOMEM;
		v->buf = nb;
		v->cap = ncap;
	}
	int n = virStreamRecv(v->st, v->buf + v->len, v->cap - v->len - 1);
	if (n == -2)
		return 0;
	if (n == 0)
		return -EPIPE;
	if (n < 0)
		return -EIO;
	v->len += (size_t)n;
	v->buf[v->len] = 0;
	return n;
}

static int agent_send(struct testbed *tb, struct vm *v, const char *line)
{
	size_t len = strlen(line), off = 0;
	while (off < len) {
		int n = virStreamSend(v->st, line + off, len - off);
		if (n == -2) {
			if (stopped(tb))
				return -EINTR;
			nap_ms(1);
			continue;
		}
		if (n < 0)
			return -EIO;
		off += (size_t)n;
	}
	return 0;
}

struct agent_cmd {
	unsigned id;
	char marker[48];
	size_t mlen;
	double deadline;
	FILE *sink;                  /* output goes here as it comes, else it stays in v->buf */
};

static int agent_begin(struct testbed *tb, struct vm *v, const char *cmd, FILE *sink,
		       int timeout_ms, struct agent_cmd *c, char *err, size_t errlen)
{
	if (!v->st) {
		tk_errf(err, errlen, "%s: no agent channel", v->name);
		return -ENOTCONN;
	}
	/* Whatever is left over belongs to an earlier, abandoned command. */
	while (agent_pull(v) > 0)
		;
	v->len = 0;
	c->id = ++v->seq;
	c->mlen = (size_t)snprintf(c->marker, sizeof(c->marker), "\n@@tk-end c%u ", c->id);
	c->deadline = now_s() + timeout_ms / 1000.0;
	c->sink = sink;
	size_t clen = strlen(cmd), n = clen + 32;
	char *line = malloc(n);
	if (!line)
		return -ENOMEM;
	int k = snprintf(line, n, "c%u ", c->id);
	memcpy(line + k, cmd, clen);
	memcpy(line + k + clen, "\n", 2);
	int rc = strchr(cmd, '\n') ? -EINVAL : agent_send(tb, v, line);
	free(line);
	if (rc)
		tk_errf(err, errlen, "%s: cannot send to the agent (%s)", v->name, strerror(-rc));
	return rc;
}

/*
 * One step of a running command: 1 finished (*status set, v->buf holds the
 * output when there is no sink), 0 still running, <0 error.
 */
static int agent_step(struct testbed *tb, struct vm *v, struct agent_cmd *c, int *status,
		      char *err, size_t errlen)
{
	int n = agent_pull(v);
	if (n < 0) {
		tk_errf(err, errlen, "%s: agent channel %s", v->name, n == -EPIPE ? "closed" : "failed");
		return n;
	}
	char *m = v->len >= c->mlen ? memmem(v->buf, v->len, c->marker, c->mlen) : NULL;
	if (m) {
		char *nl = memchr(m + c->mlen, '\n', v->len - (size_t)(m + c->mlen - v->buf));
		if (!nl)
			return 0; /* the status is still on its way */
		*status = atoi(m + c->mlen);
		size_t out = (size_t)(m - v->buf);
		if (c->sink) {
			fwrite(v->buf, 1, out, c->sink);
			v->len = 0;
		} else {
			v->len = out;
			v->buf[out] = 0;
		}
		return 1;
	}
	if (c->sink && v->len > AGENT_HOLD) {
		/* Stream it out, holding back what could be the start of the marker. */
		size_t w = v->len - AGENT_HOLD;
		fwrite(v->buf, 1, w, c->sink);
		memmove(v->buf, v->buf + w, AGENT_HOLD);
		v->len = AGENT_HOLD;
	}
	if (stopped(tb))
		return -EINTR;
	if (now_s() > c->deadline) {
		tk_errf(err, errlen, "%s: the agent did not answer in time", v->name);
		return -ETIMEDOUT;
	}
	if (n == 0)
		nap_ms(2);
	return 0;
}

/* Runs cmd in v; the exit status in *status; output in v->buf (NUL-terminated) or to sink. */
static int agent_run(struct testbed *tb, struct vm *v, const char *cmd, FILE *sink, int timeout_ms,
		     int *status, char *err, size_t errlen)
{
	struct agent_cmd c;
	int rc = agent_begin(tb, v, cmd, sink, timeout_ms, &c, err, errlen);
	while (rc == 0)
		rc = agent_step(tb, v, &c, status, err, errlen);
	return rc == 1 ? 0 : rc;
}

/* agent_run that must exit 0; err gets the output's first line otherwise. */
static int agent_ok(struct testbed *tb, struct vm *v, const char *cmd, int timeout_ms, char *err,
		    size_t errlen)
{
	int st = 0;
	int rc = agent_run(tb, v, cmd, NULL, timeout_ms, &st, err, errlen);
	if (rc)
		return rc;
	if (st != 0) {
		const char *o = v->buf ? v->buf : "";
		while (*o == '\n')
			o++;
		tk_errf(err, errlen, "%s: '%.80s' exited %d: %.160s", v->name, cmd, st, o);
		return -EIO;
	}
	return 0;
}

static int b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Copies a guest file to a host path (tk_get: base64 between markers). */
static int agent_fetch(struct testbed *tb, struct vm *v, const char *guest_path,
		       const char *host_path, char *err, size_t errlen)
{
	char cmd[PATH_MAX];
	tk_path(cmd, sizeof(cmd), "tk_get %s", guest_path);
	int rc = agent_ok(tb, v, cmd, 60000, err, errlen);
	if (rc)
		return rc;
	char *b = strstr(v->buf, "@@tk-file-begin\n");
	char *e = b ? strstr(b, "@@tk-file-end") : NULL;
	if (!b || !e) {
		tk_errf(err, errlen, "%s: %s came back garbled", v->name, guest_path);
		return -EBADMSG;
	}
	FILE *f = fopen(host_path, "wb");
	if (!f) {
		tk_errf(err, errlen, "cannot write %s: %s", host_path, strerror(errno));
		return -errno;
	}
	unsigned acc = 0;
	int bits = 0;
	for (char *p = b + strlen("@@tk-file-begin\n"); p < e; p++) {
		int x = b64val((unsigned char)*p);
		if (x < 0)
			continue; /* newlines, padding */
		acc = (acc << 6) | (unsigned)x;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			fputc((int)((acc >> bits) & 0xff), f);
		}
	}
	if (fclose(f) != 0) {
		tk_errf(err, errlen, "cannot write %s", host_path);
		return -EIO;
	}
	return 0;
}

/* --- the network on this host ------------------------------------------------ */


static bool link_exists(const char *dev)
{
	char p[64];
	tk_path(p, sizeof(p), "/sys/class/net/%s", dev);
	return access(p, F_OK) == 0;
}

static void no_ipv6(const char *dev)
{
	char p[128];
	tk_path(p, sizeof(p), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", dev);
	exec_write_file(p, "1");
}

static void link_del(const char *dev)
{
	if (!link_exists(dev))
		return;
	char *const argv[] = { "ip", "link", "del", exec_arg(dev), NULL };
	exec_run(argv, NULL, 10000);
}

static int make_net(struct testbed *tb, char *err, size_t errlen)
{
	/* Leftovers of a crashed run would make "ip link add" fail. */
	link_del(LNK_S);
	link_del(BR_S);
	link_del(BR_R);
	tb->made_net = true;
	EXEC_RUN("ip", "link", "add", BR_S, "type", "bridge", "stp_state", "0");
	EXEC_RUN("ip", "link", "add", BR_R, "type", "bridge", "stp_state", "0");
	EXEC_RUN("ip", "link", "add", LNK_S, "type", "veth", "peer", "name", LNK_R);
	const char *devs[] = { BR_S, BR_R, LNK_S, LNK_R };
	for (int i = 0; i < 4; i++)
		no_ipv6(devs[i]); /* the host itself never talks on the testbed */
	EXEC_RUN("ip", "link", "set", LNK_S, "master", BR_S, "up");
	EXEC_RUN("ip", "link", "set", LNK_R, "master", BR_R, "up");
	EXEC_RUN("ip", "link", "set", BR_S, "up");
	EXEC_RUN("ip", "link", "set", BR_R, "up");
	return 0;
}

static void remove_net(struct testbed *tb)
{
	if (!tb->made_net)
		return;
	link_del(LNK_S);
	link_del(BR_S);
	link_del(BR_R);
	tb->made_net = false;
}

/* --- VMs ----------------------------------------------------------------------- */

static void vm_names(struct vm *v, int side, int index)
{
	memset(v, 0, sizeof(*v));
	v->side = side;
	v->index = index;
	v->pinned = -1;
	if (index == 0) {
		snprintf(v->name, sizeof(v->name), "tk-v%c", side ? 'r' : 's');
		snprintf(v->tap, sizeof(v->tap), "tk-t-v%c", side ? 'r' : 's');
		snprintf(v->addr, sizeof(v->addr), "%s", side ? ADDR_VR : ADDR_VS);
	} else {
		snprintf(v->name, sizeof(v->name), "tk-bg%c%d", side ? 'r' : 's', index);
		snprintf(v->tap, sizeof(v->tap), "tk-t-b%c%d", side ? 'r' : 's', index);
		snprintf(v->addr, sizeof(v->addr), "198.18.%d.%d", side + 1, index);
	}
}

/* Slot of (side, index): measurement VMs first, then background pairs. */
static struct vm *slot(struct testbed *tb, int side, int index)
{
	return &tb->vms[index * 2 + side];
}

/* CPU sets for the measurement and background VMs of host h under reservation res. */
static void cpusets(const struct lvhost *h, bool res, bool measurement, char *buf, size_t len)
{
	int n = h->ncpus;
	if (!res || n < 2)
		snprintf(buf, len, n > 1 ? "0-%d" : "0", n - 1);
	else if (measurement)
		snprintf(buf, len, "%d", n - 1);
	else
		snprintf(buf, len, n == 2 ? "0" : "0-%d", n - 2);
}

static void console_path(const struct vm *v, char *buf, size_t len)
{
	tk_path(buf, len, "%s/%s.console.log", CONSOLE_DIR, v->name);
}

static int vm_start(struct testbed *tb, struct vm *v, const char *nic, bool res, char *err,
		    size_t errlen)
{
	struct lvhost *h = host_of(tb, v);
	const struct matrix *m = tb->cfg.m;
	char cmdline[256], mac[24], cpus[32], con[PATH_MAX];
	snprintf(cmdline, sizeof(cmdline),
		 "console=ttyS0 panic=-1 quiet loglevel=3 tk.ip=%s/16 tk.name=%s", v->addr, v->name);
	lv_mac(mac, sizeof(mac), v->side, v->index);
	cpusets(h, res, v->index == 0, cpus, sizeof(cpus));
	console_path(v, con, sizeof(con));
	struct lv_vm_spec s = {
		.name = v->name, .virt_type = h->virt_type, .arch = "x86_64",
		.memory_mib = m->guest_memory_mib, .vcpus = m->guest_vcpus,
		.vcpu_cpuset = cpus, .emulator_cpuset = cpus,
		.kernel = tb->img.kernel, .initrd = tb->img.initrd, .cmdline = cmdline,
		.nic_model = nic, .bridge = h->bridge[0] ? h->bridge : (v->side ? BR_R : BR_S),
		.tap = v->tap, .mac = mac, .console_log = h->local ? con : NULL,
		.agent_channel = true,
	};
	if (tb->nhosts == 1 && !tb->made_net && tb->cfg.m->n_libvirt_bridge == 2)
		s.bridge = tb->cfg.m->libvirt_bridge[v->side];
	if (h->local)
		unlink(con);
	int rc = lv_domain_start(h->conn, &s, true, &v->dom, err, errlen);
	if (rc && h->auto_type && !strcmp(h->virt_type, "kvm") && strcasestr(err, "kvm")) {
		/* Offered is not usable (QEMU's user cannot open /dev/kvm): emulate, and say so. */
		snprintf(h->kvm_note, sizeof(h->kvm_note), "kvm offered but unusable: %.160s", err);
		fprintf(stderr, "twamp-experiment: %s: %s; using qemu (TCG)\n", h->uri, h->kvm_note);
		snprintf(h->virt_type, sizeof(h->virt_type), "qemu");
		s.virt_type = h->virt_type;
		rc = lv_domain_start(h->conn, &s, true, &v->dom, err, errlen);
	}
	if (rc)
		return rc;
	v->pinned = res;
	return agent_open(tb, v, err, errlen);
}

static void vm_stop(struct testbed *tb, struct vm *v)
{
	agent_close(v);
	if (v->dom) {
		lv_domain_remove(v->dom);
		v->dom = NULL;
	}
	struct lvhost *h = host_of(tb, v);
	if (h->local && v->name[0]) {
		/* Keep the guest's console with the run's logs, then leave nothing behind. */
		char con[PATH_MAX], keep[PATH_MAX], qlog[PATH_MAX];
		console_path(v, con, sizeof(con));
		if (tk_path(keep, sizeof(keep), "%s/%s.console.log", tb->logdir, v->name) == 0)
			if (rename(con, keep) != 0)
				unlink(con);
		tk_path(qlog, sizeof(qlog), "%s/%s.log", CONSOLE_DIR, v->name);
		unlink(qlog);
	}
	v->load = v->iperf_server = false;
}

/* Boots the VMs in list (in parallel) and waits for each agent's first answer. */
static int vms_boot(struct testbed *tb, struct vm **list, int n, const char *nic, bool res,
		    char *err, size_t errlen)
{
	const char *probe = "cat /sys/devices/system/clocksource/clocksource0/current_clocksource;"
			    " grep -E '^Mem(Total|Available):' /proc/meminfo";
	struct agent_cmd *cmds = calloc((size_t)n, sizeof(*cmds));
	double *t0 = calloc((size_t)n, sizeof(double));
	bool *done = calloc((size_t)n, sizeof(bool));
	int rc = cmds && t0 && done ? 0 : -ENOMEM;
	for (int i = 0; !rc && i < n; i++) {
		double ts = now_s();
		rc = vm_start(tb, list[i], nic, res, err, errlen);
		t0[i] = now_s();
		list[i]->start_s = t0[i] - ts;
		if (!rc && stopped(tb))
			rc = -EINTR;
		if (!rc)
			rc = agent_begin(tb, list[i], probe, NULL,
					 strcmp(host_of(tb, list[i])->virt_type, "kvm") ? 240000 : 90000,
					 &cmds[i], err, errlen);
	}
	int left = n;
	while (!rc && left > 0) {
		for (int i = 0; !rc && i < n; i++) {
			if (done[i])
				continue;
			int st = 0;
			int r = agent_step(tb, list[i], &cmds[i], &st, err, errlen);
			if (r < 0) {
				char con[PATH_MAX];
				console_path(list[i], con, sizeof(con));
				size_t l = strlen(err);
				snprintf(err + l, errlen - l, " while booting (console: %s)", con);
				rc = r;
			} else if (r == 1) {
				struct vm *v = list[i];
				done[i] = true;
				left--;
				v->boot_s = now_s() - t0[i];
				sscanf(v->buf, "%31s", v->clocksource);
				char *p = strstr(v->buf, "MemTotal:");
				if (p)
					v->mem_total_kib = atol(p + 9);
				p = strstr(v->buf, "MemAvailable:");
				if (p)
					v->mem_avail_kib = atol(p + 13);
				json_object *b = json_object_new_object();
				json_object_object_add(b, "vm", json_object_new_string(v->name));
				json_object_object_add(b, "nic", json_object_new_string(nic));
				json_object_object_add(b, "libvirt_start_s", json_object_new_double(v->start_s));
				json_object_object_add(b, "boot_s", json_object_new_double(v->boot_s));
				json_object_object_add(b, "clocksource", json_object_new_string(v->clocksource));
				json_object_object_add(b, "mem_total_kib", json_object_new_int64(v->mem_total_kib));
				json_object_object_add(b, "mem_available_kib",
						       json_object_new_int64(v->mem_avail_kib));
				json_object_array_add(tb->boots, b);
				fprintf(stderr, "twamp-experiment: %s (%s, %s) started in %.1f s, booted "
					"in %.1f s, %ld of %ld KiB free\n", v->name, nic,
					host_of(tb, v)->virt_type, v->start_s, v->boot_s,
					v->mem_avail_kib, v->mem_total_kib);
			}
		}
	}
	free(cmds);
	free(t0);
	free(done);
	return rc;
}

/* Makes the running set (nic, bg) with pinning res; boots and destroys only what changes. */
static int ensure_set(struct testbed *tb, const char *nic, int bg, bool res, char *err,
		      size_t errlen)
{
	if (strcmp(tb->nic, nic) != 0) {
		for (int i = 0; i < MAX_VMS; i++)
			if (tb->vms[i].dom)
				vm_stop(tb, &tb->vms[i]);
		tb->bg_running = 0;
		tb->nic[0] = 0;
	}
	struct vm **list = calloc(MAX_VMS, sizeof(*list));
	if (!list)
		return -ENOMEM;
	int n = 0;
	if (!tb->nic[0]) {
		for (int side = 0; side < 2; side++) {
			vm_names(slot(tb, side, 0), side, 0);
			list[n++] = slot(tb, side, 0);
		}
	}
	for (int i = tb->bg_running + 1; i <= bg; i++)
		for (int side = 0; side < 2; side++) {
			vm_names(slot(tb, side, i), side, i);
			list[n++] = slot(tb, side, i);
		}
	for (int i = bg + 1; i <= tb->bg_running; i++)
		for (int side = 0; side < 2; side++)
			vm_stop(tb, slot(tb, side, i));
	int rc = 0;
	if (n > 0) {
		snprintf(tb->nic, sizeof(tb->nic), "%s", nic);
		tb->bg_running = bg;
		rc = vms_boot(tb, list, n, nic, res, err, errlen);
	}
	tb->bg_running = bg;
	free(list);
	return rc;
}

static int pin_all(struct testbed *tb, bool res, char *err, size_t errlen)
{
	for (int i = 0; i < MAX_VMS; i++) {
		struct vm *v = &tb->vms[i];
		if (!v->dom || v->pinned == (int)res)
			continue;
		struct lvhost *h = host_of(tb, v);
		char cpus[32];
		cpusets(h, res, v->index == 0, cpus, sizeof(cpus));
		int rc = lv_domain_pin(v->dom, tb->cfg.m->guest_vcpus, cpus, cpus, h->ncpus, err,
				       errlen);
		if (rc)
			return rc;
		v->pinned = res;
	}
	return 0;
}

/* --- ops ----------------------------------------------------------------------- */

static int lv_check(const struct testbed_cfg *cfg, char *err, size_t errlen)
{
	const struct matrix *m = cfg->m;
	const char *progs[] = { cfg->server_path, cfg->client_path };
	for (size_t i = 0; i < 2; i++) {
		if (!progs[i] || access(progs[i], X_OK) != 0) {
			tk_errf(err, errlen, "%s not found (build twampkit first)",
			    progs[i] ? progs[i] : (i ? "twamp-client" : "twamp-server"));
			return -ENOENT;
		}
	}
	static const char *const needed[][2] = {
		{ "ping", "iputils-ping" }, { "stress-ng", "stress-ng" }, { "iperf3", "iperf3" },
		{ "tcpdump", "tcpdump" }, { "ip", "iproute2" },
	};
	for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
		if (!exec_have_program(needed[i][0])) {
			tk_errf(err, errlen, "%s not found (it is copied into the guests): apt-get install %s",
			    needed[i][0], needed[i][1]);
			return -ENOENT;
		}
	if (m->capture && (!cfg->capture_path || access(cfg->capture_path, X_OK) != 0)) {
		tk_errf(err, errlen, "matrix key 'capture': twamp-capture not found (apt-get install "
			"libpcap-dev and rebuild, or set capture = false)");
		return -ENOENT;
	}
	bool local = uri_is_local(m->libvirt_uri[0]) &&
		     (m->n_libvirt_uri < 2 || uri_is_local(m->libvirt_uri[1]));
	if (local && geteuid() != 0) {
		tk_errf(err, errlen, "the libvirt backend needs root here (bridges, taps, qemu:///system)");
		return -EPERM;
	}
	if (m->n_libvirt_uri == 2 && m->n_libvirt_bridge != 2 &&
	    strcmp(m->libvirt_uri[0], m->libvirt_uri[1]) != 0) {
		tk_errf(err, errlen, "matrix key 'libvirt_bridge': two hosts need the name of the bridge "
			"on each, joined by the host link (see README, two-host testbed)");
		return -EINVAL;
	}
	char init[PATH_MAX];
	if (!guest_image_find_init(init, sizeof(init))) {
		tk_errf(err, errlen, "the guest agent's init (experiments/guest_agent/init) was not found: "
			"set TK_GUEST_INIT or TK_SRCDIR");
		return -ENOENT;
	}
	/* libvirtd reachable on every host, before minutes go into the image. */
	for (size_t i = 0; i < m->n_libvirt_uri && i < 2; i++) {
		virConnectPtr c;
		int rc = lv_connect(m->libvirt_uri[i], &c, err, errlen);
		if (rc)
			return rc;
		virConnectClose(c);
	}
	return 0;
}

static const char *lv_nic_name(const struct testbed *tb, const char *requested)
{
	(void)tb;
	(void)requested;
	return NULL; /* real NIC models: the matrix's name stands */
}

static void lv_teardown(struct testbed *tb);

static int lv_prepare(const struct testbed_cfg *cfg, struct testbed **out, char *err,
		      size_t errlen)
{
	const struct matrix *m = cfg->m;
	struct testbed *tb = calloc(1, sizeof(*tb));
	if (!tb)
		return -ENOMEM;
	tb->cfg = *cfg;
	tb->ev_timer = -1;
	*out = tb;
	snprintf(tb->logdir, sizeof(tb->logdir), "%s", cfg->workdir);
	mkdir(tb->logdir, 0755);
	int killed;
	exec_registry_kill(PID_REGISTRY, &killed);
	exec_registry_set(PID_REGISTRY);
	tb->boots = json_object_new_array();

	/* The image first: no connection or thread exists yet (apt-get runs in the cache dir). */
	char init[PATH_MAX];
	const char *progs[] = { cfg->server_path, cfg->client_path, "ping", "stress-ng", "iperf3",
				"tcpdump" };
	struct guest_image_req req = {
		.cache_dir = m->image_cache, .kernel_package = m->kernel_package,
		.init_path = guest_image_find_init(init, sizeof(init)),
		.programs = progs, .n_programs = sizeof(progs) / sizeof(progs[0]),
	};
	double t0 = now_s();
	int rc = guest_image_build(&req, &tb->img, err, errlen);
	if (rc)
		return rc;
	fprintf(stderr, "twamp-experiment: guest image %s kernel %s (%zu files, %.1f MiB; %s, %.1f s)\n",
		tb->img.initrd, tb->img.kernel_version, tb->img.files,
		(double)tb->img.bytes / 1048576.0, tb->img.cached ? "cached" : "built", now_s() - t0);

	rc = ev_start(tb, err, errlen);
	if (rc)
		return rc;
	tb->nhosts = m->n_libvirt_uri == 2 && strcmp(m->libvirt_uri[0], m->libvirt_uri[1]) ? 2 : 1;
	tb->host_capture = true;
	for (int i = 0; i < tb->nhosts; i++) {
		struct lvhost *h = &tb->hosts[i];
		snprintf(h->uri, sizeof(h->uri), "%s", m->libvirt_uri[i]);
		h->local = uri_is_local(h->uri);
		if (!h->local)
			tb->host_capture = false;
		rc = lv_connect(h->uri, &h->conn, err, errlen);
		if (rc)
			return rc;
		h->ncpus = lv_host_cpus(h->conn);
		if (h->ncpus < 1) {
			tk_errf(err, errlen, "%s: cannot read the host's CPU count", h->uri);
			return -EIO;
		}
		if (m->reservation[1] && h->ncpus < 2) {
			tk_errf(err, errlen, "matrix key 'reservation': %s has %d CPU, a reserved core needs 2",
			    h->uri, h->ncpus);
			return -EINVAL;
		}
		h->auto_type = !strcmp(m->virt_type, "auto");
		rc = lv_pick_virt_type(h->conn, m->virt_type, h->virt_type, sizeof(h->virt_type), err,
				       errlen);
		if (rc)
			return rc;
		unsigned long hv = 0;
		if (virConnectGetVersion(h->conn, &hv) == 0)
			snprintf(h->hv_version, sizeof(h->hv_version), "%lu.%lu.%lu", hv / 1000000,
				 hv / 1000 % 1000, hv % 1000);
		if (m->n_libvirt_bridge == 2)
			snprintf(h->bridge, sizeof(h->bridge), "%s", m->libvirt_bridge[i]);
	}
	if (m->n_libvirt_bridge == 2 && tb->nhosts == 1) {
		/* One host, two existing bridges: the administrator joined them. */
	} else if (m->n_libvirt_bridge != 2) {
		rc = make_net(tb, err, errlen);
		if (rc)
			return rc;
	}
	/* The first VM set now, so a broken guest fails the run before any scenario. */
	bool res = !m->reservation[0];
	rc = ensure_set(tb, m->nic[0], 0, res, err, errlen);
	return rc;
}

static int lv_scenario_begin(struct testbed *tb, const struct scenario *sc, char *err,
			     size_t errlen)
{
	tb->sc = sc;
	int rc = ensure_set(tb, sc->nic, sc->bg_vms, sc->reservation, err, errlen);
	if (!rc)
		rc = pin_all(tb, sc->reservation, err, errlen);
	if (rc)
		return rc;
	struct vm *vr = slot(tb, 1, 0);
	rc = agent_ok(tb, vr, "rm -f /tmp/srv.log; tk_bg srv twamp-server -f --no-control -l "
			      ADDR_VR ":862; i=0; until netstat -lun | grep -q '" ADDR_VR ":862 '; do "
			      "i=$((i+1)); [ $i -gt 500 ] && { cat /tmp/srv.log; exit 1; }; "
			      "usleep 10000; done", 30000, err, errlen);
	if (!rc)
		tb->server_running = true;
	return rc;
}

static int lv_load_start(struct testbed *tb, const struct scenario *sc, char *err, size_t errlen)
{
	const struct matrix *m = tb->cfg.m;
	if (sc->load == LOAD_NONE)
		return 0;
	int side = sc->location == LOC_RECEIVER ? 1 : 0;
	char cmd[512];
	int rc = 0;
	for (int i = 1; i <= sc->bg_vms && !rc; i++) {
		struct vm *v = slot(tb, side, i);
		switch (sc->load) {
		case LOAD_CPU:
			snprintf(cmd, sizeof(cmd), "tk_bg load stress-ng --cpu %d --timeout 3600 --quiet",
				 m->cpu_workers > 0 ? m->cpu_workers : 1);
			break;
		case LOAD_IO:
			/* The guests have no disk: I/O goes to their tmpfs (the manifest says so). */
			snprintf(cmd, sizeof(cmd), "mkdir -p /tmp/io; tk_bg load stress-ng --hdd %d "
				 "--hdd-bytes 16m --temp-path /tmp/io --timeout 3600 --quiet",
				 m->io_workers > 0 ? m->io_workers : 1);
			break;
		case LOAD_NETWORK: {
			/* Flows cross the host link from the loaded side to the other one. */
			struct vm *peer = slot(tb, 1 - side, i);
			rc = agent_ok(tb, peer, "tk_bg iperf3s iperf3 -s -p 5201; i=0; until netstat -ltn "
				      "| grep -q ':5201 '; do i=$((i+1)); [ $i -gt 500 ] && exit 1; "
				      "usleep 10000; done", 30000, err, errlen);
			if (rc)
				break;
			peer->iperf_server = true;
			snprintf(cmd, sizeof(cmd), "tk_bg load iperf3 -c %s -p 5201 -t 3600 -P %d",
				 peer->addr, m->net_streams > 0 ? m->net_streams : 1);
			break;
		}
		default:
			return 0;
		}
		if (!rc)
			rc = agent_ok(tb, v, cmd, 30000, err, errlen);
		if (!rc)
			v->load = true;
	}
	if (rc)
		return rc;
	for (int64_t waited = 0; waited < m->settle_ns && !stopped(tb); waited += 10000000)
		nap_ms(10);
	if (stopped(tb))
		return -EINTR;
	for (int i = 1; i <= sc->bg_vms; i++) {
		struct vm *v = slot(tb, side, i);
		if (v->load && agent_ok(tb, v, "tk_alive load || { cat /tmp/load.log; exit 1; }", 30000,
					err, errlen)) {
			size_t l = strlen(err);
			snprintf(err + l, errlen - l, " (%s load exited early)", load_type_name(sc->load));
			return -ECHILD;
		}
	}
	return 0;
}

static int lv_load_stop(struct testbed *tb, char *err, size_t errlen)
{
	int rc = 0;
	for (int i = 0; i < MAX_VMS; i++) {
		struct vm *v = &tb->vms[i];
		if (!v->dom || (!v->load && !v->iperf_server))
			continue;
		int r = agent_ok(tb, v, "tk_stop load && tk_stop iperf3s", 30000, err, errlen);
		if (r && !rc)
			rc = r;
		v->load = v->iperf_server = false;
	}
	return rc;
}

/* --- capture ------------------------------------------------------------------- */

static int lv_capture_start(struct testbed *tb, const char *json_path, const char *pcap_dir,
			    char *err, size_t errlen)
{
	char *bin = exec_arg(tb->cfg.capture_path);
	if (!bin || access(bin, X_OK) != 0) {
		tk_errf(err, errlen, "twamp-capture not built (libpcap missing at configure time)");
		return -ENOENT;
	}
	tk_path(tb->cap_json, sizeof(tb->cap_json), "%s", json_path);
	tk_path(tb->cap_pcaps, sizeof(tb->cap_pcaps), "%s", pcap_dir ? pcap_dir : "");
	tk_path(tb->cap_dir, sizeof(tb->cap_dir), "%s/capture", tb->logdir);
	char *const rmv[] = { "rm", "-rf", tb->cap_dir, NULL };
	exec_run(rmv, NULL, 30000);
	mkdir(tb->cap_dir, 0755);
	/* Inside both measurement VMs: tcpdump on eth0, on the guest's clock. */
	for (int side = 0; side < 2; side++) {
		int rc = agent_ok(tb, slot(tb, side, 0),
				  "rm -f /tmp/cap.pcap /tmp/cap.log; tk_bg cap tcpdump -i eth0 -n -U -Z root -s 256 "
				  "-w /tmp/cap.pcap udp or icmp; i=0; until grep -q 'listening on' "
				  "/tmp/cap.log; do i=$((i+1)); [ $i -gt 500 ] && { cat /tmp/cap.log; "
				  "exit 1; }; usleep 10000; done", 30000, err, errlen);
		if (rc)
			return rc;
	}
	tb->cap_guest = true;
	if (!tb->host_capture)
		return 0;
	/* On this host: taps, bridges and the host link, all on the host's clock. */
	char log[PATH_MAX], live_json[PATH_MAX], pts[8][48];
	tk_path(log, sizeof(log), "%s/twamp-capture.log", tb->logdir);
	tk_path(live_json, sizeof(live_json), "%s/live.json", tb->cap_dir);
	char *argv[40];
	int n = 0, k = 0;
	argv[n++] = bin;
	snprintf(pts[k], sizeof(pts[k]), "sender-tap=%s", slot(tb, 0, 0)->tap);
	argv[n++] = "-i"; argv[n++] = pts[k++];
	const char *br_s = tb->made_net ? BR_S : tb->cfg.m->libvirt_bridge[0];
	const char *br_r = tb->made_net ? BR_R : tb->cfg.m->libvirt_bridge[1];
	snprintf(pts[k], sizeof(pts[k]), "sender-bridge=%s", br_s);
	argv[n++] = "-i"; argv[n++] = pts[k++];
	if (tb->made_net) {
		argv[n++] = "-i"; argv[n++] = "sender-host=" LNK_S;
		argv[n++] = "-i"; argv[n++] = "receiver-host=" LNK_R;
	}
	snprintf(pts[k], sizeof(pts[k]), "receiver-bridge=%s", br_r);
	argv[n++] = "-i"; argv[n++] = pts[k++];
	snprintf(pts[k], sizeof(pts[k]), "receiver-tap=%s", slot(tb, 1, 0)->tap);
	argv[n++] = "-i"; argv[n++] = pts[k++];
	argv[n++] = "-w"; argv[n++] = tb->cap_dir;
	argv[n++] = "-F"; argv[n++] = "json";
	argv[n++] = "-o"; argv[n++] = live_json;
	argv[n] = NULL;
	struct exec_opts o = { .stdout_path = log, .new_session = true };
	int rc = exec_spawn(argv, &o, &tb->capture_pid);
	if (rc) {
		tk_errf(err, errlen, "cannot start twamp-capture: %s", strerror(-rc));
		return rc;
	}
	for (int waited = 0; waited < 10000; waited += 10) {
		char line[256] = "";
		FILE *f = fopen(log, "r");
		if (f) {
			if (!fgets(line, sizeof(line), f))
				line[0] = 0;
			fclose(f);
		}
		if (strstr(line, "capturing"))
			return 0;
		if (waitpid(tb->capture_pid, NULL, WNOHANG) == tb->capture_pid) {
			tb->capture_pid = 0;
			tk_errf(err, errlen, "twamp-capture exited at start (see %s)", log);
			return -ECHILD;
		}
		nap_ms(10);
	}
	tk_errf(err, errlen, "twamp-capture did not become ready (see %s)", log);
	return -ETIMEDOUT;
}

/* twamp-capture -r over the points in path order that have a pcap; out gets its JSON. */
static int capture_offline(struct testbed *tb, const char *const *points, int npoints,
			   const char *out, char *err, size_t errlen)
{
	char *argv[40], specs[12][PATH_MAX + 32], log[PATH_MAX];
	int n = 0, k = 0;
	argv[n++] = exec_arg(tb->cfg.capture_path);
	for (int i = 0; i < npoints && k < 12; i++) {
		char pcap[PATH_MAX];
		tk_path(pcap, sizeof(pcap), "%s/%s.pcap", tb->cap_dir, points[i]);
		if (access(pcap, R_OK) != 0)
			continue;
		snprintf(specs[k], sizeof(specs[k]), "%s=%s", points[i], pcap);
		argv[n++] = "-r";
		argv[n++] = specs[k++];
	}
	argv[n++] = "-F"; argv[n++] = "json";
	argv[n++] = "-o"; argv[n++] = exec_arg(out);
	argv[n] = NULL;
	tk_path(log, sizeof(log), "%s/twamp-capture-files.log", tb->logdir);
	struct exec_opts o = { .stdout_path = log };
	int rc = exec_run(argv, &o, 120000);
	if (rc != 0) {
		tk_errf(err, errlen, "twamp-capture -r failed (%d), see %s", rc, log);
		return -EIO;
	}
	return 0;
}

static int lv_capture_stop(struct testbed *tb, char *err, size_t errlen)
{
	int rc = 0;
	/* Let the last replies reach every point before stopping. */
	nap_ms(200);
	if (tb->capture_pid > 0) {
		kill(tb->capture_pid, SIGINT);
		int r = exec_wait(tb->capture_pid, 10000);
		tb->capture_pid = 0;
		if (r != 0) {
			tk_errf(err, errlen, "twamp-capture failed (%d), see %s/twamp-capture.log", r,
			    tb->logdir);
			rc = -EIO;
		}
	}
	if (tb->cap_guest) {
		tb->cap_guest = false;
		for (int side = 0; side < 2 && !rc; side++) {
			struct vm *v = slot(tb, side, 0);
			char host[PATH_MAX];
			tk_path(host, sizeof(host), "%s/%s-vm.pcap", tb->cap_dir,
				side ? "receiver" : "sender");
			/* tcpdump drops what it has not read yet when stopped: wait until the file stops growing. */
			rc = agent_ok(tb, v, "s0=-1; i=0; while [ $i -lt 50 ]; do s=$(stat -c %s /tmp/cap.pcap); "
				      "[ \"$s\" = \"$s0\" ] && break; s0=$s; i=$((i+1)); usleep 200000; done; "
				      "tk_stop cap INT", 30000, err, errlen);
			if (!rc)
				rc = agent_fetch(tb, v, "/tmp/cap.pcap", host, err, errlen);
		}
	}
	if (rc)
		return rc;
	/* Each point's RTT is taken within its own capture: guest and host clocks never mix. */
	static const char *const six[] = { "sender-vm", "sender-bridge", "sender-host",
					   "receiver-host", "receiver-bridge", "receiver-vm" };
	rc = capture_offline(tb, six, 6, tb->cap_json, err, errlen);
	if (!rc && tb->host_capture) {
		static const char *const taps[] = { "sender-vm", "sender-tap", "receiver-tap",
						    "receiver-vm" };
		char tj[PATH_MAX];
		size_t l = strlen(tb->cap_json);
		if (l > 5 && !strcmp(tb->cap_json + l - 5, ".json"))
			tk_path(tj, sizeof(tj), "%.*s-taps.json", (int)(l - 5), tb->cap_json);
		else
			tk_path(tj, sizeof(tj), "%s-taps.json", tb->cap_json);
		rc = capture_offline(tb, taps, 4, tj, err, errlen);
	}
	if (!rc && tb->cap_pcaps[0]) {
		DIR *d = opendir(tb->cap_dir);
		struct dirent *e;
		while (d && (e = readdir(d))) {
			if (!strstr(e->d_name, ".pcap"))
				continue;
			char from[PATH_MAX], to[PATH_MAX];
			tk_path(from, sizeof(from), "%s/%s", tb->cap_dir, e->d_name);
			tk_path(to, sizeof(to), "%s/%s", tb->cap_pcaps, e->d_name);
			rename(from, to);
		}
		if (d)
			closedir(d);
	}
	return rc;
}

/* --- probes -------------------------------------------------------------------- */

/* A probe not answered by then is lost: emulated guests answer in hundreds of ms at times. */
static int probe_timeout_s(const struct testbed *tb)
{
	return strcmp(tb->hosts[0].virt_type, "kvm") || (tb->nhosts == 2 &&
						      strcmp(tb->hosts[1].virt_type, "kvm")) ? 5 : 1;
}

static int lv_probe(struct testbed *tb, const struct probe_request *req, char *err, size_t errlen)
{
	struct vm *vs = slot(tb, 0, 0);
	int timeout_ms = (int)((int64_t)req->count * 1000 / req->freq_hz) + 30000;
	char cmd[512];
	int st = 0, rc;
	if (req->tool == PROBE_TOOL_CLIENT) {
		const char *protos = req->twamp ? (req->icmp ? "twamp,icmp" : "twamp") : "icmp";
		snprintf(cmd, sizeof(cmd), "rm -f /tmp/client.json; twamp-client -P %s -c %d -i %lldns "
			 "-W %ds -F json -o /tmp/client.json -q " ADDR_VR ":862 >/tmp/client.log 2>&1; "
			 "rc=$?; [ $rc -le 1 ] || cat /tmp/client.log; exit $rc", protos, req->count,
			 1000000000LL / req->freq_hz, probe_timeout_s(tb));
		rc = agent_run(tb, vs, cmd, NULL, timeout_ms, &st, err, errlen);
		if (rc)
			return rc;
		/* 0: answered; 1: nothing came back, still a valid (all lost) result. */
		if (st != 0 && st != 1) {
			tk_errf(err, errlen, "twamp-client in %s failed (%d): %.200s", vs->name, st,
			    vs->buf ? vs->buf : "");
			return -EIO;
		}
		return agent_fetch(tb, vs, "/tmp/client.json", req->out_path, err, errlen);
	}
	/* The path, not the name: busybox sh would run its own ping applet. */
	snprintf(cmd, sizeof(cmd), "/usr/bin/ping -D -n -c %d -i %.6f -W %d " ADDR_VR " 2>/tmp/ping.err",
		 req->count, 1.0 / req->freq_hz, probe_timeout_s(tb));
	FILE *f = fopen(req->out_path, "w");
	if (!f) {
		tk_errf(err, errlen, "cannot write %s: %s", req->out_path, strerror(errno));
		return -errno;
	}
	rc = agent_run(tb, vs, cmd, f, timeout_ms, &st, err, errlen);
	if (fclose(f) != 0 && !rc)
		rc = -EIO;
	if (rc)
		return rc;
	/* ping exits 1 when replies were missing: the output still tells what happened. */
	if (st != 0 && st != 1) {
		tk_errf(err, errlen, "ping in %s failed (%d)", vs->name, st);
		return -EIO;
	}
	return 0;
}

static int lv_scenario_end(struct testbed *tb, char *err, size_t errlen)
{
	int rc = 0;
	if (tb->capture_pid > 0) {
		exec_stop(tb->capture_pid, SIGINT, 5000);
		tb->capture_pid = 0;
	}
	if (tb->cap_guest) {
		for (int side = 0; side < 2; side++)
			agent_ok(tb, slot(tb, side, 0), "tk_stop cap INT", 30000, err, errlen);
		tb->cap_guest = false;
	}
	if (tb->server_running) {
		rc = agent_ok(tb, slot(tb, 1, 0), "tk_stop srv", 30000, err, errlen);
		tb->server_running = false;
	}
	tb->sc = NULL;
	return rc;
}

static void lv_describe(const struct testbed *tb, json_object *manifest)
{
	const struct matrix *m = tb->cfg.m;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string("libvirt"));
	json_object *hosts = json_object_new_array();
	bool emulated = false;
	for (int i = 0; i < tb->nhosts; i++) {
		const struct lvhost *h = &tb->hosts[i];
		json_object *j = json_object_new_object();
		json_object_object_add(j, "uri", json_object_new_string(h->uri));
		json_object_object_add(j, "sides", json_object_new_string(
			tb->nhosts == 1 ? "sender,receiver" : i ? "receiver" : "sender"));
		json_object_object_add(j, "virt_type", json_object_new_string(h->virt_type));
		json_object_object_add(j, "hypervisor_version", json_object_new_string(h->hv_version));
		if (h->kvm_note[0])
			json_object_object_add(j, "kvm_note", json_object_new_string(h->kvm_note));
		json_object_object_add(j, "cpus", json_object_new_int(h->ncpus));
		char mc[32], bc[32], ac[32];
		cpusets(h, true, true, mc, sizeof(mc));
		cpusets(h, true, false, bc, sizeof(bc));
		cpusets(h, false, true, ac, sizeof(ac));
		json_object *pin = json_object_new_object();
		json_object_object_add(pin, "measurement_vcpus_and_emulator", json_object_new_string(mc));
		json_object_object_add(pin, "background_vcpus_and_emulator", json_object_new_string(bc));
		json_object_object_add(pin, "without_reservation", json_object_new_string(ac));
		json_object_object_add(pin, "method", json_object_new_string(
			"<vcpupin>/<emulatorpin> at boot, virDomainPinVcpuFlags/virDomainPinEmulator live"));
		json_object_object_add(j, "pinning", pin);
		json_object_object_add(j, "bridge", json_object_new_string(
			h->bridge[0] ? h->bridge : (tb->nhosts == 1 ? BR_S "," BR_R : "")));
		json_object_array_add(hosts, j);
		emulated |= strcmp(h->virt_type, "kvm") != 0;
	}
	json_object_object_add(o, "hosts", hosts);
	/* The one fact that must never be lost: TCG results are not KVM results. */
	json_object_object_add(o, "virt_type", json_object_new_string(
		tb->nhosts == 2 && strcmp(tb->hosts[0].virt_type, tb->hosts[1].virt_type)
			? "mixed" : tb->hosts[0].virt_type));
	json_object_object_add(o, "emulated", json_object_new_boolean(emulated));
	if (emulated)
		json_object_object_add(o, "warning", json_object_new_string(
			"qemu (TCG) emulation: every guest instruction is translated; RTTs are not "
			"comparable with KVM results"));
	json_object *nics = json_object_new_array();
	for (size_t i = 0; i < m->n_nic; i++)
		json_object_array_add(nics, json_object_new_string(m->nic[i]));
	json_object_object_add(o, "nic_models", nics);
	json_object_object_add(o, "probe_timeout_s",
			       json_object_new_int(probe_timeout_s(tb)));
	json_object_object_add(o, "guest_memory_mib", json_object_new_int(m->guest_memory_mib));
	json_object_object_add(o, "guest_vcpus", json_object_new_int(m->guest_vcpus));
	const struct vm *vs = &tb->vms[0];
	json_object_object_add(o, "guest_clocksource", json_object_new_string(
		vs->clocksource[0] ? vs->clocksource : "unknown"));
	json_object *img = json_object_new_object();
	json_object_object_add(img, "kernel_package", json_object_new_string(tb->img.kernel_package));
	json_object_object_add(img, "kernel_version", json_object_new_string(tb->img.kernel_version));
	json_object_object_add(img, "kernel", json_object_new_string(tb->img.kernel));
	json_object_object_add(img, "initrd", json_object_new_string(tb->img.initrd));
	json_object_object_add(img, "initrd_sha256", json_object_new_string(tb->img.hash));
	json_object *mods = json_object_new_array();
	for (size_t i = 0; guest_image_modules[i]; i++)
		json_object_array_add(mods, json_object_new_string(guest_image_modules[i]));
	json_object_object_add(img, "modules", mods);
	json_object_object_add(o, "guest_image", img);
	json_object_object_add(o, "bg_vms_per_side", json_object_new_int(tb->cfg.max_bg_vms));
	json_object_object_add(o, "host_link", json_object_new_string(
		tb->made_net ? "veth pair " LNK_S "/" LNK_R " between " BR_S " and " BR_R ", unshaped"
			     : "the hosts' physical link (libvirt_bridge)"));
	json_object_object_add(o, "io_load_note", json_object_new_string(
		"guests have no disk: stress-ng --hdd writes to the guest's tmpfs"));
	json_object *addr = json_object_new_object();
	json_object_object_add(addr, "sender_vm", json_object_new_string(ADDR_VS));
	json_object_object_add(addr, "receiver_vm", json_object_new_string(ADDR_VR));
	json_object_object_add(o, "addresses", addr);
	json_object *points = json_object_new_object();
	json_object_object_add(points, "sender-vm", json_object_new_string("eth0 in tk-vs (guest clock)"));
	json_object_object_add(points, "receiver-vm", json_object_new_string("eth0 in tk-vr (guest clock)"));
	if (tb->host_capture) {
		json_object_object_add(points, "sender-bridge", json_object_new_string(
			tb->made_net ? BR_S : m->libvirt_bridge[0]));
		json_object_object_add(points, "receiver-bridge", json_object_new_string(
			tb->made_net ? BR_R : m->libvirt_bridge[1]));
		if (tb->made_net) {
			json_object_object_add(points, "sender-host", json_object_new_string(LNK_S));
			json_object_object_add(points, "receiver-host", json_object_new_string(LNK_R));
		}
		json_object_object_add(points, "sender-tap (capture-*-taps.json)",
				       json_object_new_string("tk-t-vs"));
		json_object_object_add(points, "receiver-tap (capture-*-taps.json)",
				       json_object_new_string("tk-t-vr"));
	}
	json_object_object_add(o, "capture_points", points);
	json_object_object_add(o, "boots", json_object_get(tb->boots));
	json_object_object_add(manifest, "testbed", o);

	json_object *tools = NULL;
	if (!json_object_object_get_ex(manifest, "tool_versions", &tools)) {
		tools = json_object_new_object();
		json_object_object_add(manifest, "tool_versions", tools);
	}
	unsigned long lib = 0;
	if (virGetVersion(&lib, NULL, NULL) == 0) {
		char v[32];
		snprintf(v, sizeof(v), "%lu.%lu.%lu", lib / 1000000, lib / 1000 % 1000, lib % 1000);
		json_object_object_add(tools, "libvirt", json_object_new_string(v));
	}
}

static void lv_teardown(struct testbed *tb)
{
	if (!tb)
		return;
	char err[256];
	lv_load_stop(tb, err, sizeof(err));
	lv_scenario_end(tb, err, sizeof(err));
	for (int i = 0; i < MAX_VMS; i++)
		if (tb->vms[i].dom || tb->vms[i].st)
			vm_stop(tb, &tb->vms[i]);
	for (int i = 0; i < tb->nhosts; i++)
		if (tb->hosts[i].conn) {
			virConnectClose(tb->hosts[i].conn);
			tb->hosts[i].conn = NULL;
		}
	ev_stop(tb);
	remove_net(tb);
	if (tb->cap_dir[0]) {
		char *const rmv[] = { "rm", "-rf", tb->cap_dir, NULL };
		exec_run(rmv, NULL, 30000);
	}
	exec_registry_set(NULL);
	unlink(PID_REGISTRY);
	json_object_put(tb->boots);
	free(tb);
}

static int lv_clean(char *report, size_t len)
{
	int killed = 0, removed = 0, links = 0;
	exec_registry_kill(PID_REGISTRY, &killed);
	const char *uri = getenv("TK_LIBVIRT_URI");
	if (!uri)
		uri = "qemu:///system";
	char err[512] = "";
	virConnectPtr c = NULL;
	int rc = 0;
	bool reached = false;
	/* libvirtd not running means no domain of ours can exist: not an error for clean. */
	if (access("/run/libvirt/libvirt-sock", F_OK) == 0 || strncmp(uri, "qemu:///", 8)) {
		if (lv_connect(uri, &c, err, sizeof(err)) == 0) {
			reached = true;
			rc = lv_remove_all(c, &removed, err, sizeof(err));
			virConnectClose(c);
		}
	}
	/* Taps go with their domains; the bridges and the host link are ours to remove. */
	DIR *d = opendir("/sys/class/net");
	struct dirent *e;
	char names[64][32];
	int n = 0;
	while (d && (e = readdir(d)) && n < 64)
		if ((!strcmp(e->d_name, BR_S) || !strcmp(e->d_name, BR_R) ||
		     !strcmp(e->d_name, LNK_S) || !strncmp(e->d_name, "tk-t-", 5)))
			snprintf(names[n++], sizeof(names[0]), "%.31s", e->d_name);
	if (d)
		closedir(d);
	for (int i = 0; i < n; i++) {
		if (link_exists(names[i])) {
			link_del(names[i]);
			links++;
		}
	}
	DIR *cd = opendir(CONSOLE_DIR);
	while (cd && (e = readdir(cd)))
		if (!strncmp(e->d_name, "tk-", 3) && strstr(e->d_name, ".log")) {
			char p[PATH_MAX];
			tk_path(p, sizeof(p), "%s/%s", CONSOLE_DIR, e->d_name);
			unlink(p);
		}
	if (cd)
		closedir(cd);
	snprintf(report, len, "%d processes stopped, %d domains and %d links removed%s%s", killed,
		 removed, links, reached ? "" : " (libvirtd not reachable: no domains checked)",
		 rc ? ", some domains could not be removed" : "");
	return rc;
}

const struct backend_ops backend_libvirt = {
	.name = "libvirt",
	.check = lv_check,
	.prepare = lv_prepare,
	.nic_name = lv_nic_name,
	.scenario_begin = lv_scenario_begin,
	.load_start = lv_load_start,
	.load_stop = lv_load_stop,
	.capture_start = lv_capture_start,
	.capture_stop = lv_capture_stop,
	.probe = lv_probe,
	.scenario_end = lv_scenario_end,
	.describe = lv_describe,
	.teardown = lv_teardown,
	.clean = lv_clean,
	.group_by_vm_set = true,
};
