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
# UKL profiles: every group but vdso (no vDSO is mapped for UKL tasks: clock_gettime is a
# system call there); the progress group checks what a fast path must keep (signals within
# the call that raised them, fairness between a CPU-bound and a syscall-bound thread).
groups=cpl,ids,files,uaccess,memory,tls,threads,signals,stack,events,sockets,fork,progress
diag "UKL profiles run every group but vdso (no vDSO is mapped for UKL tasks yet)"
for profile in ${UKL_PROFILES:-ukl ukl-byp}; do
	run_selftest "$profile" 0 "$groups"
done
nm "$TOP/out/selftest/ukl-byp/vmlinux" >"$T_TMP/nm"
expect_grep "ukl-byp: the app's system call sites are bound to the bypass entry" \
	"^$(grep ' T ukl_entry_syscall_bypass$' "$T_TMP/nm" | cut -d' ' -f1) T ukl___ukl_syscall$" "$T_TMP/nm"
t_done
