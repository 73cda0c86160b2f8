#!/usr/bin/env bash
# The selftest app on each profile: every check must pass, and the app must run at the CPL the
# profile promises (3 on stock Linux, 0 on UKL profiles).
. "$(dirname "$0")/../lib.sh"

run_selftest() {
	local profile=$1 cpl=$2 only=${3:+--only $3} out rc=0
	build_image selftest "$profile"
	out=$TOP/out/selftest/$profile
	env ARGS="--expect-cpl $cpl --expect-release 6.12 $only" TIMEOUT=600 "$TOP/scripts/boot-app.sh" selftest "$profile" >"$T_TMP/console" 2>&1 || rc=$?
	guest_tap "$out/run.log" "$profile"
	if [ $rc = 0 ]; then ok "$profile: selftest exits 0 (no failed check)"
	else not_ok "$profile: selftest exits 0" "exit $rc" "$(tail -n 8 "$T_TMP/console")"; fi
	expect_status "$profile: the app's exit status reaches the harness (--exit 7)" 7 \
		env ARGS="--exit 7" TIMEOUT=300 "$TOP/scripts/boot-app.sh" selftest "$profile"
}

run_selftest linux 3
# UKL: the groups that pass reliably today.  Open in issue 3: threads (pthread_exit/cancel
# passed in two boots and hung in a third), vdso (no vDSO is mapped for UKL tasks yet), and
# stack after the other groups (one oops in the #PF IST switch-off), so stack runs alone.
diag "ukl: threads (intermittent hang) and vdso (no vDSO yet) not run; stack in its own boot"
run_selftest ukl 0 cpl,ids,files,uaccess,memory,tls,signals,events,sockets,fork
run_selftest ukl 0 stack
t_done
