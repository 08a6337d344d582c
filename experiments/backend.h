/*
 * The testbed backends of twamp-experiment, behind one function table (as
 * linuxptp does for its transports): netns (network namespaces on this
 * host) and libvirt (real VMs).  The runner knows nothing of either; a
 * backend knows nothing of result files beyond the paths it is handed.
 *
 * Lifecycle: check -> prepare (once, at the run's largest VM count) ->
 * per scenario: scenario_begin (placement, reflector) -> load_start ->
 * [capture_start -> probe -> capture_stop]... -> load_stop -> scenario_end
 * -> teardown.  teardown also runs on errors and on SIGINT/SIGTERM; clean
 * removes whatever a crashed run left behind.  Every object a backend
 * creates carries the "tk-" prefix.
 */
#ifndef TK_BACKEND_H
#define TK_BACKEND_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "matrix.h"

struct json_object;

/* What the runner tells a backend about the run. */
struct testbed_cfg {
	const struct matrix *m;
	int max_bg_vms;
	const char *server_path;       /* twamp-server */
	const char *client_path;       /* twamp-client */
	const char *capture_path;      /* twamp-capture, NULL when not built */
	const char *workdir;           /* scratch space for the backend (I/O load files, logs) */
	volatile sig_atomic_t *stop;   /* set on SIGINT/SIGTERM: cut long waits short (may be NULL) */
};

/* One probe run inside the sender measurement VM. */
enum probe_tool {
	PROBE_TOOL_CLIENT = 0,         /* twamp-client (twamp and/or icmp interleaved) */
	PROBE_TOOL_PING,               /* iputils ping -D */
};

struct probe_request {
	enum probe_tool tool;
	bool twamp, icmp;              /* PROBE_TOOL_CLIENT: protocols */
	int count;                     /* probes including warm-up */
	int freq_hz;
	const char *out_path;          /* client: JSON result; ping: its stdout */
};

struct testbed;

struct backend_ops {
	const char *name;
	/* Prerequisites (root, programs, kernel features); one-line error naming the Debian package. */
	int (*check)(const struct testbed_cfg *cfg, char *err, size_t errlen);
	int (*prepare)(const struct testbed_cfg *cfg, struct testbed **out, char *err, size_t errlen);
	/* NIC name recorded for this backend ("veth" for netns), or NULL to keep the matrix's. */
	const char *(*nic_name)(const struct testbed *tb, const char *requested);
	int (*scenario_begin)(struct testbed *tb, const struct scenario *sc, char *err, size_t errlen);
	/* Starts the scenario's load and waits the settle time; verifies it runs. */
	int (*load_start)(struct testbed *tb, const struct scenario *sc, char *err, size_t errlen);
	/* Stops it and verifies every load process is gone. */
	int (*load_stop)(struct testbed *tb, char *err, size_t errlen);
	/* Six-point capture; json_path gets twamp-capture's JSON, pcap_dir (may be NULL) its pcaps. */
	int (*capture_start)(struct testbed *tb, const char *json_path, const char *pcap_dir,
			     char *err, size_t errlen);
	int (*capture_stop)(struct testbed *tb, char *err, size_t errlen);
	int (*probe)(struct testbed *tb, const struct probe_request *req, char *err, size_t errlen);
	int (*scenario_end)(struct testbed *tb, char *err, size_t errlen);
	/* Adds backend facts to the manifest (topology, shaping, placement, tool versions). */
	void (*describe)(const struct testbed *tb, struct json_object *manifest);
	/* Removes everything; safe to call twice and after a failed prepare. */
	void (*teardown)(struct testbed *tb);
	/* Removes leftovers of crashed runs (no testbed needed); reports what it removed. */
	int (*clean)(char *report, size_t len);
	/*
	 * Set when changing the NIC model or the number of background VMs is
	 * expensive (VMs boot): the runner then runs the scenarios grouped by
	 * (NIC, background VMs), in the seeded random order within each group.
	 */
	bool group_by_vm_set;
};

extern const struct backend_ops backend_netns;
#ifdef HAVE_LIBVIRT_BACKEND
extern const struct backend_ops backend_libvirt;
#endif

/* By name; NULL when unknown (or not built). */
const struct backend_ops *backend_find(const char *name);

#endif
