#!/bin/sh
# tshark as an independent oracle: every packet of a run decodes as
# TWAMP-Test, sender sequence numbers are 0..N-1, and every reply has the
# UDP length of its request (C15), for default and large padding.
. "$(dirname "$0")/lib.sh"
PORT=$(free_udp_port)
need_root
need_tool tshark tcpdump

run_capture() { # PADDING COUNT
	local pad=$1 n=$2 pcap="$TK_TMP/cap-$1.pcap"
	# -c: tcpdump stops by itself once it has every packet, so none is lost to a kill.
	tcpdump -Z root --immediate-mode -c $((2 * n)) -i lo -U -w "$pcap" -n "udp port $PORT" >"$TK_TMP/tcpdump.log" 2>&1 &
	local cap=$!
	TK_PIDS="$TK_PIDS $cap"
	for _ in $(seq 100); do grep -q 'listening on' "$TK_TMP/tcpdump.log" && break; sleep 0.05; done
	"$CLIENT" -c "$n" -i 2ms -s "$pad" -F json -o "$TK_TMP/run-$pad.json" -q 127.0.0.1:$PORT
	for _ in $(seq 100); do kill -0 "$cap" 2>/dev/null || break; sleep 0.1; done
	kill -TERM "$cap" 2>/dev/null || true
	wait "$cap" || true
	TK_PIDS=$(echo "$TK_PIDS" | sed "s/ $cap\b//")

	tshark -r "$pcap" -d udp.port==$PORT,twamp.test -T fields -E separator=, \
		-e udp.srcport -e udp.dstport -e udp.length -e _ws.col.Protocol > "$TK_TMP/fields-$pad.csv"
	local total
	total=$(wc -l < "$TK_TMP/fields-$pad.csv")
	[ "$total" = $((2 * n)) ] || fail "padding $pad: $total packets captured, expected $((2 * n))"
	grep -v ',TWAMP-Test$' "$TK_TMP/fields-$pad.csv" && fail "padding $pad: packets not decoded as TWAMP-Test"
	# Requests are 8 + 14 + padding octets of UDP; replies the same, or the
	# 41-octet reflector header (49) when the request is shorter.
	local want_req=$((8 + 14 + pad)) want_rep=$((8 + 14 + pad))
	[ "$want_rep" -ge 49 ] || want_rep=49
	awk -F, -v q="$want_req" -v r="$want_rep" -v p="$PORT" '
		$2 == p && $3 != q { bad++ }
		$1 == p && $3 != r { bad++ }
		END { exit bad ? 1 : 0 }' "$TK_TMP/fields-$pad.csv" ||
		fail "padding $pad: UDP lengths should be $want_req/$want_rep: $(cut -d, -f3 "$TK_TMP/fields-$pad.csv" | sort | uniq -c | tr '\n' ' ')"
	# Requests (to the reflector port) carry sequence numbers 0..N-1, in order.
	tshark -r "$pcap" -d udp.port==$PORT,twamp.test -Y "udp.dstport == $PORT" -T fields \
		-e twamp.test.seq_number > "$TK_TMP/seq-$pad.txt"
	seq 0 $((n - 1)) | diff -q - "$TK_TMP/seq-$pad.txt" >/dev/null ||
		fail "padding $pad: request sequence numbers are not 0..$((n - 1))"
	# Replies: tshark decodes >= 41-octet payloads as reflector packets; the
	# Sender Sequence Number of each reply matches a request, in order.
	tshark -r "$pcap" -d udp.port==$PORT,twamp.test -Y "udp.srcport == $PORT" -T fields \
		-e twamp.test.sender_seq_number > "$TK_TMP/sseq-$pad.txt"
	seq 0 $((n - 1)) | diff -q - "$TK_TMP/sseq-$pad.txt" >/dev/null ||
		fail "padding $pad: reply sender sequence numbers are not 0..$((n - 1))"
	note "padding $pad: $total packets, all TWAMP-Test, UDP length $want_req -> $want_rep"
}

start_server --no-control -l 127.0.0.1:$PORT
wait_udp_port $PORT
run_capture 27 100
run_capture 200 50
run_capture 0 50
stop_server
echo ok
