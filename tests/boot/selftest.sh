#!/usr/bin/env bash
# The selftest app on each profile: every check must pass, and the app must run at the CPL the
# profile promises (3 on stock Linux, 0 on UKL profiles).
# time-limit: 2700
. "$(dirname "$0")/../lib.sh"

# expect PROFILE WORD: 1 if the profile declares WORD (ret, pf-df, shortcut) in PROFILE_EXPECT
expect() { case " $(profile_var "$1" PROFILE_EXPECT) " in *" $2 "*) echo 1 ;; *) echo 0 ;; esac; }
profile_entry() { profile_var "$1" PROFILE_SYSCALL_ENTRY; }
# pf_route PROFILE: how the profile declares its kernel takes the app's stack faults: ss (#PF on
# its IST stack, the default) or df (as double faults)
pf_route() { [ "$(expect "$1" pf-df)" = 1 ] && echo df || echo ss; }
# expectations PROFILE: the selftest's arguments saying what the profile declares (never what
# the command line happens to hold: a dropped or misspelt boot word must fail)
expectations() { echo "--expect-ret $(expect "$1" ret) --expect-pf-df $(expect "$1" pf-df) --expect-shortcut $(expect "$1" shortcut)"; }

run_selftest() {
	local profile=$1 cpl=$2 only=${3:+--only $3} out rc=0
	build_image selftest "$profile"
	out=$TOP/out/selftest/$profile
	# 2 vCPUs (scripts/boot-app.sh's default SMP): the smp group needs both online
	env -u SMP ARGS="--expect-cpl $cpl --expect-release 6.12 --expect-cpus 2 $(expectations "$profile") $only" TIMEOUT=600 "$TOP/scripts/boot-app.sh" selftest "$profile" >"$T_TMP/console" 2>&1 || rc=$?
	guest_tap "$out/run.log" "$profile"
	expect_grep "$profile: the kernel brought up both vCPUs" 'smp: Brought up 1 node, 2 CPUs' "$out/run.log"
	if [ $rc = 0 ]; then ok "$profile: selftest exits 0 (no failed check)"
	else not_ok "$profile: selftest exits 0" "exit $rc" "$(tail -n 8 "$T_TMP/console")"; fi
}

# The app's exit status through init to the harness (--exit 7).  The app's data in two starts
# of one boot (init's ukl.starts=2, the fresh group): the first start dirties .data, .bss and
# its TLS template and exits with two threads running; the second must still see the data as
# linked.  A fork or a second start while the app runs is refused on a UKL kernel, with one
# console line each (the fork group checks the errno).
fresh_twice() {
	local profile=$1 rc=0 log=$TOP/out/selftest/$1/run.log n
	expect_status "$profile: the app's exit status reaches the harness (--exit 7)" 7 \
		env ARGS="--exit 7" TIMEOUT=300 "$TOP/scripts/boot-app.sh" selftest "$profile"
	env ARGS="--only fork,fresh --expect-cpl $2" APPEND="ukl.starts=2" TIMEOUT=300 \
		"$TOP/scripts/boot-app.sh" selftest "$profile" >"$T_TMP/console" 2>&1 || rc=$?
	n=$(tr -d '\r' <"$log" | grep -c '^ok [0-9]* - this start sees the image' || true)
	if [ $rc = 0 ] && [ "$n" = 2 ]; then
		ok "$profile: a second start sees the app's data as linked, after a first that dirtied it and exited with live threads"
	else
		not_ok "$profile: a second start sees the app's data as linked" "exit $rc, $n of 2 starts clean" \
			"$(tr -d '\r' <"$log" | grep -E '^(not )?ok|ukl-init: start' | tail -n 12)"
	fi
	if [ "$2" = 0 ]; then
		expect_grep "$profile: the kernel names the limit when it refuses the fork" \
			'ukl: fork\(\) of [^ ]+\[[0-9]+\] refused \(EBUSY\)' "$log"
		expect_grep "$profile: ... and when it refuses a second start while the app runs" \
			'ukl: /proc/self/exe refused \(EBUSY\): the application.s one copy of its data is in use' "$log"
	fi
	# the app execs itself (nothing else shares its mm): the new image starts with fresh data
	expect_status "$profile: the app execs itself after dirtying its data, and the new image sees it as linked" 0 \
		env ARGS="--reexec-fresh" TIMEOUT=300 "$TOP/scripts/boot-app.sh" selftest "$profile"
	expect_grep "$profile: ... (its check ran)" '^ok [0-9]+ - this start sees the image' <(tr -d '\r' <"$log")
}

run_selftest linux 3
fresh_twice linux 3
# UKL profiles: every group, vdso included (the vDSO runs at CPL 0 and its fallbacks use the
# call entry); the progress group checks what a fast path must keep (signals within the call
# that raised them, fairness between a CPU-bound and a syscall-bound thread).
# CI: the CI matrix (every mechanism once) and ukl-lto (the series built by clang-19 with
# ThinLTO, linked by lld-19); PROFILES=all: every UKL profile, the debug kernel ukl-debug
# (lockdep & co. under the fast paths) among them.  ukl-debug is a checker, not a mechanism,
# and its kernel build of its own does not fit in CI's budget beside ukl-lto's.
use_profiles "$CI_PROFILES ukl-lto"
profiles=$UKL_SET
# The start and exit of the app (exit status, a second start, exec of itself: fresh_twice)
# take the same path whatever the entry profile, so CI runs them on ukl only; a PROFILES given
# runs them on every profile it names.
for profile in $profiles; do
	run_selftest "$profile" 0
	case " ${PROFILES:+$profiles} ukl " in *" $profile "*) fresh_twice "$profile" 0 ;; esac
	# the debug kernel's checkers were on (a complaint from any of them fails the boot: 123)
	[ "$profile" = ukl-debug ] && expect_grep "ukl-debug: the selftest ran under lockdep" \
		'Lock dependency validator' "$TOP/out/selftest/ukl-debug/run.log"
done

# A profile whose boot word is dropped or misspelt fails its selftest: the expectation comes
# from PROFILE_EXPECT, the behaviour from the command line.  Booted by scripts/run.sh with the
# profile's command line edited.
dropped() { # PROFILE GROUP FROM TO WHAT
	local out=$TOP/out/selftest/$1 rc=0
	case " $profiles " in *" $1 "*) ;; *) return ;; esac
	"$TOP/scripts/run.sh" --log "$T_TMP/dropped.log" --timeout 300 \
		--append "$(profile_var "$1" PROFILE_CMDLINE | sed "s/$3/$4/")" "$out/bzImage" "$out/initramfs.cpio.gz" \
		-- --expect-cpl 0 $(expectations "$1") --only "$2" >/dev/null 2>&1 || rc=$?
	if [ $rc != 0 ] && grep -q '^not ok' "$T_TMP/dropped.log"; then
		ok "$1 with $5: its $2 group fails (exit $rc)"
	else
		not_ok "$1 with $5: its $2 group fails" "exit $rc" "$(grep -E '^(not )?ok' "$T_TMP/dropped.log" | tail -n 5)"
	fi
}
dropped ukl-direct ret ' ukl_ret=1' '' "its ukl_ret=1 boot word dropped"
dropped ukl-ret-pf-df stack 'ukl_pf_df=1' 'ukl_pfdf=1' "ukl_pf_df=1 misspelt ukl_pfdf=1"
# each UKL image binds the app's system call sites to its profile's entry
for profile in $profiles; do
	entry=$(profile_entry "$profile")
	nm "$TOP/out/selftest/$profile/vmlinux" >"$T_TMP/nm"
	expect_grep "$profile: the app's system call sites are bound to $entry" \
		"^$(grep " T $entry\$" "$T_TMP/nm" | cut -d' ' -f1) T ukl___ukl_syscall\$" "$T_TMP/nm"
	# a profile on another profile's kernel objects (PROFILE_KERNEL) reports that kernel
	expect_grep "$profile: the image's build report names its kernel release" \
		'^kernel: +6\.12\.[0-9]+, config sha256' "$TOP/out/selftest/$profile/report.txt"
done
# A push onto an unmapped stack (selftest --crash).  In the user half it is the app's own stack
# fault: SIGSEGV (exit status 139), as on stock Linux, whichever route the fault took.  In the
# kernel half it is no stack fault: the pf-ss route still sees a page fault (SIGSEGV), while the
# #DF route gets a genuine double fault and must report it as one (the kernel's "PANIC: double
# fault" oops, then the reset of panic=-1), not take it for a stack fault.  Once per route.
crash() { env ARGS="--crash $2" TIMEOUT=300 "$TOP/scripts/boot-app.sh" selftest "$1"; }
expect_status "linux: a push onto an unmapped user-half stack kills the app with SIGSEGV (139)" 139 \
	crash linux stack-user
routes=
for profile in $profiles; do
	route=$(pf_route "$profile")
	case " $routes " in *" $route "*) continue ;; esac
	routes="$routes $route"
	expect_status "$profile (pf-$route): a push onto an unmapped user-half stack kills the app with SIGSEGV (139)" \
		139 crash "$profile" stack-user
	if [ "$route" = ss ]; then
		expect_status "$profile (pf-ss): a push onto an unmapped kernel-half stack is a page fault, SIGSEGV (139)" \
			139 crash "$profile" stack-kernel
		continue
	fi
	expect_status "$profile (pf-df): a push onto an unmapped kernel-half stack ends in the panic's reset (125)" \
		125 crash "$profile" stack-kernel
	expect_grep "$profile (pf-df): ... reported as a double fault" 'PANIC: double fault' "$TOP/out/selftest/$profile/run.log"
	expect_grep "$profile (pf-df): ... whose registers show the app's stack pointer" \
		'RSP: [0-9a-f]{4}:ffff800000001000' "$TOP/out/selftest/$profile/run.log"
done
t_done
