#!/usr/bin/env bash
# Build the bootable image of APP for PROFILE into out/APP/PROFILE/:
#   bzImage  vmlinux  System.map  initramfs.cpio.gz  config  report.txt
#
# usage: scripts/image.sh APP PROFILE
# Kernel objects are shared per profile (scripts/kernel.sh), app builds per flavour
# (scripts/app.sh): changing an app never rebuilds kernel objects.
. "$(dirname "$0")/lib.sh"

[ $# = 2 ] || die "usage: scripts/image.sh APP PROFILE"
app=$1 profile=$2
t0=$SECONDS
pf=$(profile_file "$profile")
"$UKL_TOP/scripts/app.sh" --show "$app" >/dev/null
flavour=$(conf_get "$pf" PROFILE_APP_FLAVOUR)
kind=$(conf_get "$UKL_TOP/apps/$app/recipe" APP_KIND app)
[ "$kind" = app ] || die "'$app' is a library recipe, not an app" "pick an app: $("$UKL_TOP/scripts/app.sh" --known)"

need_host
"$UKL_TOP/scripts/app.sh" "$app" "$flavour"

# the kernel objects the image uses: its own, or those of the profile it names in PROFILE_KERNEL
kbuild=$UKL_BUILD/kernel/$(conf_get "$pf" PROFILE_KERNEL "$profile")
out=$UKL_OUT/$app/$profile
new=$out.new
rm -rf "$new"
mkdir -p "$new"
case $flavour in
stock)
	# the app is an ordinary program in the initramfs: the kernel is the profile's, as built
	"$UKL_TOP/scripts/kernel.sh" "$profile"
	cp "$kbuild/arch/x86/boot/bzImage" "$kbuild/vmlinux" "$kbuild/System.map" "$new/"
	cp "$kbuild/.config" "$new/config" ;;
ukl)
	# the app is fused into vmlinux: relink the profile's kernel objects with it
	"$UKL_TOP/scripts/kernel.sh" --link "$profile" "$UKL_BUILD/apps/ukl/$app/ukl-app.o" "$new"
	cp "$UKL_BUILD/apps/ukl/$app/fuse-report.txt" "$new/"
	# the vDSO this kernel maps into the app runs at CPL 0 too (linker/scan.py)
	"$UKL_TOP/linker/scan.py" --vdso "$kbuild/arch/x86/entry/vdso/vdso64.so" \
		--report "$new/fuse-report.txt" --append ||
		die "the vDSO of profile $profile's kernel failed the ring-0 scan (see above)" \
			"its fallbacks must test the CPL before SYSCALL (linux-patches 0015)" ;;
*) die "profile '$profile' uses app flavour '$flavour', which scripts/image.sh cannot assemble" ;;
esac
"$UKL_TOP/scripts/initramfs.sh" "$app" "$flavour" "$new/initramfs.cpio.gz"

bin=$("$UKL_TOP/scripts/app.sh" --bin "$app" "$flavour")
kver=$(cat "$kbuild/include/config/kernel.release" 2>/dev/null || echo unknown)
{
	echo "# ukl build report: $app on profile $profile"
	echo "built:          $(date -u +%Y-%m-%dT%H:%M:%SZ) in $((SECONDS - t0)) s"
	echo "git revision:   $(git -C "$UKL_TOP" describe --always --dirty 2>/dev/null || echo none)"
	echo "profile:        $profile ($(conf_get "$pf" PROFILE_DESC)), app flavour $flavour"
	echo "kernel:         $kver, config sha256 $(sha256_of "$new/config" | cut -c1-16)"
	echo "inputs:"
	awk '!/^#/ && NF {printf "  %-10s %s %s\n", $1, $3, $4}' "$UKL_LOCK"
	echo "gcc:            $(gcc -dumpfullversion)"
	echo "accel (run):    $("$UKL_TOP/scripts/accel.sh" auto) (what make run uses here by default)"
	echo "sizes (bytes):"
	printf '  %-20s %s\n' bzImage "$(stat -c %s "$new/bzImage")" vmlinux "$(stat -c %s "$new/vmlinux")" \
		initramfs.cpio.gz "$(stat -c %s "$new/initramfs.cpio.gz")" "app ($(basename "$bin"))" "$(stat -c %s "$bin")"
	echo "  vmlinux sections:"
	size -A "$new/vmlinux" | awk '$1 ~ /^\.(text|rodata|data|bss)$/ {printf "    %-18s %s\n", $1, $2}'
} >"$new/report.txt"
rm -rf "$out"
mv "$new" "$out"
step IMAGE "out/$app/$profile/ (bzImage $(stat -c %s "$out/bzImage") B, $((SECONDS - t0)) s)"
