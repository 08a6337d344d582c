#!/bin/sh
# The study's six capture points, built from network namespaces: a sender
# "VM" (vs) on the bridge of the sender "host" (hs), a receiver VM (vr) on
# the bridge of the receiver host (hr), the hosts joined by a veth pair
# (the "host NIC", one end a port of each bridge).  twamp-capture listens
# at all six points at once while twamp-client and ping probe from vs to
# the reflector in vr.  Checks: every probe is seen and matched at every
# point; RTT shrinks monotonically from the sender VM towards the receiver
# VM (each point sees a sub-path of the previous one); the client's
# T4-T1 (rtt + proc) agrees with the wire RTT at the sender VM; reading
# back the -w pcaps gives the same numbers.
. "$(dirname "$0")/lib.sh"
need_root
need_tool ip ping
CAPTURE="$TK_BUILDDIR/experiments/twamp-capture"
[ -x "$CAPTURE" ] || skip "twamp-capture not built (needs libpcap)"

P=tkt-c$$
I=tc$$  # interface names: at most 15 characters
HS=${P}hs HR=${P}hr VS=${P}vs VR=${P}vr  # namespaces; "tkt-": tests never share the harness's "tk-" names
for ns in $HS $HR $VS $VR; do
	ip netns add "$ns"
	TK_NETNS="$TK_NETNS $ns"
	ip -n "$ns" link set lo up
done
# no IPv6 autoconfiguration chatter on the hosts: they have no addresses
for ns in $HS $HR; do
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip -n $HS link add ${I}bs type bridge stp_state 0 forward_delay 0
ip -n $HR link add ${I}br type bridge stp_state 0 forward_delay 0
ip link add ${I}v0 netns $VS type veth peer name ${I}ps netns $HS   # sender VM NIC
ip link add ${I}v1 netns $VR type veth peer name ${I}pr netns $HR   # receiver VM NIC
ip link add ${I}ls netns $HS type veth peer name ${I}lr netns $HR   # host link
ip -n $HS link set ${I}ps master ${I}bs
ip -n $HS link set ${I}ls master ${I}bs
ip -n $HR link set ${I}pr master ${I}br
ip -n $HR link set ${I}lr master ${I}br
for l in ${I}bs ${I}ps ${I}ls; do ip -n $HS link set "$l" up; done
for l in ${I}br ${I}pr ${I}lr; do ip -n $HR link set "$l" up; done
ip -n $VS addr add 198.18.10.1/24 dev ${I}v0
ip -n $VS addr add fd00:1810::1/64 dev ${I}v0 nodad
ip -n $VR addr add 198.18.10.2/24 dev ${I}v1
ip -n $VR addr add fd00:1810::2/64 dev ${I}v1 nodad
ip -n $VS link set ${I}v0 up
ip -n $VR link set ${I}v1 up

ip netns exec $VR "$SERVER" -f --no-control -l 198.18.10.2:862 >"$TK_TMP/server.log" 2>&1 &
SERVER_PID=$!
TK_PIDS="$TK_PIDS $SERVER_PID"
wait_udp_port $VR 862
# resolve neighbours before the measurement so no probe waits for ARP/ND
ip netns exec $VS ping -c 1 -W 2 198.18.10.2 >/dev/null || fail "no IPv4 path between the VMs"
ip netns exec $VS ping -6 -c 1 -W 2 fd00:1810::2 >/dev/null || fail "no IPv6 path between the VMs"

POINTS="sender-vm sender-bridge sender-host receiver-host receiver-bridge receiver-vm"
capture_live() { # OUT.json
	"$CAPTURE" -i sender-vm=${I}v0@$VS -i sender-bridge=${I}bs@$HS -i sender-host=${I}ls@$HS \
		-i receiver-host=${I}lr@$HR -i receiver-bridge=${I}br@$HR -i receiver-vm=${I}v1@$VR \
		-w "$TK_TMP/pcaps" -F json -o "$1" 2>"$TK_TMP/capture.log" &
	CAP_PID=$!
	TK_PIDS="$TK_PIDS $CAP_PID"
	for _ in $(seq 100); do
		grep -q 'capturing on 6 points' "$TK_TMP/capture.log" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$TK_TMP/capture.log" >&2
	fail "twamp-capture did not start"
}

capture_live "$TK_TMP/live.json"
ip netns exec $VS "$CLIENT" -c 200 -i 5ms -F json -o "$TK_TMP/client.json" -q 198.18.10.2
ip netns exec $VS ping -D -c 50 -i 0.01 198.18.10.2 >"$TK_TMP/ping.log"
ip netns exec $VS ping -6 -D -c 20 -i 0.01 fd00:1810::2 >"$TK_TMP/ping6.log"
sleep 0.2
kill -INT "$CAP_PID"
rc=0
wait "$CAP_PID" || rc=$?
TK_PIDS=$(echo "$TK_PIDS" | sed "s/ $CAP_PID\b//")
[ "$rc" = 0 ] || { cat "$TK_TMP/capture.log" >&2; fail "twamp-capture exited with $rc after SIGINT"; }
jqcheck "$TK_TMP/client.json" '.summary.twamp.received == 200' "client: 200 replies"
jqcheck "$TK_TMP/live.json" '.schema == "twampkit.capture/1" and .interrupted' "schema, stopped by SIGINT"

ORDER='[."sender-vm", ."sender-bridge", ."sender-host", ."receiver-host", ."receiver-bridge", ."receiver-vm"]'
check_result() { # FILE LABEL
	local f=$1 what=$2 p
	for p in $POINTS; do
		jqcheck "$f" ".points.\"$p\".twamp | .n == 200 and .matched == 200 and .unmatched == 0 and .duplicates == 0" \
			"$what: 200 TWAMP probes matched at $p"
		jqcheck "$f" ".points.\"$p\".icmp | .n == 70 and .unmatched == 0" "$what: 70 ICMP probes matched at $p"
		jqcheck "$f" ".points.\"$p\".tstamp_precision == \"nano\"" "$what: nanosecond timestamps at $p"
	done
	# each point sees a sub-path of the one before it, so its RTT is no longer
	jqcheck "$f" "[.probes[] | select(.proto == \"twamp\") | .rtt_ns | $ORDER] |
		length == 200 and all(.[]; all(.[]; . != null) and
		.[0] >= .[1] and .[1] >= .[2] and .[2] >= .[3] and .[3] >= .[4] and .[4] >= .[5])" \
		"$what: TWAMP RTT ordered sender-vm >= ... >= receiver-vm for every probe"
	jqcheck "$f" "[.probes[] | select(.proto == \"icmp\") | .rtt_ns | $ORDER] |
		length == 70 and all(.[]; all(.[]; . != null) and
		.[0] >= .[1] and .[1] >= .[2] and .[2] >= .[3] and .[3] >= .[4] and .[4] >= .[5])" \
		"$what: ICMP RTT ordered for every probe"
	jqcheck "$f" '[.probes[] | select(.proto == "icmp" and (.flow | test(":")))] | length == 20' \
		"$what: 20 ICMPv6 echo probes"
	jqcheck "$f" '.missing == []' "$what: no probe missing anywhere"
}
check_result "$TK_TMP/live.json" live

for p in $POINTS; do
	note "$p: TWAMP median $(jq -r ".points.\"$p\".twamp.median" "$TK_TMP/live.json") ms," \
		"ICMP median $(jq -r ".points.\"$p\".icmp.median" "$TK_TMP/live.json") ms"
done

# The client's RTT leaves out the reflector's T3-T2, the wire RTT includes
# it: compare client rtt + proc (= T4 - T1) with the sender VM's wire RTT.
jq -n --slurpfile c "$TK_TMP/client.json" --slurpfile w "$TK_TMP/live.json" '
	($w[0].probes | map(select(.proto == "twamp")) | map({key: (.seq | tostring), value: .rtt_ns."sender-vm"}) | from_entries) as $wire |
	[$c[0].probes[] | select(.proto == "twamp" and .rtt_ns != null and .proc_ns != null)
	 | .rtt_ns + .proc_ns - $wire[.seq | tostring]] | sort as $d |
	{n: ($d | length), median: $d[(($d | length) / 2 | floor)],
	 p99: $d[((($d | length) - 1) * 0.99 | floor)],
	 abs_p99: ($d | map(fabs) | sort | .[((length - 1) * 0.99 | floor)]),
	 t1_src: ($c[0].probes[0].t1_src), t4_src: ($c[0].probes[0].t4_src)}' >"$TK_TMP/diff.json"
note "client (rtt + proc) minus sender-vm wire RTT, ns: $(jq -c . "$TK_TMP/diff.json")"
jqcheck "$TK_TMP/diff.json" '.n == 200' "client and capture agree on all 200 sequence numbers"
jqcheck "$TK_TMP/diff.json" '.median | fabs <= 20000' "client-vs-wire median difference within 20 us"

# The kept pcaps, read back, must tell the same story (non-root reading is capture_files.sh).
args=""
for p in $POINTS; do
	[ -s "$TK_TMP/pcaps/$p.pcap" ] || fail "-w did not write $p.pcap"
	args="$args -r $p=$TK_TMP/pcaps/$p.pcap"
done
# shellcheck disable=SC2086
"$CAPTURE" $args -F json -o "$TK_TMP/files.json" || fail "re-reading the -w pcaps failed"
check_result "$TK_TMP/files.json" "re-read"
norm='{points: (.points | map_values({twamp, icmp, packets})), probes: (.probes | sort_by(.proto, .flow, .seq))}'
jq -S "$norm" "$TK_TMP/live.json" >"$TK_TMP/live.norm"
jq -S "$norm" "$TK_TMP/files.json" >"$TK_TMP/files.norm"
cmp -s "$TK_TMP/live.norm" "$TK_TMP/files.norm" ||
	{ diff "$TK_TMP/live.norm" "$TK_TMP/files.norm" | head -20 >&2; fail "re-read pcaps differ from the live result"; }
echo ok
