#!/bin/sh
# Bad input to the reflector: datagrams of 0..13 octets are dropped and
# counted (C30); oversized ones are dropped and counted; random bytes of
# any length >= 14 are reflected (TWAMP-Light answers every packet) and no
# reply is ever longer than max(request, 41) (no amplification).  The
# server survives all of it and still answers a real sender.
. "$(dirname "$0")/lib.sh"
PORT=$(free_udp_port)
[ -x "$UDP_PROBE" ] || skip "udp_probe not built"

start_server --no-control -l 127.0.0.1:$PORT --stats "$TK_TMP/stats.json"
wait_udp_port $PORT

"$UDP_PROBE" -w 150 127.0.0.1 $PORT 0 1 2 3 4 5 6 7 8 9 10 11 12 13 > "$TK_TMP/short.txt"
grep -q ' reply ' "$TK_TMP/short.txt" && { cat "$TK_TMP/short.txt"; fail "a datagram under 14 octets got a reply"; }

sizes="14 15 20 27 40 41 42 43 44 45 50 64 100 111 112 113 200 512 1000 1472 4000 9000"
"$UDP_PROBE" -r -w 300 127.0.0.1 $PORT $sizes > "$TK_TMP/random.txt"
while read -r _ sent what rlen; do
	[ "$what" = reply ] || fail "random $sent-octet datagram got no reply"
	max=$sent; [ "$max" -ge 41 ] || max=41
	[ "$rlen" -le "$max" ] || fail "reply of $rlen octets to a $sent-octet request (amplification)"
	[ "$rlen" = "$max" ] || fail "reply of $rlen octets to a $sent-octet request, expected $max (C15)"
done < "$TK_TMP/random.txt"

# Oversized (beyond the 9216-octet receive slot): dropped, counted, no reply.
"$UDP_PROBE" -r -w 200 127.0.0.1 $PORT 9300 20000 65000 > "$TK_TMP/big.txt"
grep -q ' reply ' "$TK_TMP/big.txt" && fail "oversized datagram got a reply"

# A burst of random datagrams of random sizes: nothing breaks.
burst=""
for i in $(seq 200); do burst="$burst $(( (i * 7919) % 1500 ))"; done
"$UDP_PROBE" -r -w 5 127.0.0.1 $PORT $burst > /dev/null

# Still alive and correct.
"$CLIENT" -c 20 -i 2ms -F json -o "$TK_TMP/after.json" -q 127.0.0.1:$PORT
jqcheck "$TK_TMP/after.json" '.summary.twamp.received == 20' "server answers after abuse"
stop_server
jqcheck "$TK_TMP/stats.json" '.dropped_by_reason.short >= 14' "short datagrams counted"
jqcheck "$TK_TMP/stats.json" '.dropped_by_reason.oversize == 3' "oversized datagrams counted"
note "server counters: $(jq -c '{received, reflected, dropped_by_reason}' "$TK_TMP/stats.json")"

# --allow: a sender outside the list is dropped and counted.
start_server --no-control -l 127.0.0.1:$PORT --allow 192.0.2.0/24 --stats "$TK_TMP/stats2.json"
wait_udp_port $PORT
"$UDP_PROBE" -w 200 127.0.0.1 $PORT 41 > "$TK_TMP/allow.txt"
grep -q noreply "$TK_TMP/allow.txt" || fail "--allow did not block 127.0.0.1"
stop_server
jqcheck "$TK_TMP/stats2.json" '.dropped_by_reason.not_allowed == 1' "not_allowed counted"
echo ok
