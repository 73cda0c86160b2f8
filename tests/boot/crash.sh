#!/usr/bin/env bash
# Crash reports (linux-patches 0020, scripts/crash-report.py): the selftest dies at CPL 0 the
# ways a buggy server does (--crash null|abort|ill|bus|sysrq).  Each death must end `make run`
# with the signal's status and name, the console must hold the kernel's one backtrace of the
# app (crash_<mode> <- crash_via <- main, names without the ukl_ prefix; a frame the kernel
# guessed from the word at the stack pointer is marked "?"), and the run's
# symbolised copy must give the source line of the app's frames.  A panic in the app's task
# (sysrq) must show the app's frames after the kernel's.  The linux twin names the signal too.
# Cold: glibc and the ukl and linux kernels are built first, ~40 min
# time-limit: 3000
. "$(dirname "$0")/../lib.sh"

profile=${CRASH_PROFILE:-ukl}
build_image selftest "$profile"
build_image selftest linux
log=$TOP/out/selftest/$profile/run.log
crash() { env -u APPEND ARGS="--crash $2" TIMEOUT=300 "$TOP/scripts/boot-app.sh" selftest "$1"; }

# check_report MODE STATUS SIGNAME FRAME
check_report() {
	local mode=$1 status=$2 sig=$3 frame=$4
	expect_status "$profile: --crash $mode ends the run with status $status" "$status" crash "$profile" "$mode"
	cp "$T_TMP/out" "$T_TMP/run-$mode"
	tr -d '\r' <"$log" >"$T_TMP/console-$mode"
	if [ "$mode" != sysrq ]; then
		expect_grep "$profile: --crash $mode: the run names the signal ($sig)" \
			"ukl: the app was killed by $sig \\(exit status $status\\)" "$T_TMP/run-$mode"
		expect_grep "$profile: --crash $mode: the kernel reports the signal on the console" \
			"ukl: [^ ]+\\[[0-9]+\\] killed by signal $((status - 128)) \\($sig\\)" "$T_TMP/console-$mode"
	fi
	# the <APP> block: the frames in order, unprefixed, marked [app]
	sed -n '/<APP>/,/<\/APP>/p' "$T_TMP/console-$mode" | sed 's/^\[ *[0-9.]*\] *//' >"$T_TMP/app-$mode"
	# (a frame the kernel could only guess, from the word at the stack pointer, is marked "? ")
	if grep -Eq "^ *(\? )?$frame\+0x[0-9a-f]*/0x[0-9a-f]* \[app\]" "$T_TMP/app-$mode" &&
		awk -v f="$frame" '{n = $1 == "?" ? $2 : $1} n ~ "^"f"\\+" {a=NR} n ~ /^crash_via(\.cold)?\+/ {b=NR}
			n ~ /^main\+/ {c=NR} END {exit !(a && b > a && c > b)}' "$T_TMP/app-$mode"; then
		ok "$profile: --crash $mode: the console's app backtrace is $frame <- crash_via <- main"
	else
		not_ok "$profile: --crash $mode: the console's app backtrace is $frame <- crash_via <- main" \
			"$(head -n 12 "$T_TMP/app-$mode")" "$(grep -m3 'ukl' "$T_TMP/console-$mode")"
	fi
	if grep -q 'ukl_' "$T_TMP/app-$mode"; then
		not_ok "$profile: --crash $mode: no app name keeps the ukl_ prefix" "$(grep -m3 ukl_ "$T_TMP/app-$mode")"
	else
		ok "$profile: --crash $mode: no app name keeps the ukl_ prefix"
	fi
	expect_grep "$profile: --crash $mode: the run prints the report with source lines (crash_via in selftest.c)" \
		'ukl: +#[0-9]+ +(\? )?crash_via(\.cold)?\+0x[0-9a-f]+ +\[app\] .*selftest\.c:[0-9]+' "$T_TMP/run-$mode"
}

check_report null 139 SIGSEGV crash_null
check_report abort 134 SIGABRT abort
expect_grep "$profile: --crash abort: glibc's frames are marked [glibc] with their source" \
	'ukl: +#[0-9]+ +abort\+0x[0-9a-f]+ +\[glibc\] .*abort\.c:[0-9]+' "$T_TMP/run-abort"
check_report ill 132 SIGILL crash_ill
check_report bus 135 SIGBUS crash_bus
# a panic on the app's behalf: the kernel's own trace, then the app's frames
check_report sysrq 125 - crash_sysrq
expect_grep "$profile: --crash sysrq: the kernel panicked in the app's task" \
	'Kernel panic - not syncing: sysrq triggered crash' "$T_TMP/console-sysrq"
if awk '/Call Trace:/ {t=NR} /<APP>/ && t {a=NR} END {exit !(t && a > t)}' "$T_TMP/console-sysrq"; then
	ok "$profile: --crash sysrq: the app's frames follow the kernel's call trace"
else
	not_ok "$profile: --crash sysrq: the app's frames follow the kernel's call trace" "$(grep -n 'Call Trace\|APP>' "$T_TMP/console-sysrq" | head)"
fi

# the stock twin: no kernel report (the app is an ordinary process), but the run names the signal
expect_status "linux: --crash null ends the run with status 139" 139 crash linux null
expect_grep "linux: --crash null: the run names the signal (SIGSEGV)" \
	'ukl: the app was killed by SIGSEGV \(exit status 139\)' "$T_TMP/out"
t_done
