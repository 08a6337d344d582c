#!/bin/sh
# make install / make uninstall honour prefix, sysconfdir and DESTDIR:
# "make install DESTDIR=D prefix=/opt/twampkit-test sysconfdir=/etc/twampkit-test"
# puts the programs, the manual pages, README and the examples under the
# prefix and the service's configuration under the sysconfdir, nothing
# elsewhere and no library, header or pkg-config file (the library is
# internal); the installed programs run and find their pages; a second
# install keeps a locally modified configuration and so does uninstall,
# which removes every other file.
set -eu

srcdir=${TK_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
builddir=${TK_BUILDDIR:-$srcdir}
[ -f "$builddir/Makefile" ] || { echo "SKIP: no Makefile in $builddir"; exit 77; }
command -v make >/dev/null 2>&1 || { echo "SKIP: make not installed"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
fail() {
	echo "FAIL: $*"
	exit 1
}

d=$tmp/dest
prefix=/opt/twampkit-test
sysconfdir=/etc/twampkit-test
mk() {
	# -s and no jobserver of the calling make: the output is the test's.
	env -u MAKEFLAGS -u MFLAGS make -s -C "$builddir" "$@" DESTDIR="$d" prefix="$prefix" \
		sysconfdir="$sysconfdir" >"$tmp/make.log" 2>&1 || { cat "$tmp/make.log"; fail "make $*"; }
}

mk install
(cd "$d" && find . \( -type f -o -type l \) | sed 's|^\./|/|' | sort) >"$tmp/files"
echo "# installed $(wc -l <"$tmp/files") files"

outside=$(grep -v -e "^$prefix/" -e "^$sysconfdir/" "$tmp/files" || true)
[ -z "$outside" ] || fail "installed outside prefix and sysconfdir: $outside"
internal=$(grep -E '\.(a|so|la|h|pc)$|/include/|/pkgconfig/' "$tmp/files" || true)
[ -z "$internal" ] || fail "the library is internal, yet installed: $internal"

want="$prefix/sbin/twamp-server
$prefix/bin/twamp-client
$prefix/bin/twamp-experiment
$prefix/share/man/man8/twamp-server.8
$prefix/share/man/man1/twamp-client.1
$prefix/share/man/man1/twamp-experiment.1
$prefix/share/man/man5/twampkit.conf.5
$prefix/share/doc/twampkit/README.md
$prefix/share/doc/twampkit/examples/reflector-vm.conf
$prefix/share/doc/twampkit/examples/control-server.conf
$prefix/share/doc/twampkit/examples/keys.example
$prefix/share/doc/twampkit/examples/quick.cfg
$prefix/share/doc/twampkit/examples/ci.cfg
$prefix/share/doc/twampkit/examples/paper.cfg
$sysconfdir/twampkit/twamp-server.conf"
if [ -x "$builddir/experiments/twamp-capture" ]; then
	want="$want
$prefix/bin/twamp-capture
$prefix/share/man/man1/twamp-capture.1"
fi
for f in $want; do
	grep -qx "$f" "$tmp/files" || fail "not installed: $f"
done

root=$d$prefix
conf=$d$sysconfdir/twampkit/twamp-server.conf
"$root/sbin/twamp-server" -c "$conf" -n >/dev/null || fail "installed twamp-server rejects the installed $conf"
for p in sbin/twamp-server bin/twamp-client bin/twamp-experiment; do
	v=$("$root/$p" --version) || fail "$p --version"
	case $v in "$(basename "$p") "[0-9]*) ;; *) fail "$p --version printed '$v'" ;; esac
done
if command -v man >/dev/null 2>&1; then
	for page in twamp-server twamp-client twampkit.conf; do
		MANPATH=$root/share/man MANWIDTH=80 man "$page" 2>/dev/null | grep -q . ||
			fail "man $page does not find the installed page"
	done
fi

# A local configuration survives install and uninstall.
echo "# local change" >>"$conf"
mk install
tail -1 "$conf" | grep -qx "# local change" || fail "make install overwrote a modified $conf"
mk uninstall
[ -f "$conf" ] || fail "make uninstall removed a modified $conf"
rm -f "$conf"
mk uninstall
left=$(cd "$d" && find . \( -type f -o -type l \))
[ -z "$left" ] || fail "left after uninstall: $left"

# And an unmodified one goes with uninstall.
mk install
mk uninstall
left=$(cd "$d" && find . \( -type f -o -type l \))
[ -z "$left" ] || fail "left after install + uninstall: $left"
echo "PASS: install and uninstall honour prefix, sysconfdir and DESTDIR"
