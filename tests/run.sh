#!/usr/bin/env bash
# The ukl test suite: host-side checks of the scripts, then boot tests in QEMU.
#
# usage: tests/run.sh [NAME...]     NAME: a test file's name without .sh (e.g. hello, lock)
# Each test prints TAP lines; this runner numbers them, keeps each test's full output in
# build/test-logs/, and ends with "N passed, N failed".  Exit status 0 only if nothing failed.
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

tests=()
for t in tests/host/*.sh tests/boot/*.sh; do
	n=$(basename "$t" .sh)
	if [ $# = 0 ] || printf '%s\n' "$@" | grep -qx "$n"; then tests+=("$t"); fi
done
[ ${#tests[@]} -gt 0 ] || { echo "tests: no test matches: $*"; echo "0 passed, 1 failed"; exit 1; }

pass=0 fail=0 n=0 t0=$SECONDS
for t in "${tests[@]}"; do
	name=${t#tests/}; name=${name%.sh}
	echo "# $name"
	ts=$SECONDS
	rc=0
	bash "$t" </dev/null >"$logs/${name//\//-}.log" 2>&1 || rc=$?
	seen=0
	while IFS= read -r line; do
		case $line in
		"ok - "*) n=$((n + 1)); pass=$((pass + 1)); seen=1; echo "ok $n - $name: ${line#ok - }" ;;
		"not ok - "*) n=$((n + 1)); fail=$((fail + 1)); seen=1; echo "not ok $n - $name: ${line#not ok - }" ;;
		"#"*) echo "$line" ;;
		esac
	done <"$logs/${name//\//-}.log"
	if [ $rc != 0 ] && ! grep -q '^not ok - ' "$logs/${name//\//-}.log"; then
		n=$((n + 1)); fail=$((fail + 1))
		echo "not ok $n - $name: exited $rc (log: build/test-logs/${name//\//-}.log)"
		tail -n 10 "$logs/${name//\//-}.log" | sed 's/^/#   /'
	elif [ $seen = 0 ]; then
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
