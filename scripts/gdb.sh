#!/usr/bin/env bash
# Attach gdb to a guest started with `make run GDB=1 APP=... PROFILE=...`.
#
# usage: scripts/gdb.sh APP PROFILE [GDB ARGS...]      Environment: GDBPORT (default 1234)
# Loads out/APP/PROFILE/vmlinux (kernel symbols, and the app's under UKL profiles) and
# scripts/ukl-gdb.py (backtraces from the kernel into the app across ukl_entry_syscall; app
# frames carry their DWARF names, without the fusion's ukl_ prefix), then connects to QEMU's
# gdbstub.
# Hardware breakpoints (hbreak) work before paging is up.
. "$(dirname "$0")/lib.sh"
[ $# -ge 2 ] || die "usage: scripts/gdb.sh APP PROFILE [GDB ARGS...]"
vmlinux=$UKL_OUT/$1/$2/vmlinux
[ -f "$vmlinux" ] || die "no $vmlinux" "make APP=$1 PROFILE=$2"
command -v gdb >/dev/null || die "gdb is not installed" "apt-get install --no-install-recommends gdb"
shift 2
exec gdb -q -ex "set pagination off" -x "$UKL_TOP/scripts/ukl-gdb.py" \
	-ex "target remote 127.0.0.1:${GDBPORT:-1234}" "$@" "$vmlinux"
