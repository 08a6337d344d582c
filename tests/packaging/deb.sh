#!/bin/sh
# The Debian packages, end to end, as root on a Debian 12 machine:
#   1. copy the tree as a fresh clone would have it (git's tracked and
#      unignored files) and build it with "dpkg-buildpackage -us -uc -b"
#      (after "apt-get build-dep" of debian/control);
#   2. lintian on the result: any error fails;
#   3. "apt-get install ./twampkit-*.deb" (without Recommends: no libvirt
#      daemon and QEMU here); the user twampkit, the conffile, the init
#      script, the unit and the manual pages are there;
#   4. the reflector runs from the System V init script as user twampkit,
#      the installed twamp-client's probes to 127.0.0.1 are all answered
#      (TWAMP-Light, and full TWAMP when the client has --control),
#      restart and stop work and status says so;
#   5. "apt-get purge" removes the packages, stops the service, and leaves
#      no file of them behind.
# Not part of "make check" (it installs packages on the machine): CI runs
# it as a step of its own.  Prints "N passed, N failed" at the end.
# Environment: TK_DEB_KEEP=DIR keeps the built packages and logs in DIR.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
start=$(date +%s)
passed=0
failed=0

say() { echo "# $*"; }
ok() {
	echo "ok - $*"
	passed=$((passed + 1))
}
not_ok() {
	echo "not ok - $*"
	failed=$((failed + 1))
}
die() {
	not_ok "$*"
	finish
}

if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (installs packages, starts a service)"
	exit 77
fi
[ -f /etc/debian_version ] || { echo "SKIP: not a Debian system"; exit 77; }

export DEBIAN_FRONTEND=noninteractive
work=$(mktemp -d /tmp/tk-deb.XXXXXX)
installed=no

purge() {
	dpkg-query -W -f='${Status}\n' twampkit-server twampkit-client twampkit-experiment 2>/dev/null |
		grep -qE ' (installed|config-files|half-installed|unpacked|half-configured)$' || return 0
	apt-get purge -y -q twampkit-experiment twampkit-client twampkit-server >"$work/purge.log" 2>&1
}

finish() {
	trap - EXIT
	if [ "$installed" = yes ]; then
		/etc/init.d/twamp-server stop >/dev/null 2>&1 || true
		purge || true
	fi
	if [ -n "${TK_DEB_KEEP:-}" ]; then
		mkdir -p "$TK_DEB_KEEP"
		cp "$work"/*.deb "$work"/*.changes "$work"/*.log "$TK_DEB_KEEP"/ 2>/dev/null || true
	fi
	rm -rf "$work"
	echo "# packaging: $(($(date +%s) - start)) s"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ] || exit 1
	exit 0
}
trap finish EXIT
trap 'exit 1' INT TERM

# --- tools ------------------------------------------------------------------
need=""
for p in dpkg-dev debhelper fakeroot lintian; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need="$need $p"
done
if [ -n "$need" ]; then
	say "installing$need"
	apt-get update -q >"$work/apt.log" 2>&1 || die "apt-get update (see $work/apt.log)"
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $need >>"$work/apt.log" 2>&1 ||
		die "apt-get install$need"
fi

# A previous run that died may have left the packages installed.
purge || die "purging packages left by an earlier run"

# --- 1. a fresh copy, built -------------------------------------------------
src=$work/twampkit
mkdir -p "$src"
if command -v git >/dev/null 2>&1 && git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 sh -c 'for f; do [ -e "$f" ] || [ -L "$f" ] && printf "%s\n" "$f"; done' sh |
		tar --no-recursion -cf - -T -) | tar -xf - -C "$src"
else
	(cd "$top" && tar -cf - --exclude='./build*' --exclude=./.git .) | tar -xf - -C "$src"
fi
[ -f "$src/debian/control" ] || die "no debian/control in the copy"
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
upstream=$(sed -n 's/^AC_INIT(\[twampkit\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
[ "$version" = "$upstream" ] && ok "debian/changelog version $version = configure.ac's" ||
	not_ok "debian/changelog version $version differs from configure.ac's $upstream"

say "apt-get build-dep"
apt-get build-dep -y -q "$src" >"$work/build-dep.log" 2>&1 ||
	{ apt-get update -q >>"$work/build-dep.log" 2>&1 &&
	  apt-get build-dep -y -q "$src" >>"$work/build-dep.log" 2>&1; } ||
	{ tail -20 "$work/build-dep.log"; die "apt-get build-dep"; }

say "dpkg-buildpackage -us -uc -b"
t0=$(date +%s)
if (cd "$src" && dpkg-buildpackage -us -uc -b) >"$work/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b ($(($(date +%s) - t0)) s)"
else
	tail -60 "$work/build.log"
	die "dpkg-buildpackage -us -uc -b"
fi
debs=$(ls "$work"/twampkit-server_*.deb "$work"/twampkit-client_*.deb "$work"/twampkit-experiment_*.deb 2>/dev/null || true)
[ "$(echo "$debs" | wc -w)" = 3 ] || die "expected three packages, got: $(ls "$work")"
changes=$(ls "$work"/twampkit_*.changes)

# --- 2. lintian ---------------------------------------------------------------
lintian --fail-on error --display-info "$changes" >"$work/lintian.log" 2>&1 && rc=0 || rc=$?
sed 's/^/#   /' "$work/lintian.log"
if [ "$rc" = 0 ]; then
	ok "lintian: no error ($(grep -c '^W:' "$work/lintian.log" || true) warnings)"
else
	not_ok "lintian reports errors"
fi

# --- 3. install -----------------------------------------------------------------
for port in 862; do
	if ss -Hlun "sport = :$port" | grep -q . || ss -Hltn "sport = :$port" | grep -q .; then
		die "port $port is in use: the packaged service could not start"
	fi
done
installed=yes
say "apt-get install ./twampkit-*.deb"
# shellcheck disable=SC2086
if apt-get install -y -q --no-install-recommends $debs >"$work/install.log" 2>&1; then
	ok "apt-get install of the three packages"
else
	tail -30 "$work/install.log"
	die "apt-get install"
fi
id twampkit >/dev/null 2>&1 && ok "system user twampkit created" || not_ok "no user twampkit"
dpkg-query -W -f='${Conffiles}\n' twampkit-server | grep -q '/etc/twampkit/twamp-server.conf' &&
	ok "/etc/twampkit/twamp-server.conf is a conffile" || not_ok "twamp-server.conf is not a conffile"
for f in /etc/init.d/twamp-server /etc/default/twamp-server /usr/sbin/twamp-server \
	/usr/bin/twamp-client /usr/bin/twamp-capture /usr/bin/twamp-experiment \
	/usr/share/doc/twampkit/examples/reflector-vm.conf /usr/share/doc/twampkit/examples/quick.cfg; do
	[ -e "$f" ] || not_ok "not installed: $f"
done
unit=$(ls /lib/systemd/system/twamp-server.service /usr/lib/systemd/system/twamp-server.service 2>/dev/null | head -1)
[ -n "$unit" ] && ok "systemd unit installed ($unit)" || not_ok "no systemd unit"
missing=""
for page in twamp-server.8 twamp-client.1 twamp-capture.1 twamp-experiment.1 twampkit.conf.5; do
	man -w "${page%.*}" >/dev/null 2>&1 || missing="$missing $page"
done
[ -z "$missing" ] && ok "man finds every page" || not_ok "man does not find:$missing"
if [ -n "$unit" ] && command -v systemd-analyze >/dev/null 2>&1; then
	if systemd-analyze verify "$unit" >"$work/verify.log" 2>&1; then
		ok "systemd-analyze verify $unit"
	else
		sed 's/^/#   /' "$work/verify.log"
		not_ok "systemd-analyze verify $unit"
	fi
	systemd-analyze security --offline=yes "$unit" 2>/dev/null | tail -1 | sed 's/^/# /' || true
fi

# --- 4. the service, from the init script --------------------------------------
# A container's policy-rc.d (exit 101) forbids the maintainer scripts to
# start and stop services: then this script does both by hand.
policy_denies=no
if [ -x /usr/sbin/policy-rc.d ]; then
	rc=0
	/usr/sbin/policy-rc.d twamp-server stop >/dev/null 2>&1 || rc=$?
	[ "$rc" = 101 ] && policy_denies=yes
fi
if /etc/init.d/twamp-server status >/dev/null 2>&1; then
	say "postinst started the service"
else
	say "postinst did not start the service (policy-rc.d denies: $policy_denies)"
fi
/etc/init.d/twamp-server start >"$work/start.log" 2>&1 || { cat "$work/start.log"; die "init script start"; }
/etc/init.d/twamp-server status >/dev/null && ok "init script: start, status 0" ||
	not_ok "status after start is not 0"
pid=$(cat /run/twampkit/twamp-server.pid)
user=$(ps -o user= -p "$pid" | tr -d ' ')
[ "$user" = twampkit ] && ok "daemon (pid $pid) runs as twampkit" || not_ok "daemon runs as '$user'"

/usr/bin/twamp-client -c 20 -i 10ms -F json -o "$work/light.json" -q 127.0.0.1 &&
	grep -q '"received": *20' "$work/light.json" &&
	ok "installed twamp-client: 20 of 20 TWAMP-Light probes to the installed reflector" ||
	not_ok "TWAMP-Light probe of the installed reflector"
if /usr/bin/twamp-client --help | grep -q -- '--control'; then
	/usr/bin/twamp-client --control -c 10 -i 10ms -F json -o "$work/control.json" -q 127.0.0.1 &&
		grep -q '"received": *10' "$work/control.json" &&
		ok "installed twamp-client --control: full TWAMP session answered" ||
		not_ok "full TWAMP against the installed server"
fi
/usr/bin/twamp-experiment run --dry-run -c /usr/share/doc/twampkit/examples/ci.cfg >/dev/null &&
	ok "installed twamp-experiment reads the installed matrices" ||
	not_ok "twamp-experiment --dry-run with the installed ci.cfg"

/etc/init.d/twamp-server restart >/dev/null 2>&1 && /etc/init.d/twamp-server status >/dev/null &&
	[ "$(cat /run/twampkit/twamp-server.pid)" != "$pid" ] &&
	ok "init script: restart (new pid $(cat /run/twampkit/twamp-server.pid))" ||
	not_ok "init script restart"
/usr/bin/twamp-client -c 5 -i 10ms -q 127.0.0.1 && ok "answered after restart" ||
	not_ok "no answer after restart"
pid=$(cat /run/twampkit/twamp-server.pid)
/etc/init.d/twamp-server stop >/dev/null 2>&1 || not_ok "init script stop"
rc=0
/etc/init.d/twamp-server status >/dev/null 2>&1 || rc=$?
[ "$rc" = 3 ] && ok "init script: stop, status 3" || not_ok "status after stop is $rc, want 3"
kill -0 "$pid" 2>/dev/null && not_ok "twamp-server (pid $pid) still runs after stop" || true

# What the systemd unit does (no systemd runs here): the daemon started as
# twampkit with CAP_NET_BIND_SERVICE as its only (ambient) capability.
if command -v setpriv >/dev/null 2>&1; then
	install -d -o twampkit -g twampkit /run/twampkit
	setpriv --reuid twampkit --regid twampkit --init-groups --inh-caps=-all,+net_bind_service \
		--ambient-caps=-all,+net_bind_service --bounding-set=-all,+net_bind_service \
		/usr/sbin/twamp-server -f -c /etc/twampkit/twamp-server.conf >"$work/unit.log" 2>&1 &
	upid=$!
	sleep 0.5
	/usr/bin/twamp-client -c 5 -i 10ms -q 127.0.0.1 &&
		ok "as the unit runs it (user twampkit, CAP_NET_BIND_SERVICE only): port 862 answers" ||
		{ sed 's/^/#   /' "$work/unit.log"; not_ok "the daemon as the systemd unit runs it"; }
	kill "$upid" 2>/dev/null || true
	wait "$upid" 2>/dev/null || true
fi
/etc/init.d/twamp-server start >/dev/null 2>&1 || not_ok "start again before purge"
pid=$(cat /run/twampkit/twamp-server.pid)

# --- 5. purge -----------------------------------------------------------------------
if [ "$policy_denies" = yes ]; then
	say "policy-rc.d denies prerm's stop here: stopping by hand"
	/etc/init.d/twamp-server stop >/dev/null 2>&1 || not_ok "init script stop before purge"
fi
if purge; then
	installed=no
	ok "apt-get purge"
else
	tail -20 "$work/purge.log"
	not_ok "apt-get purge"
fi
sleep 0.2
kill -0 "$pid" 2>/dev/null && not_ok "twamp-server (pid $pid) still runs after purge" ||
	ok "no twamp-server runs after purge"
left=""
for f in /etc/twampkit /etc/init.d/twamp-server /etc/default/twamp-server /usr/sbin/twamp-server \
	/usr/share/doc/twampkit /run/twampkit "$unit"; do
	[ -e "$f" ] && left="$left $f"
done
[ -z "$left" ] && ok "purge left nothing behind" || not_ok "left after purge:$left"
