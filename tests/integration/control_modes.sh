#!/bin/sh
# Full TWAMP over loopback: twamp-client --control against twamp-server in
# open, authenticated, encrypted and mixed mode, over IPv4 and IPv6, 100
# probes each, nothing lost, the negotiated mode, SID and test port
# reported; the mode choice without -A; RFC 5938 (ISC), RFC 6038 (Reflect
# Octets, Symmetrical Size) and RFC 7750 (DSCP/ECN) negotiated end to end;
# tshark decodes the open-mode control exchange (checklist D1, D13-D18,
# E1, E6, E9-E16, F1-F7, G2, G8, C12, C26-C29, H2).
. "$(dirname "$0")/lib.sh"


CPORT=$(free_tcp_port)
TP=$(free_udp_port)
TP_HI=$((TP + 40))
KEYS="$TK_TMP/keys"
printf '# test keys\nclient-1 text:twamp-secret\n' > "$KEYS"

start_server -l 127.0.0.1:0 --control "127.0.0.1:$CPORT" --control "[::1]:$CPORT" \
	--modes open,auth,enc,mixed -k "$KEYS" --test-ports "$TP-$TP_HI" --stats "$TK_TMP/stats.json" \
	--stats-interval 500ms
wait_tcp_port "$CPORT"

# run HOST MODE [extra client options]: 100 probes, all back, mode reported.
run() {
	local host=$1 mode=$2 f="$TK_TMP/$2-$(echo "$1" | tr -d '[]:.').json"
	shift 2
	local rc=0
	"$CLIENT" --control -A "$mode" -u client-1 -k "$KEYS" -c 100 -i 2ms --late-limit 2s -F json -o "$f" -q "$@" \
		"$host:$CPORT" 2>"$TK_TMP/client.err" || rc=$?
	[ "$rc" = 0 ] || { cat "$TK_TMP/client.err" "$TK_TMP/server.log" >&2; fail "$mode over $host: exit $rc"; }
	jqcheck "$f" '.summary.twamp.sent == 100 and .summary.twamp.received == 100 and .summary.twamp.lost == 0' "$mode over $host: 100 sent, 100 received"
	jqcheck "$f" ".config.mode == \"control\" and .config.security == \"$mode\"" "$mode over $host: mode reported"
	jqcheck "$f" '.config.sid | test("^[0-9a-f]{32}$")' "$mode over $host: SID reported"
	jqcheck "$f" ".config.test_port >= $TP and .config.test_port <= $TP_HI" "$mode over $host: test port from the server's range"
	jqcheck "$f" '.config.test_port as $p | .target | endswith(":\($p)")' "$mode over $host: probes went to the returned port"
	jqcheck "$f" '.config.hmac_failures == 0' "$mode over $host: no HMAC failures"
	jqcheck "$f" '[.probes[].refl_seq] == [range(0; 100)]' "$mode over $host: reflector's own counter (C7)"
	jqcheck "$f" '[.probes[] | select(.t1_ns <= .t2_ns and .t2_ns <= .t3_ns and .t3_ns <= .t4_ns)] | length == 100' "$mode over $host: T1<=T2<=T3<=T4"
	case $mode in
	auth|enc) jqcheck "$f" '.config.packet_octets == 112' "$mode: 48 + 64 octets (B9)" ;;
	*) jqcheck "$f" '.config.packet_octets == 41' "$mode: 14 + 27 octets (B9)" ;;
	esac
	note "$mode over $host: handshake $(jq .config.control_handshake_us "$f") us, median RTT $(jq .summary.twamp.rtt_ms.median "$f") ms"
}

for host in 127.0.0.1 "[::1]"; do
	for mode in open auth enc mixed; do
		run "$host" "$mode"
	done
done

# No -A: the strongest mode the key allows (encrypted); without a key: open.
"$CLIENT" --control -u client-1 -k "$KEYS" -c 5 -i 2ms --late-limit 2s -F json -o "$TK_TMP/best.json" -q "127.0.0.1:$CPORT"
jqcheck "$TK_TMP/best.json" '.config.security == "enc" and .summary.twamp.received == 5' "strongest mode chosen"
"$CLIENT" --control -c 5 -i 2ms --late-limit 2s -F json -o "$TK_TMP/nokey.json" -q "127.0.0.1:$CPORT"
jqcheck "$TK_TMP/nokey.json" '.config.security == "open" and .summary.twamp.received == 5' "open without a key"

# The text output names the mode, SID and port.
"$CLIENT" --control -A auth -u client-1 -k "$KEYS" -c 3 -i 2ms --late-limit 2s "127.0.0.1:$CPORT" > "$TK_TMP/text.out"
grep -Eq '^TWAMP-Control 127\.0\.0\.1:[0-9]+: mode auth, .*SID [0-9a-f]{32}, test port [0-9]+, handshake' "$TK_TMP/text.out" ||
	{ cat "$TK_TMP/text.out"; fail "text output: control line"; }
grep -q '3 sent, 3 received, 0% loss' "$TK_TMP/text.out" || fail "text output: summary"

# RFC 5938: Start-N-Sessions / Stop-N-Sessions.
run 127.0.0.1 enc --isc
jqcheck "$TK_TMP/enc-127001.json" '.config.features | test("isc")' "ISC negotiated"

# RFC 6038 and RFC 7750 together: the reflected octets come back, sizes are
# symmetrical, the reflector reports the DSCP it received (46 -> 0xb8 = 184).
"$CLIENT" --control -A auth -u client-1 -k "$KEYS" -c 50 -i 2ms --late-limit 2s -D 46 --reflect-octets 8 --symmetrical \
	--dscp-ecn -F json -o "$TK_TMP/rfc6038.json" -q "127.0.0.1:$CPORT"
jqcheck "$TK_TMP/rfc6038.json" '.summary.twamp.received == 50' "RFC 6038/7750 session: all back"
jqcheck "$TK_TMP/rfc6038.json" '.config.features == "reflect-octets|symmetrical|dscp-ecn"' "features negotiated"
jqcheck "$TK_TMP/rfc6038.json" '.config.reflect_mismatches == 0' "to-be-reflected octets returned (C28)"
jqcheck "$TK_TMP/rfc6038.json" '.config.reflector_rx_dscp_ecn == 184' "S-DSCP-ECN = received DSCP 46 (C26)"
jqcheck "$TK_TMP/rfc6038.json" '.config.packet_octets == 48 + 64 + 8' "symmetrical packet: header, 64 MBZ, 8 reflected"
"$CLIENT" --control -c 20 -i 2ms --late-limit 2s --reflect-octets 4 --dscp-ecn -F json -o "$TK_TMP/ro-open.json" -q "127.0.0.1:$CPORT"
jqcheck "$TK_TMP/ro-open.json" '.summary.twamp.received == 20 and .config.reflect_mismatches == 0 and .config.packet_octets == 14 + 30 + 4' "open mode: Reflect Octets with RFC 7750"

# A requested Receiver Port inside the range is honoured; a busy one gets an alternative (E10, H2).
"$CLIENT" --control -c 3 -i 2ms --late-limit 2s --test-port "$((TP + 30))" -F json -o "$TK_TMP/port.json" -q "127.0.0.1:$CPORT"
jqcheck "$TK_TMP/port.json" ".config.test_port == $((TP + 30)) and .summary.twamp.received == 3" "requested port honoured"

# tshark decodes the open-mode control exchange (and finds the test stream through Accept-Session).
if [ "$(id -u)" = 0 ] && command -v tcpdump >/dev/null && command -v tshark >/dev/null; then
	tcpdump -i lo --immediate-mode -U -w "$TK_TMP/ctl.pcap" "tcp port $CPORT or udp portrange $TP-$TP_HI" 2>/dev/null &
	TD=$!
	TK_PIDS="$TK_PIDS $TD"
	sleep 1
	"$CLIENT" --control -A open -c 3 -i 10ms -D 46 -F json -o "$TK_TMP/dscp.json" -q "127.0.0.1:$CPORT" >/dev/null
	sleep 1
	kill "$TD"; wait "$TD" 2>/dev/null || true
	tshark -r "$TK_TMP/ctl.pcap" -d "tcp.port==$CPORT,twamp.control" -Y twamp.control > "$TK_TMP/tshark.txt" 2>/dev/null
	for m in "Server Greeting" "Setup Response" "Server Start, (OK)" "Request Session" "Accept Session, (OK)" \
		"Start Sessions" "Start Sessions ACK, (OK)" "Stop Session"; do
		grep -qF "$m" "$TK_TMP/tshark.txt" || { cat "$TK_TMP/tshark.txt"; fail "tshark: no '$m'"; }
	done
	grep -q Malformed "$TK_TMP/tshark.txt" && { cat "$TK_TMP/tshark.txt"; fail "tshark: malformed control message"; }
	tshark -r "$TK_TMP/ctl.pcap" -d "tcp.port==$CPORT,twamp.control" -T fields -e twamp.control.mode \
		-Y 'twamp.control.mode' 2>/dev/null | grep -qx '1' || fail "tshark: Setup Response Mode 1"
	tshark -r "$TK_TMP/ctl.pcap" -d "tcp.port==$CPORT,twamp.control" -T fields -e twamp.control.count \
		-Y 'twamp.control.count' 2>/dev/null | grep -qx '32768' || fail "tshark: Greeting Count 32768"
	# C12, B10: Type-P DSCP 46 on the probes and on every reflected packet.
	tport=$(jq .config.test_port "$TK_TMP/dscp.json")
	tshark -r "$TK_TMP/ctl.pcap" -Y "udp.srcport == $tport" -T fields -e ip.dsfield.dscp 2>/dev/null > "$TK_TMP/dscp.txt"
	[ "$(sort -u "$TK_TMP/dscp.txt")" = 46 ] && [ "$(wc -l < "$TK_TMP/dscp.txt")" = 3 ] ||
		{ cat "$TK_TMP/dscp.txt"; fail "reflected packets carry DSCP 46"; }
	tshark -r "$TK_TMP/ctl.pcap" -Y "udp.dstport == $tport" -T fields -e ip.dsfield.dscp 2>/dev/null | sort -u |
		grep -qx 46 || fail "probes carry DSCP 46"
	note "tshark decoded $(wc -l < "$TK_TMP/tshark.txt") control messages; DSCP 46 both ways"
else
	note "tshark part skipped (needs root, tcpdump and tshark)"
fi

# Stopped sessions end after their Timeout (the client's -W, 2 s): then nothing is left (C22).
sleep 3
jqcheck "$TK_TMP/stats.json" '.test_sessions.active == 0 and .test_sessions.opened == .test_sessions.finished' "every test session ended after its Timeout"
jqcheck "$TK_TMP/stats.json" '.control.connections == 0' "every control connection closed"
stop_server
jqcheck "$TK_TMP/stats.json" '.control.accepted >= 16 and .control.refused == 0' "control connections counted"
jqcheck "$TK_TMP/stats.json" '.control.closed.hmac == 0 and .control.closed.protocol == 0' "no protocol or HMAC failures"
jqcheck "$TK_TMP/stats.json" '.dropped_by_reason.auth == 0 and .dropped_by_reason.wrong_sender == 0' "no test packet dropped"
echo ok
