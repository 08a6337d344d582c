#!/bin/sh
# twamp-capture on the reference captures (tests/data/pcaps) as an
# unprivileged user: file input needs no capture rights.  Checks the
# matched probe counts per mode and how each was paired, that JSON, CSV and
# text agree, and that the failures a user meets (missing file, truncated
# pcap, unknown interface, live capture without permission, bad command
# line) give one clear line on stderr and a non-zero exit status.
. "$(dirname "$0")/lib.sh"
CAPTURE="$TK_BUILDDIR/experiments/twamp-capture"
[ -x "$CAPTURE" ] || skip "twamp-capture not built (needs libpcap)"

# Run as nobody when root (setpriv drops every capability), else as ourselves.
if [ "$(id -u)" = 0 ]; then
	need_tool setpriv
	as_user() {
		setpriv --reuid="$(id -u nobody)" --regid="$(id -g nobody)" --clear-groups \
			--inh-caps=-all "$@"
	}
else
	as_user() { "$@"; }
fi

# the copies must be readable by that user: world-readable files in a world-searchable dir
chmod 711 "$TK_TMP"
D="$TK_TMP/pcaps"
mkdir -m 755 "$D"
for f in "$TK_SRCDIR"/tests/data/pcaps/*.pcap; do
	install -m 644 "$f" "$D/"
done

# FILE PORT BY_ORDER BY_TIMESTAMP: ten probes matched, paired as expected
check_file() {
	local f=$1 port=$2 order=$3 ts=$4 out="$TK_TMP/$1.json"
	as_user "$CAPTURE" -r lo="$D/$f" --twamp-port "$port" -F json >"$out" ||
		fail "$f: twamp-capture failed as $(as_user id -un)"
	jqcheck "$out" ".points.lo.twamp | .n == 10 and .requests == 10 and .matched == 10 and
		.unmatched == 0 and .orphan_replies == 0 and .matched_by_order == $order and
		.matched_by_timestamp == $ts" "$f: 10 probes matched"
	jqcheck "$out" '[.probes[] | select(.proto == "twamp" and .rtt_ns.lo > 0)] | length == 10' \
		"$f: a positive RTT for every probe"
	jqcheck "$out" '.missing == [] and .points.lo.file != null and .points.lo.dropped == null' \
		"$f: nothing missing, file point"
}
check_file twamp-unauth-twping-twampd.pcap 18762 0 0
check_file twamp-mixed-twping-twampd.pcap 18765 0 0
check_file twamp-unauth-twampy-controller-twampd.pcap 20001 0 0
check_file twamp-auth-twping-twampd.pcap 18762 0 10
check_file twamp-encrypted-twping-twampd.pcap 18761 10 0
check_file twamp-light-twampy.pcap 20001 10 0

# the same numbers in CSV and text
U="$D/twamp-unauth-twping-twampd.pcap"
as_user "$CAPTURE" -r lo="$U" --twamp-port 18762 -F csv >"$TK_TMP/u.csv"
[ "$(head -1 "$TK_TMP/u.csv")" = "proto,flow,seq,point,rtt_ns" ] || fail "CSV header"
[ "$(sed -n 2p "$TK_TMP/u.csv")" = "twamp,127.0.0.1:19765>127.0.0.1:18762,0,lo,545000" ] ||
	fail "CSV first row: $(sed -n 2p "$TK_TMP/u.csv")"
[ "$(wc -l <"$TK_TMP/u.csv")" = 11 ] || fail "CSV: 10 probe rows expected"
as_user "$CAPTURE" -r lo="$U" --twamp-port 18762 >"$TK_TMP/u.txt"
grep -Eq '^lo +10 +0\.060 +0\.098 +0\.[0-9]+ +0\.545 ' "$TK_TMP/u.txt" ||
	{ cat "$TK_TMP/u.txt"; fail "text table: n 10, min 0.060, median 0.098, max 0.545 ms"; }
# two files as two points, -o and --point-order
as_user "$CAPTURE" -r a="$U" -r b="$U" --twamp-port 18762 --point-order b,a -F json >"$TK_TMP/ab.json"
jqcheck "$TK_TMP/ab.json" '(.points | keys_unsorted) == ["b", "a"] and
	([.probes[] | .rtt_ns.a == .rtt_ns.b] | all)' "two points in the given order"

# expect_error PATTERN CMD...: non-zero exit, exactly one stderr line matching PATTERN
expect_error() {
	local pat=$1 rc=0
	shift
	"$@" >"$TK_TMP/err.out" 2>"$TK_TMP/err.txt" || rc=$?
	[ "$rc" != 0 ] || fail "expected failure: $*"
	[ "$(wc -l <"$TK_TMP/err.txt")" = 1 ] || { cat "$TK_TMP/err.txt"; fail "not one line: $*"; }
	grep -Eq "$pat" "$TK_TMP/err.txt" || fail "message '$(cat "$TK_TMP/err.txt")' lacks '$pat'"
	note "$(cat "$TK_TMP/err.txt")"
}
expect_error '^twamp-capture: lo: cannot open .*/nope\.pcap: No such file or directory$' \
	as_user "$CAPTURE" -r lo="$D/nope.pcap"
size=$(wc -c <"$U")
head -c $((size - 10)) "$U" >"$D/truncated.pcap"
chmod 644 "$D/truncated.pcap"
expect_error '^twamp-capture: lo: .*/truncated\.pcap: truncated dump file' \
	as_user "$CAPTURE" -r lo="$D/truncated.pcap" --twamp-port 18762
head -c 10 "$U" >"$D/header.pcap"
chmod 644 "$D/header.pcap"
expect_error '^twamp-capture: lo: .*header\.pcap: truncated dump file' as_user "$CAPTURE" -r lo="$D/header.pcap"
echo "not a capture file" >"$D/text.pcap"
chmod 644 "$D/text.pcap"
expect_error 'unknown file format' as_user "$CAPTURE" -r lo="$D/text.pcap"
if [ "$(id -u)" = 0 ]; then
	expect_error '^twamp-capture: x: no such interface tknosuch0$' "$CAPTURE" -i x=tknosuch0 -d 1
	expect_error '^twamp-capture: x: no network namespace tk-nosuch' "$CAPTURE" -i x=lo@tk-nosuch -d 1
	expect_error '^twamp-capture: x: cannot enter network namespace .*\(needs CAP_SYS_ADMIN\)$' \
		as_user "$CAPTURE" -i x=lo@/proc/self/ns/net -d 1
fi
expect_error '^twamp-capture: x: no permission to capture on lo \(needs root or CAP_NET_RAW\)$' \
	as_user "$CAPTURE" -i x=lo -d 1
expect_error 'cannot be mixed' "$CAPTURE" -i a=lo -r b="$U"
expect_error 'point a given twice' "$CAPTURE" -r a="$U" -r a="$U"
expect_error 'does not place point b' "$CAPTURE" -r a="$U" -r b="$U" --point-order a
expect_error 'not a port' "$CAPTURE" -r a="$U" --twamp-port 70000
expect_error 'bad point name' "$CAPTURE" -r ../x="$U"
echo ok
