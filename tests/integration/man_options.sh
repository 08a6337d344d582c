#!/bin/sh
# The manual pages against the programs, generically, so that a new option
# cannot be added to a program without its page:
#   - every option (-x, --long) that "PROG --help" prints is the tag of an
#     item (.TP) in the OPTIONS section of PROG's page;
#   - "PROG --version" prints "PROG VERSION" with the package's version, and
#     the page's .TH line names the same "twampkit VERSION";
#   - the exit codes that --help lists are exactly those of the page's EXIT
#     STATUS section, and a few are provoked for real (--help and --version
#     exit 0, an unknown option exits with the documented usage code);
#   - every key that "twamp-server -n" prints is an item of twampkit.conf(5)
#     whose tag is "key = default" exactly as -n prints it (group keys as
#     group.key), and likewise every key of experiments/matrices/quick.cfg
#     (the matrix defaults);
#   - every page has NAME, SYNOPSIS, DESCRIPTION and EXAMPLES sections and
#     formats without a groff warning.
set -eu

srcdir=${TK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TK_BUILDDIR:-$srcdir}
man=$srcdir/man

failed=0
checked=0
fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}
note() { echo "# $*"; }

version=$(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$builddir/autoconfig.h" 2>/dev/null || true)
[ -n "$version" ] || { echo "SKIP: no PACKAGE_VERSION in $builddir/autoconfig.h"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/man_options.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# roff source on stdin -> plain text: font escapes dropped, \- as -, etc.
# Macro lines (.BR a ", " b) lose the macro and their argument quotes first.
unroff() {
	sed -e '/^\.[A-Z][A-Z]* /{s/^\.[A-Z][A-Z]* //;s/"//g;}' \
	    -e 's/\\f[BIRP]//g' -e 's/\\f(..//g' -e 's/\\-/-/g' -e 's/\\(dq/"/g' \
	    -e "s/\\\\(aq/'/g" -e 's/\\(mu/x/g' -e 's/\\~/ /g' -e 's/\\&//g' -e 's/\\e/\\/g'
}

# The tag lines (the line after .TP) of section SECTION (all if empty).
tags() { # FILE SECTION
	awk -v want="$2" '
		/^\.SH / { sec = substr($0, 5); gsub(/"/, "", sec); next }
		want != "" && sec != want { tp = 0; next }
		tp { print; tp = 0; next }
		/^\.TP/ { tp = 1 }' "$1" | unroff
}

# Option tokens (-x, --long-name) in the text on stdin, one per line, sorted.
options() {
	grep -oE '(^|[][[:space:],|(])--?[A-Za-z0-9][A-Za-z0-9-]*' |
		sed 's/^[^-]*//' | sort -u
}

# The exit codes of "Exit status: 0 ..., 1 ..." at the end of --help.
help_codes() {
	sed -n '/^Exit status/,$p' | tr '\n' ' ' | grep -oE '(^|[ ,:])[0-9]+ ' | tr -dc '0-9\n ' |
		tr ' ' '\n' | grep . | sort -un
}

# check_program PROG PATH PAGE USAGE_RC
check_program() {
	prog=$1 bin=$2 page=$3 usage_rc=$4
	if [ ! -x "$bin" ]; then
		note "$prog not built: its page is not checked"
		return 0
	fi
	if [ ! -f "$page" ]; then
		fail "$prog: no manual page $page"
		return 0
	fi
	checked=$((checked + 1))

	rc=0
	"$bin" --help >"$tmp/help" 2>&1 || rc=$?
	[ "$rc" = 0 ] || fail "$prog --help exited with $rc"
	options <"$tmp/help" >"$tmp/help.opts"
	[ -s "$tmp/help.opts" ] || fail "$prog --help lists no option"
	tags "$page" OPTIONS | options >"$tmp/man.opts"
	missing=$(comm -23 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
	if [ -n "$missing" ]; then
		fail "$prog: options in --help without an item in $(basename "$page"): $missing"
	else
		note "$prog: $(wc -l <"$tmp/help.opts") options in --help, all documented"
	fi
	extra=$(comm -13 "$tmp/help.opts" "$tmp/man.opts" | tr '\n' ' ')
	[ -z "$extra" ] || note "$prog: documented but not in --help: $extra"

	rc=0
	out=$("$bin" --version 2>&1) || rc=$?
	[ "$rc" = 0 ] || fail "$prog --version exited with $rc"
	[ "$out" = "$prog $version" ] || fail "$prog --version printed '$out', want '$prog $version'"

	help_codes <"$tmp/help" >"$tmp/help.codes"
	tags "$page" "EXIT STATUS" | grep -oE '^[0-9]+$' | sort -un >"$tmp/man.codes" || true
	[ -s "$tmp/help.codes" ] || fail "$prog --help states no exit status"
	cmp -s "$tmp/help.codes" "$tmp/man.codes" ||
		fail "$prog: exit codes in --help ($(tr '\n' ' ' <"$tmp/help.codes")) differ from EXIT STATUS ($(tr '\n' ' ' <"$tmp/man.codes"))"
	rc=0
	"$bin" --no-such-option >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$usage_rc" ] || fail "$prog --no-such-option exited with $rc, want $usage_rc"
	grep -qx "$usage_rc" "$tmp/man.codes" || fail "$prog: usage exit code $usage_rc not documented"
}

# check_rc PROG EXPECTED CMD...: a documented exit code, provoked.
check_rc() {
	prog=$1 want=$2
	shift 2
	rc=0
	"$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "$prog: '$*' exited with $rc, want $want"
}

server=$builddir/twamp-server/twamp-server
client=$builddir/twamp-client/twamp-client
capture=$builddir/experiments/twamp-capture
experiment=$builddir/experiments/twamp-experiment

check_program twamp-server "$server" "$man/twamp-server.8" 1
check_program twamp-client "$client" "$man/twamp-client.1" 2
check_program twamp-capture "$capture" "$man/twamp-capture.1" 2
check_program twamp-experiment "$experiment" "$man/twamp-experiment.1" 1

if [ -x "$server" ]; then
	check_rc twamp-server 0 "$server" -n
	check_rc twamp-server 1 "$server" -n -c "$tmp/no-such-file.conf"
	check_rc twamp-server 1 "$server" -n --refwait 0s
fi
if [ -x "$client" ]; then
	check_rc twamp-client 2 "$client" -c 0 127.0.0.1
	check_rc twamp-client 2 "$client"
fi
if [ -x "$capture" ]; then
	check_rc twamp-capture 2 "$capture"
	check_rc twamp-capture 2 "$capture" -r "a=$tmp/no-such-file.pcap"
fi
if [ -x "$experiment" ]; then
	check_rc twamp-experiment 1 "$experiment" no-such-command
	check_rc twamp-experiment 1 "$experiment" run --dry-run -c "$tmp/no-such-file.cfg"
	check_rc twamp-experiment 2 "$experiment" report "$tmp/no-such-dir"
	check_rc twamp-experiment 0 "$experiment" run --dry-run --preset ci
fi

# "key = value" of the configuration, normalized: group keys as group.key,
# no blanks, no final ';'.
keyvals() {
	awk '
		/^[[:space:]]*(#|\/\/|$)/ { next }
		/^[[:space:]]*};/ { group = ""; next }
		/^[[:space:]]*[A-Za-z_][A-Za-z0-9_]*[[:space:]]*=[[:space:]]*{[[:space:]]*$/ {
			group = $1 "."; next }
		{
			line = acc $0
			if (line !~ /;[[:space:]]*$/) { acc = line; next }
			acc = ""
			gsub(/[[:space:]]/, "", line)
			sub(/;$/, "", line)
			print group line
		}'
}

conf=$man/twampkit.conf.5
tags "$conf" "" | tr -d ' \t' | sort -u >"$tmp/conf.tags"
if [ -x "$server" ]; then
	"$server" -n | keyvals >"$tmp/server.keys"
	n=$(wc -l <"$tmp/server.keys")
	[ "$n" -gt 0 ] || fail "twamp-server -n printed no key"
	while IFS= read -r kv; do
		grep -qxF "$kv" "$tmp/conf.tags" ||
			fail "twampkit.conf(5): no item '${kv%%=*} = ${kv#*=}' (as twamp-server -n prints it)"
	done <"$tmp/server.keys"
	note "twamp-server: $n configuration keys, each with its default in twampkit.conf(5)"
fi
keyvals <"$srcdir/experiments/matrices/quick.cfg" >"$tmp/matrix.keys"
while IFS= read -r kv; do
	grep -qxF "$kv" "$tmp/conf.tags" ||
		fail "twampkit.conf(5): no item '${kv%%=*} = ${kv#*=}' (as quick.cfg sets it)"
done <"$tmp/matrix.keys"
note "matrix: $(wc -l <"$tmp/matrix.keys") keys, each with its default in twampkit.conf(5)"

for page in "$man"/*.[1-8]; do
	grep -q "^\.TH .*\"twampkit $version\"" "$page" ||
		fail "$(basename "$page"): .TH does not name twampkit $version"
	for sec in NAME SYNOPSIS DESCRIPTION EXAMPLES "SEE ALSO"; do
		grep -q "^\.SH \"*$sec\"*\$" "$page" || fail "$(basename "$page"): no $sec section"
	done
	if command -v groff >/dev/null 2>&1; then
		warn=$(LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z "$page" 2>&1 || true)
		[ -z "$warn" ] || fail "$(basename "$page"): groff warnings: $warn"
	fi
done

[ "$checked" -gt 0 ] || { echo "SKIP: no program built"; exit 77; }
if [ "$failed" -gt 0 ]; then
	echo "$failed failure(s)"
	exit 1
fi
echo "PASS: manual pages agree with $checked programs"
