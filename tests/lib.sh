# shellcheck shell=bash
# Helpers for ukl tests.  A test is an executable script in tests/host/ or tests/boot/ that
# prints TAP lines ("ok - what", "not ok - what") through these helpers and exits non-zero
# if anything failed.  tests/run.sh numbers and counts them.
set -uo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# each script finds its own top (tests use scratch copies of the repo)
unset UKL_TOP UKL_LOCK UKL_BUILD UKL_OUT
T_FAILED=0
T_TMP=$(mktemp -d --tmpdir ukl-test.XXXXXX)
trap 'rm -rf "$T_TMP"' EXIT

ok() { echo "ok - $*"; }
not_ok() {
	local what=$1
	shift
	echo "not ok - $what"
	[ $# = 0 ] || printf '%s\n' "$@" | sed 's/^/#   /'
	T_FAILED=1
}
diag() { printf '# %s\n' "$*"; }

# expect_ok WHAT CMD...: CMD must succeed
expect_ok() {
	local what=$1
	shift
	if "$@" >"$T_TMP/out" 2>&1; then ok "$what"; else not_ok "$what" "exit $?" "$(tail -n 15 "$T_TMP/out")"; fi
}
# expect_fail WHAT REGEX CMD...: CMD must fail, and its output must match the extended REGEX
expect_fail() {
	local what=$1 re=$2 rc=0
	shift 2
	"$@" >"$T_TMP/out" 2>&1 || rc=$?
	T_LAST_RC=$rc
	if [ $rc = 0 ]; then
		not_ok "$what" "expected failure, command succeeded" "$(tail -n 10 "$T_TMP/out")"
	elif ! tr "\n" " " <"$T_TMP/out" | grep -Eq -- "$re"; then
		not_ok "$what" "exit $rc, but output lacks /$re/:" "$(tail -n 10 "$T_TMP/out")"
	else
		ok "$what"
	fi
}
# expect_last_status WHAT N: the command of the last expect_fail exited with status N (one run
# checked for both its message and its status)
expect_last_status() {
	if [ "${T_LAST_RC:-}" = "$2" ]; then ok "$1"; else not_ok "$1" "exit ${T_LAST_RC:-none}, expected $2" "$(tail -n 15 "$T_TMP/out")"; fi
}
# expect_status WHAT N CMD...: CMD must exit with status N
expect_status() {
	local what=$1 want=$2 rc=0
	shift 2
	"$@" >"$T_TMP/out" 2>&1 || rc=$?
	if [ "$rc" = "$want" ]; then ok "$what"; else not_ok "$what" "exit $rc, expected $want" "$(tail -n 15 "$T_TMP/out")"; fi
}
# expect_grep WHAT REGEX FILE
# expect_quiet_kernel WHAT LOG: ok when the console LOG holds no kernel complaint
# (scripts/lib.sh's kernel_complaints: warnings, oopses, lockdep, sanitizers, stalls)
expect_quiet_kernel() {
	if (. "$TOP/scripts/lib.sh" && kernel_complaints "$2") >"$T_TMP/warn"; then
		not_ok "$1" "$(head -n 5 "$T_TMP/warn")"
	else
		ok "$1"
	fi
}

# stop_runner WHAT PID [CONSOLE]: SIGTERM a background scripts/boot-app.sh; ok when it ends with
# 143 (QEMU stopped cleanly)
stop_runner() {
	local rc=0
	kill -TERM "$2"
	wait "$2" || rc=$?
	if [ $rc = 143 ]; then ok "$1"; else not_ok "$1" "exit $rc" "$([ -z "${3:-}" ] || tail -n 5 "$3")"; fi
}

expect_grep() {
	if grep -Eq -- "$2" "$3"; then ok "$1"; else not_ok "$1" "/$2/ not in $3:" "$(tail -n 10 "$3")"; fi
}

# bg_kernel_wait PROFILE: wait while tests/run.sh builds PROFILE's kernel in the background
# (ukl-lto; make image would otherwise build the same objects beside it): the build holds
# build/.bg-kernel-KERNEL locked until its last process exits
bg_kernel_wait() {
	local k f
	k=$(. "$TOP/scripts/lib.sh" && conf_get "$(profile_file "$1")" PROFILE_KERNEL "$1")
	f=$TOP/build/.bg-kernel-$k
	[ -f "$f" ] || return 0
	flock -n "$f" true && return 0
	diag "waiting for the background build of the $k kernel (build/test-logs/bg-kernel-$k.log)"
	flock "$f" true
}

# build_image APP PROFILE: build out/APP/PROFILE quietly (log in build/test-logs); a build is
# no check of its own (a diagnostic line), but a broken one fails the test and ends it
build_image() {
	local log=$TOP/build/test-logs/image-$1-$2.log
	mkdir -p "$(dirname "$log")"
	bg_kernel_wait "$2"
	if make -C "$TOP" --no-print-directory image APP="$1" PROFILE="$2" >"$log" 2>&1; then
		diag "built image $1/$2"
	else
		not_ok "build image $1/$2" "log: $log" "$(tail -n 20 "$log")"
		exit 1
	fi
}

# A copy of the repo's scripts, profiles, apps, kernel patches and lock in a scratch top, for tests
# that break things (with the patches, it shares the real patched kernel tree instead of
# preparing an unpatched one)
scratch_top() {
	local d=$T_TMP/top
	mkdir -p "$d"
	cp -a "$TOP/scripts" "$TOP/profiles" "$TOP/apps" "$TOP/linux-patches" "$TOP/inputs.lock" "$TOP/Makefile" "$d/"
	printf '%s\n' "$d"
}

t_done() { exit $T_FAILED; }
# free_port: the one in scripts/lib.sh
free_port() { (. "$TOP/scripts/lib.sh" && free_port); }

# The CI matrix of the boot tests that run an app on several profiles (lebench; memcached
# leaves out the #DF route): every mechanism once (ukl: the full entry; ukl-shortcut: ret,
# bypass and the TCP shortcut; ukl-ret-pf-df: the #DF route; ukl-direct: per-call binding and
# the direct entries).  The selftest runs on these and ukl-lto.  PROFILES=all runs every
# test on every UKL profile (README: "the full matrix").
CI_PROFILES="ukl ukl-shortcut ukl-ret-pf-df ukl-direct"

# use_profiles [DEFAULT]: set UKL_SET to the UKL profiles a boot test covers: PROFILES if given
# (all = every UKL profile; linux, the baseline, is run by the tests that compare against it
# either way), else DEFAULT (all, or a list; default: CI_PROFILES).  A name that is no profile,
# or a PROFILES with no UKL profile in it, fails the test: it would otherwise pass having
# checked nothing.
use_profiles() {
	local want=${PROFILES:-${1:-$CI_PROFILES}} all f
	all=$(. "$TOP/scripts/lib.sh" && ukl_profiles)
	UKL_SET=""
	[ "$want" = all ] && want=$all
	for f in $want; do
		[ -f "$TOP/profiles/$f.profile" ] || { not_ok "PROFILES names '$f', which is no profile" "known: linux $all"; t_done; }
		[ "$f" = linux ] || UKL_SET="$UKL_SET $f"
	done
	[ -n "$UKL_SET" ] || { not_ok "PROFILES='$want' leaves this test no UKL profile to check" "add one of: $all"; t_done; }
}

# guest_tap LOG PREFIX: re-emit the guest's TAP lines ("ok N - x") from a console log as ours
guest_tap() {
	local n=0 line
	while IFS= read -r line; do
		line=${line%$'\r'}
		case $line in
		"ok "[0-9]*" - "*) echo "ok - $2: ${line#* - }"; n=$((n + 1)) ;;
		"not ok "[0-9]*" - "*) echo "not ok - $2: ${line#* - }"; T_FAILED=1; n=$((n + 1)) ;;
		esac
	done < <(sed -n '/^# selftest: pid/,/^# selftest: .* passed/p' "$1" | tr -d '\r')
	[ $n -gt 0 ] || not_ok "$2: the guest reported no check" "$(tail -n 15 "$1")"
}

# profile_var PROFILE VAR: a variable of profiles/PROFILE.profile (e.g. PROFILE_CMDLINE)
profile_var() { (. "$TOP/scripts/lib.sh" && conf_get "$TOP/profiles/$1.profile" "$2"); }

# boot APP PROFILE [VAR=value...]: scripts/boot-app.sh with only the given make variables
boot() {
	local app=$1 profile=$2
	shift 2
	env -u ARGS -u TIMEOUT -u APPEND -u HOSTPORT -u MONITOR "$@" "$TOP/scripts/boot-app.sh" "$app" "$profile"
}
