#!/bin/sh
# twamp-experiment on the libvirt backend (issue 7) with real guests: the
# test starts its own virtlogd and libvirtd (by PID, stopped by PID at the
# end), boots guests under QEMU (TCG unless TK_LIBVIRT_VIRT_TYPE says kvm
# or auto), runs ping, ICMP and TWAMP between them for e1000 and for
# virtio, with and without CPU load, and checks the results, report and
# plot, the manifest's virtualization facts, and that no domain, tap,
# bridge or file of the run is left - after a finished run and after a
# SIGINT mid-run.  Without libvirtd, a run fails with one line naming the
# commands that start it.  Skips only when qemu or libvirtd is missing or
# libvirtd cannot start here.  About 3 minutes on 2 cores.
. "$(dirname "$0")/lib.sh"
need_root
EXP="$TK_BUILDDIR/experiments/twamp-experiment"
[ -x "$EXP" ] || skip "twamp-experiment not built"
"$EXP" run --backend libvirt --preset ci --dry-run >/dev/null 2>&1 ||
	skip "twamp-experiment was built without the libvirt backend (libvirt-dev missing at configure time)"
[ "${TK_LIBVIRT_TEST:-1}" != 0 ] || skip "TK_LIBVIRT_TEST=0: VM test not wanted in this pass"
command -v qemu-system-x86_64 >/dev/null 2>&1 || skip "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)"
command -v libvirtd >/dev/null 2>&1 && command -v virtlogd >/dev/null 2>&1 ||
	skip "libvirtd not installed (apt-get install libvirt-daemon-system)"
need_tool virsh unshare mount ip ping stress-ng iperf3 tcpdump gzip dpkg-deb apt-get
[ -x "$TK_BUILDDIR/experiments/twamp-capture" ] || skip "twamp-capture not built (no libpcap)"
export TK_SRCDIR

LV_PIDS=""
leftovers() {
	virsh -c qemu:///system list --all --name 2>/dev/null | grep '^tk-' || true
	ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | grep '^tk-' || true
	ls /var/log/libvirt/qemu 2>/dev/null | grep '^tk-' || true
}
stop_pid() { # PID: TERM, then KILL after 10 s; it is not our child, so poll
	kill "$1" 2>/dev/null || return 0
	for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
	kill -KILL "$1" 2>/dev/null || true
}
lv_cleanup() {
	"$EXP" clean >/dev/null 2>&1 || true
	for pid in $LV_PIDS; do stop_pid "$pid"; done
	tk_cleanup
}
trap lv_cleanup EXIT

VT=${TK_LIBVIRT_VIRT_TYPE:-qemu}
cat > "$TK_TMP/m.cfg" <<EOF
reservation = ["yes"];
load_type = ["none", "cpu"];
load_location = ["sender"];
bg_vms = [1];
nic = ["e1000", "virtio"];
freq_hz = [20];
protocols = ["ping", "icmp", "twamp"];
probes = 20;
warmup = 2;
settle = "1s";
capture = true;
keep_pcaps = true;
virt_type = "$VT";
guest_memory = 160;
EOF

# --- libvirtd: ours, unless one already serves qemu:///system ---
if virsh -c qemu:///system version >/dev/null 2>&1; then
	note "using the libvirtd already running"
else
	# No daemon: one line that says how to start it, and nothing built or left.
	rc=0; "$EXP" run --backend libvirt -c "$TK_TMP/m.cfg" -o "$TK_TMP/nodaemon" 2>"$TK_TMP/e0" >/dev/null || rc=$?
	[ "$rc" = 2 ] && grep -q 'virtlogd -d && libvirtd -d' "$TK_TMP/e0" ||
		{ cat "$TK_TMP/e0"; fail "no clear error without libvirtd (rc $rc)"; }
	[ -z "$(leftovers)" ] || fail "leftovers after the failed start: $(leftovers)"

	if ! [ -S /run/libvirt/virtlogd-sock ]; then
		virtlogd -d -p "$TK_TMP/virtlogd.pid" || skip "virtlogd cannot start"
		for _ in $(seq 50); do [ -s "$TK_TMP/virtlogd.pid" ] && break; sleep 0.1; done
		[ -s "$TK_TMP/virtlogd.pid" ] || skip "virtlogd did not start"
		LV_PIDS="$(cat "$TK_TMP/virtlogd.pid")"
	fi
	# QEMU runs as root in our daemon: where /dev/kvm exists but libvirt's
	# QEMU user cannot open it, libvirt 9 would re-probe QEMU on every call
	# (a minute per domain).  The host's qemu.conf is left as it is: ours
	# is bind-mounted in a mount namespace of the daemon alone.
	printf 'user = "root"\ngroup = "root"\n' > "$TK_TMP/qemu.conf"
	unshare -m --propagation private sh -c \
		'mount --bind "$1" /etc/libvirt/qemu.conf && exec libvirtd -d -p "$2"' \
		sh "$TK_TMP/qemu.conf" "$TK_TMP/libvirtd.pid" 2>"$TK_TMP/libvirtd.err" ||
		skip "libvirtd cannot start: $(head -c 200 "$TK_TMP/libvirtd.err")"
	for _ in $(seq 100); do
		[ -s "$TK_TMP/libvirtd.pid" ] && virsh -c qemu:///system version >/dev/null 2>&1 && break
		sleep 0.2
	done
	[ -s "$TK_TMP/libvirtd.pid" ] || skip "libvirtd did not start"
	LV_PIDS="$(cat "$TK_TMP/libvirtd.pid") $LV_PIDS"
	virsh -c qemu:///system version >/dev/null 2>&1 || skip "libvirtd does not answer"
fi
"$EXP" clean >/dev/null || true

# --- the run: 2 scenarios per NIC, guests booted once per VM set ---
OUT="$TK_TMP/run"
t0=$(date +%s)
"$EXP" run --backend libvirt -c "$TK_TMP/m.cfg" -o "$OUT" 2>"$TK_TMP/run.log" >/dev/null ||
	{ cat "$TK_TMP/run.log"; ls "$OUT/.work" 2>/dev/null; tail -5 "$OUT"/.work/*.console.log 2>/dev/null; fail "libvirt run failed"; }
note "run took $(( $(date +%s) - t0 )) s"
grep 'booted in' "$TK_TMP/run.log" | sed 's/^/# /'
[ -z "$(leftovers)" ] || fail "leftovers after the run: $(leftovers)"

jq -e '.backend == "libvirt" and .testbed.virt_type == "'"$VT"'"' "$OUT/manifest.json" >/dev/null ||
	fail "manifest: backend or virtualization type"
[ "$VT" = kvm ] || jq -e '.testbed.emulated == true and (.testbed.warning | test("TCG"))' "$OUT/manifest.json" >/dev/null ||
	fail "manifest does not flag emulation"
jq -e '(.testbed.guest_clocksource | length) > 0 and .testbed.hosts[0].pinning.measurement_vcpus_and_emulator != null' \
	"$OUT/manifest.json" >/dev/null || fail "manifest: clocksource or pinning missing"
# Booted once per VM set: 2 measurement VMs, then 2 background VMs, per NIC.
[ "$(jq '.testbed.boots | length' "$OUT/manifest.json")" = 8 ] ||
	fail "expected 8 guest boots, manifest has $(jq '.testbed.boots | length' "$OUT/manifest.json")"
jq -e '[.testbed.boots[] | select(.boot_s > 0 and .mem_total_kib > 0)] | length == 8' "$OUT/manifest.json" >/dev/null ||
	fail "boot records incomplete"

[ "$(ls "$OUT/scenarios" | grep -c -v '\.tmp$')" = 4 ] || fail "expected 4 scenarios: $(ls "$OUT/scenarios")"
for nic in e1000 virtio; do
	for proto in ping icmp twamp; do
		# scenario,reservation,load_type,load_location,bg_vms,nic,freq_hz,proto,point,n,...,loss_pct
		# Emulated e1000 answers in hundreds of ms at times: 15 of 20 is the bar, not 20.
		awk -F, -v nic="$nic" -v p="$proto" '$6 == nic && $8 == p && $9 == "tool" &&
			$10 >= 15 && $17 + 0 <= 25 { ok++ } END { exit ok != 2 }' "$OUT/summary.csv" ||
			{ cat "$OUT/summary.csv"; fail "$proto over $nic: a scenario with < 15 of 20 probes answered"; }
	done
	# Capture at the bridges (the host's clock) ...
	awk -F, -v nic="$nic" '$6 == nic && $8 == "twamp" && $9 == "receiver-bridge" && $10 >= 15 { b = 1 }
		END { exit !b }' "$OUT/summary.csv" || { cat "$OUT/summary.csv"; fail "bridge capture for $nic"; }
done
# ... and inside the guests (theirs; an emulated e1000 guest's tcpdump may miss some, virtio's not).
awk -F, '$6 == "virtio" && $8 == "twamp" && $9 == "sender-vm" && $10 >= 18 { a = 1 }
	$6 == "virtio" && $8 == "twamp" && $9 == "receiver-vm" && $10 >= 18 { b = 1 }
	END { exit !(a && b) }' "$OUT/summary.csv" || { cat "$OUT/summary.csv"; fail "in-guest capture points"; }
sc=$(ls "$OUT/scenarios" | grep 'cpu' | head -1)
ls "$OUT/scenarios/$sc/pcaps/" | grep -q 'sender-vm.pcap' || fail "guest pcap not kept"
[ -s "$OUT/scenarios/$sc/capture-client-taps.json" ] || fail "tap capture missing"

"$EXP" report "$OUT" > "$TK_TMP/report.txt" || fail "report failed"
grep -q 'Table II' "$TK_TMP/report.txt" && grep -q virtio "$TK_TMP/report.txt" &&
	grep -q e1000 "$TK_TMP/report.txt" || fail "report lacks the NIC models"
if command -v gnuplot >/dev/null 2>&1; then
	"$EXP" plot "$OUT" > /dev/null || fail "plot failed"
	ls "$OUT/plots" | grep -q png || fail "no plot drawn"
fi

# --- SIGINT mid-run: everything goes, the run can be resumed ---
OUT2="$TK_TMP/run2"
"$EXP" run --backend libvirt -c "$TK_TMP/m.cfg" -o "$OUT2" 2>"$TK_TMP/run2.log" >/dev/null &
pid=$!
for _ in $(seq 600); do
	grep -q '^\[2/' "$TK_TMP/run2.log" && break
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.2
done
grep -q '^\[2/' "$TK_TMP/run2.log" || { cat "$TK_TMP/run2.log"; fail "second run did not reach scenario 2"; }
sleep 2
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
[ "$rc" = 130 ] || { cat "$TK_TMP/run2.log"; fail "interrupted run exited $rc, not 130"; }
grep -q -- '--resume' "$TK_TMP/run2.log" || fail "no resume hint"
[ -z "$(leftovers)" ] || fail "leftovers after SIGINT: $(leftovers)"
echo "PASS: libvirt backend: 8 boots, e1000 and virtio, ping/icmp/twamp, clean after run and SIGINT"
