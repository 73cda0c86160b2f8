#!/usr/bin/env bash
# Profiles: the Kconfig merge holds every requested option, a dropped one is an error, an
# unknown profile is named.  Needs the kernel tree (fetched, ~1 min cold), no compilation.
. "$(dirname "$0")/../lib.sh"
top=$(scratch_top)
export UKL_BUILD=$T_TMP/build
# share the real patched tree: prepare it once in the repo's build dir, then link it in
expect_ok "prepare the patched kernel tree" env UKL_BUILD="$TOP/build" "$TOP/scripts/kernel.sh" --tree
mkdir -p "$UKL_BUILD" && ln -s "$TOP/build/linux-src" "$UKL_BUILD/linux-src"

expect_ok "profile linux merges onto tinyconfig with every option held" "$top/scripts/kernel.sh" --config linux
c=$UKL_BUILD/kernel/linux/.config
for o in CONFIG_PREEMPT_NONE=y CONFIG_HZ_1000=y CONFIG_VIRTIO_NET=y CONFIG_SERIAL_8250_CONSOLE=y \
	CONFIG_BLK_DEV_INITRD=y CONFIG_EPOLL=y CONFIG_PERF_EVENTS=y CONFIG_64BIT=y; do
	expect_grep "linux .config has $o" "^$o\$" "$c"
done
for o in CONFIG_RANDOMIZE_BASE CONFIG_MITIGATION_PAGE_TABLE_ISOLATION CONFIG_MODULES CONFIG_CPU_MITIGATIONS; do
	if grep -q "^$o=y" "$c"; then not_ok "linux .config has $o off" "$(grep "^$o=" "$c")"; else ok "linux .config has $o off"; fi
done

# a fragment asking for something its dependencies do not allow must fail the merge
printf 'CONFIG_VIRTIO_NET=y\nCONFIG_9P_FS=y\n' >"$top/profiles/broken.config"
printf 'PROFILE_DESC="test"\nPROFILE_KCONFIG="base.config broken.config"\nPROFILE_APP_FLAVOUR=stock\n' >"$top/profiles/broken.profile"
expect_fail "a fragment option dropped by Kconfig fails the merge and is named" \
	"CONFIG_9P_FS=y requested.*|dropped requested options" "$top/scripts/kernel.sh" --config broken
expect_fail "an unknown profile is an error listing the known ones" "unknown profile 'nosuch'.*|use one of: .*linux" \
	"$top/scripts/kernel.sh" --config nosuch
expect_fail "make with an unknown PROFILE names the fix" "unknown profile 'nosuch'" \
	make -C "$top" --no-print-directory image APP=hello PROFILE=nosuch
printf 'PROFILE_DESC="test"\nPROFILE_KCONFIG="base.config missing.config"\nPROFILE_APP_FLAVOUR=stock\n' >"$top/profiles/nofrag.profile"
expect_fail "a profile naming a missing fragment is an error" "missing Kconfig fragment profiles/missing.config" \
	"$top/scripts/kernel.sh" --config nofrag
printf 'PROFILE_DESC="test"\nPROFILE_KERNEL=nosuch\nPROFILE_APP_FLAVOUR=ukl\n' >"$top/profiles/badkernel.profile"
expect_fail "a PROFILE_KERNEL that is not a profile is an error naming it" "PROFILE_KERNEL=nosuch, which is not a profile" \
	"$top/scripts/kernel.sh" --config badkernel
# every other UKL profile on the ukl kernel config links against ukl's kernel objects: one UKL
# kernel build serves all of them (ukl-debug has a .config of its own)
for p in $(. "$TOP/scripts/lib.sh" && ukl_profiles); do
	[ "$p" = ukl ] && continue
	[ "$(. "$TOP/scripts/lib.sh" && conf_get "$TOP/profiles/$p.profile" PROFILE_KCONFIG)" = "base.config ukl.config" ] || continue
	expect_grep "$p names ukl's kernel objects (PROFILE_KERNEL=ukl)" '^PROFILE_KERNEL=ukl$' "$TOP/profiles/$p.profile"
done
# every profile declares what its selftest must see (PROFILE_EXPECT: ret, pf-df, shortcut)
for p in linux $(. "$TOP/scripts/lib.sh" && ukl_profiles); do
	e=$(. "$TOP/scripts/lib.sh" && conf_get "$TOP/profiles/$p.profile" PROFILE_EXPECT NONE)
	if [ "$e" = NONE ]; then not_ok "$p declares PROFILE_EXPECT"; continue; fi
	bad=$(printf '%s\n' $e | grep -vxE 'ret|pf-df|shortcut' || true)
	[ -z "$bad" ] && ok "$p declares PROFILE_EXPECT=\"$e\"" || not_ok "$p's PROFILE_EXPECT has only ret, pf-df, shortcut" "unknown: $bad"
done
# the debug profile's fragment (a later fragment may override an earlier one) merges whole
expect_ok "profile ukl-debug merges with every debug option held" "$top/scripts/kernel.sh" --config ukl-debug
for o in CONFIG_DEBUG_ENTRY=y CONFIG_PROVE_LOCKING=y CONFIG_KALLSYMS_ALL=y CONFIG_DEBUG_ATOMIC_SLEEP=y CONFIG_UNIKERNEL_LINUX=y CONFIG_DEBUG_INFO_NONE=y; do
	expect_grep "ukl-debug .config has $o" "^$o\$" "$UKL_BUILD/kernel/ukl-debug/.config"
done
# the LTO profiles' merge (clang-19, ThinLTO) is checked on the kernel that tests/boot/pgo.sh
# trains on: a merge here would only repeat the one that build made (47 s of clang probes)
# ukl-pgo is built with the profile make pgo trains: without one, the error names make pgo
expect_fail "ukl-pgo without a trained profile names make pgo" "there is none at .*make pgo APP=memcached" \
	env UKL_PGO_PROFILE="$T_TMP/no-such.prof" "$top/scripts/kernel.sh" --config ukl-pgo
t_done
