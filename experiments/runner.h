/*
 * The experiment runner: one scenario at a time on a backend, results
 * written atomically per scenario (DESIGN.md §3), --resume, progress, and
 * teardown on every exit path.
 */
#ifndef TK_RUNNER_H
#define TK_RUNNER_H

#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "backend.h"
#include "matrix.h"

struct runner_opts {
	const struct matrix *m;
	const struct backend_ops *backend;
	const char *outdir;
	bool resume;
	const char *server_path, *client_path, *capture_path;
	volatile sig_atomic_t *stop;   /* set by SIGINT/SIGTERM */
};

/*
 * The lock that keeps two runs (or a run and clean) off the same "tk-"
 * objects.  Returns the fd holding it (closing it releases), or -EBUSY
 * when another process holds it and wait is false, or -errno; err says why.
 */
int runner_lock(bool wait, char *err, size_t errlen);

/* Runs the matrix.  0 when every scenario finished; -EINTR when stopped; -errno with err. */
int runner_run(const struct runner_opts *o, char *err, size_t errlen);

/*
 * Converts a twamp-capture JSON result into points.csv rows
 * ("proto,seq,point,rtt_ns") for protocol label proto_label; when
 * rename_icmp is set the capture's "icmp" probes are written as that label
 * (ping runs), and seq_offset is subtracted from their sequence numbers.
 */
int runner_points_append(const char *capture_json, FILE *csv, const char *only_proto,
			 const char *label, int seq_offset, char *err, size_t errlen);

/*
 * Reorders scs by (NIC in the matrix's order, background VMs ascending),
 * stable, and renumbers index: for backends whose VM sets are costly to
 * change (struct backend_ops.group_by_vm_set).
 */
void runner_group_by_vm_set(const struct matrix *m, struct scenario *scs, size_t n);

/* Converts iputils ping -D output to a twampkit.result/1 file. */
int runner_ping_to_json(const char *ping_txt, const char *json_path, const char *target,
			char *err, size_t errlen);

#endif
