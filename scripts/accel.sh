#!/usr/bin/env bash
# Decide which QEMU accelerator a boot uses, and say why.
#
# usage: scripts/accel.sh [--icount] auto|kvm|tcg
# Prints one line, "ACCEL: REASON", ACCEL being kvm or tcg.  Exit status 1 (with an error that
# names the cause and the fix) when kvm is asked for and cannot run a guest.
#
# KVM is used only when it can really run an ordinary guest, which the device node alone does
# not tell: some hosts serve /dev/kvm from a paravirtual KVM that makes QEMU abort (MSR 0x10a)
# or runs a guest that never prints.  The checks, in order:
#   1. /dev/kvm exists and is writable;
#   2. the CPU advertises hardware virtualisation (vmx or svm in /proc/cpuinfo);
#   3. a probe boot: scripts/accel-probe/probe.S, a tiny guest that enters long mode through
#      the same steps as a Linux boot, prints a line on the serial port and exits through
#      isa-debug-exit, must do exactly that under `-accel kvm -cpu host` within 1.5 s.
# The probe's verdict is cached per host (host kernel, QEMU version, CPU model, /dev/kvm) in
# $UKL_CACHE/accel/; `rm -rf ~/.cache/ukl/accel` forgets it.
# UKL_CPUINFO and UKL_KVM_DEV replace /proc/cpuinfo and /dev/kvm, UKL_PROBE_ACCEL=tcg runs the
# probe guest under TCG (for the host tests: the probe guest itself must be right), and
# UKL_PROBE_SECONDS replaces the probe's time limit.
. "$(dirname "$0")/lib.sh"

icount=0
[ "${1:-}" = --icount ] && { icount=1; shift; }
[ $# = 1 ] || die "usage: scripts/accel.sh [--icount] auto|kvm|tcg"
want=$1
cpuinfo=${UKL_CPUINFO:-/proc/cpuinfo}
kvmdev=${UKL_KVM_DEV:-/dev/kvm}
# the probe is a few hundred instructions: TCG runs it, QEMU's start-up included, in 0.4 s
# here; the paravirtual KVM of this project's machines needs 3-4 s for it, and a Linux guest
# under that KVM prints nothing in a minute (a hardware KVM was not available to measure)
probe_limit=${UKL_PROBE_SECONDS:-1.5}

# kvm_unusable: prints why KVM cannot run a guest here, or nothing when it can
kvm_unusable() {
	local key cache verdict
	if [ ! -e "$kvmdev" ]; then
		echo "there is no $kvmdev"
		return
	fi
	[ -w "$kvmdev" ] || { echo "$kvmdev is not writable by $(id -un)"; return; }
	grep -qwE 'vmx|svm' "$cpuinfo" ||
		{ echo "$kvmdev exists but the CPU has no vmx/svm flag (a paravirtual KVM that cannot run an ordinary guest)"; return; }
	key=$( { uname -r; qemu-system-x86_64 --version | head -n1; grep -m1 'model name' "$cpuinfo"
		stat -Lc '%t:%T' "$kvmdev"; echo "${UKL_PROBE_ACCEL:-kvm} $probe_limit"; sha256sum <"$UKL_TOP/scripts/accel-probe/probe.S"; } | sha256sum | cut -c1-16)
	cache=$UKL_CACHE/accel/probe-$key
	if [ ! -f "$cache" ]; then
		mkdir -p "$(dirname "$cache")"
		probe_boot >"$cache.tmp"
		mv "$cache.tmp" "$cache"
	fi
	verdict=$(cat "$cache")
	[ "$verdict" = ok ] || echo "$verdict"
}

# probe_boot: boot the probe guest under KVM; prints ok, or what went wrong
probe_boot() {
	local d rc=0 cpu=(-accel kvm -cpu host)
	[ "${UKL_PROBE_ACCEL:-kvm}" = tcg ] && cpu=(-accel tcg -cpu max)
	d=$(mktemp -d --tmpdir ukl-probe.XXXXXX)
	as --32 -o "$d/probe.o" "$UKL_TOP/scripts/accel-probe/probe.S" &&
		ld -m elf_i386 -Ttext=0x100000 -o "$d/probe.elf" "$d/probe.o" ||
		die "the KVM probe guest does not assemble" "is binutils installed? (make setup)"
	timeout -s KILL "$probe_limit" qemu-system-x86_64 -nodefaults -no-user-config -M pc -m 64M -smp 2 \
		"${cpu[@]}" -display none -no-reboot -serial "file:$d/serial" \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel "$d/probe.elf" </dev/null >"$d/err" 2>&1 || rc=$?
	if [ $rc = 85 ] && grep -q 'ukl-probe: long mode' "$d/serial" 2>/dev/null; then
		echo ok
	elif [ $rc = 137 ]; then
		echo "a probe guest under KVM did not finish within ${probe_limit}s (it got as far as: '$(tr -d '\n' <"$d/serial" 2>/dev/null)')"
	else
		echo "a probe guest under KVM failed (QEMU exit $rc: $(grep -m1 . "$d/err" | cut -c1-160))"
	fi
	rm -rf "$d"
}

case $want in
tcg) echo "tcg: asked for (ACCEL=tcg)" ;;
auto)
	if [ $icount = 1 ]; then
		echo "tcg: ICOUNT=1 needs TCG"
	elif why=$(kvm_unusable) && [ -z "$why" ]; then
		echo "kvm: $kvmdev passed a probe boot"
	else
		echo "tcg: KVM unusable, $why"
	fi ;;
kvm)
	[ $icount = 0 ] || die "ACCEL=kvm with ICOUNT=1: -icount needs TCG" "drop ICOUNT=1, or use ACCEL=tcg"
	why=$(kvm_unusable)
	[ -z "$why" ] || die "ACCEL=kvm, but KVM cannot run a guest here: $why" \
		"use ACCEL=tcg, or ACCEL=auto (the default), which falls back to TCG by itself"
	echo "kvm: $kvmdev passed a probe boot (ACCEL=kvm)" ;;
*) die "ACCEL must be auto, kvm or tcg, not '$want'" ;;
esac
