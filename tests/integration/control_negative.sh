#!/bin/sh
# TWAMP-Control negative paths, each with its exit status and one clear
# message, and the server surviving all of them: wrong key and unknown
# KeyID (D16, D19), a mode not offered (D9, D10), a Count above the
# client's maximum (D4), malformed, truncated and out-of-place control
# messages (D9, E2, E8, E12, E18, E20), a client that stalls (SERVWAIT,
# E21), a session that stops sending (REFWAIT, C24, then SERVWAIT resuming,
# E22), a session longer than SERVWAIT (suspended, E21), a connection flood
# beyond the per-source limit.
. "$(dirname "$0")/lib.sh"
PEER="$TK_BUILDDIR/tests/tools/ctrl_peer"
[ -x "$PEER" ] || skip "tests/tools/ctrl_peer not built"

zeros() { head -c "$1" /dev/zero | od -An -v -tx1 | tr -d ' \n'; }
# expect_client STATUS PATTERN ARGS...: the client's exit status and its single stderr line.
expect_client() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$CLIENT" "$@" >/dev/null 2>"$TK_TMP/err" || rc=$?
	[ "$rc" = "$want" ] && [ "$(wc -l < "$TK_TMP/err")" = 1 ] && grep -q -- "$pat" "$TK_TMP/err" ||
		{ cat "$TK_TMP/err"; fail "expected exit $want and one line '$pat' for: $*"; }
	note "client: $(cat "$TK_TMP/err")"
}
# logged PATTERN: the server said it, in one line.
logged() {
	for _ in $(seq 40); do
		grep -q -- "$1" "$TK_TMP/server.log" && return 0
		sleep 0.1
	done
	cat "$TK_TMP/server.log" >&2
	fail "server log lacks '$1'"
}
alive() { kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TK_TMP/server.log" >&2; fail "server died"; }; }

CPORT=$(free_tcp_port)
KEYS="$TK_TMP/keys"
printf 'client-1 text:twamp-secret\n' > "$KEYS"
BADKEYS="$TK_TMP/badkeys"
printf 'client-1 text:not-the-secret\nmallory text:twamp-secret\n' > "$BADKEYS"
HOST="127.0.0.1:$CPORT"

start_server -l 127.0.0.1:0 --control "$HOST" --modes open,auth -k "$KEYS" --count 65536 \
	--test-ports 0 --servwait 2s --refwait 2s --max-connections-per-source 4 --stats "$TK_TMP/stats.json"
wait_tcp_port "$CPORT"

# --- set-up failures ---------------------------------------------------------
expect_client 2 "control $HOST: the server rejected the connection: Server-Start Accept 1 (failure): unknown KeyID or wrong shared secret" \
	--control -A auth -u client-1 -k "$BADKEYS" --max-count 65536 -c 3 "$HOST"
logged "Server-Start Accept 1 (failure): wrong shared secret for KeyID 'client-1'"
expect_client 2 "Server-Start Accept 1 (failure)" --control -A auth -u mallory -k "$BADKEYS" --max-count 65536 -c 3 "$HOST"
logged "Server-Start Accept 1 (failure): unknown KeyID 'mallory'"
expect_client 2 "control $HOST: the server does not offer mode enc (it offers open|auth)" \
	--control -A enc -u client-1 -k "$KEYS" --max-count 65536 -c 3 "$HOST"
logged "client declined every offered mode (Set-Up-Response Mode 0)"
expect_client 2 "the server's PBKDF2 Count 65536 exceeds the maximum 32768 (--max-count; RFC 5357 §6)" \
	--control -A auth -u client-1 -k "$KEYS" -c 3 "$HOST"
expect_client 2 "option -A: 'auth' needs -u KEYID and -k KEYFILE" --control -A auth -c 3 "$HOST"
expect_client 2 "KeyID 'nobody' is not in" --control -u nobody -k "$KEYS" -c 3 "$HOST"
# and with the right key and a high enough --max-count, all is well
"$CLIENT" --control -A auth -u client-1 -k "$KEYS" --max-count 65536 -c 5 -i 2ms --late-limit 2s -q -F json -o "$TK_TMP/ok.json" "$HOST"
jqcheck "$TK_TMP/ok.json" '.summary.twamp.received == 5 and .config.greeting_count == 65536' "auth with Count 65536"
alive

# --- malformed, truncated, out-of-place messages (open mode) -----------------
SETUP_OPEN="00000001$(zeros 160)"
# Request-TW-Session, IPv4, Sender Port 50000, padding 27, Timeout 2 s; $1 = Conf-Sender octet.
req() { echo "0504${1}00$(zeros 8)c3500000$(zeros 32)$(zeros 16)0000001b$(zeros 8)0000000200000000$(zeros 28)"; }
START="02$(zeros 31)"
# peer NAME HEX...: runs ctrl_peer send; $TK_TMP/NAME.hex = replies, NAME.end = eof|open.
peer() {
	local n=$1
	shift
	"$PEER" send 127.0.0.1 "$CPORT" "$@" > "$TK_TMP/$n.out"
	head -1 "$TK_TMP/$n.out" > "$TK_TMP/$n.hex"
	tail -1 "$TK_TMP/$n.out" > "$TK_TMP/$n.end"
}
octet() { cut -c "$(( $2 * 2 + 1 ))-$(( $2 * 2 + 2 ))" "$TK_TMP/$1.hex"; } # NAME OFFSET
length() { echo $(( $(tr -d '\n' < "$TK_TMP/$1.hex" | wc -c) / 2 )); }

# E8: an unknown Command Number -> Accept-Session Accept 3, then close (length unknown).
peer unknown "$SETUP_OPEN" "c8$(zeros 15)"
[ "$(length unknown)" = 96 ] && [ "$(octet unknown 15)" = 00 ] && [ "$(octet unknown 48)" = 03 ] &&
	[ "$(cat "$TK_TMP/unknown.end")" = eof ] || { cat "$TK_TMP/unknown.out"; fail "unknown command: Accept 3 and close"; }
logged "unknown Command Number 200 (or N out of range): Accept-Session Accept 3 (not supported), closing"
# E2, E12: Conf-Sender 1 -> Accept 3, Port 0, and the connection stays open.
peer conf "$SETUP_OPEN" "$(req 01)"
[ "$(length conf)" = 96 ] && [ "$(octet conf 48)" = 03 ] && [ "$(octet conf 50)$(octet conf 51)" = 0000 ] &&
	[ "$(cat "$TK_TMP/conf.end")" = open ] || { cat "$TK_TMP/conf.out"; fail "Conf-Sender: Accept 3, open"; }
logged "Request-TW-Session rejected: Accept-Session Accept 3 (not supported): Conf-Sender 1 / Conf-Receiver 0 must be 0"
# D9: two security bits -> Server-Start Accept 3, close.
peer twobits "00000003$(zeros 160)"
[ "$(length twobits)" = 48 ] && [ "$(octet twobits 15)" = 03 ] && [ "$(cat "$TK_TMP/twobits.end")" = eof ] ||
	{ cat "$TK_TMP/twobits.out"; fail "two security bits: Server-Start Accept 3"; }
logged "Server-Start Accept 3 (not supported): Mode open|auth does not name exactly one security mode"
# Truncated Set-Up-Response and truncated Request: nothing answered, the connection waits.
peer trunc1 "00000001$(zeros 100)"
[ "$(length trunc1)" = 0 ] && [ "$(cat "$TK_TMP/trunc1.end")" = open ] || fail "truncated Set-Up-Response"
peer trunc2 "$SETUP_OPEN" "$(req 00 | cut -c 1-100)"
[ "$(length trunc2)" = 48 ] && [ "$(cat "$TK_TMP/trunc2.end")" = open ] || fail "truncated Request-TW-Session"
# E20: a Request while the session runs -> close.
peer active "$SETUP_OPEN" "$(req 00)" wait "$START" wait "$(req 00)"
[ "$(length active)" = $((48 + 48 + 32)) ] && [ "$(octet active 48)" = 00 ] && [ "$(octet active 96)" = 00 ] &&
	[ "$(cat "$TK_TMP/active.end")" = eof ] || { cat "$TK_TMP/active.out"; fail "Request while active: close"; }
logged "Request-TW-Session (command 5) while sessions run: only Stop-Sessions is allowed (E20), closing"
# E18: Stop-Sessions with Number of Sessions 0 (as twampy sends) -> close.
peer stop0 "$SETUP_OPEN" "$(req 00)" wait "$START" wait "03$(zeros 31)"
[ "$(cat "$TK_TMP/stop0.end")" = eof ] || { cat "$TK_TMP/stop0.out"; fail "Stop-Sessions 0: close"; }
logged "Stop-Sessions says 0 session(s) but 1 run: invalid (E18), closing"
# Start-Sessions with nothing accepted -> Start-Ack Accept 1, open.
peer nostart "$SETUP_OPEN" "$START"
[ "$(octet nostart 48)" = 01 ] && [ "$(cat "$TK_TMP/nostart.end")" = open ] || fail "Start without a session"
alive

# --- SERVWAIT ----------------------------------------------------------------
"$PEER" stall 127.0.0.1 "$CPORT" 6 > "$TK_TMP/stall.out"
secs=$(sed -n 's/^closed after \([0-9.]*\) s$/\1/p' "$TK_TMP/stall.out")
[ -n "$secs" ] && awk -v s="$secs" 'BEGIN { exit !(s >= 1.9 && s <= 3.5) }' ||
	{ cat "$TK_TMP/stall.out"; fail "a stalled client is closed after SERVWAIT 2 s"; }
logged "nothing received for SERVWAIT 2 s (RFC 5357 §3.1), closing"
note "stalled client closed after $secs s"
# E21: suspended while a session runs - a 3.5 s session with SERVWAIT 2 s is not cut.
"$CLIENT" --control -c 4 -i 1s -W 500ms -q -F json -o "$TK_TMP/long.json" "$HOST" 2>"$TK_TMP/long.err"
[ -s "$TK_TMP/long.err" ] && { cat "$TK_TMP/long.err"; fail "long session: no complaint expected"; }
jqcheck "$TK_TMP/long.json" '.summary.twamp.received == 4' "SERVWAIT suspended during the session"

# --- REFWAIT: the session stops sending -----------------------------------------
# Probe 0 at 0 s, then silence: REFWAIT (2 s) discontinues the session, probes at
# 2.5 s and 5 s are lost, SERVWAIT resumes and closes the connection before Stop.
rc=0
"$CLIENT" --control -c 3 -i 2500ms -W 500ms -q -F json -o "$TK_TMP/refwait.json" "$HOST" 2>"$TK_TMP/err" || rc=$?
[ "$rc" = 0 ] && [ "$(wc -l < "$TK_TMP/err")" = 1 ] && grep -q "the server closed the control connection during the test" "$TK_TMP/err" ||
	{ cat "$TK_TMP/err"; fail "REFWAIT: exit 0 and one line about the closed connection"; }
jqcheck "$TK_TMP/refwait.json" '.summary.twamp.received == 1 and .summary.twamp.lost == 2' "REFWAIT: later probes unanswered"
logged "discontinued: no test packet for REFWAIT 2 s (RFC 5357 §4.2); 1 reflected"
alive

# --- connection flood beyond the per-source limit ---------------------------------
"$PEER" hold 4 127.0.0.1 "$CPORT" > "$TK_TMP/hold.out" &
HOLD=$!
TK_PIDS="$TK_PIDS $HOLD"
for _ in $(seq 50); do [ -s "$TK_TMP/hold.out" ] && break; sleep 0.1; done
grep -q '^greetings 4 modes0 0 failed 0$' "$TK_TMP/hold.out" || { cat "$TK_TMP/hold.out"; fail "4 idle connections"; }
expect_client 2 "the server will not talk (Server Greeting Modes = 0: its connection limit is reached or this client is not allowed)" \
	--control -c 3 "$HOST"
logged "refused connection from 127.0.0.1:[0-9]*: 4 connections from this address (limit 4) (sent Server Greeting Modes 0)"
kill "$HOLD"; wait "$HOLD" 2>/dev/null || true
sleep 0.3
"$CLIENT" --control -c 3 -i 2ms --late-limit 2s -q -F json -o "$TK_TMP/after.json" "$HOST"
jqcheck "$TK_TMP/after.json" '.summary.twamp.received == 3' "served again once the flood is gone"
alive

stop_server
jqcheck "$TK_TMP/stats.json" '.control.refused_per_source == 1 and .control.servwait_closed >= 2 and .control.refwait_expired == 1 and .control.sessions_rejected == 1' "control counters"
jqcheck "$TK_TMP/stats.json" '.control.closed.rejected == 3 and .control.closed.protocol == 3 and .control.closed.gave_up == 1 and .control.closed.hmac == 0' "close reasons counted"
echo ok
