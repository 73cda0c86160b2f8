#!/usr/bin/env bash
# The ukl test suite: host-side checks of the scripts, then boot tests in QEMU.
#
# usage: tests/run.sh [NAME...]     NAME: a test file's name without .sh (e.g. hello, lock)
# Each test prints TAP lines; this runner numbers them, keeps each test's full output in
# build/test-logs/, and ends with "N passed, N failed".  Exit status 0 only if nothing failed.
# An unknown NAME is an error listing the known ones.  Every test runs under a time limit
# (a "# time-limit: SECONDS" line in its first 12 lines, else 1800 s): past it, the test and every
# process it started (its process group: QEMU, servers, clients) are stopped, and it fails.
set -uo pipefail
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP"
logs=$TOP/build/test-logs
mkdir -p "$logs"

if ! scripts/setup.sh --check-or-install; then
	echo "tests: the host setup failed (see above)"
	echo "0 passed, 1 failed"
	exit 1
fi

known=()
for t in tests/host/*.sh tests/boot/*.sh; do known+=("$(basename "$t" .sh)"); done
tests=()
for n in "$@"; do
	printf '%s\n' "${known[@]}" | grep -qx -- "$n" && continue
	echo "tests: no test named '$n'; the tests are: ${known[*]}"
	echo "0 passed, 1 failed"
	exit 1
done
for t in tests/host/*.sh tests/boot/*.sh; do
	n=$(basename "$t" .sh)
	if [ $# = 0 ] || printf '%s\n' "$@" | grep -qx -- "$n"; then tests+=("$t"); fi
done

# The clang ThinLTO kernel that tests/boot/pgo.sh trains on (ukl-lto, about 13 minutes cold)
# builds in the background from the start, at the lowest CPU priority, so that it takes the CPU
# time the other tests leave idle (links, QEMU waiting for its clients) instead of adding its
# own.  It has a lock of its own (scripts/kernel.sh: UKL_KERNEL_LOCK) on the tree prepared
# here first; a test that needs that kernel waits for it (tests/lib.sh: bg_kernel_wait), and a
# failed background build is simply built again, in the foreground, by the test that needs it.
# UKL_BG_KERNEL=0 turns this off.
bg_pid=
bg_file=$TOP/build/.bg-kernel-ukl-lto
rm -f "$bg_file"
trap '[ -z "$bg_pid" ] || kill -- "-$bg_pid" 2>/dev/null; rm -f "$bg_file"' EXIT
if [ "${UKL_BG_KERNEL:-1}" = 1 ] && printf '%s\n' "${tests[@]}" | grep -qx tests/boot/pgo.sh; then
	if scripts/kernel.sh --tree >"$logs/bg-kernel-tree.log" 2>&1; then
		# the build inherits the lock on bg_file, taken here before it starts, and holds it
		# until its last process exits: that is what bg_kernel_wait waits for
		exec 8>"$bg_file"
		flock 8
		# a session of its own (so that it can be stopped as one group) is also a scheduler
		# autogroup of its own, which nice alone does not reach: each autogroup gets an equal
		# share of the CPU.  The group's own nice puts it behind every test (seen: at nice 19
		# alone, the glibc build beside it took 831 s instead of about 480)
		setsid bash -c 'echo 19 >/proc/self/autogroup 2>/dev/null; exec nice -n 19 "$@"' bg \
			env UKL_KERNEL_LOCK="$TOP/build/.kernel-ukl-lto.lock" \
			scripts/kernel.sh ukl-lto </dev/null >"$logs/bg-kernel-ukl-lto.log" 2>&1 &
		bg_pid=$!
		exec 8>&-
		echo "# the ukl-lto kernel builds in the background at nice 19 (build/test-logs/bg-kernel-ukl-lto.log)"
	else
		echo "# no background build of ukl-lto: preparing the kernel tree failed (build/test-logs/bg-kernel-tree.log)"
	fi
fi

# run_limited LIMIT LOG SCRIPT: run a test in its own process group, stopped after LIMIT s;
# status 124 if it was
run_limited() {
	local limit=$1 log=$2 pid wd rc=0 mark
	mark=$(mktemp -u --tmpdir ukl-limit.XXXXXX)
	setsid bash "$3" </dev/null >"$log" 2>&1 &
	pid=$!
	(
		# each sleep in the background, so that the runner's TERM ends the watchdog at once
		trap 'kill $s 2>/dev/null; exit 0' TERM
		sleep "$limit" &
		s=$!
		wait $s || exit 0
		touch "$mark"
		kill -TERM -- "-$pid"
		sleep 10 &
		s=$!
		wait $s || exit 0
		kill -KILL -- "-$pid"
	) >/dev/null 2>&1 &
	wd=$!
	wait $pid || rc=$?
	kill $wd 2>/dev/null
	wait $wd 2>/dev/null
	# whatever the test left running in its group goes with it
	kill -KILL -- "-$pid" 2>/dev/null
	if [ -e "$mark" ]; then
		rm -f "$mark"
		return 124
	fi
	return $rc
}

pass=0 fail=0 n=0 t0=$SECONDS
for t in "${tests[@]}"; do
	name=${t#tests/}; name=${name%.sh}
	echo "# $name"
	ts=$SECONDS
	limit=$(head -n 12 "$t" | sed -n 's/^# time-limit: \([0-9][0-9]*\)$/\1/p' | head -n 1)
	rc=0
	run_limited "${limit:-1800}" "$logs/${name//\//-}.log" "$t" || rc=$?
	if [ $rc = 124 ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $name: stopped at its time limit of ${limit:-1800} s (log: build/test-logs/${name//\//-}.log)"
	fi
	seen=0
	while IFS= read -r line; do
		case $line in
		"ok - "*) n=$((n + 1)); pass=$((pass + 1)); seen=1; echo "ok $n - $name: ${line#ok - }" ;;
		"not ok - "*) n=$((n + 1)); fail=$((fail + 1)); seen=1; echo "not ok $n - $name: ${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$logs/${name//\//-}.log"
	if [ $rc != 0 ] && [ $rc != 124 ] && ! grep -q '^not ok - ' "$logs/${name//\//-}.log"; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $name: exited $rc (log: build/test-logs/${name//\//-}.log)"
		tail -n 10 "$logs/${name//\//-}.log" | sed 's/^/#   /'
	elif [ $seen = 0 ] && [ $rc != 124 ]; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $name: reported no result"
	fi
	# a broken test script (its shell said so) may still print ok lines: it fails anyway
	if grep -E '^(tests/|/).*: line [0-9]+: (syntax error|.*: command not found)' "$logs/${name//\//-}.log" >"$logs/.shell-errors"; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $name: the test script itself has errors"
		sed 's/^/#   /' "$logs/.shell-errors" | head -n 5
	fi
	echo "# $name: $((SECONDS - ts)) s"
done
echo "# total $((SECONDS - t0)) s"
echo "$pass passed, $fail failed"
[ $fail = 0 ]
