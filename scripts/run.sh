#!/usr/bin/env bash
# Boot a ukl image in QEMU, non-interactively, and return the guest's exit status.
#
# usage: scripts/run.sh [options] BZIMAGE INITRD [-- APP ARGS...]
#   --log FILE         serial console log (also printed to stdout)
#   --timeout SECS     end the guest after SECS (0 = never); exit 124
#   --hostport PORT    forward 127.0.0.1:PORT to the guest's --guestport; "auto" picks a free one
#   --guestport PORT   the app's port in the guest
#   --port-file FILE   write the host port actually used to FILE (for scripts using auto)
#   --gdb              start QEMU's gdbstub on 127.0.0.1:1234 and wait for gdb (-S)
#   --gdb-port PORT    the same on PORT
#   --monitor SOCKET   QEMU's human monitor on a unix socket (scripts/guest-cpl.py samples it)
#   --append WORDS     extra kernel command-line words
#   --mem SIZE         guest memory (default 512M)    --smp N   vCPUs (default 2)
#   --accel A          auto (KVM if it passes scripts/accel.sh's checks, else TCG), kvm, or tcg
#   --icount           TCG with -icount shift=0: guest time counts instructions (exact, slower)
#   --pin CPU          run QEMU (all its threads) on host CPU CPU only (taskset)
#   --meter MAP        load the instruction meter (eval/meter/meter.c) with region map MAP
#                      (scripts/meter.sh map); TCG, single-threaded.  --meter-out FILE: its CSV
#                      (default: the log's name with .meter.csv); --meter-ctl FIFO: its
#                      control FIFO ("snap LABEL" lines, eval/bench.sh); --meter-pcs FILE:
#                      executions per address inside the guest's windows (eval/meter/pcs.py);
#                      --meter-branches FILE: block and branch counts of the kernel half for
#                      llvm-profgen (eval/pgo/)
#   --quiet            do not copy the console to stdout (the log still has it)
#
# Exit status: the guest app's exit status, from QEMU's own exit (isa-debug-exit), confirmed
# by the console's "ukl: exit status N" marker.  Reserved: 123 the kernel complained (WARNING,
# BUG, Oops, lockdep, KASAN-style reports; kernel_complaints in scripts/lib.sh), 124 timeout,
# 125 guest reset/panicked without a status, 126 QEMU failed (to start, or died), 143 stopped by
# SIGTERM/SIGINT.  An app killed by a signal exits 128+N; the run then names the signal and
# prints the kernel's crash report with source lines (scripts/crash-report.py).
. "$(dirname "$0")/lib.sh"

log="" timeout=0 hostport="" guestport="" portfile="" gdb=0 gdbport=1234 append="" mem=512M smp=2 accel=auto
icount=0 quiet=0 monitor="" pin="" preload="" meter="" meter_out="" meter_ctl="" meter_pcs="" meter_branches=""
while [ $# -gt 0 ]; do
	case $1 in
	--log) log=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--hostport) hostport=$2; shift 2 ;;
	--guestport) guestport=$2; shift 2 ;;
	--port-file) portfile=$2; shift 2 ;;
	--gdb) gdb=1; shift ;;
	--gdb-port) gdb=1; gdbport=$2; shift 2 ;;
	--monitor) monitor=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--accel) accel=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--pin) pin=$2; shift 2 ;;
	--meter) meter=$2; shift 2 ;;
	--meter-out) meter_out=$2; shift 2 ;;
	--meter-ctl) meter_ctl=$2; shift 2 ;;
	--meter-pcs) meter_pcs=$2; shift 2 ;;
	--meter-branches) meter_branches=$2; shift 2 ;;
	--quiet) quiet=1; shift ;;
	--) break ;;
	-*) die "unknown option $1" "see the usage at the top of scripts/run.sh" ;;
	*) break ;;
	esac
done
[ $# -ge 2 ] || die "usage: scripts/run.sh [options] BZIMAGE INITRD [-- APP ARGS...]"
kernel=$1 initrd=$2
shift 2
[ "${1:-}" = -- ] && shift
[ -f "$kernel" ] || die "no kernel image at $kernel" "build it first: make APP=<app> PROFILE=<profile>"
[ -f "$initrd" ] || die "no initramfs at $initrd" "build it first: make APP=<app> PROFILE=<profile>"
[[ $timeout =~ ^[0-9]+$ ]] || die "--timeout wants seconds, not '$timeout'"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is not installed" "make setup"
[ -n "$log" ] || log=$(mktemp --tmpdir ukl-run.XXXXXX.log)
mkdir -p "$(dirname "$log")"
: >"$log"

port_free() { python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"; }

netdev="user,id=net0"
if [ -n "$hostport" ]; then
	[ -n "$guestport" ] || die "--hostport needs --guestport (the app's port in the guest)"
	if [ "$hostport" = auto ]; then
		hostport=$(free_port)
	else
		[[ $hostport =~ ^[0-9]+$ ]] && [ "$hostport" -gt 0 ] && [ "$hostport" -lt 65536 ] ||
			die "HOSTPORT must be a port number or auto, not '$hostport'"
		port_free "$hostport" || die "host port $hostport is already in use on 127.0.0.1" \
			"pick another: HOSTPORT=<free port> or HOSTPORT=auto (see who has it: ss -ltnp 'sport = :$hostport')"
	fi
	netdev="$netdev,hostfwd=tcp:127.0.0.1:$hostport-:$guestport"
	[ -z "$portfile" ] || printf '%s\n' "$hostport" >"$portfile"
	# slirp listens on the forwarded port with a backlog of 1; many clients connecting at
	# once would overflow the host's accept queue (scripts/slirp-backlog.c says what follows)
	preload=$UKL_BUILD/tools/slirp-backlog.so
	if [ ! -f "$preload" ] || [ "$UKL_TOP/scripts/slirp-backlog.c" -nt "$preload" ]; then
		mkdir -p "${preload%/*}"
		gcc -O2 -Wall -shared -fPIC -o "$preload.tmp" "$UKL_TOP/scripts/slirp-backlog.c" -ldl ||
			die "scripts/slirp-backlog.c does not build" "make setup (it installs gcc)"
		mv "$preload.tmp" "$preload"
	fi
fi

# the accelerator: KVM only where it can really run a guest (scripts/accel.sh says why)
if [ -n "$meter" ]; then
	[ -f "$meter" ] || die "no region map $meter" "scripts/meter.sh map APP PROFILE writes it"
	[ "$accel" != kvm ] || die "the instruction meter is a TCG plugin: it cannot count under KVM" \
		"drop ACCEL=kvm (METER=1 uses TCG)"
	accel=tcg
	plugin=$("$UKL_TOP/scripts/meter.sh" plugin) || exit 126
	[ -n "$meter_out" ] || meter_out=${log%.log}.meter.csv
	rm -f "$meter_out"
fi
choice=$("$UKL_TOP/scripts/accel.sh" $([ $icount = 0 ] || echo --icount) "$accel") || exit 126
accel=${choice%%:*}
note "accelerator $choice"
# the meter's inline counters are shared by all vCPUs: one TCG thread runs them in turn, so
# no count is lost (eval/meter/meter.c)
if [ $accel = kvm ]; then cpu=(-accel kvm -cpu host); else cpu=(-accel "tcg${meter:+,thread=single}" -cpu max); fi
[ $icount = 0 ] || cpu+=(-icount shift=0)
[ -z "$meter" ] || cpu+=(-plugin "$plugin,map=$meter,out=$meter_out${meter_ctl:+,ctl=$meter_ctl}${meter_pcs:+,pcs=$meter_pcs}${meter_branches:+,branches=$meter_branches}")

# The guest's TSC rate on the command line instead of a calibration against the PIT, which
# under TCG fails or varies from boot to boot: under TCG the guest's TSC is the host's (its
# rate, tsc_early_khz, is measured once per host), under -icount it ticks once per instruction
# (1 GHz); tsc=reliable because it is then constant by construction.
clock=""
if [ $accel = tcg ]; then
	clock="tsc_early_khz=$([ $icount = 1 ] && echo 1000000 || host_tsc_khz) tsc=reliable"
fi
cmdline="console=ttyS0 earlyprintk=serial,ttyS0,115200 panic=-1 $clock $append"
[ $# = 0 ] || cmdline="$cmdline -- $*"

# One socket per vCPU: QEMU 7.2's -smp N alone makes N cores of one socket, and SeaBIOS's MP
# table (what this ACPI-less kernel reads) lists only the first CPU of each socket, so the
# guest would bring up one CPU
qemu=(${preload:+env LD_PRELOAD="$preload"} qemu-system-x86_64 -nodefaults -no-user-config -M pc -m "$mem" -smp "$smp,sockets=$smp" "${cpu[@]}"
	-display none -no-reboot
	-chardev "stdio,id=con,signal=off,logfile=$log" -serial chardev:con
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-netdev "$netdev" -device virtio-net-pci,netdev=net0,romfile=
	-kernel "$kernel" -initrd "$initrd" -append "$cmdline")
[ -z "$monitor" ] || qemu+=(-monitor "unix:$monitor,server=on,wait=off")
if [ -n "$pin" ]; then
	[[ $pin =~ ^[0-9]+$ ]] && [ "$pin" -lt "$(nproc)" ] ||
		die "--pin wants a host CPU number below $(nproc), not '$pin'"
	qemu=(taskset -c "$pin" "${qemu[@]}")
fi
[ $gdb = 0 ] || { qemu+=(-gdb "tcp:127.0.0.1:$gdbport" -S); note "gdbstub on 127.0.0.1:$gdbport, waiting: make gdb (scripts/gdb.sh)"; }

note "booting $(basename "$(dirname "$kernel")")/$(basename "$kernel") ($accel$([ $icount = 0 ] || echo ', icount')$([ -z "$meter" ] || echo ", metered: $meter_out"), ${smp} vCPU, $mem${pin:+, on host CPU $pin})${hostport:+, host 127.0.0.1:$hostport -> guest :$guestport}; log: $log"
[ "$V" = 1 ] && printf '+ %q ' "${qemu[@]}" && echo

errlog=$(mktemp --tmpdir ukl-qemu-err.XXXXXX)
tmark=$(mktemp --tmpdir ukl-timeout.XXXXXX)
rm -f "$tmark"
if [ $quiet = 1 ]; then
	"${qemu[@]}" </dev/null >/dev/null 2>"$errlog" &
else
	"${qemu[@]}" </dev/null 2>"$errlog" &
fi
qpid=$!
# the timeout watchdog takes its sleep with it when stopped, so that a stopped runner
# leaves nothing behind (a stray one would later signal whatever process got QEMU's pid)
watchdog() {
	local s
	sleep "$timeout" &
	s=$!
	trap 'kill $s 2>/dev/null; exit 0' TERM
	wait $s || exit 0
	touch "$tmark"
	kill -TERM "$qpid" 2>/dev/null
	sleep 5
	kill -KILL "$qpid" 2>/dev/null
}
wdog=""
stop_watchdog() { [ -z "$wdog" ] || { kill "$wdog" 2>/dev/null; wait "$wdog" 2>/dev/null || true; }; }
stop() { stop_watchdog; kill -TERM "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; rm -f "$errlog" "$tmark"; note "stopped"; exit 143; }
trap stop TERM INT HUP
if [ "$timeout" -gt 0 ]; then
	watchdog &
	wdog=$!
fi
rc=0
wait "$qpid" || rc=$?
stop_watchdog
trap - TERM INT HUP

if [ -e "$tmark" ]; then
	rm -f "$tmark" "$errlog"
	printf 'ukl: error: the guest was still running after %ss and was stopped; last console lines (%s):\n' "$timeout" "$log" >&2
	tail -n 8 "$log" | sed 's/^/    /' >&2
	printf 'ukl:   fix: if it was only slow, raise TIMEOUT= (0 = no limit); otherwise debug it with GDB=1\n' >&2
	exit 124
fi
# The verdict is the VM's own exit.  isa-debug-exit (written by /init's qemu-exit, or by the
# kernel for an app started as init) makes QEMU exit with (STATUS << 1) | 1, which carries the
# status's low 7 bits; the console marker "ukl: exit status N" only confirms it and supplies
# the 8th bit (139 for a SIGSEGV).  A QEMU exit of 0 is a reset (panic, triple fault, reboot),
# whatever the console said before it: text the app prints cannot fake a status.
# crash_report: the kernel's report of an app killed by a signal, or of a panic in its task
# (linux-patches 0020), again with file:line from the vmlinux beside the image
crash_report() { "$UKL_TOP/scripts/crash-report.py" "$log" "$(dirname "$kernel")/vmlinux" >&2 || true; }
marker=$(tr -d '\r' <"$log" | sed -n 's/.*ukl: exit status \([0-9]\{1,3\}\)$/\1/p' | tail -n 1)
if [ $rc = 0 ]; then
	rm -f "$errlog"
	printf 'ukl: error: the guest reset (panic, reboot or triple fault) before it reported an exit status through isa-debug-exit; last console lines (%s):\n' "$log" >&2
	tail -n 12 "$log" | sed 's/^/    /' >&2
	printf 'ukl:   fix: read the log for the panic; GDB=1 stops at boot for a debugger\n' >&2
	crash_report
	exit 125
fi
if [ $((rc % 2)) = 0 ] || grep -qv 'warning:' "$errlog"; then
	printf 'ukl: error: QEMU failed (exit %s):\n' "$rc" >&2
	sed 's/^/    /' "$errlog" >&2
	if grep -q 'host forwarding' "$errlog"; then
		printf 'ukl:   fix: host port %s is taken; use HOSTPORT=<free port> or HOSTPORT=auto\n' "$hostport" >&2
	fi
	rm -f "$errlog"
	exit 126
fi
rm -f "$errlog"
status=$(((rc - 1) / 2))
# An exit of 129 or more is also what bash reports for a QEMU killed by a signal (139: QEMU 7.2's
# TCG has segfaulted here, rarely).  Every exit-port write of ours comes after the console
# marker, so such an exit without the marker is QEMU's death, not the app's status.
if [ -z "$marker" ] && [ "$rc" -gt 128 ]; then
	printf 'ukl: error: QEMU ended with %s and the console has no exit-status marker: QEMU itself was most likely killed by SIG%s (the host'"'"'s dmesg may show it); last console lines (%s):\n' \
		"$rc" "$(kill -l $((rc - 128)) 2>/dev/null || echo "$((rc - 128))")" "$log" >&2
	tail -n 5 "$log" | sed 's/^/    /' >&2
	printf 'ukl:   fix: run it again; if it recurs, try ACCEL=tcg SMP=1 and report the QEMU version\n' >&2
	exit 126
fi
if [ -z "$marker" ]; then
	warn "no \"ukl: exit status\" marker on the console; isa-debug-exit says $status (low 7 bits)"
elif [ $((marker & 127)) = "$status" ]; then
	status=$marker
else
	warn "the console's last exit-status marker ($marker) disagrees with isa-debug-exit ($status); the VM's exit counts"
fi
# Every boot is checked for kernel complaints, before and after the marker: a WARNING, BUG,
# oops, lockdep or KASAN-style report fails the run even when the app exited 0.
if complaints=$(kernel_complaints "$log"); then
	printf 'ukl: error: the kernel complained during this boot (the app exited %s); first reports (%s):\n' "$status" "$log" >&2
	printf '%s\n' "$complaints" | head -n 8 | sed 's/^/    /' >&2
	printf 'ukl:   fix: read the log around these lines; each is a kernel bug or a broken invariant\n' >&2
	exit 123
fi
if [ "$status" -gt 128 ] && [ "$status" -lt 160 ]; then
	printf 'ukl: the app was killed by SIG%s (exit status %s)\n' "$(kill -l $((status - 128)))" "$status" >&2
	crash_report
fi
exit "$status"
