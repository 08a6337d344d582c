#!/bin/sh
# Keyed TWAMP-Light (RFC 5357 Appendix I; checklist K3, K4, B11-B14,
# C18-C21): both ends provisioned out of band with the same 64-octet
# secret (AES Session-key, HMAC Session-key, SID), authenticated and
# encrypted test packets over IPv4 and IPv6, nothing lost; unkeyed or
# wrongly keyed senders get no reply and are counted; with the key of spec
# twamp-control.md §12 the packets on the wire are those of twamp-test.md
# §11.4 (where a capture is possible).
. "$(dirname "$0")/lib.sh"
PORT=$(free_udp_port)
KEYS="$TK_TMP/keys"
# AES key 20..2f, HMAC key 30..4f, SID c6336414 e8fe6f80 00000000 a1b2c3d4 (the spec's vector)
VEC=202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4fc6336414e8fe6f8000000000a1b2c3d4
cat > "$KEYS" <<EOF
# keyed Light: AES key (16) | HMAC key (32) | SID (16)
light-1 hex:$VEC
light-2 hex:$(echo "$VEC" | sed 's/^20/21/')
short text:only-a-passphrase
EOF

start_server --no-control -l "127.0.0.1:$PORT" -l "[::1]:$PORT" -k "$KEYS" --light-security auth \
	--light-key light-1 --stats "$TK_TMP/stats.json"
wait_udp_port "$PORT"

for host in 127.0.0.1 "[::1]"; do
	"$CLIENT" -A auth -u light-1 -k "$KEYS" -c 100 -i 2ms --late-limit 2s -F json -o "$TK_TMP/a.json" -q "$host:$PORT"
	jqcheck "$TK_TMP/a.json" '.summary.twamp.sent == 100 and .summary.twamp.received == 100 and .summary.twamp.lost == 0' "auth over $host"
	jqcheck "$TK_TMP/a.json" '.config.mode == "light" and .config.security == "auth" and .config.packet_octets == 112' "auth over $host: reported"
	jqcheck "$TK_TMP/a.json" '.config.hmac_failures == 0' "auth over $host: replies verify"
	jqcheck "$TK_TMP/a.json" '[.probes[].refl_seq] == [range(0; 100)]' "auth over $host: stateful counter"
done

# Unkeyed, wrongly keyed, wrong mode: no reply, dropped as "auth" (C20).
rc=0
"$CLIENT" -c 5 -i 2ms --late-limit 2s -W 300ms -F json -o "$TK_TMP/open.json" -q "127.0.0.1:$PORT" || rc=$?
[ "$rc" = 1 ] || fail "unkeyed sender: exit $rc"
"$CLIENT" -A auth -u light-2 -k "$KEYS" -c 5 -i 2ms --late-limit 2s -W 300ms -F json -o "$TK_TMP/wrong.json" -q "127.0.0.1:$PORT" || rc=$?
jqcheck "$TK_TMP/wrong.json" '.summary.twamp.received == 0' "wrong key: nothing back"
"$CLIENT" -A enc -u light-1 -k "$KEYS" -c 5 -i 2ms --late-limit 2s -W 300ms -F json -o "$TK_TMP/enc.json" -q "127.0.0.1:$PORT" || rc=$?
jqcheck "$TK_TMP/enc.json" '.summary.twamp.received == 0' "encrypted sender, authenticated reflector: nothing back"
stop_server
# The unkeyed 41-octet packets are shorter than the 48-octet header (C30); the others fail the HMAC.
jqcheck "$TK_TMP/stats.json" '.dropped_by_reason.short == 5 and .dropped_by_reason.auth == 10 and .reflected == 200' "5 short, 10 failing the HMAC, 200 reflected"

# Encrypted, and stateless (the sequence number is copied after decryption, C8).
start_server --no-control -l "127.0.0.1:$PORT" -k "$KEYS" --light-security enc --light-key light-1 --stateless
wait_udp_port "$PORT"
"$CLIENT" -A enc -u light-1 -k "$KEYS" -c 100 -i 2ms --late-limit 2s -F json -o "$TK_TMP/e.json" -q "127.0.0.1:$PORT"
jqcheck "$TK_TMP/e.json" '.summary.twamp.received == 100 and .config.security == "enc"' "enc: 100 back"
jqcheck "$TK_TMP/e.json" '[.probes[] | select(.refl_seq == .seq)] | length == 100' "enc, stateless: sequence copied"

# The packets on the wire are the spec's (twamp-test.md §11.4): sequence 0,
# block 1 AES-ECB and its HMAC, with the vector's keys and SID.
if [ "$(id -u)" = 0 ] && command -v tcpdump >/dev/null; then
	stop_server
	start_server --no-control -l "127.0.0.1:$PORT" -k "$KEYS" --light-security auth --light-key light-1 --stateless
	wait_udp_port "$PORT"
	tcpdump -i lo --immediate-mode -U -w "$TK_TMP/k.pcap" "udp port $PORT" 2>/dev/null &
	TD=$!
	TK_PIDS="$TK_PIDS $TD"
	sleep 1
	"$CLIENT" -A auth -u light-1 -k "$KEYS" -c 1 --zero-padding -q "127.0.0.1:$PORT"
	sleep 1
	kill "$TD"; wait "$TD" 2>/dev/null || true
	tcpdump -r "$TK_TMP/k.pcap" -x 2>/dev/null | grep -E '^\s+0x' | sed 's/^\s*0x[0-9a-f]*:\s*//' | tr -d ' \n' > "$TK_TMP/k.hex"
	# IPv4 20 + UDP 8 octets of header precede each payload; the sender's is first.
	payload=$(cut -c 57-152 "$TK_TMP/k.hex")
	block1=$(echo "$payload" | cut -c 1-32)
	hmac=$(echo "$payload" | cut -c 65-96)
	[ "$block1" = 9067705a55aa2922693f536603e7903c ] || fail "sender block 1 on the wire: $block1"
	[ "$hmac" = d201893880e5448bf23ad352f335b4d2 ] || fail "sender HMAC on the wire: $hmac"
	note "sender packet 0 matches twamp-test.md §11.4"
else
	note "wire check skipped (needs root and tcpdump)"
fi
stop_server

# Provisioning errors are one clear line each.
check_err() { # STATUS PATTERN PROGRAM ARGS...
	local want=$1 pat=$2 rc=0
	shift 2
	"$@" >/dev/null 2>"$TK_TMP/err" || rc=$?
	[ "$rc" = "$want" ] && [ "$(wc -l < "$TK_TMP/err")" = 1 ] && grep -q -- "$pat" "$TK_TMP/err" ||
		{ cat "$TK_TMP/err"; fail "expected exit $want and '$pat' for: $*"; }
}
check_err 1 "the secret of 'short' has 17 octets; keyed Light needs 64" \
	"$SERVER" -f --no-control -l "127.0.0.1:$PORT" -k "$KEYS" --light-security auth --light-key short
check_err 1 "KeyID 'nope' is not in the key file" \
	"$SERVER" -f --no-control -l "127.0.0.1:$PORT" -k "$KEYS" --light-security auth --light-key nope
check_err 1 "key 'light_security': 'auth' needs a key file (keys) and light_key" \
	"$SERVER" -f --no-control -l "127.0.0.1:$PORT" --light-security auth
check_err 2 "keyed TWAMP-Light needs a 64-octet secret for 'short'" \
	"$CLIENT" -A auth -u short -k "$KEYS" -c 1 "127.0.0.1:$PORT"
check_err 2 "option -A: 'mixed' exists only with --control" \
	"$CLIENT" -A mixed -u light-1 -k "$KEYS" -c 1 "127.0.0.1:$PORT"
echo ok
