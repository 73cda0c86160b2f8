#!/usr/bin/env bash
# Attach gdb to a guest started with `make run GDB=1 APP=... PROFILE=...`.
#
# usage: scripts/gdb.sh APP PROFILE [GDB ARGS...]
# Loads out/APP/PROFILE/vmlinux (kernel symbols, and the app's under UKL profiles) and connects
# to QEMU's gdbstub on localhost:1234.  Hardware breakpoints (hbreak) work before paging is up.
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: scripts/gdb.sh APP PROFILE [GDB ARGS...]"
vmlinux=$UKL_OUT/$1/$2/vmlinux
[ -f "$vmlinux" ] || die "no $vmlinux" "make APP=$1 PROFILE=$2"
command -v gdb >/dev/null || die "gdb is not installed" "apt-get install --no-install-recommends gdb"
shift 2
exec gdb -q -ex "set pagination off" -ex "target remote localhost:1234" "$@" "$vmlinux"
