#!/bin/sh
# Two network namespaces joined by a veth pair: the reflector on the
# default port 862 in one, the sender in the other, IPv4 and IPv6.
# Checks what loopback cannot show: the reply leaves from the address the
# request was sent to (C31), Sender TTL is the received TTL (C9), replies
# go out with TTL 255 (C11), DSCP copied or configured with ECN cleared (C13).
. "$(dirname "$0")/lib.sh"
need_root
need_tool ip tcpdump

A=tkt-$$a
B=tkt-$$b
ip netns add "$A"
TK_NETNS="$TK_NETNS $A"
ip netns add "$B"
TK_NETNS="$TK_NETNS $B"
ip link add tk-t$$x netns "$A" type veth peer name tk-t$$y netns "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up
ip -n "$A" addr add 198.18.1.1/24 dev tk-t$$x
ip -n "$A" addr add 198.18.1.3/24 dev tk-t$$x
ip -n "$A" addr add fd00:18::1/64 dev tk-t$$x nodad
ip -n "$B" addr add 198.18.1.2/24 dev tk-t$$y
ip -n "$B" addr add fd00:18::2/64 dev tk-t$$y nodad
ip -n "$A" link set tk-t$$x up
ip -n "$B" link set tk-t$$y up

in_a() { ip netns exec "$A" "$@"; }
in_b() { ip netns exec "$B" "$@"; }

ip netns exec "$A" "$SERVER" -f --no-control >"$TK_TMP/server.log" 2>&1 &
SERVER_PID=$!
TK_PIDS="$TK_PIDS $SERVER_PID"
wait_udp_port "$A" 862

# C31: sent to the secondary address; the sender accepts replies only from
# the address it probed, so zero loss means the reply came from there.
in_b "$CLIENT" -c 50 -i 2ms -F json -o "$TK_TMP/sec.json" -q 198.18.1.3
jqcheck "$TK_TMP/sec.json" '.summary.twamp.received == 50' "reply from the probed (secondary) address"

# C9: Sender TTL reports what arrived.
in_b "$CLIENT" -c 10 -i 2ms -T 64 -F json -o "$TK_TMP/ttl.json" -q 198.18.1.1
jqcheck "$TK_TMP/ttl.json" '[.probes[] | select(.ttl == 64)] | length == 10' "Sender TTL 64"
in_b "$CLIENT" -c 10 -i 2ms -T 7 -F json -o "$TK_TMP/ttl6.json" -q '[fd00:18::1]'
jqcheck "$TK_TMP/ttl6.json" '[.probes[] | select(.ttl == 7)] | length == 10' "Sender Hop Limit 7 (IPv6)"

# C11 and C13: capture the replies' TTL and TOS.
capture_replies() { # OUT CLIENT-ARGS...
	local out=$1; shift
	ip netns exec "$B" tcpdump -Z root --immediate-mode -i tk-t$$y -U -n -v -c 5 "udp and src port 862" >"$out" 2>"$out.err" &
	local cap=$!
	TK_PIDS="$TK_PIDS $cap"
	for _ in $(seq 100); do grep -q 'listening on' "$out.err" && break; sleep 0.05; done
	in_b "$CLIENT" -c 5 -i 5ms -q -F json -o "$TK_TMP/cap.json" "$@"
	wait "$cap" || true
	TK_PIDS=$(echo "$TK_PIDS" | sed "s/ $cap\b//")
}
capture_replies "$TK_TMP/copy.txt" -D 46 198.18.1.1
[ "$(grep -c 'tos 0xb8, ttl 255' "$TK_TMP/copy.txt")" = 5 ] ||
	{ cat "$TK_TMP/copy.txt"; fail "replies should copy DSCP 46 (tos 0xb8) with TTL 255"; }
capture_replies "$TK_TMP/copy6.txt" -D 46 fd00:18::1
[ "$(grep -cE 'class 0xb8, .*hlim 255' "$TK_TMP/copy6.txt")" = 5 ] ||
	{ cat "$TK_TMP/copy6.txt"; fail "IPv6 replies should copy traffic class 0xb8 with hop limit 255"; }
stop_server

ip netns exec "$A" "$SERVER" -f --no-control --dscp 10 -l 198.18.1.1 >"$TK_TMP/server.log" 2>&1 &
SERVER_PID=$!
TK_PIDS="$TK_PIDS $SERVER_PID"
wait_udp_port "$A" 862
capture_replies "$TK_TMP/fixed.txt" -D 46 198.18.1.1
[ "$(grep -c 'tos 0x28, ttl 255' "$TK_TMP/fixed.txt")" = 5 ] ||
	{ cat "$TK_TMP/fixed.txt"; fail "replies should carry the configured DSCP 10 (tos 0x28)"; }
stop_server
echo ok
