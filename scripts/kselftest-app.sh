#!/usr/bin/env bash
# The kernel's selftests inside the app (apps/ksft): each runs as the app, at CPL 0 on a UKL
# profile and as an ordinary process (the same sources built stock) on linux.  Part of
# make test TESTS=kselftest (tests/boot/kselftest.sh).
#
# usage: scripts/kselftest-app.sh [PROFILE...]      (default: linux ukl)
#
# One boot per test and profile (scripts/boot-app.sh ksft PROFILE, ARGS=NAME).  Writes
# out/kselftest/app/:
#   results.csv   profile,test,status,rc,seconds   (status: pass fail skip timeout, from the
#                 app's exit status: 0 pass, 4 skip, 124 timeout, anything else fail)
#   PROFILE/NAME.log  each run's console
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
for p in "${profiles[@]}"; do
	mkdir -p "$out/$p"
	step BOOT "$p: ${#names[@]} selftests inside the app, one boot each (consoles: ${out#"$UKL_TOP"/}/$p/)"
	for t in "${names[@]}"; do
		rc=0
		t0=$(date +%s)
		env -u APPEND -u MONITOR ARGS="$t" TIMEOUT="${KSFT_TIMEOUT:-180}" \
			"$UKL_TOP/scripts/boot-app.sh" ksft "$p" >"$out/$p/$t.log" 2>&1 || rc=$?
		case $rc in 0) st=pass ;; 4) st=skip ;; 124) st=timeout ;; *) st=fail ;; esac
		echo "$p,$t,$st,$rc,$(($(date +%s) - t0))" >>"$out/results.csv"
		printf '  %-8s %-36s %s\n' "$p" "$t" "$st"
	done
done
exec "$UKL_TOP/scripts/kselftest-parity.py" --results "$out/results.csv" --list "$out/list" \
	--design "$UKL_TOP/linux-patches/DESIGN.md" --section "kselftest differences in the app" \
	--title "kselftest parity inside the app: the kernel's own selftests linked into the app" \
	--about "Built from the pinned kernel source into one app (apps/ksft), one test per boot (scripts/kselftest-app.sh): on linux an ordinary process, on a UKL profile the app at CPL 0. A test that passes on linux must pass on every other profile, or be named in linux-patches/DESIGN.md under \"kselftest differences in the app\"." \
	--out "$UKL_OUT/kselftest/in-app.md" --stamp "$(git -C "$UKL_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
