#!/bin/sh
# The quick-start main job (until the experiment harness lands): a local
# reflector on loopback and a TWAMP-Light sender run over IPv4 and IPv6,
# printing the summaries.
set -eu
: "${TK_BUILDDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
SERVER="$TK_BUILDDIR/twamp-server/twamp-server"
CLIENT="$TK_BUILDDIR/twamp-client/twamp-client"
PORT=${TK_DEMO_PORT:-18862}

"$SERVER" -f --no-control -l "127.0.0.1:$PORT" -l "[::1]:$PORT" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do ss -Hlun "sport = :$PORT" | grep -q . && break; sleep 0.05; done

echo "== TWAMP-Light over IPv4 loopback: 1000 probes at 1 ms"
"$CLIENT" -c 1000 -i 1ms "127.0.0.1:$PORT"
echo
echo "== TWAMP-Light over IPv6 loopback: 1000 probes at 1 ms"
"$CLIENT" -c 1000 -i 1ms "[::1]:$PORT"
