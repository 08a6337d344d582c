#!/bin/sh
# Config golden tests (bgpd-regress config/ style): every tests/data/config
# input X.cfg goes through `twamp-server -c X.cfg -n` and the canonical text
# must equal X.ok, and that output must load back to itself; every
# bad-X.cfg must fail with exit status 1 and exactly one stderr line,
# "twamp-server: " followed by bad-X.err.  The script runs from the data
# directory so file names in messages are the stable relative ones.
set -eu

srcdir=${TK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TK_BUILDDIR:-$srcdir}
bin=$builddir/twamp-server/twamp-server
data=$srcdir/tests/data/config

if [ ! -x "$bin" ]; then
	echo "SKIP: $bin is not built"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/config_golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

cd "$data"
failed=0
ran=0

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

for cfg in *.cfg; do
	case $cfg in
	bad-*) continue ;;
	esac
	ran=$((ran + 1))
	ok=${cfg%.cfg}.ok
	if [ ! -f "$ok" ]; then
		fail "$cfg: no expected output $ok"
		continue
	fi
	rc=0
	"$bin" -c "$cfg" -n >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "$cfg: exit status $rc, stderr:"
		cat "$tmp/err"
		continue
	fi
	if ! diff -u "$ok" "$tmp/out"; then
		fail "$cfg: canonical output differs from $ok (diff above: - expected, + got)"
		continue
	fi
	# The canonical form is a fixed point: it loads back to the same text.
	rc=0
	"$bin" -c "$tmp/out" -n >"$tmp/out2" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 0 ] || ! diff -u "$tmp/out" "$tmp/out2"; then
		fail "$cfg: canonical output does not reload to itself (exit $rc)"
		cat "$tmp/err"
		continue
	fi
	echo "ok: $cfg"
done

for cfg in bad-*.cfg; do
	[ -f "$cfg" ] || continue
	ran=$((ran + 1))
	errf=${cfg%.cfg}.err
	if [ ! -f "$errf" ]; then
		fail "$cfg: no expected message $errf"
		continue
	fi
	printf 'twamp-server: %s\n' "$(cat "$errf")" >"$tmp/want"
	rc=0
	"$bin" -c "$cfg" -n >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" -ne 1 ]; then
		fail "$cfg: exit status $rc, expected 1"
		continue
	fi
	if [ -s "$tmp/out" ]; then
		fail "$cfg: printed a configuration although it is invalid"
		continue
	fi
	if ! diff -u "$tmp/want" "$tmp/err"; then
		fail "$cfg: error message differs from $errf (diff above: - expected, + got)"
		continue
	fi
	echo "ok: $cfg"
done

if [ "$ran" -eq 0 ]; then
	echo "FAIL: no test inputs in $data"
	exit 1
fi
if [ "$failed" -ne 0 ]; then
	echo "$failed of $ran config golden tests failed"
	exit 1
fi
echo "all $ran config golden tests passed"
exit 0
