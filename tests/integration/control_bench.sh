#!/bin/sh
# How long a TWAMP-Control handshake takes: 21 connections in
# authenticated mode at the default PBKDF2 Count (32768, derived once by
# each end), connect to Server-Start and connect to Start-Ack as the client
# measures them.  Prints the medians and fails if the handshake median is
# not well under a second (500 ms).
. "$(dirname "$0")/lib.sh"

CPORT=$(free_tcp_port)
KEYS="$TK_TMP/keys"
printf 'client-1 text:twamp-secret\n' > "$KEYS"
start_server -l 127.0.0.1:0 --control "127.0.0.1:$CPORT" --modes open,auth,enc,mixed -k "$KEYS" --test-ports 0
wait_tcp_port $CPORT

for i in $(seq 21); do
	"$CLIENT" --control -A auth -u client-1 -k "$KEYS" -c 1 -W 500ms -F json -o "$TK_TMP/b$i.json" -q "127.0.0.1:$CPORT"
done
jq -s '[.[].config.control_handshake_us] | sort | .[10]' "$TK_TMP"/b*.json > "$TK_TMP/hs"
jq -s '[.[].config.control_setup_us] | sort | .[10]' "$TK_TMP"/b*.json > "$TK_TMP/su"
jq -s '[.[].config.greeting_count] | unique == [32768]' "$TK_TMP"/b*.json | grep -q true || fail "default Count 32768"
note "auth handshake (connect to Server-Start, PBKDF2 Count 32768 at both ends): median $(( $(cat "$TK_TMP/hs") / 1000 )).$(( $(cat "$TK_TMP/hs") % 1000 / 100 )) ms over 21"
note "auth set-up to Start-Ack: median $(( $(cat "$TK_TMP/su") / 1000 )).$(( $(cat "$TK_TMP/su") % 1000 / 100 )) ms"
[ "$(cat "$TK_TMP/hs")" -lt 500000 ] || fail "handshake median $(cat "$TK_TMP/hs") us"
stop_server
echo ok
