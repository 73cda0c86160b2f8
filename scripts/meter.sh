#!/usr/bin/env bash
# The instruction meter (eval/meter/): build the QEMU plugin, or write an image's region map.
#
# usage: scripts/meter.sh plugin             build/meter/libukl-meter.so (printed)
#        scripts/meter.sh map APP PROFILE    out/APP/PROFILE/meter-map.txt (printed)
#
# The plugin is compiled from eval/meter/meter.c against include/qemu/qemu-plugin.h of the
# pinned QEMU source package (inputs.lock: qemu), the version of the qemu-system-x86 binary
# that loads it.  The map names, for every code address of the image, its region (app, glibc,
# seam, net, fs, mm, sched, kernel; eval/meter/regions.py).
. "$(dirname "$0")/lib.sh"

plugin() {
	local src=$UKL_TOP/eval/meter/meter.c so=$UKL_BUILD/meter/libukl-meter.so qemu key
	qemu=$("$UKL_TOP/scripts/fetch.sh" --path qemu)
	[ -f "$qemu/include/qemu/qemu-plugin.h" ] ||
		die "the QEMU source at $qemu has no include/qemu/qemu-plugin.h" "rm -rf $qemu; rerun"
	key=$(cat "$src" "$qemu/include/qemu/qemu-plugin.h" | sha256sum | cut -c1-16)
	if [ -f "$so" ] && [ "$(cat "$so.key" 2>/dev/null)" = "$key" ]; then
		echo "$so"
		return 0
	fi
	mkdir -p "$(dirname "$so")"
	step CC "eval/meter/meter.c -> ${so#"$UKL_TOP"/}" >&2
	gcc -O2 -Wall -Wextra -Werror -shared -fPIC -I"$qemu/include/qemu" "$src" -o "$so.tmp" -lpthread ||
		die "the meter plugin did not compile" "see the compiler's message above"
	mv "$so.tmp" "$so"
	echo "$key" >"$so.key"
	echo "$so"
}

map() {
	local app=$1 profile=$2 out pf flavour kbuild map gcclib rt=() f
	out=$UKL_OUT/$app/$profile
	map=$out/meter-map.txt
	[ -f "$out/vmlinux" ] || die "no image $out/vmlinux" "make APP=$app PROFILE=$profile"
	pf=$(profile_file "$profile")
	flavour=$(conf_get "$pf" PROFILE_APP_FLAVOUR)
	kbuild=$UKL_BUILD/kernel/$(conf_get "$pf" PROFILE_KERNEL "$profile")
	if [ -f "$map" ] && [ "$map" -nt "$out/vmlinux" ] && [ "$map" -nt "$UKL_TOP/eval/meter/regions.py" ] &&
		{ [ "$flavour" != stock ] || [ "$map" -nt "$out/initramfs.cpio.gz" ]; }; then
		echo "$map"
		return 0
	fi
	# the C runtime, by name: the UKL glibc and the stock one, libgcc, crt files, the glue
	gcclib=$(dirname "$(gcc -print-libgcc-file-name)")
	for f in "$UKL_BUILD"/glibc/sysroot/lib/{libc.a,libm.a,crt1.o,crti.o} \
		"$gcclib"/{libgcc.a,libgcc_eh.a} "$UKL_BUILD"/glue/{crtbegin.o,libgcc-nrz.o,libm-nrz.o} \
		/usr/lib/x86_64-linux-gnu/{libc.a,libm-2.36.a,crt1.o,crti.o}; do
		[ -f "$f" ] && rt+=(--runtime "$f")
	done
	local user=()
	if [ "$flavour" = stock ]; then
		f=$UKL_BUILD/apps/stock/$app/$(conf_get "$UKL_TOP/apps/$app/recipe" APP_BIN "$app")
		[ -f "$f" ] || die "no stock binary $f" "make app APP=$app PROFILE=linux"
		user=(--user-binary "$f")
	fi
	step MAP "${map#"$UKL_TOP"/}" >&2
	"$UKL_TOP/eval/meter/regions.py" --vmlinux "$out/vmlinux" --kbuild "$kbuild" "${rt[@]}" "${user[@]}" \
		--out "$map" >&2 || die "could not write the region map of $app/$profile"
	echo "$map"
}

case ${1:-} in
plugin) [ $# = 1 ] || die "usage: scripts/meter.sh plugin"; plugin ;;
map) [ $# = 3 ] || die "usage: scripts/meter.sh map APP PROFILE"; map "$2" "$3" ;;
*) die "usage: scripts/meter.sh plugin | map APP PROFILE" ;;
esac
