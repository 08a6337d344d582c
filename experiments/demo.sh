#!/bin/sh
# The quick-start main job: the quick preset of the paper's load matrix on
# the network-namespace testbed (TWAMP, twamp-client ICMP and iputils ping
# side by side), then the comparison tables and the figures.
# Usage: demo.sh [OUTDIR]   (default ./demo-results; needs root)
set -eu
: "${TK_BUILDDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
EXP="$TK_BUILDDIR/experiments/twamp-experiment"
OUT=${1:-demo-results}

if [ "$(id -u)" != 0 ]; then
	echo "demo: the netns testbed needs root (network namespaces, tc, cgroups)" >&2
	exit 1
fi
if [ -e "$OUT/manifest.json" ]; then
	echo "demo: $OUT already holds a run; continuing it (--resume)"
	"$EXP" run --preset quick --resume -o "$OUT"
else
	"$EXP" run --preset quick --dry-run | tail -1
	"$EXP" run --preset quick -o "$OUT"
fi
echo
"$EXP" report "$OUT"
echo
echo "== figures"
"$EXP" plot "$OUT"
