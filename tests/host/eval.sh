#!/usr/bin/env bash
# The eval pipeline off-line: files framed on a guest console come back byte-exact (or fail
# naming the file); eval/analyze.py turns a small fixed data set into the expected summary and
# report (ratios with their spread over boots, ns or, under ICOUNT=1, instructions in every
# column and figure); missing or malformed CSVs and unequal boots are errors naming the test
# and the image; a report never includes a bench from another run; the boot check keeps,
# rejects and arbitrates boots by their null_call; and eval/micro.sh, eval/bench.sh and
# `make eval` run end to end in a scratch copy against fake boots (no image, no QEMU).
. "$(dirname "$0")/../lib.sh"
# the fake boots below run no plugin: no instruction meter (tests/boot/meter.sh checks that)
export METER=0
"$TOP/scripts/setup.sh" --check-or-install >/dev/null || { not_ok "host tools (scripts/setup.sh)"; t_done; }
gf=$TOP/scripts/guest-files.py
an=$TOP/eval/analyze.py

# -- console framing, as scripts/initramfs/init sends it (busybox base64 wraps at 76) --------
frame() { # NAME FILE
	echo "ukl-file: begin $1 $(wc -c <"$2") $(sha256sum <"$2" | cut -d' ' -f1)"
	base64 -w 76 "$2"
	echo "ukl-file: end $1"
}
head -c 100000 /dev/urandom >"$T_TMP/blob"
printf 'index,size,tsc_ns,clock_ns\n0,1,100,120\n' >"$T_TMP/small.csv"
{
	echo "[    0.910321] Run /init as init process"
	frame blob.bin "$T_TMP/blob"
	echo "[    1.000000] random: crng init done"
	frame small.csv "$T_TMP/small.csv"
	echo "ukl: exit status 0"
} | sed 's/$/\r/' >"$T_TMP/console.log"
expect_ok "guest files: two files framed on a console log (CRLF, kernel lines around) come out" \
	"$gf" "$T_TMP/console.log" "$T_TMP/got"
if cmp -s "$T_TMP/blob" "$T_TMP/got/blob.bin" && cmp -s "$T_TMP/small.csv" "$T_TMP/got/small.csv"; then
	ok "... byte-exact (100 kB of random bytes and a CSV)"
else
	not_ok "... byte-exact (100 kB of random bytes and a CSV)"
fi
awk 'NR==5 { $0 = (substr($0,1,3) == "AAA" ? "BBB" : "AAA") substr($0,4) } 1' "$T_TMP/console.log" >"$T_TMP/bad.log"
expect_fail "a corrupted line is an error naming the file" "blob.bin arrived corrupt" "$gf" "$T_TMP/bad.log" "$T_TMP/got2"
# the kernel prints into the middle of a base64 line (seen: the clocksource switch at 1.65 s)
awk 'NR==5 { $0 = substr($0,1,30) "[    1.652912] clocksource: Switched to clocksource tsc\r\n" substr($0,31) } 1' \
	"$T_TMP/console.log" >"$T_TMP/kmsg.log"
expect_ok "a kernel message printed into the middle of a base64 line is taken out" \
	"$gf" "$T_TMP/kmsg.log" "$T_TMP/got4"
cmp -s "$T_TMP/blob" "$T_TMP/got4/blob.bin" && ok "... and the file comes out byte-exact" || not_ok "... and the file comes out byte-exact"
awk '/^ukl-file: begin small.csv/ { $0 = substr($0,1,50) "[    1.730169] clocksource: tsc: mask: 0xffffffffffffffff\r\n" substr($0,51) } 1' \
	"$T_TMP/console.log" >"$T_TMP/kmsg2.log"
expect_ok "... also into the middle of a file's begin marker" "$gf" "$T_TMP/kmsg2.log" "$T_TMP/got5"
cmp -s "$T_TMP/small.csv" "$T_TMP/got5/small.csv" && ok "... which still comes out byte-exact" || not_ok "... which still comes out byte-exact"
grep -v "ukl-file: end small.csv" "$T_TMP/console.log" >"$T_TMP/cut.log"
expect_fail "a file without its end marker is an error naming it" "small.csv was cut off" "$gf" "$T_TMP/cut.log" "$T_TMP/got3"

# -- analyze: a fixed data set, 2 profiles x 2 boots ------------------------------------------
raw=$T_TMP/eval/raw
mk() { # PROFILE BOOT TEST SIZE VALUES...
	local d=$raw/$1/boot-$2 f test=$3 size=$4 n med
	shift 4
	mkdir -p "$d"
	f=$d/$test.csv
	[ -f "$f" ] || echo "index,size,tsc_ns,clock_ns" >"$f"
	[ -f "$d/summary.csv" ] || echo "test,size,iters,median_ns,min_ns,max_ns,clock_median_ns" >"$d/summary.csv"
	n=0
	for v in "$@"; do echo "$n,$size,$v,$((v + 10))" >>"$f"; n=$((n + 1)); done
	med=$(printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p")
	echo "$test,$size,$#,$med,$(printf '%s\n' "$@" | sort -n | head -n1),$(printf '%s\n' "$@" | sort -n | tail -n1),$((med + 10))" >>"$d/summary.csv"
}
mk linux 1 getppid 0 200 210 220
mk linux 2 getppid 0 190 200 240
mk ukl 1 getppid 0 100 110 120
mk ukl 2 getppid 0 90 100 130
mk linux 1 read 1 400 410 420
mk linux 2 read 1 380 400 500
mk ukl 1 read 1 300 300 300
mk ukl 2 read 1 290 310 330
mk linux 1 null_call 0 20 20 21
mk linux 2 null_call 0 21 21 22
mk ukl 1 null_call 0 20 21 22
mk ukl 2 null_call 0 19 20 20
expect_ok "analyze: a fixed data set (2 profiles x 2 boots) gives a summary and figures" \
	"$an" --raw "$raw" --out "$T_TMP/eval"
cat >"$T_TMP/want" <<'EOF'
profile,test,size,median_ns,min_ns,max_ns,ratio_vs_linux,ratio_min,ratio_max
linux,getppid,0,205,200,210,1.000,0.976,1.024
linux,null_call,0,20.5,20,21,1.000,0.976,1.024
linux,read,1,405,400,410,1.000,0.988,1.012
ukl,getppid,0,105,100,110,0.512,0.488,0.537
ukl,null_call,0,20.5,20,21,1.000,0.976,1.024
ukl,read,1,305,300,310,0.753,0.741,0.765
EOF
if diff "$T_TMP/want" "$T_TMP/eval/summary.csv" >"$T_TMP/diff"; then
	ok "... summary.csv is the expected table (median of boot medians, their spread, the ratio and its spread)"
else
	not_ok "... summary.csv is the expected table" "$(cat "$T_TMP/diff")"
fi
# the row tests/boot/lebench.sh greps for
expect_grep "... its ukl getppid row has the shape the lebench boot test expects" \
	'^ukl,getppid,0,[0-9.]+,[0-9.]+,[0-9.]+,[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3},[0-9]+\.[0-9]{3}$' "$T_TMP/eval/summary.csv"
expect_grep "... report.md carries the same numbers, each ratio with its spread over boots" \
	'^\| getppid \| 0 \| 205 \(200\.\.210\) \| 105 \(100\.\.110\) \| 0\.512 \(0\.488\.\.0\.537\) \|$' "$T_TMP/eval/report.md"
expect_grep "... its columns say what they hold (ns medians, ratio vs linux)" \
	'^\| test \| size \| linux ns median \(min\.\.max\) \| ukl ns median \(min\.\.max\) \| ukl/linux ratio \(min\.\.max\) \|$' \
	"$T_TMP/eval/report.md"
expect_grep "... report.md prints null_call per profile with its spread, boots kept and rejected" \
	'^\| ukl \| 2 \| 0 \| 20\.5 \(20\.\.21\) \| 1\.000 \(0\.976\.\.1\.024\) \|$' "$T_TMP/eval/report.md"
expect_grep "... without a bench in out/eval, report.md says none ran" '^Not run in this run' "$T_TMP/eval/report.md"
for f in fig1 fig2 fig4; do
	if file "$T_TMP/eval/$f.png" | grep -q "PNG image data"; then ok "... $f.png is a PNG"; else not_ok "... $f.png is a PNG"; fi
done
# png_says PNG TEXT: the PNG's metadata (title, axis labels, legend; analyze.py's save()) has TEXT
png_says() { grep -aq -- "$2" "$1"; }
if png_says "$T_TMP/eval/fig1.png" '[^a-z]ns per call' && png_says "$T_TMP/eval/fig2.png" '[^a-z]ns per call' &&
	png_says "$T_TMP/eval/fig4.png" 'over Linux (ns)' && ! grep -aq instructions "$T_TMP/eval"/fig[124].png; then
	ok "... without ICOUNT the figures' axes say ns"
else
	not_ok "... without ICOUNT the figures' axes say ns"
fi
expect_ok "a figure re-plots alone from the saved data" "$an" --raw "$raw" --out "$T_TMP/eval" --fig 1

# -- ICOUNT=1: the same data are instruction counts, and every label says so ------------------
mkdir -p "$T_TMP/ic"
printf '%s\n' "run: ic-1" "accel: tcg: ICOUNT=1 needs TCG" \
	"icount: on (ICOUNT=1, QEMU -icount shift=0: the guest clock advances 1 ns per instruction, so every guest time is an instruction count)" \
	>"$T_TMP/ic/env.txt"
expect_ok "analyze under ICOUNT=1 (env.txt says icount: on)" "$an" --raw "$raw" --out "$T_TMP/ic"
expect_grep "... report.md's columns say instructions" \
	'^\| test \| size \| linux instructions median \(min\.\.max\) \| ukl instructions median \(min\.\.max\) \| ukl/linux ratio \(min\.\.max\) \|$' \
	"$T_TMP/ic/report.md"
expect_grep "... so does the null_call table" '^\| profile \| boots kept \| boots rejected \| null_call instructions median' "$T_TMP/ic/report.md"
if grep -Eq '\| [a-z-]+ ns |[^a-z]ns per call|latency \(ns\)' "$T_TMP/ic/report.md"; then
	not_ok "... no column or caption of report.md says ns" "$(grep -E '\| [a-z-]+ ns |[^a-z]ns per call|latency \(ns\)' "$T_TMP/ic/report.md")"
else
	ok "... no column or caption of report.md says ns"
fi
bad=""
for f in fig1 fig2 fig4; do
	png_says "$T_TMP/ic/$f.png" 'instructions' || bad+=" $f:no-instructions"
	png_says "$T_TMP/ic/$f.png" 'ICOUNT=1' || bad+=" $f:title-lacks-ICOUNT=1"
	! png_says "$T_TMP/ic/$f.png" '[^a-z]ns per call\|(ns)\|latency' || bad+=" $f:says-ns-or-latency"
done
if [ -z "$bad" ]; then ok "... fig 1, 2, 4: axes and titles say instructions (ICOUNT=1), never ns"; else not_ok "... fig 1, 2, 4: axes and titles say instructions, never ns" "$bad"; fi

# -- unequal boots ------------------------------------------------------------------------
cp -a "$raw" "$T_TMP/raw-u"
rm -rf "$T_TMP/raw-u/ukl/boot-2"
expect_fail "unequal boot counts are an error naming the profiles and counts" \
	"unequal boot counts: linux 2, ukl 1" "$an" --raw "$T_TMP/raw-u" --out "$T_TMP/e2" --no-plots
rm -rf "$T_TMP/raw-u" && cp -a "$raw" "$T_TMP/raw-u"
sed -i '/^read,/d' "$T_TMP/raw-u/ukl/boot-2/summary.csv"
expect_fail "a boot without a test other boots have is an error naming it" \
	"ukl/boot-2/summary.csv: lacks read size 1, which other boots have \(image lebench/ukl, boot-2\)" \
	"$an" --raw "$T_TMP/raw-u" --out "$T_TMP/e2" --no-plots

# -- make bench's aggregation: 2 boots of linux and ukl, closed and open loop -------------------
b=$T_TMP/b/bench
# mcload's CSV before and after it reported scheduled,completed,timed_out
h=label,mode,offered_qps,ops_per_sec,requests,hits,misses,errors,mean_us,p50_us,p90_us,p99_us,p999_us,max_us
h2=$h,scheduled,completed,timed_out
mkdir -p "$b"/{linux,ukl}/boot-{1,2}
printf '%s\n' "$h" linux,closed,0,1000,1,1,0,0,9,9,9,100,1,1 ukl,closed,0,1200,1,1,0,0,9,9,9,80,1,1 \
	linux,closed,0,1100,1,1,0,0,9,9,9,120,1,1 ukl,closed,0,1300,1,1,0,0,9,9,9,90,1,1 >"$b/closed.csv"
for p in linux ukl; do for n in 1 2; do
	printf '%s\n' "$h" "$p,open,500,49$n,1,1,0,0,5$n,9,9,20$n,1,1" >"$b/$p/boot-$n/open.csv"
done; done
expect_ok "analyze --bench aggregates make bench's results (mcload's older CSV)" "$an" --bench --out "$T_TMP/b"
expect_grep "... ratios.md: medians over boots, spread, and the ratio to linux" \
	'^\| ukl \| 2 \| 1250 \(1200\.\.1300\) \| 85 \(80\.\.90\) \| 1\.190 \(1\.143\.\.1\.238\) \| 0\.773 \(0\.727\.\.0\.818\) \|$' \
	"$b/ratios.md"
expect_grep "... its header says which way is better: throughput higher, p99 lower" \
	'^\| profile \| boots \| throughput ops/s median \(min\.\.max\) \| p99 latency µs median \(min\.\.max\) \| throughput ratio vs linux \(min\.\.max\), higher is better \| p99 ratio vs linux \(min\.\.max\), lower is better \|$' \
	"$b/ratios.md"
expect_grep "... openloop.csv: one point per profile and rate, medians over boots (no timed_out column: empty)" \
	'^ukl,500,492,201\.5,51\.5,0,$' "$b/openloop.csv"
expect_grep "... bench/report.md: the bench's own report" '^# ukl memcached bench report' "$b/report.md"
expect_ok "... fig 6 plots from it" "$an" --out "$T_TMP/b" --fig 6
if png_says "$T_TMP/b/fig6.png" 'ukl closed-loop max' && ! png_says "$T_TMP/b/fig6.png" 'timeouts/errors reported'; then
	ok "... fig 6 marks the closed-loop maxima, and no timeouts where there were none"
else
	not_ok "... fig 6 marks the closed-loop maxima, and no timeouts where there were none"
fi
# mcload's newer CSV; at 900 req/s one ukl boot timed out
b2=$T_TMP/b2/bench
mkdir -p "$b2"/{linux,ukl}/boot-{1,2}
sed '1s/$/,scheduled,completed,timed_out/; 2,$s/$/,1,1,0/' "$b/closed.csv" >"$b2/closed.csv"
for p in linux ukl; do for n in 1 2; do
	printf '%s\n' "$h2" "$p,open,500,49$n,1,1,0,0,5$n,9,9,20$n,1,1,2500,2500,0" \
		"$p,open,900,80$n,1,1,0,0,9$n,9,9,90$n,1,1,4500,4400,$([ $p$n = ukl2 ] && echo 7 || echo 0)" >"$b2/$p/boot-$n/open.csv"
done; done
expect_ok "analyze --bench reads mcload's newer CSV (scheduled, completed, timed_out)" "$an" --bench --out "$T_TMP/b2"
expect_grep "... openloop.csv sums the timeouts over boots" '^ukl,900,[0-9]+,[0-9.]+,[0-9.]+,0,7$' "$b2/openloop.csv"
expect_grep "... and says 0 where none timed out" '^linux,900,[0-9]+,[0-9.]+,[0-9.]+,0,0$' "$b2/openloop.csv"
expect_grep "... bench/report.md flags the point" '^\| ukl \| 900 \| .* \| 7 \(marked in fig 6\) \|$' "$b2/report.md"
expect_ok "... fig 6 plots from it" "$an" --out "$T_TMP/b2" --fig 6
if png_says "$T_TMP/b2/fig6.png" 'timeouts/errors reported'; then ok "... fig 6 marks the point with timeouts"; else not_ok "... fig 6 marks the point with timeouts"; fi
rm "$b2/ukl/boot-2/open.csv"
expect_fail "... a boot without open-loop results is an error naming the profile" \
	"ukl: open-loop results from 1 boots, closed-loop from 2" "$an" --bench --out "$T_TMP/b2"
sed -i '$d' "$b2/closed.csv"
expect_fail "... unequal boot counts are an error naming the profiles and counts" \
	"unequal boot counts: linux 2, ukl 1" "$an" --bench --out "$T_TMP/b2"

# -- a report only from the run it describes -----------------------------------------------
# $T_TMP/b has a bench (ratios.md, openloop.csv, fig6.png); the micro data join it with a stamp
stamp() { printf '%s\n' "run: $2" "date: 2025-01-01 00:00 UTC" "accel: tcg: asked for (ACCEL=tcg)" "icount: off (guest times are nanoseconds)" >"$1"; }
stamp "$T_TMP/b/env.txt" run-A
stamp "$b/env.txt" run-A
expect_ok "analyze: micro and bench of one run (same run ID)" "$an" --raw "$raw" --out "$T_TMP/b"
if grep -q '^### Closed loop: throughput and p99 latency vs linux' "$T_TMP/b/report.md" &&
	grep -q 'higher is better' "$T_TMP/b/report.md" && grep -q '^!\[Fig 6.*\](fig6.png)' "$T_TMP/b/report.md" &&
	[ "$(grep -c '^run: run-A$' "$T_TMP/b/report.md")" = 2 ]; then
	ok "... report.md includes the bench, its stamp, its ratios and fig 6"
else
	not_ok "... report.md includes the bench, its stamp, its ratios and fig 6" "$(grep -A3 '^## memcached' "$T_TMP/b/report.md")"
fi
stamp "$b/env.txt" run-B
expect_ok "analyze: a bench from another run in out/eval/bench" "$an" --raw "$raw" --out "$T_TMP/b"
if grep -q '^Left out: the bench in out/eval/bench/ is not from this run: it is from another run (bench run run-B' "$T_TMP/b/report.md" &&
	! grep -q 'higher is better\|fig6.png\|run-B$' "$T_TMP/b/report.md"; then
	ok "... report.md leaves it and fig 6 out, with a line saying so"
else
	not_ok "... report.md leaves it and fig 6 out, with a line saying so" "$(grep -A3 '^## memcached' "$T_TMP/b/report.md")"
fi
rm "$b/env.txt"
expect_ok "analyze: a bench without a stamp" "$an" --raw "$raw" --out "$T_TMP/b" --no-plots
if grep -q '^Left out: .*has no env.txt' "$T_TMP/b/report.md" && ! grep -q 'higher is better' "$T_TMP/b/report.md"; then
	ok "... is left out too"
else
	not_ok "... is left out too" "$(grep -A3 '^## memcached' "$T_TMP/b/report.md")"
fi

# -- the boot check: null_call against the profile's other boots, and the TSC ---------------
cr=$T_TMP/cb/raw
nb() { # PROFILE BOOT NULL_CALL_MEDIAN [tsc]
	local d=$cr/$1/boot-$2
	mkdir -p "$d"
	printf '%s\n' "test,size,iters,median_ns,min_ns,max_ns,clock_median_ns" "null_call,0,3,$3,$3,$3,$3" "getppid,0,3,200,200,200,210" >"$d/summary.csv"
	{ echo "[    0.100000] Linux version 6.12"; [ "${4:-}" != tsc ] || echo "[    0.500000] clocksource: Marking TSC unstable due to clocksource watchdog"; } >"$d/console.log"
}
chk() { "$an" --check-boot "$cr" "$@"; }
nb linux 1 100
expect_status "check-boot: a profile's first boot is kept (nothing to compare with yet)" 0 chk linux 1
expect_grep "... saying so" "lebench/linux boot 1: kept: null_call 100 ns, the profile's first boot" "$T_TMP/out"
nb linux 2 105
expect_status "... a second within 5% of it is kept (exactly 5% is within)" 0 chk linux 2
nb linux 3 110
expect_status "... a third more than 5% off the others' median: rejected (exit 3)" 3 chk linux 3
expect_grep "... its message names profile, boot and the numbers" \
	'lebench/linux boot 3: rejected: null_call median 110 ns is 7\.3% off 102\.5 ns, the median of boot 1, boot 2 \(tolerance 5%\); kept aside in raw/linux/rejected-1/' "$T_TMP/out"
if [ -f "$cr/linux/rejected-1/summary.csv" ] && grep -q 'boot 3: rejected' "$cr/linux/rejected-1/rejected.txt" && [ ! -e "$cr/linux/boot-3" ]; then
	ok "... its data moved to raw/linux/rejected-1/ with rejected.txt, boot-3 free for the next boot"
else
	not_ok "... its data moved to raw/linux/rejected-1/ with rejected.txt"
fi
nb linux 3 101 tsc
expect_status "... a boot whose console says 'Marking TSC unstable' is rejected" 3 chk linux 3
expect_grep "... with a message quoting the line" "lebench/linux boot 3: rejected: the console says 'clocksource: Marking TSC unstable due to clocksource watchdog'" "$T_TMP/out"
nb linux 3 101
expect_status "... a good third boot is kept" 0 chk linux 3
# the first two disagree: a third decides
nb ukl 1 100
chk ukl 1 >/dev/null
nb ukl 2 130
expect_status "check-boot: a second boot that disagrees with the first is set aside (exit 3)" 3 chk ukl 2
expect_grep "... saying that another boot decides" 'lebench/ukl boot 2: rejected for now: null_call median 130 ns is 30\.0% off 100 ns of boot 1, the only earlier boot.*another boot decides; kept aside in raw/ukl/rejected-1/' "$T_TMP/out"
nb ukl 2 102
expect_status "... a third that agrees with the first is kept" 0 chk ukl 2
if grep -q '^null_call,0,3,100,' "$cr/ukl/boot-1/summary.csv" && [ ! -e "$cr/ukl/rejected-1/undecided" ] &&
	grep -q '^decided: ' "$cr/ukl/rejected-1/rejected.txt"; then
	ok "... the first stays, the one set aside stays rejected"
else
	not_ok "... the first stays, the one set aside stays rejected" "$(ls "$cr/ukl" "$cr/ukl/rejected-1")"
fi
nb ukl-b 1 100
chk ukl-b 1 >/dev/null
nb ukl-b 2 130
chk ukl-b 2 >/dev/null 2>&1
nb ukl-b 2 128
expect_status "check-boot: a third that agrees with the second (set aside) is kept" 0 chk ukl-b 2
expect_grep "... and says the first was the odd one" 'so the first boot \(100 ns\) was the odd one: it is now raw/ukl-b/rejected-1/' "$T_TMP/out"
if grep -q '^null_call,0,3,130,' "$cr/ukl-b/boot-1/summary.csv" && grep -q '^null_call,0,3,128,' "$cr/ukl-b/boot-2/summary.csv" &&
	grep -q 'boot 1: rejected: its null_call median 100 ns' "$cr/ukl-b/rejected-1/rejected.txt" &&
	grep -q '^null_call,0,3,100,' "$cr/ukl-b/rejected-1/summary.csv" && [ ! -e "$cr/ukl-b/rejected-2" ] &&
	[ ! -e "$cr/ukl-b/boot-1/undecided" ] && [ ! -e "$cr/ukl-b/boot-1/rejected.txt" ]; then
	ok "... the two that agree are boot-1 and boot-2, the first is rejected-1 with its reason"
else
	not_ok "... the two that agree are boot-1 and boot-2, the first is rejected-1" "$(ls -R "$cr/ukl-b")"
fi
nb ukl-c 1 100
chk ukl-c 1 >/dev/null
nb ukl-c 2 130
chk ukl-c 2 >/dev/null 2>&1
nb ukl-c 2 160
expect_status "check-boot: a third that agrees with neither is set aside too" 3 chk ukl-c 2
rm -rf "$cr/ukl-c/boot-1/summary.csv"
nb ukl-c 2 100
expect_fail "check-boot: a boot without its summary is an error (exit 1), not a rejection" "ukl-c/boot-1/summary.csv: missing" chk ukl-c 2

# -- missing and malformed data -----------------------------------------------------------
mv "$raw/ukl/boot-2/read.csv" "$T_TMP/read.csv"
expect_fail "a missing test CSV names the test and the image" \
	"raw/ukl/boot-2/read.csv: missing \(test read, image lebench/ukl, boot-2\)" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
sed 's/^1,1,310,320$/1,1,31O,320/' "$T_TMP/read.csv" >"$raw/ukl/boot-2/read.csv"
expect_fail "a malformed row names the line, the test and the image" \
	"read.csv: malformed line 3 .*test read, image lebench/ukl, boot-2" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
head -n 2 "$T_TMP/read.csv" >"$raw/ukl/boot-2/read.csv"
expect_fail "rows missing against summary.csv are an error" \
	"size 1 has 1 rows .* says 3 iterations.*test read, image lebench/ukl, boot-2" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
cp "$T_TMP/read.csv" "$raw/ukl/boot-2/read.csv"
rm -rf "$raw/linux"
expect_fail "without the linux baseline the error says so" "no linux profile data" "$an" --raw "$raw" --out "$T_TMP/e2" --no-plots
sed -i '/^linux/d' "$T_TMP/b/bench/closed.csv"
expect_fail "... without a linux bench run the error says so" "no linux run, the baseline" "$an" --bench --out "$T_TMP/b"

# -- end to end in a scratch copy, against fake boots ----------------------------------------
# image.sh writes only config and report.txt; boot-app.sh prints lebench's CSVs framed on a
# console whose null_call is the next value in plan/PROFILE ("tsc:N" adds 'Marking TSC
# unstable'), or serves memcached's version on HOSTPORT; mcload writes mcload's newer CSV:
# closed loop linux 1000/s, ukl 1250/s; open loop times out above 700/s.
top=$T_TMP/top
mkdir -p "$top"
cp -a "$TOP/scripts" "$TOP/profiles" "$TOP/apps" "$TOP/eval" "$TOP/inputs.lock" "$TOP/Makefile" "$top/"
cat >"$top/scripts/image.sh" <<'FAKE'
#!/usr/bin/env bash
. "$(dirname "$0")/lib.sh"
mkdir -p "$UKL_OUT/$1/$2"
echo "# Linux/x86 6.12.0 Kernel Configuration" >"$UKL_OUT/$1/$2/config"
echo "kernel:         6.12.0-fake, config sha256 0123456789abcdef" >"$UKL_OUT/$1/$2/report.txt"
FAKE
cat >"$top/scripts/boot-app.sh" <<'FAKE'
#!/usr/bin/env bash
. "$(dirname "$0")/lib.sh"
out=$UKL_OUT/$1/$2
mkdir -p "$out"
if [ "$1" = memcached ]; then
	echo "[    0.100000] Linux version 6.12.0-fake" >"$out/run.log"
	exec python3 "$UKL_TOP/fake-mc.py" "$HOSTPORT"
fi
if [ "$1" = redis ]; then
	echo "[    0.100000] Linux version 6.12.0-fake" >"$out/run.log"
	exec python3 "$UKL_TOP/fake-redis.py" "$HOSTPORT"
fi
echo "$2 $ARGS" >>"$UKL_TOP/args.log"
n=$(( $(cat "$out/count" 2>/dev/null || echo 0) + 1 ))
echo $n >"$out/count"
v=$(sed -n "${n}p" "$UKL_TOP/plan/$2")
[ -n "$v" ] || { echo "fake boot: plan/$2 has no line $n" >&2; exit 1; }
d=$(mktemp -d)
printf '%s\n' "test,size,iters,median_ns,min_ns,max_ns,clock_median_ns" "null_call,0,1,${v#tsc:},${v#tsc:},${v#tsc:},${v#tsc:}" \
	"getppid,0,1,200,200,200,210" >"$d/summary.csv"
printf 'index,size,tsc_ns,clock_ns\n0,0,%s,%s\n' "${v#tsc:}" "${v#tsc:}" >"$d/null_call.csv"
printf 'index,size,tsc_ns,clock_ns\n0,0,200,210\n' >"$d/getppid.csv"
{
	echo "[    0.100000] Linux version 6.12.0-fake"
	case $v in tsc:*) echo "[    0.500000] clocksource: Marking TSC unstable due to clocksource watchdog" ;; esac
	for f in summary.csv null_call.csv getppid.csv; do
		echo "ukl-file: begin $f $(wc -c <"$d/$f") $(sha256sum <"$d/$f" | cut -d' ' -f1)"
		base64 -w 76 "$d/$f"
		echo "ukl-file: end $f"
	done
	echo "ukl: exit status 0"
} >"$out/run.log"
rm -rf "$d"
FAKE
cat >"$top/fake-mc.py" <<'FAKE'
import socket, sys, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(8)
def serve(c):
    buf = b""
    while True:
        d = c.recv(4096)
        if not d:
            return
        buf += d
        while b"\r\n" in buf:
            line, buf = buf.split(b"\r\n", 1)
            c.sendall(b"VERSION fake\r\n" if line == b"version" else b"ERROR\r\n")
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
FAKE
# a RESP server enough for redis-cli and redis-benchmark: PING, CONFIG GET, INFO, GET, SET
cat >"$top/fake-redis.py" <<'FAKE'
import socketserver, sys
class H(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            if not line.startswith(b"*"):
                continue
            words = []
            for _ in range(int(line[1:])):
                n = int(self.rfile.readline()[1:])
                words.append(self.rfile.read(n + 2)[:-2])
            cmd = words[0].upper()
            if cmd == b"PING":
                out = b"+PONG\r\n"
            elif cmd == b"CONFIG":
                out = b"*2\r\n$%d\r\n%s\r\n$0\r\n\r\n" % (len(words[2]), words[2])
            elif cmd == b"INFO":
                body = b"# Stats\r\ntotal_error_replies:0\r\n"
                out = b"$%d\r\n%s\r\n" % (len(body), body)
            elif cmd == b"GET":
                out = b"$3\r\nxxx\r\n"
            else:
                out = b"+OK\r\n"
            self.wfile.write(out)
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer.daemon_threads = True
socketserver.ThreadingTCPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
FAKE
cat >"$top/eval/loadgen/build.sh" <<'FAKE'
#!/usr/bin/env bash
echo "$(cd "$(dirname "$0")" && pwd)/fake-mcload"
FAKE
cat >"$top/eval/loadgen/fake-mcload" <<'FAKE'
#!/usr/bin/env bash
qps=0 label=run csv="" json=""
while [ $# -gt 0 ]; do
	case $1 in
	--qps) qps=$2; shift ;;
	--label) label=$2; shift ;;
	--csv) csv=$2; shift ;;
	--json) json=$2; shift ;;
	-s | -t | -c | -P | -R | -k | -d | -w | -D | --hdr) shift ;;
	esac
	shift
done
failed=false
if [ "$qps" = 0 ]; then
	mode=closed to=0 p99=100
	ops=$([ "$label" = linux ] && echo 1000 || echo 1250)
else
	mode=open ops=$qps p99=$((qps / 10))
	to=$([ "$qps" -gt 700 ] && echo 3 || echo 0)
	[ "$qps" != "${FAKE_FAIL_QPS:-}" ] || failed=true
fi
[ -s "$csv" ] || echo "label,mode,offered_qps,ops_per_sec,requests,hits,misses,errors,mean_us,p50_us,p90_us,p99_us,p999_us,max_us,scheduled,completed,timed_out" >"$csv"
echo "$label,$mode,$qps,$ops,$ops,$ops,0,0,$((p99 / 2)),1,1,$p99,1,1,$ops,$ops,$to" >>"$csv"
[ -z "$json" ] || echo "{\"label\": \"$label\", \"ops_per_sec\": $ops, \"failed\": $failed, \"completed\": $ops, \"timed_out\": $to}" >"$json"
echo "  latency us: mean 1 p50 1 p90 1 p99 $p99"
[ "$to" = 0 ] && [ $failed = false ] || { echo "  timed out: $to"; exit 1; }
FAKE
chmod +x "$top/scripts/image.sh" "$top/scripts/boot-app.sh" "$top/eval/loadgen/build.sh" "$top/eval/loadgen/fake-mcload"
plan() { # PROFILE VALUES...: the null_call of its next boots
	local p=$1
	shift
	mkdir -p "$top/plan"
	printf '%s\n' "$@" >"$top/plan/$p"
	rm -f "$top/out/lebench/$p/count"
}
ev=$top/out/eval
plan linux 100 102
plan ukl tsc:100 100 130 131
expect_ok "make eval (fake boots, ICOUNT=1): micro then bench, one run" \
	make -C "$top" --no-print-directory eval PROFILES="linux ukl" BOOTS=2 ONLY=getppid ICOUNT=1 ACCEL=auto RATES="0.5 0.8" OPEN_DURATION=1 \
	REDIS_PROFILES="linux ukl" REQUESTS=300
expect_grep "... micro's env.txt records the accelerator scripts/accel.sh chose: TCG under ICOUNT=1" '^accel: tcg: ICOUNT=1 needs TCG$' "$ev/env.txt"
expect_grep "... and that times are instruction counts" '^icount: on \(ICOUNT=1' "$ev/env.txt"
expect_grep "... and the boots rejected, per profile" '^boots rejected: 2 \(linux 0, ukl 2; ' "$ev/env.txt"
expect_grep "... bench's env.txt (the same stamp code) records the accelerator too" '^accel: tcg: ICOUNT=1 needs TCG$' "$ev/bench/env.txt"
expect_grep "... and its method: rates, duration, the linux maximum" "^open loop: 0.5 0.8 x the first linux boot's closed-loop maximum \(1000 req/s\), 1 s warmup \+ 1 s each$" "$ev/bench/env.txt"
if [ -n "$(sed -n 's/^run: //p' "$ev/env.txt")" ] && [ "$(sed -n 's/^run: //p' "$ev/env.txt")" = "$(sed -n 's/^run: //p' "$ev/bench/env.txt")" ]; then
	ok "... both stamps carry the same run ID"
else
	not_ok "... both stamps carry the same run ID" "$(grep -h '^run:' "$ev/env.txt" "$ev/bench/env.txt")"
fi
expect_grep "... lebench ran with null_call added to ONLY" '^ukl --out /out --scale 1 --only null_call,getppid$' "$top/args.log"
if [ -d "$ev/raw/ukl/boot-1" ] && [ -d "$ev/raw/ukl/boot-2" ] && [ ! -e "$ev/raw/ukl/boot-3" ] &&
	grep -q 'Marking TSC unstable' "$ev/raw/ukl/rejected-1/rejected.txt" &&
	grep -q 'boot 1: rejected: its null_call median 100 ' "$ev/raw/ukl/rejected-2/rejected.txt" &&
	grep -q '^null_call,0,1,130,' "$ev/raw/ukl/boot-1/summary.csv"; then
	ok "... the TSC boot and the odd first boot are kept aside with their reasons, two agreeing boots stay"
else
	not_ok "... the TSC boot and the odd first boot are kept aside with their reasons" "$(cd "$ev/raw" && ls -R)"
fi
expect_grep "... the bench went on past the rate with timeouts" '^ukl,800,800,80\.0,40\.0,0,6$' "$ev/bench/openloop.csv"
expect_grep "... report.md: micro columns in instructions" '^\| test \| size \| linux instructions median' "$ev/report.md"
expect_grep "... report.md lists the rejected boots with their reasons" '^- ukl, rejected-1: lebench/ukl boot 1: rejected: the console says' "$ev/report.md"
expect_grep "... report.md includes the bench of the same run" 'throughput ratio vs linux \(min\.\.max\), higher is better' "$ev/report.md"
expect_grep "... and fig 6" '^!\[Fig 6: memcached latency vs offered load\]\(fig6.png\)$' "$ev/report.md"
expect_grep "... the redis bench (fig 5) ran in the same run: its table in report.md" '^#### GET$' "$ev/report.md"
expect_grep "... with ukl's throughput as a ratio over linux's" '^\| ukl \| [0-9]+ \([0-9]+\.\.[0-9]+\) \| [0-9.]+ \([0-9.]+\.\.[0-9.]+\) \|' "$ev/redis/report.md"
expect_grep "... and fig 5 linked from report.md" '^!\[fig 5\]\(redis/fig5.png\)$' "$ev/report.md"
if [ -s "$ev/redis/fig5.png" ] && [ -s "$ev/redis/redis.csv" ] && [ -s "$ev/redis/percentiles.csv" ]; then
	ok "... fig5.png, redis.csv and percentiles.csv written"
else
	not_ok "... fig5.png, redis.csv and percentiles.csv written" "$(ls "$ev/redis" 2>&1)"
fi
plan linux 100 101
plan ukl 100 101
expect_ok "make eval-micro afterwards (fake boots)" \
	make -C "$top" --no-print-directory eval-micro PROFILES="linux ukl" BOOTS=2 ONLY=getppid ICOUNT=1
if grep -q '^Left out: the bench in out/eval/bench/ is not from this run' "$ev/report.md" &&
	! grep -q 'higher is better\|fig6.png' "$ev/report.md"; then
	ok "... its report leaves the earlier make eval's bench (and fig 6) out, saying so"
else
	not_ok "... its report leaves the earlier make eval's bench (and fig 6) out" "$(grep -A3 '^## memcached' "$ev/report.md")"
fi
expect_grep "... its env.txt counts no rejected boot" '^boots rejected: 0 \(linux 0, ukl 0; ' "$ev/env.txt"
plan linux 100 101
plan ukl 100 130 160
expect_fail "eval/micro.sh: more rejected boots than EXTRA_BOOTS is an error naming the profile and the count" \
	"lebench/ukl: 2 boots rejected, more than EXTRA_BOOTS=1; their data and reasons are in out/eval/raw/ukl/rejected-" \
	env PROFILES="linux ukl" BOOTS=2 EXTRA_BOOTS=1 NULL_CALL_TOL=0.05 ACCEL=tcg "$top/eval/micro.sh"
expect_fail "eval/bench.sh: a failed connection (not a timeout) in the open loop still fails the bench" \
	"memcached/linux boot 1: the load generator failed" \
	env PROFILES="linux ukl" BOOTS=1 ACCEL=tcg RATES="0.5 0.8" FAKE_FAIL_QPS=500 "$top/eval/bench.sh"
t_done
