#!/usr/bin/env bash
# The ukl profile: hello linked into vmlinux runs at CPL 0, started by the initramfs' init
# through the /UKL trigger and as init itself (rdinit=/UKL, the kernel powers off with its
# status), and shown by busybox ps while it runs; the image carries the app's symbols and a
# scan with no raw system call.
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
nm "$out/vmlinux" >"$T_TMP/nm"
expect_grep "vmlinux has the app's symbols (ukl_main)" " T ukl_main$" "$T_TMP/nm"
expect_grep "... glibc's under the ukl_ prefix (ukl_printf)" " T ukl_printf$" "$T_TMP/nm"
expect_grep "... and the system call sites are bound to the kernel's call entry" "ukl___ukl_syscall$" "$T_TMP/nm"
expect_grep "the fused app has no raw trap instruction" '^raw trap instructions .*: 0$' "$out/fuse-report.txt"
t_done
