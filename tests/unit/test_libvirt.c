/*
 * Unit tests of the libvirt testbed's domain layer (experiments/libvirt_vm.c)
 * against libvirt's built-in test:///default driver: no libvirtd, no QEMU.
 * Covers the generated XML byte for byte, input checks, CPU maps, the
 * pinning calls on a running domain, start/remove lifecycle and the
 * "tk-" sweep, and the error paths (bad URI, unavailable domain types,
 * duplicate names).
 */
#include "autoconfig.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "guest_image.h"
#include "libvirt_vm.h"
#include "matrix.h"
#include "runner.h"

static struct lv_vm_spec base_spec(void)
{
	struct lv_vm_spec s = {
		.name = "tk-vs", .virt_type = "qemu", .arch = "x86_64", .memory_mib = 192,
		.vcpus = 1, .vcpu_cpuset = "1", .emulator_cpuset = "1",
		.kernel = "/var/cache/twampkit/k/vmlinuz", .initrd = "/var/cache/twampkit/initrd-ab.img",
		.cmdline = "console=ttyS0 tk.ip=198.18.0.1/16 tk.name=tk-vs", .nic_model = "e1000",
		.bridge = "tk-brs", .tap = "tk-t-vs", .mac = "52:54:00:74:00:00",
		.console_log = "/var/log/libvirt/qemu/tk-vs.console.log", .agent_channel = true,
	};
	return s;
}

static void test_xml_exact(void **state)
{
	(void)state;
	struct lv_vm_spec s = base_spec();
	char buf[8192], err[256];
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), 0);
	const char *want =
		"<domain type='qemu'>\n"
		"  <name>tk-vs</name>\n"
		"  <memory unit='MiB'>192</memory>\n"
		"  <currentMemory unit='MiB'>192</currentMemory>\n"
		"  <vcpu placement='static'>1</vcpu>\n"
		"  <cputune>\n"
		"    <vcpupin vcpu='0' cpuset='1'/>\n"
		"    <emulatorpin cpuset='1'/>\n"
		"  </cputune>\n"
		"  <os>\n"
		"    <type arch='x86_64'>hvm</type>\n"
		"    <kernel>/var/cache/twampkit/k/vmlinuz</kernel>\n"
		"    <initrd>/var/cache/twampkit/initrd-ab.img</initrd>\n"
		"    <cmdline>console=ttyS0 tk.ip=198.18.0.1/16 tk.name=tk-vs</cmdline>\n"
		"  </os>\n"
		"  <features>\n    <acpi/>\n  </features>\n"
		"  <clock offset='utc'/>\n"
		"  <on_poweroff>destroy</on_poweroff>\n"
		"  <on_reboot>destroy</on_reboot>\n"
		"  <on_crash>destroy</on_crash>\n"
		"  <devices>\n"
		"    <interface type='bridge'>\n"
		"      <source bridge='tk-brs'/>\n"
		"      <target dev='tk-t-vs'/>\n"
		"      <mac address='52:54:00:74:00:00'/>\n"
		"      <model type='e1000'/>\n"
		"    </interface>\n"
		"    <serial type='pty'>\n"
		"      <log file='/var/log/libvirt/qemu/tk-vs.console.log' append='off'/>\n"
		"      <target port='0'/>\n"
		"    </serial>\n"
		"    <console type='pty'>\n      <target type='serial' port='0'/>\n    </console>\n"
		"    <channel type='unix'>\n      <source mode='bind'/>\n"
		"      <target type='virtio' name='org.twampkit.agent.0'/>\n    </channel>\n"
		"    <controller type='usb' model='none'/>\n"
		"    <memballoon model='none'/>\n"
		"  </devices>\n</domain>\n";
	assert_string_equal(buf, want);
}

static void test_xml_virtio_kvm_unpinned(void **state)
{
	(void)state;
	struct lv_vm_spec s = base_spec();
	s.virt_type = "kvm";
	s.nic_model = "virtio";
	s.vcpus = 2;
	s.vcpu_cpuset = "0-1";
	s.emulator_cpuset = NULL;
	s.console_log = NULL;
	s.agent_channel = false;
	s.arch = NULL;
	char buf[8192], err[256];
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_non_null(strstr(buf, "<domain type='kvm'>\n"));
	assert_non_null(strstr(buf, "<model type='virtio'/>"));
	assert_non_null(strstr(buf, "    <vcpupin vcpu='0' cpuset='0-1'/>\n"
				    "    <vcpupin vcpu='1' cpuset='0-1'/>\n  </cputune>\n"));
	assert_null(strstr(buf, "emulatorpin"));
	assert_null(strstr(buf, "<channel"));
	assert_null(strstr(buf, "<log "));
	assert_non_null(strstr(buf, "    <type>hvm</type>\n"));
}

static void test_xml_escapes(void **state)
{
	(void)state;
	struct lv_vm_spec s = base_spec();
	s.kernel = "/tmp/a&b<c>/vmlinuz";
	s.cmdline = "tk.name='x\"y'";
	char buf[8192], err[256];
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), 0);
	assert_non_null(strstr(buf, "<kernel>/tmp/a&amp;b&lt;c&gt;/vmlinuz</kernel>"));
	assert_non_null(strstr(buf, "<cmdline>tk.name=&apos;x&quot;y&apos;</cmdline>"));
}

static void test_xml_rejects(void **state)
{
	(void)state;
	char buf[8192], err[256];
	struct lv_vm_spec s = base_spec();
	s.name = "vs"; /* no tk- prefix: clean could never find it */
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must start with tk-"));
	assert_string_equal(buf, "");
	s = base_spec();
	s.name = "tk-a b";
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.nic_model = "rtl8139";
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "rtl8139"));
	s = base_spec();
	s.virt_type = "xen";
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.memory_mib = 16;
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.vcpus = 0;
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.vcpu_cpuset = "1;reboot";
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.tap = "vnet0"; /* libvirt's own prefix, and not ours */
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.bridge = "a-very-long-bridge-name";
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	s.initrd = NULL;
	assert_int_equal(lv_domain_xml(&s, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	assert_int_equal(lv_domain_xml(NULL, buf, sizeof(buf), err, sizeof(err)), -EINVAL);
	s = base_spec();
	assert_int_equal(lv_domain_xml(&s, buf, 100, err, sizeof(err)), -ENOSPC);
	assert_string_equal(buf, "");
}

static void test_mac(void **state)
{
	(void)state;
	char b[24];
	lv_mac(b, sizeof(b), 0, 0);
	assert_string_equal(b, "52:54:00:74:00:00");
	lv_mac(b, sizeof(b), 1, 2);
	assert_string_equal(b, "52:54:00:75:00:02");
	lv_mac(b, sizeof(b), 1, 300);
	assert_string_equal(b, "52:54:00:75:01:2c");
}

static void test_cpuset_map(void **state)
{
	(void)state;
	unsigned char map[4];
	assert_int_equal(lv_cpuset_to_map("0-1,3", 16, map, sizeof(map)), 0);
	assert_int_equal(map[0], 0x0b);
	assert_int_equal(map[1], 0);
	assert_int_equal(lv_cpuset_to_map("9", 16, map, sizeof(map)), 0);
	assert_int_equal(map[0], 0);
	assert_int_equal(map[1], 0x02);
	assert_int_equal(lv_cpuset_to_map("2", 2, map, sizeof(map)), -EINVAL);   /* no CPU 2 */
	assert_int_equal(lv_cpuset_to_map("1-0", 4, map, sizeof(map)), -EINVAL);
	assert_int_equal(lv_cpuset_to_map("", 4, map, sizeof(map)), -EINVAL);
	assert_int_equal(lv_cpuset_to_map("a", 4, map, sizeof(map)), -EINVAL);
	assert_int_equal(lv_cpuset_to_map("1,", 4, map, sizeof(map)), 0);
	assert_int_equal(lv_cpuset_to_map("0", 64, map, sizeof(map)), -EINVAL);  /* map too small */
}

static void test_connect_errors(void **state)
{
	(void)state;
	virConnectPtr c = (virConnectPtr)1;
	char err[512];
	assert_int_equal(lv_connect("test:///nonexistent-file.xml", &c, err, sizeof(err)), -EINVAL);
	assert_null(c);
	/* A daemon URI whose socket does not exist: the message says how to start libvirtd. */
	assert_int_equal(lv_connect("qemu+unix:///system?socket=/nonexistent/libvirt-sock", &c, err,
				    sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "virtlogd -d && libvirtd -d"));
	assert_int_equal(lv_connect("", &c, err, sizeof(err)), -EINVAL);
}

static virConnectPtr open_test(void)
{
	virConnectPtr c = NULL;
	char err[512];
	assert_int_equal(lv_connect("test:///default", &c, err, sizeof(err)), 0);
	assert_non_null(c);
	return c;
}

static void test_virt_type(void **state)
{
	(void)state;
	virConnectPtr c = open_test();
	char t[8], err[256];
	assert_int_equal(lv_pick_virt_type(c, "auto", t, sizeof(t), err, sizeof(err)), 0);
	assert_string_equal(t, "test");
	assert_int_equal(lv_pick_virt_type(c, "kvm", t, sizeof(t), err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "kvm: no"));
	assert_int_equal(lv_pick_virt_type(c, "qemu", t, sizeof(t), err, sizeof(err)), -ENOTSUP);
	assert_non_null(strstr(err, "apt-get install qemu-system-x86"));
	assert_int_equal(lv_pick_virt_type(c, "bhyve", t, sizeof(t), err, sizeof(err)), -EINVAL);
	assert_int_equal(lv_host_cpus(c), 16);
	virConnectClose(c);
}

static struct lv_vm_spec test_spec(const char *name)
{
	struct lv_vm_spec s = base_spec();
	s.name = name;
	s.virt_type = "test";
	s.arch = NULL;
	s.vcpus = 2;
	s.vcpu_cpuset = "0-1";
	s.emulator_cpuset = "0-1";
	s.console_log = NULL;
	s.agent_channel = false; /* the test driver has no virtio-serial channels */
	return s;
}

static void test_start_pin_remove(void **state)
{
	(void)state;
	virConnectPtr c = open_test();
	char err[512];
	struct lv_vm_spec s = test_spec("tk-vs");
	virDomainPtr d = NULL;
	assert_int_equal(lv_domain_start(c, &s, false, &d, err, sizeof(err)), 0);
	assert_non_null(d);
	assert_int_equal(virDomainIsActive(d), 1);
	assert_int_equal(virDomainIsPersistent(d), 0); /* transient: nothing left once destroyed */

	/* Reservation: both vCPUs and the emulator onto CPU 15. */
	assert_int_equal(lv_domain_pin(d, 2, "15", "15", 16, err, sizeof(err)), 0);
	unsigned char maps[2 * 2];
	assert_int_equal(virDomainGetVcpuPinInfo(d, 2, maps, 2, VIR_DOMAIN_AFFECT_CURRENT), 2);
	assert_int_equal(maps[0], 0x00);
	assert_int_equal(maps[1], 0x80);
	assert_int_equal(maps[2], 0x00);
	assert_int_equal(maps[3], 0x80);
	/* Back to all CPUs but the reserved one. */
	assert_int_equal(lv_domain_pin(d, 2, "0-14", NULL, 16, err, sizeof(err)), 0);
	assert_int_equal(virDomainGetVcpuPinInfo(d, 2, maps, 2, VIR_DOMAIN_AFFECT_CURRENT), 2);
	assert_int_equal(maps[0], 0xff);
	assert_int_equal(maps[1], 0x7f);
	/* Error paths: a CPU the host does not have, a vCPU the domain does not have. */
	assert_int_equal(lv_domain_pin(d, 2, "16", NULL, 16, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not valid on a 16-CPU host"));
	assert_int_equal(lv_domain_pin(d, 3, "1", NULL, 16, err, sizeof(err)), -EIO);
	assert_non_null(strstr(err, "cannot pin vCPU 2 of tk-vs"));
	assert_int_equal(lv_domain_pin(d, 1, "1", NULL, 0, err, sizeof(err)), -EINVAL);

	/* The same name twice is refused by libvirt, and said so. */
	virDomainPtr d2 = NULL;
	assert_int_equal(lv_domain_start(c, &s, false, &d2, err, sizeof(err)), -EIO);
	assert_null(d2);
	assert_non_null(strstr(err, "cannot start domain tk-vs"));

	assert_int_equal(lv_domain_remove(d), 0);
	assert_null(virDomainLookupByName(c, "tk-vs"));
	assert_int_equal(lv_domain_remove(NULL), 0);
	virConnectClose(c);
}

static void test_emulator_pin(void **state)
{
	(void)state;
	virConnectPtr c = open_test();
	char err[512];
	struct lv_vm_spec s = test_spec("tk-vr");
	virDomainPtr d = NULL;
	assert_int_equal(lv_domain_start(c, &s, false, &d, err, sizeof(err)), 0);
	assert_int_equal(lv_domain_pin(d, 1, NULL, "3", 16, err, sizeof(err)), 0);
	unsigned char map[2];
	assert_int_equal(virDomainGetEmulatorPinInfo(d, map, 2, VIR_DOMAIN_AFFECT_CURRENT), 1);
	assert_int_equal(map[0], 0x08);
	assert_int_equal(map[1], 0x00);
	assert_int_equal(lv_domain_pin(d, 1, NULL, "0-99", 16, err, sizeof(err)), -EINVAL);
	assert_int_equal(lv_domain_remove(d), 0);
	virConnectClose(c);
}

static void test_remove_all(void **state)
{
	(void)state;
	virConnectPtr c = open_test();
	char err[512];
	const char *names[] = { "tk-vs", "tk-vr", "tk-bgs1" };
	for (int i = 0; i < 3; i++) {
		struct lv_vm_spec s = test_spec(names[i]);
		virDomainPtr d = NULL;
		assert_int_equal(lv_domain_start(c, &s, false, &d, err, sizeof(err)), 0);
		virDomainFree(d);
	}
	/* A persistent tk- domain too (a crashed older run could have defined one). */
	char xml[8192];
	struct lv_vm_spec p = test_spec("tk-old");
	assert_int_equal(lv_domain_xml(&p, xml, sizeof(xml), err, sizeof(err)), 0);
	virDomainPtr pd = virDomainDefineXML(c, xml);
	assert_non_null(pd);
	virDomainFree(pd);
	int removed = -1;
	assert_int_equal(lv_remove_all(c, &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 4);
	/* Not ours: the test driver's own "test" domain stays. */
	virDomainPtr t = virDomainLookupByName(c, "test");
	assert_non_null(t);
	virDomainFree(t);
	virDomainPtr *all = NULL;
	int n = virConnectListAllDomains(c, &all, 0);
	assert_int_equal(n, 1);
	for (int i = 0; i < n; i++)
		virDomainFree(all[i]);
	free(all);
	assert_int_equal(lv_remove_all(c, &removed, err, sizeof(err)), 0);
	assert_int_equal(removed, 0);
	virConnectClose(c);
}

static void test_module_list(void **state)
{
	(void)state;
	/* Dependency order: each module after what it needs (virtio_net after net_failover). */
	int ring = -1, pci = -1, net = -1, failover = -1, console = -1, e1000 = -1, i;
	for (i = 0; guest_image_modules[i]; i++) {
		const char *m = guest_image_modules[i];
		if (!strcmp(m, "virtio_ring"))
			ring = i;
		else if (!strcmp(m, "virtio_pci"))
			pci = i;
		else if (!strcmp(m, "virtio_net"))
			net = i;
		else if (!strcmp(m, "net_failover"))
			failover = i;
		else if (!strcmp(m, "virtio_console"))
			console = i;
		else if (!strcmp(m, "e1000"))
			e1000 = i;
	}
	assert_int_equal(i, 10);
	assert_true(ring == 0 && ring < pci && failover < net && pci < net && pci < console);
	assert_true(e1000 >= 0);
}

/* Writes text to a temporary matrix file and loads it. */
static int load_matrix(const char *text, struct matrix *m, char *err, size_t errlen)
{
	char path[] = "/tmp/tk-lvmatrix.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	int rc = matrix_load_file(path, m, err, errlen);
	unlink(path);
	return rc;
}

static void test_matrix_keys(void **state)
{
	(void)state;
	static struct matrix m;
	char err[512];
	assert_int_equal(matrix_preset("quick", &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_libvirt_uri, 1);
	assert_string_equal(m.libvirt_uri[0], "qemu:///system");
	assert_int_equal(m.n_libvirt_bridge, 0);
	assert_string_equal(m.virt_type, "auto");
	assert_int_equal(m.guest_memory_mib, 192);
	assert_int_equal(m.guest_vcpus, 1);
	assert_string_equal(m.image_cache, "/var/cache/twampkit");
	assert_string_equal(m.kernel_package, "linux-image-amd64");

	/* The two-host testbed of the README. */
	assert_int_equal(load_matrix("libvirt_uri = [\"qemu+ssh://root@hosta/system\", "
				     "\"qemu+ssh://root@hostb/system\"];\n"
				     "libvirt_bridge = [\"br0\", \"br1\"];\nvirt_type = \"kvm\";\n"
				     "guest_memory = 256;\nguest_vcpus = 2;\n", &m, err, sizeof(err)), 0);
	assert_int_equal(m.n_libvirt_uri, 2);
	assert_string_equal(m.libvirt_uri[1], "qemu+ssh://root@hostb/system");
	assert_int_equal(m.n_libvirt_bridge, 2);
	assert_string_equal(m.libvirt_bridge[0], "br0");
	assert_string_equal(m.virt_type, "kvm");
	assert_int_equal(m.guest_memory_mib, 256);
	assert_int_equal(m.guest_vcpus, 2);
}

static void test_matrix_key_errors(void **state)
{
	(void)state;
	static struct matrix m;
	char err[512];
	assert_int_equal(load_matrix("probes = 10;\nvirt_type = \"xen\";\n", &m, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, ":2: key 'virt_type': unknown value 'xen'"));
	assert_int_equal(load_matrix("libvirt_bridge = [\"br0\"];\n", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1: key 'libvirt_bridge': give none or two"));
	assert_int_equal(load_matrix("libvirt_bridge = [\"br 0\", \"br1\"];\n", &m, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "not an interface name"));
	assert_int_equal(load_matrix("libvirt_uri = [\"hosta\"];\n", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "is not a libvirt URI"));
	assert_int_equal(load_matrix("libvirt_uri = [];\n", &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "key 'libvirt_uri': empty list"));
	assert_true(load_matrix("libvirt_uri = [\"a:///\", \"b:///\", \"c:///\"];\n", &m, err,
				sizeof(err)) < 0);
	assert_non_null(strstr(err, "libvirt_uri"));
	assert_true(load_matrix("guest_memory = 64;\n", &m, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "guest_memory"));
	assert_true(load_matrix("guest_vcpus = 0;\n", &m, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "guest_vcpus"));
}

/* The smoke matrix: 8 scenarios, run grouped by VM set so each set boots once. */
static void test_smoke_matrix_grouping(void **state)
{
	(void)state;
	const char *src = getenv("TK_SRCDIR");
	char path[4096];
	snprintf(path, sizeof(path), "%s/experiments/matrices/libvirt-smoke.cfg", src ? src : ".");
	static struct matrix m;
	char err[512];
	assert_int_equal(matrix_load_file(path, &m, err, sizeof(err)), 0);
	assert_string_equal(m.virt_type, "qemu");
	struct scenario *s = NULL;
	size_t n = 0;
	assert_int_equal(matrix_expand(&m, &s, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 8);
	runner_group_by_vm_set(&m, s, n);
	/* e1000 before virtio (matrix order), 0 background VMs before 2: three set changes. */
	static const char *const nic[8] = { "e1000", "e1000", "e1000", "e1000",
					    "virtio", "virtio", "virtio", "virtio" };
	static const int bg[8] = { 0, 0, 2, 2, 0, 0, 2, 2 };
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(s[i].nic, nic[i]);
		assert_int_equal(s[i].bg_vms, bg[i]);
		assert_int_equal(s[i].index, i);
	}
	/* Stable: inside a group, the seeded order of matrix_expand stays. */
	struct scenario *r = NULL;
	size_t n2 = 0;
	assert_int_equal(matrix_expand(&m, &r, &n2, err, sizeof(err)), 0);
	size_t k = 0;
	for (size_t i = 0; i < n2; i++)
		if (!strcmp(r[i].nic, "e1000") && r[i].bg_vms == 0)
			assert_string_equal(r[i].id, s[k++].id);
	assert_int_equal(k, 2);
	free(r);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xml_exact),
		cmocka_unit_test(test_xml_virtio_kvm_unpinned),
		cmocka_unit_test(test_xml_escapes),
		cmocka_unit_test(test_xml_rejects),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_cpuset_map),
		cmocka_unit_test(test_connect_errors),
		cmocka_unit_test(test_virt_type),
		cmocka_unit_test(test_start_pin_remove),
		cmocka_unit_test(test_emulator_pin),
		cmocka_unit_test(test_remove_all),
		cmocka_unit_test(test_module_list),
		cmocka_unit_test(test_matrix_keys),
		cmocka_unit_test(test_matrix_key_errors),
		cmocka_unit_test(test_smoke_matrix_grouping),
	};
	return cmocka_run_group_tests_name("libvirt", tests, NULL, NULL);
}
