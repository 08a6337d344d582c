#!/bin/sh
# twamp-server as a service: daemon mode with a pid file, privilege drop
# after binding (the running server holds no root), periodic --stats,
# clean shutdown on SIGTERM, one-line errors for things it cannot do.
. "$(dirname "$0")/lib.sh"
need_root
PORT=$(free_udp_port)

# Daemon: returns at once, writes its pid, serves, exits on SIGTERM and removes the pid file
# (its directory is writable by the user it runs as, as /run/twamp-server would be).
chmod 711 "$TK_TMP"
mkdir -m 1777 "$TK_TMP/run"
"$SERVER" --no-control -l 127.0.0.1:$PORT --pid-file "$TK_TMP/run/srv.pid" --user nobody \
	--stats "$TK_TMP/run/stats.json" --stats-interval 200ms
for _ in $(seq 100); do [ -s "$TK_TMP/run/srv.pid" ] && break; sleep 0.05; done
pid=$(cat "$TK_TMP/run/srv.pid")
TK_PIDS="$TK_PIDS $pid"
[ -d "/proc/$pid" ] || fail "daemon not running"
# The privilege drop held: real, effective, saved and filesystem uids are nobody's.
uid=$(id -u nobody)
grep -q "^Uid:[[:space:]]*$uid[[:space:]]*$uid[[:space:]]*$uid[[:space:]]*$uid\$" /proc/$pid/status ||
	{ grep Uid /proc/$pid/status; fail "server still holds root"; }
grep -q '^CapEff:[[:space:]]*0*$' /proc/$pid/status || fail "server kept capabilities"
wait_udp_port $PORT
"$CLIENT" -c 20 -i 2ms -F json -o "$TK_TMP/d.json" -q 127.0.0.1:$PORT
jqcheck "$TK_TMP/d.json" '.summary.twamp.received == 20' "daemon answers"
sleep 0.5
jqcheck "$TK_TMP/run/stats.json" '.received == 20' "periodic stats written while running"
kill -TERM "$pid"
for _ in $(seq 100); do [ -d "/proc/$pid" ] || break; sleep 0.05; done
[ -d "/proc/$pid" ] && fail "daemon did not stop on SIGTERM"
TK_PIDS=""
[ -e "$TK_TMP/run/srv.pid" ] && fail "pid file left behind"

# One-line errors, non-zero exit: port taken, unknown user, bad address, bad option value.
start_server --no-control -l 127.0.0.1:$PORT
wait_udp_port $PORT
check_err() { # EXPECTED-STATUS PATTERN ARGS...
	local want=$1 pat=$2 rc=0; shift 2
	"$SERVER" -f "$@" 2>"$TK_TMP/err" >/dev/null || rc=$?
	[ "$rc" = "$want" ] && [ "$(wc -l < "$TK_TMP/err")" = 1 ] && grep -q "$pat" "$TK_TMP/err" ||
		{ cat "$TK_TMP/err"; fail "expected exit $want and '$pat' for: $*"; }
}
check_err 2 "Address already in use" --no-control -l 127.0.0.1:$PORT
check_err 2 "no such user" --no-control -l 127.0.0.1:0 --user tk-no-such-user
check_err 2 "not an address" --no-control -l 'not-an-address!:5'
check_err 1 "refwait" --no-control --refwait 10parsecs
check_err 1 "max_sessions" --no-control --max-sessions 0
check_err 1 "unknown option" --frobnicate
stop_server
echo ok
