#!/usr/bin/env bash
# The harness itself: the accelerator is chosen by what KVM can do, not by the device node;
# the test runner refuses unknown test names, stops a test at its time limit with everything
# it started; a PROFILES that leaves a test nothing to check fails it.  No image needed.
. "$(dirname "$0")/../lib.sh"
"$TOP/scripts/setup.sh" --check-or-install >/dev/null || { not_ok "host tools (scripts/setup.sh)"; t_done; }
# the real download cache (the lock test below reuses its kernel tree), before a scratch one
real_cache=$(. "$TOP/scripts/lib.sh" && echo "$UKL_CACHE")
export UKL_CACHE=$T_TMP/cache

# -- the accelerator (scripts/accel.sh) -------------------------------------------------------
printf 'processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu tsc hypervisor\n' >"$T_TMP/cpuinfo-novmx"
printf 'processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu tsc vmx\n' >"$T_TMP/cpuinfo-vmx"
touch "$T_TMP/kvm"
expect_ok "ACCEL=auto without /dev/kvm: TCG" env UKL_KVM_DEV="$T_TMP/none" "$TOP/scripts/accel.sh" auto
expect_grep "... saying why" "^tcg: KVM unusable, there is no $T_TMP/none\$" "$T_TMP/out"
expect_ok "ACCEL=auto with a /dev/kvm but no vmx/svm flag (a paravirtual KVM): TCG" \
	env UKL_KVM_DEV="$T_TMP/kvm" UKL_CPUINFO="$T_TMP/cpuinfo-novmx" "$TOP/scripts/accel.sh" auto
expect_grep "... saying why" "^tcg: KVM unusable, .*no vmx/svm flag" "$T_TMP/out"
expect_fail "ACCEL=kvm there fails at once, naming the cause and the fix" "no vmx/svm flag.*fix: use ACCEL=tcg" \
	env UKL_KVM_DEV="$T_TMP/kvm" UKL_CPUINFO="$T_TMP/cpuinfo-novmx" "$TOP/scripts/accel.sh" kvm
expect_ok "ICOUNT=1 under ACCEL=auto: TCG, saying why" "$TOP/scripts/accel.sh" --icount auto
expect_grep "... (the stamp says tcg)" "^tcg: ICOUNT=1 needs TCG\$" "$T_TMP/out"
expect_fail "ACCEL=kvm with ICOUNT=1 is an error" "icount needs TCG" "$TOP/scripts/accel.sh" --icount kvm
# a device node and the flag are not enough: the probe guest must boot in time.  Where it
# cannot (here: a time limit no guest meets), auto falls back and kvm fails.
expect_ok "a /dev/kvm and a vmx flag, but a KVM that cannot boot the probe guest in time: TCG" \
	env UKL_PROBE_SECONDS=0.01 UKL_KVM_DEV="$T_TMP/kvm" UKL_CPUINFO="$T_TMP/cpuinfo-vmx" "$TOP/scripts/accel.sh" auto
expect_grep "... saying the probe guest failed" "^tcg: KVM unusable, a probe guest under KVM did not finish within 0.01s" "$T_TMP/out"
expect_fail "... and ACCEL=kvm fails, naming it" "KVM cannot run a guest here: a probe guest under KVM" \
	env UKL_PROBE_SECONDS=0.01 UKL_KVM_DEV="$T_TMP/kvm" UKL_CPUINFO="$T_TMP/cpuinfo-vmx" "$TOP/scripts/accel.sh" kvm
ls "$UKL_CACHE"/accel/probe-* >/dev/null 2>&1 && ok "... and the probe's verdict is cached" || not_ok "... and the probe's verdict is cached"
# the probe guest itself is right: under TCG it reaches long mode and exits 85
expect_ok "the probe guest reaches long mode and exits through isa-debug-exit (under TCG)" \
	env UKL_PROBE_ACCEL=tcg UKL_KVM_DEV="$T_TMP/kvm" UKL_CPUINFO="$T_TMP/cpuinfo-vmx" "$TOP/scripts/accel.sh" auto
expect_grep "... so auto would take KVM where it boots" "^kvm: .*passed a probe boot" "$T_TMP/out"
t=$SECONDS
expect_fail "make run ACCEL=kvm on such a host stops before building anything" "ACCEL=kvm, but KVM cannot run a guest" \
	env UKL_KVM_DEV="$T_TMP/kvm" UKL_CPUINFO="$T_TMP/cpuinfo-novmx" make -C "$TOP" --no-print-directory run APP=hello PROFILE=linux ACCEL=kvm
[ $((SECONDS - t)) -lt 20 ] && ok "... at once ($((SECONDS - t)) s)" || not_ok "... at once" "took $((SECONDS - t)) s"
khz=$(. "$TOP/scripts/lib.sh" && host_tsc_khz)
[[ $khz =~ ^[0-9]{6,8}$ ]] && ok "the host's TSC rate for the guest's tsc_early_khz: $khz kHz" || not_ok "the host's TSC rate" "got '$khz'"
# kernel builds and links take a lock: a second one waits, saying so, instead of linking into
# the same vmlinux at the same time.  The lock here is a scratch one (UKL_KERNEL_LOCK, the
# same flock), on the real tree: a scratch tree would unpack and patch the whole kernel source
# (minutes, cold) only to be thrown away
( flock 9; sleep 4 ) 9>"$T_TMP/kernel.lock" &
holder=$!
sleep 1
t=$SECONDS
UKL_CACHE=$real_cache UKL_KERNEL_LOCK=$T_TMP/kernel.lock "$TOP/scripts/kernel.sh" --tree >"$T_TMP/lock.out" 2>&1
waited=$((SECONDS - t))
wait $holder
grep -q 'waiting for another kernel build or link to finish' "$T_TMP/lock.out" && [ $waited -ge 2 ] &&
	ok "a kernel build waits for the one holding the build lock, saying so (${waited} s)" ||
	not_ok "a kernel build waits for the build lock" "waited ${waited} s" "$(tail -n 5 "$T_TMP/lock.out")"
# --pin: a host CPU that exists, or an error before QEMU starts
touch "$T_TMP/k" "$T_TMP/i"
expect_fail "scripts/run.sh --pin refuses a host CPU that does not exist" "--pin wants a host CPU number below $(nproc), not '$(nproc)'" \
	"$TOP/scripts/run.sh" --accel tcg --pin "$(nproc)" "$T_TMP/k" "$T_TMP/i"

# A QEMU killed by a signal (QEMU 7.2's TCG has segfaulted here) exits 128+N in bash's eyes,
# which an exit-port status could also give (139 = status 69): without the console's marker it
# is QEMU's failure (126), named, and never an app status.  A stand-in QEMU kills itself.
mkdir -p "$T_TMP/fakeqemu"
printf '#!/bin/sh\necho "[    0.100000] Linux version 6.12 (stand-in)"\nkill -SEGV $$\n' >"$T_TMP/fakeqemu/qemu-system-x86_64"
chmod +x "$T_TMP/fakeqemu/qemu-system-x86_64"
touch "$T_TMP/k" "$T_TMP/i"
expect_fail "scripts/run.sh: a QEMU killed by SIGSEGV is QEMU's failure, named, not an app status of 69" \
	"QEMU itself was most likely killed by SIGSEGV" \
	env PATH="$T_TMP/fakeqemu:$PATH" "$TOP/scripts/run.sh" --accel tcg --timeout 30 --log "$T_TMP/fq.log" "$T_TMP/k" "$T_TMP/i"
expect_status "... with status 126" 126 \
	env PATH="$T_TMP/fakeqemu:$PATH" "$TOP/scripts/run.sh" --accel tcg --timeout 30 --log "$T_TMP/fq.log" "$T_TMP/k" "$T_TMP/i"

# kernel_complaints (scripts/lib.sh): a process's own general protection fault is no complaint
# (the selftest's debug group provokes them on stock Linux), the kernel's oops is
printf '[    1.000000] traps: selftest[12] general protection fault ip:800000000000 sp:7ffc error:0\n' >"$T_TMP/gp-user.log"
printf '[    2.000000] Oops: general protection fault, probably for non-canonical address 0x1\n' >"$T_TMP/gp-kernel.log"
expect_status "kernel_complaints: a process's general protection fault is not the kernel's" 1 \
	bash -c '. "$1/scripts/lib.sh"; kernel_complaints "$2"' - "$TOP" "$T_TMP/gp-user.log"
expect_status "... a kernel general protection fault is" 0 \
	bash -c '. "$1/scripts/lib.sh"; kernel_complaints "$2"' - "$TOP" "$T_TMP/gp-kernel.log"

# -- the test runner (tests/run.sh) ------------------------------------------------------------
top=$T_TMP/top
mkdir -p "$top/tests/host" "$top/tests/boot"
cp -a "$TOP/scripts" "$top/"
cp "$TOP/tests/run.sh" "$TOP/tests/lib.sh" "$top/tests/"
printf '#!/usr/bin/env bash\n. "$(dirname "$0")/../lib.sh"\nok "fine"\nt_done\n' >"$top/tests/host/quick.sh"
cat >"$top/tests/host/sleepy.sh" <<'EOF'
#!/usr/bin/env bash
# time-limit: 3
. "$(dirname "$0")/../lib.sh"
sleep 60 &
echo $! >"$UKL_TEST_PIDFILE"
ok "started"
sleep 60
EOF
expect_fail "an unknown test name is an error listing the known ones" "no test named 'nosuch'; the tests are: quick sleepy" \
	"$top/tests/run.sh" quick nosuch
t=$SECONDS
expect_fail "a test past its time limit is stopped and fails" "stopped at its time limit of 3 s.*1 passed, 1 failed" \
	env UKL_TEST_PIDFILE="$T_TMP/sleepy.pid" "$top/tests/run.sh" sleepy
[ $((SECONDS - t)) -lt 15 ] && ok "... within seconds ($((SECONDS - t)) s)" || not_ok "... within seconds" "took $((SECONDS - t)) s"
sleep 1
if kill -0 "$(cat "$T_TMP/sleepy.pid")" 2>/dev/null; then
	not_ok "... and what it started went with it"
	kill "$(cat "$T_TMP/sleepy.pid")"
else
	ok "... and what it started went with it"
fi
expect_ok "a passing test still passes" "$top/tests/run.sh" quick
expect_grep "... counted once" "^1 passed, 0 failed$" "$T_TMP/out"

# -- PROFILES for the boot tests (use_profiles of tests/lib.sh) --------------------------------
up() { PROFILES=$1 bash -c '. "$0/tests/lib.sh"; use_profiles "$1"; echo "set:$UKL_SET"' "$TOP" "${2:-}"; }
expect_fail "PROFILES naming no profile fails the test, listing the known ones" "PROFILES names 'nosuch', which is no profile.*known: linux ukl" up "ukl nosuch"
expect_fail "PROFILES=linux leaves a UKL test nothing to check: it fails" "leaves this test no UKL profile" up linux
expect_ok "PROFILES=\"linux ukl-ret\" gives ukl-ret" up "linux ukl-ret"
expect_grep "... only" "^set: ukl-ret$" "$T_TMP/out"
expect_ok "no PROFILES: the CI matrix" up ""
expect_grep "... every mechanism once (ukl, ukl-shortcut, ukl-ret-pf-df, ukl-direct)" "^set: ukl ukl-shortcut ukl-ret-pf-df ukl-direct$" "$T_TMP/out"
t_done
