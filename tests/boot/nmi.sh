#!/usr/bin/env bash
# NMIs into the ukl kernel's most delicate windows, sent through QEMU's monitor every 10 ms
# while the selftest runs a storm:
# - a page-fault storm (--pf-storm) on ukl (linux-patches 0004: ukl_ist_enter()).  Every page
#   fault and interrupt arrives on the #PF IST stack; an NMI (as #DB and #MC) that lands before
#   the entry code has moved the frame off shifts that stack's IST entry below the frame while
#   its handler runs, so that a fault in the handler cannot overwrite it.  Every page must be
#   found as written, and some NMIs must have been shifted (ist_shift_count).
# - a system call storm (--call-storm) on ukl-shortcut, whose calls and interrupt returns end
#   in STI and a jump (0012, 0017).  An NMI on the jump ends STI's shadow, and an interrupt may
#   then arrive there, after the exit work: the kernel must make it the app's, at the jump's
#   target (tail_event_count), and every call must return what it should.
# The kernel must take every NMI without complaint.
# time-limit: 900
. "$(dirname "$0")/../lib.sh"

# storm PROFILE WHAT SECS: boot the selftest with --WHAT SECS under NMIs; leaves the storm's
# summary line in $line and the NMIs sent in $sent
storm() {
	local profile=$1 what=$2 secs=$3 out=$TOP/out/selftest/$1 mon=$T_TMP/monitor-$1.sock nmi
	build_image selftest "$profile"
	rm -f "$out/run.log"
	"$TOP/scripts/guest-nmi.py" "$mon" --every 0.01 --wait-for "$out/run.log" "$what: start" \
		--timeout 400 >"$T_TMP/nmi.out" 2>&1 &
	nmi=$!
	expect_status "$profile: the selftest's $what ($secs s) under NMIs ends with status 0" 0 \
		boot selftest "$profile" MONITOR="$mon" ARGS="--$what $secs" TIMEOUT=400
	wait $nmi
	diag "$(cat "$T_TMP/nmi.out")"
	tr -d '\r' <"$out/run.log" >"$T_TMP/console-$profile"
	line=$(grep -m1 "^$what: [0-9]* " "$T_TMP/console-$profile" || true)
	diag "${line:-no $what summary}"
	sent=$(sed -n 's/^guest-nmi: sent \([0-9]*\) NMIs$/\1/p' "$T_TMP/nmi.out")
	taken=$(sed -n 's/.*NMIs taken: \([0-9-]*\);.*/\1/p' <<<"$line")
	if [ "${sent:-0}" -ge 100 ] && [ "${taken:--1}" -ge 100 ]; then
		ok "$profile: the guest took the NMIs ($taken taken, $sent sent)"
	else
		not_ok "$profile: the guest took the NMIs (at least 100)" "sent ${sent:-?}, taken ${taken:-?}"
	fi
	expect_quiet_kernel "$profile: no kernel complaint" "$T_TMP/console-$profile"
}

storm ukl pf-storm 20
shifts=$(sed -n 's/.*#PF IST shifts: \([0-9-]*\)$/\1/p' <<<"$line")
if [[ $line =~ ' 0 pages wrong;' ]] && [ "${line%% rounds*}" != "pf-storm: 0" ]; then
	ok "ukl: every page of every round held what was written"
else
	not_ok "ukl: every page of every round held what was written" "${line:-no summary line}"
fi
if [ "${shifts:-0}" -ge 1 ]; then
	ok "ukl: NMIs landed on the #PF IST stack in use and the kernel shifted it ($shifts times)"
else
	not_ok "ukl: NMIs landed on the #PF IST stack in use and the kernel shifted it" "ist_shift_count grew by ${shifts:-?}"
fi

storm ukl-shortcut call-storm 20
tails=$(sed -n 's/.*tail events: \([0-9-]*\)$/\1/p' <<<"$line")
if [[ $line =~ ' 0 wrong;' ]] && [ "${line%% calls*}" != "call-storm: 0" ]; then
	ok "ukl-shortcut: every call returned the parent's pid"
else
	not_ok "ukl-shortcut: every call returned the parent's pid" "${line:-no summary line}"
fi
if [ "${tails:-0}" -ge 1 ]; then
	ok "ukl-shortcut: interrupts arrived on a return's final jump and the kernel made them the app's ($tails times)"
else
	not_ok "ukl-shortcut: interrupts arrived on a return's final jump and the kernel made them the app's" "tail_event_count grew by ${tails:-?}"
fi
t_done
