#!/usr/bin/env bash
# Build the initramfs for APP: static busybox, our /init, and the app: its binary (stock
# flavour) or the trigger file /UKL (ukl flavour: the app is linked into the kernel).
#
# usage: scripts/initramfs.sh APP FLAVOUR OUTPUT.cpio.gz
. "$(dirname "$0")/lib.sh"

[ $# = 3 ] || die "usage: scripts/initramfs.sh APP FLAVOUR OUTPUT.cpio.gz"
app=$1 flavour=$2 output=$3
BUSYBOX=/bin/busybox
[ -x "$BUSYBOX" ] || die "no static busybox at $BUSYBOX" "make setup (installs busybox-static)"

# our guest tools are tiny: build each once per change.  qemu-exit ends the VM with a status;
# ukl-guard (a test) tries the routes to CPL 0 that need privilege (init's ukl.guard=1)
tools=$UKL_BUILD/initramfs/tools
mkdir -p "$tools"
for src in "$UKL_TOP/scripts/initramfs/qemu-exit.c" "$UKL_TOP/tests/guest/ukl-guard.c"; do
	t=$tools/$(basename "$src" .c)
	if [ ! -x "$t" ] || [ "$src" -nt "$t" ]; then
		step CC "initramfs/$(basename "$t")"
		gcc -O2 -Wall -static -o "$t.tmp" "$src"
		mv "$t.tmp" "$t"
	fi
done

app_vars "$app"
if [ "$flavour" = stock ]; then
	bin=$("$UKL_TOP/scripts/app.sh" --bin "$app" "$flavour")
	[ -x "$bin" ] || die "app '$app' is not built for flavour $flavour ($bin missing)" "make app APP=$app"
fi

stage=$UKL_BUILD/initramfs/$app-$flavour
rm -rf "$stage"
mkdir -p "$stage"/{bin,sbin,etc/ukl,app,proc,sys,dev,tmp,run,root}
cp "$BUSYBOX" "$stage/bin/busybox"
cp "$tools/qemu-exit" "$tools/ukl-guard" "$stage/bin/"
install -m 755 "$UKL_TOP/scripts/initramfs/init" "$stage/init"
if [ "$flavour" = stock ]; then
	cp "$bin" "$stage/app/${APP_BIN##*/}"
	exec_path=/app/${APP_BIN##*/}
else
	# the app is part of the kernel: executing a file that starts with \177UKL starts it
	printf '\177UKL\n' >"$stage/UKL"
	chmod 755 "$stage/UKL"
	exec_path=/UKL
fi
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$stage/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$stage/etc/group"
printf '127.0.0.1 localhost\n' >"$stage/etc/hosts"
{
	printf 'APP_NAME=%q\n' "$app"
	printf 'APP_EXEC=%q\n' "$exec_path"
	printf 'APP_ARGS=%q\n' "$APP_ARGS"
} >"$stage/etc/ukl/app.conf"

step CPIO "${output#"$UKL_TOP"/}"
mkdir -p "$(dirname "$output")"
(cd "$stage" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc -R 0:0 --quiet | gzip -9n) >"$output.tmp"
mv "$output.tmp" "$output"
