#!/usr/bin/env bash
# The kernel's own selftests (scripts/kselftest.sh) as ordinary processes on the linux and ukl
# kernels: every one that passes on linux passes on ukl, unless linux-patches/DESIGN.md says
# why not (out/kselftest/parity.md).  One boot per kernel.
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
# one line per test stock Linux passes; the others are listed as diagnostics
while IFS=, read -r _ t st _; do
	uk=$(awk -F, -v t="$t" '$1 == "ukl" && $2 == t {print $3}' "$out/results.csv")
	if [ "$st" = pass ]; then
		if [ "$uk" = pass ]; then ok "ukl: $t passes, as on linux"
		elif grep -qF "| $t | pass | $uk | explained: " "$out/parity.md"; then ok "ukl: $t $uk, explained in DESIGN.md"
		else not_ok "ukl: $t passes, as on linux" "ukl: $uk; see out/kselftest/ukl/${t//\//__}.txt"; fi
	else
		diag "linux: $t $st (not a parity check); ukl: $uk"
	fi
done < <(grep '^linux,' "$out/results.csv")
if [ $rc = 0 ]; then ok "parity.md: no unexplained difference from linux"
else not_ok "parity.md: no unexplained difference from linux" "scripts/kselftest.sh exited $rc" "$(tail -n 8 "$T_TMP/ksft.out")"; fi
t_done
