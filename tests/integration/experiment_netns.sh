#!/bin/sh
# twamp-experiment on the netns backend (issue 6): the ci preset runs to
# the end, report and plot work on its results, nothing of the testbed is
# left; a run killed with SIGKILL mid-scenario, then clean and --resume,
# ends with the same set of finished scenarios, none lost or redone; bad
# matrix files and missing tools get one-line errors.
. "$(dirname "$0")/lib.sh"
need_root
need_tool ip tc ss ping stress-ng iperf3 gnuplot
EXP="$TK_BUILDDIR/experiments/twamp-experiment"
[ -x "$EXP" ] || skip "twamp-experiment not built"

leftovers() {
	ip netns list | awk '{print $1}' | grep '^tk-' || true
	ls /sys/fs/cgroup/cpuset 2>/dev/null | grep '^tk-' || true
	ls /sys/fs/cgroup 2>/dev/null | grep '^tk-' || true
}

# A crashed earlier run would spoil the leftover checks below.
"$EXP" clean > /dev/null || true

# --- bad matrices: one line naming the key and the line ---
printf 'probes = 100;\nbogus_key = 3;\n' > "$TK_TMP/bad1.cfg"
rc=0; "$EXP" run -c "$TK_TMP/bad1.cfg" --dry-run 2>"$TK_TMP/e1" >/dev/null || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < "$TK_TMP/e1")" = 1 ] && grep -q "bad1.cfg:2" "$TK_TMP/e1" &&
	grep -q "bogus_key" "$TK_TMP/e1" || { cat "$TK_TMP/e1"; fail "unknown key error"; }
printf 'probes = 0;\n' > "$TK_TMP/bad2.cfg"
rc=0; "$EXP" run -c "$TK_TMP/bad2.cfg" --dry-run 2>"$TK_TMP/e2" >/dev/null || rc=$?
[ "$rc" = 1 ] && grep -q "bad2.cfg:1" "$TK_TMP/e2" && grep -q "probes" "$TK_TMP/e2" ||
	{ cat "$TK_TMP/e2"; fail "out of range error"; }
printf 'load_type = ["cpu"];\nbg_vms = [0];\n' > "$TK_TMP/bad3.cfg"
rc=0; "$EXP" run -c "$TK_TMP/bad3.cfg" --dry-run 2>"$TK_TMP/e3" >/dev/null || rc=$?
[ "$rc" = 1 ] && [ "$(wc -l < "$TK_TMP/e3")" = 1 ] && grep -q "load_type" "$TK_TMP/e3" ||
	{ cat "$TK_TMP/e3"; fail "impossible combination error"; }

# --- missing tools are named with their Debian package ---
mkdir "$TK_TMP/bin"
for t in ip tc ss ping iperf3; do ln -s "$(command -v $t)" "$TK_TMP/bin/$t"; done
rc=0; PATH="$TK_TMP/bin" "$EXP" run --preset ci -o "$TK_TMP/nostress" 2>"$TK_TMP/e4" >/dev/null || rc=$?
[ "$rc" = 2 ] && grep -q "apt-get install stress-ng" "$TK_TMP/e4" || { cat "$TK_TMP/e4"; fail "missing stress-ng"; }
[ -z "$(leftovers)" ] || fail "leftovers after a failed check: $(leftovers)"

# --- dry run lists the scenarios ---
"$EXP" run --preset ci --dry-run > "$TK_TMP/dry.txt"
n=$(grep -c '^res' "$TK_TMP/dry.txt")
[ "$n" -ge 2 ] || { cat "$TK_TMP/dry.txt"; fail "dry run lists $n scenarios"; }
grep -q 'estimated duration' "$TK_TMP/dry.txt" || fail "dry run estimate"

# --- the ci preset, end to end ---
OUT="$TK_TMP/run"
"$EXP" run --preset ci -o "$OUT" 2> "$TK_TMP/run.log" || { cat "$TK_TMP/run.log"; fail "run --preset ci"; }
[ -z "$(leftovers)" ] || fail "testbed objects left: $(leftovers)"
done_n=$(ls "$OUT"/scenarios/*/done | wc -l)
[ "$done_n" = "$n" ] || fail "$done_n of $n scenarios finished"
jqcheck "$OUT/manifest.json" '.schema == "twampkit.experiment/1" and .scenarios_done == .scenarios_total' "manifest"
jqcheck "$OUT/manifest.json" '.sessions[-1].overhead.probing_s > 0' "overhead recorded"
head -1 "$OUT/summary.csv" | grep -q '^scenario,reservation,load_type,load_location,bg_vms,nic,freq_hz,proto,point,n,' ||
	fail "summary.csv header"
for proto in ping icmp twamp; do
	grep -q ",$proto,tool," "$OUT/summary.csv" || fail "summary.csv has no $proto rows"
	grep -q ",$proto,sender-vm," "$OUT/summary.csv" || fail "summary.csv has no $proto capture rows"
done
"$EXP" report "$OUT" > "$TK_TMP/report.txt" || fail "report"
grep -qi 'table ii' "$TK_TMP/report.txt" || { head -50 "$TK_TMP/report.txt"; fail "report lacks Table II"; }
"$EXP" report "$OUT" --format json | jq -e . > /dev/null || fail "report json"
"$EXP" report "$OUT" --format markdown | grep -q '^|' || fail "report markdown"
"$EXP" plot "$OUT" > "$TK_TMP/plots.txt" || fail "plot"
ls "$OUT"/plots/*.png > /dev/null 2>&1 || fail "no PNG figures"
note "$(grep -c . "$TK_TMP/plots.txt") figure files"

# --- SIGKILL mid-run, clean, resume ---
OUT2="$TK_TMP/killed"
"$EXP" run --preset ci -o "$OUT2" 2> "$TK_TMP/run2.log" &
pid=$!
TK_PIDS="$TK_PIDS $pid"
# Wait for one finished scenario and the next one under way (up to 3 minutes:
# the run first waits for the harness lock if another run holds it).
for _ in $(seq 1800); do
	[ "$(ls "$OUT2"/scenarios/*/done 2>/dev/null | wc -l)" -ge 1 ] &&
		ls -d "$OUT2"/scenarios/*.tmp >/dev/null 2>&1 && break
	sleep 0.1
done
ls -d "$OUT2"/scenarios/*.tmp >/dev/null 2>&1 || fail "never saw a scenario in progress"
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
TK_PIDS=$(echo "$TK_PIDS" | sed "s/ $pid\b//")
first_done=$(dirname "$(ls "$OUT2"/scenarios/*/done | head -1)")
stamp=$(stat -c %Y.%i "$first_done/done")
"$EXP" clean > "$TK_TMP/clean.txt" || { cat "$TK_TMP/clean.txt"; fail "clean"; }
[ -z "$(leftovers)" ] || fail "clean left: $(leftovers)"
"$EXP" run --preset ci --resume -o "$OUT2" 2> "$TK_TMP/run3.log" || { cat "$TK_TMP/run3.log"; fail "resume"; }
[ -z "$(leftovers)" ] || fail "leftovers after resume: $(leftovers)"
ls -d "$OUT2"/scenarios/*.tmp 2>/dev/null && fail "a .tmp scenario survived the resume"
(cd "$OUT" && ls scenarios) > "$TK_TMP/set1"
(cd "$OUT2" && ls scenarios) > "$TK_TMP/set2"
diff "$TK_TMP/set1" "$TK_TMP/set2" || fail "resumed run has a different set of scenarios"
[ "$(stat -c %Y.%i "$first_done/done")" = "$stamp" ] || fail "a finished scenario was redone"
jqcheck "$OUT2/manifest.json" '.scenarios_done == .scenarios_total and (.sessions | length) == 2' "resumed manifest"
# --- SIGINT mid-run: the testbed is torn down, the run says how to resume ---
OUT3="$TK_TMP/interrupted"
"$EXP" run --preset ci -o "$OUT3" 2> "$TK_TMP/run4.log" &
pid=$!
TK_PIDS="$TK_PIDS $pid"
for _ in $(seq 600); do ls -d "$OUT3"/scenarios/*.tmp >/dev/null 2>&1 && break; sleep 0.1; done
kill -INT "$pid"
rc=0; wait "$pid" || rc=$?
TK_PIDS=$(echo "$TK_PIDS" | sed "s/ $pid\b//")
[ "$rc" = 130 ] || { cat "$TK_TMP/run4.log"; fail "SIGINT: exit status $rc, expected 130"; }
grep -q -- '--resume' "$TK_TMP/run4.log" || fail "SIGINT: no resume hint"
[ -z "$(leftovers)" ] || fail "SIGINT left: $(leftovers)"
jqcheck "$OUT3/manifest.json" '.sessions[-1].result == "interrupted"' "manifest records the interruption"
echo ok
