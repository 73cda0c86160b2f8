#!/usr/bin/env bash
# Build the UKL glibc 2.36: static objects with the kernel code model, no red zone, no PIE,
# and every system call site bound to the undefined symbol __ukl_syscall (glue/glibc/*.patch).
# One build serves every UKL profile: the image link decides what __ukl_syscall is.
#
# usage: scripts/glibc.sh            build (if the source, patches or this script changed)
#        scripts/glibc.sh --sysroot  print the sysroot (lib/: libc.a libm.a crt1.o crti.o crtn.o ...)
#
# Route (see glue/README.md): glibc 2.36 cannot build static-only (--disable-shared is broken),
# so the shared flavour is built too, PIC as usual; only the static .o objects get
# -mcmodel=kernel (CFLAGS-.o), and the .oS flavour is kept PIC.  `make lib` builds just the
# libraries: a full `make` would link helper programs that need __ukl_syscall.
. "$(dirname "$0")/lib.sh"

G=$UKL_BUILD/glibc
SYSROOT=$G/sysroot

build() {
	local src want patches p
	src=$("$UKL_TOP/scripts/fetch.sh" --path glibc)
	patches=("$UKL_TOP"/glue/glibc/*.patch)
	want="$(cat "$src/.ukl-unpacked") $(hash_of_files "${patches[@]}" "$UKL_TOP/scripts/glibc.sh")"
	if [ -f "$SYSROOT/.ukl-built" ] && [ "$(cat "$SYSROOT/.ukl-built")" = "$want" ]; then return 0; fi
	rm -rf "$G"
	mkdir -p "$G/obj"
	step COPY "glibc source"
	cp -a "$src" "$G/src"
	for p in "${patches[@]}"; do
		step PATCH "glibc: $(basename "$p")"
		patch -s -d "$G/src" -p1 --no-backup-if-mismatch -i "$p" ||
			die "glue/glibc/$(basename "$p") does not apply to glibc $(basename "$src")"
	done
	# frame pointers, leaves included: the kernel's crash report and perf walk the app's frames
	# through %rbp (linux-patches 0020)
	run_logged CONFIG "glibc (static objects: -mcmodel=kernel -mno-red-zone -fno-pie)" "$G/configure.log" \
		bash -c "cd '$G/obj' && '$G/src/configure' --prefix=/usr --host=x86_64-linux-gnu --build=x86_64-linux-gnu \
			--disable-default-pie --disable-cet --enable-stack-protector=strong \
			--disable-profile --disable-build-nscd --disable-nscd --disable-timezone-tools \
			--disable-crypt --without-selinux --without-gd --disable-werror \
			CC=gcc CFLAGS='-O2 -g -mno-red-zone -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer'"
	# The kernel model reaches the static objects through pie-default, which Makeconfig puts
	# into CFLAGS-.o: overriding CFLAGS-.o itself would drop what subdirectories append to it
	# (csu/elf/nptl elide the stack protector from code that runs before TLS exists).
	# -mstack-protector-guard-reg=fs: with -mcmodel=kernel gcc reads the canary from %gs:40,
	# the kernel's per-CPU one; glibc's is at %fs:40.  .oS (libc_nonshared.a, never linked
	# statically) and mcheck-init.c would otherwise combine the kernel model with -fPIC.
	local flags=('pie-default=-fno-pie -mcmodel=kernel -mstack-protector-guard-reg=fs'
		'CFLAGS-.oS=-fno-pie -fPIC' 'CFLAGS-mcheck-init.c=' have-fpie=no)
	run_long MAKE "glibc libc.a (about 7 min on 2 cores)" "$G/make.log" \
		make -C "$G/obj" -j"$UKL_JOBS" lib "${flags[@]}"
	# libm is not part of `make lib`; its subdirectory's `others` builds libm.a
	run_long MAKE "glibc libm.a (about 3 min)" "$G/make-libm.log" \
		make -C "$G/obj" -j"$UKL_JOBS" math/others "${flags[@]}"
	check_and_install
	printf '%s\n' "$want" >"$SYSROOT/.ukl-built"
}

# No trap instruction may remain in the static archives, and every site must call __ukl_syscall.
check_and_install() {
	local o=$G/obj traps calls f
	traps=$(for f in "$o/libc.a" "$o/math/libm.a" "$o/csu/crt1.o" "$o/csu/crti.o" "$o/csu/crtn.o"; do
		objdump -d "$f" | awk '/file format/ {obj=$1} /\t(syscall|sysenter|int +\$0x80) *$/ {print obj}'
	done | sort | uniq -c)
	[ -z "$traps" ] || die "the UKL glibc still contains trap instructions in: $(echo $traps)" \
		"convert those sites in glue/glibc/ (see glue/README.md)"
	calls=$(objdump -dr "$o/libc.a" | grep -c 'R_X86_64_PLT32[[:space:]]*__ukl_syscall' || true)
	[ "$calls" -gt 500 ] || die "only $calls call sites of __ukl_syscall in libc.a (expected ~537)" \
		"check that glue/glibc/0001-*.patch applied to the static objects"
	rm -rf "$SYSROOT"
	mkdir -p "$SYSROOT/lib"
	cp "$o/libc.a" "$o/csu/crt1.o" "$o/csu/crti.o" "$o/csu/crtn.o" "$SYSROOT/lib/"
	for f in math/libm.a mathvec/libmvec.a nptl/libpthread.a rt/librt.a dlfcn/libdl.a login/libutil.a \
		resolv/libresolv.a resolv/libanl.a; do
		[ -f "$o/$f" ] && cp "$o/$f" "$SYSROOT/lib/"
	done
	printf '%s\n' "$calls" >"$SYSROOT/syscall-sites"
	step GLIBC "$calls system call sites bound to __ukl_syscall; sysroot ${SYSROOT#"$UKL_TOP"/}"
}

case ${1:-} in
--sysroot) printf '%s\n' "$SYSROOT" ;;
'') need_host; build ;;
*) die "usage: scripts/glibc.sh [--sysroot]" ;;
esac
