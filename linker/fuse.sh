#!/usr/bin/env bash
# The fusion step: turn an app's partial link (OUT.ukl.o from linker/ukl-gcc) into the object
# that is linked into vmlinux.
#
# usage: linker/fuse.sh APP.ukl.o OUTDIR
#   1. prefix every symbol with ukl_ (glibc's memcpy never meets the kernel's; the app's _start
#      becomes ukl__start), so only the names in linker/seam.syms cross the seam;
#   2. check the sections are the ones the kernel's linker script places (.ukl.*);
#   3. check every undefined symbol is a seam name;
#   4. scan the code (linker/scan.py): no syscall/sysenter/int $0x80, no red-zone access;
#   5. name each call site whose number is a constant after its call (linker/name-sites.py:
#      `call ukl___ukl_syscall` becomes `call ukl___ukl_sys_read`, ...), which the image link
#      binds per profile (scripts/kernel.sh);
#   6. write OUTDIR/ukl-app.o and OUTDIR/fuse-report.txt (sizes, sites, reachable syscalls,
#      names).
. "$(dirname "$0")/../scripts/lib.sh"

[ $# = 2 ] || die "usage: linker/fuse.sh APP.ukl.o OUTDIR"
in=$1 outdir=$2
[ -f "$in" ] || die "no partial link $in" "build the app with the ukl flavour (make app APP=... PROFILE=ukl)"
mkdir -p "$outdir"
tmp=$outdir/ukl-app.o.tmp
rm -f "$outdir/ukl-app.o" "$tmp"

step FUSE "$(basename "$in") -> ukl-app.o"
# _GLOBAL_OFFSET_TABLE_ is the linker's own symbol (PIC code in libgcc/libc refers to it): keep it
objcopy --prefix-symbols=ukl_ "$in" "$tmp"
# glibc applies its IFUNC relocations between __rela_iplt_start and _end, which the final link
# creates: the kernel's linker script defines them as __ukl_rela_iplt_start/_end.  (They are
# weak in glibc: left unbound, every IFUNC call would jump through an unresolved slot.)
objcopy --redefine-sym ukl__GLOBAL_OFFSET_TABLE_=_GLOBAL_OFFSET_TABLE_ \
	--redefine-sym ukl___rela_iplt_start=__ukl_rela_iplt_start \
	--redefine-sym ukl___rela_iplt_end=__ukl_rela_iplt_end "$tmp"

known=".ukl.text .ukl.rodata .ukl.eh_frame .ukl.data .ukl.tdata .ukl.tbss .ukl.bss"
# allocated sections: readelf's "[Nr] Name Type Address Off Size ES Flg Lk Inf Al", Flg has A
extra=$(readelf -SW "$tmp" | sed -n 's/^ *\[ *[0-9]*\] //p' | awk 'NF == 10 && $7 ~ /A/ {print $1}' |
	grep -vxF -f <(tr ' ' '\n' <<<"$known") || true)
if [ -n "$extra" ]; then
	rm -f "$tmp"
	die "the app has allocated sections the kernel's linker script does not place: $(echo $extra)" \
		"map them to a .ukl.* section in linker/app-partial.lds"
fi

seam=$(grep -v '^#' "$UKL_TOP/linker/seam.syms" | awk 'NF {print $1}')
undef=$(nm -u "$tmp" | awk '$1 == "U" {print $2}' | grep -vxF -f <(printf '%s\n' $seam) || true)
if [ -n "$undef" ]; then
	rm -f "$tmp"
	die "the app needs symbols that neither it, its libraries nor the seam provide: $(echo $undef)" \
		"link the library that defines them (APP_DEPENDS / LIBS), or add a seam name to linker/seam.syms"
fi

# syscall names for the report: the table of the pinned (pristine) kernel source
ksrc=$("$UKL_TOP/scripts/fetch.sh" --path linux)
"$UKL_TOP/linker/scan.py" "$tmp" --name "$outdir/ukl-app.o" --report "$outdir/fuse-report.txt" \
	--syscall-table "$ksrc/arch/x86/entry/syscalls/syscall_64.tbl" ||
	{ rm -f "$tmp"; die "the app failed the ring-0 scan (see above)" "rebuild the named code with the ukl flavour's flags"; }
named=$("$UKL_TOP/linker/name-sites.py" "$tmp" --syscall-table "$ksrc/arch/x86/entry/syscalls/syscall_64.tbl" \
	--report "$outdir/fuse-report.txt") || { rm -f "$tmp"; die "could not name the app's system call sites" "see the message above"; }
mv "$tmp" "$outdir/ukl-app.o"
step SCAN "0 trap instructions, $(sed -n 's/^system call sites.*: //p' "$outdir/fuse-report.txt") call sites (${outdir#"$UKL_TOP"/}/fuse-report.txt)"
step NAMES "${named#per-call names (linker/name-sites.py): }"
