/*
 * Domains of the libvirt testbed (see libvirt_vm.h).  The XML is written
 * here rather than by libvirt's object model so that what a run asked for is
 * one readable string (kept in the run's logs) and so that the unit tests
 * can compare it exactly.  Guests are transient: virDomainCreateXML with
 * VIR_DOMAIN_START_AUTODESTROY, so a destroyed domain leaves no definition
 * behind and a harness that dies leaves no running VM either (libvirtd
 * destroys auto-destroy domains when their connection closes).
 */
#include "autoconfig.h"
#include "libvirt_vm.h"
#include "exec.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

static const char *last_error(void)
{
	const char *m = virGetLastErrorMessage();
	return m ? m : "unknown libvirt error";
}

/* libvirt prints every error on stderr by default; ours are reported through err. */
static void quiet_errors(void *data, virErrorPtr e)
{
	(void)data;
	(void)e;
}

/* --- XML --------------------------------------------------------------------- */

struct xbuf {
	char *p;
	size_t len, used;
	bool overflow;
};

static void xput(struct xbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void xput(struct xbuf *b, const char *fmt, ...)
{
	if (b->overflow)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->used, b->len - b->used, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= b->len - b->used) {
		b->overflow = true;
		return;
	}
	b->used += (size_t)n;
}

/* Appends s with &, <, >, ' and " escaped (attribute and text content alike). */
static void xesc(struct xbuf *b, const char *s)
{
	for (; *s && !b->overflow; s++) {
		switch (*s) {
		case '&': xput(b, "&amp;"); break;
		case '<': xput(b, "&lt;"); break;
		case '>': xput(b, "&gt;"); break;
		case '\'': xput(b, "&apos;"); break;
		case '"': xput(b, "&quot;"); break;
		default: xput(b, "%c", *s); break;
		}
	}
}

static bool name_ok(const char *s, size_t max)
{
	if (!s || strncmp(s, "tk-", 3) != 0 || strlen(s) > max)
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_'))
			return false;
	return true;
}

static bool cpuset_ok(const char *s)
{
	if (!s || !*s)
		return false;
	return strspn(s, "0123456789,-") == strlen(s);
}

int lv_domain_xml(const struct lv_vm_spec *s, char *buf, size_t len, char *err, size_t errlen)
{
	if (!s || !buf || len == 0) {
		tk_errf(err, errlen, "no VM specification");
		return -EINVAL;
	}
	buf[0] = 0;
	if (!name_ok(s->name, 48)) {
		tk_errf(err, errlen, "domain name '%s' must start with tk- (lower case, digits, -, _)",
		    s->name ? s->name : "");
		return -EINVAL;
	}
	if (!s->virt_type || (strcmp(s->virt_type, "kvm") && strcmp(s->virt_type, "qemu") &&
			      strcmp(s->virt_type, "test"))) {
		tk_errf(err, errlen, "%s: virtualization type must be kvm, qemu or test", s->name);
		return -EINVAL;
	}
	if (s->memory_mib < 32 || s->memory_mib > 65536 || s->vcpus < 1 || s->vcpus > 64) {
		tk_errf(err, errlen, "%s: memory %d MiB (32..65536) or %d vCPUs (1..64) out of range",
		    s->name, s->memory_mib, s->vcpus);
		return -EINVAL;
	}
	if (!s->nic_model || (strcmp(s->nic_model, "e1000") && strcmp(s->nic_model, "virtio"))) {
		tk_errf(err, errlen, "%s: NIC model '%s' is not e1000 or virtio", s->name,
		    s->nic_model ? s->nic_model : "");
		return -EINVAL;
	}
	if (!s->bridge || !*s->bridge || strlen(s->bridge) > 15 || (s->tap && !name_ok(s->tap, 15))) {
		tk_errf(err, errlen, "%s: bridge '%s' or tap '%s' is not a valid interface name "
		    "(taps: tk-..., at most 15 characters)", s->name, s->bridge ? s->bridge : "",
		    s->tap ? s->tap : "");
		return -EINVAL;
	}
	if ((s->vcpu_cpuset && !cpuset_ok(s->vcpu_cpuset)) ||
	    (s->emulator_cpuset && !cpuset_ok(s->emulator_cpuset))) {
		tk_errf(err, errlen, "%s: a cpuset must be a list like 0-1,3", s->name);
		return -EINVAL;
	}
	if (!s->kernel || !s->initrd) {
		tk_errf(err, errlen, "%s: direct kernel boot needs a kernel and an initramfs", s->name);
		return -EINVAL;
	}

	struct xbuf b = { buf, len, 0, false };
	xput(&b, "<domain type='%s'>\n", s->virt_type);
	xput(&b, "  <name>%s</name>\n", s->name);
	xput(&b, "  <memory unit='MiB'>%d</memory>\n", s->memory_mib);
	xput(&b, "  <currentMemory unit='MiB'>%d</currentMemory>\n", s->memory_mib);
	xput(&b, "  <vcpu placement='static'>%d</vcpu>\n", s->vcpus);
	if (s->vcpu_cpuset || s->emulator_cpuset) {
		xput(&b, "  <cputune>\n");
		for (int i = 0; s->vcpu_cpuset && i < s->vcpus; i++)
			xput(&b, "    <vcpupin vcpu='%d' cpuset='%s'/>\n", i, s->vcpu_cpuset);
		if (s->emulator_cpuset)
			xput(&b, "    <emulatorpin cpuset='%s'/>\n", s->emulator_cpuset);
		xput(&b, "  </cputune>\n");
	}
	xput(&b, "  <os>\n");
	if (s->arch)
		xput(&b, "    <type arch='%s'>hvm</type>\n", s->arch);
	else
		xput(&b, "    <type>hvm</type>\n");
	xput(&b, "    <kernel>");
	xesc(&b, s->kernel);
	xput(&b, "</kernel>\n    <initrd>");
	xesc(&b, s->initrd);
	xput(&b, "</initrd>\n");
	if (s->cmdline) {
		xput(&b, "    <cmdline>");
		xesc(&b, s->cmdline);
		xput(&b, "</cmdline>\n");
	}
	xput(&b, "  </os>\n");
	xput(&b, "  <features>\n    <acpi/>\n  </features>\n");
	xput(&b, "  <clock offset='utc'/>\n");
	/* A guest that reboots or crashes is gone: a measurement never continues on a rebooted VM. */
	xput(&b, "  <on_poweroff>destroy</on_poweroff>\n");
	xput(&b, "  <on_reboot>destroy</on_reboot>\n");
	xput(&b, "  <on_crash>destroy</on_crash>\n");
	xput(&b, "  <devices>\n");
	xput(&b, "    <interface type='bridge'>\n      <source bridge='");
	xesc(&b, s->bridge);
	xput(&b, "'/>\n");
	if (s->tap)
		xput(&b, "      <target dev='%s'/>\n", s->tap);
	if (s->mac) {
		xput(&b, "      <mac address='");
		xesc(&b, s->mac);
		xput(&b, "'/>\n");
	}
	xput(&b, "      <model type='%s'/>\n    </interface>\n", s->nic_model);
	xput(&b, "    <serial type='pty'>\n");
	if (s->console_log) {
		xput(&b, "      <log file='");
		xesc(&b, s->console_log);
		xput(&b, "' append='off'/>\n");
	}
	xput(&b, "      <target port='0'/>\n    </serial>\n");
	xput(&b, "    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n");
	if (s->agent_channel)
		xput(&b, "    <channel type='unix'>\n      <source mode='bind'/>\n"
			 "      <target type='virtio' name='" LV_AGENT_CHANNEL "'/>\n    </channel>\n");
	/* No balloon (memory stays fixed), no USB, no graphics: nothing that wakes the guest. */
	xput(&b, "    <controller type='usb' model='none'/>\n");
	xput(&b, "    <memballoon model='none'/>\n");
	xput(&b, "  </devices>\n</domain>\n");
	if (b.overflow) {
		buf[0] = 0;
		tk_errf(err, errlen, "%s: domain XML longer than %zu octets", s->name, len);
		return -ENOSPC;
	}
	return 0;
}

void lv_mac(char *buf, size_t len, int side, int index)
{
	/* 52:54:00 is QEMU's locally administered range; "tk" marks ours. */
	snprintf(buf, len, "52:54:00:%02x:%02x:%02x", 0x74 ^ (side & 0x0f), (index >> 8) & 0xff,
		 index & 0xff);
}

/* --- connection -------------------------------------------------------------- */

int lv_connect(const char *uri, virConnectPtr *out, char *err, size_t errlen)
{
	*out = NULL;
	if (!uri || !*uri) {
		tk_errf(err, errlen, "no libvirt connection URI");
		return -EINVAL;
	}
	virSetErrorFunc(NULL, quiet_errors);
	virConnectPtr c = virConnectOpen(uri);
	if (!c) {
		const char *m = last_error();
		if (!strncmp(uri, "test:", 5)) {
			tk_errf(err, errlen, "cannot open %s: %s", uri, m);
			return -EINVAL;
		}
		tk_errf(err, errlen, "cannot connect to libvirt at %s: %s. Is libvirtd running on that "
		    "host? Start it with 'virtlogd -d && libvirtd -d' (or 'systemctl start "
		    "libvirtd'); the libvirt-daemon-system package provides both", uri, m);
		return -ECONNREFUSED;
	}
	*out = c;
	return 0;
}

int lv_pick_virt_type(virConnectPtr c, const char *prefer, char *out, size_t len, char *err,
		      size_t errlen)
{
	char *caps = virConnectGetCapabilities(c);
	if (!caps) {
		tk_errf(err, errlen, "cannot read the host's capabilities: %s", last_error());
		return -EIO;
	}
	bool kvm = strstr(caps, "<domain type='kvm'") != NULL;
	bool qemu = strstr(caps, "<domain type='qemu'") != NULL;
	bool test = strstr(caps, "<domain type='test'") != NULL;
	free(caps);
	bool want_auto = !prefer || !*prefer || !strcmp(prefer, "auto");
	if (!want_auto && strcmp(prefer, "kvm") && strcmp(prefer, "qemu")) {
		tk_errf(err, errlen, "virtualization type '%s' is not auto, kvm or qemu", prefer);
		return -EINVAL;
	}
	const char *pick = NULL;
	if ((want_auto || !strcmp(prefer, "kvm")) && kvm)
		pick = "kvm";
	else if ((want_auto || !strcmp(prefer, "qemu")) && qemu)
		pick = "qemu";
	else if (want_auto && test)
		pick = "test";
	if (!pick) {
		tk_errf(err, errlen, "the host offers no %s domains (kvm: %s, qemu: %s)%s",
		    want_auto ? "kvm or qemu" : prefer, kvm ? "yes" : "no", qemu ? "yes" : "no",
		    !qemu ? ": apt-get install qemu-system-x86" : "");
		return -ENOTSUP;
	}
	snprintf(out, len, "%s", pick);
	return 0;
}

int lv_host_cpus(virConnectPtr c)
{
	virNodeInfo ni;
	if (virNodeGetInfo(c, &ni) < 0 || ni.cpus == 0)
		return -EIO;
	return (int)ni.cpus;
}

/* --- domains ----------------------------------------------------------------- */

int lv_domain_start(virConnectPtr c, const struct lv_vm_spec *s, bool autodestroy,
		    virDomainPtr *out, char *err, size_t errlen)
{
	*out = NULL;
	size_t len = 16384;
	char *xml = malloc(len);
	if (!xml)
		return -ENOMEM;
	int rc = lv_domain_xml(s, xml, len, err, errlen);
	if (rc) {
		free(xml);
		return rc;
	}
	virDomainPtr d = virDomainCreateXML(c, xml, autodestroy ? VIR_DOMAIN_START_AUTODESTROY : 0);
	free(xml);
	if (!d) {
		tk_errf(err, errlen, "cannot start domain %s: %s", s->name, last_error());
		return -EIO;
	}
	*out = d;
	return 0;
}

int lv_cpuset_to_map(const char *cpuset, int ncpus, unsigned char *map, size_t maplen)
{
	if (!cpuset || !*cpuset || ncpus < 1 || (size_t)(ncpus + 7) / 8 > maplen)
		return -EINVAL;
	memset(map, 0, maplen);
	const char *p = cpuset;
	bool any = false;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10);
		if (end == p || a < 0)
			return -EINVAL;
		long b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a)
				return -EINVAL;
			p = end;
		}
		if (b >= ncpus)
			return -EINVAL;
		for (long i = a; i <= b; i++)
			map[i / 8] |= (unsigned char)(1u << (i % 8));
		any = true;
		if (*p == ',')
			p++;
		else if (*p)
			return -EINVAL;
	}
	return any ? 0 : -EINVAL;
}

int lv_domain_pin(virDomainPtr d, int vcpus, const char *vcpu_cpuset,
		  const char *emulator_cpuset, int ncpus, char *err, size_t errlen)
{
	unsigned char map[64];
	size_t maplen = (size_t)(ncpus + 7) / 8;
	if (ncpus < 1 || maplen > sizeof(map)) {
		tk_errf(err, errlen, "host CPU count %d out of range", ncpus);
		return -EINVAL;
	}
	if (vcpu_cpuset) {
		if (lv_cpuset_to_map(vcpu_cpuset, ncpus, map, sizeof(map)) < 0) {
			tk_errf(err, errlen, "cpuset '%s' is not valid on a %d-CPU host", vcpu_cpuset, ncpus);
			return -EINVAL;
		}
		for (int i = 0; i < vcpus; i++) {
			if (virDomainPinVcpuFlags(d, (unsigned)i, map, (int)maplen,
						  VIR_DOMAIN_AFFECT_CURRENT) < 0) {
				/* Copied first: every public call, virDomainGetName too, resets it. */
				char why[256];
				snprintf(why, sizeof(why), "%s", last_error());
				tk_errf(err, errlen, "cannot pin vCPU %d of %s to %s: %s", i,
				    virDomainGetName(d), vcpu_cpuset, why);
				return -EIO;
			}
		}
	}
	if (emulator_cpuset) {
		if (lv_cpuset_to_map(emulator_cpuset, ncpus, map, sizeof(map)) < 0) {
			tk_errf(err, errlen, "cpuset '%s' is not valid on a %d-CPU host", emulator_cpuset,
			    ncpus);
			return -EINVAL;
		}
		if (virDomainPinEmulator(d, map, (int)maplen, VIR_DOMAIN_AFFECT_CURRENT) < 0) {
			char why[256];
			snprintf(why, sizeof(why), "%s", last_error());
			tk_errf(err, errlen, "cannot pin the emulator of %s to %s: %s", virDomainGetName(d),
			    emulator_cpuset, why);
			return -EIO;
		}
	}
	return 0;
}

int lv_domain_remove(virDomainPtr d)
{
	if (!d)
		return 0;
	int rc = 0;
	int active = virDomainIsActive(d);
	if (active == 1 && virDomainDestroy(d) < 0)
		rc = -EIO;
	if (virDomainIsPersistent(d) == 1 && virDomainUndefine(d) < 0)
		rc = -EIO;
	virDomainFree(d);
	return rc;
}

int lv_remove_all(virConnectPtr c, int *removed, char *err, size_t errlen)
{
	*removed = 0;
	virDomainPtr *doms = NULL;
	int n = virConnectListAllDomains(c, &doms, 0);
	if (n < 0) {
		tk_errf(err, errlen, "cannot list domains: %s", last_error());
		return -EIO;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = virDomainGetName(doms[i]);
		if (name && !strncmp(name, "tk-", 3)) {
			if (lv_domain_remove(doms[i]) == 0)
				(*removed)++;
			else
				rc = -EIO;
		} else {
			virDomainFree(doms[i]);
		}
	}
	free(doms);
	if (rc)
		tk_errf(err, errlen, "some tk- domains could not be removed: %s", last_error());
	return rc;
}
