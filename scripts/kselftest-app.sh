#!/usr/bin/env bash
# The kernel's selftests inside the app (apps/ksft): each runs as the app, at CPL 0 on a UKL
# profile and as an ordinary process (the same sources built stock) on linux.  Part of
# make test TESTS=kselftest (tests/boot/kselftest.sh).
#
# usage: scripts/kselftest-app.sh [PROFILE...]      (default: linux ukl)
#
# One boot per profile: init starts the app once per test (ukl.each=SECS, ARGS=the names;
# KSFT_TIMEOUT=SECS per test, default 180).  Writes out/kselftest/app/:
#   results.csv   profile,test,status,rc,seconds   (status: pass fail skip timeout, from the
#                 app's exit status: 0 pass, 4 skip, SIGKILL at the limit timeout, anything
#                 else fail; no status at all, the boot ended inside it, fail with rc none)
#   PROFILE/console.log  the boot's console; PROFILE/NAME.log  each run's part of it
# and out/kselftest/in-app.md, the parity table: a test that passes on linux and not on a UKL
# profile must be named in linux-patches/DESIGN.md under "kselftest differences in the app".
. "$(dirname "$0")/lib.sh"

profiles=("$@")
[ ${#profiles[@]} -gt 0 ] || profiles=(linux ukl)
out=$UKL_OUT/kselftest/app
for p in "${profiles[@]}"; do "$UKL_TOP/scripts/image.sh" ksft "$p"; done
# the names, from the stock build (a static binary the host runs)
mapfile -t names < <("$UKL_TOP/scripts/app.sh" ksft stock >/dev/null && "$("$UKL_TOP/scripts/app.sh" --bin ksft stock)" --list)
[ ${#names[@]} -gt 0 ] || die "apps/ksft lists no test" "see build/apps/stock/ksft/make.log"
rm -rf "$out"
mkdir -p "$out"
printf '%s\n' "${names[@]}" >"$out/list"
echo "profile,test,status,rc,seconds" >"$out/results.csv"
# each test's own run: its status (0 pass, 4 skip, 137 after its time limit: timeout, any
# other: fail) and its part of the console, between init's "each NAME" lines (no end line:
# the boot ended inside it, a fail)
limit=${KSFT_TIMEOUT:-180}
for p in "${profiles[@]}"; do
	mkdir -p "$out/$p"
	step BOOT "$p: ${#names[@]} selftests inside the app, one start each in one boot (console: ${out#"$UKL_TOP"/}/$p/console.log)"
	rc=0
	env -u MONITOR APPEND="ukl.each=$limit" ARGS="${names[*]}" TIMEOUT=$((limit * ${#names[@]} + 120)) \
		"$UKL_TOP/scripts/boot-app.sh" ksft "$p" >"$out/$p/console.log" 2>&1 || rc=$?
	[ $rc = 0 ] || note "$p: the boot ended with status $rc (see ${out#"$UKL_TOP"/}/$p/console.log)"
	for t in "${names[@]}"; do
		sed -n "/ukl-init: each $t: begin/,/ukl-init: each $t: exit status/p" "$out/$p/console.log" >"$out/$p/$t.log"
		end=$(sed -n "s/.*ukl-init: each $t: exit status \([0-9]*\), \([0-9]*\) s.*/\1 \2/p" "$out/$p/console.log")
		if [ -z "$end" ]; then
			st=fail trc=none secs=0
		else
			read -r trc secs <<<"$end"
			case $trc in 0) st=pass ;; 4) st=skip ;; 137) [ "$secs" -ge "$limit" ] && st=timeout || st=fail ;; *) st=fail ;; esac
		fi
		echo "$p,$t,$st,$trc,$secs" >>"$out/results.csv"
		printf '  %-8s %-36s %s\n' "$p" "$t" "$st"
	done
done
exec "$UKL_TOP/scripts/kselftest-parity.py" --results "$out/results.csv" --list "$out/list" \
	--design "$UKL_TOP/linux-patches/DESIGN.md" --section "kselftest differences in the app" \
	--title "kselftest parity inside the app: the kernel's own selftests linked into the app" \
	--about "Built from the pinned kernel source into one app (apps/ksft), one start per test, one boot per profile (scripts/kselftest-app.sh): on linux an ordinary process, on a UKL profile the app at CPL 0. A test that passes on linux must pass on every other profile, or be named in linux-patches/DESIGN.md under \"kselftest differences in the app\"." \
	--out "$UKL_OUT/kselftest/in-app.md" --stamp "$(git -C "$UKL_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
