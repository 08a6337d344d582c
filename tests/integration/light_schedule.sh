#!/bin/sh
# The sender keeps fast schedules without dropping probes: 2000 probes at
# 1 ms finish in under 2.5 s with no loss; 20000 at 100 us skip none, and
# the JSON reports the schedule's lateness.
. "$(dirname "$0")/lib.sh"
PORT=$(free_udp_port)

start_server --no-control -l 127.0.0.1:$PORT
wait_udp_port $PORT

t0=$(date +%s%N)
"$CLIENT" -c 2000 -i 1ms -F json -o "$TK_TMP/1ms.json" -q 127.0.0.1:$PORT
t1=$(date +%s%N)
elapsed_ms=$(( (t1 - t0) / 1000000 ))
note "2000 x 1ms took $elapsed_ms ms"
[ "$elapsed_ms" -lt 2500 ] || fail "2000 probes at 1 ms took $elapsed_ms ms (limit 2500)"
jqcheck "$TK_TMP/1ms.json" '.summary.twamp.sent == 2000 and .summary.twamp.lost == 0' "1 ms: no loss"
jqcheck "$TK_TMP/1ms.json" '.summary.schedule.skipped == 0' "1 ms: nothing skipped"

"$CLIENT" -c 20000 -i 100us -F json -o "$TK_TMP/100us.json" -q 127.0.0.1:$PORT
jqcheck "$TK_TMP/100us.json" '.summary.schedule | has("lateness_us") and has("skipped") and has("send_call_us")' "schedule object"
jqcheck "$TK_TMP/100us.json" '.summary.schedule.lateness_us.median >= 0' "lateness reported"
note "100us: $(jq -c '{skipped: .summary.schedule.skipped, lateness_us: .summary.schedule.lateness_us | {median, p99, max}, lost: .summary.twamp.lost}' "$TK_TMP/100us.json")"
jqcheck "$TK_TMP/100us.json" '.summary.schedule.skipped == 0' "100 us: nothing skipped"
jqcheck "$TK_TMP/100us.json" '.summary.twamp.sent == 20000 and .summary.twamp.lost == 0' "100 us: all answered"
stop_server
echo ok
