#!/usr/bin/env bash
# scripts/kselftest-parity.py off-line: a test that passes on linux and fails on ukl fails the
# table unless DESIGN.md's "kselftest differences" names it; a test linux fails is no parity
# check; a missing result fails.  No kernel, no QEMU.
# time-limit: 60
. "$(dirname "$0")/../lib.sh"
par=$TOP/scripts/kselftest-parity.py
printf '%s\n' "x86/a_64 x86__a_64" "x86/b_64 x86__b_64" "mm/c mm__c" >"$T_TMP/list"
printf '%s\n' "# Design" "## kselftest differences" "Some text." "" "- \`x86/b_64\`: the reason it differs" "" "## Next" \
	"- \`mm/c\`: not in the section" >"$T_TMP/design.md"
results() { # linux/ukl statuses of a, b, c
	echo "profile,test,status,rc,seconds"
	echo "linux,x86/a_64,$1,0,1"; echo "linux,x86/b_64,$2,0,1"; echo "linux,mm/c,$3,0,1"
	echo "ukl,x86/a_64,$4,0,1"; echo "ukl,x86/b_64,$5,0,1"; [ -z "$6" ] || echo "ukl,mm/c,$6,0,1"
}
run() { "$par" --results "$T_TMP/r.csv" --list "$T_TMP/list" --design "$T_TMP/design.md" --out "$T_TMP/p.md"; }

results pass pass fail pass pass fail >"$T_TMP/r.csv"
expect_ok "the same results on both kernels: parity" run
expect_grep "... the table has a row per test with both statuses" '^\| mm/c \| fail \| fail \| same \|$' "$T_TMP/p.md"
results pass pass pass fail pass pass >"$T_TMP/r.csv"
expect_fail "a test that passes on linux and fails on ukl fails the table" "UNEXPLAINED DIFFERENCE" run
results pass pass pass pass fail pass >"$T_TMP/r.csv"
expect_ok "... unless DESIGN.md's kselftest differences section names it" run
expect_grep "... with the reason in the verdict" '^\| x86/b_64 \| pass \| fail \| explained: the reason it differs \|$' "$T_TMP/p.md"
results pass pass pass pass pass skip >"$T_TMP/r.csv"
expect_fail "a name outside that section explains nothing" "UNEXPLAINED DIFFERENCE" run
results fail pass pass pass pass pass >"$T_TMP/r.csv"
expect_ok "a test linux fails is no parity check" run
results pass pass pass pass pass "" >"$T_TMP/r.csv"
expect_fail "a test with no result on ukl fails the table" "NO RESULT" run
t_done
