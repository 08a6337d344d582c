/*
 * The libvirt side of the libvirt testbed, kept apart from the backend so
 * the unit tests can drive it against libvirt's test:///default driver:
 * domain XML generation (direct kernel boot, one NIC on a bridge, a
 * virtio-serial agent channel, vCPU and emulator pinning), starting
 * transient auto-destroyed domains, live re-pinning, and removal of every
 * "tk-" domain.  Nothing here knows about scenarios or results.
 */
#ifndef TK_LIBVIRT_VM_H
#define TK_LIBVIRT_VM_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

/* The agent channel's name inside the guest (/sys/class/virtio-ports/.../name). */
#define LV_AGENT_CHANNEL "org.twampkit.agent.0"

struct lv_vm_spec {
	const char *name;          /* domain name, "tk-..." */
	const char *virt_type;     /* "kvm", "qemu" (TCG) or "test" (unit tests) */
	const char *arch;          /* "x86_64", or NULL to leave it to the driver */
	int memory_mib;            /* 32..65536 */
	int vcpus;                 /* 1..64 */
	const char *vcpu_cpuset;   /* host CPUs for every vCPU ("1", "0-1"), NULL = unpinned */
	const char *emulator_cpuset; /* host CPUs for QEMU's other threads, NULL = unpinned */
	const char *kernel;        /* direct kernel boot */
	const char *initrd;
	const char *cmdline;
	const char *nic_model;     /* "e1000" or "virtio" */
	const char *bridge;        /* host bridge the NIC is a port of */
	const char *tap;           /* tap device name on the host ("tk-t-..."), NULL = libvirt's */
	const char *mac;           /* "52:54:00:..", NULL = libvirt's */
	const char *console_log;   /* serial console copied to this file (virtlogd), NULL = none */
	bool agent_channel;        /* add the org.twampkit.agent.0 virtio-serial channel */
};

/*
 * Domain XML for s into buf.  Values are XML-escaped; names and models are
 * checked (tk- prefix, known NIC model, sizes in range).  0, -EINVAL with
 * err, or -ENOSPC when buf is too small.
 */
int lv_domain_xml(const struct lv_vm_spec *s, char *buf, size_t len, char *err, size_t errlen);

/* "52:54:00:74:6b:XX:YY"-style locally administered MAC for (side, index). */
void lv_mac(char *buf, size_t len, int side, int index);

/*
 * Connects to uri; when libvirtd cannot be reached, err says so and names
 * the commands that start it.  0 or -ECONNREFUSED / -EINVAL.
 */
int lv_connect(const char *uri, virConnectPtr *out, char *err, size_t errlen);

/* Domain type for uri's host: "kvm" when the driver offers it (and prefer is not "qemu"), else "qemu". */
int lv_pick_virt_type(virConnectPtr c, const char *prefer, char *out, size_t len, char *err,
		      size_t errlen);

/*
 * Starts a transient domain from s; with autodestroy, libvirt destroys it
 * when this connection closes (a crashed harness leaves no VM behind).
 * 0 or -errno with err.
 */
int lv_domain_start(virConnectPtr c, const struct lv_vm_spec *s, bool autodestroy,
		    virDomainPtr *out, char *err, size_t errlen);

/*
 * Pins every vCPU of d to vcpu_cpuset and its emulator threads to
 * emulator_cpuset ("0-1", "1", "0,2"), on the running domain (AFFECT_CURRENT:
 * live for a running domain, and what the test driver accepts).  ncpus is
 * the host's CPU count (virNodeGetInfo).  0 or -errno with err.
 */
int lv_domain_pin(virDomainPtr d, int vcpus, const char *vcpu_cpuset,
		  const char *emulator_cpuset, int ncpus, char *err, size_t errlen);

/* Parses a cpuset list ("0-2,5") into a libvirt CPU map of maplen octets.  0 or -EINVAL. */
int lv_cpuset_to_map(const char *cpuset, int ncpus, unsigned char *map, size_t maplen);

/* Destroys (and undefines, if persistent) d, then frees it.  0 or -EIO. */
int lv_domain_remove(virDomainPtr d);

/* Destroys and undefines every domain whose name starts with "tk-".  *removed counts them. */
int lv_remove_all(virConnectPtr c, int *removed, char *err, size_t errlen);

/* Host CPU count of the connection (virNodeGetInfo), or -EIO. */
int lv_host_cpus(virConnectPtr c);

#endif
