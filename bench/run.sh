#!/bin/sh
# make bench: twampkit's benchmarks (issue 8, performance; issue 5, capture
# overhead).  Every figure is measured BENCH_ROUNDS times (default 3) with
# each baseline run right before its candidate in every round (echo, then
# reflector; ping-pong, then twamp-client; no capture, then six captures),
# and reported as the median with its spread (min..max).  Goals are ratios
# or bounds on figures of the same run.  Prints a table and writes
# bench/results.json (schema twampkit.bench/1) in the build directory.
#
# Needs jq; taskset pins the reflector to CPU 1 and the senders to CPU 0
# ("per core" figures).  As root everything runs in network namespaces
# named tkt-bench-* that it creates and removes (a private loopback, and the
# six-capture-point testbed of the capture-overhead benchmark); otherwise
# on the host's loopback, without the capture benchmarks.
#
# Environment: TK_BUILDDIR (default .), BENCH_ROUNDS, BENCH_OUT.
set -eu

: "${TK_BUILDDIR:=.}"
ROUNDS=${BENCH_ROUNDS:-3}
OUT=${BENCH_OUT:-$TK_BUILDDIR/bench/results.json}
SERVER=$TK_BUILDDIR/twamp-server/twamp-server
CLIENT=$TK_BUILDDIR/twamp-client/twamp-client
CAPTURE=$TK_BUILDDIR/experiments/twamp-capture
ECHO=$TK_BUILDDIR/bench/echo_baseline
LOADGEN=$TK_BUILDDIR/bench/loadgen
PINGPONG=$TK_BUILDDIR/bench/pingpong
PROCSTAT=$TK_BUILDDIR/bench/procstat

# Fixed workload (changing these changes what the figures mean).
LG_SECONDS=1          # loadgen measuring time per run
RTT_COUNT=1000        # ping-pong and twamp-client RTT runs, at 1 ms
TS_COUNT=1000         # timestamp-error runs (TWAMP and ICMP each), at 1 ms
SCHED_1K_COUNT=2000   # 2 s at 1 kHz
SCHED_10K_COUNT=10000 # 1 s at 10 kHz
SPIN_1K=100us         # precise timer: spin the last 100 us of each 1 ms gap
SPIN_10K=50us         # and the last 50 us of each 100 us gap
CAP_COUNT=1000        # capture overhead: 1 s at 1 kHz
KEYED_COUNT=20000     # keyed-Light reflection, client-driven
KEYED_INTERVAL=20us
HS_COUNT=100          # control handshakes: sequential sessions per mode
PER_STATE_LIMIT_B=256 # our bound for "bounded per sender state"

die() { echo "bench: $*" >&2; exit 2; }
command -v jq >/dev/null 2>&1 || die "jq is needed (apt-get install jq)"
for b in "$SERVER" "$CLIENT" "$ECHO" "$LOADGEN" "$PINGPONG" "$PROCSTAT"; do
	[ -x "$b" ] || die "$b not built (run make bench)"
done
case $ROUNDS in '' | *[!0-9]*) die "BENCH_ROUNDS must be a number" ;; esac
[ "$ROUNDS" -ge 3 ] || echo "bench: warning: BENCH_ROUNDS=$ROUNDS (< 3 rounds)" >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tkt-bench.XXXXXX")
SAMPLES=$WORK/samples   # "name value" per run
NOTES=$WORK/na          # "name<TAB>why" for figures that cannot be measured
: >"$SAMPLES"
: >"$NOTES"
PIDS=""
NETNS=""
NS_PREFIX=tkt-bench-$$

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	for ns in $NETNS; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- helpers ------------------------------------------------------------------
is_num() { case ${1:-} in '' | null | *[!0-9.eE+-]*) return 1 ;; esac; }
rec() { # NAME VALUE: one sample (ignored unless numeric)
	if is_num "${2:-}"; then echo "$1 $2" >>"$SAMPLES"; fi
}
na() { # NAME WHY...
	n=$1; shift
	grep -q "^$n	" "$NOTES" 2>/dev/null || printf '%s\t%s\n' "$n" "$*" >>"$NOTES"
}
calc() { awk "BEGIN { x = $1; if (x == int(x)) printf \"%d\", x; else printf \"%.6g\", x }"; }
jget() { jq -r "($2) // empty" "$1" 2>/dev/null || true; }
bg() { # CMD...: start in the background, PID in $BGPID
	"$@" &
	BGPID=$!
	PIDS="$PIDS $BGPID"
}
stop() { # PID [SIGNAL]
	kill "-${2:-TERM}" "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
	PIDS=$(echo " $PIDS " | sed "s/ $1 / /")
}
wait_udp() { # PORT: until something listens there (in our namespace), 2 s at most
	i=0
	while [ $i -lt 40 ]; do
		if $IN_LO ss -Hlun "sport = :$1" 2>/dev/null | grep -q .; then return 0; fi
		sleep 0.05
		i=$((i + 1))
	done
	return 0
}

# --- environment --------------------------------------------------------------
NCPU=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
PIN0=""
PIN1=""
if command -v taskset >/dev/null 2>&1 && [ "$NCPU" -ge 2 ]; then
	PIN0="taskset -c 0"
	PIN1="taskset -c 1"
	PP_PIN="-a 0,1"
else
	PP_PIN=""
fi
IN_LO=""
NS_LO=""
ROOT=no
[ "$(id -u)" = 0 ] && ROOT=yes
if [ $ROOT = yes ] && command -v ip >/dev/null 2>&1 && ip netns add "$NS_PREFIX-lo" 2>/dev/null; then
	NS_LO=$NS_PREFIX-lo
	NETNS="$NS_LO"
	ip -n "$NS_LO" link set lo up
	IN_LO="ip netns exec $NS_LO"
	BASE=17000
else
	BASE=$((20000 + $$ % 20000))
fi
P_ECHO=$BASE
P_REFL=$((BASE + 1))
P_REFL2=$((BASE + 2))
P_CTRL=$((BASE + 3))

SERVER_HELP=$("$SERVER" --help 2>&1 || true)
CLIENT_HELP=$("$CLIENT" --help 2>&1 || true)
HAVE_KEYED=no
if echo "$SERVER_HELP" | grep -q -- '--light-security' && echo "$CLIENT_HELP" | grep -q -- '--keyfile'; then
	HAVE_KEYED=yes
fi
HAVE_CONTROL=no
if echo "$SERVER_HELP" | grep -q -- '--control ADDR' && echo "$CLIENT_HELP" | grep -q -- '--control '; then
	HAVE_CONTROL=yes
fi
HAVE_CAPTURE=no
[ -x "$CAPTURE" ] && [ -n "$NS_LO" ] && HAVE_CAPTURE=yes
KEYS=$WORK/keys
# A 64-octet secret (no CR or LF octet): keyed Light takes its AES key, HMAC key and SID from it.
echo "bench 202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f" >"$KEYS"
chmod 600 "$KEYS"

start_server() { # PORT EXTRA-ARGS...: twamp-server on CPU 1, PID in $SRV
	port=$1; shift
	bg $IN_LO $PIN1 "$SERVER" -f --no-control -l "127.0.0.1:$port" "$@" 2>>"$WORK/server.log"
	SRV=$BGPID
	wait_udp "$port"
}

# --- 1. reflector throughput against the bare echo ---------------------------
loadgen() { # TAG PORT PID ARGS...: one closed-loop loadgen run on CPU 0
	tag=$1 port=$2 pid=$3; shift 3
	$IN_LO $PIN0 "$LOADGEN" -d $LG_SECONDS -p "$pid" "$@" "127.0.0.1:$port" >"$WORK/lg.json" || return 0
	rec "${tag}_pps_per_core" "$(jget "$WORK/lg.json" .pps_per_core)"
	rec "${tag}_pps" "$(jget "$WORK/lg.json" .pps)"
	rec "${tag}_lost" "$(jget "$WORK/lg.json" .lost)"
	LAST_PPC=$(jget "$WORK/lg.json" .pps_per_core)
}
ratio() { # NAME NUM DEN
	if is_num "${2:-}" && is_num "${3:-}"; then rec "$1" "$(calc "$2 / $3")"; fi
}
bench_throughput() {
	bg $IN_LO $PIN1 "$ECHO" "127.0.0.1:$P_ECHO" 2>/dev/null
	echo_pid=$BGPID
	start_server "$P_REFL" --max-sessions 16384
	wait_udp "$P_ECHO"
	for case in "64 1" "128 1" "64 100" "64 10000"; do
		set -- $case
		size=$1 n=$2
		suffix=${size}
		[ "$n" = 1 ] || suffix=${size}_n$n
		LAST_PPC=""
		loadgen "echo_$suffix" "$P_ECHO" "$echo_pid" -s "$size" -n "$n"
		e=$LAST_PPC
		LAST_PPC=""
		loadgen "refl_$suffix" "$P_REFL" "$SRV" -s "$size" -n "$n"
		ratio "ratio_refl_vs_echo_$suffix" "$LAST_PPC" "$e"
		if [ "$n" = 1 ] && [ "$size" = 64 ]; then R1=$LAST_PPC; fi
		if [ "$n" != 1 ]; then ratio "ratio_refl_n${n}_vs_n1" "$LAST_PPC" "${R1:-}"; fi
	done
	stop "$echo_pid"
	stop "$SRV"
	na "refl_workers" "twamp-server has no --workers option (one reflector thread)"
	na "refl_busy_poll" "twamp-server has no busy-polling option"
}

# Keyed Light (authenticated, encrypted) needs the Session-Sender's keys, so
# it is driven by twamp-client; open mode is measured the same way alongside.
bench_keyed() {
	if [ $HAVE_KEYED = no ]; then
		for f in keyed_open_pps_per_core keyed_auth_pps_per_core keyed_enc_pps_per_core \
			ratio_keyed_auth_vs_open ratio_keyed_enc_vs_open; do
			na $f "this twamp-server has no keyed TWAMP-Light (--light-security)"
		done
		return 0
	fi
	K_open="" K_auth="" K_enc=""
	for m in open auth enc; do
		if [ $m = open ]; then sargs="" cargs=""; else
			sargs="--light-security $m --light-key bench -k $KEYS"
			cargs="-A $m -u bench -k $KEYS"
		fi
		start_server "$P_REFL2" $sargs
		"$PROCSTAT" cpu "$SRV" >"$WORK/cpu0.json" || true
		$IN_LO $PIN0 "$CLIENT" -q $cargs -c $KEYED_COUNT -i $KEYED_INTERVAL -W 200ms \
			-F json -o "$WORK/keyed.json" "127.0.0.1:$P_REFL2" 2>>"$WORK/client.log" || true
		"$PROCSTAT" cpu "$SRV" >"$WORK/cpu1.json" || true
		stop "$SRV"
		c0=$(jget "$WORK/cpu0.json" .cpu_ns) c1=$(jget "$WORK/cpu1.json" .cpu_ns)
		got=$(jget "$WORK/keyed.json" .summary.twamp.received)
		if is_num "$got" && [ "$got" -gt 0 ] && is_num "$c0" && is_num "$c1" && [ "$c1" -gt "$c0" ]; then
			v=$(calc "$got / (($c1 - $c0) / 1e9)")
			rec "keyed_${m}_pps_per_core" "$v"
			eval "K_$m=\$v"
		else
			na "keyed_${m}_pps_per_core" "twamp-client -A $m got no replies from twamp-server --light-security $m"
		fi
	done
	ratio ratio_keyed_auth_vs_open "$K_auth" "$K_open"
	ratio ratio_keyed_enc_vs_open "$K_enc" "$K_open"
}

# --- 2. RTT against the ping-pong floor ----------------------------------------
bench_rtt() {
	$IN_LO "$PINGPONG" $PP_PIN -c $RTT_COUNT -i 1000 -z 41 >"$WORK/pp.json" || true
	pp=$(jget "$WORK/pp.json" .kernel_rtt_us.p50)
	rec pingpong_block_rtt_p50_us "$pp"
	rec pingpong_block_rtt_p99_us "$(jget "$WORK/pp.json" .kernel_rtt_us.p99)"
	start_server "$P_REFL"
	$IN_LO $PIN0 "$CLIENT" -q -c $RTT_COUNT -i 1ms -F json -o "$WORK/rtt.json" \
		"127.0.0.1:$P_REFL" 2>>"$WORK/client.log" || true
	stop "$SRV"
	# The client's own RTT leaves the reflector's processing out; the
	# ping-pong's includes its echo, so compare T4 - T1 (rtt + proc).
	jq -r '.probes[] | select(.proto == "twamp" and .rtt_ns != null) | .rtt_ns + .proc_ns' \
		"$WORK/rtt.json" 2>/dev/null | sort -n >"$WORK/rtt.txt" || true
	t=$(pctl 0.50 <"$WORK/rtt.txt")
	rec twamp_rtt_total_p50_us "$t"
	rec twamp_rtt_total_p99_us "$(pctl 0.99 <"$WORK/rtt.txt")"
	rec twamp_rtt_net_p50_us "$(calc "$(jget "$WORK/rtt.json" .summary.twamp.rtt_ms.median) * 1000")"
	rec twamp_proc_p50_us "$(calc "$(jget "$WORK/rtt.json" .summary.twamp.proc_ms.median) * 1000")"
	ratio ratio_rtt_p50_vs_pingpong_block "$t" "$pp"
	$IN_LO "$PINGPONG" $PP_PIN -s -c $RTT_COUNT -i 1000 -z 41 >"$WORK/pps.json" || true
	rec pingpong_spin_rtt_p50_us "$(jget "$WORK/pps.json" .kernel_rtt_us.p50)"
	rec pingpong_spin_rtt_p99_us "$(jget "$WORK/pps.json" .kernel_rtt_us.p99)"
	na twamp_rtt_spin_p50_us "twamp-server and twamp-client have no busy-polling (spin) receive mode"
	na ratio_rtt_p50_vs_pingpong_spin "twamp-server and twamp-client have no busy-polling (spin) receive mode"
}
# Percentile (linear between ranks) of sorted ns values on stdin, in us.
pctl() {
	awk -v p="$1" '{ v[n++] = $1 } END {
		if (!n) exit; r = p * (n - 1); lo = int(r); f = r - lo
		x = (lo + 1 < n) ? v[lo] * (1 - f) + v[lo + 1] * f : v[lo]
		printf "%.3f", x / 1000 }'
}

# --- 3. timestamp error against a capture on the same interface ---------------
bench_tstamp() {
	if [ $HAVE_CAPTURE = no ]; then
		for m in kernel user; do for p in twamp icmp; do
			na "tserr_${p}_${m}_p50_us" "needs root (network namespace, live capture) and twamp-capture (libpcap)"
			na "tserr_${p}_${m}_p99_us" "needs root (network namespace, live capture) and twamp-capture (libpcap)"
		done; done
		return 0
	fi
	start_server "$P_REFL"
	for m in kernel user; do
		bg "$CAPTURE" -i "lo=lo@$NS_LO" --twamp-port "$P_REFL" -F json -o "$WORK/cap.json" 2>>"$WORK/capture.log"
		cap=$BGPID
		sleep 0.5
		$IN_LO $PIN0 "$CLIENT" -q -P twamp,icmp --tstamp $m -c $TS_COUNT -i 1ms -F json \
			-o "$WORK/ts.json" "127.0.0.1:$P_REFL" 2>>"$WORK/client.log" || true
		sleep 0.2
		stop "$cap" INT
		for p in twamp icmp; do
			tserr "$p" "$WORK/ts.json" "$WORK/cap.json" >"$WORK/err.txt" || true
			rec "tserr_${p}_${m}_p50_us" "$(pctl 0.50 <"$WORK/err.txt")"
			rec "tserr_${p}_${m}_p99_us" "$(pctl 0.99 <"$WORK/err.txt")"
		done
	done
	stop "$SRV"
}
# |client RTT - capture RTT| in ns per probe, sorted.  The client's RTT is
# T4 - T1 (TWAMP: rtt + proc, both exact integers); the capture's is reply
# minus request on lo.  Only the busiest flow of the protocol counts.
tserr() { # PROTO CLIENT-JSON CAPTURE-JSON
	jq -r --arg p "$1" --slurpfile cap "$3" '
		($cap[0].probes | map(select(.proto == $p and .rtt_ns.lo != null))
		 | group_by(.flow) | max_by(length) // []
		 | map({key: (.seq | tostring), value: .rtt_ns.lo}) | from_entries) as $wire
		| .probes[] | select(.proto == $p and .rtt_ns != null)
		| (.rtt_ns + (.proc_ns // 0)) as $c | $wire[.seq | tostring] as $w
		| select($w != null) | ($c - $w) | if . < 0 then -. else . end' "$2" | sort -n
}

# --- 4. sender schedule ----------------------------------------------------------
bench_sched() {
	start_server "$P_REFL"
	for case in "1k $SCHED_1K_COUNT 1ms 1000000 -" "1k $SCHED_1K_COUNT 1ms 1000000 $SPIN_1K" \
		"10k $SCHED_10K_COUNT 100us 100000 -" "10k $SCHED_10K_COUNT 100us 100000 $SPIN_10K"; do
		set -- $case
		rate=$1 count=$2 iv=$3 iv_ns=$4 spin=$5
		if [ "$spin" = - ]; then tag=sched_$rate spinarg=""; else tag=sched_${rate}_spin spinarg="--spin $spin"; fi
		$IN_LO $PIN0 "$PROCSTAT" run "$WORK/ps.json" "$CLIENT" -q -c "$count" -i "$iv" $spinarg \
			-W 200ms -F json -o "$WORK/sched.json" "127.0.0.1:$P_REFL" 2>>"$WORK/client.log" || true
		rec "${tag}_lateness_p50_us" "$(jget "$WORK/sched.json" .summary.schedule.lateness_us.median)"
		rec "${tag}_lateness_p99_us" "$(jget "$WORK/sched.json" .summary.schedule.lateness_us.p99)"
		rec "${tag}_skipped" "$(jget "$WORK/sched.json" .summary.schedule.skipped)"
		# Share of probes sent within one period of their deadline: each
		# probe's lateness from its user-space send time, anchored on the
		# least late one (whose lateness the summary's minimum gives).
		rec "${tag}_within_period_pct" "$(jq -r --argjson T "$iv_ns" '
			(.summary.schedule.lateness_us.min * 1000) as $m
			| [.probes[] | select(.proto == "twamp")] as $all
			| [$all[] | select(.t1_wire_ns != null) | .t1_wire_ns - .seq * $T] as $d
			| if ($d | length) == 0 then empty else ($d | min) as $d0
			| 100 * ([$d[] | select(. - $d0 + $m <= $T)] | length) / ($all | length) end' \
			"$WORK/sched.json" 2>/dev/null || true)"
		cpu=$(jq -r '.user_s + .sys_s' "$WORK/ps.json" 2>/dev/null || true)
		if is_num "$cpu"; then rec "${tag}_cpu_pct" "$(calc "100 * $cpu / ($count * $iv_ns / 1e9)")"; fi
	done
	stop "$SRV"
}

# --- 5. resident memory ---------------------------------------------------------
bench_rss() {
	bg $IN_LO $PIN1 "$ECHO" "127.0.0.1:$P_ECHO" 2>/dev/null
	e=$BGPID
	start_server "$P_REFL"
	sleep 0.2
	"$PROCSTAT" mem "$e" >"$WORK/m.json" && rec echo_rss_idle_kib "$(jget "$WORK/m.json" .vmrss_kib)"
	"$PROCSTAT" mem "$SRV" >"$WORK/m.json" || true
	rd=$(jget "$WORK/m.json" .vmrss_kib)
	rec rss_idle_kib "$rd"
	rec rss_idle_anon_kib "$(jget "$WORK/m.json" .rss_anon_kib)"
	# Default --max-sessions (4096): 10,000 senders must not grow it past the bound.
	$IN_LO $PIN0 "$LOADGEN" -n 10000 -W 0.3 -d 0.2 "127.0.0.1:$P_REFL" >/dev/null || true
	"$PROCSTAT" mem "$SRV" >"$WORK/m.json" && rec rss_10k_senders_default_kib "$(jget "$WORK/m.json" .vmrss_kib)"
	stop "$e"
	stop "$SRV"
	start_server "$P_REFL" --max-sessions 16384
	sleep 0.2
	"$PROCSTAT" mem "$SRV" >"$WORK/m0.json" || true
	$IN_LO $PIN0 "$LOADGEN" -n 10000 -W 0.3 -d 0.2 "127.0.0.1:$P_REFL" >/dev/null || true
	"$PROCSTAT" mem "$SRV" >"$WORK/m1.json" || true
	stop "$SRV"
	r0=$(jget "$WORK/m0.json" .vmrss_kib) r1=$(jget "$WORK/m1.json" .vmrss_kib)
	rec rss_idle_16k_kib "$r0"
	rec rss_10k_senders_kib "$r1"
	# The session table is allocated for --max-sessions up front: a sender
	# state costs its preallocated slot plus what an active one adds.
	if is_num "$r0" && is_num "$r1" && is_num "$rd"; then
		slot=$(calc "($r0 - $rd) * 1024 / (16384 - 4096)")
		act=$(calc "($r1 - $r0) * 1024 / 10000")
		rec rss_per_slot_b "$slot"
		rec rss_per_active_b "$act"
		rec rss_per_sender_b "$(calc "$slot + $act")"
	fi
}

# --- 6. capture overhead (issue 5): six live captures at 1 kHz ----------------------
# Four namespaces: the measurement "VMs" (vs, vr) hang off a bridge in each
# "host" (hs, hr), the hosts joined by a veth link.  The six points are the
# VM interface, the bridge and the host link on each side (the paper's Fig. 3).
CAP_READY=no
setup_testbed() {
	[ $HAVE_CAPTURE = yes ] || return 0
	vs=$NS_PREFIX-vs hs=$NS_PREFIX-hs hr=$NS_PREFIX-hr vr=$NS_PREFIX-vr
	for ns in $vs $hs $hr $vr; do
		ip netns add "$ns" || return 0
		NETNS="$NETNS $ns"
		ip -n "$ns" link set lo up
	done
	{
		for h in $hs $hr; do
			ip -n "$h" link add br0 type bridge &&
				ip -n "$h" link set br0 up
		done &&
			ip -n "$vs" link add eth0 type veth peer name vm0 netns "$hs" &&
			ip -n "$vr" link add eth0 type veth peer name vm0 netns "$hr" &&
			ip -n "$hs" link add lnk type veth peer name lnk netns "$hr" &&
			for h in $hs $hr; do
				ip -n "$h" link set vm0 master br0 up && ip -n "$h" link set lnk master br0 up
			done &&
			ip -n "$vs" addr add 198.18.200.1/24 dev eth0 && ip -n "$vs" link set eth0 up &&
			ip -n "$vr" addr add 198.18.200.2/24 dev eth0 && ip -n "$vr" link set eth0 up
	} 2>>"$WORK/netns.log" || { echo "bench: netns testbed: $(cat "$WORK/netns.log")" >&2; return 0; }
	# The first datagrams wait for neighbour resolution and the bridges.
	for i in 1 2 3 4 5; do
		if ip netns exec "$vs" ping -c 1 -W 1 198.18.200.2 >/dev/null 2>&1; then
			CAP_READY=yes
			return 0
		fi
	done
	echo "bench: netns testbed: 198.18.200.2 does not answer ping" >&2
}
bench_capture() {
	if [ $CAP_READY = no ]; then
		for f in cap_rtt_p50_us_none cap_rtt_p50_us_six ratio_cap_rtt_p50_six_vs_none \
			cap_rtt_p99_us_none cap_rtt_p99_us_six ratio_cap_rtt_p99_six_vs_none cap_points_complete; do
			na "$f" "needs root, network namespaces and twamp-capture (libpcap)"
		done
		return 0
	fi
	bg ip netns exec "$vr" $PIN1 "$SERVER" -f --no-control -l 198.18.200.2:862 2>>"$WORK/server.log"
	srv=$BGPID
	sleep 0.3
	for with in none six; do
		if [ $with = six ]; then
			bg "$CAPTURE" -i "vs-eth0=eth0@$vs" -i "hs-br=br0@$hs" -i "hs-lnk=lnk@$hs" \
				-i "hr-lnk=lnk@$hr" -i "hr-br=br0@$hr" -i "vr-eth0=eth0@$vr" \
				-F json -o "$WORK/cap6.json" 2>>"$WORK/capture.log"
			cap=$BGPID
			sleep 0.5
		fi
		ip netns exec "$vs" $PIN0 "$CLIENT" -q -c $CAP_COUNT -i 1ms -F json -o "$WORK/capc.json" \
			198.18.200.2 2>>"$WORK/client.log" || true
		if [ $with = six ]; then
			sleep 0.2
			stop "$cap" INT
			rec cap_points_complete "$(jq -r '[.points[] | select(.twamp.matched >= 1)] | length' \
				"$WORK/cap6.json" 2>/dev/null || true)"
		fi
		jq -r '.probes[] | select(.rtt_ns != null) | .rtt_ns + .proc_ns' "$WORK/capc.json" 2>/dev/null |
			sort -n >"$WORK/capc.txt" || true
		p50=$(pctl 0.50 <"$WORK/capc.txt") p99=$(pctl 0.99 <"$WORK/capc.txt")
		rec "cap_rtt_p50_us_$with" "$p50"
		rec "cap_rtt_p99_us_$with" "$p99"
		eval "C50_$with=\$p50 C99_$with=\$p99"
	done
	stop "$srv"
	ratio ratio_cap_rtt_p50_six_vs_none "$C50_six" "$C50_none"
	ratio ratio_cap_rtt_p99_six_vs_none "$C99_six" "$C99_none"
}

# --- 7. control handshakes ---------------------------------------------------------
# Sequential sessions of one probe each, one twamp-client process per
# session (open and authenticated, PBKDF2 Count 1024), after the same loop
# in TWAMP-Light mode as the baseline.  The handshake time is the client's
# own (config.control_handshake_us); the server's capacity is sessions per
# second of its CPU time.  A fixed number of sessions, so the shell's own
# time stays out of the loop.
sessions_for() { # TAG CMD...: HS_COUNT sequential runs of CMD; sets $RATE, $NSESS
	stag=$1; shift
	rm -f "$WORK"/hs.*.json
	t0=$(date +%s.%N)
	# One shell inside the namespace runs the loop: ip netns exec per
	# session would cost more than the session.
	# Five failures in a row end it (a server that does not answer).
	$IN_LO sh -c 'n=$1 dir=$2; shift 2; i=0 f=0
		while [ $i -lt $n ] && [ $f -lt 5 ]; do
			if "$@" -F json -o "$dir/hs.$i.json" >/dev/null 2>&1; then f=0; else f=$((f + 1)); fi
			i=$((i + 1))
		done' sh "$HS_COUNT" "$WORK" "$@" || true
	t1=$(date +%s.%N)
	NSESS=$(cat "$WORK"/hs.*.json 2>/dev/null | jq -s '[.[] | select(.summary.twamp.received == 1)] | length' || echo 0)
	RATE=$(calc "$NSESS / ($t1 - $t0)")
	rec "${stag}_handshake_p50_us" "$(cat "$WORK"/hs.*.json 2>/dev/null |
		jq -s '[.[] | .config.control_handshake_us // empty] | sort | if length > 0 then .[(length - 1) / 2 | floor] else empty end' || true)"
}
bench_control() {
	if [ $HAVE_CONTROL = no ]; then
		for f in light_sessions_per_s control_open_sessions_per_s control_open_handshake_p50_us \
			control_open_handshakes_per_core_s control_auth_sessions_per_s \
			control_auth_handshake_p50_us control_auth_handshakes_per_core_s; do
			na $f "this twamp-server has no TWAMP-Control listener (--control)"
		done
		return 0
	fi
	bg $IN_LO $PIN1 "$SERVER" -f -l "127.0.0.1:$P_REFL" --control "127.0.0.1:$P_CTRL" \
		--modes open,auth,enc -k "$KEYS" --count 1024 2>>"$WORK/server.log"
	srv=$BGPID
	wait_udp "$P_REFL"
	sleep 0.2
	sessions_for light $PIN0 "$CLIENT" -q -c 1 -W 200ms "127.0.0.1:$P_REFL"
	rec light_sessions_per_s "$RATE"
	for m in open auth; do
		"$PROCSTAT" cpu "$srv" >"$WORK/c0.json" || true
		if [ $m = open ]; then kargs=""; else kargs="-u bench -k $KEYS"; fi
		sessions_for "control_$m" $PIN0 "$CLIENT" -q --control -A $m $kargs \
			--control-timeout 2s -c 1 -W 200ms "127.0.0.1:$P_CTRL"
		"$PROCSTAT" cpu "$srv" >"$WORK/c1.json" || true
		c0=$(jget "$WORK/c0.json" .cpu_ns) c1=$(jget "$WORK/c1.json" .cpu_ns)
		if [ "$NSESS" -gt 0 ]; then
			rec "control_${m}_sessions_per_s" "$RATE"
			if is_num "$c0" && is_num "$c1" && [ "$c1" -gt "$c0" ]; then
				rec "control_${m}_handshakes_per_core_s" "$(calc "$NSESS / (($c1 - $c0) / 1e9)")"
			fi
		else
			na "control_${m}_sessions_per_s" "twamp-client --control -A $m completed no session (see its log)"
		fi
	done
	stop "$srv"
}

# --- run ------------------------------------------------------------------------
setup_testbed
t_start=$(date +%s)
r=1
while [ $r -le "$ROUNDS" ]; do
	echo "bench: round $r of $ROUNDS" >&2
	bench_throughput
	bench_keyed
	bench_rtt
	bench_tstamp
	bench_sched
	bench_rss
	bench_capture
	bench_control
	r=$((r + 1))
done
t_end=$(date +%s)

# --- report -------------------------------------------------------------------------
# Figures in table order: name|label|unit
cat >"$WORK/spec" <<'EOF'
#Reflector throughput (closed loop, no loss; per core = replies / reflector CPU time)
echo_64_pps_per_core|bare echo, 64 octets|pkt/s/core
refl_64_pps_per_core|twamp-server, 64 octets|pkt/s/core
ratio_refl_vs_echo_64|  reflector / echo|ratio
echo_128_pps_per_core|bare echo, 128 octets|pkt/s/core
refl_128_pps_per_core|twamp-server, 128 octets|pkt/s/core
ratio_refl_vs_echo_128|  reflector / echo|ratio
echo_64_pps|bare echo achieved rate (generator-bound)|pkt/s
refl_64_pps|twamp-server achieved rate (generator-bound)|pkt/s
refl_64_lost|twamp-server lost datagrams|pkt
refl_64_n100_pps_per_core|twamp-server, 100 senders|pkt/s/core
refl_64_n10000_pps_per_core|twamp-server, 10,000 senders|pkt/s/core
ratio_refl_n100_vs_n1|  100 senders / 1 sender|ratio
ratio_refl_n10000_vs_n1|  10,000 senders / 1 sender|ratio
echo_64_n10000_pps_per_core|bare echo, 10,000 senders|pkt/s/core
ratio_refl_vs_echo_64_n10000|  reflector / echo, 10,000 senders|ratio
refl_workers|twamp-server with workers|pkt/s/core
refl_busy_poll|twamp-server with busy polling|pkt/s/core
keyed_open_pps_per_core|twamp-client-driven (50k pkt/s), unauthenticated|pkt/s/core
keyed_auth_pps_per_core|twamp-client-driven (50k pkt/s), authenticated|pkt/s/core
keyed_enc_pps_per_core|twamp-client-driven (50k pkt/s), encrypted|pkt/s/core
ratio_keyed_auth_vs_open|  authenticated / unauthenticated|ratio
ratio_keyed_enc_vs_open|  encrypted / unauthenticated|ratio
#Round-trip time at 1 ms, kernel timestamps (T4 - T1, reflector included)
pingpong_block_rtt_p50_us|ping-pong floor, blocking, p50|us
pingpong_block_rtt_p99_us|ping-pong floor, blocking, p99|us
twamp_rtt_total_p50_us|twamp-client/server, blocking, p50|us
twamp_rtt_total_p99_us|twamp-client/server, blocking, p99|us
ratio_rtt_p50_vs_pingpong_block|  TWAMP / ping-pong, blocking|ratio
twamp_rtt_net_p50_us|twamp-client RTT without reflector time, p50|us
twamp_proc_p50_us|twamp-server processing (T3 - T2), p50|us
pingpong_spin_rtt_p50_us|ping-pong floor, spinning, p50|us
pingpong_spin_rtt_p99_us|ping-pong floor, spinning, p99|us
twamp_rtt_spin_p50_us|twamp-client/server, spinning, p50|us
ratio_rtt_p50_vs_pingpong_spin|  TWAMP / ping-pong, spinning|ratio
#Timestamp error: client RTT minus the RTT captured on lo, absolute (1000 probes at 1 ms)
tserr_twamp_kernel_p50_us|TWAMP, kernel timestamps, p50|us
tserr_twamp_kernel_p99_us|TWAMP, kernel timestamps, p99|us
tserr_icmp_kernel_p50_us|ICMP, kernel timestamps, p50|us
tserr_icmp_kernel_p99_us|ICMP, kernel timestamps, p99|us
tserr_twamp_user_p50_us|TWAMP, user timestamps, p50|us
tserr_twamp_user_p99_us|TWAMP, user timestamps, p99|us
tserr_icmp_user_p50_us|ICMP, user timestamps, p50|us
tserr_icmp_user_p99_us|ICMP, user timestamps, p99|us
#Sender schedule (twamp-client; precise timer = --spin)
sched_1k_lateness_p50_us|1 kHz, lateness p50|us
sched_1k_lateness_p99_us|1 kHz, lateness p99|us
sched_1k_within_period_pct|1 kHz, sent within one period|%
sched_1k_skipped|1 kHz, skipped probes|probes
sched_1k_cpu_pct|1 kHz, client CPU|%
sched_1k_spin_lateness_p50_us|1 kHz precise timer, lateness p50|us
sched_1k_spin_lateness_p99_us|1 kHz precise timer, lateness p99|us
sched_1k_spin_within_period_pct|1 kHz precise timer, within one period|%
sched_1k_spin_skipped|1 kHz precise timer, skipped probes|probes
sched_1k_spin_cpu_pct|1 kHz precise timer, client CPU|%
sched_10k_lateness_p50_us|10 kHz, lateness p50|us
sched_10k_lateness_p99_us|10 kHz, lateness p99|us
sched_10k_within_period_pct|10 kHz, sent within one period|%
sched_10k_skipped|10 kHz, skipped probes|probes
sched_10k_cpu_pct|10 kHz, client CPU|%
sched_10k_spin_lateness_p50_us|10 kHz precise timer, lateness p50|us
sched_10k_spin_lateness_p99_us|10 kHz precise timer, lateness p99|us
sched_10k_spin_within_period_pct|10 kHz precise timer, within one period|%
sched_10k_spin_skipped|10 kHz precise timer, skipped probes|probes
sched_10k_spin_cpu_pct|10 kHz precise timer, client CPU|%
#Resident memory
echo_rss_idle_kib|bare echo, idle|KiB
rss_idle_kib|twamp-server, idle (defaults)|KiB
rss_idle_anon_kib|twamp-server, idle, anonymous part|KiB
rss_10k_senders_default_kib|twamp-server, 10,000 senders, defaults (4096 states)|KiB
rss_idle_16k_kib|twamp-server, idle, --max-sessions 16384|KiB
rss_10k_senders_kib|twamp-server, 10,000 sender states (16384 max)|KiB
rss_per_slot_b|  per --max-sessions slot (preallocated)|B
rss_per_active_b|  per active sender on top of its slot|B
rss_per_sender_b|  per sender state (slot + active)|B
#Capture overhead (issue 5): RTT at 1 kHz, netns testbed, six live captures
cap_rtt_p50_us_none|no capture, p50|us
cap_rtt_p50_us_six|six captures, p50|us
ratio_cap_rtt_p50_six_vs_none|  six / none, p50|ratio
cap_rtt_p99_us_none|no capture, p99|us
cap_rtt_p99_us_six|six captures, p99|us
ratio_cap_rtt_p99_six_vs_none|  six / none, p99|ratio
cap_points_complete|capture points that matched probes|points
#TWAMP-Control (sequential sessions of 1 probe, one client process each; Count 1024)
light_sessions_per_s|TWAMP-Light sessions (baseline)|1/s
control_open_sessions_per_s|control sessions, open mode|1/s
control_open_handshake_p50_us|  handshake (client-measured), p50|us
control_open_handshakes_per_core_s|  sessions per second of server CPU|1/core-s
control_auth_sessions_per_s|control sessions, authenticated mode|1/s
control_auth_handshake_p50_us|  handshake (client-measured), p50|us
control_auth_handshakes_per_core_s|  sessions per second of server CPU|1/core-s
EOF

# Aggregate: median, min, max and the runs of every figure.
jq -R -s '
	[split("\n")[] | select(length > 0) | split(" ") | {k: .[0], v: (.[1] | tonumber)}]
	| group_by(.k) | map({key: .[0].k, value: ([.[].v] as $v | ($v | sort) as $s | ($s | length) as $n
		| {median: (if $n % 2 == 1 then $s[($n - 1) / 2] else ($s[$n / 2 - 1] + $s[$n / 2]) / 2 end),
		   min: $s[0], max: $s[-1], runs: $v})}) | from_entries' "$SAMPLES" >"$WORK/agg.json"
jq -R -s '[split("\n")[] | select(length > 0) | split("\t") | {key: .[0], value: .[1]}] | from_entries' \
	"$NOTES" >"$WORK/na.json"
grep -v '^#' "$WORK/spec" | jq -R -s '[split("\n")[] | select(length > 0) | split("|")
	| {key: .[0], value: {label: .[1], unit: .[2]}}] | from_entries' >"$WORK/spec.json"

# Goals: key|figure|op|limit|what
cat >"$WORK/goals" <<EOF
reflector_pps_vs_echo|ratio_refl_vs_echo_64|>=|0.8|reflector >= 0.8x the bare echo per core (64 octets)
reflector_pps_vs_echo_128|ratio_refl_vs_echo_128|>=|0.8|reflector >= 0.8x the bare echo per core (128 octets)
rtt_p50_vs_pingpong|ratio_rtt_p50_vs_pingpong_block|<=|1.1|TWAMP RTT p50 <= 1.1x the ping-pong floor (blocking)
rtt_p50_vs_pingpong_spin|ratio_rtt_p50_vs_pingpong_spin|<=|1.1|TWAMP RTT p50 <= 1.1x the ping-pong floor (spinning)
tstamp_err_p50_us|tserr_twamp_kernel_p50_us|<=|5|TWAMP timestamp error p50 <= 5 us (kernel)
tstamp_err_p99_us|tserr_twamp_kernel_p99_us|<=|15|TWAMP timestamp error p99 <= 15 us (kernel)
tstamp_err_icmp_p50_us|tserr_icmp_kernel_p50_us|<=|5|ICMP timestamp error p50 <= 5 us (kernel)
tstamp_err_icmp_p99_us|tserr_icmp_kernel_p99_us|<=|15|ICMP timestamp error p99 <= 15 us (kernel)
sched_1k_skipped|sched_1k_skipped|<=|0|no skipped probes at 1 kHz
sched_10k_skipped|sched_10k_skipped|<=|0|no skipped probes at 10 kHz
sched_1k_spin_skipped|sched_1k_spin_skipped|<=|0|no skipped probes at 1 kHz (precise timer)
sched_10k_spin_skipped|sched_10k_spin_skipped|<=|0|no skipped probes at 10 kHz (precise timer)
sched_1k_lateness_p50_us|sched_1k_spin_lateness_p50_us|<=|5|lateness p50 <= 5 us at 1 kHz (precise timer)
sched_10k_lateness_p50_us|sched_10k_spin_lateness_p50_us|<=|5|lateness p50 <= 5 us at 10 kHz (precise timer)
rss_idle_kib|rss_idle_kib|<=|2048|reflector RSS <= 2 MiB idle
rss_per_sender_b|rss_per_sender_b|<=|$PER_STATE_LIMIT_B|reflector RSS per sender state <= $PER_STATE_LIMIT_B B (bound chosen by make bench)
EOF
jq -R -s --slurpfile agg "$WORK/agg.json" --slurpfile na "$WORK/na.json" '
	[split("\n")[] | select(length > 0) | split("|")
	 | . as [$key, $fig, $op, $lim, $what] | ($lim | tonumber) as $l | $agg[0][$fig] as $f
	 | {key: $key, value: (
		if $f == null then {figure: $fig, goal: $what, op: $op, limit: $l, value: null,
			pass: null, reason: ($na[0][$fig] // "not measured")}
		else ($f.median) as $v | (if $op == ">=" then $v >= $l else $v <= $l end) as $ok
			| {figure: $fig, goal: $what, op: $op, limit: $l, value: $v, min: $f.min, max: $f.max,
			   pass: $ok, miss_by: (if $ok then 0 elif $op == ">=" then $l - $v else $v - $l end
				| . * 1e6 | round / 1e6),
			   miss_by_pct: (if $ok or $l == 0 then null
				elif $op == ">=" then 100 * ($l - $v) / $l else 100 * ($v - $l) / $l end
				| if . == null then null else . * 100 | round / 100 end)}
		end)}] | from_entries' "$WORK/goals" >"$WORK/goals.json"

host_json=$(jq -n --arg hostname "$(uname -n)" --arg kernel "$(uname -sr)" --arg machine "$(uname -m)" \
	--arg cpu "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null)" \
	--argjson ncpu "$NCPU" \
	--arg clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)" \
	--arg version "$("$SERVER" -V 2>/dev/null | head -n 1)" \
	--argjson rounds "$ROUNDS" --argjson seconds "$((t_end - t_start))" \
	--arg pinning "$([ -n "$PIN0" ] && echo 'senders on CPU 0, reflector on CPU 1' || echo none)" \
	--arg netns "$([ -n "$NS_LO" ] && echo "private loopback ($NS_PREFIX-lo)" || echo 'host loopback')" \
	--arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	'{hostname: $hostname, kernel: $kernel, machine: $machine, cpu: $cpu, ncpu: $ncpu,
	  clocksource: $clocksource, tool_version: $version, date: $date, rounds: $rounds,
	  seconds: $seconds, pinning: $pinning, network: $netns}')
# The ratios object: the issue's keys, each the median (and spread) of a figure of this run.
mkdir -p "$(dirname "$OUT")"
jq -n --argjson host "$host_json" --slurpfile agg "$WORK/agg.json" --slurpfile na "$WORK/na.json" \
	--slurpfile spec "$WORK/spec.json" --slurpfile goals "$WORK/goals.json" '
	($spec[0] | keys_unsorted) as $names
	| {schema: "twampkit.bench/1", host: $host,
	   figures: ([$names[] as $n | {key: $n, value: (
		if $agg[0][$n] then $agg[0][$n] + {unit: $spec[0][$n].unit, label: $spec[0][$n].label}
		else {median: null, unit: $spec[0][$n].unit, label: $spec[0][$n].label,
		      reason: ($na[0][$n] // "not measured")} end)}] | from_entries),
	   ratios: ({reflector_pps_vs_echo: "ratio_refl_vs_echo_64",
		     reflector_pps_vs_echo_128: "ratio_refl_vs_echo_128",
		     reflector_pps_10k_vs_1_sender: "ratio_refl_n10000_vs_n1",
		     rtt_p50_vs_pingpong: "ratio_rtt_p50_vs_pingpong_block",
		     rtt_p50_vs_pingpong_spin: "ratio_rtt_p50_vs_pingpong_spin",
		     tstamp_err_p50_us: "tserr_twamp_kernel_p50_us",
		     tstamp_err_p99_us: "tserr_twamp_kernel_p99_us",
		     sched_1k_lateness_p50_us: "sched_1k_spin_lateness_p50_us",
		     sched_1k_skipped: "sched_1k_skipped",
		     sched_10k_skipped: "sched_10k_skipped",
		     rss_idle_kib: "rss_idle_kib",
		     rss_per_sender_b: "rss_per_sender_b",
		     capture_rtt_p50_six_vs_none: "ratio_cap_rtt_p50_six_vs_none"}
		| with_entries(.value as $f | .value = (if $agg[0][$f] then
			{value: $agg[0][$f].median, min: $agg[0][$f].min, max: $agg[0][$f].max, figure: $f}
			else {value: null, figure: $f, reason: ($na[0][$f] // "not measured")} end))),
	   goals: $goals[0]}' >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"

# The table.
fmt() { awk -v x="$1" 'BEGIN { if (x == "") print "-"; else if (x >= 1000 || x <= -1000) printf "%.0f", x;
	else if (x == int(x)) printf "%d", x; else printf "%.3g", x }'; }
printf '\ntwampkit benchmarks: %s rounds, %s s, %s, %s CPUs (%s)\n' "$ROUNDS" "$((t_end - t_start))" \
	"$(uname -sr)" "$NCPU" "$(jq -r .host.pinning "$OUT")"
printf 'median of %s interleaved runs [min..max]\n' "$ROUNDS"
while IFS='|' read -r name label unit; do
	case $name in
	'#'*) printf '\n%s\n' "${name#\#}"; continue ;;
	esac
	line=$(jq -r --arg n "$name" '.figures[$n] | if .median == null then "n/a\t" + (.reason // "")
		else "\(.median)\t\(.min)\t\(.max)" end' "$OUT")
	case $line in
	n/a*) printf '  %-52s n/a: %s\n' "$label" "${line#n/a	}" ;;
	*)
		med=$(echo "$line" | cut -f1) lo=$(echo "$line" | cut -f2) hi=$(echo "$line" | cut -f3)
		printf '  %-52s %10s %-10s [%s..%s]\n' "$label" "$(fmt "$med")" "$unit" "$(fmt "$lo")" "$(fmt "$hi")"
		;;
	esac
done <"$WORK/spec"

printf '\nGoals (medians of this run)\n'
jq -r '.goals | to_entries[] | .value as $g
	| if $g.value == null then "  n/a   \($g.goal): \($g.reason)"
	  elif $g.pass then "  PASS  \($g.goal): \($g.value)"
	  else "  MISS  \($g.goal): \($g.value), misses by \($g.miss_by * 1000 | round / 1000)"
	       + (if $g.miss_by_pct then " (\($g.miss_by_pct | round)%)" else "" end) end' "$OUT"
printf '\nwrote %s\n' "$OUT"
