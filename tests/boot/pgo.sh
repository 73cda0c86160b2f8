#!/usr/bin/env bash
# make pgo's training half on ukl-lto, the clang ThinLTO kernel (its build puts the LTO
# mechanism into make test): memcached serves a short training load under the meter's
# branches= mode, which counts every block and branch of the kernel half exactly, and
# llvm-profgen-19 turns the counts into a sample profile of vmlinux.  The profile must hold the
# functions memcached's requests run through: a direct entry's C half, TCP, and memcached's own
# code (a gcc object inside vmlinux).  Rebuilding the kernel with the profile (ukl-pgo) and
# measuring it is make pgo's second half, outside CI: it is one more LTO kernel build.
# time-limit: 2400
. "$(dirname "$0")/../lib.sh"
"$TOP/scripts/setup.sh" --check-or-install >/dev/null || { not_ok "host tools (scripts/setup.sh)"; t_done; }
dir=$TOP/out/pgo/memcached
bg_kernel_wait ukl-lto
expect_ok "make pgo PGO_BUILD=0 trains a sample profile of memcached on ukl-lto" \
	env PGO_SECONDS=5 PGO_BUILD=0 make -C "$TOP" --no-print-directory pgo APP=memcached
# the kernel it trained on: the LTO profile merged, configured by clang-19 (PROFILE_CC=clang),
# ThinLTO held
for o in CONFIG_CC_IS_CLANG=y CONFIG_LD_IS_LLD=y CONFIG_LTO_CLANG_THIN=y CONFIG_UNIKERNEL_LINUX=y; do
	expect_grep "ukl-lto .config has $o" "^$o\$" "$TOP/build/kernel/ukl-lto/.config"
done
# the meter's file: a count line, that many "START-LAST:N" blocks, a count line, that many
# "SOURCE->TARGET:N" branches, every address in the kernel half
expect_ok "the meter's block and branch counts are well formed (llvm-profgen's unsymbolized profile)" \
	python3 - "$dir/branches.txt" <<'PY'
import re, sys
lines = open(sys.argv[1]).read().split("\n")
nb = int(lines[0])
blocks = lines[1:1 + nb]
nbr = int(lines[1 + nb])
brs = lines[2 + nb:2 + nb + nbr]
assert nb > 1000 and nbr > 1000, (nb, nbr)
for l in blocks:
    m = re.fullmatch(r"([0-9a-f]+)-([0-9a-f]+):([0-9]+)", l)
    assert m and int(m[1], 16) >= 1 << 63 and int(m[1], 16) <= int(m[2], 16) and int(m[3]) > 0, l
for l in brs:
    m = re.fullmatch(r"([0-9a-f]+)->([0-9a-f]+):([0-9]+)", l)
    assert m and int(m[1], 16) >= 1 << 63 and int(m[2], 16) >= 1 << 63 and int(m[3]) > 0, l
assert lines[2 + nb + nbr:] in ([], [""]), "trailing lines"
PY
prof=$dir/kernel.prof
expect_grep "the sample profile has a direct entry's C half (ukl_direct_c_*)" '^ukl_direct_c_[a-z0-9_]+:[0-9]+:[0-9]+' "$prof"
expect_grep "... TCP (tcp_sendmsg_locked)" '^tcp_sendmsg_locked:[0-9]+:[0-9]+' "$prof"
# the app's functions carry their DWARF names (gcc's debug info), without the ukl_ prefix
expect_grep "... and memcached's own request loop (drive_machine, gcc code inside vmlinux)" '^drive_machine:[0-9]+:[0-9]+' "$prof"
expect_quiet_kernel "no kernel warning on the training boot's console" "$TOP/out/memcached/ukl-lto/run.log"
t_done
