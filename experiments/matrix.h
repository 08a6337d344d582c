/*
 * The experiment matrix: the paper's Table I (reservation, load type, load
 * location, number of background VMs, NIC model, probe rate) plus the
 * protocols, read from a libconfig file or a named preset, validated, and
 * expanded into scenarios in a seeded random order.
 *
 * A scenario runs every selected protocol under the same load: iputils ping
 * ("ping", the paper's baseline), twamp-client's ICMP prober ("icmp") and
 * TWAMP ("twamp"); icmp and twamp run interleaved in one twamp-client run
 * so they see the same conditions.
 */
#ifndef TK_MATRIX_H
#define TK_MATRIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum load_type { LOAD_NONE = 0, LOAD_CPU, LOAD_NETWORK, LOAD_IO, LOAD_NTYPES };
enum load_location { LOC_NONE = 0, LOC_SENDER, LOC_RECEIVER, LOC_NLOCATIONS };
enum run_proto { RUN_PING = 0, RUN_ICMP, RUN_TWAMP, RUN_NPROTO };

#define MATRIX_MAX_VALUES 16
#define MATRIX_MAX_BG_VMS 128

const char *load_type_name(enum load_type t);
const char *load_location_name(enum load_location l);
const char *run_proto_name(enum run_proto p);
int load_type_parse(const char *s, enum load_type *out);
int load_location_parse(const char *s, enum load_location *out);
int run_proto_parse(const char *s, enum run_proto *out);

struct matrix {
	char name[64];                          /* preset name or file name */
	bool reservation[2];                    /* [0]: without, [1]: with a reserved core */
	bool load[LOAD_NTYPES];
	bool location[LOC_NLOCATIONS];          /* sender, receiver (LOC_NONE unused) */
	int bg_vms[MATRIX_MAX_VALUES];          /* ascending, unique, 0..128 */
	size_t n_bg_vms;
	char nic[MATRIX_MAX_VALUES][16];        /* "e1000", "virtio"; netns records "veth" */
	size_t n_nic;
	int freq_hz[MATRIX_MAX_VALUES];         /* probe rates */
	size_t n_freq;
	bool proto[RUN_NPROTO];
	int probes;                             /* per protocol per run (paper: 100) */
	int warmup;                             /* extra probes sent first and discarded */
	int repetitions;
	uint64_t seed;                          /* run order */
	int64_t settle_ns;                      /* load started this long before probing */
	int64_t link_rate_bps;                  /* host link shaping (netns), 0 = unshaped */
	int64_t link_burst_bytes;               /* 0: the backend's choice (1 ms at the rate, >= 16 KiB) */
	int64_t link_latency_ns;                /* tbf queue bound */
	int cpu_workers;                        /* stress-ng --cpu per background VM (0 = 1) */
	int io_workers;                         /* stress-ng --hdd/--io per background VM */
	int net_streams;                        /* iperf3 parallel streams per VM pair */
	bool capture;                           /* capture at the six points */
	bool keep_pcaps;
	/* libvirt backend (the netns backend ignores these; not in matrix_to_json) */
	char libvirt_uri[2][256];               /* sender host, receiver host; one = both */
	size_t n_libvirt_uri;
	char libvirt_bridge[2][16];             /* existing bridges per side; none = tk-brs/tk-brr made here */
	size_t n_libvirt_bridge;
	char virt_type[8];                      /* auto, kvm, qemu (TCG) */
	int guest_memory_mib;
	int guest_vcpus;
	char image_cache[256];                  /* kernel and initramfs cache */
	char kernel_package[96];                /* Debian kernel package the guests boot */
};

/* Scenario identity; id is stable across runs of the same matrix (for --resume). */
struct scenario {
	char id[96];
	size_t index;                           /* position in run order */
	bool reservation;
	enum load_type load;
	enum load_location location;            /* LOC_NONE when load is none */
	int bg_vms;
	char nic[16];
	int freq_hz;
	int rep;                                /* 1..repetitions */
	bool proto[RUN_NPROTO];
	int probes;
	int warmup;
};

/*
 * Named presets: "quick" (README demo), "ci" (the test suite), "paper"
 * (Table I in full); experiments/matrices/NAME.cfg hold the same values.
 * 0, or -ENOENT for an unknown name (message in err).
 */
int matrix_preset(const char *name, struct matrix *m, char *err, size_t errlen);

/*
 * Loads a matrix file (libconfig; every key optional, defaults = the quick
 * preset; keys and ranges in matrix.c's table).  Unknown keys, values out of
 * range and impossible combinations (a load type without background VMs to
 * run it, no protocol) get a one-line error naming the file, line and key.
 */
int matrix_load_file(const char *path, struct matrix *m, char *err, size_t errlen);

/*
 * Scenarios of m: load "none" once per (reservation, nic, freq, rep) with 0
 * background VMs; each other load type per (reservation, location, bg_vms >
 * 0, nic, freq, rep).  Ordered randomly with m->seed (Fisher-Yates over a
 * seeded generator): the same matrix always gives the same order.
 * *out is malloc'd; caller frees.  0, -ENOMEM, or -EINVAL with err.
 */
int matrix_expand(const struct matrix *m, struct scenario **out, size_t *n, char *err, size_t errlen);

/* Largest bg_vms of the matrix: the testbed is built once at this size. */
int matrix_max_bg_vms(const struct matrix *m);

/* Seconds of probing one scenario needs (all protocols, warm-up included). */
double scenario_probe_seconds(const struct scenario *s);

/*
 * The matrix / a scenario as json-c objects (manifest.json, params.json);
 * backend_nic replaces the NIC name where the backend has no NIC models
 * (netns: "veth"), NULL keeps it.  New reference or NULL on allocation failure.
 */
struct json_object;
struct json_object *matrix_to_json(const struct matrix *m);
struct json_object *scenario_to_json(const struct scenario *s, const char *backend_nic);
/* Reads params.json back (report, --resume).  0 or -EINVAL. */
int scenario_from_json(struct json_object *o, struct scenario *s);

#endif
