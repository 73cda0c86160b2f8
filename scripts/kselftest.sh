#!/usr/bin/env bash
# make test TESTS=kselftest (tests/boot/kselftest.sh), or by hand: the kernel's own selftests as
# proof that the UKL kernel keeps stock Linux's behaviour for ordinary processes.
#
# usage: scripts/kselftest.sh [PROFILE...]      (default: linux ukl)
#
# Builds a chosen set of tools/testing/selftests from the pinned kernel source with their own
# Makefiles (static, against the tree's exported headers), packs them as a second initramfs,
# boots the hello image of each profile with /init's ukl.kselftest=1 (which runs them one by
# one as root, each under a time limit) and writes out/kselftest/:
#   results.csv   profile,test,status,rc,seconds       (status: pass fail skip timeout)
#   parity.md     one row per test: its status on each profile, and the verdict
#   PROFILE/      the console and each test's output (TEST.txt)
# A test that passes on linux and not on another profile is a failure (exit 1) unless
# linux-patches/DESIGN.md names it under "kselftest differences" with its reason.
. "$(dirname "$0")/lib.sh"

profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(linux ukl)
out=$UKL_OUT/kselftest
bdir=$UKL_BUILD/kselftest
ktree=$UKL_BUILD/linux-src

# The chosen tests, DIR/TARGET as their Makefiles name them.  x86: the entry-code probes
# (64-bit only: the kernels have no IA32 emulation); ptrace_syscall_64 is listed by its
# Makefile only where 32-bit code builds, so its own pattern rule is named by file.
tests=(
	x86/sigreturn_64 x86/single_step_syscall_64 x86/sysret_rip_64 x86/test_vsyscall_64
	x86/fsgsbase_64 x86/fsgsbase_restore_64 x86/ptrace_syscall_64 x86/syscall_nt_64
	x86/test_mremap_vdso_64 x86/sigaltstack_64 x86/syscall_arg_fault_64 x86/sysret_ss_attrs_64
	x86/mov_ss_trap_64 x86/sigtrap_loop_64 x86/check_initial_reg_state_64 x86/syscall_numbering_64
	x86/nx_stack_64
	sigaltstack/sas
	ptrace/get_syscall_info ptrace/peeksiginfo ptrace/vmaccess ptrace/get_set_sud
	futex/functional/futex_wait_timeout futex/functional/futex_wait_wouldblock
	futex/functional/futex_requeue_pi futex/functional/futex_requeue_pi_signal_restart
	futex/functional/futex_requeue_pi_mismatched_ops futex/functional/futex_wait_uninitialized_heap
	futex/functional/futex_wait_private_mapped_file futex/functional/futex_wait
	futex/functional/futex_requeue futex/functional/futex_waitv
	mm/map_fixed_noreplace mm/map_populate mm/mremap_dontunmap mm/mremap_test mm/mlock2-tests
	mm/madv_populate mm/mkdirty
	net/socket net/reuseaddr_conflict net/tcp_inq net/af_unix/scm_rights net/af_unix/unix_connect
	net/af_unix/msg_oob
)

# build_one DIR TARGET: $bdir/obj/DIR/TARGET by DIR's Makefile.  x86's Makefile lists
# ptrace_syscall_64 only where 32-bit code builds too (gcc-multilib); without it the test is
# compiled with the command line that Makefile gives its 64-bit tests.
build_one() {
	local hdr="-isystem $bdir/hdr/include" sel=$ktree/tools/testing/selftests
	make -C "$sel/$1" OUTPUT="$bdir/obj/$1" CC="gcc -static" KHDR_INCLUDES="$hdr" "$bdir/obj/$1/$2" && return
	[ "$1/$2" = x86/ptrace_syscall_64 ] || return 1
	echo "x86/ptrace_syscall_64: the Makefile's 64-bit command line"
	# shellcheck disable=SC2086
	(cd "$sel/x86" && gcc -static -m64 -O2 -g -std=gnu99 -pthread -Wall $hdr -no-pie \
		-o "$bdir/obj/x86/ptrace_syscall_64" ptrace_syscall.c -lrt -ldl)
}

# build_tests: $bdir/bin/DIR__TARGET for each test, made by its directory's Makefile
build_tests() {
	local t dir target file key log=$bdir/build.log built=0
	# rebuilt when the list, this script, the guest's runner or the pinned source changes (the
	# patch series does not touch tools/ or the UAPI headers)
	key=$(printf '%s\n' "${tests[@]}" | cat - "$0" "$UKL_TOP/scripts/initramfs/ukl-kselftest" \
		"$("$UKL_TOP/scripts/fetch.sh" --path linux)/.ukl-unpacked" |
		sha256sum | cut -d' ' -f1)
	if [ "$(cat "$bdir/key" 2>/dev/null)" = "$key" ] && [ -s "$bdir/kselftest.cpio.gz" ]; then
		return
	fi
	rm -rf "$bdir"
	mkdir -p "$bdir/hdr" "$bdir/obj" "$bdir/stage/kselftest/bin"
	step HEADERS "the pinned kernel's UAPI headers (make headers_install)"
	make -s -C "$ktree" ARCH=x86_64 O="$bdir/hdr-build" INSTALL_HDR_PATH="$bdir/hdr" headers_install >"$log" 2>&1 ||
		die "the kernel's headers_install failed" "see ${log#"$UKL_TOP"/}"
	step KSFT "${#tests[@]} kernel selftests (their Makefiles, gcc -static; log: ${log#"$UKL_TOP"/})"
	for t in "${tests[@]}"; do
		dir=${t%/*} target=${t##*/} file=${t//\//__}
		mkdir -p "$bdir/obj/$dir"
		if build_one "$dir" "$target" >>"$log" 2>&1 && [ -x "$bdir/obj/$dir/$target" ]; then
			cp "$bdir/obj/$dir/$target" "$bdir/stage/kselftest/bin/$file"
			echo "$t $file" >>"$bdir/stage/kselftest/list"
			built=$((built + 1))
		else
			echo "ukl-kselftest: $t did not build" >>"$log"
			echo "$t -" >>"$bdir/stage/kselftest/list"
		fi
	done
	[ $built -gt 0 ] || die "no kernel selftest built" "see ${log#"$UKL_TOP"/}"
	[ $built = ${#tests[@]} ] || warn "$((${#tests[@]} - built)) of ${#tests[@]} selftests did not build (see ${log#"$UKL_TOP"/}); parity.md lists them"
	install -m 755 "$UKL_TOP/scripts/initramfs/ukl-kselftest" "$bdir/stage/kselftest/run"
	(cd "$bdir/stage" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -6) >"$bdir/kselftest.cpio.gz"
	printf '%s\n' "$key" >"$bdir/key"
}

# run_profile PROFILE: boot its hello image with the selftests; results in $out/PROFILE
run_profile() {
	local p=$1 img=$UKL_OUT/hello/$1 dir=$out/$1 rc=0
	rm -rf "$dir"
	mkdir -p "$dir"
	cat "$img/initramfs.cpio.gz" "$bdir/kselftest.cpio.gz" >"$dir/initramfs.cpio.gz"
	step BOOT "$p: the selftests as ordinary processes (console: ${dir#"$UKL_TOP"/}/console.log)"
	"$UKL_TOP/scripts/run.sh" --quiet --log "$dir/console.log" --accel "${ACCEL:-auto}" --mem "${MEM:-1G}" \
		--smp "${SMP:-2}" --timeout "${KSFT_TIMEOUT:-2400}" \
		--append "$(conf_get "$(profile_file "$p")" PROFILE_CMDLINE) ukl.kselftest=1" \
		"$img/bzImage" "$dir/initramfs.cpio.gz" >"$dir/run.txt" 2>&1 || rc=$?
	"$UKL_TOP/scripts/guest-files.py" "$dir/console.log" "$dir" >/dev/null || true
	[ $rc = 0 ] || die "the selftest boot of $p ended with status $rc" "see ${dir#"$UKL_TOP"/}/run.txt and console.log"
	tr -d '\r' <"$dir/console.log" | sed -n 's/^ukl-kselftest: result \([^ ]*\) \([a-z]*\) rc=\([0-9-]*\) secs=\([0-9]*\)$/\1 \2 \3 \4/p' |
		while read -r t st code secs; do echo "$p,$t,$st,$code,$secs"; done >>"$out/results.csv"
}

# the images first: they prepare the kernel tree whose selftests are built
for p in "${profiles[@]}"; do "$UKL_TOP/scripts/image.sh" hello "$p"; done
build_tests
rm -f "$out/results.csv"
mkdir -p "$out"
echo "profile,test,status,rc,seconds" >"$out/results.csv"
for p in "${profiles[@]}"; do run_profile "$p"; done
exec "$UKL_TOP/scripts/kselftest-parity.py" --results "$out/results.csv" --list "$bdir/stage/kselftest/list" \
	--design "$UKL_TOP/linux-patches/DESIGN.md" --out "$out/parity.md" --stamp "$(git -C "$UKL_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
