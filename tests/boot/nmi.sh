#!/usr/bin/env bash
# NMIs under a page-fault storm (linux-patches 0004: ukl_ist_enter()).  Every page fault and
# interrupt of the ukl kernel arrives on the #PF IST stack; an NMI (as #DB and #MC) that lands
# before the entry code has moved the frame off shifts that stack's IST entry below the frame
# while its handler runs, so that a fault in the handler cannot overwrite it.  The selftest's
# --pf-storm faults without pause while QEMU's monitor sends NMIs every 10 ms: the app must
# find every page as written, the kernel must take the NMIs without complaint, and some must
# have landed on the #PF IST stack and been shifted (ist_shift_count).
# time-limit: 900
. "$(dirname "$0")/../lib.sh"

build_image selftest ukl
out=$TOP/out/selftest/ukl
mon=$T_TMP/monitor.sock
rm -f "$out/run.log"
"$TOP/scripts/guest-nmi.py" "$mon" --every 0.01 --wait-for "$out/run.log" "pf-storm: start" \
	--timeout 400 >"$T_TMP/nmi.out" 2>&1 &
nmi=$!
expect_status "the selftest's page-fault storm (20 s) under NMIs ends with status 0" 0 \
	boot selftest ukl MONITOR="$mon" ARGS="--pf-storm 20" TIMEOUT=400
wait $nmi
diag "$(cat "$T_TMP/nmi.out")"
tr -d '\r' <"$out/run.log" >"$T_TMP/console"
line=$(grep -m1 '^pf-storm: [0-9]* rounds' "$T_TMP/console" || true)
diag "${line:-no pf-storm summary}"
sent=$(sed -n 's/^guest-nmi: sent \([0-9]*\) NMIs$/\1/p' "$T_TMP/nmi.out")
taken=$(sed -n 's/.*NMIs taken: \([0-9-]*\);.*/\1/p' <<<"$line")
shifts=$(sed -n 's/.*#PF IST shifts: \([0-9-]*\)$/\1/p' <<<"$line")
if [[ $line =~ ' 0 pages wrong;' ]] && [ "${line%% rounds*}" != "pf-storm: 0" ]; then
	ok "every page of every round held what was written"
else
	not_ok "every page of every round held what was written" "${line:-no summary line}"
fi
if [ "${sent:-0}" -ge 100 ] && [ "${taken:--1}" -ge 100 ]; then
	ok "the guest took the NMIs ($taken taken, $sent sent)"
else
	not_ok "the guest took the NMIs (at least 100)" "sent ${sent:-?}, taken ${taken:-?}"
fi
if [ "${shifts:-0}" -ge 1 ]; then
	ok "NMIs landed on the #PF IST stack in use and the kernel shifted it ($shifts times)"
else
	not_ok "NMIs landed on the #PF IST stack in use and the kernel shifted it" "ist_shift_count grew by ${shifts:-?}"
fi
expect_quiet_kernel "no kernel complaint" "$T_TMP/console"
t_done
