#!/usr/bin/env bash
# The exact instruction meter (eval/meter/): the TCG plugin, built from the pinned QEMU source,
# counts lebench's metered calls on linux, ukl, ukl-ret-byp and ukl-direct.  Its calibration (a
# loop of exactly 2000 instructions) must read exactly 2000; the empty call's window must be
# the same 8 app instructions everywhere; getppid must show the trap on linux (one syscall, one
# sysret, two swapgs per call) and none on the UKL profiles, which spend their instructions in
# the seam and the kernel; the bypass must cost fewer instructions than the generic UKL entry,
# and the direct entry (per-call binding, binding.txt) fewer than the bypass.
# time-limit: 900
. "$(dirname "$0")/../lib.sh"
profiles="linux ukl ukl-ret-byp ukl-direct"
for profile in $profiles; do
	build_image lebench "$profile"
	out=$TOP/out/lebench/$profile
	dir=$T_TMP/raw/$profile/boot-1
	expect_status "$profile: lebench --meter runs under the meter and exits 0" 0 \
		boot lebench "$profile" METER=1 ARGS="--out /out --meter --only null_call,getppid,read --scale 0.05" TIMEOUT=600
	expect_ok "$profile: lebench's meter.csv comes back over the console" \
		"$TOP/scripts/guest-files.py" "$out/run.log" "$dir"
	expect_ok "$profile: the plugin wrote its counts" cp "$out/meter.csv" "$dir/meter-counts.csv"
done
expect_ok "eval/meter/report.py: the calibration loop of 2000 instructions reads exactly 2000 in every boot" \
	"$TOP/eval/meter/report.py" --raw "$T_TMP/raw" --out "$T_TMP/eval" --no-plots
calls=$T_TMP/eval/meter/calls.csv
# check NAME PYTHON-EXPRESSION: r(profile, test, size) is a row of calls.csv (numbers as floats)
check() {
	local name=$1 expr=$2
	expect_ok "$name" python3 - "$calls" "$expr" <<'EOF'
import csv, sys
rows = {(r["profile"], r["test"], r["size"]): r for r in csv.DictReader(open(sys.argv[1]))}
def r(p, t, s=0):
    return {k: (float(v) if v not in ("", None) and k not in ("profile", "test") else v)
            for k, v in rows[(p, t, str(s))].items()}
ok = eval(sys.argv[2])
if not ok:
    sys.exit("false: %s" % sys.argv[2])
EOF
}
check "null_call: the same 8 app instructions and nothing else on every profile" \
	"all(r(p, 'null_call')['app'] == 8 and r(p, 'null_call')['total'] == 8 for p in ('linux', 'ukl', 'ukl-ret-byp', 'ukl-direct'))"
check "linux getppid: one syscall, one sysret and two swapgs per call" \
	"r('linux', 'getppid')['syscall'] == 1 and r('linux', 'getppid')['sysret'] == 1 and r('linux', 'getppid')['swapgs'] == 2"
check "UKL getppid: no syscall, sysret or swapgs; instructions in the seam and the kernel" \
	"all(r(p, 'getppid')[e] == 0 for p in ('ukl', 'ukl-ret-byp', 'ukl-direct') for e in ('syscall', 'sysret', 'swapgs')) and all(r(p, 'getppid')['seam'] > 0 and r(p, 'getppid')['kernel'] > 0 for p in ('ukl', 'ukl-ret-byp', 'ukl-direct'))"
check "read 1 B: fs and mm instructions on every profile, from the same kernel code" \
	"all(r(p, 'read', 1)['fs'] > 100 and r(p, 'read', 1)['mm'] > 100 for p in ('linux', 'ukl', 'ukl-ret-byp', 'ukl-direct'))"
check "ukl-ret-byp's getppid costs fewer instructions than ukl's" \
	"r('ukl-ret-byp', 'getppid')['net'] < r('ukl', 'getppid')['net']"
expect_grep "ukl-direct's image binds the app's getppid sites to the direct entry" \
	'^ukl___ukl_sys_getppid -> ukl_direct_getppid$' "$TOP/out/lebench/ukl-direct/binding.txt"
expect_grep "... and a call without a direct entry (close) to the bypass entry" \
	'^ukl___ukl_sys_close -> ukl_entry_syscall_bypass$' "$TOP/out/lebench/ukl-direct/binding.txt"
check "ukl-direct's getppid costs at least 20% fewer instructions than ukl-ret-byp's" \
	"r('ukl-direct', 'getppid')['net'] <= 0.8 * r('ukl-ret-byp', 'getppid')['net']"
diag "getppid instructions per call (net of the bracket): $(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) c[$i] = i } $2 == "getppid" { printf "%s %s (%s x linux)  ", $1, $c["net"], $c["net_ratio_vs_linux"] }' "$calls")"
t_done
