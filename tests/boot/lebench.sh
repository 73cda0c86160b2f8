#!/usr/bin/env bash
# apps/lebench on stock Linux and as a UKL app (every UKL profile): every microbenchmark runs (a short pass,
# --scale 0.05), its CSVs come back over the console intact, and eval/analyze.py makes a
# summary with a ratio against Linux for each of them.
# time-limit: 2400
. "$(dirname "$0")/../lib.sh"
tests=$(grep -o '{ "[a-z_]*", "' "$TOP/apps/lebench/lebench.c" | cut -d'"' -f2)
use_profiles
for profile in linux $UKL_SET; do
	build_image lebench "$profile"
	out=$TOP/out/lebench/$profile
	expect_status "$profile: lebench runs every test (short pass) and exits 0" 0 \
		boot lebench "$profile" ARGS="--out /out --scale 0.05" TIMEOUT=900
	dir=$T_TMP/raw/$profile/boot-1
	expect_ok "$profile: the CSVs come back over the console, size and sha256 checked" \
		"$TOP/scripts/guest-files.py" "$out/run.log" "$dir"
	# a UKL image cannot be forked: its fork test is refused (EBUSY) and named in skipped.txt
	missing=""
	for t in $tests; do
		[ "$profile" != linux ] && [ "$t" = fork ] && continue
		grep -Eq "^([a-z]+_)?$t," "$dir/summary.csv" 2>/dev/null || missing+=" $t"
	done
	if [ -z "$missing" ]; then ok "$profile: summary.csv has every test ($(echo $tests | wc -w)$([ "$profile" = linux ] || echo ' but fork'))"; else not_ok "$profile: summary.csv has every test" "missing:$missing"; fi
	if [ "$profile" != linux ]; then
		expect_grep "$profile: ... fork is not measured, refused with EBUSY (skipped.txt)" '^fork: refused with EBUSY' "$dir/skipped.txt"
	fi
done
expect_ok "eval/analyze.py reads both profiles' data" "$TOP/eval/analyze.py" --raw "$T_TMP/raw" --out "$T_TMP/eval" --no-plots
expect_grep "... and gives ukl a ratio against linux for getppid, with its spread over boots" '^ukl,getppid,0,[0-9.]+,[0-9.]+,[0-9.]+,[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3}$' "$T_TMP/eval/summary.csv"
diag "getppid ukl/linux in this short pass: $(grep '^ukl,getppid,' "$T_TMP/eval/summary.csv" | cut -d, -f7)"
t_done
