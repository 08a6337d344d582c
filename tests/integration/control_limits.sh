#!/bin/sh
# TWAMP-Control under many idle connections: memory stays bounded (RSS
# growth per connection measured and capped), the global connection limit
# refuses the surplus with a Modes = 0 greeting, a real client is still
# served while the idle ones sit there, and everything is released when
# they go.  1000 connections where the descriptor limit allows, else 200.
. "$(dirname "$0")/lib.sh"
PEER="$TK_BUILDDIR/tests/tools/ctrl_peer"
[ -x "$PEER" ] || skip "tests/tools/ctrl_peer not built"

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

N=1000
hard=$(ulimit -Hn)
[ "$hard" = unlimited ] || [ "$hard" -ge $((2 * N + 100)) ] || N=200
CPORT=$(free_tcp_port)
start_server -l 127.0.0.1:0 --control "127.0.0.1:$CPORT" --test-ports 0 --max-connections "$N" \
	--max-connections-per-source "$((N + 100))" --stats "$TK_TMP/stats.json" --stats-interval 200ms
wait_tcp_port "$CPORT"
"$CLIENT" --control -c 3 -i 2ms --late-limit 2s -q "127.0.0.1:$CPORT" # warm up: allocations of a first session
before=$(rss_kb "$SERVER_PID")

"$PEER" hold "$N" 127.0.0.1 "$CPORT" > "$TK_TMP/hold.out" &
HOLD=$!
TK_PIDS="$TK_PIDS $HOLD"
for _ in $(seq 300); do [ -s "$TK_TMP/hold.out" ] && break; sleep 0.1; done
grep -q "^greetings $N modes0 0 failed 0$" "$TK_TMP/hold.out" || { cat "$TK_TMP/hold.out"; fail "$N idle connections"; }
after=$(rss_kb "$SERVER_PID")
per=$(( (after - before) * 1024 / N ))
note "RSS $before kB -> $after kB with $N idle control connections: $per octets each"
[ "$per" -lt 16384 ] || fail "memory per idle connection $per octets (bound 16 KiB)"
[ $((after - before)) -lt $((N * 16)) ] || fail "RSS growth $((after - before)) kB"

# The global limit: the surplus is refused with Modes = 0.
"$PEER" hold 10 127.0.0.1 "$CPORT" > "$TK_TMP/hold2.out" &
HOLD2=$!
TK_PIDS="$TK_PIDS $HOLD2"
for _ in $(seq 100); do [ -s "$TK_TMP/hold2.out" ] && break; sleep 0.1; done
grep -q '^greetings 10 modes0 10 failed 0$' "$TK_TMP/hold2.out" || { cat "$TK_TMP/hold2.out"; fail "surplus refused"; }
grep -q "refused connection from 127.0.0.1:[0-9]*: $N connections (limit $N)" "$TK_TMP/server.log" ||
	fail "refusal logged"
kill "$HOLD2"; wait "$HOLD2" 2>/dev/null || true

# Release one idle connection's worth of room, then a real client is served alongside.
kill "$HOLD"; wait "$HOLD" 2>/dev/null || true
for _ in $(seq 50); do jq -e '.control.connections == 0' "$TK_TMP/stats.json" >/dev/null 2>&1 && break; sleep 0.1; done
jqcheck "$TK_TMP/stats.json" '.control.connections == 0' "idle connections released"
"$PEER" hold $((N - 1)) 127.0.0.1 "$CPORT" > "$TK_TMP/hold3.out" &
HOLD3=$!
TK_PIDS="$TK_PIDS $HOLD3"
for _ in $(seq 300); do [ -s "$TK_TMP/hold3.out" ] && break; sleep 0.1; done
"$CLIENT" --control -c 20 -i 2ms --late-limit 2s -q -F json -o "$TK_TMP/busy.json" "127.0.0.1:$CPORT"
jqcheck "$TK_TMP/busy.json" '.summary.twamp.received == 20' "served next to $((N - 1)) idle connections"
note "handshake next to $((N - 1)) idle connections: $(jq .config.control_handshake_us "$TK_TMP/busy.json") us"
kill "$HOLD3"; wait "$HOLD3" 2>/dev/null || true
stop_server
jqcheck "$TK_TMP/stats.json" '.control.refused == 10' "10 refused"
echo ok
