#!/bin/sh
# TWAMP-Light over loopback, IPv4 and IPv6: every probe answered, the four
# timestamps ordered, RTT plausible, reflector counters right; stateless
# and stateful sequence numbering (checklist C1, C3, C7, C8, C10, C15, B3, B15).
. "$(dirname "$0")/lib.sh"
PORT=$(free_udp_port)

check_run() { # FILE COUNT
	local f=$1 n=$2
	jqcheck "$f" '.schema == "twampkit.result/1"' "schema"
	jqcheck "$f" ".summary.twamp.sent == $n and .summary.twamp.received == $n and .summary.twamp.lost == 0" "sent/received/lost"
	jqcheck "$f" "[.probes[] | select(.t1_ns <= .t2_ns and .t2_ns <= .t3_ns and .t3_ns <= .t4_ns)] | length == $n" "t1<=t2<=t3<=t4 on one clock"
	jqcheck "$f" '(.probes | length) as $n | [.probes[] | select(.rtt_ns > 0 and .rtt_ns < 20000000)] | length == $n' "RTT plausible (0..20 ms)"
	jqcheck "$f" "[.probes[].seq] == [range(0; $n)]" "sender sequence 0..N-1 (B3)"
	jqcheck "$f" '(.probes | length) as $n | [.probes[] | select(.ttl == 255)] | length == $n' "Sender TTL 255 on loopback"
	jqcheck "$f" '.summary.twamp.rtt_ms.median > 0' "median RTT"
}

start_server --no-control -l 127.0.0.1:$PORT -l "[::1]:$PORT" --stats "$TK_TMP/stats.json"
wait_udp_port $PORT

"$CLIENT" -c 200 -i 5ms -F json -o "$TK_TMP/v4.json" -q 127.0.0.1:$PORT
check_run "$TK_TMP/v4.json" 200
# Stateful reflector: its own counter from 0 (C7).
jqcheck "$TK_TMP/v4.json" '[.probes[].refl_seq] == [range(0; 200)]' "stateful reflector sequence"

"$CLIENT" -c 200 -i 5ms -F json -o "$TK_TMP/v6.json" -q "[::1]:$PORT"
check_run "$TK_TMP/v6.json" 200

# Larger padding: replies as long as requests (C15); the text summary works.
"$CLIENT" -c 20 -i 2ms -s 300 127.0.0.1:$PORT > "$TK_TMP/text.out"
grep -qE '^([0-9]+) sent, \1 received, 0% loss' "$TK_TMP/text.out" || { cat "$TK_TMP/text.out"; fail "text summary"; }
grep -q '^rtt min/median/max/mean/sd = ' "$TK_TMP/text.out" || fail "text rtt line"

stop_server
jqcheck "$TK_TMP/stats.json" '.received == 420 and .reflected == 420 and .dropped == 0' "server counters"
jqcheck "$TK_TMP/stats.json" '.sessions.created == 3' "three sender sessions"

# Stateless: the reflector copies the sender's sequence number (C8).
start_server --no-control --stateless -l 127.0.0.1:$PORT
wait_udp_port $PORT
"$CLIENT" -c 50 -i 2ms -F json -o "$TK_TMP/sl.json" -q 127.0.0.1:$PORT
check_run "$TK_TMP/sl.json" 50
jqcheck "$TK_TMP/sl.json" '[.probes[] | select(.refl_seq == .seq)] | length == 50' "stateless copies the sequence number"
stop_server

# CSV has a header and one row per probe.
start_server --no-control -l 127.0.0.1:$PORT
wait_udp_port $PORT
"$CLIENT" -c 10 -i 1ms -F csv -o "$TK_TMP/r.csv" -q 127.0.0.1:$PORT
[ "$(wc -l < "$TK_TMP/r.csv")" = 11 ] || fail "CSV rows"
head -1 "$TK_TMP/r.csv" | grep -q '^proto,seq,' || fail "CSV header"

# No reflector: everything lost, exit status 1, still a valid result.
stop_server
rc=0
"$CLIENT" -c 5 -i 10ms -W 200ms -F json -o "$TK_TMP/lost.json" -q 127.0.0.1:$PORT || rc=$?
[ "$rc" = 1 ] || fail "exit status without replies: $rc"
jqcheck "$TK_TMP/lost.json" '.summary.twamp.lost == 5 and .summary.twamp.loss_pct == 100' "all lost"
echo "ok"
