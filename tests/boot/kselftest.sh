#!/usr/bin/env bash
# The kernel's own selftests (scripts/kselftest.sh) as ordinary processes on the linux and ukl
# kernels: every one that passes on linux passes on ukl, unless linux-patches/DESIGN.md says
# why not (out/kselftest/parity.md).  One boot per kernel.  Then those that make sense inside
# the app (futex, sigaltstack, x86 sigreturn) linked into it (apps/ksft), one boot per kernel:
# at CPL 0 on ukl, as an ordinary process on linux (out/kselftest/in-app.md).
# time-limit: 3000
. "$(dirname "$0")/../lib.sh"
out=$TOP/out/kselftest
rc=0
"$TOP/scripts/kselftest.sh" linux ukl >"$T_TMP/ksft.out" 2>&1 || rc=$?
if [ ! -s "$out/results.csv" ] || ! grep -q '^ukl,' "$out/results.csv"; then
	not_ok "the selftests ran on linux and ukl" "exit $rc" "$(tail -n 15 "$T_TMP/ksft.out")"
	t_done
fi
ok "the selftests ran on linux and ukl (out/kselftest/results.csv)"
total=$(grep -c '^linux,' "$out/results.csv")
unbuilt=$(grep -c '^linux,[^,]*,unbuilt,' "$out/results.csv" || true)
if [ "$unbuilt" = 0 ]; then ok "all $total chosen selftests built from the pinned source"
else not_ok "all $total chosen selftests built from the pinned source" "$unbuilt did not: see build/kselftest/build.log"; fi
passed=$(grep -c '^linux,[^,]*,pass,' "$out/results.csv" || true)
# the table says something only if stock Linux passes most of what was chosen
if [ "$passed" -ge 30 ]; then ok "linux passes $passed of $total (at least 30)"
else not_ok "linux passes at least 30 of $total" "it passes $passed"; fi
# check_parity RESULTS TABLE WHERE: one line per test stock Linux passes (each must pass on ukl or
# be explained in TABLE); the others are listed as diagnostics
check_parity() {
	local results=$1 table=$2 where=$3 t st uk
	while IFS=, read -r _ t st _; do
		uk=$(awk -F, -v t="$t" '$1 == "ukl" && $2 == t {print $3}' "$results")
		if [ "$st" = pass ]; then
			if [ "$uk" = pass ]; then ok "ukl$where: $t passes, as on linux"
			elif grep -qF "| $t | pass | $uk | explained: " "$table"; then ok "ukl$where: $t $uk, explained in DESIGN.md"
			else not_ok "ukl$where: $t passes, as on linux" "ukl: $uk; see ${results%/*}/ukl/"; fi
		else
			diag "linux$where: $t $st (not a parity check); ukl: $uk"
		fi
	done < <(grep '^linux,' "$results")
}
check_parity "$out/results.csv" "$out/parity.md" ""
if [ $rc = 0 ]; then ok "parity.md: no unexplained difference from linux"
else not_ok "parity.md: no unexplained difference from linux" "scripts/kselftest.sh exited $rc" "$(tail -n 8 "$T_TMP/ksft.out")"; fi

# inside the app (apps/ksft): the same tests linked into the app, at CPL 0 on ukl
rc=0
"$TOP/scripts/kselftest-app.sh" linux ukl >"$T_TMP/app.out" 2>&1 || rc=$?
if [ -s "$out/app/results.csv" ] && grep -q '^ukl,' "$out/app/results.csv"; then
	ok "the in-app selftests ran on linux and ukl ($(grep -c '^ukl,' "$out/app/results.csv") tests)"
	check_parity "$out/app/results.csv" "$out/in-app.md" " (in the app)"
	if [ $rc = 0 ]; then ok "in-app.md: no unexplained difference from linux"
	else not_ok "in-app.md: no unexplained difference from linux" "scripts/kselftest-app.sh exited $rc" "$(tail -n 8 "$T_TMP/app.out")"; fi
else
	not_ok "the in-app selftests ran on linux and ukl" "exit $rc" "$(tail -n 15 "$T_TMP/app.out")"
fi
t_done
