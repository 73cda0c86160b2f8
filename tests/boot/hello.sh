#!/usr/bin/env bash
# Boot the stock hello image: output, exit-status propagation, a panicking guest, a hanging guest.
. "$(dirname "$0")/../lib.sh"
build_image hello linux
out=$TOP/out/hello/linux

expect_status "hello exits with the status it was given (7)" 7 boot hello linux ARGS="7 seven" TIMEOUT=120
expect_grep "... and printed its greeting on the console" "hello from /app/hello" "$out/run.log"
expect_grep "... with its arguments" "hello: argv\[2\] = seven" "$out/run.log"
expect_grep "... after the init set up the network" "ukl-init: network up" "$out/run.log"
expect_status "hello exits 0" 0 boot hello linux ARGS=0 TIMEOUT=120
expect_status "a status above 127 survives the trip (200)" 200 boot hello linux ARGS=200 TIMEOUT=120
expect_fail "a guest that panics is reported as a reset (125)" "reset .*before it reported an exit status" \
	boot hello linux APPEND="rdinit=/nonexistent" TIMEOUT=120
expect_last_status "... with exit status 125" 125
# the verdict is QEMU's own exit (isa-debug-exit), the console marker only confirms it
expect_status "an app that prints the exit marker with status 0, then ends the VM with 3, exits 3" 3 \
	boot hello linux ARGS="3 fake-status" TIMEOUT=120
expect_fail "a reset after an exit marker on the console is a reset (125), not that status" \
	"reset .*before it reported an exit status" boot hello linux ARGS="0 reboot-after" TIMEOUT=120
expect_last_status "... with exit status 125" 125
# every boot is checked for kernel complaints: a backtrace fails a boot whose app exited 0
expect_fail "a kernel backtrace on the console (sysrq l) fails a boot whose app exited 0 (123)" \
	"the kernel complained" boot hello linux ARGS="0 sysrq-trace" TIMEOUT=120
expect_last_status "... with exit status 123" 123
expect_fail "a guest that hangs is stopped at TIMEOUT and says how to proceed" "still running after 15s.*raise TIMEOUT=" \
	boot hello linux APPEND="ukl.shell=1" TIMEOUT=15
if pgrep -f "qemu-system-x86_64.*out/hello/linux" >/dev/null; then not_ok "... and no QEMU is left behind"; else ok "... and no QEMU is left behind"; fi
expect_ok "the build report names kernel, inputs and sizes" \
	grep -q "kernel: *6.12.*config sha256" "$out/report.txt"
t_done
