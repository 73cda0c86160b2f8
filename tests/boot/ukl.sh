#!/usr/bin/env bash
# The ukl profile: hello linked into vmlinux runs at CPL 0, started by the initramfs' init
# through the /UKL trigger and as init itself (rdinit=/UKL, the kernel powers off with its
# status), and shown by busybox ps while it runs; the image carries the app's symbols and a
# scan with no raw system call.  Starting and reaching the CPL 0 app needs privilege
# (tests/guest/ukl-guard.c tries each route without it), and with SMAP/SMEP on the app is
# refused with a message naming the fix instead of faulting.
. "$(dirname "$0")/../lib.sh"
build_image hello ukl
out=$TOP/out/hello/ukl

expect_status "hello at CPL 0 exits with the status it was given (7)" 7 boot hello ukl ARGS="7 seven" TIMEOUT=120
expect_grep "... printing its greeting" "hello from /UKL" "$out/run.log"
expect_grep "... and its arguments" "hello: argv\[2\] = seven" "$out/run.log"
expect_grep "... started by a normal userspace (busybox init) through the trigger file" "ukl-init: starting hello: /UKL 7 seven" "$out/run.log"
expect_status "hello run in the background by the busybox userspace (ukl.ps=1)" 0 \
	boot hello ukl APPEND="ukl.ps=1 HELLO_SLEEP=3" ARGS="0 ps" TIMEOUT=120
expect_grep "... busybox ps shows it: a child of init, sleeping, named UKL, with its arguments" \
	"^ukl-ps: +[0-9]+ +1 +S +UKL +/UKL 0 ps" "$out/run.log"
expect_grep "the kernel reports the linked application" "ukl: application linked in" "$out/run.log"
expect_status "hello as init (rdinit=/UKL): the kernel powers off with its status (5)" 5 \
	boot hello ukl APPEND="rdinit=/UKL" ARGS="5" TIMEOUT=120
expect_grep "... reported on the console by the kernel" "ukl: exit status 5" "$out/run.log"

# every route to CPL 0 without privilege is refused; the guard exits with the number of
# routes whose outcome was not the expected one
expect_status "ukl-guard: no route to CPL 0 without CAP_SYS_ADMIN/CAP_SYS_PTRACE got through" 0 \
	boot hello ukl APPEND="ukl.guard=1" TIMEOUT=180
expect_grep "... the control got through (root with CAP_SYS_PTRACE reads /proc/PID/mem)" \
	"^ukl-guard: ALLOWED control:" "$out/run.log"
for route in "PTRACE_SEIZE of the app" "/proc/PID/mem opened to write" \
	"process_vm_writev into the app" "PTRACE_TRACEME, then starting the app"; do
	expect_grep "... refused as root without CAP_SYS_PTRACE: $route" \
		"^ukl-guard: refused root without CAP_SYS_PTRACE: $route \((Operation not permitted|Permission denied)\)" "$out/run.log"
done
for route in "starting the app" "PTRACE_TRACEME, then starting the app"; do
	expect_grep "... refused as uid 65534: $route" \
		"^ukl-guard: refused uid 65534: $route \(Operation not permitted\)" "$out/run.log"
done
expect_grep "... the kernel says why it refused the unprivileged start" \
	"ukl: /UKL refused: starting the CPL 0 application needs CAP_SYS_ADMIN \(uid 65534\)" "$out/run.log"

# SMAP/SMEP on (the profile's clearcpuid=smap,smep left out): refused, not a fault
rc=0
"$TOP/scripts/run.sh" --log "$T_TMP/smap.log" --timeout 120 \
	--append "$(profile_var ukl PROFILE_CMDLINE | sed 's/clearcpuid=smap,smep//')" \
	"$out/bzImage" "$out/initramfs.cpio.gz" -- 3 smap >"$T_TMP/out" 2>&1 || rc=$?
if [ $rc = 126 ]; then ok "with SMAP/SMEP on, starting the app fails with EPERM (126), no fault"
else not_ok "with SMAP/SMEP on, starting the app fails with EPERM (126), no fault" "exit $rc" "$(tail -n 8 "$T_TMP/smap.log")"; fi
expect_grep "... and the kernel names the fix" \
	"ukl: /UKL refused: SMAP or SMEP is on, .*; boot with clearcpuid=smap,smep" "$T_TMP/smap.log"

# A kernel bug in an ordinary process's system call, the kernel calling through a NULL pointer
# (LKDTM EXEC_NULL; SMEP is off): an oops that kills that process, as on stock Linux.  A
# frame with __KERNEL_CS and a user-half RIP is the app's only when the CPU runs a UKL task;
# taken for the app's, the fault would be moved onto the task stack and signalled.
rc=0
"$TOP/scripts/run.sh" --log "$T_TMP/lkdtm.log" --timeout 120 \
	--append "$(profile_var ukl PROFILE_CMDLINE) ukl.lkdtm=EXEC_NULL" \
	"$out/bzImage" "$out/initramfs.cpio.gz" -- 3 lkdtm >"$T_TMP/out" 2>&1 || rc=$?
# (run.sh ends with 123 when the kernel complained, as it must here; the app's status is on
# the console)
if [ $rc = 123 ] && grep -q '^ukl: exit status 3' <(tr -d '\r' <"$T_TMP/lkdtm.log"); then
	ok "a kernel bug at a user-half RIP in an ordinary process: the kernel lives, the app then runs (3)"
else
	not_ok "a kernel bug at a user-half RIP in an ordinary process: the kernel lives, the app then runs (3)" \
		"exit $rc (expected 123, the kernel's complaint)" "$(tail -n 12 "$T_TMP/lkdtm.log")"
fi
expect_grep "... it is the kernel's oops (supervisor instruction fetch in kernel mode)" \
	"#PF: supervisor instruction fetch in kernel mode" "$T_TMP/lkdtm.log"
expect_grep "... and it killed the process that made the system call (SIGKILL)" \
	"ukl-init: lkdtm EXEC_NULL: status 137" "$T_TMP/lkdtm.log"
# the same on the stock twin, for comparison
build_image hello linux
rc=0
"$TOP/scripts/run.sh" --log "$T_TMP/lkdtm-linux.log" --timeout 120 \
	--append "$(profile_var linux PROFILE_CMDLINE) ukl.lkdtm=EXEC_NULL" \
	"$TOP/out/hello/linux/bzImage" "$TOP/out/hello/linux/initramfs.cpio.gz" -- 3 lkdtm >"$T_TMP/out" 2>&1 || rc=$?
if [ $rc = 123 ] && tr -d '\r' <"$T_TMP/lkdtm-linux.log" | grep -q '#PF: supervisor instruction fetch in kernel mode' &&
	grep -q 'ukl-init: lkdtm EXEC_NULL: status 137' "$T_TMP/lkdtm-linux.log"; then
	ok "... as on the linux twin (the same oops, status 137, then the app runs)"
else
	not_ok "... as on the linux twin (the same oops, status 137, then the app runs)" "exit $rc" "$(tail -n 12 "$T_TMP/lkdtm-linux.log")"
fi

nm "$out/vmlinux" >"$T_TMP/nm"
expect_grep "vmlinux has the app's symbols (ukl_main)" " T ukl_main$" "$T_TMP/nm"
expect_grep "... glibc's under the ukl_ prefix (ukl_printf)" " T ukl_printf$" "$T_TMP/nm"
expect_grep "... and the system call sites are bound to the kernel's call entry" "ukl___ukl_syscall$" "$T_TMP/nm"
expect_grep "the fused app has no raw trap instruction" '^raw trap instructions .*: 0$' "$out/fuse-report.txt"
expect_grep "... and no instruction the CPU would execute at CPL 0 instead of faulting" '^privileged instructions .*: 0$' "$out/fuse-report.txt"
expect_grep "the vDSO it maps makes its SYSCALLs only behind the CPL test" \
	'^vDSO \(vdso64.so\): SYSCALLs behind the CPL test: [1-9][0-9]*; unguarded: 0; privileged instructions: 0$' "$out/fuse-report.txt"
t_done
