#!/usr/bin/env bash
# Build the kernel objects of one profile, shared by every app built with that profile.
#
# usage: scripts/kernel.sh PROFILE            configure (if the profile changed) and build bzImage
#        scripts/kernel.sh --link PROFILE APP_O OUTDIR
#                                             link a fused app into vmlinux (UKL profiles)
#        scripts/kernel.sh --config PROFILE   only produce and check the merged .config
#        scripts/kernel.sh --tree             only prepare the patched source tree; print its path
#
# Source: the pinned linux-source-6.12 from the cache plus the series in linux-patches/, in
# $UKL_BUILD/linux-src (hard links to the cache; patched files are private copies).
# Objects: $UKL_BUILD/kernel/PROFILE (an O= build dir), compiled through ccache.  A profile
# with PROFILE_KERNEL=OTHER uses OTHER's objects and .config (e.g. ukl-byp links against ukl's:
# only the binding of the app's system call sites differs, so nothing is compiled twice).
. "$(dirname "$0")/lib.sh"

KTREE=$UKL_BUILD/linux-src
export ARCH=x86_64
export CCACHE_DIR=${CCACHE_DIR:-$UKL_CACHE/ccache}
export KBUILD_BUILD_TIMESTAMP=${KBUILD_BUILD_TIMESTAMP:-2025-01-01}
export KBUILD_BUILD_USER=ukl KBUILD_BUILD_HOST=ukl
# the compiler: gcc, or Debian's clang-19 with lld-19 and llvm-19 for a profile that sets
# PROFILE_CC=clang (the LTO profiles; set per kernel in use_profile below)
CC_CMD="" KLLVM="" KCFLAGS_P="" PGO_ID=""
set_compiler() {
	local cc
	cc=$(conf_get "$(profile_file "$1")" PROFILE_CC gcc)
	case $cc in
	gcc) CC_CMD="gcc" KLLVM="" ;;
	clang) CC_CMD="clang-19" KLLVM="-19"
		command -v clang-19 >/dev/null && command -v ld.lld-19 >/dev/null && command -v llvm-ar-19 >/dev/null ||
			die "profile '$1' is built with clang-19, lld-19 and llvm-19, which are not installed" "make setup" ;;
	*) die "profile '$1' sets PROFILE_CC=$cc" "use gcc or clang" ;;
	esac
	[ "${CCACHE:-1}" = 1 ] && command -v ccache >/dev/null && CC_CMD="ccache $CC_CMD"
	# extra compiler flags (PROFILE_KCFLAGS), and for PROFILE_PGO=1 the sample profile that
	# make pgo trained (eval/pgo/pgo.sh), which then belongs to the kernel's identity
	KCFLAGS_P=$(conf_get "$(profile_file "$1")" PROFILE_KCFLAGS)
	PGO_ID=""
	if [ "$(conf_get "$(profile_file "$1")" PROFILE_PGO 0)" = 1 ]; then
		local prof=${UKL_PGO_PROFILE:-$UKL_OUT/pgo/kernel.prof}
		[ -s "$prof" ] || die "profile '$1' is built with a sample profile, and there is none at ${prof#"$UKL_TOP"/}" \
			"make pgo APP=memcached (trains one and builds this profile with it)"
		KCFLAGS_P="$KCFLAGS_P -fprofile-sample-use=$prof"
		PGO_ID="sample profile $(sha256sum <"$prof" | cut -c1-16)"
	fi
	return 0
}

# prepare_tree: pristine source + linux-patches/*.patch, rebuilt when either changes
prepare_tree() {
	local pristine patches want p f
	pristine=$("$UKL_TOP/scripts/fetch.sh" --path linux)
	shopt -s nullglob
	patches=("$UKL_TOP"/linux-patches/*.patch)
	shopt -u nullglob
	want="$(cat "$pristine/.ukl-unpacked") $(hash_of_files "${patches[@]}" /dev/null)"
	if [ -f "$KTREE/.ukl-tree" ] && [ "$(cat "$KTREE/.ukl-tree")" = "$want" ]; then
		return 0
	fi
	step TREE "linux-src: pristine + ${#patches[@]} patch(es) from linux-patches/"
	rm -rf "$KTREE.tmp"
	mkdir -p "$UKL_BUILD"
	cp -al "$pristine" "$KTREE.tmp"
	rm -f "$KTREE.tmp/.ukl-unpacked"
	for p in "${patches[@]}"; do
		# break the hard links of every file the patch touches before patching it
		for f in $(sed -n 's#^+++ b/##p; s#^--- a/##p' "$p" | sort -u); do
			[ -f "$KTREE.tmp/$f" ] && cp --remove-destination "$KTREE.tmp/$f" "$KTREE.tmp/$f.ukl" &&
				mv -f "$KTREE.tmp/$f.ukl" "$KTREE.tmp/$f"
		done
		patch -s -p1 -d "$KTREE.tmp" --no-backup-if-mismatch -i "$p" ||
			die "linux-patches/$(basename "$p") does not apply to linux $(basename "$pristine")" \
				"regenerate the series with git format-patch against the pinned tree"
	done
	# a patched file whose content did not change keeps the old tree's mtime, so that a new
	# series (say, one changed patch) recompiles only what it really changed
	if [ -d "$KTREE" ]; then
		for p in "${patches[@]}"; do
			for f in $(sed -n 's#^+++ b/##p' "$p" | sort -u); do
				[ -f "$KTREE/$f" ] && cmp -s "$KTREE/$f" "$KTREE.tmp/$f" && touch -r "$KTREE/$f" "$KTREE.tmp/$f"
			done
		done
	fi
	printf '%s\n' "$want" >"$KTREE.tmp/.ukl-tree"
	rm -rf "$KTREE"
	mv "$KTREE.tmp" "$KTREE"
}

fragments() {
	local f
	for f in $(conf_get "$(profile_file "$1")" PROFILE_KCONFIG); do
		[ -f "$UKL_TOP/profiles/$f" ] || die "profile '$1' names a missing Kconfig fragment profiles/$f"
		printf '%s\n' "$UKL_TOP/profiles/$f"
	done
}

kmake() { make -C "$KTREE" O="$KBUILD" ARCH=x86_64 ${KLLVM:+LLVM=$KLLVM} CC="$CC_CMD" KCFLAGS="$KCFLAGS_P" HOSTCC=gcc -j"$UKL_JOBS" "$@"; }

# check_config: every CONFIG_ line of the fragments must hold in the final .config; a later
# fragment may override an earlier one (profiles/debug.config turns debug info off)
check_config() {
	local bad=0 line key got
	local -A want=()
	local -a order=()
	while IFS= read -r line; do
		case $line in
		CONFIG_*=*) key=${line%%=*} ;;
		"# CONFIG_"*" is not set") key=${line#\# }; key=${key%% *}; line="" ;;
		*) continue ;;
		esac
		[ -n "${want[$key]+set}" ] || order+=("$key")
		want[$key]=$line
	done < <(cat "$@")
	for key in "${order[@]}"; do
		got=$(grep -E "^$key=" "$KBUILD/.config" || true)
		if [ "$got" != "${want[$key]}" ]; then
			warn "profile '$PROFILE': ${want[$key]:-$key=n} requested, but the merged .config has ${got:-$key unset}"
			bad=1
		fi
	done
	[ $bad = 0 ] || die "the Kconfig merge for profile '$PROFILE' dropped requested options (see above)" \
		"fix the fragment (a dependency is probably missing) in profiles/"
}

configure() {
	local frags want list
	list=$(fragments "$PROFILE")
	mapfile -t frags <<<"$list"
	# what reaches the .config: the tree and the fragments, in order (not the rest of the
	# profile file: a new boot command line must not reconfigure or rebuild a kernel)
	want="$(cat "$KTREE/.ukl-tree") ${frags[*]##*/} $(hash_of_files "${frags[@]}")${KCFLAGS_P:+ KCFLAGS=$(sha256sum <<<"$KCFLAGS_P" | cut -c1-16)}${PGO_ID:+ $PGO_ID}"
	if [ -f "$KBUILD/.config" ] && [ -f "$KBUILD/.ukl-config" ] && [ "$(cat "$KBUILD/.ukl-config")" = "$want" ]; then
		return 0
	fi
	mkdir -p "$KBUILD"
	rm -f "$KBUILD/.ukl-config"
	run_logged CONFIG "kernel .config for profile $PROFILE" "$KBUILD/config.log" \
		bash -c "$(declare -f kmake); KTREE='$KTREE' KBUILD='$KBUILD' CC_CMD='$CC_CMD' KLLVM='$KLLVM' KCFLAGS_P='$KCFLAGS_P' UKL_JOBS=$UKL_JOBS
			set -e; kmake tinyconfig
			'$KTREE/scripts/kconfig/merge_config.sh' -m -O '$KBUILD' '$KBUILD/.config' ${frags[*]}
			kmake olddefconfig"
	check_config "${frags[@]}"
	printf '%s\n' "$want" >"$KBUILD/.ukl-config"
}

build() {
	# objects of exactly this tree + config were built completely: nothing to do
	# (FORCE=1 runs the kernel's own make anyway, e.g. after editing build/linux-src by hand)
	if [ "${FORCE:-0}" != 1 ] && [ -f "$KBUILD/arch/x86/boot/bzImage" ] && [ -f "$KBUILD/.ukl-built" ] &&
		cmp -s "$KBUILD/.ukl-built" "$KBUILD/.ukl-config"; then
		return 0
	fi
	rm -f "$KBUILD/.ukl-built"
	run_long KERNEL "profile $PROFILE: bzImage" "$KBUILD/build.log" kmake bzImage
	cp "$KBUILD/.ukl-config" "$KBUILD/.ukl-built"
}

# link_app APP_O OUTDIR: the profile's kernel objects plus a fused app (CONFIG_UNIKERNEL_LINUX);
# only the final link and the boot image run when the objects are up to date.
link_app() {
	local app_o=$1 outdir=$2 entry
	entry=$(conf_get "$(profile_file "$LINK_PROFILE")" PROFILE_SYSCALL_ENTRY)
	[ -n "$entry" ] || die "profile '$LINK_PROFILE' links an app but names no PROFILE_SYSCALL_ENTRY" \
		"set PROFILE_SYSCALL_ENTRY in profiles/$LINK_PROFILE.profile (e.g. ukl_entry_syscall)"
	[ -f "$app_o" ] || die "no fused app object $app_o" "make app APP=<app> PROFILE=$LINK_PROFILE"
	local binds=("--defsym=ukl___ukl_syscall=$entry") direct available n name ndirect=0 report
	mkdir -p "$outdir"
	report=$outdir/binding.txt
	# per-call binding: each ukl___ukl_sys_NAME the fusion named (linker/name-sites.py) goes
	# to the kernel's direct entry ukl_direct_NAME when the profile asks for it and the kernel
	# has one (PROFILE_SYSCALL_DIRECT: a list of names, or "all"), else to the profile's entry
	direct=" $(conf_get "$(profile_file "$LINK_PROFILE")" PROFILE_SYSCALL_DIRECT) "
	# the direct entries this tree has: its entry object, brought up to date first (on a cold
	# tree this also runs the kernel's prepare step; the link below builds everything else)
	run_logged KENTRY "profile $PROFILE: arch/x86/entry/entry_64_ukl.o" "$KBUILD/entry.log" \
		kmake arch/x86/entry/entry_64_ukl.o
	available=" $(nm "$KBUILD/arch/x86/entry/entry_64_ukl.o" | awk '$2 == "T" && $3 ~ /^ukl_direct_/ && $3 !~ /^ukl_direct_(c_|exit$)/ {sub(/^ukl_direct_/, "", $3); printf "%s ", $3}') "
	for n in $direct; do
		[ "$n" = all ] || [[ $available == *" $n "* ]] ||
			die "profile $LINK_PROFILE: PROFILE_SYSCALL_DIRECT names '$n', which has no direct entry in this kernel" \
				"pick from: $available(the list in include/linux/ukl.h)"
	done
	{
		echo "# system call binding of $(basename "$(dirname "$app_o")") in profile $LINK_PROFILE (scripts/kernel.sh)"
		echo "ukl___ukl_syscall (sites whose number is not a constant) -> $entry"
	} >"$report"
	for n in $(nm -u "$app_o" | awk '$2 ~ /^ukl___ukl_sys_/ {print $2}'); do
		name=${n#ukl___ukl_sys_}
		if [[ $available == *" $name "* ]] && { [[ $direct == *" all "* ]] || [[ $direct == *" $name "* ]]; }; then
			binds+=("--defsym=$n=ukl_direct_$name")
			ndirect=$((ndirect + 1))
			echo "$n -> ukl_direct_$name" >>"$report"
		else
			binds+=("--defsym=$n=$entry")
			echo "$n -> $entry" >>"$report"
		fi
	done
	rm -f "$KBUILD/.ukl-built"
	run_long LINK "vmlinux + $(basename "$(dirname "$app_o")") (profile $LINK_PROFILE on $PROFILE's objects, syscalls -> $entry$([ $ndirect = 0 ] || echo ", $ndirect direct"))" \
		"$KBUILD/link.log" kmake bzImage UKL_APP="$app_o" UKL_LDFLAGS="${binds[*]}"
	cp "$KBUILD/arch/x86/boot/bzImage" "$KBUILD/vmlinux" "$KBUILD/System.map" "$outdir/"
	cp "$KBUILD/.config" "$outdir/config"
	# the app's unwind table where gdb looks for one (not loaded, no address changes)
	"$UKL_TOP/linker/eh-frame-for-gdb.py" "$outdir/vmlinux"
}

# use_profile NAME: PROFILE = the profile whose objects NAME uses, LINK_PROFILE = NAME
use_profile() {
	LINK_PROFILE=$1
	PROFILE=$(conf_get "$(profile_file "$1")" PROFILE_KERNEL "$1")
	[ "$PROFILE" = "$1" ] || [ -f "$UKL_TOP/profiles/$PROFILE.profile" ] ||
		die "profile '$1' names PROFILE_KERNEL=$PROFILE, which is not a profile"
	KBUILD=$UKL_BUILD/kernel/$PROFILE
	set_compiler "$PROFILE"
}

need_host
# One kernel.sh at a time per build directory: the patched tree, the objects and the vmlinux
# link are shared (a make run beside a make eval once linked two apps into one vmlinux).
# UKL_KERNEL_LOCK names another lock for a build that touches nothing the others do: tests/run.sh
# builds the ukl-lto kernel beside the other tests that way, on a tree it prepared first, and
# makes every test that needs that kernel wait for the build.
mkdir -p "$UKL_BUILD"
lock=${UKL_KERNEL_LOCK:-$UKL_BUILD/.kernel.lock}
exec 9>"$lock"
if ! flock -n 9; then
	note "waiting for another kernel build or link to finish (${lock#"$UKL_TOP"/})"
	flock 9
fi
case ${1:-} in
--link) [ $# = 4 ] || die "usage: scripts/kernel.sh --link PROFILE APP_O OUTDIR"
	use_profile "$2"; prepare_tree; configure; link_app "$3" "$4" ;;
--tree) prepare_tree >&2; printf '%s\n' "$KTREE" ;;
--config) [ $# = 2 ] || die "usage: scripts/kernel.sh --config PROFILE"
	use_profile "$2"; prepare_tree; configure ;;
''|-*) die "usage: scripts/kernel.sh PROFILE | --link PROFILE APP_O OUTDIR | --config PROFILE | --tree" ;;
*) use_profile "$1"; prepare_tree; configure; build ;;
esac
