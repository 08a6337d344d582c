#!/bin/sh
# The shipped examples work as documented: every examples/*.conf (and the
# packaged service's dist/twamp-server.conf) passes
# "twamp-server -c FILE -n" and its canonical print loads back to itself;
# examples/keys.example parses; a server started from control-server.conf
# (addresses, ports and files moved to loopback and the test's directory)
# serves authenticated and encrypted TWAMP to twamp-client with keys of
# keys.example and refuses an open session; keyed TWAMP-Light works with
# its 64-octet key; every experiments/matrices/*.cfg (installed as
# examples too) passes "twamp-experiment run --dry-run -c".
. "$(dirname "$0")/lib.sh"
EX=$TK_SRCDIR/examples
EXPERIMENT=$TK_BUILDDIR/experiments/twamp-experiment

n=0
for cfg in "$EX"/*.conf "$TK_SRCDIR/dist/twamp-server.conf"; do
	name=$(basename "$cfg")
	"$SERVER" -c "$cfg" -n >"$TK_TMP/$name.out" 2>"$TK_TMP/$name.err" ||
		fail "$name: twamp-server -n: $(cat "$TK_TMP/$name.err")"
	"$SERVER" -c "$TK_TMP/$name.out" -n >"$TK_TMP/$name.again" ||
		fail "$name: the canonical print does not load back"
	cmp -s "$TK_TMP/$name.out" "$TK_TMP/$name.again" || fail "$name: canonical print not stable"
	n=$((n + 1))
done
[ "$n" -ge 3 ] || fail "expected at least three configurations, found $n"
note "$n example configurations check"

KEYS=$EX/keys.example
PORT=$(free_udp_port)
CPORT=$(free_udp_port)
# A test-port range of our own, so parallel tests and daemons cannot collide.
TLO=$(free_udp_port)

if "$SERVER" --help | grep -q -- '--control ADDR'; then
	start_server -c "$EX/control-server.conf" -l "127.0.0.1:$PORT" --control "127.0.0.1:$CPORT" \
		--allow 127.0.0.1/32 -k "$KEYS" --stats "$TK_TMP/stats.json" \
		--test-ports "$TLO-$((TLO + 20))"
	wait_udp_port "$PORT"
	for _ in $(seq 100); do
		ss -Hltn "sport = :$CPORT" | grep -q . && break
		sleep 0.05
	done
	"$CLIENT" --control -A auth -u alice -k "$KEYS" -c 20 -i 5ms -F json -o "$TK_TMP/auth.json" -q \
		"127.0.0.1:$CPORT" || fail "authenticated session with key 'alice' failed"
	jqcheck "$TK_TMP/auth.json" '.summary.twamp.received == 20' "auth: 20 replies"
	"$CLIENT" --control -A enc -u router1 -k "$KEYS" -c 20 -i 5ms -F json -o "$TK_TMP/enc.json" -q \
		"127.0.0.1:$CPORT" || fail "encrypted session with key 'router1' failed"
	jqcheck "$TK_TMP/enc.json" '.summary.twamp.received == 20' "enc: 20 replies"
	rc=0
	"$CLIENT" --control -c 2 -i 5ms -q "127.0.0.1:$CPORT" 2>/dev/null || rc=$?
	[ "$rc" = 2 ] || fail "open mode not offered by control-server.conf, yet the client got $rc"
	stop_server
	note "control-server.conf: auth and enc sessions served, open refused"
else
	note "twamp-server has no TWAMP-Control: control-server.conf not served"
fi

if "$SERVER" --help | grep -q -- '--light-key'; then
	start_server --no-control -l "127.0.0.1:$PORT" -k "$KEYS" --light-security auth --light-key light1
	wait_udp_port "$PORT"
	"$CLIENT" -A auth -u light1 -k "$KEYS" -c 20 -i 5ms -F json -o "$TK_TMP/light.json" -q \
		"127.0.0.1:$PORT" || fail "keyed TWAMP-Light with key 'light1' failed"
	jqcheck "$TK_TMP/light.json" '.summary.twamp.received == 20' "keyed Light: 20 replies"
	stop_server
	note "keys.example: keyed TWAMP-Light with light1"
else
	note "twamp-server has no keyed TWAMP-Light: light1 not tried"
fi

if [ -x "$EXPERIMENT" ]; then
	for m in "$TK_SRCDIR"/experiments/matrices/*.cfg; do
		"$EXPERIMENT" run --dry-run -c "$m" >"$TK_TMP/dry.out" 2>&1 ||
			fail "$(basename "$m"): $(tail -1 "$TK_TMP/dry.out")"
	done
	note "experiment matrices: --dry-run accepts every one"
fi
echo "PASS: examples"
