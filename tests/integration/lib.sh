# Shared helpers for the integration tests (sourced).  Tests exit 77 to
# skip with a reason, 1 on failure; every process and namespace a test
# creates is removed by its EXIT trap.
set -eu

: "${TK_BUILDDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TK_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
SERVER="$TK_BUILDDIR/twamp-server/twamp-server"
CLIENT="$TK_BUILDDIR/twamp-client/twamp-client"
UDP_PROBE="$TK_BUILDDIR/tests/tools/udp_probe"
TK_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tk-test.XXXXXX")
TK_PIDS=""
TK_NETNS=""

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "# $*"; }

tk_cleanup() {
	for pid in $TK_PIDS; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in $TK_PIDS; do
		wait "$pid" 2>/dev/null || true
	done
	for ns in $TK_NETNS; do
		ip netns del "$ns" 2>/dev/null || true
	done
	rm -rf "$TK_TMP"
}
trap tk_cleanup EXIT
trap 'exit 1' INT TERM

need_tool() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || skip "$t not installed"
	done
}

need_root() {
	[ "$(id -u)" = 0 ] || skip "needs root (network namespaces / capture)"
}

[ -x "$SERVER" ] || skip "twamp-server not built"
[ -x "$CLIENT" ] || skip "twamp-client not built"
need_tool jq

# wait_udp_port [NETNS] PORT: until something listens on UDP PORT (30 s: a
# sanitizer build on a loaded machine starts slowly).
wait_udp_port() {
	local ns="" port
	if [ $# = 2 ]; then ns=$1; port=$2; else port=$1; fi
	for _ in $(seq 600); do
		if [ -n "$ns" ]; then
			ip netns exec "$ns" ss -Hlun "sport = :$port" | grep -q . && return 0
		else
			ss -Hlun "sport = :$port" | grep -q . && return 0
		fi
		sleep 0.05
	done
	fail "nothing listens on UDP port $port"
}

# start_server ARGS...: a foreground reflector in the background; sets SERVER_PID.
start_server() {
	"$SERVER" -f "$@" >"$TK_TMP/server.log" 2>&1 &
	SERVER_PID=$!
	TK_PIDS="$TK_PIDS $SERVER_PID"
}

# stop_server: SIGTERM and wait; fails if the server did not exit cleanly.
stop_server() {
	kill -TERM "$SERVER_PID"
	local rc=0
	wait "$SERVER_PID" || rc=$?
	TK_PIDS=$(echo "$TK_PIDS" | sed "s/ $SERVER_PID\b//")
	[ "$rc" = 0 ] || { cat "$TK_TMP/server.log" >&2; fail "server exited with $rc"; }
}

# jqcheck FILE EXPR MESSAGE: fails unless jq -e EXPR is true on FILE.
jqcheck() {
	jq -e "$2" "$1" >/dev/null || fail "$3 ($(jq -c "$2" "$1" 2>&1 | head -c 300))"
}

# wait_tcp_port PORT: until something listens on TCP PORT (30 s).
wait_tcp_port() {
	for _ in $(seq 600); do
		ss -Hltn "sport = :$1" | grep -q . && return 0
		sleep 0.05
	done
	cat "$TK_TMP/server.log" >&2
	fail "nothing listens on TCP port $1"
}

# free_tcp_port: a TCP port no socket uses.  Drawn from 20000-31999, below
# the kernel's ephemeral range (32768-60999), so no outgoing connection of
# another test can take it between our check and the server's bind.
free_tcp_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		ss -Htan "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	fail "no free TCP port found"
}

# free_udp_port: a UDP port nobody listens on, so parallel runs do not collide.
free_udp_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		ss -Huan "sport = :$p" | grep -q . || { echo "$p"; return 0; }
	done
	fail "no free UDP port found"
}
